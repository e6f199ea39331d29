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
#include "unit-name.h"

int dlp_read(const struct dc_session *s, struct dlpe **ret, size_t *ret_n, uint64_t *ret_genctr)
{
	size_t bad = 0;
	int r;

	r = dlpe_list_from_log(s->log, ret, ret_n, ret_genctr, &bad);
	if (r == -EBADMSG)
		return log_error_errno(r,
				       "The discovery log page of %s claims more entries than "
				       "any target sends, refusing.",
				       s->ctrl.name);
	if (r < 0)
		return log_oom();
	if (bad > 0)
		log_warning("Skipped %zu malformed log page entries of %s (--tron says why).", bad,
			    s->ctrl.name);
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
	struct cache_dc rec = {}, old;
	bool is_key = false;
	int r;

	/* Keep what the cache knows (origin, mDNS state) unless this run knows better. */
	r = cache_dc_get(d->cache, &job->tid, &old);
	if (r > 0)
		rec = old;
	rec.tid = job->tid;
	if (r <= 0 || job->origin == CACHE_ORIGIN_CONFIG)
		rec.origin = job->origin;
	if (r <= 0 || job->origin != CACHE_ORIGIN_REFERRAL || rec.origin == CACHE_ORIGIN_REFERRAL) {
		rec.referral_depth = job->depth;
		rec.referrer = job->referrer;
	}
	rec.dctype = dctype_from_kernel(s->ctrl.dctype);
	rec.persistent = s->persistent;
	rec.kato = s->ctrl.kato > 0 ? (uint32_t)s->ctrl.kato : 0;
	if (s->persistent)
		(void)strscpy_checked(rec.device, sizeof(rec.device), s->ctrl.name);
	else
		rec.device[0] = '\0';
	if (unit_name_dc_instance(&job->tid, d->cfg->host.nqn, &instance, &is_key) >= 0 && is_key)
		(void)strscpy_checked(rec.instance_key, sizeof(rec.instance_key), instance);

	r = cache_dlp_put(d->cache, &rec, entries, n, genctr, ret_change);
	if (r == -EPROTO)
		return log_error_errno(r,
				       "The cache at %s has a newer schema than this stas knows; "
				       "refusing to write it. Upgrade stas.",
				       cache_dir(d->cache));
	if (r < 0)
		return log_error_errno(r, "Failed to store the log page in the cache: %m");
	return r;
}
