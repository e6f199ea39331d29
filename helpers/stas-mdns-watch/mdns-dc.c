/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cache side of the watcher. An announced, reachable DC is recorded
 * (origin mdns, advertised, last advertised now) and stas-discover@<dc> is
 * started; a goodbye marks it unadvertised. Expiry is derived from the
 * cache alone (last advertised + zeroconf-connections-persistence), so a
 * restart of the watcher loses no timer: one CLOCK_REALTIME timer is armed
 * for the earliest due DC. An expired DC is retired: its discovery unit is
 * stopped, the persistent discovery connection stas made for it is
 * deleted, it is purged from the cache, and stas-connect@<nqn> runs for
 * every subsystem it listed, so that paths only it provided are
 * disconnected (per the disconnect policy, which stas-connect applies).
 *
 * The cache is opened for each change and closed again: changes are rare,
 * and a closed LMDB environment costs no memory in between.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel.h"
#include "log.h"
#include "macro.h"
#include "registry.h"
#include "stas-mdns-watch.h"
#include "strv.h"
#include "unit-name.h"
#include "unit-start.h"

#define USEC_PER_SEC UINT64_C(1000000)

static uint64_t now_realtime(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static int cache_get(struct mdns_watch *w, unsigned flags, struct cache **ret)
{
	struct cache *c = NULL;
	int r;

	r = cache_open(w->cache_dir, flags, &c);
	if (r < 0)
		return r;
	cache_set_writer(c, "stas-mdns-watch");
	*ret = c;
	return 0;
}

/*
 * The stas-discover@ unit of DC @dc, named as every stas program names it
 * (lib/unit-name.h); *ret_key (may be NULL) gets the "key-<hex>" instance to
 * record in the cache when the ID is too long for a unit name, else "".
 */
static int mdns_dc_unit(const struct mdns_watch *w, const struct tid *dc, char **ret,
			char ret_key[CACHE_IKEY_MAX + 1])
{
	_cleanup_free_ char *instance = NULL;
	bool is_key = false;
	int r;

	r = unit_name_dc_instance(dc, w->cfg->host.nqn, &instance, &is_key);
	if (r < 0)
		return r;
	r = unit_name_build(UNIT_PREFIX_DISCOVER, instance, UNIT_SUFFIX_SERVICE, ret);
	if (r < 0)
		return r;
	if (ret_key) {
		ret_key[0] = '\0';
		if (is_key && strlen(instance) <= CACHE_IKEY_MAX)
			strcpy(ret_key, instance);
	}
	return 0;
}

bool mdns_dc_is_advertised(const struct mdns_watch *w, const struct tid *dc)
{
	for (const struct mdns_service *s = w->services; s; s = s->next)
		if (s->accepted && tid_equal(&s->dc, dc))
			return true;
	return false;
}

int mdns_dc_announce(struct mdns_watch *w, const struct tid *dc)
{
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_free_ char *unit = NULL;
	char buf[TID_FORMAT_MAX], key[CACHE_IKEY_MAX + 1];
	struct cache_dc rec;
	int r;

	tid_format(dc, buf, sizeof(buf));
	r = mdns_dc_unit(w, dc, &unit, key);
	if (r < 0)
		return log_error_errno(r, "No unit name for discovery controller %s: %m", buf);

	r = cache_get(w, CACHE_RDWR, &c);
	if (r < 0)
		return log_error_errno(r, "Failed to open the cache, not handing over %s: %s", buf,
				       cache_strerror(r));
	r = cache_dc_get(c, dc, &rec);
	if (r == 0) {
		rec = (struct cache_dc){
			.tid = *dc,
			.origin = CACHE_ORIGIN_MDNS,
			.mdns_advertised = true,
			.mdns_last_advertised_usec = now_realtime(),
		};
		strcpy(rec.instance_key, key);
		r = cache_dc_put(c, &rec);
	} else if (r > 0)
		r = cache_dc_set_advertised(c, dc, true, now_realtime());
	if (r == -EPROTO)
		return log_error_errno(r,
				       "The cache has a newer schema than this stas knows; "
				       "not recording %s. Upgrade stas.",
				       buf);
	if (r < 0)
		return log_error_errno(r, "Failed to record %s in the cache: %m", buf);
	c = cache_free(c);

	r = unit_starter_start(w->units, unit, UNIT_START);
	if (r == -ENOMEDIUM)
		log_warning("No systemd on the system bus: %s recorded, %s not started.", buf,
			    unit);
	else if (r < 0)
		log_error_errno(r, "Failed to start %s: %m", unit);
	else
		log_info("Handed %s over to %s.", buf, unit);
	(void)mdns_expiry_schedule(w);
	return r < 0 ? r : 1;
}

int mdns_dc_goodbye(struct mdns_watch *w, const struct tid *dc)
{
	_cleanup_cache_ struct cache *c = NULL;
	char buf[TID_FORMAT_MAX];
	int64_t p = w->cfg->discovery.zeroconf_persistence_sec;
	int r;

	tid_format(dc, buf, sizeof(buf));
	r = cache_get(w, CACHE_RDWR, &c);
	if (r < 0)
		return log_error_errno(r, "Failed to open the cache to mark %s unadvertised: %s",
				       buf, cache_strerror(r));
	r = cache_dc_set_advertised(c, dc, false, now_realtime());
	if (r == -ENOENT)
		return 0; /* never handed over (unreachable, or purged meanwhile) */
	if (r < 0)
		return log_error_errno(r, "Failed to mark %s unadvertised: %m", buf);
	c = cache_free(c);
	if (r > 0) {
		if (p < 0)
			log_info("%s is no longer advertised; kept (persistence: never).", buf);
		else
			log_info("%s is no longer advertised; purged in %lld s unless announced "
				 "again.",
				 buf, (long long)p);
	}
	(void)mdns_expiry_schedule(w);
	return r;
}

/* Expired: stop discovering it, purge it, drop its discovery connection, reconcile its NQNs. */
static int dc_retire(struct mdns_watch *w, struct cache *c, const struct cache_dc *dc)
{
	_cleanup_strv_free_ char **nqns = NULL;
	_cleanup_free_ char *unit = NULL;
	char buf[TID_FORMAT_MAX];
	struct kctrl k;
	int r;

	tid_format(&dc->tid, buf, sizeof(buf));
	log_info("%s has not been advertised for %lld s: retiring it.", buf,
		 (long long)w->cfg->discovery.zeroconf_persistence_sec);

	r = mdns_dc_unit(w, &dc->tid, &unit, NULL);
	if (r >= 0) {
		r = unit_starter_start(w->units, unit, UNIT_STOP);
		if (r < 0 && r != -ENOMEDIUM)
			log_warning_errno(r, "Failed to stop %s, ignoring: %m", unit);
	}

	r = cache_dc_nqns(c, &dc->tid, &nqns);
	if (r < 0)
		return log_error_errno(r, "Failed to read the entries of %s: %m", buf);

	/*
	 * Purge before disconnecting: the removal of a DC stas connected
	 * restarts stas-discover@nvmeN (the remove rule), which must find no
	 * record left to reconnect. @dc is the caller's copy, still usable.
	 */
	r = cache_dc_purge(c, &dc->tid);
	if (r < 0)
		return log_error_errno(r, "Failed to purge %s from the cache: %m", buf);

	/* The persistent discovery connection stas-discover made for it. */
	if (!isempty(dc->device) && kernel_ctrl_read(dc->device, &k) >= 0 && k.discovery &&
	    tid_equal(&k.tid, &dc->tid)) {
		/* stas's registry entry goes first; another orchestrator's connection stays. */
		r = registry_unregister(registry_root(), k.name, REGISTRY_OWNER_STAS);
		if (r < 0)
			log_notice_errno(r, "Not disconnecting %s: its registry entry %s: %m",
					 k.name,
					 r == -EPERM ? "names another owner" : "cannot be updated");
		else if ((r = kernel_disconnect(k.name)) < 0 && r != -ENOENT)
			log_warning_errno(r, "Failed to disconnect %s, ignoring: %m", k.name);
		else
			log_info("Disconnected %s, the discovery connection to %s.", k.name, buf);
	}

	STRV_FOREACH(n, nqns) {
		_cleanup_free_ char *cu = NULL;

		r = unit_name_connect(*n, &cu, NULL);
		if (r < 0) {
			log_error_errno(r, "No unit name for subsystem %s: %m", *n);
			continue;
		}
		r = unit_starter_start(w->units, cu, UNIT_RESTART);
		if (r < 0)
			log_error_errno(r, "Failed to start %s: %m", cu);
	}
	log_info("Purged %s from the cache (%zu subsystems to reconcile).", buf, strv_length(nqns));
	return 1;
}

struct expiry_scan {
	struct mdns_watch *w;
	uint64_t now, next;
	struct tid *due;
	size_t n_due, alloc;
};

static int expiry_scan_dc(const struct cache_dc *dc, void *userdata)
{
	struct expiry_scan *x = userdata;
	uint64_t at;

	if (mdns_dc_expiry(dc, x->w->cfg->discovery.zeroconf_persistence_sec, &at) <= 0)
		return 0;
	if (mdns_dc_is_advertised(x->w, &dc->tid))
		return 0; /* announced again; the cache is updated on the hand-over */
	if (at <= x->now) {
		if (GREEDY_REALLOC(x->due, x->alloc, x->n_due) < 0)
			return -ENOMEM;
		x->due[x->n_due++] = dc->tid;
	} else if (at < x->next)
		x->next = at;
	return 0;
}

static int expiry_fire(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct mdns_watch *w = userdata;
	_cleanup_cache_ struct cache *c = NULL;
	struct expiry_scan x = { .w = w, .now = now_realtime(), .next = UINT64_MAX };
	int r;

	r = cache_get(w, CACHE_RDWR, &c);
	if (r < 0) {
		log_error_errno(r, "Failed to open the cache for expiry: %s", cache_strerror(r));
		return 0;
	}
	r = cache_dc_foreach(c, expiry_scan_dc, &x);
	if (r < 0)
		log_error_errno(r, "Failed to read the cache: %m");
	for (size_t i = 0; r >= 0 && i < x.n_due; i++) {
		struct cache_dc dc;

		/* Read again: stas-discover may have written since. */
		if (cache_dc_get(c, &x.due[i], &dc) > 0)
			(void)dc_retire(w, c, &dc);
	}
	free(x.due);
	c = cache_free(c);
	(void)mdns_expiry_schedule(w);
	return 0;
}

int mdns_expiry_schedule(struct mdns_watch *w)
{
	_cleanup_cache_ struct cache *c = NULL;
	struct expiry_scan x = { .w = w, .now = now_realtime(), .next = UINT64_MAX };
	int r;

	r = cache_get(w, CACHE_RDONLY, &c);
	if (r == -ENOENT) {
		(void)sd_event_source_set_enabled(w->expiry_timer, SD_EVENT_OFF);
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to open the cache: %s", cache_strerror(r));
	r = cache_dc_foreach(c, expiry_scan_dc, &x);
	free(x.due);
	if (r < 0)
		return log_error_errno(r, "Failed to read the cache: %m");
	if (x.n_due > 0)
		x.next = x.now;
	if (x.next == UINT64_MAX) {
		(void)sd_event_source_set_enabled(w->expiry_timer, SD_EVENT_OFF);
		return 0;
	}
	if (!w->expiry_timer) {
		r = sd_event_add_time(w->event, &w->expiry_timer, CLOCK_REALTIME, x.next,
				      USEC_PER_SEC, expiry_fire, w);
		if (r < 0)
			return log_error_errno(r, "Failed to arm the expiry timer: %m");
	} else {
		(void)sd_event_source_set_time(w->expiry_timer, x.next);
		(void)sd_event_source_set_enabled(w->expiry_timer, SD_EVENT_ONESHOT);
	}
	log_debug("Next expiry check in %llu s.",
		  (unsigned long long)((x.next - x.now) / USEC_PER_SEC));
	return 1;
}

struct sweep_scan {
	struct mdns_watch *w;
	struct tid *gone;
	size_t n, alloc;
};

static int sweep_scan_dc(const struct cache_dc *dc, void *userdata)
{
	struct sweep_scan *x = userdata;

	if (dc->origin != CACHE_ORIGIN_MDNS || !dc->mdns_advertised ||
	    mdns_dc_is_advertised(x->w, &dc->tid))
		return 0;
	if (GREEDY_REALLOC(x->gone, x->alloc, x->n) < 0)
		return -ENOMEM;
	x->gone[x->n++] = dc->tid;
	return 0;
}

/* DCs the cache says are advertised but nobody announces (any more): goodbye. */
static int sweep_fire(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct mdns_watch *w = userdata;
	_cleanup_cache_ struct cache *c = NULL;
	struct sweep_scan x = { .w = w };
	int r;

	r = cache_get(w, CACHE_RDONLY, &c);
	if (r < 0)
		return 0;
	r = cache_dc_foreach(c, sweep_scan_dc, &x);
	c = cache_free(c);
	for (size_t i = 0; r >= 0 && i < x.n; i++)
		(void)mdns_dc_goodbye(w, &x.gone[i]);
	free(x.gone);
	return 0;
}

void mdns_sweep_schedule(struct mdns_watch *w)
{
	uint64_t now;

	(void)sd_event_now(w->event, CLOCK_MONOTONIC, &now);
	if (!w->sweep_timer) {
		if (sd_event_add_time(w->event, &w->sweep_timer, CLOCK_MONOTONIC,
				      now + MDNS_SWEEP_DELAY_USEC, USEC_PER_SEC, sweep_fire, w) < 0)
			log_error("Failed to arm the sweep timer.");
		return;
	}
	(void)sd_event_source_set_time(w->sweep_timer, now + MDNS_SWEEP_DELAY_USEC);
	(void)sd_event_source_set_enabled(w->sweep_timer, SD_EVENT_ONESHOT);
}
