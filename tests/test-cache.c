/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-cache - every lib/cache.h call, export/import and its refusals,
 * schema versioning, map growth, read-only directories.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache-internal.h"
#include "cache-record.h"
#include "cache.h"
#include "fileio.h"
#include "macro.h"
#include "sha256.h"
#include "tap.h"
#include "cache-test-util.h"

static int count_cb(const struct cache_dc *dc, const struct dlpe *e, uint32_t index, void *ud)
{
	(void)dc, (void)e, (void)index;
	(*(unsigned *)ud)++;
	return 0;
}

static int dc_count_cb(const struct cache_dc *dc, void *ud)
{
	(void)dc;
	(*(unsigned *)ud)++;
	return 0;
}

static int path_count_cb(const struct cache_path *p, void *ud)
{
	(void)p;
	(*(unsigned *)ud)++;
	return 0;
}

static int nqn_cb(const char *nqn, unsigned n, void *ud)
{
	(void)nqn;
	*(unsigned *)ud += n * 1000 + 1;
	return 0;
}

static void report_cb(const char *problem, void *ud)
{
	(void)ud;
	diag("verify: %s", problem);
}

static void test_records(void)
{
	struct cache_dc dc, dc2;
	struct dlpe e, e2;
	struct cache_path p, p2;
	struct record_buf b;
	int bad = 0;

	test_dc(7, &dc);
	dc.persistent = true;
	dc.stale = true;
	dc.first_failure_usec = 1700000000000000ULL;
	dc.n_failures = 300;
	dc.genctr = 1ULL << 40;
	dc.last_errno = ETIMEDOUT;
	strcpy(dc.last_error, "timed out");
	strcpy(dc.instance_key, "key-0123");
	{
		struct cache_dc r;
		test_dc(8, &r);
		dc.referrer = r.tid;
	}
	dc.referral_depth = 2;
	record_encode_dc(&dc, &b);
	ok(record_decode_dc(b.data, b.size, &dc2) == 0 && memcmp(&dc, &dc2, sizeof(dc)) == 0,
	   "dc record round trip (%zu bytes)", b.size);
	/* every truncation and every extension is refused */
	for (size_t l = 0; l < b.size; l++)
		if (record_decode_dc(b.data, l, &dc2) != -EBADMSG)
			bad++;
	b.data[b.size] = 0;
	if (record_decode_dc(b.data, b.size + 1, &dc2) != -EBADMSG)
		bad++;
	is_int(bad, 0, "truncated/extended dc records are -EBADMSG");
	/* a byte changed in a field that still decodes: the checksum catches it */
	{
		struct record_buf c = b;
		char *t = memmem(c.data, c.size, "timed out", 9);
		t[0] = 'T';
		is_int(record_decode_dc(c.data, c.size, &dc2), -EBADMSG,
		       "a changed byte in a decodable field: -EBADMSG (checksum)");
	}
	/* versions 1 (no checksum) and 2 (no failure counts) are still read */
	{
		struct cache_dc old = dc;
		struct record_buf c;
		uint8_t digest[SHA256_DIGEST_SIZE];

		old.first_failure_usec = 0; /* one-byte varints: the last two bytes */
		old.n_failures = 0;
		record_encode_dc(&old, &c);
		c.size -= CACHE_RECORD_CHECKSUM + 2;
		c.data[0] = 2;
		sha256(c.data, c.size, digest);
		memcpy(c.data + c.size, digest, CACHE_RECORD_CHECKSUM);
		dc2.n_failures = 7;
		ok(record_decode_dc(c.data, c.size + CACHE_RECORD_CHECKSUM, &dc2) == 0 &&
			   memcmp(&old, &dc2, sizeof(old)) == 0,
		   "version 2 dc record decodes, no failures recorded");
		c.data[0] = 1;
		ok(record_decode_dc(c.data, c.size, &dc2) == 0 &&
			   streq(dc2.last_error, "timed out") && dc2.first_failure_usec == 0,
		   "version 1 dc record (no checksum) decodes");
	}
	/* a newer record version with extra fields is read as far as we know it */
	{
		uint8_t digest[SHA256_DIGEST_SIZE];
		b.size -= CACHE_RECORD_CHECKSUM;
		b.data[0] = CACHE_DC_RECORD_VERSION + 1;
		b.data[b.size++] = 0x55;
		sha256(b.data, b.size, digest);
		memcpy(b.data + b.size, digest, CACHE_RECORD_CHECKSUM);
		b.size += CACHE_RECORD_CHECKSUM;
	}
	ok(record_decode_dc(b.data, b.size, &dc2) == 0 && streq(dc2.last_error, "timed out"),
	   "newer dc record version decodes its known prefix");
	b.data[0] = 0;
	is_int(record_decode_dc(b.data, b.size, &dc2), -EBADMSG, "version 0 refused");

	test_entry(3, 9, &e);
	e.tsas_rdma_pkey = 0xffff;
	record_encode_dlpe(&e, &b);
	ok(record_decode_dlpe(b.data, b.size, &e2) == 0 && dlpe_equal(&e, &e2),
	   "dlpe record round trip (%zu bytes)", b.size);
	bad = 0;
	for (size_t l = 0; l < b.size; l++)
		if (record_decode_dlpe(b.data, l, &e2) != -EBADMSG)
			bad++;
	is_int(bad, 0, "every truncated dlpe record is -EBADMSG");
	/* random garbage never crashes (ASan watches), and mostly fails */
	srand(42);
	for (int i = 0; i < 20000; i++) {
		uint8_t g[300];
		size_t l = (size_t)rand() % sizeof(g);
		for (size_t k = 0; k < l; k++)
			g[k] = (uint8_t)rand();
		g[0] = (uint8_t)(1 + rand() % 2);
		(void)record_decode_dlpe(g, l, &e2);
		(void)record_decode_dc(g, l, &dc2);
		(void)record_decode_path(g, l, &p2);
	}
	ok(1, "20000 garbage records decoded without crashing");

	memset(&p, 0, sizeof(p));
	test_dc(3, &dc);
	p.tid = dc.tid;
	p.owner = CACHE_PATH_OWNER_OTHER;
	p.state = CACHE_PATH_FAILED;
	p.ncc = true;
	p.attempts = 3;
	record_encode_path(&p, &b);
	ok(record_decode_path(b.data, b.size, &p2) == 0 && memcmp(&p, &p2, sizeof(p)) == 0,
	   "path record round trip");
	{
		/* owner: 8 one-byte fields and the checksum from the end */
		uint8_t digest[SHA256_DIGEST_SIZE];
		b.data[b.size - CACHE_RECORD_CHECKSUM - 8] = 9;
		sha256(b.data, b.size - CACHE_RECORD_CHECKSUM, digest);
		memcpy(b.data + b.size - CACHE_RECORD_CHECKSUM, digest, CACHE_RECORD_CHECKSUM);
	}
	ok(record_decode_path(b.data, b.size, &p2) == -EBADMSG, "out-of-range enum refused");
}

