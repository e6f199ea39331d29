/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-unit-name - systemd escaping against the real systemd-escape, and the
 * stas-discover@ instance encoding.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "tid.h"
#include "unit-name.h"

#include "tap.h"

extern char **environ;

static bool have_systemd_escape;

/*
 * Run "systemd-escape OPTS... -- ARG" without a shell; stdout (one line) in
 * *ret, NULL when it exits non-zero. Return: exit status or -errno.
 */
static int systemd_escape(const char *opt1, const char *opt2, const char *arg, char **ret)
{
	char *argv[6];
	int n = 0, pfd[2], status;
	posix_spawn_file_actions_t fa;
	char buf[8192];
	size_t len = 0;
	pid_t pid;
	int r;

	argv[n++] = (char *)"systemd-escape";
	if (opt1)
		argv[n++] = (char *)opt1;
	if (opt2)
		argv[n++] = (char *)opt2;
	argv[n++] = (char *)"--";
	argv[n++] = (char *)arg;
	argv[n] = NULL;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, "systemd-escape", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		return -r;
	}
	for (;;) {
		ssize_t k = read(pfd[0], buf + len, sizeof(buf) - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(pfd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	if (!WIFEXITED(status))
		return -EIO;
	*ret = WEXITSTATUS(status) == 0 ? strdup(buf) : NULL;
	return WEXITSTATUS(status);
}

static char *repeat(char c, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);
	char *s = malloc(p + n + 1);

	memcpy(s, prefix, p);
	memset(s + p, c, n);
	s[p + n] = '\0';
	return s;
}

static void test_plain(void)
{
	static const char *const inputs[] = {
		"",
		"a",
		"abc.DEF_123:x",
		"a/b",
		"/a/b/",
		"a//b",
		"-",
		"a-b",
		"--x--",
		".",
		"..",
		".foo",
		"a.b.",
		"\\",
		"a\\x2db",
		"fe80::1%eth0",
		"nqn.2014-08.org.nvmexpress:uuid:0f3a5b6c-1234-4abc-8def-0123456789ab",
		"nqn.2014-08.org.nvmexpress.discovery",
		"host-iface=eth0",
		"a b\tc",
		"@",
		"~!$&*()[]{}'\"`;<>?,|=+#",
		"\x01\x1f\x7f",
		"\x80\x81\xfe\xff",
		"caf\xc3\xa9",
	};
	_cleanup_free_ char *bytes = NULL;

	for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
		_cleanup_free_ char *e = unit_name_escape(inputs[i]), *u = NULL, *ref = NULL;

		ok(e != NULL, "escape #%zu", i);
		if (!e)
			continue;
		ok(e[0] == '\0' || unit_name_is_valid_instance(e), "escape #%zu valid: %s", i, e);
		is_int(unit_name_unescape(e, &u), 0, "unescape #%zu", i);
		is_str(u, inputs[i], "round trip #%zu", i);
		if (have_systemd_escape) {
			is_int(systemd_escape(NULL, NULL, inputs[i], &ref), 0,
			       "systemd-escape #%zu", i);
			is_str(e, ref, "same as systemd-escape #%zu", i);
		}
	}

	/* Every byte 0x01..0xff, in one string and one at a time. */
	bytes = malloc(256);
	for (int b = 1; b < 256; b++)
		bytes[b - 1] = (char)b;
	bytes[255] = '\0';
	{
		_cleanup_free_ char *e = unit_name_escape(bytes), *u = NULL, *ref = NULL;

		ok(unit_name_is_valid_instance(e), "all bytes: valid instance");
		is_int(unit_name_unescape(e, &u), 0, "all bytes: unescape");
		ok(u && streq(u, bytes), "all bytes: round trip");
		if (have_systemd_escape) {
			systemd_escape(NULL, NULL, bytes, &ref);
			is_str(e, ref, "all bytes: same as systemd-escape");
		}
	}
	if (have_systemd_escape) {
		int bad = 0;

		for (int b = 1; b < 256; b++) {
			char s[3] = { (char)b, (char)b, 0 };
			_cleanup_free_ char *e = unit_name_escape(s), *ref = NULL;

			if (systemd_escape(NULL, NULL, s, &ref) != 0 || !streq(e, ref)) {
				diag("byte 0x%02x: got %s, want %s", b, e, strempty(ref));
				bad++;
			}
		}
		is_int(bad, 0, "each byte (leading and not) same as systemd-escape");
	}

	/* A 223-byte NQN (the maximum) escapes unchanged but for its '-'. */
	{
		_cleanup_free_ char *nqn = repeat('x', 223 - 16, "nqn.2014-08.org:");
		_cleanup_free_ char *e = unit_name_escape(nqn), *ref = NULL, *u = NULL;

		is_int(strlen(nqn), 223, "223-byte NQN");
		is_int(strlen(e), 223 + 3, "223-byte NQN escaped: one \\x2d");
		is_int(unit_name_unescape(e, &u), 0, "223-byte NQN unescape");
		is_str(u, nqn, "223-byte NQN round trip");
		if (have_systemd_escape) {
			systemd_escape(NULL, NULL, nqn, &ref);
			is_str(e, ref, "223-byte NQN same as systemd-escape");
		}
	}
}

