/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a changed page sets off. Every subsystem NQN whose entries appeared,
 * changed or disappeared gets a stas-connect@<nqn>.service run; every new
 * referral gets discovered (as its own stas-discover@ unit); a referral no
 * longer listed is retired. Without systemd the same work happens here, in
 * this process, once every DC of the run has been read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "reconcile.h"
#include "stas-discover.h"
#include "unit-name.h"
#include "unit-start.h"

static int strv_add_unique(char ***l, const char *s)
{
	size_t n = 0;
	char **p;

	STRV_FOREACH(i, *l) {
		if (streq(*i, s))
			return 0;
		n++;
	}
	p = realloc(*l, (n + 2) * sizeof(char *));
	if (!p)
		return -ENOMEM;
	*l = p;
	p[n] = strdup(s);
	if (!p[n])
		return -ENOMEM;
	p[n + 1] = NULL;
	return 1;
}

int trigger_connect(struct discover *d, const char *nqn)
{
	_cleanup_free_ char *esc = NULL, *unit = NULL;
	int r;

	if (d->no_connect)
		return 0;
	if (!d->no_systemd) {
		esc = unit_name_escape(nqn);
		if (!esc)
			return log_oom();
		unit = unit_name_build("stas-connect", esc, ".service");
		if (!unit)
			return log_error_errno(errno ? errno : ENOMEM,
					       "No valid unit name for subsystem %s: %m", nqn);
		/* Restart: a run already underway may have read the old page. */
		r = unit_start(unit, UNIT_RESTART);
		if (r >= 0) {
			log_debug("Started %s.", unit);
			return 1;
		}
		if (r != -ENOMEDIUM)
			return log_error_errno(r, "Failed to start %s: %m", unit);
		log_info("No systemd on the system bus: reconciling connections in-process.");
		d->no_systemd = true;
	}
	r = strv_add_unique(&d->nqns_pending, nqn);
	return r < 0 ? log_oom() : r;
}

static int trigger_discover(struct discover *d, const struct dc_job *job)
{
	_cleanup_free_ char *instance = NULL, *unit = NULL;
	bool is_key = false;
	int r;

	if (d->no_systemd)
		return discover_one(d, job);

	r = dc_instance(d, &job->tid, &instance, &is_key);
	if (r < 0)
		return log_error_errno(r, "No unit instance for a referral: %m");
	unit = unit_name_build("stas-discover", instance, ".service");
	if (!unit)
		return log_oom();
	r = unit_start(unit, UNIT_START);
	if (r == -ENOMEDIUM) {
		d->no_systemd = true;
		return discover_one(d, job);
	}
	if (r < 0)
		return log_error_errno(r, "Failed to start %s: %m", unit);
	log_debug("Started %s.", unit);
	return 1;
}