static void test_api(void)
{
	char *dir = tmpdir_new(), sub[300];
	struct cache *c = NULL, *ro = NULL;
	struct cache_dc dc, got;
	struct cache_dlp_change ch = {};
	struct dlpe e[6], *all = NULL;
	size_t n = 0;
	unsigned cnt;
	int r;

	snprintf(sub, sizeof(sub), "%s/new/cache", dir);
	is_int(cache_open(sub, CACHE_RDONLY, &c), -ENOENT, "RDONLY open of a missing cache");
	is_int(cache_open(sub, CACHE_RDWR | CACHE_NOSYNC, &c), 0,
	       "RDWR open creates the directory");
	ok(c && cache_schema(c) == CACHE_SCHEMA_VERSION && cache_writable(c), "fresh schema");
	is_int(cache_open(sub, CACHE_RDONLY, &ro), 0, "RDONLY open alongside a writer");

	test_dc(1, &dc);
	is_int(cache_dc_get(c, &dc.tid, &got), 0, "dc_get: unknown");
	is_int(cache_dc_put(c, &dc), 1, "dc_put: new");
	is_int(cache_dc_put(c, &dc), 0, "dc_put: identical is a no-op");
	ok(cache_dc_get(ro, &dc.tid, &got) == 1 && got.origin == CACHE_ORIGIN_CONFIG &&
		   got.kato == 30 && tid_equal(&got.tid, &dc.tid),
	   "dc_get through the read-only handle");
	is_int(cache_dc_put(ro, &dc), -EROFS, "writes through RDONLY are -EROFS");

	for (unsigned i = 0; i < 4; i++)
		test_entry(i % 2, i, &e[i]);
	test_referral(100, &e[4]);
	test_referral(101, &e[5]);
	r = cache_dlp_put(c, &dc, e, 6, 5, &ch);
	is_int(r, 1, "dlp_put: first page");
	ok(strv_length(ch.nqns_added) == 2 &&
		   strv_contains(ch.nqns_added, "nqn.2024-01.io.test:sub0") && !ch.nqns_removed &&
		   !ch.nqns_changed && ch.n_referrals_added == 2,
	   "change: 2 NQNs and 2 referrals added");
	cache_dlp_change_free(&ch);
	is_int(cache_dlp_put(c, &dc, e, 6, 5, &ch), 0, "dlp_put: same page, same genctr");
	ok(!ch.nqns_added && !ch.nqns_changed && !ch.n_referrals_added, "no change reported");
	cache_dlp_change_free(&ch);
	is_int(cache_dlp_put(c, &dc, e, 6, 6, &ch), 1, "dlp_put: new genctr alone is a change");
	ok(!ch.nqns_added && !ch.nqns_removed && !ch.nqns_changed, "...with no NQN change");
	cache_dlp_change_free(&ch);

	/* change: sub1 loses an entry, sub2 appears, referral 100 goes, 102 comes */
	test_entry(2, 50, &e[3]);
	test_referral(102, &e[4]);
	is_int(cache_dlp_put(c, &dc, e, 6, 7, &ch), 1, "dlp_put: changed page");
	ok(strv_length(ch.nqns_added) == 1 &&
		   strv_contains(ch.nqns_added, "nqn.2024-01.io.test:sub2") &&
		   strv_length(ch.nqns_changed) == 1 &&
		   strv_contains(ch.nqns_changed, "nqn.2024-01.io.test:sub1") && !ch.nqns_removed,
	   "change: sub2 added, sub1 changed");
	ok(ch.n_referrals_added == 1 && ch.n_referrals_removed == 1 &&
		   ch.referrals_added[0].portid == 102 && ch.referrals_removed[0].portid == 100,
	   "change: referral 102 added, 100 removed");
	cache_dlp_change_free(&ch);

	ok(cache_dc_get(c, &dc.tid, &got) == 1 && got.genctr == 7 && got.n_entries == 6 &&
		   got.last_read_usec > 0 && !got.stale,
	   "dc record maintained by dlp_put");
	ok(cache_dlp_get(c, &dc.tid, &all, &n) == 1 && n == 6 && dlpe_equal(&all[3], &e[3]) &&
		   dlpe_equal(&all[4], &e[4]),
	   "dlp_get returns the page in order");
	free(all);
	cnt = 0;
	is_int(cache_entries_foreach_dc(c, &dc.tid, count_cb, &cnt), 0, "entries_foreach_dc");
	is_int(cnt, 6, "...6 entries");
	cnt = 0;
	is_int(cache_entries_foreach_nqn(c, "nqn.2024-01.io.test:sub0", count_cb, &cnt), 0,
	       "entries_foreach_nqn");
	is_int(cnt, 2, "...sub0 has 2 entries");
	cnt = 0;
	cache_entries_foreach_nqn(c, "nqn.2024-01.io.test:sub", count_cb, &cnt);
	is_int(cnt, 0, "a prefix of an NQN matches nothing");
	char **nqns = NULL;
	is_int(cache_dc_nqns(c, &dc.tid, &nqns), 1, "dc_nqns");
	ok(strv_length(nqns) == 3 && streq(nqns[0], "nqn.2024-01.io.test:sub0") &&
		   streq(nqns[1], "nqn.2024-01.io.test:sub1") &&
		   streq(nqns[2], "nqn.2024-01.io.test:sub2"),
	   "...sub0, sub1, sub2 once each, in page order");
	strv_free(nqns);
	struct cache_dc nodc;
	test_dc(98, &nodc);
	is_int(cache_dc_nqns(c, &nodc.tid, &nqns), 0, "dc_nqns: unknown DC");
	cnt = 0;
	is_int(cache_nqns_foreach(c, nqn_cb, &cnt), 0, "nqns_foreach");
	is_int(cnt, 2 * 1000 + 1 + 1000 + 1 + 1000 + 1, "...sub0 x2, sub1 x1, sub2 x1");

	/* a second DC sharing sub0 */
	struct cache_dc dc2;
	test_dc(2, &dc2);
	dc2.origin = CACHE_ORIGIN_MDNS;
	strcpy(dc2.instance_key, "key-abcdef");
	is_int(cache_dlp_put(c, &dc2, e, 1, 1, NULL), -ENOENT,
	       "dlp_put: an mDNS DC its finder did not record is not created");
	is_int(cache_dc_put(c, &dc2), 1, "dc_put: the finder records it");
	is_int(cache_dlp_put(c, &dc2, e, 1, 1, NULL), 1, "dlp_put: second DC");
	cnt = 0;
	cache_entries_foreach_nqn(c, "nqn.2024-01.io.test:sub0", count_cb, &cnt);
	is_int(cnt, 3, "sub0 now listed 3 times across 2 DCs");
	ok(cache_dc_get_by_instance_key(c, "key-abcdef", &got) == 1 &&
		   tid_equal(&got.tid, &dc2.tid),
	   "dc_get_by_instance_key");
	is_int(cache_dc_get_by_instance_key(c, "key-nope", &got), 0, "unknown instance key");
	strcpy(dc.instance_key, "key-abcdef");
	is_int(cache_dlp_put(c, &dc, e, 6, 7, NULL), -EEXIST,
	       "an instance key cannot name two DCs");
	dc.instance_key[0] = 0;
	strcpy(dc2.instance_key, "key-fedcba");
	is_int(cache_dlp_put(c, &dc2, e, 1, 1, NULL), 0, "same page, instance key renamed");
	dc2.instance_key[0] = 0;
	is_int(cache_dlp_put(c, &dc2, e, 1, 1, NULL), 0, "same page, no instance key given");
	ok(cache_dc_get_by_instance_key(c, "key-fedcba", &got) == 1 &&
		   tid_equal(&got.tid, &dc2.tid),
	   "...the DC keeps its instance key");
	strcpy(dc2.instance_key, "key-fedcba");
	is_int(cache_dc_get_by_instance_key(c, "key-abcdef", &got), 0, "old instance key gone");
	cnt = 0;
	is_int(cache_dc_foreach(c, dc_count_cb, &cnt), 0, "dc_foreach");
	is_int(cnt, 2, "...2 DCs");

	/* errors keep the last good page */
	is_int(cache_dc_set_error(c, &dc, -ECONNREFUSED, "connection refused"), 1, "dc_set_error");
	ok(cache_dc_get(c, &dc.tid, &got) == 1 && got.stale && got.last_errno == ECONNREFUSED &&
		   streq(got.last_error, "connection refused") && got.n_entries == 6,
	   "stale, error recorded, entries kept");
	{
		uint64_t first = got.first_failure_usec;
		struct cache_dc stale_copy = got;

		ok(got.n_failures == 1 && first != 0 && first == got.last_error_usec,
		   "first failure: time and count recorded");
		stale_copy.first_failure_usec = 1;
		stale_copy.n_failures = 1000;
		is_int(cache_dc_set_error(c, &stale_copy, -ETIMEDOUT, "timed out"), 1,
		       "a second failure");
		ok(cache_dc_get(c, &dc.tid, &got) == 1 && got.n_failures == 2 &&
			   got.first_failure_usec == first,
		   "...counted; the first failure's time kept (the caller's copy is ignored)");
		is_int(cache_dc_failures_reset(c, &dc.tid), 1, "failures_reset");
		ok(cache_dc_get(c, &dc.tid, &got) == 1 && got.n_failures == 0 &&
			   got.first_failure_usec == 0 && got.stale && got.n_entries == 6,
		   "...clears the failures only");
		is_int(cache_dc_failures_reset(c, &dc.tid), 0, "failures_reset: nothing to clear");
		(void)cache_dc_set_error(c, &dc, -ECONNREFUSED, "connection refused");
	}
	struct cache_dc unknown;
	test_dc(99, &unknown);
	unknown.origin = CACHE_ORIGIN_REFERRAL;
	is_int(cache_dc_set_error(c, &unknown, EIO, NULL), -ENOENT,
	       "set_error: an unknown referral DC is not created");
	is_int(cache_dlp_put(c, &unknown, e, 1, 1, NULL), -ENOENT,
	       "dlp_put: an unknown referral DC is not created");
	unknown.origin = CACHE_ORIGIN_MDNS;
	is_int(cache_dlp_put(c, &unknown, e, 1, 1, NULL), -ENOENT,
	       "dlp_put: an unknown mDNS DC is not created");
	is_int(cache_dc_get(c, &unknown.tid, &got), 0, "...neither is in the cache");
	unknown.origin = CACHE_ORIGIN_UDEV;
	is_int(cache_dc_set_error(c, &unknown, EIO, NULL), 1, "set_error: a udev DC is created");
	ok(cache_dc_get(c, &unknown.tid, &got) == 1 && got.stale && got.n_entries == 0 &&
		   got.origin == CACHE_ORIGIN_UDEV,
	   "...stale, no entries");
	ok(got.n_failures == 1 && got.first_failure_usec != 0, "...one failure recorded");
	ok(cache_dlp_put(c, &unknown, e, 1, 1, NULL) >= 0 &&
		   cache_dc_get(c, &unknown.tid, &got) == 1 && got.n_failures == 0 &&
		   got.first_failure_usec == 0 && !got.stale,
	   "an answer (dlp_put) clears the failures");
	is_int(cache_dc_purge(c, &unknown.tid), 1, "...purged again");
	is_int(cache_dc_set_advertised(c, &dc2.tid, true, 1234), 1, "set_advertised");
	is_int(cache_dc_set_advertised(c, &dc2.tid, true, 1234), 0, "set_advertised: unchanged");
	ok(cache_dc_get(c, &dc2.tid, &got) == 1 && got.mdns_advertised &&
		   got.mdns_last_advertised_usec == 1234,
	   "advertised state stored");
	/* dc_put of a known DC: only the provenance rule applies */
	dc.kato = 60;
	dc.origin = CACHE_ORIGIN_REFERRAL;
	dc.referral_depth = 3;
	is_int(cache_dc_put(c, &dc), 0, "dc_put: a known DC keeps its record");
	ok(cache_dc_get(c, &dc.tid, &got) == 1 && got.kato == 30 && got.genctr == 7 &&
		   got.n_entries == 6 && got.stale && got.origin == CACHE_ORIGIN_CONFIG &&
		   got.referral_depth == 0,
	   "...session, page, result and provenance kept");
	dc2.origin = CACHE_ORIGIN_CONFIG;
	is_int(cache_dc_put(c, &dc2), 1, "dc_put: configuration makes an mDNS DC configured");
	ok(cache_dc_get(c, &dc2.tid, &got) == 1 && got.origin == CACHE_ORIGIN_CONFIG &&
		   got.mdns_advertised && got.mdns_last_advertised_usec == 1234,
	   "...its mDNS state kept");
	dc.kato = 30;
	dc.origin = CACHE_ORIGIN_CONFIG;
	dc.referral_depth = 0;

	/* paths */
	struct cache_path p = {}, pg;
	dlpe_to_tid(&e[0], &dc.tid, &p.tid);
	p.owner = CACHE_PATH_OWNER_STAS;
	p.state = CACHE_PATH_CONNECTED;
	strcpy(p.device, "nvme4");
	is_int(cache_path_put(c, &p), 1, "path_put");
	ok(cache_path_get(c, &p.tid, &pg) == 1 && pg.state == CACHE_PATH_CONNECTED &&
		   pg.updated_usec > 0 && streq(pg.device, "nvme4"),
	   "path_get");
	struct cache_path p2 = p;
	dlpe_to_tid(&e[1], &dc.tid, &p2.tid);
	p2.state = CACHE_PATH_FAILED;
	p2.attempts = 2;
	is_int(cache_path_put(c, &p2), 1, "path_put: another NQN");
	cnt = 0;
	cache_path_foreach(c, NULL, path_count_cb, &cnt);
	is_int(cnt, 2, "path_foreach: all");
	cnt = 0;
	cache_path_foreach(c, e[1].subnqn, path_count_cb, &cnt);
	is_int(cnt, 1, "path_foreach: one NQN");
	is_int(cache_path_remove(c, &p2.tid), 1, "path_remove");
	is_int(cache_path_remove(c, &p2.tid), 0, "path_remove: gone");
	struct cache_path nop = {};
	is_int(cache_path_put(c, &nop), -EINVAL, "path without subsysnqn refused");

	/* paths in one transaction: in order, all or nothing */
	struct cache_path_op ops[3] = { { .path = p2 },
					{ .path = p },
					{ .path = p2, .remove = true } };
	ops[1].path.state = CACHE_PATH_FAILED;
	is_int(cache_paths_write(c, ops, 3), 3, "paths_write: put, put, remove");
	ok(cache_path_get(c, &p.tid, &pg) == 1 && pg.state == CACHE_PATH_FAILED &&
		   cache_path_get(c, &p2.tid, &pg) == 0,
	   "paths_write: applied in order");
	ops[1].path = nop;
	is_int(cache_paths_write(c, ops, 2), -EINVAL,
	       "paths_write: a bad record refuses the batch");
	is_int(cache_path_get(c, &p2.tid, &pg), 0, "paths_write: ... nothing of it written");
	is_int(cache_paths_write(c, &ops[2], 1), 0, "paths_write: removing an absent record: 0");
	ops[0].path = p;
	is_int(cache_paths_write(c, ops, 1), 1, "paths_write: one put");
	ok(cache_path_get(c, &p.tid, &pg) == 1 && pg.state == CACHE_PATH_CONNECTED,
	   "paths_write: the put is there");
	is_int(cache_paths_write(c, NULL, 0), 0, "paths_write: nothing to do");

	struct cache_stats st;
	ok(cache_stats(c, &st) == 0 && st.n_dcs == 2 && st.n_entries == 7 && st.n_nqn_rows == 5 &&
		   st.n_nqns == 3 && st.n_paths == 1 && st.n_ikeys == 1 &&
		   st.schema == CACHE_SCHEMA_VERSION && st.file_size > 0 && st.map_size > 0,
	   "stats");
	is_int(cache_verify(c, report_cb, NULL), 0, "verify: clean");

	/* purge */
	is_int(cache_dc_purge(c, &dc2.tid), 1, "dc_purge");
	is_int(cache_dc_purge(c, &dc2.tid), 0, "dc_purge: gone");
	cnt = 0;
	cache_entries_foreach_nqn(c, "nqn.2024-01.io.test:sub0", count_cb, &cnt);
	is_int(cnt, 2, "its index rows went with it");
	is_int(cache_dc_get_by_instance_key(c, "key-fedcba", &got), 0, "and its instance key");
	is_int(cache_verify(c, report_cb, NULL), 0, "verify: clean after purge");
	is_int(cache_dlp_put(c, &dc, e, 2, 8, NULL), 1, "shrink page 6 -> 2");
	is_int(cache_verify(c, report_cb, NULL), 0, "verify: clean after shrink");
	is_int(cache_purge_all(c, false), 1, "purge_all: 1 DC");
	ok(cache_stats(c, &st) == 0 && st.n_dcs == 0 && st.n_entries == 0 && st.n_nqn_rows == 0 &&
		   st.n_paths == 1,
	   "purge_all keeps paths");
	is_int(cache_purge_all(c, true), 0, "purge_all with paths");
	ok(cache_stats(c, &st) == 0 && st.n_paths == 0, "paths gone");

	/* enum names */
	is_str(cache_origin_to_string(CACHE_ORIGIN_REFERRAL), "referral", "origin name");
	is_int(cache_origin_from_string("udev"), CACHE_ORIGIN_UDEV, "origin parse");
	is_int(cache_path_state_from_string("bogus"), -EINVAL, "bad state name");
	ok(cache_path_owner_to_string(_CACHE_PATH_OWNER_MAX) == NULL, "out-of-range name is NULL");

	setenv("CACHE_DIRECTORY", "/run/x:/run/y", 1);
	is_str(cache_default_dir(), "/run/x", "$CACHE_DIRECTORY, first entry");
	unsetenv("CACHE_DIRECTORY");
	is_str(cache_default_dir(), CACHEDIR, "compiled-in default");

	cache_free(ro);
	cache_free(c);
	tmpdir_rm(dir);
}

