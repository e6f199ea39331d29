/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stas-discover.h - one context for a run of stas-discover, and the parts
 * that work on it:
 *   discover-session.c  the kernel connection to a DC, DIM, reading the page
 *   discover-dlp.c      raw page -> validated entries -> the cache
 *   discover-trigger.c  what a changed page sets off: the changed subsystems
 *                       (reconciled here, failures handed to stas-connect@),
 *                       referrals, retired DCs - as jobs queued on the
 *                       context, which only main() drains
 *
 * The call graph has no cycle: stas-discover.c calls into the other three
 * files and none of them calls back.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cache.h"
#include "conf.h"
#include "kernel.h"
#include "tid.h"
#include "unit-start.h"

/* Referrals more hops away than this from a configured/mDNS DC are ignored. */
#define REFERRAL_DEPTH_MAX 8
/*
 * Breadth limits (issue 13, 5a): one DC listing 65,536 referrals must not
 * make 65,536 cache records, units and connect attempts. The first new
 * referrals of a page are followed up to discovery.referrals-per-page-max
 * (default 64), and no new referral DC is recorded once the cache holds
 * discovery.referral-dcs-max of them (default 256); see stas.conf(5). Each
 * limit hit is logged once per page.
 */

/* A DC whose page change (or pending retry) set off units in this run. */
struct dc_triggered {
	struct tid tid;
	uint64_t genctr;
};

/* A discovery controller to work on. */
struct dc_job {
	struct tid tid; /* canonical */
	enum cache_origin origin;
	uint8_t depth;
	struct tid referrer; /* empty unless a referral */
	char device[KCTRL_NAME_MAX + 1]; /* the kernel controller named by udev, or "" */
	struct kctrl device_ctrl; /* @device as read when the job was made, if device_read */
	bool device_read;
	const struct config_controller *conf; /* its config entry, or NULL */
	bool spawn; /* a referral: run as its own stas-discover@ unit when systemd is there */
};

/* One run; owns everything it points to (discover_done() frees it). */
struct discover {
	struct stas_config *cfg;
	struct cache *cache;
	struct unit_starter *units; /* the system bus, opened on first start */
	bool no_connect; /* only read pages, start nothing */
	bool no_systemd; /* discover referrals in-process (no stas-discover@ units) */
	bool dry_run; /* print the plan, change nothing (sets no_systemd) */
	bool oneshot; /* connect, read, disconnect: keep no discovery connection */
	bool json;
	bool dim_register; /* register with a DDC/CDC even when done before (rediscover) */
	bool handoff_failed; /* a wanted DC that failed goes to its own stas-discover@ unit */
	json_object *summary; /* array of per-DC results */
	char **visited; /* tid keys discovered in this run (loop safety) */
	/* The job queue, drained by main() only. */
	struct dc_job *jobs; /* DCs to discover, in order */
	size_t n_jobs, n_jobs_done, n_jobs_alloc;
	char **nqns; /* subsystems whose connections to reconcile (unit or in-process) */
	unsigned failed;
	/* Trigger bookkeeping: the DCs whose triggers_pending flag this run may clear
	 * (cache_dc_triggers_done()) when no trigger failed. */
	struct dc_triggered *triggered;
	size_t n_triggered, n_triggered_alloc;
	unsigned triggers_failed; /* units not started, referrals not recorded */
	int n_referral_dcs; /* referral DCs in the cache, -1: not counted yet */
	char **changed_dcs; /* tid keys of the DCs whose stored page changed, for stas-cached */
	/* The boot firmware's DCs (NBFT), as configured ones: loaded once (discover-nbft.c). */
	struct config_controller *nbft_dcs;
	size_t n_nbft_dcs;
	bool nbft_loaded;
};

/* What one session produced. */
struct dc_session {
	struct kctrl ctrl; /* the kernel discovery controller used */
	bool connected_here; /* we created it in this run */
	bool persistent; /* keep it after reading */
	struct nvmf_discovery_log *log; /* malloc()ed */
};

/* discover-session.c; dc_session_open() returns 1 (logged) for a DC not to be read:
 * owned by another orchestrator, or excluded by the host's exclusion list. */
int dc_session_open(struct discover *d, const struct dc_job *job, struct kernel_error *err,
		    struct dc_session *ret);
int dc_session_read(struct discover *d, const struct dc_job *job, struct dc_session *s,
		    struct kernel_error *err);
void dc_session_close(struct discover *d, struct dc_session *s);
/* 1 when the kernel has a live connection to DC @t (anyone's), 0 not, negative errno */
int dc_live(const struct tid *t);

/* discover-dlp.c */
int dlp_read(const struct dc_session *s, struct dlpe **ret, size_t *ret_n, uint64_t *ret_genctr);
int dlp_store(struct discover *d, const struct dc_job *job, const struct dc_session *s,
	      const struct dlpe *entries, size_t n, uint64_t genctr,
	      struct cache_dlp_change *ret_change);

/* discover-trigger.c: queue work; main() drains the queue */
int trigger_discover(struct discover *d, const struct dc_job *job);
int trigger_connect(struct discover *d, const char *nqn);
int trigger_referrals(struct discover *d, const struct dc_job *job,
		      const struct cache_dlp_change *ch, bool again);
int trigger_mark(struct discover *d, const struct tid *dc, uint64_t genctr);
int trigger_confirm(struct discover *d);
int dc_retire(struct discover *d, const struct cache_dc *dc, const char *why);
int trigger_start_dc(struct discover *d, const struct dc_job *job);
int trigger_flush(struct discover *d);

/**
 * nbft_dcs_load() - the discovery controllers of the host's NBFT tables
 * (nbft.h) as configured controllers in d->nbft_dcs, each with the table's
 * host NQN (in its tid) and host ID; loaded on the first call.
 * Return: their number, or -ENOMEM.
 */
int nbft_dcs_load(struct discover *d);

/** nbft_dc_find() - the NBFT DC whose path is @t (tid_equal), or NULL. */
const struct config_controller *nbft_dc_find(struct discover *d, const struct tid *t);

/** nbft_dcs_free() - what nbft_dcs_load() allocated. */
void nbft_dcs_free(struct discover *d);
