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

/* A raw SMBIOS type-1 entry (header, four string indexes, then the UUID). */
#define DMI_RAW_DELL                                                       \
	"\x01\x1b\x01\x00\x01\x02\x03\x04"                                 \
	"\x44\x45\x4c\x4c\x42\x00\x10\x35\x80\x52\xb4\xc0\x4f\x4e\x4b\x32" \
	"\x06\x05\x06\x00"
#define DMI_RAW_ZERO                       \
	"\x01\x1b\x01\x00\x01\x02\x03\x04" \
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
/* 03000200-0400-0500-0006-000700080009, the placeholder, as raw bytes */
#define DMI_RAW_PLACEHOLDER                \
	"\x01\x1b\x01\x00\x01\x02\x03\x04" \
	"\x00\x02\x00\x03\x00\x04\x00\x05\x00\x06\x00\x07\x00\x08\x00\x09"
#define DELL "4c4c4544-0042-3510-8052-b4c04f4e4b32"
#define DT "7b0f2bd8-5c1e-4a33-9a4d-0123456789ab"

struct blob {
	const char *data;
	size_t size; /* 0: strlen(data) */
};

static void put_blob(const char *path, struct blob b)
{
	FILE *f = fopen(path, "we");

	if (!f)
		abort();
	fwrite(b.data, 1, b.size ? b.size : strlen(b.data), f);
	fclose(f);
}

