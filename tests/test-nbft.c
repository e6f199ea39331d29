/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-nbft - the NBFT parser (lib/nbft.c) over tables made by
 * tests/nbft-build.h: the fields, every structural check, per-descriptor
 * problems, truncation and bit flips at every offset (no crash, no
 * sanitizer report), the sysfs loader, nbft_claims(), and - where libnvme
 * has NBFT support - the same result from libnvme's parser as from stas's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "nbft.h"
#include "strv.h"

#include "nbft-build.h"
#include "tap.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6a2e5b3c-1f4d-4c8e-9a7b-0d1e2f3a4b5c"
#define SUBNQN "nqn.2024-01.io.stas:boot"

static char tmpdir[] = "/tmp/test-nbft.XXXXXX";

static struct nb_table sample(void)
{
	struct nb_table d = {
		.host_nqn = HOSTNQN,
		.host_id = { 0x6a, 0x2e, 0x5b, 0x3c, 0x1f, 0x4d, 0x4c, 0x8e, 0x9a, 0x7b, 0x0d, 0x1e,
			     0x2f, 0x3a, 0x4b, 0x5c },
		.n_hfi = 2,
		.hfi = { { .ip = "192.168.7.10",
			   .prefix = 24,
			   .gateway = "192.168.7.1",
			   .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 } },
			 { .ip = "fd00::10", .prefix = 64 } },
		.n_dc = 2,
		.dc = { { .uri = "nvme+tcp://192.168.7.2:8009/",
			  .nqn = "nqn.2014-08.org.nvmexpress.discovery",
			  .hfi = 1 },
			{ .uri = "nvme+tcp://[fd00::2]/",
			  .nqn = "nqn.2024-01.io.stas:cdc",
			  .hfi = 2 } },
		.n_ssns = 2,
		.ssns = { { .traddr = "192.168.7.2",
			    .trsvcid = "4420",
			    .nqn = SUBNQN,
			    .hfi = 1,
			    .dc = 1,
			    .nsid = 1 },
			  { .traddr = "fd00::3",
			    .trsvcid = "4421",
			    .nqn = SUBNQN,
			    .hfi = 2,
			    .nsid = 7 } },
	};
	return d;
}

static struct nbft *parse(const uint8_t *b, size_t n, int *ret_r, const char **why)
{
	struct nbft *t = NULL;

	*why = NULL;
	*ret_r = nbft_parse(b, n, &t, why);
	return t;
}

/* The checksum again after a change (over the header's length, at most @n). */
static void resum_n(uint8_t *b, size_t n)
{
	uint32_t len = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 |
		       (uint32_t)b[7] << 24;
	nb_checksum(b, MIN((size_t)len, n));
}
#define resum(b) resum_n(b, n)

static void test_fields(void)
{
	struct nb_table d = sample();
	const char *why;
	size_t n;
	int r;
	_cleanup_free_ uint8_t *b = nb_build(&d, &n);
	struct nbft *t = parse(b, n, &r, &why);

	is_int(r, 0, "sample table parses");
	if (!t)
		return;
	is_str(t->parser, "stas", "own parser");
	is_str(t->host_nqn, HOSTNQN, "host NQN");
	is_str(t->host_id, "6a2e5b3c-1f4d-4c8e-9a7b-0d1e2f3a4b5c", "host ID as a UUID");
	ok(t->host_id_configured && t->host_nqn_configured, "configured flags");
	is_int((int)t->n_hfis, 2, "two HFIs");
	is_str(t->hfis[0].ipaddr, "192.168.7.10", "HFI 1 IPv4 from a mapped address");
	is_int((int)t->hfis[0].prefix, 24, "HFI 1 prefix");
	is_str(t->hfis[0].gateway, "192.168.7.1", "HFI 1 gateway");
	ok(t->hfis[0].mac[0] == 0x52 && t->hfis[0].mac[5] == 0x56, "HFI 1 MAC");
	is_str(t->hfis[1].ipaddr, "fd00::10", "HFI 2 IPv6");
	is_str(t->hfis[1].gateway, "", "HFI 2 no gateway");
	is_int((int)t->n_dcs, 2, "two DCs");
	is_str(t->dcs[0].tid.traddr, "192.168.7.2", "DC 1 traddr");
	is_str(t->dcs[0].tid.trsvcid, "8009", "DC 1 port");
	is_str(t->dcs[0].tid.host_traddr, "192.168.7.10", "DC 1 host-traddr from its HFI");
	is_str(t->dcs[0].tid.host_nqn, HOSTNQN, "DC 1 host NQN");
	is_str(t->dcs[1].tid.traddr, "fd00::2", "DC 2 bracketed IPv6");
	is_str(t->dcs[1].tid.trsvcid, "8009", "DC 2 default port");
	is_str(t->dcs[1].tid.subsysnqn, "nqn.2024-01.io.stas:cdc", "DC 2 NQN");
	is_int((int)t->n_subsys, 2, "two subsystems");
	is_str(t->subsys[0].tid.transport, "tcp", "SSNS 1 tcp");
	is_str(t->subsys[0].tid.traddr, "192.168.7.2", "SSNS 1 traddr");
	is_str(t->subsys[0].tid.trsvcid, "4420", "SSNS 1 trsvcid");
	is_str(t->subsys[0].tid.subsysnqn, SUBNQN, "SSNS 1 NQN");
	is_str(t->subsys[0].tid.host_traddr, "192.168.7.10", "SSNS 1 host-traddr");
	is_str(t->subsys[0].tid.host_nqn, HOSTNQN, "SSNS 1 host NQN");
	is_int((int)t->subsys[0].dc_index, 1, "SSNS 1 found through DC 1");
	is_int((int)t->subsys[1].nsid, 7, "SSNS 2 NSID");
	is_str(t->subsys[1].tid.host_traddr, "fd00::10", "SSNS 2 through HFI 2");
	is_int((int)strv_length(t->problems), 0, "no problems");
	nbft_free(t);
}

