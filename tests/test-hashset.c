/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-hashset - the string set: add, duplicates, values, growth across
 * many keys (every one found, no absent one found), the empty and NULL set.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashset.h"

#include "tap.h"

#define N 50000

int main(void)
{
	_cleanup_hashset_free_ struct hashset *s = NULL;
	void *v = NULL;
	char key[64];
	bool all = true, none = true;
	int a = 1, b = 2;

	ok(!hashset_contains(NULL, "x") && hashset_size(NULL) == 0, "NULL is the empty set");
	hashset_free(NULL);
	is_int(hashset_new(&s), 0, "new");
	ok(!hashset_contains(s, "x"), "an empty set holds nothing");
	is_int(hashset_put(s, "a", &a, NULL), 1, "put: added");
	is_int(hashset_put(s, "", NULL, NULL), 1, "put: the empty string is a key too");
	is_int(hashset_put(s, "a", &b, &v), 0, "put: a duplicate is not added");
	ok(v == &a, "  ... and the first value is returned");
	ok(hashset_get(s, "a", &v) && v == &a, "get: the first value stays");
	ok(hashset_contains(s, "") && !hashset_contains(s, "b") && !hashset_contains(s, "a "),
	   "contains: exact keys only");
	is_int((int)hashset_size(s), 2, "two keys");
	v = &b;
	ok(!hashset_get(s, "zz", &v) && v == &b, "get: value untouched when absent");
	hashset_free(TAKE_PTR(s));

	/* many keys sharing a long prefix, as NQNs do; the set grows many times */
	is_int(hashset_new(&s), 0, "new (large)");
	for (uintptr_t i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "nqn.2014-08.com.example:subsystem-%06zu", (size_t)i);
		if (hashset_put(s, key, (void *)(i + 1), NULL) != 1)
			all = false;
	}
	ok(all, "%d distinct keys added", N);
	is_int((int)hashset_size(s), N, "size %d", N);
	for (uintptr_t i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "nqn.2014-08.com.example:subsystem-%06zu", (size_t)i);
		if (!hashset_get(s, key, &v) || v != (void *)(i + 1))
			all = false;
		snprintf(key, sizeof(key), "nqn.2014-08.com.example:subsystem-%06zu",
			 (size_t)i + N);
		if (hashset_contains(s, key))
			none = false;
	}
	ok(all, "every key found with its value");
	ok(none, "no absent key found");
	return tap_done();
}
