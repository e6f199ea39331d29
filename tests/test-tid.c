/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-tid.c - transport IDs: field validation, canonical form, the kernel's
 * sysfs address, config key=value syntaxes, filter matching, cache keys.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "tid.h"

#include "tap.h"

#define NQN_IO "nqn.2014-08.com.example:ioc1"
#define NQN_HOST "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
/* FC addresses in the kernel's form (target and host port). */
#define FC_T "nn-0x10001100ab000001:pn-0x20001100ab000001"
#define FC_H "nn-0x10001100aa000001:pn-0x20001100aa000001"

/*
 * Copy @src into a field of @size bytes; the inputs are this file's literals,
 * so a too-long one is a bug in the test. (Not strcpy: gcc 14 warns that the
 * copy into the memset-filled struct may overrun, -Werror=array-bounds.)
 */
static void set_field(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	assert(n < size);
	memcpy(dst, src, n + 1);
}

static struct tid mk(const char *transport, const char *traddr, const char *trsvcid,
		     const char *subsysnqn, const char *host_traddr, const char *host_iface,
		     const char *host_nqn)
{
	struct tid t;

	/* Garbage after each NUL: canonicalisation must not depend on it. */
	memset(&t, 'x', sizeof(t));
	set_field(t.transport, sizeof(t.transport), transport);
	set_field(t.traddr, sizeof(t.traddr), traddr);
	set_field(t.trsvcid, sizeof(t.trsvcid), trsvcid);
	set_field(t.subsysnqn, sizeof(t.subsysnqn), subsysnqn);
	set_field(t.host_traddr, sizeof(t.host_traddr), host_traddr);
	set_field(t.host_iface, sizeof(t.host_iface), host_iface);
	set_field(t.host_nqn, sizeof(t.host_nqn), host_nqn);
	return t;
}

static struct tid mk3(const char *transport, const char *traddr, const char *trsvcid)
{
	return mk(transport, traddr, trsvcid, NQN_IO, "", "", "");
}

/* Canonicalise @t, expecting failure; @t must come back byte for byte. */
static void canon_bad(struct tid t, const char *what)
{
	struct tid copy = t;
	int r = tid_canonicalize(&t);

	is_int(r, -EINVAL, "canonicalize rejects %s", what);
	ok(memcmp(&t, &copy, sizeof(t)) == 0, "  ... and leaves the TID unchanged (%s)", what);
}

static void canon_good(struct tid t, enum tid_field f, const char *want, const char *what)
{
	int r = tid_canonicalize(&t);

	is_int(r, 0, "canonicalize accepts %s", what);
	if (r == 0)
		is_str(tid_field_get(&t, f), want, "  ... %s -> \"%s\"", what, want);
	else
		ok(0, "  ... %s -> \"%s\"", what, want);
}

static void test_fields(void)
{
	static const char *names[] = { "transport",   "traddr",	    "trsvcid", "subsysnqn",
				       "host-traddr", "host-iface", "host-nqn" };
	struct tid t = {};

	for (int f = 0; f < _TID_FIELD_MAX; f++) {
		is_str(tid_field_to_string(f), names[f], "field name %d", f);
		is_int(tid_field_from_string(names[f]), f, "field from \"%s\"", names[f]);
	}
	ok(tid_field_to_string(_TID_FIELD_MAX) == NULL, "field name out of range is NULL");
	ok(tid_field_to_string((enum tid_field) - 1) == NULL, "negative field name is NULL");

	is_int(tid_field_from_string("nqn"), TID_FIELD_SUBSYSNQN, "alias nqn");
	is_int(tid_field_from_string("trtype"), TID_FIELD_TRANSPORT, "alias trtype");
	is_int(tid_field_from_string("host_traddr"), TID_FIELD_HOST_TRADDR, "alias host_traddr");
	is_int(tid_field_from_string("host_iface"), TID_FIELD_HOST_IFACE, "alias host_iface");
	is_int(tid_field_from_string("hostnqn"), TID_FIELD_HOST_NQN, "alias hostnqn");
	is_int(tid_field_from_string("host_nqn"), TID_FIELD_HOST_NQN, "alias host_nqn");
	is_int(tid_field_from_string("host-nqn"), TID_FIELD_HOST_NQN, "alias host-nqn");
	is_int(tid_field_from_string("bogus"), -EINVAL, "unknown field name");
	is_int(tid_field_from_string(""), -EINVAL, "empty field name");
	is_int(tid_field_from_string("Transport"), -EINVAL, "field names are case-sensitive");
	is_int(tid_field_from_string(NULL), -EINVAL, "NULL field name");

	is_int(tid_field_size(TID_FIELD_TRANSPORT), sizeof(t.transport), "size transport");
	is_int(tid_field_size(TID_FIELD_TRADDR), sizeof(t.traddr), "size traddr");
	is_int(tid_field_size(TID_FIELD_TRSVCID), sizeof(t.trsvcid), "size trsvcid");
	is_int(tid_field_size(TID_FIELD_SUBSYSNQN), sizeof(t.subsysnqn), "size subsysnqn");
	is_int(tid_field_size(TID_FIELD_HOST_TRADDR), sizeof(t.host_traddr), "size host_traddr");
	is_int(tid_field_size(TID_FIELD_HOST_IFACE), sizeof(t.host_iface), "size host_iface");
	is_int(tid_field_size(TID_FIELD_HOST_NQN), sizeof(t.host_nqn), "size host_nqn");
	ok(tid_field_ptr(&t, TID_FIELD_TRADDR) == t.traddr, "ptr traddr");
	ok(tid_field_ptr(&t, TID_FIELD_HOST_NQN) == t.host_nqn, "ptr host_nqn");
	ok(tid_field_get(&t, TID_FIELD_HOST_IFACE) == t.host_iface, "get host_iface");
}