static void test_unescape_malformed(void)
{
	static const char *const bad[] = {
		"\\", "a\\", "\\x", "\\x4", "\\xg0", "\\x0g", "\\y41", "\\X41", "a\\x2", "\\x00",
	};
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "\\x2d", "-" },    { "\\x2D", "-" }, { "a-b", "a/b" },
		{ "\\xff", "\xff" }, { "x@y", "x@y" },
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char *sentinel = (char *)"untouched", *u = sentinel;

		is_int(unit_name_unescape(bad[i], &u), -EINVAL, "unescape rejects '%s'", bad[i]);
		ok(u == sentinel, "ret untouched for '%s'", bad[i]);
		is_int(unit_name_path_unescape(bad[i], &u), -EINVAL, "path unescape rejects '%s'",
		       bad[i]);
	}
	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		_cleanup_free_ char *u = NULL;

		is_int(unit_name_unescape(good[i].in, &u), 0, "unescape '%s'", good[i].in);
		is_str(u, good[i].out, "unescape '%s' value", good[i].in);
	}
}

static void test_path(void)
{
	static const char *const inputs[] = {
		"/",
		"//",
		"///",
		"",
		"/a",
		"a",
		"/a/",
		"/a//b/",
		"//a",
		"a/b",
		"/a/./b",
		"./a",
		"././a",
		"a/.",
		"/./",
		"/.",
		"/.x",
		"/a/.b/",
		"/...",
		"/..a",
		"-",
		"/a-b/c",
		"/dev/disk/by-id/nvme-x",
		"/tcp/fe80::1%eth0/8009/host-iface=eth0",
		"/tcp/192.168.1.10/8009/nqn=nqn.2014-08.org.nvmexpress:uuid:x",
		"/\x80\xff/\\",
		/* systemd refuses these */
		".",
		"./",
		"./.",
		"..",
		"/..",
		"/a/..",
		"/a/../b",
		"../a",
	};

	for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
		_cleanup_free_ char *e = NULL, *ref = NULL;
		int rc = 0, r;

		r = unit_name_path_escape(inputs[i], &e);
		if (r < 0)
			ok(r == -EINVAL && !e, "path escape #%zu '%s' refused with EINVAL", i,
			   inputs[i]);
		else
			ok(unit_name_is_valid_instance(e), "path escape #%zu '%s' -> '%s'", i,
			   inputs[i], e);
		if (have_systemd_escape) {
			rc = systemd_escape("--path", NULL, inputs[i], &ref);
			if (!e && rc == 0 && streq(inputs[i], "/..") && streq(ref, "-")) {
				/*
				 * systemd 257 (Debian 13) resolves "/.." to "/";
				 * 252 refuses it, and so does stas: a ".." in a
				 * path is never an instance.
				 */
				ok(true,
				   "path #%zu: systemd-escape resolves it to '-', stas refuses", i);
				continue;
			}
			ok((rc == 0) == (e != NULL), "path #%zu: systemd-escape agrees on refusal",
			   i);
			is_str(e, ref, "path #%zu same as systemd-escape --path", i);
		}
		if (e) {
			_cleanup_free_ char *u = NULL, *again = NULL;

			/* Unescaping gives the simplified path, which escapes the same. */
			is_int(unit_name_path_unescape(e, &u), 0, "path #%zu unescape", i);
			ok(u && u[0] == '/', "path #%zu unescaped is absolute", i);
			if (u)
				(void)unit_name_path_escape(u, &again);
			is_str(again, e, "path #%zu round trip", i);
		}
	}

	/* Unescape against systemd-escape -u --path, malformed ones included. */
	static const char *const escaped[] = {
		"-",	   "a",
		"a-b",	   "\\x2ea",
		"a\\x2db", "a\\x2fb",
		"",	   "-a",
		"a-",	   "a--b",
		".",	   "..",
		"a-.-b",   "a-..-b",
		"\\x2e",   "\\x2f",
		"\\x2e.",  "a-\\x2e",
		"\\x2d",   "\\",
		"\\xzz",   "tcp-fe80::1\\x25eth0-8009",
	};
	for (size_t i = 0; i < ELEMENTSOF(escaped); i++) {
		_cleanup_free_ char *u = NULL, *ref = NULL;
		int r = unit_name_path_unescape(escaped[i], &u);

		ok(r == 0 || r == -EINVAL, "path unescape '%s': %d", escaped[i], r);
		if (have_systemd_escape) {
			int rc = systemd_escape("--unescape", "--path", escaped[i], &ref);
			ok((rc == 0) == (r == 0), "path unescape '%s': systemd agrees on validity",
			   escaped[i]);
			is_str(u, ref, "path unescape '%s' same as systemd-escape", escaped[i]);
		}
	}
}