int trigger_referrals(struct discover *d, const struct dc_job *job,
		      const struct cache_dlp_change *ch)
{
	char buf[TID_FORMAT_MAX];
	int ret = 0, r;

	for (size_t i = 0; i < ch->n_referrals_removed; i++) {
		struct cache_dc old;
		struct tid t;

		/* Referrals inherit the referring DC's host side. */
		dlpe_to_tid(&ch->referrals_removed[i], &job->tid, &t);
		if (tid_canonicalize(&t) < 0 || cache_dc_get(d->cache, &t, &old) <= 0)
			continue;
		if (old.origin != CACHE_ORIGIN_REFERRAL || !tid_equal(&old.referrer, &job->tid))
			continue;
		r = dc_retire(d, &old, "no longer referred to");
		if (r < 0 && ret == 0)
			ret = r;
	}

	for (size_t i = 0; i < ch->n_referrals_added; i++) {
		struct dc_job next = {
			.origin = CACHE_ORIGIN_REFERRAL,
			.depth = (uint8_t)(job->depth + 1),
			.referrer = job->tid,
		};
		struct cache_dc known, rec = {};

		dlpe_to_tid(&ch->referrals_added[i], &job->tid, &next.tid);
		tid_set_default_trsvcid(&next.tid, true);
		if (tid_canonicalize(&next.tid) < 0) {
			log_warning("Ignoring a referral that is not a valid transport ID.");
			continue;
		}
		tid_format(&next.tid, buf, sizeof(buf));
		if (job->depth + 1 > REFERRAL_DEPTH_MAX) {
			log_warning("Ignoring referral %s: more than %d referrals deep.", buf,
				    REFERRAL_DEPTH_MAX);
			continue;
		}
		if (config_is_excluded(d->cfg, CONFIG_ROLE_DISCOVERY, &next.tid)) {
			log_info("Ignoring excluded referral %s.", buf);
			continue;
		}
		/* Known already (configured, advertised, or referred by another DC): its own
		 * runs keep it current; starting it again here could loop. */
		if (cache_dc_get(d->cache, &next.tid, &known) > 0)
			continue;
		next.conf = config_controller_find(d->cfg, CONFIG_ROLE_DISCOVERY, &next.tid);
		rec.tid = next.tid;
		rec.origin = CACHE_ORIGIN_REFERRAL;
		rec.referral_depth = next.depth;
		rec.referrer = job->tid;
		r = cache_dc_put(d->cache, &rec);
		if (r < 0) {
			log_error_errno(r, "Failed to record referral %s: %m", buf);
			if (ret == 0)
				ret = r;
			continue;
		}
		log_info("Following referral to %s.", buf);
		r = trigger_discover(d, &next);
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

static int collect_nqn(const struct cache_dc *dc, const struct dlpe *e, uint32_t index,
		       void *userdata)
{
	char ***l = userdata;

	if (e->subtype != DLPE_SUBTYPE_NVME)
		return 0;
	return strv_add_unique(l, e->subnqn) < 0 ? -ENOMEM : 0;
}

int dc_retire(struct discover *d, const struct cache_dc *dc, const char *why)
{
	_cleanup_strv_free_ char **nqns = NULL;
	char buf[TID_FORMAT_MAX];
	struct kctrl k;
	int r;

	tid_format(&dc->tid, buf, sizeof(buf));
	log_info("Retiring discovery controller %s: %s.", buf, why);

	r = cache_entries_foreach_dc(d->cache, &dc->tid, collect_nqn, &nqns);
	if (r < 0 && r != -ENOENT)
		return log_error_errno(r, "Failed to read the entries of %s: %m", buf);

	/* Drop the persistent connection stas made for it (a udev-found one is not ours). */
	if (!isempty(dc->device) && dc->origin != CACHE_ORIGIN_UDEV &&
	    kernel_ctrl_read(dc->device, &k) >= 0 && k.discovery && tid_equal(&k.tid, &dc->tid)) {
		if (streq(k.dctype, "ddc") || streq(k.dctype, "cdc"))
			(void)kernel_dim_register(k.name, false, NULL);
		r = kernel_disconnect(k.name);
		if (r < 0 && r != -ENOENT)
			log_warning_errno(r, "Failed to disconnect %s, ignoring: %m", k.name);
	}

	r = cache_dc_purge(d->cache, &dc->tid);
	if (r < 0)
		return log_error_errno(r, "Failed to remove %s from the cache: %m", buf);

	STRV_FOREACH(n, nqns) {
		r = trigger_connect(d, *n);
		if (r < 0)
			return r;
	}
	return 0;
}

int trigger_flush(struct discover *d)
{
	int r, ret = 0;

	if (d->no_connect || !d->nqns_pending)
		return 0;
	STRV_FOREACH(nqn, d->nqns_pending) {
		_cleanup_reconcile_plan_ struct reconcile_plan *plan = NULL;
		char buf[TID_FORMAT_MAX];

		r = reconcile_nqn(d->cache, d->cfg, *nqn, d->dry_run, &plan);
		if (r < 0) {
			log_error_errno(r, "Failed to reconcile %s: %m", *nqn);
			if (ret == 0)
				ret = r;
			continue;
		}
		for (size_t i = 0; i < plan->n_items; i++) {
			const struct reconcile_item *it = &plan->items[i];

			if (d->dry_run)
				printf("%s %s%s%s\n", reconcile_action_to_string(it->action),
				       tid_format(&it->tid, buf, sizeof(buf)),
				       isempty(it->reason) ? "" : ": ", it->reason);
			else if (it->error)
				log_error("%s %s failed: %s",
					  reconcile_action_to_string(it->action),
					  tid_format(&it->tid, buf, sizeof(buf)), it->error_text);
		}
		if (r > 0 && ret == 0)
			ret = -EHOSTUNREACH;
	}
	strv_free(d->nqns_pending);
	d->nqns_pending = NULL;
	return ret;
}