/* Fill a cache with @ndc DCs of @n entries each, some paths. */
static void fill(struct cache *c, unsigned ndc, unsigned n)
{
	struct dlpe *e = calloc(n, sizeof(*e));

	for (unsigned d = 0; d < ndc; d++) {
		struct cache_dc dc;
		test_dc(d, &dc);
		if (d % 3 == 0)
			snprintf(dc.instance_key, sizeof(dc.instance_key), "key-%04x", d);
		for (unsigned i = 0; i < n; i++)
			test_entry((d + i) % 7, i, &e[i]);
		if (n > 2)
			test_referral(d, &e[n - 1]);
		if (cache_dlp_put(c, &dc, e, n, d, NULL) < 0)
			diag("fill failed");
		struct cache_path p = {};
		dlpe_to_tid(&e[0], &dc.tid, &p.tid);
		p.state = CACHE_PATH_CONNECTED;
		p.updated_usec = 1000 + d;
		(void)cache_path_put(c, &p);
	}
	free(e);
}

static char *export_str(struct cache *c, size_t *ret_size)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (cache_export(c, f, NULL) < 0)
		diag("export failed");
	fclose(f);
	*ret_size = size;
	return buf;
}

/* An export body without the meta "writer" line (it names the importer). */
static char *body_sans_writer(const char *exp)
{
	const char *body = strchr(exp, '\n') + 1;
	char *out = malloc(strlen(body) + 1), *o = out;
	static const char *writer_hex = "meta 777269746572 "; /* "writer" */

	for (const char *l = body; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = (size_t)(nl - l) + 1;
		if (strncmp(l, writer_hex, strlen(writer_hex)) != 0) {
			memcpy(o, l, len);
			o += len;
		}
		l += len;
	}
	*o = 0;
	return out;
}