static void test_nqn_transport_ifname(void)
{
	char buf[300];

	ok(nqn_is_valid(NQN_IO), "nqn valid");
	ok(nqn_is_valid(NVME_DISC_SUBSYS_NQN), "discovery nqn valid");
	ok(nqn_is_valid(NQN_HOST), "uuid host nqn valid");
	ok(nqn_is_valid("nqn.x=y"), "nqn with '=' valid");
	ok(!nqn_is_valid("nqn"), "bare \"nqn\" invalid");
	ok(!nqn_is_valid("NQN.2014-08.x"), "upper-case prefix invalid");
	ok(!nqn_is_valid("iqn.2014-08.x"), "iqn invalid");
	ok(!nqn_is_valid("nqn.2014 08.x"), "nqn with space invalid");
	ok(!nqn_is_valid("nqn.2014\t08.x"), "nqn with tab invalid");
	ok(!nqn_is_valid("nqn.\x7f"), "nqn with DEL invalid");
	ok(!nqn_is_valid("nqn.\xc3\xa9"), "nqn with UTF-8 invalid");
	ok(!nqn_is_valid(""), "empty nqn invalid");
	ok(!nqn_is_valid(NULL), "NULL nqn invalid");
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "nqn.", 4);
	buf[223] = '\0';
	ok(nqn_is_valid(buf), "223-byte nqn valid");
	buf[223] = 'a';
	buf[224] = '\0';
	ok(!nqn_is_valid(buf), "224-byte nqn invalid");

	ok(transport_is_valid("tcp"), "tcp");
	ok(transport_is_valid("rdma"), "rdma");
	ok(transport_is_valid("fc"), "fc");
	ok(transport_is_valid("loop"), "loop");
	ok(!transport_is_valid("TCP"), "TCP is not canonical");
	ok(!transport_is_valid("udp"), "udp invalid");
	ok(!transport_is_valid(""), "empty transport invalid");
	ok(!transport_is_valid("tcp "), "trailing space invalid");
	ok(!transport_is_valid(NULL), "NULL transport invalid");

	ok(ifname_is_valid("eth0"), "eth0");
	ok(ifname_is_valid("enp0s31f6.100"), "vlan interface");
	ok(ifname_is_valid("1"), "numeric name");
	ok(ifname_is_valid("abcdefghijklmno"), "15-char name");
	ok(!ifname_is_valid("abcdefghijklmnop"), "16-char name invalid");
	ok(!ifname_is_valid(""), "empty name invalid");
	ok(!ifname_is_valid("."), "\".\" invalid");
	ok(!ifname_is_valid(".."), "\"..\" invalid");
	ok(ifname_is_valid("..."), "\"...\" valid");
	ok(!ifname_is_valid("eth/0"), "'/' invalid");
	ok(!ifname_is_valid("eth 0"), "space invalid");
	ok(!ifname_is_valid("eth\n"), "newline invalid");
	ok(!ifname_is_valid("eth0:1"), "':' invalid (kernel dev_valid_name)");
	ok(!ifname_is_valid("eth%d"), "'%%' (template) invalid");
	ok(!ifname_is_valid(NULL), "NULL name invalid");
}

static void test_field_set(void)
{
	struct tid t = {};
	char big[400];

	is_int(tid_field_set(&t, TID_FIELD_TRANSPORT, "TCP"), 0, "set transport TCP");
	is_str(t.transport, "TCP", "  ... not canonicalised by set");
	is_int(tid_field_set(&t, TID_FIELD_TRANSPORT, "udp"), -EINVAL, "set transport udp");
	is_str(t.transport, "TCP", "  ... failed set leaves the field");
	is_int(tid_field_set(&t, TID_FIELD_TRANSPORT, "averylongname"), -ENAMETOOLONG,
	       "set transport too long");
	is_int(tid_field_set(&t, TID_FIELD_TRADDR, "192.168.1.2"), 0, "set traddr v4");
	is_int(tid_field_set(&t, TID_FIELD_TRADDR, "FE80::1%eth0"), 0, "set traddr v6 scoped");
	is_str(t.traddr, "FE80::1%eth0", "  ... kept as given");
	is_int(tid_field_set(&t, TID_FIELD_TRADDR, "host.example.com"), -EINVAL,
	       "set traddr hostname on tcp");
	is_int(tid_field_set(&t, TID_FIELD_TRADDR, "1.2.3.4%eth0"), -EINVAL,
	       "set traddr v4 with scope");
	is_int(tid_field_set(&t, TID_FIELD_TRSVCID, "04420"), 0, "set trsvcid 04420");
	is_int(tid_field_set(&t, TID_FIELD_TRSVCID, "65536"), -EINVAL, "set trsvcid 65536");
	is_int(tid_field_set(&t, TID_FIELD_TRSVCID, "http"), -EINVAL, "set trsvcid name");
	is_int(tid_field_set(&t, TID_FIELD_HOST_TRADDR, "10.0.0.1"), 0, "set host_traddr");
	is_int(tid_field_set(&t, TID_FIELD_HOST_TRADDR, "nn-0x1:pn-0x2"), -EINVAL,
	       "set host_traddr fc-style on tcp");
	is_int(tid_field_set(&t, TID_FIELD_HOST_IFACE, "eth0"), 0, "set host_iface");
	is_int(tid_field_set(&t, TID_FIELD_HOST_IFACE, "eth 0"), -EINVAL, "set host_iface space");
	is_int(tid_field_set(&t, TID_FIELD_HOST_IFACE, "abcdefghijklmnop"), -ENAMETOOLONG,
	       "set host_iface 16 chars");
	is_int(tid_field_set(&t, TID_FIELD_SUBSYSNQN, NQN_IO), 0, "set subsysnqn");
	is_int(tid_field_set(&t, TID_FIELD_SUBSYSNQN, "iqn.x"), -EINVAL, "set bad subsysnqn");
	is_int(tid_field_set(&t, TID_FIELD_HOST_NQN, NQN_HOST), 0, "set host_nqn");
	is_str(t.host_nqn, NQN_HOST, "  ... stored");
	memset(big, 'a', sizeof(big));
	memcpy(big, "nqn.", 4);
	big[sizeof(big) - 1] = '\0';
	is_int(tid_field_set(&t, TID_FIELD_HOST_NQN, big), -ENAMETOOLONG, "set host_nqn too long");
	is_int(tid_field_set(&t, TID_FIELD_TRADDR, big), -ENAMETOOLONG, "set traddr too long");
	is_str(t.host_nqn, NQN_HOST, "  ... failed set leaves the field");

	is_int(tid_field_set(&t, TID_FIELD_HOST_NQN, "none"), 0, "\"none\" clears");
	is_str(t.host_nqn, "", "  ... cleared");
	is_int(tid_field_set(&t, TID_FIELD_HOST_IFACE, NULL), 0, "NULL clears");
	is_str(t.host_iface, "", "  ... cleared");
	is_int(tid_field_set(&t, TID_FIELD_HOST_TRADDR, ""), 0, "\"\" clears");
	is_str(t.host_traddr, "", "  ... cleared");

	/* Transport not yet known: addresses only need to be printable. */
	t = (struct tid){};
	is_int(tid_field_set(&t, TID_FIELD_TRADDR, "nn-0x20000090fa942779:pn-0x10000090fa942779"),
	       0, "set fc traddr, transport unset");
	is_int(tid_field_set(&t, TID_FIELD_TRADDR, "a b"), -EINVAL, "set traddr with space");
	is_int(tid_field_set(&t, TID_FIELD_TRSVCID, "none"), 0, "set trsvcid none");
	is_int(tid_field_set(&t, TID_FIELD_TRANSPORT, "fc"), 0, "set transport fc");
	is_int(tid_field_set(&t, TID_FIELD_TRSVCID, "abc"), 0, "fc trsvcid free-form");
}

