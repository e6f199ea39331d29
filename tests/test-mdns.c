/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stas-mdns-watch's rules, table by table: TXT parsing and filtering,
 * address normalisation, service -> DC with the interface and family
 * rules, exclusion by interface, the persistence clock, the probe backoff.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"
#include "macro.h"
#include "../helpers/stas-mdns-watch/mdns-rules.h"
#include "tap.h"

#define USEC UINT64_C(1000000)

/* Build TXT RDATA from up to 6 strings (NULL-terminated). */
static size_t txt_wire(uint8_t *buf, const char *const *strs)
{
	size_t n = 0;

	for (; *strs; strs++) {
		size_t l = strlen(*strs);
		buf[n++] = (uint8_t)l;
		memcpy(buf + n, *strs, l);
		n += l;
	}
	return n;
}

static void test_txt(void)
{
	static char long_nqn[300];
	static const struct {
		const char *name;
		const char *strs[6];
		int ret;
		const char *transport, *nqn;
	} cases[] = {
		{ "tcp", { "p=tcp", NULL }, 0, "tcp", "" },
		{ "TCP upper case", { "P=TCP", NULL }, 0, "tcp", "" },
		{ "blanks around the value", { "p= tcp ", NULL }, 0, "tcp", "" },
		{ "roce -> rdma", { "p=roce", NULL }, 0, "rdma", "" },
		{ "iwarp -> rdma", { "p=iwarp", NULL }, 0, "rdma", "" },
		{ "rdma -> rdma", { "p=RDMA", NULL }, 0, "rdma", "" },
		{ "nqn given",
		  { "p=tcp", "nqn=nqn.2014-08.com.example:dc1", NULL },
		  0,
		  "tcp",
		  "nqn.2014-08.com.example:dc1" },
		{ "NQN key in upper case",
		  { "NQN=nqn.2014-08.com.example:dc1", "p=tcp", NULL },
		  0,
		  "tcp",
		  "nqn.2014-08.com.example:dc1" },
		{ "unknown keys and a bare key",
		  { "vendor=acme", "p=tcp", "flag", NULL },
		  0,
		  "tcp",
		  "" },
		{ "UTF-8 value", { "p=tcp", "site=K\xc3\xb6ln", NULL }, 0, "tcp", "" },
		{ "missing p=", { "nqn=nqn.2014-08.com.example:dc1", NULL }, -ENOENT },
		{ "empty TXT", { NULL }, -ENOENT },
		{ "unknown p=", { "p=fc", NULL }, -EPROTONOSUPPORT },
		{ "empty p=", { "p=", NULL }, -EPROTONOSUPPORT },
		{ "long p=", { "p=tcptcptcptcptcptcptcp", NULL }, -EPROTONOSUPPORT },
		{ "bare p", { "p", NULL }, -EBADMSG },
		{ "duplicated p", { "p=tcp", "p=tcp", NULL }, -EBADMSG },
		{ "duplicated key, other case",
		  { "p=tcp", "Nqn=nqn.2014-08.a:b", "nqn=nqn.2014-08.a:b", NULL },
		  -EBADMSG },
		{ "duplicated unknown key", { "p=tcp", "x=1", "X=2", NULL }, -EBADMSG },
		{ "non-UTF-8", { "p=tcp", "vendor=\xff\xfe", NULL }, -EBADMSG },
		{ "overlong UTF-8", { "p=tcp", "v=\xc0\xaf", NULL }, -EBADMSG },
		{ "surrogate", { "p=tcp", "v=\xed\xa0\x80", NULL }, -EBADMSG },
		{ "control character", { "p=tcp", "v=a\tb", NULL }, -EBADMSG },
		{ "empty key", { "=tcp", "p=tcp", NULL }, -EBADMSG },
		{ "invalid nqn", { "p=tcp", "nqn=not-an-nqn", NULL }, -EBADMSG },
		{ "nqn with a space", { "p=tcp", "nqn=nqn.2014-08.a:b c", NULL }, -EBADMSG },
		{ "oversized nqn", { "p=tcp", long_nqn, NULL }, -E2BIG },
	};
	uint8_t wire[2048];

	memset(long_nqn, 'x', 255);
	memcpy(long_nqn, "nqn=nqn.2014-08.com.example:", 28);
	long_nqn[255] = '\0';

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct mdns_txt t = { .transport = "unset" };
		char why[MDNS_WHY_MAX] = "";
		size_t n = txt_wire(wire, cases[i].strs);
		int r = mdns_txt_parse(wire, n, &t, why);

		is_int(r, cases[i].ret, "txt: %s (%s)", cases[i].name, why);
		if (cases[i].ret == 0) {
			is_str(t.transport, cases[i].transport, "txt: %s: transport",
			       cases[i].name);
			is_str(t.nqn, cases[i].nqn, "txt: %s: nqn", cases[i].name);
		} else {
			is_str(t.transport, "unset", "txt: %s: untouched on failure",
			       cases[i].name);
			ok(why[0] != '\0', "txt: %s: says why", cases[i].name);
		}
	}

	/* Wire-level damage. */
	{
		struct mdns_txt t;
		char why[MDNS_WHY_MAX];
		const uint8_t trunc[] = { 5, 'p', '=', 't', 'c', 'p', 9, 'a' };
		const uint8_t empty[] = { 0 };
		uint8_t big[MDNS_TXT_MAX + 1];

		is_int(mdns_txt_parse(trunc, sizeof(trunc), &t, why), -EBADMSG,
		       "txt: a string running past the end");
		is_int(mdns_txt_parse(empty, sizeof(empty), &t, why), -ENOENT,
		       "txt: a lone empty string is an empty record");
		is_int(mdns_txt_parse(NULL, 0, &t, why), -ENOENT, "txt: no bytes at all");
		memset(big, 0, sizeof(big));
		is_int(mdns_txt_parse(big, sizeof(big), &t, why), -E2BIG, "txt: more than %d bytes",
		       MDNS_TXT_MAX);
		is_int(mdns_txt_parse(trunc, 6, &t, NULL), 0, "txt: why may be NULL");
	}
}

