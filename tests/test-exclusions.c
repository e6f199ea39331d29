/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/exclusions, table-driven rule by rule from nvme-cli's
 * libnvme/design/EXCLUSIONS.md ("EXCLUSIONS.md: <rule>" in each message;
 * "libnvme:" where the rule comes from libnvme's exclusion.c/tid.c, which
 * the document names the source of truth), against a fake /etc, plus
 * hostile files: huge lines, binary junk, NUL bytes, FIFOs, directories and
 * symlink loops where files should be.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exclusions.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "tap.h"
#include "tid.h"

static char root[] = "/tmp/test-exclusions.XXXXXX";

#define NQN "nqn.2024-01.com.example:vol1"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:0f3a5b6c-1234-4abc-8def-0123456789ab"
#define WWN_NODE "nn-0x20000090fa000001"
#define WWN "nn-0x20000090fa000001:pn-0x10000090fa000001"

/* The connections asked about. */
enum conn {
	C_TCP4, /* tcp 192.0.2.10:4420 NQN, host 192.0.2.1 via eth3, hostnqn, hostid */
	C_TCP4_BARE, /* tcp 192.0.2.10:4420 NQN, nothing on the host side, no hostid */
	C_TCP6, /* tcp [2001:db8::1]:4420 NQN, host fe80::5%eth3 */
	C_TCP6_MAPPED, /* tcp ::ffff:192.0.2.10 */
	C_FC, /* fc WWN, NQN */
	C_LOOP, /* loop, NQN, no address */
	_C_MAX,
};

static struct tid conns[_C_MAX];

static void set(struct tid *t, enum tid_field f, const char *v)
{
	if (tid_field_set(t, f, v) < 0)
		abort();
}

static void conns_init(void)
{
	struct tid *t;

	t = &conns[C_TCP4];
	set(t, TID_FIELD_TRANSPORT, "tcp");
	set(t, TID_FIELD_TRADDR, "192.0.2.10");
	set(t, TID_FIELD_TRSVCID, "4420");
	set(t, TID_FIELD_SUBSYSNQN, NQN);
	set(t, TID_FIELD_HOST_TRADDR, "192.0.2.1");
	set(t, TID_FIELD_HOST_IFACE, "eth3");
	set(t, TID_FIELD_HOST_NQN, HOSTNQN);

	t = &conns[C_TCP4_BARE];
	set(t, TID_FIELD_TRANSPORT, "tcp");
	set(t, TID_FIELD_TRADDR, "192.0.2.10");
	set(t, TID_FIELD_TRSVCID, "4420");
	set(t, TID_FIELD_SUBSYSNQN, NQN);

	t = &conns[C_TCP6];
	set(t, TID_FIELD_TRANSPORT, "tcp");
	set(t, TID_FIELD_TRADDR, "2001:DB8:0:0:0:0:0:1");
	set(t, TID_FIELD_TRSVCID, "4420");
	set(t, TID_FIELD_SUBSYSNQN, NQN);
	set(t, TID_FIELD_HOST_TRADDR, "fe80::5%eth3");

	t = &conns[C_TCP6_MAPPED];
	set(t, TID_FIELD_TRANSPORT, "tcp");
	set(t, TID_FIELD_TRADDR, "::ffff:192.0.2.10");
	set(t, TID_FIELD_TRSVCID, "4420");
	set(t, TID_FIELD_SUBSYSNQN, NQN);

	t = &conns[C_FC];
	set(t, TID_FIELD_TRANSPORT, "fc");
	set(t, TID_FIELD_TRADDR, WWN);
	set(t, TID_FIELD_SUBSYSNQN, NQN);
	set(t, TID_FIELD_HOST_TRADDR, "nn-0x20000090fa0000aa:pn-0x10000090fa0000aa");

	t = &conns[C_LOOP];
	set(t, TID_FIELD_TRANSPORT, "loop");
	set(t, TID_FIELD_SUBSYSNQN, NQN);

	for (int i = 0; i < _C_MAX; i++)
		if (tid_canonicalize(&conns[i]) < 0)
			abort();
}

static struct exclusions_target target(enum conn c)
{
	return (struct exclusions_target){
		.tid = &conns[c],
		.hostid = c == C_TCP4 ? "46ba5037-7ce5-41fa-9452-48477bf00080" : NULL,
	};
}

static char *path(const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", root, rel) < 0)
		abort();
	return p;
}

static void put_bytes(const char *rel, const char *data, size_t n)
{
	_cleanup_free_ char *p = path(rel);

	if (mkdir_parents(p, 0755) < 0 || write_file_atomic(p, data, n, 0644) < 0)
		abort();
}