static int import_str(struct cache *c, const char *data, size_t size, bool dry,
		      struct cache_import_summary *s)
{
	FILE *f = fmemopen((void *)data, size, "r");
	int r;

	if (size == 0) {
		f = fopen("/dev/null", "re");
	}
	r = cache_import(c, f, dry, s);
	fclose(f);
	return r;
}

static void test_export_import(void)
{
	char *d1 = tmpdir_new(), *d2 = tmpdir_new();
	struct cache *a = NULL, *b = NULL;
	struct cache_import_summary s;
	_cleanup_free_ char *ea = NULL, *eb = NULL, *eb2 = NULL, *ba = NULL, *bb = NULL;
	size_t na, nb, nb2;
	int r, bad;

	cache_open(d1, CACHE_RDWR | CACHE_NOSYNC, &a);
	cache_open(d2, CACHE_RDWR | CACHE_NOSYNC, &b);
	fill(a, 20, 30);
	fill(b, 5, 4); /* something different to be replaced */
	ea = export_str(a, &na);
	ok(na > 0 && str_startswith(ea, "stas-cache-export 1 schema 1 records "), "export header");

	r = import_str(b, ea, na, true, &s);
	ok(r == 0 && s.dcs == 20 && s.dcs_added == 15 && s.dcs_changed == 5 && s.dcs_removed == 0 &&
		   s.entries == 600,
	   "dry run: 15 added, 5 changed (r=%d %s)", r, s.reason);
	eb = export_str(b, &nb);
	ok(nb != na, "dry run changed nothing");
	r = import_str(b, ea, na, false, &s);
	is_int(r, 1, "import");
	free(eb);
	eb = export_str(b, &nb);
	ba = body_sans_writer(ea);
	bb = body_sans_writer(eb);
	is_str(bb, ba, "round trip: identical content");
	is_int(cache_verify(b, report_cb, NULL), 0, "imported cache verifies");
	r = import_str(b, ea, na, true, &s);
	ok(r == 0 && s.dcs_unchanged == 20 && s.dcs_added == 0 && s.dcs_changed == 0,
	   "dry run of the same file: all unchanged");

	/* refusals: the cache must not change */
	eb2 = export_str(b, &nb2);
	for (size_t cut = 0; cut < na; cut += na / 23 + 1) {
		r = import_str(b, ea, cut, false, &s);
		if (r >= 0 || (r != -ENODATA && r != -EBADMSG))
			diag("cut at %zu: r=%d", cut, r);
		if (r >= 0)
			break;
	}
	ok(r < 0, "truncated exports refused");
	r = import_str(b, ea, na - 1, false, &s);
	ok(r == -ENODATA && strstr(s.reason, "truncated"), "truncated by one byte: %s", s.reason);
	bad = 0;
	for (size_t off = 0; off < na; off += na / 31 + 1) {
		char *x = strdup(ea);
		x[off] ^= 0x04;
		r = import_str(b, x, na, false, &s);
		if (r >= 0)
			bad++;
		free(x);
	}
	is_int(bad, 0, "bit flips at 32 offsets all refused");
	{
		char *x = strdup(ea);
		x[na - 3] ^= 0x01;
		r = import_str(b, x, na, false, &s);
		ok(r == -EBADMSG && strstr(s.reason, "checksum"), "body bit flip: %s", s.reason);
		free(x);
	}
	{
		char *x = strdup(ea);
		x[STRLEN("stas-cache-export ")] = '9';
		r = import_str(b, x, na, false, &s);
		ok(r == -EPROTO && strstr(s.reason, "newer"), "future export version: %s",
		   s.reason);
		free(x);
	}
	{
		/* a future schema, correctly checksummed */
		char *x = strdup(ea);
		char *p = strstr(x, " schema 1 ");
		p[8] = '2';
		r = import_str(b, x, na, false, &s);
		ok(r == -EPROTO, "future schema: %s", s.reason);
		free(x);
	}
	{
		/* a well-formed, checksummed file whose index is inconsistent */
		const char *body = strchr(ea, '\n') + 1;
		char *nqnline = strstr(body, "\nnqn ");
		size_t bl = strlen(body);
		char *nb_ = malloc(bl + 1), *hdr = NULL, *file = NULL;
		char *eol = strchr(nqnline + 1, '\n');
		uint8_t dg[32];
		char hx[65];
		size_t body_len;
		unsigned long long recs = 0;
		/* drop one nqn row */
		memcpy(nb_, body, (size_t)(nqnline + 1 - body));
		strcpy(nb_ + (nqnline + 1 - body), eol + 1);
		body_len = strlen(nb_);
		sscanf(ea, "stas-cache-export 1 schema 1 records %llu", &recs);
		sha256(nb_, body_len, dg);
		(void)!asprintf(&hdr,
				"stas-cache-export 1 schema 1 records %llu bytes %zu sha256 %s\n",
				recs - 1, body_len, sha256_hex(dg, hx));
		(void)!asprintf(&file, "%s%s", hdr, nb_);
		r = import_str(b, file, strlen(file), false, &s);
		ok(r == -EBADMSG && strstr(s.reason, "index"), "inconsistent index refused: %s",
		   s.reason);
		free(nb_), free(hdr), free(file);
	}
	r = import_str(b, "", 0, false, &s);
	is_int(r, -ENODATA, "empty file refused");
	r = import_str(b, "hello\n", 6, false, &s);
	is_int(r, -EBADMSG, "not an export refused");
	free(eb);
	eb = export_str(b, &nb);
	ok(nb == nb2 && memcmp(eb, eb2, nb) == 0, "the cache is byte-for-byte unchanged");

	cache_free(a);
	cache_free(b);
	tmpdir_rm(d1);
	tmpdir_rm(d2);
}