/* Structural damage: the whole table is refused, with a reason. */
static void test_refused(void)
{
	struct nb_table d = sample();
	const char *why;
	size_t n;
	int r;
	_cleanup_free_ uint8_t *b = nb_build(&d, &n);
	_cleanup_free_ uint8_t *x = malloc(n);
	struct nbft *t;

	memcpy(x, b, n);
	x[9] ^= 1;
	t = parse(x, n, &r, &why);
	ok(!t && r == -EBADMSG && why && strstr(why, "checksum"), "bad checksum refused: %s",
	   strempty(why));

	memcpy(x, b, n);
	x[8] = 2;
	resum(x);
	t = parse(x, n, &r, &why);
	ok(!t && r == -EPROTONOSUPPORT && why && strstr(why, "revision"),
	   "major revision 2 refused: %s", strempty(why));

	memcpy(x, b, n);
	x[50] = 3; /* minor revisions are backwards compatible */
	resum(x);
	t = parse(x, n, &r, &why);
	ok(t && r == 0, "minor revision 3 accepted");
	nbft_free(t);

	memcpy(x, b, n);
	x[0] = 'X';
	resum(x);
	t = parse(x, n, &r, &why);
	ok(!t && r == -EBADMSG && why && strstr(why, "signature"), "signature checked");

	t = parse(b, n - 1, &r, &why);
	ok(!t && r == -EBADMSG && why && strstr(why, "length"), "truncated table refused: %s",
	   strempty(why));

	memcpy(x, b, n);
	nb_le32(x + 40, 0xfffffff0); /* heap length */
	resum(x);
	t = parse(x, n, &r, &why);
	ok(!t && r == -EBADMSG && why && strstr(why, "heap"), "heap outside the table refused");

	memcpy(x, b, n);
	nb_le32(x + 64 + 24, (uint32_t)n - 8); /* SSNS list offset */
	resum(x);
	t = parse(x, n, &r, &why);
	ok(!t && r == -EBADMSG && why && strstr(why, "list"), "SSNS list outside refused: %s",
	   strempty(why));

	memcpy(x, b, n);
	x[64 + 22] = 2; /* HFI descriptor version */
	resum(x);
	t = parse(x, n, &r, &why);
	ok(!t && r == -EPROTONOSUPPORT, "unknown descriptor version refused");

	memcpy(x, b, n);
	nb_le32(x + 64 + 8, (uint32_t)n - 4); /* host descriptor */
	resum(x);
	t = parse(x, n, &r, &why);
	ok(!t && r == -EBADMSG && why && strstr(why, "host"), "host descriptor outside refused");

	memcpy(x, b, n);
	x[64 + 6] = 0; /* control not valid: an empty view */
	resum(x);
	t = parse(x, n, &r, &why);
	ok(t && r == 0 && isempty(t->host_nqn) && t->n_subsys == 0, "invalid control: nothing");
	nbft_free(t);
}

