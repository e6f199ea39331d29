/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz.h - every fuzz target defines LLVMFuzzerTestOneInput(). Built with
 * clang -fsanitize=fuzzer it is a libFuzzer target (tests/fuzz/run); built
 * with replay.c it is a TAP test that replays the corpus in the tree
 * (tests/fuzz/corpus/<target>/), run by make check.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (free()), for string parsers. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}
