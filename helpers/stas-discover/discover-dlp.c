/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Discovery Log Page from the network, validated entry by entry, into the
 * cache in one transaction.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define startswith libnvme_startswith
#include <nvme/types.h>
#undef startswith

#include "cached-notify.h"
#include "dlpe.h"
#include "log.h"
#include "macro.h"
#include "stas-discover.h"
#include "unit-name.h"

/* A page longer than this is not a discovery log any target sends. */
#define DLP_ENTRIES_MAX 65536

int dlp_to_entries(const struct nvmf_discovery_log *log, struct dlpe **ret, size_t *ret_n,
		   uint64_t *ret_genctr)
{
	_cleanup_free_ struct dlpe *v = NULL;
	uint64_t numrec = le64toh(log->numrec);
	size_t n = 0;

	if (numrec > DLP_ENTRIES_MAX)
		return log_error_errno(EBADMSG, "Discovery log page claims %llu entries, refusing.",
				       (unsigned long long)numrec);
	if (numrec > 0) {
		v = calloc(numrec, sizeof(*v));
		if (!v)
			return log_oom();
	}
	for (uint64_t i = 0; i < numrec; i++) {
		const char *why = NULL;
		int r;

		r = dlpe_from_nvmf(&log->entries[i], &v[n], &why);
		if (r == -EADDRNOTAVAIL) {
			log_debug("Dropping log page entry %llu: %s.", (unsigned long long)i, why);
			continue;
		}
		if (r < 0) {
			log_warning("Skipping malformed log page entry %llu: %s.",
				    (unsigned long long)i, why ? why : "invalid");
			continue;
		}
		n++;
	}
	*ret_genctr = le64toh(log->genctr);
	*ret_n = n;
	*ret = TAKE_PTR(v);
	return 0;
}

/*
 * The stas-discover@ instance of DC @t. The host NQN is left out when it is
 * the configured one (stas-discover fills that in), so unit names stay short
 * and one DC has one name.
 */
int dc_instance(const struct discover *d, const struct tid *t, char **ret, bool *ret_is_key)
{
	struct tid x = *t;

	if (d->cfg->host.nqn && streq(x.host_nqn, d->cfg->host.nqn))
		x.host_nqn[0] = '\0';
	return dc_instance_format(&x, ret, ret_is_key);
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
	if (dc_instance(d, &job->tid, &instance, &is_key) >= 0 && is_key)
		(void)strscpy_checked(rec.instance_key, sizeof(rec.instance_key), instance);

	r = cache_dlp_put(d->cache, &rec, entries, n, genctr, ret_change);
	if (r == -EPROTO)
		return log_error_errno(r,
				       "The cache at %s has a newer schema than this stas knows; "
				       "refusing to write it. Upgrade stas.",
				       cache_dir(d->cache));
	if (r < 0)
		return log_error_errno(r, "Failed to store the log page in the cache: %m");
	if (r > 0) {
		char key[TID_KEY_MAX];
		if (tid_key(&rec.tid, key, sizeof(key)) >= 0)
			(void)cached_notify_changed((char *[]){ key, NULL }, NULL);
	}
	return r;
}
