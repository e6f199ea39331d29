/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NBFT tables (lib/nbft.c's own parser). The checksum byte is recomputed
 * before parsing, so the fuzzer reaches the descriptors instead of stopping
 * at the checksum (test-nbft covers the checksum itself). Properties: no
 * crash or overread (the table is copied to a buffer of exactly its size);
 * an accepted table's paths are canonical, complete, and claimed by it.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "nbft.h"
#include "tid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ uint8_t *b = malloc(size ? size : 1);
	struct nbft *t = NULL;
	struct nbft *v[2] = {};

	if (!b)
		return 0;
	memcpy(b, data, size);
	if (size >= 10) {
		size_t len =
			size >= 8 ? (size_t)(b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24) :
				    0;
		uint8_t sum = 0;

		b[9] = 0;
		for (size_t i = 0; i < MIN(len, size); i++)
			sum = (uint8_t)(sum + b[i]);
		b[9] = (uint8_t)(0x100 - sum);
	}
	if (nbft_parse(b, size, &t, NULL) < 0)
		return 0;
	v[0] = t;
	for (size_t i = 0; i < t->n_subsys; i++) {
		struct tid c = t->subsys[i].tid;

		if (tid_canonicalize(&c) < 0 || !tid_equal(&c, &t->subsys[i].tid) ||
		    isempty(c.traddr) || isempty(c.subsysnqn) || !streq(c.host_nqn, t->host_nqn) ||
		    !nbft_claims(v, &c))
			abort();
	}
	for (size_t i = 0; i < t->n_dcs; i++) {
		struct tid c = t->dcs[i].tid;

		if (tid_canonicalize(&c) < 0 || !tid_equal(&c, &t->dcs[i].tid) || isempty(c.traddr))
			abort();
	}
	nbft_free(t);
	return 0;
}