static void put(const char *rel, const char *content)
{
	put_bytes(rel, content, strlen(content));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void reset(void)
{
	_cleanup_free_ char *p = path("etc");

	(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *esc(const char *s)
{
	static char buf[4][512];
	static int k;
	char *b = buf[k++ % 4];
	size_t n = 0;

	for (; *s && n + 8 < sizeof(buf[0]); s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			n += (size_t)sprintf(b + n, "\\n");
		else if (c < ' ' || c >= 0x7f)
			n += (size_t)sprintf(b + n, "\\x%02x", c);
		else
			b[n++] = (char)c;
	}
	if (*s)
		n += (size_t)sprintf(b + n, "...");
	b[n] = '\0';
	return b;
}

/* One entry value against one connection: 1 match, 0 no match, -EINVAL invalid (matches nothing). */
static void test_entries(void)
{
	static const struct {
		const char *entry;
		enum conn conn;
		int want;
		const char *rule;
	} t[] = {
		/* Entry fields, one by one: equal -> match, different -> no match. */
		{ "transport=tcp", C_TCP4, 1, "field transport" },
		{ "transport=rdma", C_TCP4, 0, "field transport differs" },
		{ "traddr=192.0.2.10", C_TCP4, 1, "field traddr" },
		{ "traddr=192.0.2.11", C_TCP4, 0, "field traddr differs" },
		{ "trsvcid=4420", C_TCP4, 1, "field trsvcid" },
		{ "trsvcid=8009", C_TCP4, 0, "field trsvcid differs" },
		{ "nqn=" NQN, C_TCP4, 1, "field nqn (subsystem NQN)" },
		{ "nqn=nqn.2024-01.com.example:retired", C_TCP4, 0, "field nqn differs" },
		{ "host-traddr=192.0.2.1", C_TCP4, 1, "field host-traddr" },
		{ "host-traddr=192.0.2.2", C_TCP4, 0, "field host-traddr differs" },
		{ "host-iface=eth3", C_TCP4, 1, "field host-iface ('Exclude the eth3 interface')" },
		{ "host-iface=eth4", C_TCP4, 0, "field host-iface differs" },
		{ "hostnqn=" HOSTNQN, C_TCP4, 1, "field hostnqn" },
		{ "hostnqn=nqn.2014-08.org.nvmexpress:uuid:other", C_TCP4, 0,
		  "field hostnqn differs" },
		{ "hostid=46ba5037-7ce5-41fa-9452-48477bf00080", C_TCP4, 1, "field hostid" },
		{ "hostid=46ba5037-7ce5-41fa-9452-48477bf00081", C_TCP4, 0,
		  "field hostid differs" },
		/* The document's own example entries. */
		{ "transport=tcp;traddr=192.0.2.10;trsvcid=4420;nqn=" NQN, C_TCP4, 1,
		  "example entry: one path of vol1" },
		{ "nqn=nqn.2024-01.com.example:retired", C_TCP4, 0,
		  "example entry: retired subsystem" },
		/* Only the fields present are compared. */
		{ "nqn=" NQN, C_FC, 1,
		  "'nqn=... excludes that subsystem on every transport and address' (fc)" },
		{ "nqn=" NQN, C_LOOP, 1, "'... on every transport' (loop)" },
		{ "transport=tcp;nqn=" NQN, C_TCP6, 1,
		  "'Field absent from the entry: not checked'" },
		{ "transport=tcp;traddr=192.0.2.10;trsvcid=4421;nqn=" NQN, C_TCP4, 0,
		  "'adding traddr= and trsvcid= narrows it to one path' (other port)" },
		/* A field the connection has no value for. */
		{ "host-iface=eth3", C_TCP4_BARE, 0,
		  "'present in the entry, connection has no value -> no match' (host-iface)" },
		{ "host-traddr=192.0.2.1", C_TCP4_BARE, 0,
		  "'... no value -> no match' (host-traddr)" },
		{ "hostnqn=" HOSTNQN, C_TCP4_BARE, 0, "'... no value -> no match' (hostnqn)" },
		{ "hostid=46ba5037-7ce5-41fa-9452-48477bf00080", C_TCP4_BARE, 0,
		  "'... no value -> no match' (hostid)" },
		{ "traddr=192.0.2.10", C_LOOP, 0,
		  "'NULL never means match anything' (loop has no traddr)" },
		{ "trsvcid=4420", C_FC, 0, "'... no value -> no match' (fc has no trsvcid)" },
		/* Unknown keys and code-side spellings. */
		{ "nqn=" NQN ";bogus=1", C_TCP4, -EINVAL,
		  "'Unknown key: that entry never matches'" },
		{ "subsysnqn=" NQN, C_TCP4, -EINVAL,
		  "'code-style spelling subsysnqn is never valid'" },
		{ "host_traddr=192.0.2.1", C_TCP4, -EINVAL, "'one spelling': host_traddr invalid" },
		{ "host_iface=eth3", C_TCP4, -EINVAL, "'one spelling': host_iface invalid" },
		{ "trtype=tcp", C_TCP4, -EINVAL, "'one spelling': trtype invalid" },
		{ "Transport=tcp", C_TCP4, -EINVAL, "keys are case-sensitive" },
		{ "--traddr=192.0.2.10", C_TCP4, -EINVAL, "no command-line dashes" },
		/* Empty and malformed entries. */
		{ "", C_TCP4, -EINVAL, "'Empty entry never matches'" },
		{ ";;;", C_TCP4, -EINVAL, "'field-less entry never matches' (;;;)" },
		{ "  ;  ; ", C_TCP4, -EINVAL, "'field-less entry never matches' (blank fields)" },
		{ "transport=tcp;;traddr=192.0.2.10;", C_TCP4, 1,
		  "libnvme: empty fields (;;, trailing ;) skipped" },
		{ "tcp", C_TCP4, -EINVAL,
		  "libnvme: a bare token without '=' invalidates the entry" },
		{ "transport=tcp;traddr", C_TCP4, -EINVAL,
		  "libnvme: a bare key invalidates the entry" },
		{ "transport=tcp;traddr=", C_TCP4, -EINVAL,
		  "libnvme: an empty value invalidates the entry" },
		{ "=tcp", C_TCP4, -EINVAL, "an empty key is unknown" },
		/* Trimming, repetition, byte-exact fields. */
		{ "  transport = tcp ;  traddr=\t192.0.2.10  ", C_TCP4, 1,
		  "libnvme: keys and values trimmed" },
		{ "nqn=nqn.x:a;nqn=" NQN, C_TCP4, 1,
		  "libnvme: a repeated key keeps its last value" },
		{ "nqn=" NQN ";nqn=nqn.x:a", C_TCP4, 0,
		  "libnvme: ... the last value, not the first" },
		{ "transport=TCP", C_TCP4, 0, "transport compared byte-exact (TCP is not tcp)" },
		{ "nqn=NQN.2024-01.COM.EXAMPLE:VOL1", C_TCP4, 0, "nqn compared byte-exact" },
		{ "trsvcid=04420", C_TCP4, 0, "trsvcid compared byte-exact" },
		{ "host-iface=ETH3", C_TCP4, 0, "host-iface compared byte-exact" },
		{ "nqn=" NQN " # vol1", C_TCP4, 0,
		  "no inline comments: '# vol1' is part of the value" },
		{ "nqn=a=b", C_TCP4, 0, "a field splits on its first '=' (value a=b)" },
		/* Address-aware comparison. */
		{ "traddr=2001:db8::1", C_TCP6, 1,
		  "'equivalent IP spellings match': compressed vs expanded IPv6" },
		{ "transport=tcp;traddr=2001:0DB8:0000::0001", C_TCP6, 1,
		  "IPv6 with leading zeros and upper case" },
		{ "traddr=2001:db8::2", C_TCP6, 0, "different IPv6 address" },
		{ "traddr=192.0.2.10", C_TCP6_MAPPED, 1,
		  "IPv4 entry matches its IPv4-mapped IPv6 connection" },
		{ "transport=tcp;traddr=::ffff:192.0.2.10", C_TCP4, 1,
		  "IPv4-mapped entry matches the IPv4 connection" },
		{ "host-traddr=fe80::5", C_TCP6, 1,
		  "an IPv6 scope is not compared (host-traddr fe80::5 vs %eth3)" },
		{ "transport=tcp;host-traddr=FE80::5%eth9", C_TCP6, 1,
		  "entry scope kept but not compared" },
		{ "transport=tcp;traddr=192.0.2.10%eth0", C_TCP4, 1,
		  "libnvme: a scope on an IPv4 entry address is dropped" },
		{ "traddr=192.0.2.010", C_TCP4, 0,
		  "not numeric for inet_pton, compared as a string" },
		{ "transport=tcp;traddr=localhost", C_LOOP, -EINVAL,
		  "libnvme: a tcp host name (not numeric) invalidates the entry" },
		{ "transport=rdma;host-traddr=host.example", C_TCP4, -EINVAL,
		  "libnvme: an rdma host name invalidates the entry" },
		{ "traddr=localhost", C_TCP4, 0,
		  "without a transport, a name is kept and compared as a string" },
		{ "transport=fc;traddr=NN-0x20000090FA000001:pn-0x10000090FA000001", C_FC, -EINVAL,
		  "libnvme: the fc shape is nn-0x<hex>:pn-0x<hex> (lower-case prefixes)" },
		{ "transport=fc;traddr=nn-0x20000090FA000001:pn-0x10000090FA000001", C_FC, 1,
		  "'Fibre Channel addresses compared case-insensitively'" },
		{ "transport=fc;traddr=nn-0x20000090fa000001,pn-0x10000090fa000001", C_FC, 1,
		  "libnvme: an fc 'nn-..,pn-..' entry is read as 'nn-..:pn-..'" },
		{ "traddr=NN-0X20000090FA000001:PN-0X10000090FA000001", C_FC, 1,
		  "fc connection: an entry without transport compares case-insensitively" },
		{ "transport=fc;traddr=" WWN_NODE, C_FC, -EINVAL,
		  "libnvme: an fc address without pn- is invalid" },
		{ "transport=fc;traddr=nn-0x123456789abcdef01:pn-0x1", C_FC, -EINVAL,
		  "libnvme: fc WWNs are at most 16 hex digits" },
		{ "transport=fc;traddr=nn-0x1:pn-0x2 ", C_FC, 0,
		  "value trimmed, valid shape, different WWN" },
		{ "transport=fc;host-traddr=nn-0x20000090FA0000AA:pn-0x10000090FA0000AA", C_FC, 1,
		  "fc host-traddr case-insensitive too" },
		{ "transport=loop;traddr=anything", C_LOOP, 0,
		  "loop entry addresses are not validated; loop has none" },
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct exclusions_target tg = target(t[i].conn);
		const char *reason = NULL;
		int r = exclusions_entry_matches(t[i].entry, &tg, &reason);

		if (!is_int(r, t[i].want, "EXCLUSIONS.md %s: \"%s\"", t[i].rule, esc(t[i].entry)))
			diag("  reason: %s", reason ? reason : "(none)");
		if (t[i].want < 0)
			ok(reason && *reason, "  invalid entry comes with a reason (%s)",
			   reason ? reason : "none");
	}
}

static void test_address_equal(void)
{
	static const struct {
		const char *a, *b, *transport;
		bool want;
	} t[] = {
		{ "2001:db8::1", "2001:0db8:0:0::1", "tcp", true },
		{ "::1", "0:0:0:0:0:0:0:1", "rdma", true },
		{ "192.0.2.1", "::ffff:192.0.2.1", "tcp", true },
		{ "::ffff:192.0.2.1", "192.0.2.1", "tcp", true },
		{ "192.0.2.1", "::192.0.2.1", "tcp", false },
		{ "fe80::1%eth0", "fe80::1%eth1", "tcp", true },
		{ "192.0.2.1", "192.0.2.2", "tcp", false },
		{ "abc", "abc", "tcp", true },
		{ "abc", "ABC", "tcp", false },
		{ "ABC", "abc", "fc", true },
		{ "2001:db8::1", "2001:0db8::1", "fc", false },
		{ "x", "x", NULL, true },
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++)
		ok(exclusions_address_equal(t[i].a, t[i].b, t[i].transport) == t[i].want,
		   "EXCLUSIONS.md 'Address fields compared address-aware': %s %s %s (%s)", t[i].a,
		   t[i].want ? "==" : "!=", t[i].b,
		   t[i].transport ? t[i].transport : "no transport");
	ok(!exclusions_address_equal(NULL, "x", "tcp") &&
		   !exclusions_address_equal("x", NULL, "tcp"),
	   "a missing address never equals");
}

/* Whole files: which line of which file excludes C_TCP4 (line 0: not excluded). */
static void test_files(void)
{
	static const struct {
		const char *main; /* etc/nvme/exclusions.conf content, NULL: absent */
		unsigned line;
		const char *rule;
	} t[] = {
		{ NULL, 0, "no exclusion files at all: not excluded" },
		{ "", 0, "empty file: not excluded" },
		{ "[exclusions]\nexclusion = nqn=" NQN "\n", 2,
		  "'one entry per line' in [exclusions]" },
		{ "# NVMe-oF exclusion list\n\n[exclusions]\nexclusion = transport=tcp;traddr=192.0.2.10;trsvcid=4420;nqn=" NQN
		  "\nexclusion = nqn=nqn.2024-01.com.example:retired\n\n# Exclude the eth3 interface (TCP-only)\n"
		  "exclusion = host-iface=eth3\n",
		  4, "the document's example file: first entry, line 4" },
		{ "[exclusions]\nexclusion = nqn=x:retired\n# exclusion = nqn=" NQN
		  "\n  # exclusion = nqn=" NQN "\nexclusion = host-iface=eth3\n",
		  5,
		  "'Lines beginning with # are comments' (indented too); 'excluded if it matches any entry'" },
		{ "exclusion = nqn=" NQN "\n", 0,
		  "'Entries count only inside [exclusions]': no section" },
		{ "[other]\nexclusion = nqn=" NQN "\n", 0,
		  "'Other sections ... readers ignore their content'" },
		{ "[exclusions]\n[future]\nexclusion = nqn=" NQN
		  "\n[exclusions]\nexclusion = host-iface=eth3\n",
		  5, "back in [exclusions] after another section" },
		{ "[ exclusions ]\nexclusion = nqn=" NQN "\n", 2,
		  "libnvme: the section name is trimmed" },
		{ "[exclusions] ; trailing\nexclusion = nqn=" NQN "\n", 2,
		  "libnvme: text after ']' is ignored" },
		{ "[Exclusions]\nexclusion = nqn=" NQN "\n", 0,
		  "section names are case-sensitive" },
		{ "[exclusions]\n[exclusions\nexclusion = nqn=" NQN "\n", 0,
		  "'a stray or malformed line is skipped': an unterminated header leaves the section (fail-safe)" },
		{ "[exclusions]\nexclusion=nqn=" NQN "\n", 2,
		  "'the literal key exclusion, an =': no spaces needed" },
		{ "[exclusions]\n  exclusion   =   nqn=" NQN "   \n", 2,
		  "indentation and spaces around '=' trimmed" },
		{ "[exclusions]\nExclusion = nqn=" NQN "\nexclusions = nqn=" NQN "\n", 0,
		  "only the literal key 'exclusion' (case-sensitive) counts" },
		{ "[exclusions]\nnqn=" NQN "\n", 0, "a bare k=v line is not an entry" },
		{ "[exclusions]\nexclusion nqn " NQN "\nexclusion = host-iface=eth3\n", 3,
		  "a line without '=' is skipped, the next still counts" },
		{ "[exclusions]\nexclusion = bogus=1;nqn=" NQN
		  "\nexclusion =\nexclusion = host-iface=eth3\n",
		  4, "'Unknown key'/'Empty entry' lines match nothing, later entries still count" },
		{ "[exclusions]\r\nexclusion = nqn=" NQN "\r\n", 2, "CRLF line endings" },
		{ "[exclusions]\nexclusion = nqn=" NQN, 2,
		  "no newline at the end of the last line" },
		{ "[exclusions]\nexclusion = host-iface=eth4\nexclusion = hostid=46ba5037-7ce5-41fa-9452-48477bf00080\n",
		  3, "the hostid field matches the target's host ID" },
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct exclusions_target tg = target(C_TCP4);
		struct exclusions_match m = { .line = 999 };
		_cleanup_free_ char *want_path = path("etc/nvme/exclusions.conf");
		int r;

		reset();
		if (t[i].main)
			put("etc/nvme/exclusions.conf", t[i].main);
		r = exclusions_match(root, &tg, &m);
		is_int(r, t[i].line > 0, "EXCLUSIONS.md %s: %s", t[i].rule,
		       t[i].line ? "excluded" : "not excluded");
		if (t[i].line > 0) {
			is_int(m.line, t[i].line, "  reported at line %u", t[i].line);
			is_str(m.path, want_path, "  reported in exclusions.conf");
		} else
			is_int(m.line, 999, "  ret_match untouched");
	}
}

static void test_dropins(void)
{
	struct exclusions_target tg = target(C_TCP4);
	struct exclusions_match m = {};
	_cleanup_free_ char *a = path("etc/nvme/exclusions.conf.d/a.conf");
	_cleanup_free_ char *mainp = path("etc/nvme/exclusions.conf");
	_cleanup_free_ char *hidden = path("etc/nvme/exclusions.conf.d/.hidden.conf");
	static const char *const ignored[] = { ".conf",	 "x.conf.bak", "x.txt",
					       "x.CONF", "conf",       "x.conf~" };
	static const char entry[] = "[exclusions]\nexclusion = nqn=" NQN "\n";

	reset();
	put("etc/nvme/exclusions.conf.d/maintenance.conf",
	    "# maintenance\n[exclusions]\n\nexclusion = host-iface=eth3\n");
	is_int(exclusions_match(root, &tg, &m), 1,
	       "EXCLUSIONS.md 'Matching considers the main file and every drop-in'");
	is_int(m.line, 4, "  drop-in line reported");
	ok(strstr(m.path, "/etc/nvme/exclusions.conf.d/maintenance.conf") != NULL,
	   "  drop-in path reported: %s", m.path);
	is_str(m.entry, "host-iface=eth3", "  the entry's text is reported");

	put("etc/nvme/exclusions.conf.d/a.conf", entry);
	is_int(exclusions_match(root, &tg, &m), 1, "two drop-ins match");
	is_str(m.path, a, "  drop-ins are read in alphabetical order: a.conf reported first");

	put("etc/nvme/exclusions.conf", "[exclusions]\nexclusion = traddr=192.0.2.10\n");
	is_int(exclusions_match(root, &tg, &m), 1, "main file and drop-ins match");
	is_str(m.path, mainp, "  the main file (the default list) is read first");

	reset();
	for (size_t i = 0; i < ELEMENTSOF(ignored); i++) {
		_cleanup_free_ char *rel = NULL;

		if (asprintf(&rel, "etc/nvme/exclusions.conf.d/%s", ignored[i]) < 0)
			abort();
		put(rel, entry);
	}
	is_int(exclusions_match(root, &tg, &m), 0,
	       "libnvme: only <name>.conf with a non-empty name counts (.conf, .bak, .txt, .CONF, ~ ignored)");
	put("etc/nvme/exclusions.conf.d/.hidden.conf", entry);
	is_int(exclusions_match(root, &tg, &m), 1,
	       "libnvme: a hidden '.name.conf' is a drop-in too");
	is_str(m.path, hidden, "  reported");

	reset();
	put("etc/nvme/exclusions.conf.d/sub.conf/inner.conf", entry);
	is_int(exclusions_match(root, &tg, &m), 0,
	       "hostile: a directory named sub.conf is skipped (fail open)");
	put("etc/nvme/exclusions.conf.d/z.conf", entry);
	is_int(exclusions_match(root, &tg, &m), 1, "  a regular drop-in after it still counts");

	reset();
	put("etc/nvme/exclusions.conf.d", "not a directory\n");
	is_int(exclusions_match(root, &tg, &m), 0,
	       "hostile: exclusions.conf.d is a file: not excluded (fail open)");
}

static void test_reread(void)
{
	struct exclusions_target tg = target(C_TCP4);
	_cleanup_free_ char *p = path("etc/nvme/exclusions.conf");
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	reset();
	put("etc/nvme/exclusions.conf", "[exclusions]\nexclusion = host-iface=eth3\n");
	(void)utimensat(AT_FDCWD, p, ts, 0);
	is_int(exclusions_match(root, &tg, NULL), 1, "excluded by host-iface=eth3");
	/* Same size, same mtime: only a real re-read notices. */
	put("etc/nvme/exclusions.conf", "[exclusions]\nexclusion = host-iface=eth4\n");
	(void)utimensat(AT_FDCWD, p, ts, 0);
	is_int(exclusions_match(root, &tg, NULL), 0,
	       "EXCLUSIONS.md 're-reads the files on every call': an edit of the same size and mtime takes effect");
	(void)unlink(p);
	is_int(exclusions_match(root, &tg, NULL), 0, "  a removed list excludes nothing");
	put("etc/nvme/exclusions.conf.d/new.conf", "[exclusions]\nexclusion = host-iface=eth3\n");
	is_int(exclusions_match(root, &tg, NULL), 1, "  a drop-in added at run time takes effect");
}

/* A run's snapshot (exclusions_load()): the same answers, read once, an edit seen by the next. */
static void test_loaded(void)
{
	struct exclusions_target tg = target(C_TCP4);
	struct exclusions_match m = {};
	struct exclusions *x = NULL;

	reset();
	is_int(exclusions_load(root, &x), 0, "snapshot of no list at all");
	ok(x && exclusions_loaded_count(x) == 0 && exclusions_loaded_match(x, &tg, &m) == 0,
	   "  holds nothing, matches nothing");
	x = exclusions_free(x);
	ok(exclusions_loaded_match(NULL, &tg, &m) == 0, "no snapshot: nothing excluded");

	put("etc/nvme/exclusions.conf", "[exclusions]\nexclusion = hostid=nobody\n");
	put("etc/nvme/exclusions.conf.d/b.conf", "[exclusions]\n\nexclusion = host-iface=eth3\n");
	put("etc/nvme/exclusions.conf.d/a.conf", "[exclusions]\nexclusion = host-iface=eth9\n");
	put_bytes("etc/nvme/exclusions.conf.d/c.conf", "x", 0);
	is_int(exclusions_load(root, &x), 0, "snapshot of the main list and three drop-ins");
	is_int((int)exclusions_loaded_count(x), 4, "  four files held");
	is_int(exclusions_loaded_match(x, &tg, &m), exclusions_match(root, &tg, NULL),
	       "  the snapshot answers as exclusions_match()");
	ok(m.line == 3 && strstr(m.path, "/etc/nvme/exclusions.conf.d/b.conf") &&
		   streq(m.entry, "host-iface=eth3"),
	   "  and names the file and line: %s:%u", m.path, m.line);
	/* The files change: this run's snapshot does not, the next run's does. */
	reset();
	is_int(exclusions_loaded_match(x, &tg, NULL), 1, "an edit after the load: not seen by it");
	x = exclusions_free(x);
	is_int(exclusions_load(root, &x), 0, "the next run's snapshot");
	is_int(exclusions_loaded_match(x, &tg, NULL), 0, "  sees the lists gone");
	x = exclusions_free(x);
}

static void test_hostile(void)
{
	struct exclusions_target tg = target(C_TCP4);
	struct exclusions_match m = {};
	_cleanup_free_ char *big = NULL, *p = path("etc/nvme/exclusions.conf");
	size_t n;
	pid_t pid;
	int status = 0;

	/* A line longer than EXCLUSIONS_LINE_MAX, then a good entry. */
	reset();
	n = 3 * EXCLUSIONS_LINE_MAX;
	big = malloc(n + 200);
	if (!big)
		abort();
	n = (size_t)sprintf(big, "[exclusions]\nexclusion = nqn=" NQN ";trsvcid=");
	memset(big + n, '1', 3 * EXCLUSIONS_LINE_MAX);
	n += 3 * EXCLUSIONS_LINE_MAX;
	n += (size_t)sprintf(big + n, "\nexclusion = host-iface=eth4\n");
	put_bytes("etc/nvme/exclusions.conf", big, n);
	is_int(exclusions_match(root, &tg, &m), 0,
	       "hostile: a 12 KiB line is skipped whole (never read as a shorter, broader entry)");
	n -= strlen("eth4\n");
	n += (size_t)sprintf(big + n, "eth3\n");
	put_bytes("etc/nvme/exclusions.conf", big, n);
	is_int(exclusions_match(root, &tg, &m), 1, "  the next line still counts");
	is_int(m.line, 3, "  and is reported as line 3");

	/* Binary junk and a NUL byte. */
	reset();
	put_bytes("etc/nvme/exclusions.conf",
		  "\x7f"
		  "ELF\x02\x01\x01\n[exclusions]\n\xff\xfe=\x01\x02\nexclusion = nqn=" NQN
		  "\0;host-iface=eth9\n"
		  "exclusion = host-iface=eth3\n",
		  strlen("\x7f"
			 "ELF\x02\x01\x01\n[exclusions]\n\xff\xfe=\x01\x02\nexclusion = nqn=" NQN) +
			  1 + strlen(";host-iface=eth9\nexclusion = host-iface=eth3\n"));
	is_int(exclusions_match(root, &tg, &m), 1,
	       "hostile: binary junk lines skipped, a later entry counts");
	is_int(m.line, 5, "  the line with a NUL byte is skipped (not read as a shorter entry)");

	/* Over EXCLUSIONS_FILE_MAX: skipped whole, fail open. */
	reset();
	{
		_cleanup_free_ char *huge = malloc(EXCLUSIONS_FILE_MAX + 100);
		size_t k;

		if (!huge)
			abort();
		k = (size_t)sprintf(huge, "[exclusions]\nexclusion = host-iface=eth3\n");
		memset(huge + k, '#', EXCLUSIONS_FILE_MAX + 100 - k);
		put_bytes("etc/nvme/exclusions.conf", huge, EXCLUSIONS_FILE_MAX + 100);
	}
	is_int(exclusions_match(root, &tg, &m), 0,
	       "hostile: a file over 1 MiB is not read (fail open)");

	/* Unreadable main file in several ways; drop-ins are still consulted. */
	reset();
	{
		_cleanup_free_ char *d = path("etc/nvme/exclusions.conf");
		(void)mkdir_p(d, 0755);
	}
	is_int(exclusions_match(root, &tg, &m), 0,
	       "EXCLUSIONS.md 'fail-open': main file is a directory");
	put("etc/nvme/exclusions.conf.d/x.conf", "[exclusions]\nexclusion = host-iface=eth3\n");
	is_int(exclusions_match(root, &tg, &m), 1, "  the drop-ins still count");

	reset();
	{
		_cleanup_free_ char *d = path("etc/nvme");
		(void)mkdir_p(d, 0755);
		if (symlink("exclusions.conf", p) < 0)
			abort();
	}
	is_int(exclusions_match(root, &tg, &m), 0,
	       "EXCLUSIONS.md 'fail-open': main file is a symlink loop");

	reset();
	{
		_cleanup_free_ char *d = path("etc/nvme");
		(void)mkdir_p(d, 0755);
		if (mkfifo(p, 0644) < 0)
			abort();
	}
	pid = fork();
	if (pid == 0) {
		alarm(5);
		_exit(exclusions_match(root, &tg, NULL) == 0 ? 0 : 1);
	}
	(void)waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "EXCLUSIONS.md 'fail-open': main file is a FIFO, no hang");

	reset();
	put("etc/nvme/target", "[exclusions]\nexclusion = host-iface=eth3\n");
	if (symlink("target", p) < 0)
		abort();
	is_int(exclusions_match(root, &tg, &m), 1,
	       "a symlinked list (an admin's choice in /etc) is read");

	if (geteuid() != 0) {
		reset();
		put("etc/nvme/exclusions.conf", "[exclusions]\nexclusion = host-iface=eth3\n");
		(void)chmod(p, 0);
		is_int(exclusions_match(root, &tg, &m), 0,
		       "EXCLUSIONS.md 'fail-open': unreadable (mode 000) file");
	} else
		diag("running as root: the mode-000 variant of fail-open is covered by the symlink loop and FIFO");

	/* A NULL target or tid never excludes. */
	is_int(exclusions_match(root, NULL, NULL), 0, "no target: not excluded");
	{
		struct exclusions_target none = {};
		is_int(exclusions_match(root, &none, NULL), 0, "no tid: not excluded");
	}
}

struct problems {
	unsigned n;
	unsigned line[16];
	char reason[16][160];
	char path[16][256];
};

static void collect(const char *p, unsigned line, const char *reason, void *userdata)
{
	struct problems *pr = userdata;

	if (pr->n < ELEMENTSOF(pr->line)) {
		pr->line[pr->n] = line;
		(void)snprintf(pr->reason[pr->n], sizeof(pr->reason[0]), "%s", reason);
		(void)snprintf(pr->path[pr->n], sizeof(pr->path[0]), "%s", p);
	}
	pr->n++;
}

/* exclusions_check(): every line that counts for nothing is reported with its reason. */
static void test_check(void)
{
	static const struct {
		unsigned line;
		const char *reason;
	} want[] = {
		{ 2, "outside the [exclusions] section" },
		{ 4, "unknown key" },
		{ 5, "no field" },
		{ 6, "empty value" },
		{ 7, "without '='" },
		{ 8, "not a numeric IP address" },
		{ 9, "nn-0x<hex>:pn-0x<hex>" },
		{ 10, "key \"exlusion\" is not \"exclusion\"" },
		{ 11, "not \"key = value\"" },
		{ 12, "NUL byte" },
		{ 13, "no ']'" },
		{ 14, "outside the [exclusions] section" },
	};
	static const char text[] = "# list\n"
				   "exclusion = nqn=early\n"
				   "[exclusions]\n"
				   "exclusion = subsysnqn=x\n"
				   "exclusion = ;\n"
				   "exclusion = traddr=\n"
				   "exclusion = tcp\n"
				   "exclusion = transport=tcp;traddr=localhost\n"
				   "exclusion = transport=fc;traddr=wwn\n"
				   "exlusion = nqn=typo\n"
				   "just words\n"
				   "exclusion = nqn=a\0b\n"
				   "[exclusions\n"
				   "exclusion = nqn=after-bad-header\n"
				   "[future]\n"
				   "anything = goes\n"
				   "no equals sign here\n"
				   "[exclusions]\n"
				   "exclusion = nqn=fine\n";
	struct problems pr = {};
	int r;

	reset();
	put_bytes("etc/nvme/exclusions.conf", text, sizeof(text) - 1);
	r = exclusions_check(root, collect, &pr);
	is_int(r, (int)ELEMENTSOF(want), "exclusions_check: %zu problems reported",
	       ELEMENTSOF(want));
	for (size_t i = 0; i < ELEMENTSOF(want) && i < pr.n; i++) {
		ok(pr.line[i] == want[i].line && strstr(pr.reason[i], want[i].reason),
		   "EXCLUSIONS.md 'a stray or malformed line is skipped': line %u reported: %s",
		   want[i].line, pr.reason[i]);
		if (pr.line[i] != want[i].line)
			diag("  got line %u, want %u", pr.line[i], want[i].line);
	}

	reset();
	put("etc/nvme/exclusions.conf",
	    "[exclusions]\nexclusion = nqn=" NQN "\n[future]\nx = y\nfree text\n");
	memset(&pr, 0, sizeof(pr));
	is_int(exclusions_check(root, collect, &pr), 0,
	       "a clean list reports nothing ('Other sections ... readers ignore their content')");

	reset();
	{
		_cleanup_free_ char *d = path("etc/nvme/exclusions.conf");
		(void)mkdir_p(d, 0755);
	}
	put("etc/nvme/exclusions.conf.d/bad.conf", "[exclusions]\nexclusion = bogus=1\n");
	memset(&pr, 0, sizeof(pr));
	is_int(exclusions_check(root, collect, &pr), 2,
	       "an unreadable main list and a bad drop-in entry");
	ok(pr.line[0] == 0 && strstr(pr.reason[0], "Is a directory") &&
		   strstr(pr.path[0], "/etc/nvme/exclusions.conf"),
	   "  the main list is reported as a whole (line 0): %s", pr.reason[0]);
	ok(pr.line[1] == 2 && strstr(pr.path[1], "exclusions.conf.d/bad.conf"),
	   "  the drop-in's line 2: %s:%u", pr.path[1], pr.line[1]);
	is_int(exclusions_check(root, NULL, NULL), 2, "exclusions_check without a callback counts");
}

int main(void)
{
	/* Every debug message is formatted (under ASan/UBSan) and kept in the test log. */
	log_set_max_level(LOG_DEBUG);
	if (!mkdtemp(root))
		abort();
	conns_init();

	test_entries();
	test_address_equal();
	test_files();
	test_dropins();
	test_reread();
	test_loaded();
	test_hostile();
	test_check();

	{
		_cleanup_free_ char *p = strdup(root);
		(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	return tap_done();
}
