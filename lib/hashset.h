/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hashset.h - a set of strings, each with an optional pointer, for the
 * places that test membership among thousands of entries (duplicate
 * controllers in the configuration, the NQNs of "stas-connect --all",
 * controllers by subsystem NQN). Open addressing with linear probing, kept
 * at most half full; the keys are copied. The hash is seeded per set from
 * getrandom() (a fixed seed when that fails), so keys that arrive from the
 * network cannot be chosen to collide in every run.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

struct hashset;

/** hashset_new() - an empty set. Return: 0 and *ret, or -ENOMEM. */
int hashset_new(struct hashset **ret);

/** hashset_free() - free the set and its key copies (not the values); accepts NULL. */
void hashset_free(struct hashset *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct hashset *, hashset_free)
#define _cleanup_hashset_free_ _cleanup_(hashset_freep)

/**
 * hashset_put() - add @key (copied) with @value (may be NULL).
 * Return: 1 when added; 0 when @key was already there (nothing changes, and
 * its value is in *@ret_existing if non-NULL); -ENOMEM.
 */
int hashset_put(struct hashset *s, const char *key, void *value, void **ret_existing);

/**
 * hashset_get() - whether @key is in @s (NULL: the empty set); its value in
 * *@ret_value if non-NULL (untouched when absent).
 */
bool hashset_get(const struct hashset *s, const char *key, void **ret_value);

/** hashset_contains() - whether @key is in @s (NULL: the empty set). */
static inline bool hashset_contains(const struct hashset *s, const char *key)
{
	return hashset_get(s, key, NULL);
}

/** hashset_size() - the number of keys (0 for NULL). */
size_t hashset_size(const struct hashset *s);