static void test_canonicalize_ipv4(void)
{
	static const char *bad[] = {
		"1.2.3",	"256.1.1.1",  "01.2.3.4",     "1.2.3.04",    "0x1.2.3.4",
		"1.2.3.4.5",	" 1.2.3.4",   "1.2.3.4 ",     "1.2.3.-4",    "1..3.4",
		"a.b.c.d",	"1.2.3.4/24", "1.2.3.4%eth0", "example.com", "",
		"1.2.3.4:4420", "[::1]",
	};

	canon_good(mk3("tcp", "192.168.1.2", "4420"), TID_FIELD_TRADDR, "192.168.1.2", "v4");
	canon_good(mk3("tcp", "0.0.0.0", "4420"), TID_FIELD_TRADDR, "0.0.0.0", "0.0.0.0");
	canon_good(mk3("rdma", "255.255.255.255", ""), TID_FIELD_TRADDR, "255.255.255.255",
		   "broadcast-looking v4 on rdma");
	/* glibc's inet_pton() refuses leading zeros (octal ambiguity): so do we. */
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char what[64];
		snprintf(what, sizeof(what), "tcp traddr \"%s\"", bad[i]);
		canon_bad(mk3("tcp", bad[i], "4420"), what);
	}
	canon_bad(mk3("rdma", "1.2.3", "4420"), "rdma traddr 1.2.3");
}

static void test_canonicalize_ipv6(void)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "FE80:0:0::1%eth0", "fe80::1%eth0" },
		{ "::FFFF:1.2.3.4", "::ffff:1.2.3.4" },
		{ "2001:DB8::0001", "2001:db8::1" },
		{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
		{ "fe80::1", "fe80::1" },
		{ "fe80::1%2", "fe80::1%2" },
		{ "FE80::A%enp0s31f6", "fe80::a%enp0s31f6" },
		{ "::", "::" },
		{ "::1", "::1" },
		{ "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
		{ "1:0:0:2:0:0:0:3", "1:0:0:2::3" },
		{ "2001:db8::1%eth0", "2001:db8::1%eth0" },
	};
	static const char *bad[] = {
		"1::2::3",	     "1:2:3:4:5:6:7:8:9",
		"00001::",	     "::ffff:01.2.3.4",
		"fe80::1%",	     "fe80::1%eth/0",
		"fe80::1%eth 0",     "fe80::1%abcdefghijklmnop",
		"fe80::1%.",	     "fe80::1%..",
		"fe80::1%eth0%eth1", "fe80::g",
		"[fe80::1]",	     "%eth0",
		"fd00::/8",
	};

	for (size_t i = 0; i < ELEMENTSOF(good); i++)
		canon_good(mk3("tcp", good[i].in, "4420"), TID_FIELD_TRADDR, good[i].out,
			   good[i].in);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char what[64];
		snprintf(what, sizeof(what), "tcp traddr \"%s\"", bad[i]);
		canon_bad(mk3("tcp", bad[i], "4420"), what);
	}
	canon_good(mk("tcp", "fe80::1", "", "", "FE80::2%eth0", "eth0", ""), TID_FIELD_HOST_TRADDR,
		   "fe80::2%eth0", "host_traddr v6 normalised");
	canon_good(mk("rdma", "10.0.0.1", "", "", "10.0.0.2", "", ""), TID_FIELD_HOST_TRADDR,
		   "10.0.0.2", "host_traddr v4");
}

