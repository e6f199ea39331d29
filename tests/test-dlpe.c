/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Discovery Log Page entry validator against hostile input: fields
 * without NUL terminators, 255/256-byte fields, control characters,
 * addresses of the wrong family, unknown codes; and the page conversion
 * with the change computation through the cache.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvme/types.h>

#include "cache.h"
#include "dlpe.h"
#include "macro.h"
#include "tap.h"

static void raw_set(char *field, size_t size, const char *s)
{
	memset(field, 0, size);
	memcpy(field, s, MIN(strlen(s), size));
}

static void count_malformed(uint64_t index, const char *why, void *userdata)
{
	size_t *bad = userdata;

	(*bad)++;
	ok(why && *why, "malformed entry %llu reported with a reason (%s)",
	   (unsigned long long)index, why ? why : "");
}

static struct nvmf_disc_log_entry good_tcp(const char *nqn, const char *addr)
{
	struct nvmf_disc_log_entry e;

	memset(&e, 0, sizeof(e));
	e.trtype = NVMF_TRTYPE_TCP;
	e.adrfam = strchr(addr, ':') ? NVMF_ADDR_FAMILY_IP6 : NVMF_ADDR_FAMILY_IP4;
	e.subtype = NVME_NQN_NVME;
	e.portid = htole16(7);
	e.cntlid = htole16(0xffff);
	e.asqsz = htole16(32);
	e.eflags = htole16(NVMF_DISC_EFLAGS_NCC);
	raw_set(e.trsvcid, sizeof(e.trsvcid), "4420");
	raw_set(e.subnqn, sizeof(e.subnqn), nqn);
	raw_set(e.traddr, sizeof(e.traddr), addr);
	return e;
}

static int conv(const struct nvmf_disc_log_entry *raw, struct dlpe *out, const char **why)
{
	*why = NULL;
	return dlpe_from_nvmf(raw, out, why);
}

static void test_valid(void)
{
	struct nvmf_disc_log_entry raw = good_tcp("nqn.2024-01.io.stas:a", "192.168.1.10");
	struct dlpe e, back;
	const char *why;

	is_int(conv(&raw, &e, &why), 0, "a valid tcp entry");
	is_str(e.transport, "tcp", "transport");
	is_str(e.traddr, "192.168.1.10", "traddr");
	is_str(e.trsvcid, "4420", "trsvcid");
	is_int(e.portid, 7, "portid little-endian");
	is_int(e.cntlid, 0xffff, "cntlid");
	is_int(e.asqsz, 32, "asqsz");
	ok(e.eflags & DLPE_EFLAG_NCC, "eflags NCC");

	dlpe_to_nvmf(&e, &raw);
	is_int(conv(&raw, &back, &why), 0, "round trip through the raw form");
	ok(dlpe_equal(&e, &back), "round trip is equal");

	raw = good_tcp("nqn.2024-01.io.stas:a", "FE80:0:0::0001");
	is_int(conv(&raw, &e, &why), 0, "IPv6 entry");
	is_str(e.traddr, "fe80::1", "IPv6 normalised");

	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	raw_set(raw.trsvcid, sizeof(raw.trsvcid), "04420   ");
	is_int(conv(&raw, &e, &why), 0, "trsvcid with leading zero and space padding");
	is_str(e.trsvcid, "4420", "trsvcid canonical");

	/* Space padding, as some targets send, instead of NULs. */
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	memset(raw.traddr, ' ', sizeof(raw.traddr));
	memcpy(raw.traddr, "10.0.0.2", 8);
	is_int(conv(&raw, &e, &why), 0, "space-padded traddr");
	is_str(e.traddr, "10.0.0.2", "padding stripped");

	raw = good_tcp(NVME_DISC_SUBSYS_NQN, "10.0.0.3");
	raw.subtype = NVME_NQN_DISC;
	raw_set(raw.trsvcid, sizeof(raw.trsvcid), "8009");
	is_int(conv(&raw, &e, &why), 0, "a referral entry");
	is_int(e.subtype, DLPE_SUBTYPE_REFERRAL, "subtype referral");

	raw = good_tcp("nqn.2024-01.io.stas:fc", "x");
	raw.trtype = NVMF_TRTYPE_FC;
	raw.adrfam = NVMF_ADDR_FAMILY_FC;
	raw_set(raw.traddr, sizeof(raw.traddr), "NN-0x10001100AB000001:PN-0x20001100AB000001");
	raw_set(raw.trsvcid, sizeof(raw.trsvcid), "");
	is_int(conv(&raw, &e, &why), 0, "an fc entry");
	is_str(e.traddr, "nn-0x10001100ab000001:pn-0x20001100ab000001",
	       "fc address in the kernel's form (lower case)");
	raw_set(raw.traddr, sizeof(raw.traddr), "nn-10001100ab000001:pn-20001100ab000001");
	is_int(conv(&raw, &e, &why), 0, "an fc entry without 0x");
	is_str(e.traddr, "nn-0x10001100ab000001:pn-0x20001100ab000001",
	       "... gets the kernel's 0x form");
	{
		static const char *const bad[] = {
			"nn-0x1000aa:pn-0x2000bb", /* short names */
			"nn-0x10001100ab000001", /* no port name */
			"pn-0x20001100ab000001:nn-0x10001100ab000001", /* swapped */
			"nn-0x10001100ab000001:pn-0x20001100ab00000g", /* not hex */
			"nn-0x10001100ab000001:pn-0x20001100ab0000011", /* 17 digits */
			"nn-0x10001100ab000001 pn-0x20001100ab000001", /* no colon */
			"192.168.1.10",
		};
		for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
			raw_set(raw.traddr, sizeof(raw.traddr), bad[i]);
			is_int(conv(&raw, &e, &why), -EINVAL, "fc entry with traddr '%s' refused",
			       bad[i]);
			ok(why && strstr(why, "not an FC address"), "... saying why (%s)",
			   why ? why : "-");
		}
	}
}

