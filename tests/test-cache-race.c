/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-cache-race - writers of the same DC record in separate processes, as
 * on a real host: stas-discover storing pages (from a copy of the record it
 * read earlier, the worst a caller can do), stas-mdns-watch recording
 * advertisements, another run recording an error, and purges (persistence
 * expiry, a withdrawn referral) racing a discovery. Each writer checks,
 * before every write, that what it wrote last is still there: any update
 * lost to another writer's copy shows up at once. A purged DC must stay
 * purged until its finder records it again.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "macro.h"
#include "tap.h"
#include "cache-test-util.h"

#define N_WRITES 3000
#define N_CYCLES 400
#define PAGE 3

static void page(uint64_t seq, struct dlpe e[PAGE])
{
	for (unsigned i = 0; i < PAGE; i++) {
		test_entry(i, i, &e[i]);
		e[i].cntlid = (uint16_t)(seq & 0xffff);
	}
}

static struct cache *open_or_die(const char *dir)
{
	struct cache *c = NULL;

	if (cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &c) < 0)
		_exit(99);
	return c;
}

/* Wait for every child. Return: how many failed (status 97 and up: an error, or the
 * race never happened); *ret_lost: the sum of the others' statuses (losses seen). */
static int wait_all(const pid_t *pids, int n, int *ret_lost)
{
	int failed = 0;

	*ret_lost = 0;
	for (int i = 0; i < n; i++) {
		int st;
		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) >= 97)
			failed++;
		else
			*ret_lost += WEXITSTATUS(st);
	}
	return failed;
}

/*
 * stas-discover: store page i from a copy of the record read just before
 * (the copy carries the mDNS state as it was then). Checks that its own last
 * page, genctr and session are still stored. Exit status: losses seen.
 */
_noreturn_ static void dlp_writer(const char *dir, const struct cache_dc *dc0)
{
	_cleanup_cache_ struct cache *c = open_or_die(dir);
	struct dlpe e[PAGE];
	int lost = 0;

	for (uint64_t i = 1; i <= N_WRITES; i++) {
		struct cache_dc rec;

		if (cache_dc_get(c, &dc0->tid, &rec) != 1)
			_exit(99);
		if (rec.genctr != i - 1 || rec.kato != (uint32_t)(i - 1) || rec.n_entries != PAGE)
			lost++;
		rec.kato = (uint32_t)i;
		snprintf(rec.device, sizeof(rec.device), "nvme%u", (unsigned)(i % 1000));
		page(i, e);
		if (cache_dlp_put(c, &rec, e, PAGE, i, NULL) != 1)
			_exit(99);
	}
	_exit(MIN(lost, 96));
}

/* stas-mdns-watch: advertised/unadvertised, with a time that only grows. */
_noreturn_ static void advertise_writer(const char *dir, const struct cache_dc *dc0)
{
	_cleanup_cache_ struct cache *c = open_or_die(dir);
	uint64_t last = 0;
	bool last_adv = false;
	int lost = 0;

	for (uint64_t i = 1; i <= N_WRITES; i++) {
		struct cache_dc got;
		bool adv = i % 3 != 0;

		if (cache_dc_get(c, &dc0->tid, &got) != 1)
			_exit(99);
		if (got.mdns_last_advertised_usec != last || got.mdns_advertised != last_adv)
			lost++;
		if (cache_dc_set_advertised(c, &dc0->tid, adv, 1000 + i) < 0)
			_exit(99);
		last = 1000 + i;
		last_adv = adv;
	}
	_exit(MIN(lost, 96));
}

/* Another run's failure, recorded from a stale copy: must change only the result. */
_noreturn_ static void error_writer(const char *dir, const struct cache_dc *dc0)
{
	_cleanup_cache_ struct cache *c = open_or_die(dir);

	for (unsigned i = 0; i < N_WRITES / 3; i++) {
		struct cache_dc copy;

		if (cache_dc_get(c, &dc0->tid, &copy) != 1)
			_exit(99);
		usleep(50); /* the read of the page that failed */
		if (cache_dc_set_error(c, &copy, ETIMEDOUT, "timed out") != 1)
			_exit(99);
	}
	_exit(0);
}

static void test_two_writers(void)
{
	_cleanup_cache_ struct cache *c = NULL;
	char *dir = tmpdir_new();
	struct cache_dc dc, got;
	struct dlpe e[PAGE], *stored = NULL;
	size_t n = 0;
	pid_t pids[3];
	int lost, failed;

	test_dc(7, &dc);
	dc.kato = 0;
	is_int(cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &c), 0, "open");
	page(0, e);
	is_int(cache_dlp_put(c, &dc, e, PAGE, 0, NULL), 1, "a configured DC with its first page");
	cache_free(TAKE_PTR(c));

	pids[0] = fork();
	if (pids[0] == 0)
		dlp_writer(dir, &dc);
	pids[1] = fork();
	if (pids[1] == 0)
		advertise_writer(dir, &dc);
	pids[2] = fork();
	if (pids[2] == 0)
		error_writer(dir, &dc);
	failed = wait_all(pids, 3, &lost);
	is_int(failed, 0, "three writers, %d + %d + %d writes: every call succeeded", N_WRITES,
	       N_WRITES, N_WRITES / 3);
	is_int(lost, 0, "no writer ever found its last write undone");

	is_int(cache_open(dir, CACHE_RDONLY, &c), 0, "reopen");
	is_int(cache_dc_get(c, &dc.tid, &got), 1, "the DC is there");
	ok(got.genctr == N_WRITES && got.kato == N_WRITES && got.n_entries == PAGE &&
		   got.origin == CACHE_ORIGIN_CONFIG,
	   "the last page's record: genctr %llu, kato %u", (unsigned long long)got.genctr,
	   got.kato);
	ok(got.mdns_last_advertised_usec == 1000 + N_WRITES &&
		   got.mdns_advertised == (N_WRITES % 3 != 0),
	   "the last advertisement: %llu", (unsigned long long)got.mdns_last_advertised_usec);
	page(N_WRITES, e);
	ok(cache_dlp_get(c, &dc.tid, &stored, &n) == 1 && n == PAGE &&
		   dlpe_equal(&stored[0], &e[0]),
	   "the last page");
	free(stored);
	is_int(cache_verify(c, NULL, NULL), 0, "verify clean");
	tmpdir_rm(dir);
}