static void test_canonicalize_other(void)
{
	struct tid t;

	canon_good(mk3("TCP", "1.2.3.4", "4420"), TID_FIELD_TRANSPORT, "tcp", "transport TCP");
	canon_good(mk3("Rdma", "1.2.3.4", "4420"), TID_FIELD_TRANSPORT, "rdma", "transport Rdma");
	canon_good(mk3("FC", FC_T, ""), TID_FIELD_TRANSPORT, "fc", "transport FC");
	canon_good(mk3("LOOP", "", ""), TID_FIELD_TRANSPORT, "loop", "transport LOOP");
	canon_bad(mk3("udp", "1.2.3.4", "4420"), "transport udp");
	canon_bad(mk3("", "1.2.3.4", "4420"), "empty transport");
	canon_bad(mk3("none", "1.2.3.4", "4420"), "transport none");

	/* trsvcid */
	canon_good(mk3("tcp", "1.2.3.4", "04420"), TID_FIELD_TRSVCID, "4420", "trsvcid 04420");
	canon_good(mk3("tcp", "1.2.3.4", "0000000000000000000000000008009"), TID_FIELD_TRSVCID,
		   "8009", "trsvcid with many zeros");
	canon_good(mk3("tcp", "1.2.3.4", "1"), TID_FIELD_TRSVCID, "1", "trsvcid 1");
	canon_good(mk3("tcp", "1.2.3.4", "65535"), TID_FIELD_TRSVCID, "65535", "trsvcid 65535");
	canon_good(mk3("tcp", "1.2.3.4", ""), TID_FIELD_TRSVCID, "", "trsvcid empty stays empty");
	canon_bad(mk3("tcp", "1.2.3.4", "none"), "literal trsvcid none (e.g. from the network)");
	canon_good(mk3("rdma", "1.2.3.4", "4420"), TID_FIELD_TRSVCID, "4420", "rdma trsvcid");
	canon_bad(mk3("tcp", "1.2.3.4", "0"), "trsvcid 0");
	canon_bad(mk3("tcp", "1.2.3.4", "00000"), "trsvcid 00000");
	canon_bad(mk3("tcp", "1.2.3.4", "65536"), "trsvcid 65536");
	canon_bad(mk3("tcp", "1.2.3.4", "99999999999"), "trsvcid huge");
	canon_bad(mk3("tcp", "1.2.3.4", "-1"), "trsvcid -1");
	canon_bad(mk3("tcp", "1.2.3.4", "+4420"), "trsvcid +4420");
	canon_bad(mk3("tcp", "1.2.3.4", " 4420"), "trsvcid leading space");
	canon_bad(mk3("tcp", "1.2.3.4", "4420 "), "trsvcid trailing space");
	canon_bad(mk3("tcp", "1.2.3.4", "0x10"), "trsvcid hex");
	canon_bad(mk3("tcp", "1.2.3.4", "nvme"), "trsvcid service name");

	/* fc */
	canon_good(mk3("fc", "NN-0x20000090FA942779:PN-0x10000090FA942779", ""), TID_FIELD_TRADDR,
		   "nn-0x20000090fa942779:pn-0x10000090fa942779", "fc traddr lower-cased");
	canon_good(mk("fc", FC_T, "", "", "NN-0x10001100AA000001:PN-0x20001100AA000001", "", ""),
		   TID_FIELD_HOST_TRADDR, FC_H, "fc host_traddr lower-cased");
	/* nvme-fc's other form, without 0x: the kernel reports the 0x form. */
	canon_good(mk3("fc", "nn-10001100ab000001:pn-20001100ab000001", ""), TID_FIELD_TRADDR, FC_T,
		   "fc traddr without 0x gets the kernel's form");
	canon_good(mk("fc", FC_T, "", "", "NN-10001100AA000001:Pn-0X20001100aa000001", "", ""),
		   TID_FIELD_HOST_TRADDR, FC_H, "fc host_traddr mixed forms and case");
	canon_good(mk3("fc", FC_T, ""), TID_FIELD_TRADDR, FC_T, "fc traddr canonical is kept");
	canon_bad(mk3("fc", "nn-0x1:pn-0x2", ""),
		  "fc traddr with short names (the kernel refuses it)");
	canon_bad(mk3("fc", "nn-0x10001100ab000001", ""), "fc traddr without port name");
	canon_bad(mk3("fc", "pn-0x20001100ab000001:nn-0x10001100ab000001", ""), "fc names swapped");
	canon_bad(mk3("fc", "nn-0x10001100ab000001:pn-0x20001100ab0000011", ""),
		  "fc 17 hex digits");
	canon_bad(mk3("fc", "nn-0x10001100ab000001:pn-0x20001100ab00000z", ""), "fc non-hex digit");
	canon_bad(mk3("fc", "nn-0x10001100ab000001:pn-0x20001100ab000001:", ""),
		  "fc trailing colon");
	canon_bad(mk3("fc", "nn-0x10001100ab000001-pn-0x20001100ab000001", ""), "fc no colon");
	canon_bad(mk3("fc", "nn-0x0x10001100ab000001:pn-0x20001100ab000001", ""), "fc 0x0x");
	canon_bad(mk3("fc", "192.168.1.1", ""), "fc traddr an IP address");
	canon_bad(mk("fc", FC_T, "", "", "nn-0x3:pn-0x4", "", ""),
		  "fc host_traddr with short names");
	canon_bad(mk3("fc", "", ""), "fc without traddr");
	canon_bad(mk3("fc", "nn-0x1: pn-0x2", ""), "fc traddr with space");
	canon_bad(mk3("fc", "nn-0x1:pn-0x2\x01", ""), "fc traddr with control char");

	/* loop: no address */
	canon_good(mk3("loop", "", ""), TID_FIELD_TRADDR, "", "loop with empty traddr");
	canon_good(mk3("loop", "none", ""), TID_FIELD_TRADDR, "none",
		   "loop traddr none is literal");
	canon_bad(mk3("tcp", "", "4420"), "tcp without traddr");
	canon_bad(mk3("tcp", "none", "4420"), "tcp traddr none");
	canon_bad(mk3("rdma", "", "4420"), "rdma without traddr");

	/* host fields */
	canon_bad(mk("tcp", "1.2.3.4", "", "", "none", "", ""), "literal host_traddr none");
	canon_bad(mk("tcp", "1.2.3.4", "", "", "", "", "none"), "literal host_nqn none");
	canon_bad(mk("tcp", "1.2.3.4", "", "", "nn-0x1:pn-0x2", "", ""), "tcp host_traddr not IP");
	canon_bad(mk("tcp", "1.2.3.4", "", "", "", "eth 0", ""), "host_iface with space");
	canon_bad(mk("tcp", "1.2.3.4", "", "", "", "eth/0", ""), "host_iface with '/'");
	canon_bad(mk("tcp", "1.2.3.4", "", "", "", "..", ""), "host_iface ..");
	canon_good(mk("tcp", "1.2.3.4", "", "", "", "eth0.100", ""), TID_FIELD_HOST_IFACE,
		   "eth0.100", "host_iface vlan");

	/* NQNs */
	canon_good(mk("tcp", "1.2.3.4", "", "", "", "", ""), TID_FIELD_SUBSYSNQN, "",
		   "empty subsysnqn allowed");
	canon_bad(mk("tcp", "1.2.3.4", "", "none", "", "", ""), "literal subsysnqn none");
	canon_bad(mk("tcp", "1.2.3.4", "", "iqn.x", "", "", ""), "bad subsysnqn");
	canon_bad(mk("tcp", "1.2.3.4", "", NQN_IO, "", "", "nqn. x"), "bad host_nqn");

	/* Unterminated field buffers are refused, not over-read. */
	t = mk3("tcp", "1.2.3.4", "4420");
	memset(t.trsvcid, '1', sizeof(t.trsvcid));
	canon_bad(t, "unterminated trsvcid");
	t = mk3("tcp", "1.2.3.4", "4420");
	memset(t.host_iface, 'e', sizeof(t.host_iface));
	canon_bad(t, "unterminated host_iface");

	/* A full TID, idempotence. */
	t = mk("TCP", "FE80::0001%eth0", "08009", NVME_DISC_SUBSYS_NQN, "FE80::2%eth0", "eth0",
	       NQN_HOST);
	is_int(tid_canonicalize(&t), 0, "full TID canonicalises");
	is_str(t.transport, "tcp", "  ... transport");
	is_str(t.traddr, "fe80::1%eth0", "  ... traddr");
	is_str(t.trsvcid, "8009", "  ... trsvcid");
	is_str(t.host_traddr, "fe80::2%eth0", "  ... host_traddr");
	{
		struct tid again = t;
		is_int(tid_canonicalize(&again), 0, "canonicalize is idempotent");
		ok(tid_equal(&again, &t), "  ... same TID");
	}
}