static void test_hostile(void)
{
	struct nvmf_disc_log_entry raw;
	struct dlpe e;
	const char *why = NULL;
	int r;
	char nqn[300];

	/* Every string field full, no NUL anywhere. */
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	memset(raw.subnqn, 'a', sizeof(raw.subnqn));
	memcpy(raw.subnqn, "nqn.", 4);
	r = conv(&raw, &e, &why);
	ok(r < 0 && why, "256-byte NQN without NUL refused (%s)", strempty(why));
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	memset(raw.traddr, '1', sizeof(raw.traddr));
	r = conv(&raw, &e, &why);
	ok(r < 0 && why, "256-byte traddr without NUL refused (%s)", strempty(why));
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	memset(raw.trsvcid, '4', sizeof(raw.trsvcid));
	r = conv(&raw, &e, &why);
	ok(r < 0, "32-byte trsvcid without NUL refused (%s)", strempty(why));

	/* 223 bytes is the longest valid NQN; 224 is one too many. */
	memset(nqn, 'x', sizeof(nqn));
	memcpy(nqn, "nqn.", 4);
	nqn[223] = '\0';
	raw = good_tcp(nqn, "10.0.0.1");
	is_int(conv(&raw, &e, &why), 0, "223-byte NQN accepted");
	nqn[223] = 'x';
	nqn[224] = '\0';
	raw = good_tcp(nqn, "10.0.0.1");
	r = conv(&raw, &e, &why);
	ok(r < 0, "224-byte NQN refused");
	nqn[255] = '\0';
	raw = good_tcp(nqn, "10.0.0.1");
	r = conv(&raw, &e, &why);
	ok(r < 0, "255-byte NQN refused");

	/* Control characters and bytes outside ASCII. */
	raw = good_tcp("nqn.2024-01.io.stas:a\nb", "10.0.0.1");
	r = conv(&raw, &e, &why);
	ok(r < 0, "newline in NQN refused");
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1\x1b[2J");
	r = conv(&raw, &e, &why);
	ok(r < 0, "escape sequence in traddr refused");
	raw = good_tcp("nqn.2024-01.io.stas:\xc3\xa9", "10.0.0.1");
	r = conv(&raw, &e, &why);
	ok(r < 0, "non-ASCII NQN refused");
	raw = good_tcp("nqn.2024-01.io.stas:a b", "10.0.0.1");
	r = conv(&raw, &e, &why);
	ok(r < 0, "space inside NQN refused");
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	raw.trsvcid[2] = '\t';
	r = conv(&raw, &e, &why);
	ok(r < 0, "tab in trsvcid refused");
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	raw.traddr[3] = '\0';
	raw.traddr[5] = 'x'; /* garbage after the NUL is ignored */
	is_int(conv(&raw, &e, &why), -EINVAL, "truncated address '10.' refused");

	/* Address family and address disagree. */
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	raw.adrfam = NVMF_ADDR_FAMILY_IP6;
	r = conv(&raw, &e, &why);
	ok(r < 0, "IPv4 address with adrfam ipv6 refused (%s)", strempty(why));
	raw = good_tcp("nqn.2024-01.io.stas:a", "fd00::1");
	raw.adrfam = NVMF_ADDR_FAMILY_IP4;
	r = conv(&raw, &e, &why);
	ok(r < 0, "IPv6 address with adrfam ipv4 refused");
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	raw.adrfam = NVMF_ADDR_FAMILY_FC;
	r = conv(&raw, &e, &why);
	ok(r < 0, "tcp with adrfam fc refused");
	raw = good_tcp("nqn.2024-01.io.stas:a", "storage.example");
	r = conv(&raw, &e, &why);
	ok(r < 0, "a host name is not an address");

	/* Addresses that name no host are dropped, distinctly. */
	raw = good_tcp("nqn.2024-01.io.stas:a", "0.0.0.0");
	is_int(conv(&raw, &e, &why), -EADDRNOTAVAIL, "0.0.0.0 dropped");
	raw = good_tcp("nqn.2024-01.io.stas:a", "::");
	is_int(conv(&raw, &e, &why), -EADDRNOTAVAIL, ":: dropped");
	raw = good_tcp("nqn.2024-01.io.stas:a", "");
	is_int(conv(&raw, &e, &why), -EADDRNOTAVAIL, "empty address dropped");

	/* Codes. */
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	raw.trtype = 77;
	r = conv(&raw, &e, &why);
	ok(r < 0, "unknown transport type refused");
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	raw.subtype = 0;
	r = conv(&raw, &e, &why);
	ok(r < 0, "subtype 0 refused");
	raw.subtype = 4;
	r = conv(&raw, &e, &why);
	ok(r < 0, "subtype 4 refused");
	raw = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	raw_set(raw.trsvcid, sizeof(raw.trsvcid), "");
	r = conv(&raw, &e, &why);
	ok(r < 0, "tcp without trsvcid refused");
	raw_set(raw.trsvcid, sizeof(raw.trsvcid), "65536");
	r = conv(&raw, &e, &why);
	ok(r < 0, "trsvcid 65536 refused");
	raw_set(raw.trsvcid, sizeof(raw.trsvcid), "http");
	r = conv(&raw, &e, &why);
	ok(r < 0, "non-numeric trsvcid refused");
	raw = good_tcp("not-an-nqn", "10.0.0.1");
	r = conv(&raw, &e, &why);
	ok(r < 0, "NQN without nqn. prefix refused");

	/* Whatever the input, a refusal never writes the output. */
	memset(&e, 0x5a, sizeof(e));
	raw = good_tcp("bad", "10.0.0.1");
	(void)conv(&raw, &e, &why);
	ok(((unsigned char *)&e)[0] == 0x5a && ((unsigned char *)&e)[sizeof(e) - 1] == 0x5a,
	   "output untouched on refusal");
}

/* A raw page of @n entries. */
static struct nvmf_discovery_log *page_new(uint64_t genctr, const struct nvmf_disc_log_entry *v,
					   size_t n)
{
	struct nvmf_discovery_log *log = calloc(1, sizeof(*log) + n * sizeof(*v));

	log->genctr = htole64(genctr);
	log->numrec = htole64(n);
	memcpy(log->entries, v, n * sizeof(*v));
	return log;
}

static void test_page_and_changes(void)
{
	struct nvmf_disc_log_entry v[5];
	_cleanup_free_ struct nvmf_discovery_log *log = NULL, *log2 = NULL;
	_cleanup_free_ struct dlpe *e = NULL, *e2 = NULL;
	struct cache_dlp_change ch = {};
	struct cache_dc dc = {}, got;
	struct cache *c = NULL;
	char dir[] = "/tmp/test-dlpe.XXXXXX";
	uint64_t genctr;
	size_t n, n2, bad = 0;

	v[0] = good_tcp("nqn.2024-01.io.stas:a", "10.0.0.1");
	v[1] = good_tcp("nqn.2024-01.io.stas:b", "10.0.0.1");
	v[2] = good_tcp("nqn.2024-01.io.stas:bad\x01", "10.0.0.1"); /* skipped */
	v[3] = good_tcp("nqn.2024-01.io.stas:c", "0.0.0.0"); /* dropped */
	v[4] = good_tcp(NVME_DISC_SUBSYS_NQN, "10.0.0.9");
	v[4].subtype = NVME_NQN_DISC;
	log = page_new(5, v, 5);
	is_int(dlpe_list_from_log(log, count_malformed, &bad, &e, &n, &genctr), 0,
	       "page converted");
	is_int(n, 3, "bad and addressless entries skipped, the rest kept");
	is_int(bad, 1, "the malformed entry counted, the addressless one not");
	is_int(genctr, 5, "genctr little-endian");

	log->numrec = htole64(1000000);
	is_int(dlpe_list_from_log(log, NULL, NULL, &e2, &n2, &genctr), -EBADMSG,
	       "absurd numrec refused");
	log->numrec = htole64(5);

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	is_int(cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &c), 0, "cache opened");
	strcpy(dc.tid.transport, "tcp");
	strcpy(dc.tid.traddr, "10.0.0.1");
	strcpy(dc.tid.trsvcid, "8009");
	strcpy(dc.tid.subsysnqn, NVME_DISC_SUBSYS_NQN);
	strcpy(dc.tid.host_nqn,
	       "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001");

	is_int(cache_dlp_put(c, &dc, e, n, genctr, &ch), 1, "first page stored");
	ok(ch.nqns_added && ch.nqns_added[0] && ch.nqns_added[1] && !ch.nqns_added[2],
	   "two NQNs added");
	is_int(ch.n_referrals_added, 1, "one referral added");
	cache_dlp_change_free(&ch);

	/* Issue 13, defect 2: a changed page's triggers survive a failed run. */
	ok(cache_dc_get(c, &dc.tid, &got) > 0 && got.triggers_pending,
	   "a changed page leaves its triggers pending, in the same transaction");

	is_int(cache_dlp_put(c, &dc, e, n, genctr, &ch), 0, "same page: nothing changed");
	ok(!ch.nqns_added && !ch.nqns_removed && !ch.nqns_changed, "no NQN reported");
	cache_dlp_change_free(&ch);
	ok(cache_dc_get(c, &dc.tid, &got) > 0 && got.triggers_pending,
	   "the unchanged page keeps the pending flag (the retry re-triggers)");
	is_int(cache_dc_triggers_done(c, &dc.tid, genctr + 1), 0,
	       "a run that stored another generation does not clear it");
	ok(cache_dc_get(c, &dc.tid, &got) > 0 && got.triggers_pending, "still pending");
	is_int(cache_dc_triggers_done(c, &dc.tid, genctr), 1, "all units started: cleared");
	ok(cache_dc_get(c, &dc.tid, &got) > 0 && !got.triggers_pending, "no longer pending");
	is_int(cache_dc_triggers_done(c, &dc.tid, genctr), 0, "clearing again: nothing to do");
	is_int(cache_dlp_put(c, &dc, e, n, genctr, &ch), 0, "same page again");
	cache_dlp_change_free(&ch);
	ok(cache_dc_get(c, &dc.tid, &got) > 0 && !got.triggers_pending,
	   "an unchanged page does not set it");
	is_int(cache_verify(c, NULL, NULL), 0, "the cache verifies clean with the flag");

	/* b changes port, a goes away, d appears, the referral goes. */
	v[0] = good_tcp("nqn.2024-01.io.stas:d", "10.0.0.1");
	v[1] = good_tcp("nqn.2024-01.io.stas:b", "10.0.0.1");
	v[1].portid = htole16(9);
	log2 = page_new(6, v, 2);
	is_int(dlpe_list_from_log(log2, NULL, NULL, &e2, &n2, &genctr), 0, "second page converted");
	is_int(cache_dlp_put(c, &dc, e2, n2, genctr, &ch), 1, "second page stored");
	ok(ch.nqns_added && streq(ch.nqns_added[0], "nqn.2024-01.io.stas:d") && !ch.nqns_added[1],
	   "d added");
	ok(ch.nqns_removed && streq(ch.nqns_removed[0], "nqn.2024-01.io.stas:a") &&
		   !ch.nqns_removed[1],
	   "a removed");
	ok(ch.nqns_changed && streq(ch.nqns_changed[0], "nqn.2024-01.io.stas:b") &&
		   !ch.nqns_changed[1],
	   "b changed");
	is_int(ch.n_referrals_removed, 1, "the referral removed");
	cache_dlp_change_free(&ch);
	cache_free(c);

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

static void test_tid_from_dlpe(void)
{
	static const char host[] =
		"nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001";
	struct dlpe e = { .subtype = DLPE_SUBTYPE_NVME };
	struct tid dc = {}, t, untouched;

	strcpy(dc.transport, "tcp");
	strcpy(dc.traddr, "10.0.0.1");
	strcpy(dc.trsvcid, "8009");
	strcpy(dc.host_iface, "eth0");
	strcpy(e.transport, "tcp");
	strcpy(e.traddr, "10.0.0.2");
	strcpy(e.subnqn, "nqn.2024-01.io.stas:a");

	is_int(tid_from_dlpe(&e, &dc, host, &t), 0, "I/O entry without trsvcid");
	is_str(t.trsvcid, "4420", "I/O default trsvcid");
	is_str(t.host_nqn, host, "host NQN filled from the configured one");
	is_str(t.host_iface, "eth0", "host side inherited from the DC");
	is_str(t.traddr, "10.0.0.2", "address kept");

	e.subtype = DLPE_SUBTYPE_REFERRAL;
	strcpy(dc.host_nqn, "nqn.2014-08.org.nvmexpress:uuid:dc-own");
	is_int(tid_from_dlpe(&e, &dc, host, &t), 0, "referral without trsvcid");
	is_str(t.trsvcid, "8009", "discovery default trsvcid");
	is_str(t.host_nqn, dc.host_nqn, "the DC's own host NQN wins");

	strcpy(e.traddr, "not an address");
	memset(&untouched, 0x5a, sizeof(untouched));
	t = untouched;
	is_int(tid_from_dlpe(&e, &dc, host, &t), -EINVAL, "invalid address refused");
	ok(memcmp(&t, &untouched, sizeof(t)) == 0, "output untouched on refusal");
}

/* libnvme 1.3's words (src/nvme/fabrics.c), value by value. */
static void test_vocabulary(void)
{
	is_str(dlpe_subtype_to_string(NVME_NQN_DISC), "discovery subsystem referral", "subtype 1");
	is_str(dlpe_subtype_to_string(NVME_NQN_NVME), "nvme subsystem", "subtype 2");
	is_str(dlpe_subtype_to_string(NVME_NQN_CURR), "current discovery subsystem", "subtype 3");
	is_str(dlpe_subtype_to_string(0), "unrecognized", "subtype 0");
	is_str(dlpe_subtype_to_string(4), "unrecognized", "subtype 4");
	is_str(dlpe_adrfam_to_string(NVMF_ADDR_FAMILY_PCI), "pci", "adrfam pci");
	is_str(dlpe_adrfam_to_string(NVMF_ADDR_FAMILY_IP4), "ipv4", "adrfam ipv4");
	is_str(dlpe_adrfam_to_string(NVMF_ADDR_FAMILY_IP6), "ipv6", "adrfam ipv6");
	is_str(dlpe_adrfam_to_string(NVMF_ADDR_FAMILY_IB), "infiniband", "adrfam ib");
	is_str(dlpe_adrfam_to_string(NVMF_ADDR_FAMILY_FC), "fibre-channel", "adrfam fc");
	is_str(dlpe_adrfam_to_string(NVMF_ADDR_FAMILY_LOOP), "unrecognized",
	       "adrfam loop: libnvme 1.3 has no word");
	is_str(dlpe_trtype_to_string(NVMF_TRTYPE_TCP), "tcp", "trtype tcp");
	is_str(dlpe_trtype_to_string(NVMF_TRTYPE_LOOP), "loop", "trtype loop");
	is_str(dlpe_trtype_to_string(0), "unrecognized", "trtype 0");
	is_str(dlpe_treq_to_string(NVMF_TREQ_NOT_SPECIFIED), "not specified", "treq 0");
	is_str(dlpe_treq_to_string(NVMF_TREQ_REQUIRED), "required", "treq 1");
	is_str(dlpe_treq_to_string(NVMF_TREQ_NOT_REQUIRED), "not required", "treq 2");
	is_str(dlpe_treq_to_string(3), "unrecognized", "treq 3");
	is_str(dlpe_treq_to_string(NVMF_TREQ_DISABLE_SQFLOW),
	       "not specified, sq flow control disable supported", "treq 4");
	is_str(dlpe_treq_to_string(5), "unrecognized", "treq 5, as libnvme");

	is_int(dlpe_subtype_from_string("nvme subsystem"), NVME_NQN_NVME, "subtype back");
	is_int(dlpe_adrfam_from_string("infiniband"), NVMF_ADDR_FAMILY_IB, "adrfam back");
	is_int(dlpe_trtype_from_string("rdma"), NVMF_TRTYPE_RDMA, "trtype back");
	is_int(dlpe_treq_from_string("not required"), NVMF_TREQ_NOT_REQUIRED, "treq back");
	is_int(dlpe_treq_from_string("unrecognized"), -EINVAL, "no value for unrecognized");
	is_int(dlpe_subtype_from_string(NULL), -EINVAL, "NULL refused");
}

/*
 * The header check that runs before a byte is allocated for the entries
 * (issue 13, defect 5b): libnvme 1.3 sized its buffer and commands from a
 * hostile numrec; stas reads the 1 KiB header first and refuses.
 */
static void test_header_check(void)
{
	struct nvmf_discovery_log hdr = {};
	uint64_t numrec = 7, genctr = 7;

	hdr.genctr = htole64(42);
	hdr.numrec = htole64(3);
	is_int(dlpe_log_header_check(&hdr, sizeof(hdr), &numrec, &genctr), 0, "a sane header");
	ok(numrec == 3 && genctr == 42, "numrec and genctr little-endian");
	hdr.numrec = htole64(DLP_ENTRIES_MAX);
	is_int(dlpe_log_header_check(&hdr, sizeof(hdr), &numrec, NULL), 0,
	       "numrec at the cap accepted");
	ok(numrec == DLP_ENTRIES_MAX, "the cap returned");

	numrec = 7;
	hdr.numrec = htole64(DLP_ENTRIES_MAX + 1);
	is_int(dlpe_log_header_check(&hdr, sizeof(hdr), &numrec, &genctr), -EBADMSG,
	       "numrec one past the cap refused");
	hdr.numrec = htole64(1048576);
	is_int(dlpe_log_header_check(&hdr, sizeof(hdr), &numrec, &genctr), -EBADMSG,
	       "1,048,576 entries (libnvme would ask for 1 GiB) refused");
	hdr.numrec = htole64(4194304);
	is_int(dlpe_log_header_check(&hdr, sizeof(hdr), &numrec, &genctr), -EBADMSG,
	       "4,194,304 entries (a 32-bit size wrap in libnvme) refused");
	hdr.numrec = htole64(UINT64_MAX);
	is_int(dlpe_log_header_check(&hdr, sizeof(hdr), &numrec, &genctr), -EBADMSG,
	       "2^64-1 entries refused");
	ok(numrec == 7 && genctr == 42, "outputs untouched on refusal");

	hdr.numrec = htole64(1);
	hdr.recfmt = htole16(1);
	is_int(dlpe_log_header_check(&hdr, sizeof(hdr), NULL, NULL), -EBADMSG,
	       "an unknown record format refused");
	hdr.recfmt = 0;
	is_int(dlpe_log_header_check(&hdr, 16, NULL, NULL), -EINVAL, "a short header refused");
}

int main(void)
{
	test_vocabulary();
	test_tid_from_dlpe();
	test_valid();
	test_hostile();
	test_header_check();
	test_page_and_changes();
	return tap_done();
}
