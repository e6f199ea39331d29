/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Discovery Log Page from the network, validated entry by entry, into the
 * cache in one transaction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dlpe.h"
#include "log.h"
#include "macro.h"
#include "stas-discover.h"
#include "strv.h"
#include "unit-name.h"

/* One warning per malformed entry: the administrator sees each problem. */
static void log_malformed(uint64_t index, const char *why, void *userdata)
{
	const struct dc_session *s = userdata;

	log_warning("Skipping malformed log page entry %llu of %s: %s.", (unsigned long long)index,
		    s->ctrl.name, why);
}

int dlp_read(const struct dc_session *s, struct dlpe **ret, size_t *ret_n, uint64_t *ret_genctr)
{
	int r;

	r = dlpe_list_from_log(s->log, log_malformed, (void *)s, ret, ret_n, ret_genctr);
	if (r == -EBADMSG)
		return log_error_errno(r,
				       "The discovery log page of %s claims more entries than "
				       "any target sends, refusing.",
				       s->ctrl.name);
	if (r < 0)
		return log_oom();
	return 0;
}

static enum cache_dctype dctype_from_kernel(const char *s)
{
	if (streq(s, "ddc"))
		return CACHE_DCTYPE_DDC;
	if (streq(s, "cdc"))
		return CACHE_DCTYPE_CDC;
	return CACHE_DCTYPE_UNKNOWN;
}

int dlp_store(struct discover *d, const struct dc_job *job, const struct dc_session *s,
	      const struct dlpe *entries, size_t n, uint64_t genctr,
	      struct cache_dlp_change *ret_change)
{
	_cleanup_free_ char *instance = NULL;
	/* This run's provenance and session; the cache merges them with the stored
	 * record inside its write transaction (cache.h, "Field ownership"). */
	struct cache_dc rec = {
		.tid = job->tid,
		.origin = job->origin,
		.referral_depth = job->depth,
		.referrer = job->referrer,
		.dctype = dctype_from_kernel(s->ctrl.dctype),
		.persistent = s->persistent,
		.kato = s->ctrl.kato > 0 ? (uint32_t)s->ctrl.kato : 0,
	};
	bool is_key = false;
	int r;

	if (s->persistent)
		(void)strscpy_checked(rec.device, sizeof(rec.device), s->ctrl.name);
	if (unit_name_dc_instance(&job->tid, d->cfg->host.nqn, &instance, &is_key) >= 0 && is_key)
		(void)strscpy_checked(rec.instance_key, sizeof(rec.instance_key), instance);

	r = cache_dlp_put(d->cache, &rec, entries, n, genctr, ret_change);
	if (r == -ENOENT) {
		log_info("The discovery controller was removed from the cache while its log page "
			 "was read; not storing the page.");
		/* Purged (retired, expired) meanwhile: the connection made for it is nobody's. */
		if (s->connected_here && s->persistent) {
			r = kernel_disconnect(s->ctrl.name);
			if (r < 0 && r != -ENOENT)
				log_warning_errno(r, "Failed to disconnect %s, ignoring: %m",
						  s->ctrl.name);
		}
		return 0;
	}
	if (r == -EPROTO)
		return log_error_errno(r,
				       "The cache at %s has a newer schema than this stas knows; "
				       "refusing to write it. Upgrade stas.",
				       cache_dir(d->cache));
	if (r < 0)
		return log_error_errno(r, "Failed to store the log page in the cache: %m");
	if (r > 0) {
		char key[TID_KEY_MAX];

		/* stas-cached is told at the end of the run (main()), once the units this
		 * change calls for are started: its activation is not on the event's path. */
		if (tid_key(&rec.tid, key, sizeof(key)) >= 0 &&
		    strv_extend_unique(&d->changed_dcs, key) < 0)
			return log_oom();
	}
	return r;
}
