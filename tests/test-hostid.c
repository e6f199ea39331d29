/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-hostid - host NQN / host ID validation, generation and files.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hostid.h"
#include "macro.h"

#include "tap.h"

#define NQN_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"

static char tmpdir[] = "/tmp/test-hostid.XXXXXX";

static char *tmp_path(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
		abort();
	return p;
}

static void put(const char *path, const char *content)
{
	FILE *f = fopen(path, "we");

	if (!f)
		abort();
	fputs(content, f);
	fclose(f);
}

static char *get(const char *path)
{
	char *s = NULL;

	if (read_full_file(path, 4096, &s, NULL) < 0)
		return NULL;
	return s;
}

/* A random v4 UUID as uuid_random() makes them: lower-case, version, variant. */
static bool is_v4(const char *u)
{
	if (!uuid_is_valid(u) || u[14] != '4' || !strchr("89ab", u[19]))
		return false;
	for (; *u; u++)
		if (*u >= 'A' && *u <= 'F')
			return false;
	return true;
}

static void test_valid(void)
{
	_cleanup_free_ char *max = NULL, *over = NULL;
	static const char *const good_nqn[] = {
		NQN_PREFIX "0f3a5b6c-1234-4abc-8def-0123456789ab",
		"nqn.2014-08.org.nvmexpress.discovery",
		"nqn.1992-08.com.netapp:sn.1234:vs.5",
	};
	static const char *const bad_nqn[] = {
		"",
		"hostnqn",
		"NQN.2014-08.org.nvmexpress:uuid:x",
		"nqn.2014-08.org.nvmexpress:uuid: 0f3a",
		"nqn.2014-08.org\tx",
		"nqn.2014-08.org\x01x",
		"nqn.2014-08.org\xc3\xa9",
		" nqn.2014-08.org.x",
	};
	static const char *const good_uuid[] = {
		"0f3a5b6c-1234-4abc-8def-0123456789ab",
		"0F3A5B6C-1234-4ABC-8DEF-0123456789AB",
		"00000000-0000-0000-0000-000000000000",
	};
	static const char *const bad_uuid[] = {
		"",
		"0f3a5b6c12344abc8def0123456789ab",
		"0f3a5b6c-1234-4abc-8def-0123456789a",
		"0f3a5b6c-1234-4abc-8def-0123456789abc",
		"0f3a5b6c-1234-4abc-8def_0123456789ab",
		"0f3a5b6c-1234-4abc-8deg-0123456789ab",
		"{0f3a5b6c-1234-4abc-8def-0123456789ab}",
		" 0f3a5b6c-1234-4abc-8def-0123456789a",
	};

	for (size_t i = 0; i < ELEMENTSOF(good_nqn); i++)
		ok(hostnqn_is_valid(good_nqn[i]), "valid NQN '%s'", good_nqn[i]);
	for (size_t i = 0; i < ELEMENTSOF(bad_nqn); i++)
		ok(!hostnqn_is_valid(bad_nqn[i]), "invalid NQN #%zu '%s'", i, bad_nqn[i]);
	ok(!hostnqn_is_valid(NULL), "NULL NQN invalid");

	max = malloc(224 + 1);
	memset(max, 'x', 224);
	memcpy(max, "nqn.2014-08.org:", 16);
	max[223] = '\0';
	ok(hostnqn_is_valid(max), "223-byte NQN valid");
	over = malloc(225);
	memset(over, 'x', 224);
	memcpy(over, "nqn.2014-08.org:", 16);
	over[224] = '\0';
	ok(!hostnqn_is_valid(over), "224-byte NQN invalid");

	for (size_t i = 0; i < ELEMENTSOF(good_uuid); i++)
		ok(uuid_is_valid(good_uuid[i]), "valid UUID '%s'", good_uuid[i]);
	for (size_t i = 0; i < ELEMENTSOF(bad_uuid); i++)
		ok(!uuid_is_valid(bad_uuid[i]), "invalid UUID '%s'", bad_uuid[i]);
	ok(!uuid_is_valid(NULL), "NULL UUID invalid");
}

static void test_read(void)
{
	static const struct {
		const char *content, *want;
		int r;
	} cases[] = {
		{ "nqn.a:b\n", "nqn.a:b", 0 },
		{ "nqn.a:b", "nqn.a:b", 0 },
		{ "nqn.a:b  \t\r\n", "nqn.a:b", 0 },
		{ "  nqn.a:b\n", "nqn.a:b", 0 },
		{ "\n\nnqn.a:b\nsecond line\n", "nqn.a:b", 0 },
		{ "first\nsecond\n", "first", 0 },
		{ "", NULL, -ENODATA },
		{ "\n", NULL, -ENODATA },
		{ " \t \n \n", NULL, -ENODATA },
	};
	_cleanup_free_ char *p = tmp_path("read");
	_cleanup_free_ char *missing = tmp_path("missing");
	char *sentinel = (char *)"untouched", *v = sentinel;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *got = NULL;

		put(p, cases[i].content);
		is_int(hostid_read_file(p, &got), cases[i].r, "read #%zu: result", i);
		is_str(got, cases[i].want, "read #%zu: value", i);
	}
	is_int(hostid_read_file(missing, &v), -ENOENT, "missing file: -ENOENT");
	ok(v == sentinel, "missing file: ret untouched");
	put(p, "");
	is_int(hostid_read_file(p, &v), -ENODATA, "empty file: -ENODATA");
	ok(v == sentinel, "empty file: ret untouched");
}

