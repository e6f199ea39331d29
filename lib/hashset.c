/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hashset.c - see hashset.h.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hashset.h"
#include "macro.h"
#include "sha256.h"

struct slot {
	char *key; /* NULL: empty */
	void *value;
	uint64_t hash;
};

struct hashset {
	struct slot *slots;
	size_t n_slots; /* a power of two */
	size_t n;
	uint64_t seed;
};

/* Seeded FNV-1a (sha256.h), then a 64-bit finaliser to spread the bits. */
static uint64_t hash_string(uint64_t seed, const char *s)
{
	uint64_t h = fnv1a_64(s, seed);

	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

/*
 * A seed per set, from one getrandom() per process (a batch of plans makes
 * two sets per subsystem): the process's random seed, stepped by a counter
 * and mixed, so sets differ and nothing outside the process can predict it.
 */
static uint64_t seed_next(void)
{
	static uint64_t base, count;
	static bool seeded;

	if (!seeded) {
		if (getrandom(&base, sizeof(base), GRND_NONBLOCK) != sizeof(base))
			base = UINT64_C(0x9e3779b97f4a7c15);
		seeded = true;
	}
	uint64_t h = base + UINT64_C(0x9e3779b97f4a7c15) * ++count;

	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return h;
}

int hashset_new(struct hashset **ret)
{
	struct hashset *s;

	assert(ret);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->seed = seed_next();
	*ret = s;
	return 0;
}

void hashset_free(struct hashset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_slots; i++)
		free(s->slots[i].key);
	free(s->slots);
	free(s);
}

/* The slot holding @key, or the empty slot where it would go. */
static struct slot *slot_find(const struct hashset *s, const char *key, uint64_t h)
{
	size_t mask = s->n_slots - 1;

	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct slot *sl = &s->slots[i];
		if (!sl->key || (sl->hash == h && streq(sl->key, key)))
			return sl;
	}
}

static int grow(struct hashset *s)
{
	size_t n = s->n_slots ? s->n_slots * 2 : 16;
	struct slot *old = s->slots;
	size_t n_old = s->n_slots;

	if (n < s->n_slots)
		return -ENOMEM;
	s->slots = calloc(n, sizeof(*s->slots));
	if (!s->slots) {
		s->slots = old;
		return -ENOMEM;
	}
	s->n_slots = n;
	for (size_t i = 0; i < n_old; i++)
		if (old[i].key)
			*slot_find(s, old[i].key, old[i].hash) = old[i];
	free(old);
	return 0;
}

int hashset_put(struct hashset *s, const char *key, void *value, void **ret_existing)
{
	struct slot *sl;
	uint64_t h;
	char *k;

	assert(s);
	assert(key);

	h = hash_string(s->seed, key);
	if (s->n_slots) {
		sl = slot_find(s, key, h);
		if (sl->key) {
			if (ret_existing)
				*ret_existing = sl->value;
			return 0;
		}
	}
	/* at most half full: probes stay short */
	if ((s->n + 1) * 2 > s->n_slots && grow(s) < 0)
		return -ENOMEM;
	k = strdup(key);
	if (!k)
		return -ENOMEM;
	sl = slot_find(s, key, h);
	*sl = (struct slot){ .key = k, .value = value, .hash = h };
	s->n++;
	return 1;
}

bool hashset_get(const struct hashset *s, const char *key, void **ret_value)
{
	const struct slot *sl;

	assert(key);
	if (!s || !s->n)
		return false;
	sl = slot_find(s, key, hash_string(s->seed, key));
	if (!sl->key)
		return false;
	if (ret_value)
		*ret_value = sl->value;
	return true;
}

size_t hashset_size(const struct hashset *s)
{
	return s ? s->n : 0;
}