static void test_build(void)
{
	_cleanup_free_ char *inst = repeat('a', UNIT_NAME_MAX - 21, "");
	_cleanup_free_ char *inst2 = repeat('a', UNIT_NAME_MAX - 20, "");
	_cleanup_free_ char *n = NULL, *fits = NULL, *over = NULL, *c = NULL;

	is_int(unit_name_build(UNIT_PREFIX_CONNECT, "nqn.x", UNIT_SUFFIX_SERVICE, &n), 0,
	       "unit_name_build");
	is_str(n, "stas-connect@nqn.x.service", "unit_name_build: name");
	/* 12+1+234+8 = 255 */
	is_int(unit_name_build("stas-connect", inst, ".service", &fits), 0, "255 bytes: built");
	ok(fits && strlen(fits) == UNIT_NAME_MAX, "255-byte unit name built");
	is_int(unit_name_build("stas-connect", inst2, ".service", &over), -ENAMETOOLONG,
	       "256-byte unit name refused with ENAMETOOLONG");
	ok(!over, "256-byte unit name: nothing returned");

	is_int(unit_name_connect("nqn.2014-08.org:a/b c", &c, NULL), 0, "unit_name_connect");
	is_str(c, "stas-connect@nqn.2014\\x2d08.org:a-b\\x20c.service",
	       "unit_name_connect escapes the NQN");

	ok(!unit_name_is_valid_instance(""), "empty instance invalid");
	ok(!unit_name_is_valid_instance(NULL), "NULL instance invalid");
	ok(!unit_name_is_valid_instance("a b"), "space invalid");
	ok(!unit_name_is_valid_instance("a/b"), "slash invalid");
	ok(!unit_name_is_valid_instance("a%b"), "percent invalid");
	ok(unit_name_is_valid_instance("a\\x2db-c@d:e_f.g"), "all allowed characters");
}