static void test_sources(void)
{
	/* NULL: the file is absent. dmi_type/dmi_raw describe entry "1-0"; a
	 * type-0 entry "0-0" is always there, to be passed over. */
	static const struct {
		const char *name;
		const char *product_uuid;
		const char *dmi_type;
		struct blob dmi_raw;
		struct blob dt;
		const char *want; /* NULL: random */
		enum hostid_source source;
	} cases[] = {
		{ "product_uuid first",
		  DELL "\n",
		  "1\n",
		  { DMI_RAW_ZERO, 24 },
		  { DT, 0 },
		  DELL,
		  HOSTID_SOURCE_PRODUCT_UUID },
		{ "product_uuid taken as it is (case kept)",
		  "4C4C4544-0042-3510-8052-B4C04F4E4B32\n",
		  NULL,
		  {},
		  {},
		  "4C4C4544-0042-3510-8052-B4C04F4E4B32",
		  HOSTID_SOURCE_PRODUCT_UUID },
		{ "product_uuid without its newline: next source",
		  DELL,
		  "1\n",
		  { DMI_RAW_DELL, sizeof(DMI_RAW_DELL) - 1 },
		  {},
		  DELL,
		  HOSTID_SOURCE_DMI_ENTRIES },
		{ "product_uuid longer than a UUID: next source",
		  DELL "0\n",
		  NULL,
		  {},
		  { DT, 0 },
		  DT,
		  HOSTID_SOURCE_DEVICE_TREE },
		{ "product_uuid not a UUID",
		  "0f3a5b6c-1234-4abc-8def_0123456789ab\n",
		  NULL,
		  {},
		  {},
		  NULL,
		  HOSTID_SOURCE_RANDOM },
		{ "raw entry: first three fields swapped",
		  NULL,
		  "1\n",
		  { DMI_RAW_DELL, sizeof(DMI_RAW_DELL) - 1 },
		  { DT, 0 },
		  DELL,
		  HOSTID_SOURCE_DMI_ENTRIES },
		{ "raw entry all zeros: device tree",
		  NULL,
		  "1\n",
		  { DMI_RAW_ZERO, 24 },
		  { DT "\0garbage", sizeof(DT "\0garbage") - 1 },
		  DT,
		  HOSTID_SOURCE_DEVICE_TREE },
		{ "raw entry of 23 bytes: skipped",
		  NULL,
		  "1\n",
		  { DMI_RAW_DELL, 23 },
		  {},
		  NULL,
		  HOSTID_SOURCE_RANDOM },
		{ "raw entry of another type: skipped",
		  NULL,
		  "2\n",
		  { DMI_RAW_DELL, sizeof(DMI_RAW_DELL) - 1 },
		  {},
		  NULL,
		  HOSTID_SOURCE_RANDOM },
		{ "type-1 entry without raw: skipped",
		  NULL,
		  "1\n",
		  {},
		  { DT, 0 },
		  DT,
		  HOSTID_SOURCE_DEVICE_TREE },
		{ "placeholder in both DMI sources: device tree",
		  "03000200-0400-0500-0006-000700080009\n",
		  "1\n",
		  { DMI_RAW_PLACEHOLDER, sizeof(DMI_RAW_PLACEHOLDER) - 1 },
		  { DT "\n", 0 },
		  DT,
		  HOSTID_SOURCE_DEVICE_TREE },
		{ "all-f product_uuid",
		  "ffffffff-ffff-ffff-ffff-ffffffffffff\n",
		  NULL,
		  {},
		  {},
		  NULL,
		  HOSTID_SOURCE_RANDOM },
		{ "device tree: at most 36 bytes read",
		  NULL,
		  NULL,
		  {},
		  { DT "ab", 0 },
		  DT,
		  HOSTID_SOURCE_DEVICE_TREE },
		{ "device tree not a UUID",
		  NULL,
		  NULL,
		  {},
		  { "IBM,0123456789", 0 },
		  NULL,
		  HOSTID_SOURCE_RANDOM },
		{ "device tree empty", NULL, NULL, {}, { "\0", 1 }, NULL, HOSTID_SOURCE_RANDOM },
		{ "nothing at all", NULL, NULL, {}, {}, NULL, HOSTID_SOURCE_RANDOM },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *dir = NULL, *pu = NULL, *ent = NULL, *e0 = NULL, *e1 = NULL,
				    *f = NULL, *dt = NULL, *n = NULL;
		struct hostid_sources src;
		enum hostid_source from = _HOSTID_SOURCE_MAX;
		char uuid[UUID_STR_LEN + 1] = "untouched";
		char *name;
		int r;

		if (asprintf(&name, "src%zu", i) < 0)
			abort();
		dir = tmp_path(name);
		free(name);
		if (asprintf(&pu, "%s/product_uuid", dir) < 0 ||
		    asprintf(&ent, "%s/entries", dir) < 0 || asprintf(&e0, "%s/0-0", ent) < 0 ||
		    asprintf(&e1, "%s/1-0", ent) < 0 || asprintf(&dt, "%s/dt-uuid", dir) < 0)
			abort();
		if (mkdir(dir, 0755) < 0 || mkdir(ent, 0755) < 0 || mkdir(e0, 0755) < 0 ||
		    mkdir(e1, 0755) < 0)
			abort();
		src = (struct hostid_sources){ pu, ent, dt };

		free(f);
		if (asprintf(&f, "%s/type", e0) < 0)
			abort();
		put(f, "0\n");
		free(f);
		if (asprintf(&f, "%s/raw", e0) < 0)
			abort();
		put_blob(f, (struct blob){ DMI_RAW_DELL, sizeof(DMI_RAW_DELL) - 1 });
		if (cases[i].product_uuid)
			put(pu, cases[i].product_uuid);
		if (cases[i].dmi_type) {
			free(f);
			if (asprintf(&f, "%s/type", e1) < 0)
				abort();
			put(f, cases[i].dmi_type);
		}
		if (cases[i].dmi_raw.data) {
			free(f);
			if (asprintf(&f, "%s/raw", e1) < 0)
				abort();
			put_blob(f, cases[i].dmi_raw);
		}
		if (cases[i].dt.data)
			put_blob(dt, cases[i].dt);

		r = hostid_system_uuid(&src, uuid, &from);
		if (cases[i].want) {
			is_int(r, 0, "%s: system UUID found", cases[i].name);
			is_str(uuid, cases[i].want, "%s: UUID", cases[i].name);
			is_str(hostid_source_to_string(from),
			       hostid_source_to_string(cases[i].source), "%s: source",
			       cases[i].name);
		} else {
			is_int(r, -ENOENT, "%s: no system UUID", cases[i].name);
			ok(streq(uuid, "untouched") && from == _HOSTID_SOURCE_MAX,
			   "%s: outputs untouched", cases[i].name);
		}

		from = _HOSTID_SOURCE_MAX;
		is_int(hostnqn_generate_from(&src, &n, &from), 0, "%s: hostnqn generated",
		       cases[i].name);
		if (cases[i].want) {
			_cleanup_free_ char *w = NULL;

			if (asprintf(&w, NQN_PREFIX "%s", cases[i].want) < 0)
				abort();
			is_str(n, w, "%s: hostnqn", cases[i].name);
		} else
			ok(n && str_startswith(n, NQN_PREFIX) && is_v4(n + STRLEN(NQN_PREFIX)),
			   "%s: hostnqn with a random v4 UUID (%s)", cases[i].name, strempty(n));
		is_str(hostid_source_to_string(from), hostid_source_to_string(cases[i].source),
		       "%s: hostnqn source", cases[i].name);
	}
	ok(hostid_source_to_string(_HOSTID_SOURCE_MAX) == NULL, "source name out of range: NULL");
}

static void test_generate(void)
{
	static const struct hostid_sources none = {};

	{
		_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

		is_int(hostnqn_generate_from(&none, &a, NULL), 0, "no sources: generated");
		ok(a && is_v4(a + STRLEN(NQN_PREFIX)), "no sources: random v4");
		is_int(hostnqn_generate_from(&none, &b, NULL), 0, "no sources again: generated");
		ok(b && a && !streq(a, b), "two random host NQNs differ");
		is_int(hostnqn_generate(&c), 0, "hostnqn_generate() on this machine");
		ok(c && hostnqn_is_valid(c) && str_startswith(c, NQN_PREFIX) &&
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
	test_sources();
	test_generate();
	test_write();

	(void)nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