/* One bad descriptor is left out and named; the rest is used. */
static void test_problems(void)
{
	struct nb_table d = sample();
	const char *why;
	size_t n;
	int r;
	_cleanup_free_ uint8_t *b = NULL;
	struct nbft *t;
	size_t ssns_off = 128 + 32 + 32 * 2;

	d.dc[1].uri = "http://192.168.7.2/";
	b = nb_build(&d, &n);
	b[ssns_off + 128 + 5] = 1; /* SSNS 2: rdma, not in NBFT 1.0 */
	nb_le32(b + ssns_off + 10, (uint32_t)n + 100); /* SSNS 1 traddr outside the heap */
	resum(b);
	t = parse(b, n, &r, &why);
	ok(t && r == 0, "table with bad descriptors still parses");
	if (!t)
		return;
	is_int((int)t->n_dcs, 1, "bad URI left out");
	is_int((int)t->n_subsys, 0, "both bad SSNS left out");
	is_int((int)strv_length(t->problems), 3, "three problems named");
	STRV_FOREACH(p, t->problems)
		diag("problem: %s", *p);
	nbft_free(t);
}

static void test_uri(void)
{
	static const struct {
		const char *uri, *traddr, *trsvcid;
	} v[] = {
		{ "nvme+tcp://10.0.0.1:4420/", "10.0.0.1", "4420" },
		{ "nvme+tcp://10.0.0.1", "10.0.0.1", "8009" },
		{ "nvme+tcp://[fe80::1]:8009/x", "fe80::1", "8009" },
		{ "nvme+tcp://host.example:8009/", NULL, NULL },
		{ "nvme+rdma://10.0.0.1/", NULL, NULL },
		{ "nvme+tcp://10.0.0.1:/", NULL, NULL },
		{ "nvme+tcp://[fe80::1/", NULL, NULL },
		{ "nvme+tcp://10.0.0.1:99999/", NULL, NULL },
	};

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct tid t = {};
		int r = nbft_uri_parse(v[i].uri, &t);

		if (v[i].traddr)
			ok(r == 0 && streq(t.traddr, v[i].traddr) && streq(t.trsvcid, v[i].trsvcid),
			   "uri %s", v[i].uri);
		else
			ok(r == -EINVAL, "uri %s refused", v[i].uri);
	}
}

/* Every truncation and every single-byte change: no crash, results sane. */
static void test_mutations(void)
{
	struct nb_table d = sample();
	size_t n, accepted = 0;
	_cleanup_free_ uint8_t *b = nb_build(&d, &n);
	_cleanup_free_ uint8_t *x = malloc(n);
	bool sane = true;

	for (size_t cut = 0; cut < n; cut++) {
		struct nbft *t = NULL;
		/* a fresh allocation of exactly @cut bytes: ASan sees any overread */
		uint8_t *y = malloc(cut ? cut : 1);

		memcpy(y, b, cut);
		if (nbft_parse(y, cut, &t, NULL) == 0)
			sane = false;
		free(y);
	}
	ok(sane, "every truncation refused");
	for (size_t i = 0; i < n; i++)
		for (unsigned v = 0; v < 256; v += 51) {
			struct nbft *t = NULL;

			memcpy(x, b, n);
			x[i] = (uint8_t)v;
			if (i != 9)
				resum(x);
			if (nbft_parse(x, n, &t, NULL) == 0) {
				accepted++;
				for (size_t k = 0; k < t->n_subsys; k++)
					sane = sane && !isempty(t->subsys[k].tid.traddr) &&
					       !isempty(t->subsys[k].tid.subsysnqn);
				nbft_free(t);
			}
		}
	ok(sane, "byte changes: every accepted path complete (%zu accepted)", accepted);
}

static char *write_table(const char *name, const uint8_t *b, size_t n)
{
	char *p;

	if (asprintf(&p, "%s/firmware/acpi/tables/%s", tmpdir, name) < 0 ||
	    write_file_atomic(p, b, n, 0644) < 0)
		abort();
	return p;
}