/*
 * Issue 13, defect 2: a 223-byte NQN with a few '-' (each escapes to
 * "\x2d") had no stas-connect@ unit at all (-ENAMETOOLONG). It now gets the
 * short key instance, which stas-connect resolves.
 */
static void test_connect_key(void)
{
	_cleanup_free_ char *nqn = NULL, *u = NULL, *u2 = NULL, *shortu = NULL;
	char key[NQN_KEY_MAX], parsed[NQN_KEY_MAX] = "untouched";
	bool is_key = false;

	nqn = repeat('a', 223 - STRLEN("nqn.2014-08.org.nvmexpress:uuid:-----"),
		     "nqn.2014-08.org.nvmexpress:uuid:-----");
	is_int((int)strlen(nqn), 223, "a 223-byte NQN");
	ok(nqn_is_valid(nqn), "it is a valid NQN");
	is_int(unit_name_connect(nqn, &u, &is_key), 0,
	       "a 223-byte NQN with '-' gets a stas-connect@ unit");
	ok(is_key, "through its key");
	is_str(u, "stas-connect@key-b8c02f2b271f2db4b6aa8375583fa8df.service",
	       "the key is the first 16 bytes of SHA-256(NQN) in hex");
	ok(u && strlen(u) <= UNIT_NAME_MAX, "the unit name fits");
	nqn_key_format(nqn, key);
	is_str(key, "key-b8c02f2b271f2db4b6aa8375583fa8df", "nqn_key_format");
	is_int(unit_name_connect(nqn, &u2, NULL), 0, "the same NQN again");
	is_str(u2, u, "the key is stable");

	is_int(unit_name_connect("nqn.2014-08.org:a", &shortu, &is_key), 0, "a short NQN");
	ok(!is_key, "a short NQN keeps its escaped form");

	/* systemd's %I of stas-connect@key-<hex>.service is "key/<hex>" */
	is_int(connect_instance_parse("key/b8c02f2b271f2db4b6aa8375583fa8df", parsed), 1,
	       "%%I of a key unit parsed");
	is_str(parsed, key, "as the key");
	is_int(connect_instance_parse("key-b8c02f2b271f2db4b6aa8375583fa8df", parsed), 1,
	       "the key as an administrator types it");
	strcpy(parsed, "untouched");
	is_int(connect_instance_parse("key-B8C02F2B271F2DB4B6AA8375583FA8DF", parsed), 0,
	       "upper-case hex is not a key");
	is_int(connect_instance_parse("key-b8c02f2b271f2db4b6aa8375583fa8d", parsed), 0,
	       "31 digits are not a key");
	is_int(connect_instance_parse("key-b8c02f2b271f2db4b6aa8375583fa8df0", parsed), 0,
	       "33 digits are not a key");
	is_int(connect_instance_parse("key-0123456789abcdef", parsed), 0,
	       "a DC key (16 digits) is not an NQN key");
	is_int(connect_instance_parse("nqn.2014-08.org:a", parsed), 0, "an NQN is not a key");
	is_str(parsed, "untouched", "output untouched when not a key");
}

static int make_tid(struct tid *t, const char *const kv[][2], size_t n)
{
	int r;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		int f = tid_field_from_string(kv[i][0]);
		if (f < 0)
			return f;
		r = tid_field_set(t, (enum tid_field)f, kv[i][1]);
		if (r < 0)
			return r;
	}
	return tid_canonicalize(t);
}

struct dc_case {
	const char *kv[7][2];
	size_t n;
	const char *instance; /* NULL: key fallback expected */
};

