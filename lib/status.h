/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status.h - one view of the whole state of stas on this host: host
 * identity, configuration, the cache, the discovery controllers and the
 * subsystems with their wanted and live path counts.
 *
 * Computed here once and printed by two programs: "stasadm status" (text or
 * --json) and stas-cached's GetStatus() D-Bus method, so both say the same
 * thing. The computation only reads: the host identity files, the
 * configuration, the cache (a read-only handle is enough) and sysfs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cache.h"
#include "tid.h"

struct status_subsys {
	char nqn[TID_NQN_MAX + 1];
	unsigned wanted; /* paths stas-connect would want (config applied), or cache entries */
	int live; /* usable kernel controllers now, or a negative errno when unknown */
};

struct status {
	/*
	 * The identity stas uses: stas.conf's host.nqn / host.id when set there,
	 * else /etc/nvme/hostnqn, hostid (the default file also when the
	 * configuration has errors). NULL when not set or unreadable.
	 */
	char *hostnqn;
	char *hostid;
	int hostnqn_error, hostid_error; /* the default files': negative errno, 0 when read */
	char *hostnqn_source, *hostid_source; /* where each came from, for humans */

	char *config_path;
	bool config_exists, config_valid;
	char **config_errors; /* strv "FILE:LINE: message", NULL when valid */

	char *cache_dir;
	bool cache_exists; /* a cache handle was given */
	struct cache_stats stats; /* zero without a cache */
	int cache_error; /* negative errno reading the cache, 0 when fine */

	struct cache_dc *dcs; /* sorted by TID fields */
	size_t n_dcs;
	struct status_subsys *subsystems; /* sorted by NQN */
	size_t n_subsystems;
};

/**
 * status_collect() - gather the status. @c may be NULL (no cache, or it
 * could not be opened); @cache_dir is the directory it names (NULL:
 * cache_default_dir()); @config_path NULL for the default file.
 *
 * Subsystems are those stas-connect --all would visit when the configuration
 * is valid (wanted: the paths its dry-run plan wants), else the NQNs of the
 * cache (wanted: the entries listing them). A failure reading the cache is
 * not fatal: it is recorded in cache_error and the rest is filled.
 *
 * Return: 0 and *ret (free with status_free()), or -ENOMEM.
 */
int status_collect(struct cache *c, const char *cache_dir, const char *config_path,
		   struct status **ret);

/** status_free() - accepts NULL. Return: NULL. */
struct status *status_free(struct status *s);

static inline void status_freep(struct status **s)
{
	status_free(*s);
}
#define _cleanup_status_ __attribute__((cleanup(status_freep)))

/**
 * status_dc_state() - "ok", "stale" (the last read failed, the last good page
 * is kept) or "error" (never read successfully).
 */
const char *status_dc_state(const struct cache_dc *dc);

/**
 * status_dc_list() - every DC of @c (may be NULL: none), sorted by TID
 * fields. Return: 0 with a newly allocated array (NULL when empty) in *ret
 * and its length in *ret_n, or negative errno.
 */
int status_dc_list(struct cache *c, struct cache_dc **ret, size_t *ret_n);