static void test_default_trsvcid(void)
{
	struct tid t;

	t = mk3("tcp", "1.2.3.4", "");
	tid_set_default_trsvcid(&t, true);
	is_str(t.trsvcid, "8009", "tcp discovery default 8009");
	t = mk3("tcp", "1.2.3.4", "");
	tid_set_default_trsvcid(&t, false);
	is_str(t.trsvcid, "4420", "tcp I/O default 4420");
	t = mk3("rdma", "1.2.3.4", "");
	tid_set_default_trsvcid(&t, true);
	is_str(t.trsvcid, "4420", "rdma discovery default 4420 (as libnvme)");
	t = mk3("rdma", "1.2.3.4", "");
	tid_set_default_trsvcid(&t, false);
	is_str(t.trsvcid, "4420", "rdma I/O default 4420");
	t = mk3("tcp", "1.2.3.4", "1234");
	tid_set_default_trsvcid(&t, true);
	is_str(t.trsvcid, "1234", "set trsvcid kept");
	t = mk3("fc", FC_T, "");
	tid_set_default_trsvcid(&t, true);
	is_str(t.trsvcid, "", "fc gets no default");
	t = mk3("loop", "", "");
	tid_set_default_trsvcid(&t, false);
	is_str(t.trsvcid, "", "loop gets no default");
}

static void test_sysfs(void)
{
	struct tid t, before;

	t = mk("tcp", "", "", NQN_IO, "", "", NQN_HOST);
	is_int(tid_parse_sysfs_address(
		       "traddr=192.168.1.2,trsvcid=4420,host_traddr=192.168.1.1,host_iface=eth0\n",
		       &t),
	       0, "sysfs tcp with host fields");
	is_str(t.traddr, "192.168.1.2", "  ... traddr");
	is_str(t.trsvcid, "4420", "  ... trsvcid");
	is_str(t.host_traddr, "192.168.1.1", "  ... host_traddr");
	is_str(t.host_iface, "eth0", "  ... host_iface");
	is_str(t.transport, "tcp", "  ... transport untouched");
	is_str(t.subsysnqn, NQN_IO, "  ... subsysnqn untouched");
	is_str(t.host_nqn, NQN_HOST, "  ... host_nqn untouched");
	is_int(tid_canonicalize(&t), 0, "  ... canonicalises");

	t = mk("tcp", "9.9.9.9", "1", NQN_IO, "8.8.8.8", "eth9", "");
	is_int(tid_parse_sysfs_address("traddr=192.168.1.2,trsvcid=8009,src_addr=192.168.1.1", &t),
	       0, "sysfs with src_addr");
	is_str(t.traddr, "192.168.1.2", "  ... traddr");
	is_str(t.trsvcid, "8009", "  ... trsvcid");
	is_str(t.host_traddr, "", "  ... src_addr is not host_traddr; old value cleared");
	is_str(t.host_iface, "", "  ... host_iface cleared");

	t = mk("tcp", "", "", "", "", "", "");
	is_int(tid_parse_sysfs_address("traddr=fe80::1%eth0,trsvcid=4420,host_traddr=none,host_"
				       "iface=none,src_addr=fe80::2%eth0\n",
				       &t),
	       0, "sysfs v6 with none");
	is_str(t.traddr, "fe80::1%eth0", "  ... traddr");
	is_str(t.host_traddr, "", "  ... host_traddr none");
	is_str(t.host_iface, "", "  ... host_iface none");

	t = mk("fc", "", "", "", "", "", "");
	is_int(tid_parse_sysfs_address("traddr=nn-0x20000090fa942779:pn-0x10000090fa942779,host_"
				       "traddr=nn-0x20000090fa942780:pn-0x10000090fa942780\n",
				       &t),
	       0, "sysfs fc");
	is_str(t.traddr, "nn-0x20000090fa942779:pn-0x10000090fa942779", "  ... fc traddr");
	is_str(t.host_traddr, "nn-0x20000090fa942780:pn-0x10000090fa942780", "  ... fc host");
	is_str(t.trsvcid, "", "  ... no trsvcid");

	t = mk("loop", "x", "y", "", "", "", "");
	is_int(tid_parse_sysfs_address("\n", &t), 0, "sysfs loop (empty)");
	is_str(t.traddr, "", "  ... traddr cleared");
	is_str(t.trsvcid, "", "  ... trsvcid cleared");

	t = mk("tcp", "", "", "", "", "", "");
	is_int(tid_parse_sysfs_address("traddr=1.2.3.4,trsvcid=4420,future_key=x=y,", &t), 0,
	       "sysfs unknown key ignored, trailing comma");
	is_str(t.traddr, "1.2.3.4", "  ... traddr");

	t = mk("tcp", "", "", "", "", "", "");
	is_int(tid_parse_sysfs_address("", &t), 0, "sysfs empty string");

	before = t = mk("tcp", "5.5.5.5", "5", NQN_IO, "6.6.6.6", "eth5", "");
	is_int(tid_parse_sysfs_address("traddr=1.2.3.4,garbage", &t), -EINVAL, "token without '='");
	ok(memcmp(&t, &before, sizeof(t)) == 0, "  ... ret untouched");
	is_int(tid_parse_sysfs_address("traddr=1.2.3.4,=x", &t), -EINVAL, "empty key");
	is_int(tid_parse_sysfs_address("traddr=1.2.3.4,trsvcid=44 20", &t), -EINVAL,
	       "value with space");
	is_int(tid_parse_sysfs_address("traddr=1.2.3.4,host_iface=abcdefghijklmnop", &t), -EINVAL,
	       "host_iface too long");
	is_int(tid_parse_sysfs_address("traddr=1.2.3.4,host_iface=..", &t), -EINVAL,
	       "host_iface ..");
	ok(memcmp(&t, &before, sizeof(t)) == 0, "  ... ret still untouched");
}

static struct tid pat(const char *transport, const char *traddr, const char *trsvcid)
{
	struct tid p = {};

	strcpy(p.transport, transport);
	strcpy(p.traddr, traddr);
	strcpy(p.trsvcid, trsvcid);
	return p;
}