static void check_dc(const char *name, const struct tid *t, const char *want_instance,
		     bool want_key)
{
	_cleanup_free_ char *inst = NULL, *again = NULL, *ctrl = NULL, *key = NULL, *unit = NULL;
	_cleanup_free_ char *ref = NULL;
	struct tid back;
	bool is_key = !want_key;
	int r;

	r = dc_instance_format(t, &inst, &is_key);
	is_int(r, 0, "%s: format", name);
	if (r < 0)
		return;
	diag("%s -> %s", name, inst);
	ok(is_key == want_key, "%s: key fallback %s", name, want_key ? "used" : "not used");
	if (want_instance)
		is_str(inst, want_instance, "%s: instance", name);
	ok(unit_name_is_valid_instance(inst), "%s: valid instance", name);
	(void)unit_name_build(UNIT_PREFIX_DISCOVER, inst, UNIT_SUFFIX_SERVICE, &unit);
	ok(unit && strlen(unit) <= UNIT_NAME_MAX, "%s: unit name fits (%zu)", name,
	   unit ? strlen(unit) : 0);

	r = dc_instance_format(t, &again, NULL);
	is_str(again, inst, "%s: format is stable", name);

	r = dc_instance_parse(inst, &back, &ctrl, &key);
	is_int(r, 0, "%s: parse", name);
	ok(!ctrl, "%s: not a controller name", name);
	if (want_key) {
		ok(key && streq(key, inst), "%s: parse gives the key", name);
		ok(key && strlen(key) == 4 + 16 && str_startswith(key, "key-"), "%s: key-<16 hex>",
		   name);
	} else {
		ok(!key, "%s: no key", name);
		/* An unnamed DC subsystem reads back as the discovery NQN. */
		struct tid want = *t;
		if (want.subsysnqn[0] == '\0')
			strcpy(want.subsysnqn, NVME_DISC_SUBSYS_NQN);
		ok(r == 0 && tid_equal(&back, &want), "%s: TID round trip", name);
		if (have_systemd_escape) {
			/* systemd must read the instance back as the same path. */
			_cleanup_free_ char *mine = NULL;
			is_int(systemd_escape("--unescape", "--path", inst, &ref), 0,
			       "%s: systemd-escape -u --path accepts it", name);
			unit_name_path_unescape(inst, &mine);
			is_str(ref, mine, "%s: systemd unescapes it the same", name);
		}
	}
}