static void test_address(void)
{
	static const struct {
		const char *in, *ifname;
		int ret;
		const char *out;
	} cases[] = {
		{ "192.168.1.10", "eth0", AF_INET, "192.168.1.10" },
		{ "::ffff:192.168.1.10", "eth0", AF_INET, "192.168.1.10" },
		{ "::FFFF:10.0.0.1", "eth0", AF_INET, "10.0.0.1" },
		{ "2001:DB8:0:0::5", "eth0", AF_INET6, "2001:db8::5" },
		{ "fe80::1", "eth0", AF_INET6, "fe80::1%eth0" },
		{ "FE80:0::a:b", "ens3f0", AF_INET6, "fe80::a:b%ens3f0" },
		{ "fe80::1", "", -EINVAL },
		{ "0.0.0.0", "eth0", -EINVAL },
		{ "::", "eth0", -EINVAL },
		{ "::ffff:0.0.0.0", "eth0", -EINVAL },
		{ "224.0.0.251", "eth0", -EINVAL },
		{ "ff02::fb", "eth0", -EINVAL },
		{ "255.255.255.255", "eth0", -EINVAL },
		{ "192.168.1", "eth0", -EINVAL },
		{ "fe80::1%eth0", "eth0", -EINVAL }, /* avahi never gives a scope */
		{ "host.example", "eth0", -EINVAL },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char out[TID_TRADDR_MAX + 1] = "unset";
		int r = mdns_address_normalize(cases[i].in, cases[i].ifname, out);

		is_int(r, cases[i].ret, "address %s on '%s'", cases[i].in, cases[i].ifname);
		const char *want = cases[i].ret > 0 ? strempty(cases[i].out) : "unset";

		is_str(out, want, "address %s -> %s", cases[i].in, want);
	}
}