static void test_match(void)
{
	struct tid v4 = mk("tcp", "192.168.1.2", "4420", NQN_IO, "192.168.1.1", "eth0", NQN_HOST);
	struct tid v6 = mk("tcp", "fd12:3456::1", "8009", NVME_DISC_SUBSYS_NQN, "", "", "");
	struct tid ll = mk("tcp", "fe80::1%eth0", "8009", NVME_DISC_SUBSYS_NQN, "", "eth0", "");
	struct tid fc = mk("fc", FC_T, "", NQN_IO, FC_H, "", "");
	struct tid any = {}, p;

	ok(tid_canonicalize(&v4) == 0 && tid_canonicalize(&v6) == 0 && tid_canonicalize(&ll) == 0 &&
		   tid_canonicalize(&fc) == 0,
	   "match fixtures canonical");

	ok(tid_match(&any, &v4), "empty pattern matches everything (v4)");
	ok(tid_match(&any, &fc), "empty pattern matches everything (fc)");
	ok(tid_match(&v4, &v4), "a TID matches itself");
	ok(!tid_match(&v4, &v6), "different TIDs");

	p = pat("TCP", "", "");
	ok(tid_match(&p, &v4), "transport TCP matches tcp (case-insensitive)");
	ok(!tid_match(&p, &fc), "transport tcp does not match fc");
	p = pat("fc", "", "");
	ok(tid_match(&p, &fc), "transport fc");

	p = pat("", "192.168.1.2", "");
	ok(tid_match(&p, &v4), "exact traddr");
	p = pat("", "192.168.1.3", "");
	ok(!tid_match(&p, &v4), "other traddr");
	p = pat("", "192.168.0.0/16", "");
	ok(tid_match(&p, &v4), "v4 /16");
	ok(!tid_match(&p, &v6), "v4 CIDR does not match v6");
	ok(!tid_match(&p, &fc), "v4 CIDR does not match fc");
	p = pat("", "192.168.1.2/32", "");
	ok(tid_match(&p, &v4), "v4 /32 same");
	p = pat("", "192.168.1.3/32", "");
	ok(!tid_match(&p, &v4), "v4 /32 other");
	p = pat("", "192.168.1.3/31", "");
	ok(tid_match(&p, &v4), "v4 /31 (host bits in pattern ignored)");
	p = pat("", "192.168.1.0/30", "");
	ok(tid_match(&p, &v4), "v4 /30");
	p = pat("", "192.168.1.4/30", "");
	ok(!tid_match(&p, &v4), "v4 /30 other");
	p = pat("", "10.0.0.0/8", "");
	ok(!tid_match(&p, &v4), "v4 /8 other");
	p = pat("", "0.0.0.0/0", "");
	ok(tid_match(&p, &v4), "v4 /0 matches any v4");
	ok(!tid_match(&p, &v6), "v4 /0 does not match v6");
	p = pat("", "192.168.1.2/33", "");
	ok(!tid_match(&p, &v4), "v4 /33 is malformed: no match");
	p = pat("", "192.168.1.2/", "");
	ok(!tid_match(&p, &v4), "empty prefix: no match");
	p = pat("", "192.168.1.2/x", "");
	ok(!tid_match(&p, &v4), "non-numeric prefix: no match");
	p = pat("", "192.168.1.2/-1", "");
	ok(!tid_match(&p, &v4), "negative prefix: no match");
	p = pat("", "192.168/16", "");
	ok(!tid_match(&p, &v4), "short address in CIDR: no match");

	p = pat("", "fd00::/8", "");
	ok(tid_match(&p, &v6), "v6 /8");
	ok(!tid_match(&p, &v4), "v6 CIDR does not match v4");
	p = pat("", "FD12:3456::/32", "");
	ok(tid_match(&p, &v6), "v6 /32 upper-case");
	p = pat("", "fd12:3457::/32", "");
	ok(!tid_match(&p, &v6), "v6 /32 other");
	p = pat("", "fd12:3456::1/128", "");
	ok(tid_match(&p, &v6), "v6 /128 same");
	p = pat("", "fd12:3456::2/128", "");
	ok(!tid_match(&p, &v6), "v6 /128 other");
	p = pat("", "fd12:3456::/127", "");
	ok(tid_match(&p, &v6), "v6 /127");
	p = pat("", "::/0", "");
	ok(tid_match(&p, &v6), "v6 /0 matches v6");
	ok(tid_match(&p, &ll), "v6 /0 matches link-local");
	ok(!tid_match(&p, &v4), "v6 /0 does not match v4");
	p = pat("", "fd12:3456::1/129", "");
	ok(!tid_match(&p, &v6), "v6 /129 malformed");
	p = pat("", "fe80::/10", "");
	ok(tid_match(&p, &ll), "fe80::/10 matches scoped link-local");
	p = pat("", "fe80::%eth0/10", "");
	ok(!tid_match(&p, &ll), "scope inside CIDR malformed");

	p = pat("", "FE80::0001", "");
	ok(tid_match(&p, &ll), "v6 pattern without scope matches any scope");
	p = pat("", "fe80::1%eth0", "");
	ok(tid_match(&p, &ll), "v6 pattern with same scope");
	p = pat("", "fe80::1%eth1", "");
	ok(!tid_match(&p, &ll), "v6 pattern with other scope");
	p = pat("", "::ffff:192.168.1.2", "");
	ok(!tid_match(&p, &v4), "v4-mapped v6 is not v4");

	p = pat("", "NN-0x10001100AB000001:PN-0x20001100AB000001", "");
	ok(tid_match(&p, &fc), "fc traddr case-insensitive");
	p = pat("", "nn-10001100ab000001:pn-20001100ab000001", "");
	ok(tid_match(&p, &fc), "fc traddr pattern without 0x");
	p = pat("fc", "", "");
	strcpy(p.host_traddr, "NN-10001100AA000001:PN-20001100AA000001");
	ok(tid_pattern_canonicalize(&p) == 0 && streq(p.host_traddr, FC_H) && tid_match(&p, &fc),
	   "fc host_traddr pattern gets the kernel's form and matches");
	p = pat("", "nn-0x10001100ab000001:pn-0x20001100ab000009", "");
	ok(!tid_match(&p, &fc), "fc other traddr");

	p = pat("", "", "4420");
	ok(tid_match(&p, &v4), "trsvcid");
	ok(!tid_match(&p, &v6), "trsvcid other");
	p = pat("", "", "04420");
	ok(tid_match(&p, &v4), "trsvcid by value");

	p = (struct tid){};
	strcpy(p.subsysnqn, NQN_IO);
	ok(tid_match(&p, &v4), "subsysnqn");
	ok(!tid_match(&p, &v6), "subsysnqn other");
	p = (struct tid){};
	strcpy(p.host_iface, "eth0");
	ok(tid_match(&p, &v4), "host_iface");
	ok(!tid_match(&p, &v6), "host_iface set vs unset");
	p = (struct tid){};
	strcpy(p.host_traddr, "192.168.0.0/16");
	ok(tid_match(&p, &v4), "host_traddr CIDR");
	ok(!tid_match(&p, &v6), "host_traddr CIDR vs unset");
	p = (struct tid){};
	strcpy(p.host_nqn, NQN_HOST);
	ok(tid_match(&p, &v4), "host_nqn");
	ok(!tid_match(&p, &v6), "host_nqn vs unset");
	p = (struct tid){};
	strcpy(p.host_nqn, "none");
	ok(tid_match(&p, &v6), "\"none\" in a pattern is a wildcard");

	p = pat("tcp", "192.168.0.0/16", "4420");
	strcpy(p.host_iface, "eth0");
	ok(tid_match(&p, &v4), "several fields all match");
	strcpy(p.host_iface, "eth1");
	ok(!tid_match(&p, &v4), "several fields, one differs");

	/* Pattern canonicalisation. */
	p = pat("TCP", "192.168.001.0/16", "");
	is_int(tid_pattern_canonicalize(&p), -EINVAL, "pattern with bad v4 in CIDR");
	p = pat("TCP", "192.168.1.7/016", "08009");
	is_int(tid_pattern_canonicalize(&p), 0, "pattern canonicalises");
	is_str(p.transport, "tcp", "  ... transport");
	is_str(p.traddr, "192.168.1.7/16", "  ... CIDR prefix normalised");
	is_str(p.trsvcid, "8009", "  ... trsvcid");
	p = pat("", "FD00::/8", "");
	is_int(tid_pattern_canonicalize(&p), 0, "pattern without transport");
	is_str(p.traddr, "fd00::/8", "  ... v6 CIDR normalised");
	p = pat("", "FE80::1%eth0", "");
	is_int(tid_pattern_canonicalize(&p), 0, "pattern plain v6");
	is_str(p.traddr, "fe80::1%eth0", "  ... normalised");
	p = pat("", "", "");
	is_int(tid_pattern_canonicalize(&p), 0, "empty pattern");
	{
		static const char *bad[] = { "10.0.0.0/33", "fd00::/129",     "10.0.0.0/",
					     "/8",	    "fe80::%eth0/64", "10.0.0.0/1/2",
					     "10.0.0.0/+8", "10.0.0.0/0008" };
		for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
			struct tid b = pat("tcp", bad[i], ""), c = b;
			is_int(tid_pattern_canonicalize(&b), -EINVAL, "pattern rejects %s", bad[i]);
			ok(memcmp(&b, &c, sizeof(b)) == 0, "  ... unchanged");
		}
	}
	p = pat("tcp", "host.example.com", "");
	is_int(tid_pattern_canonicalize(&p), -EINVAL, "pattern tcp hostname");
	p = pat("udp", "", "");
	is_int(tid_pattern_canonicalize(&p), -EINVAL, "pattern bad transport");
	p = pat("tcp", "", "0");
	is_int(tid_pattern_canonicalize(&p), -EINVAL, "pattern bad trsvcid");
	p = pat("tcp", "", "");
	strcpy(p.host_iface, "a/b");
	is_int(tid_pattern_canonicalize(&p), -EINVAL, "pattern bad host_iface");
	{
		p = pat("TCP", "10.1.0.0/16", "");
		is_int(tid_pattern_canonicalize(&p), 0,
		       "upper-case transport CIDR pattern canonicalises");
		ok(!tid_match(&p, &v4), "  ... does not match 192.168.1.2");
		strcpy(v4.traddr, "10.1.255.255");
		ok(tid_match(&p, &v4), "  ... matches 10.1.255.255");
	}
}