static void test_generate(void)
{
	static const char *const bogus[] = {
		"00000000-0000-0000-0000-000000000000\n",
		"ffffffff-ffff-ffff-ffff-ffffffffffff\n",
		"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF\n",
		"03000200-0400-0500-0006-000700080009\n",
		"not a uuid\n",
		"0f3a5b6c-1234-4abc-8def-0123456789ab-extra\n",
		"",
	};
	_cleanup_free_ char *dmi = tmp_path("product_uuid");
	_cleanup_free_ char *missing = tmp_path("no_product_uuid");

	/* A usable DMI UUID is taken, lower-cased. */
	{
		_cleanup_free_ char *n = NULL, *id = NULL;

		put(dmi, "4C4C4544-0042-3510-8052-B4C04F4E4B32\n");
		is_int(hostnqn_generate_from(dmi, &n), 0, "hostnqn from DMI");
		is_str(n, NQN_PREFIX "4c4c4544-0042-3510-8052-b4c04f4e4b32",
		       "hostnqn from DMI value");
		ok(hostnqn_is_valid(n), "generated hostnqn is valid");
		is_int(hostid_generate(n, &id), 0, "hostid from that hostnqn");
		is_str(id, "4c4c4544-0042-3510-8052-b4c04f4e4b32", "hostid is the NQN's UUID");
	}

	/* Placeholders, garbage, no file: a random v4 UUID instead. */
	for (size_t i = 0; i < ELEMENTSOF(bogus); i++) {
		_cleanup_free_ char *n = NULL;
		const char *u;

		put(dmi, bogus[i]);
		is_int(hostnqn_generate_from(dmi, &n), 0, "bogus DMI #%zu: generated", i);
		u = n ? startswith(n, NQN_PREFIX) : NULL;
		ok(u && is_v4(u), "bogus DMI #%zu ignored: random v4 (%s)", i, strempty(n));
	}
	{
		_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

		is_int(hostnqn_generate_from(missing, &a), 0, "no DMI file: generated");
		ok(a && is_v4(a + STRLEN(NQN_PREFIX)), "no DMI file: random v4");
		is_int(hostnqn_generate_from(NULL, &b), 0, "no DMI path: generated");
		ok(b && a && !streq(a, b), "two random host NQNs differ");
		is_int(hostnqn_generate(&c), 0, "hostnqn_generate() on this machine");
		ok(c && hostnqn_is_valid(c) && startswith(c, NQN_PREFIX) &&
			   uuid_is_valid(c + STRLEN(NQN_PREFIX)),
		   "hostnqn_generate() format: %s", strempty(c));
	}

	/* Host ID derivation. */
	{
		static const struct {
			const char *nqn, *want;
		} derive[] = {
			{ NQN_PREFIX "0f3a5b6c-1234-4abc-8def-0123456789ab",
			  "0f3a5b6c-1234-4abc-8def-0123456789ab" },
			{ NQN_PREFIX "0F3A5B6C-1234-4ABC-8DEF-0123456789AB",
			  "0f3a5b6c-1234-4abc-8def-0123456789ab" },
			{ "nqn.2014-08.com.example:uuid:11111111-2222-3333-4444-555555555555",
			  "11111111-2222-3333-4444-555555555555" },
			{ "nqn.2014-08.org.nvmexpress:host1", NULL },
			{ NQN_PREFIX "0f3a5b6c-1234-4abc-8def-0123456789a", NULL },
			{ NQN_PREFIX "0f3a5b6c-1234-4abc-8def-0123456789abcd", NULL },
			{ NQN_PREFIX, NULL },
			{ NULL, NULL },
		};

		for (size_t i = 0; i < ELEMENTSOF(derive); i++) {
			_cleanup_free_ char *id = NULL;

			is_int(hostid_generate(derive[i].nqn, &id), 0, "hostid #%zu generated", i);
			if (derive[i].want)
				is_str(id, derive[i].want, "hostid #%zu derived", i);
			else
				ok(id && is_v4(id), "hostid #%zu random v4 (%s)", i, strempty(id));
		}
	}
}

static void test_write(void)
{
	_cleanup_free_ char *p = tmp_path("etc/nvme/hostnqn");
	_cleanup_free_ char *empty = tmp_path("empty");
	_cleanup_free_ char *c1 = NULL, *c2 = NULL, *c3 = NULL, *c4 = NULL, *v = NULL;
	struct stat st;

	is_int(hostid_write_file(p, "nqn.a:one", false), 0, "write a new file (parents made)");
	c1 = get(p);
	is_str(c1, "nqn.a:one\n", "content is value + newline");
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0644, "mode 0644");
	is_int(hostid_read_file(p, &v), 0, "read back");
	is_str(v, "nqn.a:one", "read back value");

	is_int(hostid_write_file(p, "nqn.a:two", false), -EEXIST, "non-empty file refused");
	c2 = get(p);
	is_str(c2, "nqn.a:one\n", "refused write left the file alone");

	is_int(hostid_write_file(p, "nqn.a:three", true), 0, "force replaces it");
	c3 = get(p);
	is_str(c3, "nqn.a:three\n", "forced content");

	put(empty, "");
	is_int(hostid_write_file(empty, "nqn.a:four", false), 0, "an empty file may be filled");
	c4 = get(empty);
	is_str(c4, "nqn.a:four\n", "filled empty file");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}

	test_valid();
	test_read();
	test_generate();
	test_write();

	(void)nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