/* Write a raw meta value, as a newer stas would. */
static void set_meta(const char *dir, const char *key, const char *value)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { strlen(key), (void *)key }, v = { strlen(value), (void *)value };

	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 16);
	mdb_env_open(env, dir, 0, 0644);
	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, "meta", 0, &dbi);
	mdb_put(txn, dbi, &k, &v, 0);
	mdb_txn_commit(txn);
	mdb_env_close(env);
}

/*
 * set_meta() from another process, as a real upgrade happens: LMDB forbids
 * opening one environment twice in a process (closing the second copy drops
 * the first one's locks; LMDB 0.9.31, Debian 13's, then fails the first
 * handle's next transaction with EINVAL).
 */
static void set_meta_elsewhere(const char *dir, const char *key, const char *value)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		set_meta(dir, key, value);
		_exit(0);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		   WEXITSTATUS(status) == 0,
	   "another process set meta %s=%s", key, value);
}

static void test_schema(void)
{
	char *dir = tmpdir_new();
	struct cache *c = NULL;
	struct cache_dc dc, got;

	cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &c);
	test_dc(1, &dc);
	cache_dc_put(c, &dc);
	cache_free(c);
	set_meta(dir, "schema", "99");

	is_int(cache_open(dir, CACHE_RDWR, &c), 0, "a newer schema still opens");
	is_int(cache_schema(c), 99, "...and says which");
	ok(!cache_writable(c), "...not writable");
	is_int(cache_dc_get(c, &dc.tid, &got), 1, "reads what it understands");
	is_int(cache_dc_put(c, &dc), -EPROTO, "write refused with -EPROTO");
	is_int(cache_dlp_put(c, &dc, NULL, 0, 1, NULL), -EPROTO, "dlp_put refused");
	is_int(cache_purge_all(c, true), -EPROTO, "purge refused");
	ok(cache_verify(c, NULL, NULL) == 1, "verify reports the schema");
	cache_free(c);

	/* a schema bump while a writer has the cache open */
	set_meta(dir, "schema", "1");
	cache_open(dir, CACHE_RDWR, &c);
	is_int(cache_dc_put(c, &dc), 0, "writable again at schema 1");
	set_meta_elsewhere(dir, "schema", "2");
	is_int(cache_dc_set_error(c, &dc, EIO, "x"), -EPROTO,
	       "upgrade under an open handle is noticed");
	cache_free(c);
	tmpdir_rm(dir);
}

