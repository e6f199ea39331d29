/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transport-ID strings: the kernel's sysfs address strings. Properties: no
 * crash; canonicalisation is idempotent; the cache key round-trips.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "tid.h"

static void check(struct tid *t)
{
	char key[TID_KEY_MAX], buf[TID_FORMAT_MAX];
	struct tid again, back;

	if (tid_canonicalize(t) < 0)
		return;
	again = *t;
	if (tid_canonicalize(&again) < 0 || !tid_equal(t, &again))
		abort();
	if (tid_key(t, key, sizeof(key)) < 0)
		abort();
	if (tid_from_key(key, &back) < 0 || !tid_equal(t, &back))
		abort();
	(void)tid_format(t, buf, sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = fuzz_strndup(data, size);
	struct tid t;

	if (!s)
		return 0;
	memset(&t, 0, sizeof(t));
	strcpy(t.transport, "tcp");
	if (tid_parse_sysfs_address(s, &t) == 0)
		check(&t);
	return 0;
}
