/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dlp-diff.h - what differs between two Discovery Log Pages of one DC: the
 * I/O subsystems that appeared, disappeared or changed, and the referrals
 * that appeared or disappeared. A pure function over two arrays of entries
 * (no cache, no I/O): cache_dlp_put() runs it on the stored and the new page
 * inside its write transaction, and stas-discover starts units from it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "dlpe.h"

/* What changed between two pages. NULL-terminated string lists (may be NULL). */
struct cache_dlp_change {
	char **nqns_added; /* I/O subsystem NQNs the old page did not list, sorted */
	char **nqns_removed; /* ... the new page no longer lists, sorted */
	char **nqns_changed; /* ... both list, with different entries, sorted */
	struct dlpe *referrals_added; /* referral entries new in this page */
	size_t n_referrals_added;
	struct dlpe *referrals_removed;
	size_t n_referrals_removed;
};

/**
 * dlp_diff() - compare page @old (@n_old entries) with page @new (@n_new).
 * I/O entries (subtype nvme) are grouped by subsystem NQN; a group changed
 * when the multiset of its entries did (order within the page does not
 * matter; entries compare as dlpe_equal()). Referral entries are matched as
 * whole entries; duplicates count. Other subtypes are ignored. The referral
 * lists are sorted by the entries' fields, the NQN lists by strcmp(). Two
 * identical pages give an all-empty result.
 *
 * Return: 0 and *@ret (free with cache_dlp_change_free()), or -ENOMEM with
 * *@ret untouched.
 */
int dlp_diff(const struct dlpe *old, size_t n_old, const struct dlpe *new, size_t n_new,
	     struct cache_dlp_change *ret);

/**
 * dlp_equal() - whether two pages hold the same entries in the same order
 * (dlpe_equal() entry by entry).
 */
bool dlp_equal(const struct dlpe *a, size_t na, const struct dlpe *b, size_t nb);

/** cache_dlp_change_free() - release the lists; @ch itself is not freed. */
void cache_dlp_change_free(struct cache_dlp_change *ch);
