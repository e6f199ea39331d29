/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-dlp-diff - the page diff as a pure function: no cache, no LMDB.
 * Pages are written as short strings, one letter per entry:
 *   a..h  an I/O entry for subsystem sub<letter>, at port 1
 *   A..H  the same subsystem at port 2 (a second path)
 *   r..u  a referral to port 100 + letter
 *   c     (after '!') the DC's own "current" entry, ignored
 * so "aAb" is sub-a at two ports and sub-b at one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dlp-diff.h"
#include "macro.h"
#include "strv.h"
#include "tap.h"
#include "cache-test-util.h"

static size_t page_parse(const char *s, struct dlpe *e)
{
	size_t n = 0;

	for (; *s; s++, n++) {
		char ch = *s;

		if (ch >= 'a' && ch <= 'h')
			test_entry((unsigned)(ch - 'a'), 1, &e[n]);
		else if (ch >= 'A' && ch <= 'H')
			test_entry((unsigned)(ch - 'A'), 2, &e[n]);
		else if (ch >= 'r' && ch <= 'u')
			test_referral(100 + (unsigned)(ch - 'r'), &e[n]);
		else if (ch == '!') {
			test_referral(99, &e[n]);
			e[n].subtype = DLPE_SUBTYPE_CURRENT;
		} else
			abort();
		if (ch < 'r' && ch != '!')
			snprintf(e[n].subnqn, sizeof(e[n].subnqn), "sub%c", ch | 0x20);
	}
	return n;
}

/* The change as a string: "+a -b ~c >r <s" (sorted within each kind). */
static void change_format(const struct cache_dlp_change *ch, char *buf, size_t size)
{
	size_t k = 0;

	buf[0] = '\0';
#define APPEND(...) k += (size_t)snprintf(buf + k, size - k, __VA_ARGS__)
	STRV_FOREACH(s, ch->nqns_added)
		APPEND("+%s ", *s + 3);
	STRV_FOREACH(s, ch->nqns_removed)
		APPEND("-%s ", *s + 3);
	STRV_FOREACH(s, ch->nqns_changed)
		APPEND("~%s ", *s + 3);
	for (size_t i = 0; i < ch->n_referrals_added; i++)
		APPEND(">%c ", 'r' + (ch->referrals_added[i].portid - 100));
	for (size_t i = 0; i < ch->n_referrals_removed; i++)
		APPEND("<%c ", 'r' + (ch->referrals_removed[i].portid - 100));
#undef APPEND
	if (k > 0)
		buf[k - 1] = '\0';
}

static const struct {
	const char *old, *new, *want;
} cases[] = {
	{ "", "", "" },
	{ "ab", "ab", "" },
	{ "ab", "ba", "" }, /* order within the page does not matter */
	{ "aA", "Aa", "" },
	{ "", "abr", "+a +b >r" },
	{ "abr", "", "-a -b <r" },
	{ "ab", "bc", "+c -a" },
	{ "aA", "a", "~a" }, /* a path went away */
	{ "a", "aA", "~a" }, /* a path came */
	{ "aa", "a", "~a" }, /* duplicates count */
	{ "aAb", "Aab", "" },
	{ "rs", "st", ">t <r" },
	{ "rr", "r", "<r" },
	{ "r", "rr", ">r" },
	{ "a!", "a", "" }, /* the DC's own entry is no subsystem */
	{ "abcdr", "bcdes", "+e -a >s <r" },
	{ "hgfedcba", "abcdefgh", "" },
};

static void test_table(void)
{
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct dlpe a[16], b[16];
		struct cache_dlp_change ch;
		char got[128];
		size_t na = page_parse(cases[i].old, a), nb = page_parse(cases[i].new, b);
		int r = dlp_diff(a, na, b, nb, &ch);

		if (!ok(r == 0, "\"%s\" -> \"%s\": computed", cases[i].old, cases[i].new))
			continue;
		change_format(&ch, got, sizeof(got));
		is_str(got, cases[i].want, "\"%s\" -> \"%s\": %s", cases[i].old, cases[i].new,
		       cases[i].want[0] ? cases[i].want : "no change");
		cache_dlp_change_free(&ch);
	}
}

static void test_fields(void)
{
	struct dlpe a[2], b[2];
	struct cache_dlp_change ch;
	char got[128];

	/* any field of an I/O entry changes its subsystem */
	page_parse("ab", a);
	page_parse("ab", b);
	b[1].treq ^= 1;
	is_int(dlp_diff(a, 2, b, 2, &ch), 0, "treq changed");
	change_format(&ch, got, sizeof(got));
	is_str(got, "~b", "...sub-b changed");
	cache_dlp_change_free(&ch);

	page_parse("rs", a);
	page_parse("rs", b);
	strcpy(b[0].traddr, "192.168.9.9");
	is_int(dlp_diff(a, 2, b, 2, &ch), 0, "a referral moved");
	ok(ch.n_referrals_added == 1 && ch.n_referrals_removed == 1 &&
		   streq(ch.referrals_added[0].traddr, "192.168.9.9") &&
		   !streq(ch.referrals_removed[0].traddr, "192.168.9.9"),
	   "...reported as one removed, one added, with their fields");
	cache_dlp_change_free(&ch);
	cache_dlp_change_free(&ch);
	ok(!ch.nqns_added && !ch.referrals_added && ch.n_referrals_added == 0,
	   "cache_dlp_change_free() clears and may run twice");
	cache_dlp_change_free(NULL);
}

int main(void)
{
	test_table();
	test_fields();
	return tap_done();
}