static void test_equal(void)
{
	struct tid a = mk("tcp", "1.2.3.4", "4420", NQN_IO, "10.0.0.1", "eth0", NQN_HOST), b;

	b = a;
	ok(tid_equal(&a, &b), "equal copies");
	memset(b.traddr + strlen(b.traddr) + 1, 'z', 10);
	ok(tid_equal(&a, &b), "bytes after the NUL do not matter");
	for (int f = 0; f < _TID_FIELD_MAX; f++) {
		b = a;
		tid_field_ptr(&b, f)[0] ^= 1;
		ok(!tid_equal(&a, &b), "differs in %s", tid_field_to_string(f));
		b = a;
		tid_field_ptr(&b, f)[0] = '\0';
		ok(!tid_equal(&a, &b), "%s unset vs set", tid_field_to_string(f));
	}
	a = mk3("tcp", "FE80::1", "4420");
	b = mk3("tcp", "fe80::1", "04420");
	ok(!tid_equal(&a, &b), "non-canonical TIDs differ");
	ok(tid_canonicalize(&a) == 0 && tid_canonicalize(&b) == 0 && tid_equal(&a, &b),
	   "  ... and are equal once canonical");
}

static void fill_random(char *buf, size_t size)
{
	/* Lengths 0..size-1, bytes 1..255: '/', '%', spaces, high bytes. */
	size_t l = (size_t)rand() % size;

	if (rand() % 4 == 0)
		l = size - 1;
	for (size_t i = 0; i < l; i++) {
		int k = rand() % 8;
		buf[i] = k == 0 ? '/' : k == 1 ? '%' : (char)(1 + rand() % 255);
	}
	buf[l] = '\0';
}

