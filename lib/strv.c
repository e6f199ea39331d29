/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

size_t strv_length(char *const *l)
{
	size_t n = 0;

	for (; l && l[n]; n++)
		;
	return n;
}

bool strv_contains(char *const *l, const char *s)
{
	for (; l && *l; l++)
		if (streq(*l, s))
			return true;
	return false;
}

int strv_consume(char ***l, char *s)
{
	size_t n = strv_length(*l);
	char **nl;

	/* O(n) per append (the length is counted): fine for the lists stas
	 * keeps (a page's NQNs, drop-ins, messages); a large set whose
	 * membership is tested often wants a hash set instead. */
	nl = reallocarray(*l, n + 2, sizeof(char *));
	if (!nl) {
		free(s);
		return -ENOMEM;
	}
	nl[n] = s;
	nl[n + 1] = NULL;
	*l = nl;
	return 1;
}

int strv_extend(char ***l, const char *s)
{
	char *c = strdup(s);

	if (!c)
		return -ENOMEM;
	return strv_consume(l, c);
}

int strv_extend_unique(char ***l, const char *s)
{
	if (strv_contains(*l, s))
		return 0;
	return strv_extend(l, s);
}

int strv_consume_unique(char ***l, char *s)
{
	if (strv_contains(*l, s)) {
		free(s);
		return 0;
	}
	return strv_consume(l, s);
}