static void test_dc(void)
{
	static const struct {
		const char *name;
		const char *transport, *nqn;
		const char *ifname, *addr;
		uint16_t port;
		unsigned family;
		bool ignore_iface, unique;
		int ret;
		const char *traddr, *subsysnqn, *host_iface;
	} cases[] = {
		{ "tcp on eth0", "tcp", "", "eth0", "192.168.1.10", 8009, CONFIG_IP_FAMILY_BOTH,
		  false, true, 0, "192.168.1.10", NVME_DISC_SUBSYS_NQN, "eth0" },
		{ "unique NQN with kernel support", "tcp", "nqn.2014-08.com.example:dc1", "eth0",
		  "192.168.1.10", 8009, CONFIG_IP_FAMILY_BOTH, false, true, 0, "192.168.1.10",
		  "nqn.2014-08.com.example:dc1", "eth0" },
		{ "unique NQN without kernel support", "tcp", "nqn.2014-08.com.example:dc1", "eth0",
		  "192.168.1.10", 8009, CONFIG_IP_FAMILY_BOTH, false, false, 0, "192.168.1.10",
		  NVME_DISC_SUBSYS_NQN, "eth0" },
		{ "ignore-iface", "tcp", "", "eth0", "192.168.1.10", 8009, CONFIG_IP_FAMILY_BOTH,
		  true, true, 0, "192.168.1.10", NVME_DISC_SUBSYS_NQN, "" },
		{ "rdma has no host-iface", "rdma", "", "ib0", "10.1.1.1", 4420,
		  CONFIG_IP_FAMILY_BOTH, false, true, 0, "10.1.1.1", NVME_DISC_SUBSYS_NQN, "" },
		{ "link-local keeps its scope", "tcp", "", "eth1", "fe80::2", 8009,
		  CONFIG_IP_FAMILY_BOTH, false, true, 0, "fe80::2%eth1", NVME_DISC_SUBSYS_NQN,
		  "eth1" },
		{ "IPv4-mapped under ipv4 only", "tcp", "", "eth0", "::ffff:10.0.0.1", 8009,
		  CONFIG_IP_FAMILY_IPV4, false, true, 0, "10.0.0.1", NVME_DISC_SUBSYS_NQN, "eth0" },
		{ "IPv6 filtered by ipv4", "tcp", "", "eth0", "2001:db8::1", 8009,
		  CONFIG_IP_FAMILY_IPV4, false, true, -EAFNOSUPPORT },
		{ "IPv4 filtered by ipv6", "tcp", "", "eth0", "10.0.0.1", 8009,
		  CONFIG_IP_FAMILY_IPV6, false, true, -EAFNOSUPPORT },
		{ "port 0", "tcp", "", "eth0", "10.0.0.1", 0, CONFIG_IP_FAMILY_BOTH, false, true,
		  -EINVAL },
		{ "bad interface name", "tcp", "", "a/b", "10.0.0.1", 8009, CONFIG_IP_FAMILY_BOTH,
		  false, true, -EINVAL },
		{ "multicast address", "tcp", "", "eth0", "224.0.0.1", 8009, CONFIG_IP_FAMILY_BOTH,
		  false, true, -EINVAL },
	};
	const char *host_nqn =
		"nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct mdns_txt t = {};
		struct mdns_policy pol = {
			.ip_family = cases[i].family,
			.ignore_iface = cases[i].ignore_iface,
			.unique_nqn = cases[i].unique,
			.host_nqn = host_nqn,
		};
		struct tid dc = {}, again;
		char why[MDNS_WHY_MAX] = "";
		int r;

		strcpy(t.transport, cases[i].transport);
		strcpy(t.nqn, cases[i].nqn);
		r = mdns_dc_from_service(&t, cases[i].ifname, cases[i].addr, cases[i].port, &pol,
					 &dc, why);
		is_int(r, cases[i].ret, "dc: %s (%s)", cases[i].name, why);
		if (r < 0 || cases[i].ret < 0)
			continue;
		is_str(dc.transport, cases[i].transport, "dc: %s: transport", cases[i].name);
		is_str(dc.traddr, cases[i].traddr, "dc: %s: traddr", cases[i].name);
		ok(strtoul(dc.trsvcid, NULL, 10) == cases[i].port, "dc: %s: trsvcid %s",
		   cases[i].name, dc.trsvcid);
		is_str(dc.subsysnqn, cases[i].subsysnqn, "dc: %s: subsysnqn", cases[i].name);
		is_str(dc.host_iface, cases[i].host_iface, "dc: %s: host-iface", cases[i].name);
		is_str(dc.host_nqn, host_nqn, "dc: %s: host-nqn", cases[i].name);
		again = dc;
		ok(tid_canonicalize(&again) == 0 && tid_equal(&dc, &again), "dc: %s: canonical",
		   cases[i].name);
	}
}