/*
 * stas-discover runs for a DC found by mDNS or a referral (it does not
 * create such a DC): pages and errors, again and again, whether or not the
 * DC is in the cache at that moment. Exit status: 0, or 99 on an error.
 */
_noreturn_ static void discovery(const char *dir, const struct cache_dc *dc0)
{
	_cleanup_cache_ struct cache *c = open_or_die(dir);
	struct dlpe e[PAGE];
	int gone = 0;

	for (uint64_t i = 1; i <= N_WRITES; i++) {
		int r;

		page(i, e);
		r = i % 4 ? cache_dlp_put(c, dc0, e, PAGE, i, NULL) :
			    cache_dc_set_error(c, dc0, EHOSTUNREACH, "unreachable");
		if (r == -ENOENT)
			gone++;
		else if (r < 0)
			_exit(99);
	}
	/* the parent wants to know the race happened */
	_exit(gone > 0 ? 0 : 97);
}

/*
 * Its finder: records the DC, lets discovery work, purges it (persistence
 * expired, referral withdrawn) and checks it stays purged until recorded
 * again. Exit status: resurrections seen.
 */
_noreturn_ static void finder(const char *dir, const struct cache_dc *dc0, int ready)
{
	_cleanup_cache_ struct cache *c = open_or_die(dir);
	int resurrected = 0;

	for (unsigned k = 1; k <= N_CYCLES; k++) {
		struct cache_dc rec = *dc0, got;

		rec.mdns_advertised = true;
		rec.mdns_last_advertised_usec = k;
		if (cache_dc_put(c, &rec) != 1 || cache_dc_get(c, &rec.tid, &got) != 1)
			_exit(99);
		if (got.mdns_last_advertised_usec != k)
			resurrected++; /* it was there already: someone else created it */
		if (k == 1 && write(ready, "x", 1) != 1)
			_exit(99);
		usleep((useconds_t)(rand() % 400));
		if (cache_dc_purge(c, &rec.tid) != 1)
			_exit(99);
		/* give a discovery that read the DC before the purge time to write */
		for (int t = 0; t < 4; t++) {
			usleep(100);
			if (cache_dc_get(c, &rec.tid, &got) != 0) {
				resurrected++;
				(void)cache_dc_purge(c, &rec.tid);
				break;
			}
		}
	}
	_exit(MIN(resurrected, 96));
}

static void test_purge_race(enum cache_origin origin)
{
	_cleanup_cache_ struct cache *c = NULL;
	const char *name = cache_origin_to_string(origin);
	char *dir = tmpdir_new();
	struct cache_dc dc, got;
	struct cache_stats st;
	pid_t pids[2];
	int fds[2], resurrected, failed;
	char x;

	test_dc(9, &dc);
	dc.origin = origin;
	if (origin == CACHE_ORIGIN_REFERRAL) {
		test_dc(8, &got);
		dc.referrer = got.tid;
		dc.referral_depth = 1;
	}
	is_int(cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &c), 0, "open");
	cache_free(TAKE_PTR(c));
	if (pipe(fds) < 0)
		abort();
	pids[0] = fork();
	if (pids[0] == 0)
		finder(dir, &dc, fds[1]);
	/* discovery starts once the finder recorded the DC, as units are started */
	if (read(fds[0], &x, 1) != 1)
		abort();
	close(fds[0]);
	close(fds[1]);
	pids[1] = fork();
	if (pids[1] == 0)
		discovery(dir, &dc);
	failed = wait_all(pids, 2, &resurrected);
	is_int(failed, 0, "%s DC: %d record/purge cycles against %d discovery writes", name,
	       N_CYCLES, N_WRITES);
	is_int(resurrected, 0, "%s DC: a purged DC never came back by itself", name);

	is_int(cache_open(dir, CACHE_RDONLY, &c), 0, "reopen");
	is_int(cache_dc_get(c, &dc.tid, &got), 0, "%s DC: purged at the end", name);
	ok(cache_stats(c, &st) == 0 && st.n_dcs == 0 && st.n_entries == 0 && st.n_nqn_rows == 0,
	   "%s DC: no entry or index row left behind", name);
	is_int(cache_verify(c, NULL, NULL), 0, "verify clean");
	tmpdir_rm(dir);
}

int main(void)
{
	srand(4242);
	test_two_writers();
	test_purge_race(CACHE_ORIGIN_MDNS);
	test_purge_race(CACHE_ORIGIN_REFERRAL);
	return tap_done();
}