static void test_map_growth(void)
{
	char *dir = tmpdir_new();
	struct cache *c = NULL, *r2 = NULL;
	struct cache_stats st;
	unsigned cnt = 0;

	is_int(cache_open_full(dir, CACHE_RDWR | CACHE_NOSYNC, 64 * 1024, &c), 0,
	       "open with a 64 KiB map");
	cache_open(dir, CACHE_RDONLY, &r2);
	fill(c, 30, 200); /* ~6000 entries: far more than 64 KiB */
	int r = cache_stats(c, &st);
	ok(r == 0 && st.n_entries == 6000 && st.map_size > 64 * 1024,
	   "the map grew to %llu bytes, all 6000 entries stored", (unsigned long long)st.map_size);
	ok(cache_stats(r2, &st) == 0 && st.n_entries == 6000,
	   "a reader opened before the growth sees everything");
	cache_entries_foreach(r2, count_cb, &cnt);
	is_int(cnt, 6000, "...and can walk it");
	is_int(cache_verify(c, report_cb, NULL), 0, "verify after growth");
	cache_free(r2);
	cache_free(c);
	tmpdir_rm(dir);
}

static void test_readonly_dir(void)
{
	char *dir = tmpdir_new(), sub[300];
	struct cache *c = NULL;
	int status = 0;
	pid_t pid;

	/* create a cache, then make the directory unwritable */
	cache_open(dir, CACHE_RDWR, &c);
	struct cache_dc dc;
	test_dc(1, &dc);
	cache_dc_put(c, &dc);
	cache_free(c);
	chmod(dir, 0755);
	snprintf(sub, sizeof(sub), "%s/sub", dir);

	pid = fork();
	if (pid == 0) {
		/* root ignores permissions: become nobody for this check */
		if (geteuid() == 0 && setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		int r1 = cache_open(sub, CACHE_RDWR, &c); /* cannot create */
		int r2 = cache_open(dir, CACHE_RDWR, &c); /* cannot write */
		_exit((r1 == -EACCES ? 0 : 1) | (r2 == -EACCES ? 0 : 2));
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "read-only directory: -EACCES (status %d)", WEXITSTATUS(status));

	cache_open(dir, CACHE_RDONLY, &c);
	struct cache_dc got;
	is_int(cache_dc_get(c, &dc.tid, &got), 1, "previous content intact");
	cache_free(c);
	tmpdir_rm(dir);
}

/* Issue 13: what the cache refuses at open, and the recovery. */
static void test_open_checks(void)
{
	char *dir = tmpdir_new(), p[300], aside[400] = "";
	struct cache *c = NULL;
	struct cache_dc dc;
	struct stat st;

	ok(cache_open(dir, CACHE_RDWR, &c) == 0, "open");
	for (unsigned i = 0; i < 50; i++) {
		struct dlpe e[8];
		test_dc(i, &dc);
		for (unsigned k = 0; k < ELEMENTSOF(e); k++)
			test_entry(i, k, &e[k]);
		(void)cache_dlp_put(c, &dc, e, ELEMENTSOF(e), 1, NULL);
	}
	c = cache_free(c);
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	ok(stat(p, &st) == 0 && st.st_size > 16384, "seeded: %lld bytes", (long long)st.st_size);

	/* every length LMDB hands out is bounded by the end of data.mdb */
	ok(cache_open(dir, CACHE_RDONLY, &c) == 0, "open read-only");
	ok(c->map && c->map_end > c->map && (uint64_t)(c->map_end - c->map) == c->file_size,
	   "the map is located: %lld bytes backed", (long long)(c->map_end - c->map));
	if (c->map_end) {
		MDB_val in = { 100, (void *)(c->map_end - 200) },
			past = { 100, (void *)(c->map_end - 10) }, big = { 5000, (void *)c->map };
		is_int(cache_val_check(c, &in), 0, "a value inside the file");
		is_int(cache_val_check(c, &past), -EBADMSG, "a value running past its end");
		is_int(cache_val_check(c, &big), -EBADMSG, "a value longer than any record");
	}
	c = cache_free(c);

	/* truncated: refused at open, by readers and writers, not SIGBUS later */
	ok(truncate(p, st.st_size - 4096) == 0, "truncate by one page");
	is_int(cache_open(dir, CACHE_RDONLY, &c), -EUCLEAN, "truncated: RDONLY open -EUCLEAN");
	is_int(cache_open(dir, CACHE_RDWR, &c), -EUCLEAN, "truncated: RDWR open -EUCLEAN");
	ok(strstr(cache_strerror(-EUCLEAN), "data.mdb is truncated") != NULL,
	   "cache_strerror(-EUCLEAN): %s", cache_strerror(-EUCLEAN));
	ok(strstr(cache_strerror(-EBADMSG), "the cache is corrupt") != NULL,
	   "cache_strerror(-EBADMSG): %s", cache_strerror(-EBADMSG));
	ok(truncate(p, 0) == 0, "truncate to zero");
	is_int(cache_open(dir, CACHE_RDONLY, &c), -EUCLEAN, "zero-length: -EUCLEAN, not -EBADF");
	ok(truncate(p, 100) == 0, "truncate to 100 bytes");
	is_int(cache_open(dir, CACHE_RDONLY, &c), -EUCLEAN, "100 bytes: -EUCLEAN");

	/* the recovery: set aside, then a fresh cache */
	is_int(cache_set_aside(dir, aside, sizeof(aside)), 1, "set aside: %s", aside);
	ok(stat(aside, &st) == 0 && st.st_size == 100, "the old data.mdb kept as %s", aside);
	is_int(cache_open(dir, CACHE_RDWR, &c), 0, "a fresh cache opens");
	test_dc(1, &dc);
	is_int(cache_dc_put(c, &dc), 1, "and takes writes");
	is_int(cache_verify(c, NULL, NULL), 0, "and verifies clean");
	c = cache_free(c);
	is_int(cache_set_aside(dir, NULL, 0), 1, "a second set-aside in the same second");

	/* unsafe directory and files */
	ok(cache_open(dir, CACHE_RDWR, &c) == 0, "open again");
	c = cache_free(c);
	ok(chmod(dir, 0777) == 0, "chmod 0777");
	is_int(cache_open(dir, CACHE_RDONLY, &c), -EPERM, "world-writable directory: -EPERM");
	ok(chmod(dir, 0720) == 0, "chmod 0720");
	is_int(cache_open(dir, CACHE_RDWR, &c), -EPERM, "group-writable directory: -EPERM");
	is_int(cache_set_aside(dir, NULL, 0), -EPERM, "set aside refuses it too");
	ok(chmod(dir, 0700) == 0, "chmod 0700");
	{
		char lock[300], victim[300];
		int fd;
		snprintf(lock, sizeof(lock), "%s/lock.mdb", dir);
		snprintf(victim, sizeof(victim), "%s/victim", dir);
		fd = open(victim, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		ok(fd >= 0 && write(fd, "precious", 8) == 8, "a victim file");
		close(fd);
		(void)unlink(lock);
		ok(symlink(victim, lock) == 0, "lock.mdb -> victim");
		is_int(cache_open(dir, CACHE_RDWR, &c), -ELOOP, "symlinked lock.mdb: -ELOOP");
		ok(stat(victim, &st) == 0 && st.st_size == 8, "the victim is untouched");
		(void)unlink(lock);
		ok(rename(p, victim) == 0 && symlink(victim, p) == 0, "data.mdb -> elsewhere");
		is_int(cache_open(dir, CACHE_RDONLY, &c), -ELOOP, "symlinked data.mdb: -ELOOP");
		(void)unlink(p);
		ok(mkfifo(p, 0600) == 0, "data.mdb a FIFO");
		is_int(cache_open(dir, CACHE_RDONLY, &c), -ELOOP, "FIFO data.mdb: -ELOOP");
	}
	cache_free(c);
	tmpdir_rm(dir);
}

/* Issue 13: a full file system is "no space", not "Input/output error". */
static void test_full_disk(void)
{
	char *dir = tmpdir_new(), sub[300];
	struct cache *c = NULL;
	int r = 0;

	if (geteuid() != 0 || mount("tmpfs", dir, "tmpfs", 0, "size=256k") < 0) {
		diag("skipped the full disk check: needs root and a tmpfs mount (%s)",
		     strerror(errno));
		tmpdir_rm(dir);
		return;
	}
	snprintf(sub, sizeof(sub), "%s/cache", dir);
	ok(cache_open(sub, CACHE_RDWR, &c) == 0, "a cache on a 256 KiB tmpfs");
	for (unsigned i = 0; i < 2000 && r >= 0; i++) {
		struct dlpe e[200];
		struct cache_dc dc;
		test_dc(i, &dc);
		for (unsigned k = 0; k < ELEMENTSOF(e); k++)
			test_entry(i, k, &e[k]);
		r = cache_dlp_put(c, &dc, e, ELEMENTSOF(e), 1, NULL);
	}
	is_int(r, -ENOSPC, "filling it: -ENOSPC (%s)", cache_strerror(r));
	is_int(cache_verify(c, NULL, NULL), 0, "what was committed verifies clean");
	cache_free(c);
	(void)umount2(dir, MNT_DETACH);
	tmpdir_rm(dir);
}

/*
 * Another process creating the cache: data.mdb exists before its meta pages
 * are written. An opener that finds it short then must wait, not call the
 * cache truncated (seen as a lost writer in test-cache-stress under load).
 */
static void test_open_during_creation(void)
{
	char *dir = tmpdir_new(), *ready = tmpdir_new(), p[300], q[300];
	struct cache *c = NULL;
	pid_t pid;
	int st, fd;

	is_int(cache_open(ready, CACHE_RDWR | CACHE_NOSYNC, &c), 0, "a complete cache elsewhere");
	cache_free(c);
	c = NULL;
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	snprintf(q, sizeof(q), "%s/data.mdb", ready);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ok(fd >= 0, "an empty data.mdb, as a creator leaves it for a moment");
	if (fd >= 0)
		close(fd);
	pid = fork();
	if (pid == 0) {
		usleep(30000);
		_exit(rename(q, p) == 0 ? 0 : 1);
	}
	is_int(cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &c), 0,
	       "the open waits for the creator instead of failing as truncated");
	cache_free(c);
	ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "the creator finished");
	tmpdir_rm(ready);
	tmpdir_rm(dir);
}

int main(void)
{
	test_records();
	test_api();
	test_export_import();
	test_schema();
	test_map_growth();
	test_readonly_dir();
	test_open_checks();
	test_open_during_creation();
	test_full_disk();
	return tap_done();
}
