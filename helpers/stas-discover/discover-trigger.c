/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a changed page sets off. The subsystem NQNs whose entries appeared,
 * changed or disappeared are reconciled in this process, as one batch, once
 * the queue is drained (trigger_flush()); a subsystem whose paths did not all
 * come up is handed to its stas-connect@<nqn>.service, which retries with
 * backoff. Every new referral gets discovered (as its own stas-discover@
 * unit, or here without systemd); a referral no longer listed is retired.
 * All of it is queued on struct discover and main() drains the queue.
 * Nothing here calls back into stas-discover.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exclusions.h"
#include "log.h"
#include "macro.h"
#include "reconcile.h"
#include "registry.h"
#include "stas-discover.h"
#include "strv.h"
#include "unit-name.h"
#include "unit-start.h"

int trigger_discover(struct discover *d, const struct dc_job *job)
{
	if (GREEDY_REALLOC(d->jobs, d->n_jobs_alloc, d->n_jobs) < 0)
		return log_oom();
	d->jobs[d->n_jobs++] = *job;
	return 1;
}

int trigger_connect(struct discover *d, const char *nqn)
{
	int r;

	if (d->no_connect)
		return 0;
	r = strv_extend_unique(&d->nqns, nqn);
	return r < 0 ? log_oom() : r;
}

static int unit_start(struct discover *d, const char *unit, enum unit_start_mode mode)
{
	int r;

	if (!d->units && unit_starter_new(&d->units) < 0)
		return log_oom();
	r = unit_starter_start(d->units, unit, mode);
	if (r == -ENOMEDIUM)
		d->no_systemd = true;
	return r;
}

/* -ENOMEDIUM: no systemd, the caller discovers @job in this process. */
int trigger_start_dc(struct discover *d, const struct dc_job *job)
{
	_cleanup_free_ char *unit = NULL;
	int r;

	r = unit_name_dc(&job->tid, d->cfg->host.nqn, &unit, NULL);
	if (r < 0) {
		d->triggers_failed++;
		return log_error_errno(r, "No unit name for a referral: %m");
	}
	r = unit_start(d, unit, UNIT_START);
	if (r == -ENOMEDIUM)
		return r;
	if (r < 0) {
		d->triggers_failed++;
		return log_error_errno(r, "Failed to start %s: %m", unit);
	}
	log_debug("Started %s.", unit);
	return 1;
}

/* How many referral DCs the cache holds (counted once per run, then kept up to date). */
static int referral_dcs_count(struct discover *d)
{
	_cleanup_free_ struct cache_dc *dcs = NULL;
	size_t n = 0;
	int r;

	if (d->n_referral_dcs >= 0)
		return d->n_referral_dcs;
	r = cache_dc_list(d->cache, &dcs, &n);
	if (r < 0)
		return r;
	d->n_referral_dcs = 0;
	for (size_t i = 0; i < n; i++)
		if (dcs[i].origin == CACHE_ORIGIN_REFERRAL)
			d->n_referral_dcs++;
	return d->n_referral_dcs;
}

/*
 * @again: the previous run's triggers of this DC did not all start, so a
 * referral this DC recorded earlier is started again even though the cache
 * knows it (its unit may never have run).
 */