static void test_dc(void)
{
	static const struct dc_case cases[] = {
		{ { { "transport", "tcp" }, { "traddr", "192.168.1.10" }, { "trsvcid", "8009" } },
		  3,
		  "tcp-192.168.1.10-8009" },
		{ { { "transport", "tcp" },
		    { "traddr", "192.168.1.10" },
		    { "trsvcid", "8009" },
		    { "subsysnqn", NVME_DISC_SUBSYS_NQN } },
		  4,
		  "tcp-192.168.1.10-8009" },
		{ { { "transport", "tcp" },
		    { "traddr", "192.168.1.10" },
		    { "trsvcid", "8009" },
		    { "subsysnqn", NVME_DISC_SUBSYS_NQN },
		    { "host-iface", "eth0" } },
		  5,
		  "tcp-192.168.1.10-8009-host\\x2diface\\x3deth0" },
		{ { { "transport", "tcp" },
		    { "traddr", "fe80::1%eth0" },
		    { "trsvcid", "8009" },
		    { "subsysnqn", NVME_DISC_SUBSYS_NQN },
		    { "host-iface", "eth0" } },
		  5,
		  "tcp-fe80::1\\x25eth0-8009-host\\x2diface\\x3deth0" },
		{ { { "transport", "tcp" },
		    { "traddr", "FE80::0001%eth0" },
		    { "trsvcid", "08009" },
		    { "subsysnqn", NVME_DISC_SUBSYS_NQN } },
		  4,
		  "tcp-fe80::1\\x25eth0-8009" },
		{ { { "transport", "rdma" },
		    { "traddr", "2001:db8::10" },
		    { "trsvcid", "4420" },
		    { "subsysnqn", "nqn.2014-08.com.example:cdc" },
		    { "host-traddr", "2001:db8::1" },
		    { "host-iface", "ib0" },
		    { "host-nqn", "nqn.2014-08.org.nvmexpress:uuid:0f3a5b6c-1234-4abc-8def-"
				  "0123456789ab" } },
		  7,
		  "rdma-2001:db8::10-4420-host\\x2diface\\x3dib0-host\\x2dtraddr\\x3d2001:db8::1-"
		  "nqn\\x3dnqn.2014\\x2d08.com.example:cdc-hostnqn\\x3dnqn.2014\\x2d08.org."
		  "nvmexpress:uuid:0f3a5b6c\\x2d1234\\x2d4abc\\x2d8def\\x2d0123456789ab" },
		{ { { "transport", "tcp" },
		    { "traddr", "10.0.0.1" },
		    { "subsysnqn", NVME_DISC_SUBSYS_NQN } },
		  3,
		  "tcp-10.0.0.1" },
		{ { { "transport", "fc" },
		    { "traddr", "nn-0x20000090fa942779:pn-0x10000090fa942779" },
		    { "subsysnqn", NVME_DISC_SUBSYS_NQN },
		    { "host-traddr", "nn-0x20000090fa942778:pn-0x10000090fa942778" } },
		  4,
		  "fc-nn\\x2d0x20000090fa942779:pn\\x2d0x10000090fa942779-host\\x2dtraddr\\x3dnn"
		  "\\x2d0x20000090fa942778:pn\\x2d0x10000090fa942778" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct tid t;
		char name[32];
		int r = make_tid(&t, cases[i].kv, cases[i].n);

		snprintf(name, sizeof(name), "dc #%zu", i);
		is_int(r, 0, "%s: test TID is valid", name);
		if (r < 0)
			continue;
		check_dc(name, &t, cases[i].instance, false);
	}

	/* Two 223-byte NQNs: too long for a unit name, so the key is used. */
	{
		_cleanup_free_ char *n1 = repeat('a', 223 - 16, "nqn.2014-08.org:");
		_cleanup_free_ char *n2 = repeat('b', 223 - 16, "nqn.2014-08.org:");
		const char *const kv[][2] = {
			{ "transport", "tcp" }, { "traddr", "192.168.1.10" }, { "trsvcid", "8009" },
			{ "subsysnqn", n1 },	{ "host-nqn", n2 },
		};
		struct tid t, t2;
		_cleanup_free_ char *i1 = NULL, *i2 = NULL;

		is_int(make_tid(&t, kv, ELEMENTSOF(kv)), 0, "long TID is valid");
		check_dc("long", &t, NULL, true);

		/* Another long TID gets another key. */
		t2 = t;
		t2.host_nqn[100] = 'c';
		dc_instance_format(&t, &i1, NULL);
		dc_instance_format(&t2, &i2, NULL);
		ok(i1 && i2 && !streq(i1, i2), "different long TIDs, different keys");

		/*
		 * "stas-discover@tcp-1.2.3.4-8009-nqn\x3d" + ".service" is 46
		 * bytes, the NQN's "2014-08" costs 3 more: a 206-byte NQN is the
		 * longest that fits.
		 */
		_cleanup_free_ char *n3 = repeat('a', 206 - 16, "nqn.2014-08.org:");
		_cleanup_free_ char *n4 = repeat('a', 207 - 16, "nqn.2014-08.org:");
		const char *const kv3[][2] = {
			{ "transport", "tcp" },
			{ "traddr", "1.2.3.4" },
			{ "trsvcid", "8009" },
			{ "subsysnqn", n3 },
		};
		const char *const kv4[][2] = {
			{ "transport", "tcp" },
			{ "traddr", "1.2.3.4" },
			{ "trsvcid", "8009" },
			{ "subsysnqn", n4 },
		};
		is_int(make_tid(&t, kv3, ELEMENTSOF(kv3)), 0, "206-byte NQN TID is valid");
		check_dc("206-byte NQN (255-byte unit)", &t, NULL, false);
		is_int(make_tid(&t, kv4, ELEMENTSOF(kv4)), 0, "207-byte NQN TID is valid");
		check_dc("207-byte NQN (256-byte unit)", &t, NULL, true);
	}

	/* Kernel controller names. */
	{
		struct tid t;
		char *ctrl = NULL, *key = (char *)"x";

		memset(&t, 0xff, sizeof(t));
		is_int(dc_instance_parse("nvme12", &t, &ctrl, &key), 0, "parse nvme12");
		is_str(ctrl, "nvme12", "nvme12: controller name");
		ok(key == NULL, "nvme12: no key");
		ok(t.transport[0] == '\0' && t.traddr[0] == '\0', "nvme12: TID zeroed");
		free(ctrl);
	}
}

static void test_dc_invalid(void)
{
	static const char *const bad[] = {
		"",
		"nvme",
		"nvme1a",
		"nvme-1",
		"key-",
		"key-0123456789abcde",
		"key-0123456789abcdef0",
		"key-0123456789ABCDEF",
		"key-0123456789abcdeg",
		"tcp",
		"-",
		"tcp-",
		"-tcp-1.2.3.4",
		"tcp--1.2.3.4",
		"tcp-1.2.3.4-",
		"udp-1.2.3.4-8009",
		"TCP-1.2.3.4-8009",
		"tcp-1.2.3.4-99999",
		"tcp-1.2.3.4-0",
		"tcp-1.2.3.4-80x9",
		"tcp-1.2.3.400-8009",
		"tcp-host.example.com-8009",
		"tcp-1.2.3.4-8009-bogus",
		"tcp-1.2.3.4-8009-foo\\x3dbar",
		"tcp-1.2.3.4-8009-nqn\\x3d",
		"tcp-1.2.3.4-8009-nqn\\x3dnotannqn",
		"tcp-1.2.3.4-8009-traddr\\x3d1.2.3.5",
		"tcp-1.2.3.4-8009-host\\x2diface\\x3deth0-host\\x2diface\\x3deth1",
		"tcp-1.2.3.4-8009-host\\x2diface\\x3da\\x20b",
		/* not canonical: another spelling of a valid DC */
		"tcp-192.168.001.010-8009",
		"tcp-1.2.3.4-08009",
		"tcp-1.2.3.4-8009-nqn\\x3dnqn.2014\\x2d08.org.nvmexpress.discovery",
		"tcp-1.2.3.4-8009-host_iface\\x3deth0",
		"tcp-1.2.3.4-8009-hostnqn\\x3dnqn.a-nqn\\x3dnqn.b",
		/* malformed escapes and characters */
		"tcp-1.2.3.4-\\x",
		"tcp-1.2.3.4-\\x00",
		"tcp-1.2.3.4 8009",
		"tcp/1.2.3.4/8009",
		"tcp-.-8009",
		"tcp-..-8009",
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct tid t, zero;
		char *ctrl = (char *)"c", *key = (char *)"k";

		memset(&t, 0x5a, sizeof(t));
		zero = t;
		is_int(dc_instance_parse(bad[i], &t, &ctrl, &key), -EINVAL, "rejects '%s'", bad[i]);
		ok(memcmp(&t, &zero, sizeof(t)) == 0 && streq(ctrl, "c") && streq(key, "k"),
		   "'%s': outputs untouched", bad[i]);
	}

	/* Fields that cannot be path components fall back to the key. */
	{
		struct tid t = {};
		_cleanup_free_ char *inst = NULL;
		bool is_key = false;

		strcpy(t.transport, "loop");
		is_int(dc_instance_format(&t, &inst, &is_key), 0, "loop without traddr: format");
		ok(is_key, "loop without traddr: key");
	}
	{
		struct tid t = {};
		_cleanup_free_ char *inst = NULL;

		is_int(dc_instance_format(&t, &inst, NULL), -EINVAL, "empty TID refused");
	}
}

/* The names stas-discover and stas-mdns-watch both give a DC's unit. */
static void test_dc_unit(void)
{
	static const char host[] =
		"nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001";
	_cleanup_free_ char *u1 = NULL, *u2 = NULL, *i3 = NULL;
	struct tid t = {};
	bool is_key = true;

	strcpy(t.transport, "tcp");
	strcpy(t.traddr, "192.168.1.10");
	strcpy(t.trsvcid, "8009");
	strcpy(t.subsysnqn, NVME_DISC_SUBSYS_NQN);
	strcpy(t.host_nqn, host);

	is_int(unit_name_dc(&t, host, &u1, &is_key), 0, "unit_name_dc: configured host NQN");
	is_str(u1, "stas-discover@tcp-192.168.1.10-8009.service",
	       "  ... the configured host NQN is left out");
	ok(!is_key, "  ... not a key");
	is_int(unit_name_dc(&t, NULL, &u2, NULL), 0, "unit_name_dc: no configured host NQN");
	is_str(u2,
	       "stas-discover@tcp-192.168.1.10-8009-hostnqn\\x3dnqn.2014\\x2d08.org.nvmexpress:"
	       "uuid:00000000\\x2d0000\\x2d0000\\x2d0000\\x2d000000000001.service",
	       "  ... another host NQN is kept");
	is_int(unit_name_dc_instance(&t, host, &i3, NULL), 0, "unit_name_dc_instance");
	is_str(i3, "tcp-192.168.1.10-8009", "  ... the instance alone");
}

/* What stas-trigger accepts from the udev rule: a service unit name only. */
static void test_service_name(void)
{
	char long_name[UNIT_NAME_MAX + 2];

	ok(unit_name_is_valid_service("stas-discover@nvme0.service"), "service: an instance unit");
	ok(unit_name_is_valid_service(
		   "stas-connect@nqn.2014\\x2d08.com.example:sub\\x2d1-x.service"),
	   "service: an escaped NQN instance");
	ok(!unit_name_is_valid_service("stas.target"), "service: a target is refused");
	ok(!unit_name_is_valid_service(".service"), "service: an empty stem is refused");
	ok(!unit_name_is_valid_service(""), "service: empty is refused");
	ok(!unit_name_is_valid_service(NULL), "service: NULL is refused");
	ok(!unit_name_is_valid_service("stas-discover@a b.service"), "service: a space is refused");
	ok(!unit_name_is_valid_service("../x.service"), "service: a slash is refused");
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memcpy(long_name + sizeof(long_name) - 1 - STRLEN(".service"), ".service",
	       STRLEN(".service"));
	ok(!unit_name_is_valid_service(long_name), "service: %zu bytes is one too many",
	   strlen(long_name));
	long_name[0] = '\0';
	memset(long_name, 'a', UNIT_NAME_MAX - STRLEN(".service"));
	strcpy(long_name + UNIT_NAME_MAX - STRLEN(".service"), ".service");
	ok(unit_name_is_valid_service(long_name), "service: %zu bytes is the most",
	   strlen(long_name));
}

int main(void)
{
	_cleanup_free_ char *probe = NULL;

	have_systemd_escape = systemd_escape(NULL, NULL, "x", &probe) == 0;
	if (!have_systemd_escape)
		diag("systemd-escape not found: skipping the comparisons with it");

	test_plain();
	test_unescape_malformed();
	test_path();
	test_build();
	test_connect_key();
	test_dc();
	test_dc_invalid();
	test_dc_unit();
	test_service_name();
	return tap_done();
}
