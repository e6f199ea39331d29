/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The body of an export, behind a header computed for it (so the checksum
 * never stops the input: the body parser, the record decoders and
 * validators, the import's write transaction and its cross-check all run),
 * imported for real into a scratch cache seeded with known content.
 * Properties: no crash; a refused import changes nothing (the cache exports
 * byte for byte as before); an accepted one verifies clean. The scratch
 * directory is removed at exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "fuzz.h"
#include "macro.h"
#include "sha256.h"

static struct cache *cache;
static char dir[] = "/tmp/stas-fuzz-import.XXXXXX";
static char *seed_export; /* the seeded content, as an export */
static size_t seed_size;

static void scratch_remove(void)
{
	char p[sizeof(dir) + 16];

	cache = cache_free(cache);
	free(seed_export);
	for (const char *const *f = (const char *const[]){ "data.mdb", "lock.mdb", NULL }; *f;
	     f++) {
		snprintf(p, sizeof(p), "%s/%s", dir, *f);
		(void)unlink(p);
	}
	(void)rmdir(dir);
}

/* The whole cache as an export (newly allocated). */
static char *export_all(size_t *ret_size)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&buf, &size);

	if (!m || cache_export(cache, m, NULL) < 0 || fclose(m) != 0)
		abort();
	*ret_size = size;
	return buf;
}

static void import_buffer(const char *buf, size_t size, bool must_succeed)
{
	struct cache_import_summary s;
	FILE *f = fmemopen((void *)buf, size, "r");

	if (!f)
		abort();
	if (cache_import(cache, f, false, &s) != 1 && must_succeed)
		abort();
	fclose(f);
}

static void setup(void)
{
	struct cache_dc dc = {};
	struct dlpe e = {};

	if (!mkdtemp(dir))
		abort();
	atexit(scratch_remove);
	if (cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &cache) < 0)
		abort();
	strcpy(dc.tid.transport, "tcp");
	strcpy(dc.tid.traddr, "192.168.1.10");
	strcpy(dc.tid.trsvcid, "8009");
	strcpy(dc.tid.subsysnqn, NVME_DISC_SUBSYS_NQN);
	dc.origin = CACHE_ORIGIN_CONFIG;
	e.trtype = 3;
	e.adrfam = 1;
	e.subtype = DLPE_SUBTYPE_NVME;
	e.treq = DLPE_TREQ_NOT_REQUIRED;
	e.cntlid = 0xffff;
	e.asqsz = 32;
	strcpy(e.transport, "tcp");
	strcpy(e.trsvcid, "4420");
	strcpy(e.traddr, "192.168.1.20");
	strcpy(e.subnqn, "nqn.2024-01.io.test:sub1");
	if (cache_dlp_put(cache, &dc, &e, 1, 1, NULL) < 0)
		abort();
	seed_export = export_all(&seed_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *file = NULL, *before = NULL, *after = NULL;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hexd[2 * SHA256_DIGEST_SIZE + 1];
	size_t records = 0, fsize = 0, bsize, asize;
	struct cache_import_summary s;
	FILE *m, *f;
	int r;

	if (!cache)
		setup();
	/* a header that matches the body: the line count is the record count */
	for (size_t i = 0; i < size; i++)
		records += data[i] == '\n';
	sha256(data, size, digest);
	m = open_memstream(&file, &fsize);
	if (!m)
		abort();
	fprintf(m, "stas-cache-export %u schema %u records %zu bytes %zu sha256 %s\n",
		CACHE_EXPORT_VERSION, CACHE_SCHEMA_VERSION, records, size,
		sha256_hex(digest, hexd));
	fwrite(data, 1, size, m);
	if (fclose(m) != 0)
		abort();

	before = export_all(&bsize);
	f = fmemopen(file, fsize, "r");
	if (!f)
		abort();
	r = cache_import(cache, f, false, &s);
	fclose(f);
	if (r < 0) {
		/* refused: not one byte changed */
		after = export_all(&asize);
		if (asize != bsize || memcmp(before, after, bsize) != 0)
			abort();
		if (!s.reason[0] && r == -EBADMSG)
			abort(); /* a refusal always says why */
		return 0;
	}
	if (r != 1 || cache_verify(cache, NULL, NULL) != 0)
		abort();
	/* back to the seeded content for the next input */
	import_buffer(seed_export, seed_size, true);
	return 0;
}