int trigger_referrals(struct discover *d, const struct dc_job *job,
		      const struct cache_dlp_change *ch, bool again)
{
	char buf[TID_FORMAT_MAX], dcbuf[TID_FORMAT_MAX];
	_cleanup_exclusions_ struct exclusions *excl = NULL;
	struct config_path_opts popts;
	size_t followed = 0;
	bool page_cap_logged = false, total_cap_logged = false;
	int ret = 0, r;

	tid_format(&job->tid, dcbuf, sizeof(dcbuf));
	for (size_t i = 0; i < ch->n_referrals_removed; i++) {
		struct cache_dc old;
		struct tid t;

		/* Referrals inherit the referring DC's host side. */
		if (tid_from_dlpe(&ch->referrals_removed[i], &job->tid, d->cfg->host.nqn, &t) < 0 ||
		    cache_dc_get(d->cache, &t, &old) <= 0)
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
			.spawn = true,
		};
		struct cache_dc known, rec = {};

		if (tid_from_dlpe(&ch->referrals_added[i], &job->tid, d->cfg->host.nqn, &next.tid) <
		    0) {
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
		/* The host's exclusion list, read once for this page's referrals. */
		if (!excl) {
			r = exclusions_load(registry_root(), &excl);
			if (r < 0)
				return log_oom();
			(void)config_conn_opts_resolve(d->cfg, CONFIG_ROLE_DISCOVERY, NULL, &popts);
		}
		{
			const struct exclusions_target target = { .tid = &next.tid,
								  .hostid = popts.hostid };
			struct exclusions_match m;

			if (exclusions_loaded_match(excl, &target, &m) > 0) {
				log_info("Ignoring referral %s: excluded by %s:%u (host exclusion "
					 "list).",
					 buf, m.path, m.line);
				continue;
			}
		}
		/* Known already (configured, advertised, or referred by another DC): its own
		 * runs keep it current; starting it again here could loop. Unless this DC
		 * recorded it and the unit may never have started. */
		if (cache_dc_get(d->cache, &next.tid, &known) > 0) {
			if (again && known.origin == CACHE_ORIGIN_REFERRAL &&
			    tid_equal(&known.referrer, &job->tid) && known.last_read_usec == 0) {
				r = trigger_discover(d, &next);
				if (r < 0 && ret == 0)
					ret = r;
			}
			continue;
		}
		if (followed >= d->cfg->discovery.referrals_per_page_max) {
			if (!page_cap_logged)
				log_warning("%s lists more than %u new referrals; following the "
					    "first %u only (discovery.referrals-per-page-max).",
					    dcbuf, d->cfg->discovery.referrals_per_page_max,
					    d->cfg->discovery.referrals_per_page_max);
			page_cap_logged = true;
			continue;
		}
		r = referral_dcs_count(d);
		if (r < 0) {
			log_error_errno(r, "Failed to count the referral DCs in the cache: %m");
			d->triggers_failed++;
			if (ret == 0)
				ret = r;
			continue;
		}
		if ((unsigned)r >= d->cfg->discovery.referral_dcs_max) {
			if (!total_cap_logged)
				log_warning("Not following referral %s (nor further new referrals "
					    "of %s): the cache already holds %d referral discovery "
					    "controllers (discovery.referral-dcs-max = %u).",
					    buf, dcbuf, r, d->cfg->discovery.referral_dcs_max);
			total_cap_logged = true;
			continue;
		}
		next.conf = config_controller_find(d->cfg, CONFIG_ROLE_DISCOVERY, &next.tid);
		rec.tid = next.tid;
		rec.origin = CACHE_ORIGIN_REFERRAL;
		rec.referral_depth = next.depth;
		rec.referrer = job->tid;
		r = cache_dc_put(d->cache, &rec);
		if (r < 0) {
			log_error_errno(r, "Failed to record referral %s: %m", buf);
			d->triggers_failed++;
			if (ret == 0)
				ret = r;
			continue;
		}
		d->n_referral_dcs++;
		followed++;
		log_info("Following referral to %s.", buf);
		r = trigger_discover(d, &next);
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

int trigger_mark(struct discover *d, const struct tid *dc, uint64_t genctr)
{
	if (GREEDY_REALLOC(d->triggered, d->n_triggered_alloc, d->n_triggered) < 0)
		return log_oom();
	d->triggered[d->n_triggered++] = (struct dc_triggered){ .tid = *dc, .genctr = genctr };
	return 0;
}

/*
 * Every unit this run's changes called for was started: clear the DCs'
 * triggers_pending flags. After any failure nothing is cleared (the failed
 * trigger cannot be told apart per DC cheaply), so the next run of each DC
 * starts its units again - a retry costs an idempotent stas-connect run.
 */
int trigger_confirm(struct discover *d)
{
	int r, ret = 0;

	if (d->triggers_failed > 0 || d->no_connect || d->dry_run)
		return 0;
	for (size_t i = 0; i < d->n_triggered; i++) {
		r = cache_dc_triggers_done(d->cache, &d->triggered[i].tid, d->triggered[i].genctr);
		if (r < 0 && r != -ENOENT) {
			log_warning_errno(r,
					  "Failed to record that the units of a DC were started, "
					  "ignoring (they will be started again): %m");
			if (ret == 0)
				ret = r;
		}
	}
	return ret;
}

int dc_retire(struct discover *d, const struct cache_dc *dc, const char *why)
{
	_cleanup_strv_free_ char **nqns = NULL;
	char buf[TID_FORMAT_MAX];
	struct kctrl k;
	int r;

	tid_format(&dc->tid, buf, sizeof(buf));
	log_info("Retiring discovery controller %s: %s.", buf, why);

	r = cache_dc_nqns(d->cache, &dc->tid, &nqns);
	if (r < 0)
		return log_error_errno(r, "Failed to read the entries of %s: %m", buf);

	/*
	 * Purged first, then its persistent connection dropped: the kernel's
	 * remove event starts stas-discover@<name>, which reconnects a DC the
	 * cache still records as stas's (stas-units(7)).
	 */
	r = cache_dc_purge(d->cache, &dc->tid);
	if (r < 0)
		return log_error_errno(r, "Failed to remove %s from the cache: %m", buf);

	/* Drop the persistent connection stas made for it (a udev-found one is not ours). */
	if (!isempty(dc->device) && dc->origin != CACHE_ORIGIN_UDEV &&
	    kernel_ctrl_read(dc->device, &k) >= 0 && k.discovery && tid_equal(&k.tid, &dc->tid)) {
		/* stas's registry entry goes first; another owner's controller stays. */
		r = registry_unregister(registry_root(), k.name, REGISTRY_OWNER_STAS);
		if (r < 0)
			log_notice_errno(r, "Not disconnecting %s: its registry entry %s: %m",
					 k.name,
					 r == -EPERM ? "names another owner" : "cannot be updated");
		else {
			if (streq(k.dctype, "ddc") || streq(k.dctype, "cdc"))
				(void)kernel_dim_register(k.name, false, d->cfg->host.symname, NULL,
							  NULL);
			r = kernel_disconnect(k.name);
			if (r < 0 && r != -ENOENT)
				log_warning_errno(r, "Failed to disconnect %s, ignoring: %m",
						  k.name);
		}
	}

	STRV_FOREACH(n, nqns) {
		r = trigger_connect(d, *n);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * A subsystem whose paths did not all come up in this process goes to its
 * stas-connect@ unit, which retries with backoff (stas-units(7)). A unit
 * already running (waiting to retry) is left to its schedule: it re-reads the
 * cache before each attempt. Return: 1 handed over, 0 no systemd (the next
 * run or the audit tries again), negative errno when the unit did not start
 * (counted as a failed trigger: the DC's triggers stay pending, so its next
 * run reconciles the whole page again).
 */
static int handoff_connect(struct discover *d, const char *nqn)
{
	_cleanup_free_ char *unit = NULL;
	int r;

	r = unit_name_connect(nqn, &unit, NULL);
	if (r < 0) {
		d->triggers_failed++;
		return log_error_errno(r, "No valid unit name for subsystem %s: %m", nqn);
	}
	r = unit_start(d, unit, UNIT_START);
	if (r == -ENOMEDIUM)
		return 0;
	if (r < 0) {
		d->triggers_failed++;
		return log_error_errno(r, "Failed to start %s: %m", unit);
	}
	log_info("%s: handed to %s, which retries with backoff.", nqn, unit);
	return 1;
}

/*
 * Reconcile every queued NQN in this process, as one batch (one kernel scan,
 * two cache commits; the per-NQN locks serialise it with any stas-connect@
 * run on the same subsystems). A subsystem left with a failed path, or that
 * could not be reconciled, is handed to its stas-connect@ unit. For one DC's
 * run (the event path) a hand-over that worked is not this run's failure:
 * the unit owns the retries. For --all, and without systemd, a failed path
 * still makes the exit status 1.
 */
int trigger_flush(struct discover *d)
{
	_cleanup_free_ struct reconcile_result *v = NULL;
	size_t n = strv_length(d->nqns);
	int r, ret = 0;

	if (d->no_connect || !d->nqns)
		return 0;
	/* One batch: one kernel scan and two cache commits for all of them. */
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return log_oom();
	for (size_t i = 0; i < n; i++)
		v[i].nqn = d->nqns[i];
	r = reconcile_nqns(d->cache, d->cfg, v, n, d->dry_run);
	if (r < 0) {
		d->triggers_failed++;
		return log_error_errno(r, "Failed to reconcile: %m");
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_reconcile_plan_ struct reconcile_plan *plan = TAKE_PTR(v[i].plan);
		char buf[TID_FORMAT_MAX];
		int h = 0;

		r = v[i].r;
		if (r < 0)
			log_error_errno(r, "Failed to reconcile %s: %m", v[i].nqn);
		for (size_t j = 0; plan && j < plan->n_items; j++) {
			const struct reconcile_item *it = &plan->items[j];

			if (d->dry_run)
				printf("%s %s%s%s\n", reconcile_action_to_string(it->action),
				       tid_format(&it->tid, buf, sizeof(buf)),
				       isempty(it->reason) ? "" : ": ", it->reason);
			else if (it->error)
				log_error("%s %s failed: %s",
					  reconcile_action_to_string(it->action),
					  tid_format(&it->tid, buf, sizeof(buf)), it->error_text);
			else if (it->excluded)
				/* which rule keeps it out: the host's exclusion list */
				log_info("%s %s: %s", reconcile_action_to_string(it->action),
					 tid_format(&it->tid, buf, sizeof(buf)), it->reason);
			else if (it->done && (it->action == RECONCILE_CONNECT ||
					      it->action == RECONCILE_DISCONNECT))
				log_info("%s %s%s%s%s", reconcile_action_to_string(it->action),
					 tid_format(&it->tid, buf, sizeof(buf)),
					 *it->ctrl ? " [" : "", it->ctrl, *it->ctrl ? "]" : "");
		}
		if (r == 0 || d->dry_run) {
			if (r < 0 && ret == 0)
				ret = r;
			continue;
		}
		/* A bad NQN stays bad: its unit could not do better. */
		if (r != -EINVAL)
			h = handoff_connect(d, v[i].nqn);
		if (h > 0 && !d->handoff_failed)
			continue;
		if (ret == 0)
			ret = h < 0 ? h : r < 0 ? r : -EHOSTUNREACH;
	}
	strv_free(d->nqns);
	d->nqns = NULL;
	return ret;
}