static void test_load_all(void)
{
	struct nb_table d = sample();
	_cleanup_free_ char *dir = NULL, *p1 = NULL, *p2 = NULL, *p3 = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	size_t n;
	_cleanup_free_ uint8_t *b = nb_build(&d, &n);
	struct nbft **v = NULL;
	struct tid q = {};
	int r;

	if (asprintf(&dir, "%s/firmware/acpi/tables", tmpdir) < 0 || mkdir_p(dir, 0755) < 0)
		abort();
	setenv("STAS_SYSFS_ROOT", tmpdir, 1);
	r = nbft_load_all(&v, &errors);
	ok(r == 0 && v && !v[0], "no tables: 0");
	nbft_list_free(v);

	p1 = write_table("NBFT", b, n);
	b[n / 2] ^= 0xff;
	p2 = write_table("NBFT1", b, n);
	b[n / 2] ^= 0xff;
	d.ssns[0].nqn = "nqn.2024-01.io.stas:second";
	free(b);
	b = nb_build(&d, &n);
	p3 = write_table("NBFT2", b, n);
	r = nbft_load_all(&v, &errors);
	is_int(r, 2, "two good tables of three");
	is_int((int)strv_length(errors), 1, "one error");
	ok(errors && strstr(errors[0], "NBFT1") && strstr(errors[0], "checksum"),
	   "error names the file and the reason: %s", errors ? errors[0] : "");
	ok(v && v[0] && streq(v[0]->path, p1) && v[1] && streq(v[1]->path, p3), "name order");

	(void)strscpy_checked(q.transport, sizeof(q.transport), "tcp");
	(void)strscpy_checked(q.traddr, sizeof(q.traddr), "192.168.7.2");
	(void)strscpy_checked(q.trsvcid, sizeof(q.trsvcid), "4420");
	(void)strscpy_checked(q.subsysnqn, sizeof(q.subsysnqn), "nqn.2024-01.io.stas:second");
	ok(nbft_claims(v, &q), "a path of the second table is claimed");
	(void)strscpy_checked(q.trsvcid, sizeof(q.trsvcid), "4421");
	ok(!nbft_claims(v, &q), "another port is not");
	ok(!nbft_claims(NULL, &q), "no tables claim nothing");
	nbft_list_free(v);
	unsetenv("STAS_SYSFS_ROOT");
}

static void test_libnvme(void)
{
	struct nb_table d = sample();
	_cleanup_free_ char *p = NULL;
	size_t n;
	_cleanup_free_ uint8_t *b = nb_build(&d, &n);
	struct nbft *a = NULL, *l = NULL;
	int r;

	p = write_table("NBFT-cmp", b, n);
	r = nbft_parse_libnvme(p, &l);
	if (r == -EOPNOTSUPP) {
		ok(1, "# SKIP libnvme has no NBFT support (< 1.5): own parser only");
		return;
	}
	is_int(r, 0, "libnvme parses the table");
	is_int(nbft_parse(b, n, &a, NULL), 0, "own parser too");
	if (!a || !l)
		return;
	ok(streq(a->host_nqn, l->host_nqn) && streq(a->host_id, l->host_id), "same host");
	ok(a->n_hfis == l->n_hfis && a->n_dcs == l->n_dcs && a->n_subsys == l->n_subsys,
	   "same counts");
	for (size_t i = 0; i < a->n_hfis && i < l->n_hfis; i++)
		ok(a->hfis[i].index == l->hfis[i].index &&
			   streq(a->hfis[i].ipaddr, l->hfis[i].ipaddr) &&
			   streq(a->hfis[i].gateway, l->hfis[i].gateway) &&
			   a->hfis[i].prefix == l->hfis[i].prefix &&
			   memcmp(a->hfis[i].mac, l->hfis[i].mac, 6) == 0,
		   "HFI %zu the same", i);
	for (size_t i = 0; i < a->n_dcs && i < l->n_dcs; i++)
		ok(tid_equal(&a->dcs[i].tid, &l->dcs[i].tid) &&
			   streq(a->dcs[i].uri, l->dcs[i].uri) &&
			   a->dcs[i].hfi_index == l->dcs[i].hfi_index,
		   "DC %zu the same", i);
	for (size_t i = 0; i < a->n_subsys && i < l->n_subsys; i++)
		ok(tid_equal(&a->subsys[i].tid, &l->subsys[i].tid) &&
			   a->subsys[i].nsid == l->subsys[i].nsid &&
			   a->subsys[i].dc_index == l->subsys[i].dc_index &&
			   a->subsys[i].hfi_index == l->subsys[i].hfi_index,
		   "SSNS %zu the same", i);
	nbft_free(a);
	nbft_free(l);
}

/* A minor revision libnvme refuses is still read (by stas's parser). */
static void test_read_minor(void)
{
	struct nb_table d = sample();
	_cleanup_free_ char *p = NULL;
	size_t n;
	_cleanup_free_ uint8_t *b = NULL;
	struct nbft *t = NULL;
	int r;

	d.minor = 1;
	b = nb_build(&d, &n);
	p = write_table("NBFT-minor", b, n);
	r = nbft_read_file(p, &t, NULL);
	ok(r == 0 && t && t->n_subsys == 2, "minor revision 1 read from a file");
	if (t)
		ok(streq(t->parser, "stas") &&
			   (nbft_parse_libnvme(p, &(struct nbft *){ NULL }) == -EOPNOTSUPP ||
			    strv_length(t->problems) == 1),
		   "by stas's parser (libnvme's refusal noted where libnvme reads NBFT)");
	nbft_free(t);
}

static int rm_rf(void)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		abort();
	test_fields();
	test_refused();
	test_problems();
	test_uri();
	test_mutations();
	test_load_all();
	test_libnvme();
	test_read_minor();
	(void)rm_rf();
	return tap_done();
}
