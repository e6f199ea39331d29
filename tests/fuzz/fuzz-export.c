/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An export file given to `stasadm import`. Properties: no crash; a dry run
 * never changes the cache; a refused file leaves the cache as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "fuzz.h"
#include "macro.h"

static struct cache *cache;
static char dir[] = "/tmp/stas-fuzz-export.XXXXXX";

/* the scratch cache does not outlive the run */
static void scratch_remove(void)
{
	char p[sizeof(dir) + 16];

	cache = cache_free(cache);
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	(void)unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	(void)unlink(p);
	(void)rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cache_import_summary sum;
	struct cache_stats before, after;
	FILE *f;

	if (!cache) {
		if (!mkdtemp(dir))
			abort();
		atexit(scratch_remove);
		if (cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &cache) < 0)
			abort();
	}
	if (size == 0)
		return 0;
	if (cache_stats(cache, &before) < 0)
		abort();
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	(void)cache_import(cache, f, true, &sum);
	fclose(f);
	if (cache_stats(cache, &after) < 0 || before.n_dcs != after.n_dcs ||
	    before.n_entries != after.n_entries || before.n_paths != after.n_paths)
		abort();
	return 0;
}
