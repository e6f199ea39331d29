/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-strv - the string-vector container.
 */
#include <stdlib.h>
#include <string.h>

#include "strv.h"

#include "tap.h"

int main(void)
{
	_cleanup_strv_free_ char **l = NULL;
	char buf[16];

	is_int((int)strv_length(NULL), 0, "NULL is the empty list");
	ok(!strv_contains(NULL, "a"), "NULL contains nothing");
	is_int(strv_extend(&l, "a"), 1, "extend");
	is_int(strv_extend(&l, "b"), 1, "extend again");
	is_int(strv_extend_unique(&l, "a"), 0, "extend_unique: already there");
	is_int(strv_extend_unique(&l, "c"), 1, "extend_unique: new");
	is_int(strv_consume(&l, strdup("d")), 1, "consume");
	is_int(strv_consume_unique(&l, strdup("d")), 0, "consume_unique: duplicate freed");
	is_int(strv_consume_unique(&l, strdup("e")), 1, "consume_unique: new");
	is_int((int)strv_length(l), 5, "five strings");
	ok(l[5] == NULL, "NULL-terminated");
	is_str(l[0], "a", "order kept (first)");
	is_str(l[4], "e", "order kept (last)");
	ok(strv_contains(l, "c") && !strv_contains(l, "z"), "contains");

	for (int i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "n%d", i % 500);
		if (strv_extend_unique(&l, buf) < 0)
			abort();
	}
	is_int((int)strv_length(l), 505, "1000 appends of 500 distinct strings");
	return tap_done();
}