static void test_key(void)
{
	char key[TID_KEY_MAX], key2[TID_KEY_MAX];
	struct tid t = mk("tcp", "fe80::1%eth0", "8009", NVME_DISC_SUBSYS_NQN, "", "eth0", ""), u;
	int r, fails = 0, n;

	r = tid_key(&t, key, sizeof(key));
	is_str(key, "tcp/fe80::1%25eth0/8009/" NVME_DISC_SUBSYS_NQN "//eth0/", "key with scope");
	is_int(r, (int)strlen(key), "key length returned");
	is_int(tid_from_key(key, &u), 0, "key parses back");
	ok(tid_equal(&t, &u), "  ... same TID");

	t = (struct tid){};
	is_int(tid_key(&t, key, sizeof(key)), 6, "empty TID key");
	is_str(key, "//////", "  ... six slashes");
	is_int(tid_from_key("//////", &u), 0, "empty key parses");
	ok(tid_equal(&t, &u), "  ... empty TID");

	t = mk("fc", "a/b c", "%", "nqn.x/y", "\x7f\xff", "", "");
	is_int(tid_key(&t, key, sizeof(key)), (int)strlen("fc/a%2Fb%20c/%25/nqn.x%2Fy/%7F%FF//"),
	       "encoded key");
	is_str(key, "fc/a%2Fb%20c/%25/nqn.x%2Fy/%7F%FF//",
	       "  ... '/', ' ', '%%', DEL, 0xff encoded");

	/* Buffer size. */
	t = mk3("tcp", "1.2.3.4", "4420");
	r = tid_key(&t, key, sizeof(key));
	is_int(tid_key(&t, key2, (size_t)r), -ENOBUFS, "key buffer one short");
	is_int(tid_key(&t, key2, (size_t)r + 1), r, "key buffer exact");
	is_int(tid_key(&t, NULL, 0), -ENOBUFS, "key size 0");

	/* Malformed keys. */
	{
		static const char *bad[] = {
			"",
			"tcp/1.2.3.4/4420",
			"tcp/1.2.3.4/4420/nqn.x/a/b/c/d",
			"///////",
			"tcp/fe80::1%eth0/////",
			"tcp/fe80::1%2/////",
			"tcp/fe80::1%2g/////",
			"tcp/a%2f/////",
			"tcp/a%41/////",
			"tcp/a%00/////",
			"tcp/a b/////",
			"tcp/a\x7f/////",
			"tcpabcdefgh//////",
			"tcp/////abcdefghijklmnop/",
		};
		for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
			u = mk3("loop", "", "");
			t = u;
			is_int(tid_from_key(bad[i], &u), -EINVAL, "bad key #%zu", i);
			ok(memcmp(&t, &u, sizeof(t)) == 0, "  ... ret untouched");
		}
	}
	is_int(tid_from_key("tcpabcde//////", &u), 0, "8-char transport fits");
	is_int(tid_from_key("%2F%25//////", &u), 0, "encoded transport");
	is_str(u.transport, "/%", "  ... decoded");

	/* Random round trip. */
	srand(4242);
	n = 1000;
	for (int i = 0; i < n; i++) {
		memset(&t, 0, sizeof(t));
		for (int f = 0; f < _TID_FIELD_MAX; f++)
			fill_random(tid_field_ptr(&t, f), tid_field_size(f));
		r = tid_key(&t, key, sizeof(key));
		if (r < 0 || strlen(key) != (size_t)r || tid_from_key(key, &u) < 0 ||
		    !tid_equal(&t, &u) || tid_key(&u, key2, sizeof(key2)) != r ||
		    !streq(key, key2)) {
			fails++;
			continue;
		}
		/* Printable, seven fields. */
		int slashes = 0;
		for (const char *c = key; *c; c++) {
			if (*c < 0x21 || *c > 0x7e)
				fails++;
			slashes += *c == '/';
		}
		if (slashes != 6)
			fails++;
	}
	is_int(fails, 0, "%d random TIDs round-trip through tid_key()/tid_from_key()", n);

	/* Worst case fits TID_KEY_MAX. */
	for (int f = 0; f < _TID_FIELD_MAX; f++) {
		char *p = tid_field_ptr(&t, f);
		memset(p, '/', tid_field_size(f) - 1);
		p[tid_field_size(f) - 1] = '\0';
	}
	r = tid_key(&t, key, sizeof(key));
	ok(r > 0 && r < TID_KEY_MAX, "worst-case key fits TID_KEY_MAX (%d)", r);
	ok(tid_from_key(key, &u) == 0 && tid_equal(&t, &u), "  ... and round-trips");
}

static void test_format(void)
{
	char buf[TID_FORMAT_MAX], small[16];
	struct tid t;

	t = mk("tcp", "192.168.1.2", "8009", NQN_IO, "", "", "");
	is_str(tid_format(&t, buf, sizeof(buf)), "(tcp, 192.168.1.2, 8009, " NQN_IO ")",
	       "format without host fields");
	t = mk("tcp", "192.168.1.2", "8009", NQN_IO, "192.168.1.1", "eth0", NQN_HOST);
	is_str(tid_format(&t, buf, sizeof(buf)),
	       "(tcp, 192.168.1.2, 8009, " NQN_IO ", host-traddr=192.168.1.1, host-iface=eth0, "
	       "host-nqn=" NQN_HOST ")",
	       "format with all host fields");
	t = mk("tcp", "192.168.1.2", "8009", NQN_IO, "", "eth0", "");
	is_str(tid_format(&t, buf, sizeof(buf)),
	       "(tcp, 192.168.1.2, 8009, " NQN_IO ", host-iface=eth0)", "format host-iface only");
	ok(tid_format(&t, small, sizeof(small)) == small, "format returns buf");
	is_str(small, "(tcp, 192.168.1", "format truncates");

	/* Longest possible TID fits TID_FORMAT_MAX. */
	for (int f = 0; f < _TID_FIELD_MAX; f++) {
		char *p = tid_field_ptr(&t, f);
		memset(p, 'a', tid_field_size(f) - 1);
		p[tid_field_size(f) - 1] = '\0';
	}
	tid_format(&t, buf, sizeof(buf));
	ok(buf[strlen(buf) - 1] == ')', "longest TID formats untruncated in TID_FORMAT_MAX");
}

static void test_adrfam(void)
{
	struct tid t;

	t = mk3("tcp", "1.2.3.4", "");
	is_int(tid_adrfam(&t), AF_INET, "adrfam v4");
	t = mk3("tcp", "::ffff:1.2.3.4", "");
	is_int(tid_adrfam(&t), AF_INET6, "adrfam v4-mapped is v6");
	t = mk3("tcp", "fe80::1%eth0", "");
	is_int(tid_adrfam(&t), AF_INET6, "adrfam scoped v6");
	t = mk3("fc", FC_T, "");
	is_int(tid_adrfam(&t), 0, "adrfam fc");
	t = mk3("loop", "", "");
	is_int(tid_adrfam(&t), 0, "adrfam loop");
	t = mk3("tcp", "1.2.3", "");
	is_int(tid_adrfam(&t), 0, "adrfam invalid");
}

int main(void)
{
	test_fields();
	test_nqn_transport_ifname();
	test_field_set();
	test_canonicalize_ipv4();
	test_canonicalize_ipv6();
	test_canonicalize_other();
	test_default_trsvcid();
	test_sysfs();
	test_match();
	test_equal();
	test_key();
	test_format();
	test_adrfam();
	return tap_done();
}