static void test_exclude(void)
{
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	static const char conf[] = "discovery = {\n"
				   "  exclude = ( { host-iface = \"eth1\"; },\n"
				   "              { traddr = \"10.9.0.0/16\"; } );\n"
				   "};\n";
	static const struct {
		const char *transport, *traddr, *host_iface, *ifname;
		bool excluded;
	} cases[] = {
		{ "tcp", "192.168.1.10", "eth0", "eth0", false },
		{ "tcp", "192.168.1.10", "eth1", "eth1", true },
		{ "tcp", "192.168.1.10", "", "eth1", true }, /* ignore-iface: still excluded */
		{ "rdma", "192.168.1.10", "", "eth1", true },
		{ "rdma", "192.168.1.10", "", "eth0", false },
		{ "tcp", "10.9.3.4", "eth0", "eth0", true },
	};
	int r;

	r = config_load_string(conf, "test.conf", &cfg, &errors);
	is_int(r, 0, "exclude: config loads");
	if (r < 0) {
		STRV_FOREACH(e, errors)
			diag("%s", *e);
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct tid t = {};

		strcpy(t.transport, cases[i].transport);
		strcpy(t.traddr, cases[i].traddr);
		strcpy(t.trsvcid, "8009");
		strcpy(t.subsysnqn, NVME_DISC_SUBSYS_NQN);
		strcpy(t.host_iface, cases[i].host_iface);
		ok(tid_canonicalize(&t) == 0 &&
			   mdns_dc_is_excluded(cfg, &t, cases[i].ifname) == cases[i].excluded,
		   "exclude: %s %s host-iface '%s' seen on %s -> %s", cases[i].transport,
		   cases[i].traddr, cases[i].host_iface, cases[i].ifname,
		   cases[i].excluded ? "excluded" : "kept");
	}
}

static void test_expiry(void)
{
	static const struct {
		const char *name;
		enum cache_origin origin;
		bool advertised;
		uint64_t last;
		int64_t persistence;
		int ret;
		uint64_t at;
	} cases[] = {
		{ "advertised: never", CACHE_ORIGIN_MDNS, true, 1000 * USEC, 60, 0 },
		{ "gone: last + persistence", CACHE_ORIGIN_MDNS, false, 1000 * USEC, 60, 1,
		  1060 * USEC },
		{ "72 h default", CACHE_ORIGIN_MDNS, false, 5 * USEC, 72 * 3600, 1,
		  (5 + 72 * 3600) * USEC },
		{ "persistence 0: at once", CACHE_ORIGIN_MDNS, false, 7 * USEC, 0, 1, 7 * USEC },
		{ "persistence never", CACHE_ORIGIN_MDNS, false, 7 * USEC, -1, 0 },
		{ "configured DC: never", CACHE_ORIGIN_CONFIG, false, 7 * USEC, 60, 0 },
		{ "referral: never", CACHE_ORIGIN_REFERRAL, false, 7 * USEC, 60, 0 },
		{ "never seen advertised: due at once", CACHE_ORIGIN_MDNS, false, 0, 60, 1,
		  60 * USEC },
		{ "saturates", CACHE_ORIGIN_MDNS, false, UINT64_MAX - 5, 60, 1, UINT64_MAX },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct cache_dc dc = {
			.origin = cases[i].origin,
			.mdns_advertised = cases[i].advertised,
			.mdns_last_advertised_usec = cases[i].last,
		};
		uint64_t at = 42;
		int r = mdns_dc_expiry(&dc, cases[i].persistence, &at);

		is_int(r, cases[i].ret, "expiry: %s", cases[i].name);
		ok(at == (r > 0 ? cases[i].at : 42), "expiry: %s: %llu", cases[i].name,
		   (unsigned long long)at);
	}
}

static void test_backoff(void)
{
	static const struct {
		unsigned attempt;
		uint64_t usec;
	} cases[] = {
		{ 0, 2 * USEC },    { 1, 2 * USEC },	{ 2, 4 * USEC },
		{ 3, 8 * USEC },    { 6, 64 * USEC },	{ 9, 512 * USEC },
		{ 10, 600 * USEC }, { 11, 600 * USEC }, { 1000000, 600 * USEC },
	};
	uint64_t prev = 0;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t d = mdns_backoff_usec(cases[i].attempt);

		ok(d == cases[i].usec, "backoff after attempt %u: %llu s", cases[i].attempt,
		   (unsigned long long)(d / USEC));
		ok(d >= prev, "backoff never shrinks (attempt %u)", cases[i].attempt);
		prev = d;
	}
}

int main(void)
{
	test_txt();
	test_address();
	test_dc();
	test_exclude();
	test_expiry();
	test_backoff();
	return tap_done();
}
