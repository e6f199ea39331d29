/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stas-discover - read the Discovery Log Page of one discovery controller
 * (or of all of them) into the cache, and start what a change calls for.
 * Run by stas-discover@<dc>.service; see stas-discover(8).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backoff.h"
#include "cache.h"
#include "cached-notify.h"
#include "conf.h"
#include "log.h"
#include "macro.h"
#include "nvme-opts.h"
#include "stas-discover.h"
#include "strv.h"
#include "unit-name.h"
#include "unit-start.h"

static const char *arg_config;
static const char *arg_cache_dir;
static bool arg_all;
static bool arg_no_connect;
static bool arg_no_systemd;
static bool arg_dry_run;
static bool arg_oneshot;
static bool arg_json;
static struct tid arg_tid;
static bool arg_tid_set;
static const char *arg_instance;
static const char *arg_name; /* the instance as given, for messages */
static bool arg_retry;
static bool arg_register;
static bool arg_missing;

/* With --retry: whether this run's DC is still one stas wants (set by run()). */
static bool run_wanted;

/* Exit status: a DC that failed and is not retried (given up on, or not stas's to keep). */
#define EXIT_GAVE_UP 3

static void help(void)
{
	printf("Usage: stas-discover [OPTIONS] DC\n"
	       "       stas-discover [OPTIONS] -t TRANSPORT -a TRADDR [-s TRSVCID] ...\n"
	       "       stas-discover [OPTIONS] --all\n\n"
	       "Read a discovery controller's log page into the stas cache and reconcile,\n"
	       "in this process, every subsystem whose entries changed; one whose paths\n"
	       "did not all come up is handed to stas-connect@<nqn>.service (retries).\n"
	       "DC is a stas-discover@ unit instance: a kernel controller (nvme3) or an\n"
	       "escaped transport ID (tcp-192.168.1.10-8009); see stas-discover(8).\n\n"
	       "  -t --transport=T     tcp, rdma, fc or loop\n"
	       "  -a --traddr=ADDR     the DC's address\n"
	       "  -s --trsvcid=PORT    its service ID (default 8009 for tcp)\n"
	       "  -w --host-traddr=A   host address to connect from\n"
	       "  -f --host-iface=IF   host interface to connect through\n"
	       "  -n --nqn=NQN         the DC's NQN (default: the well-known discovery NQN)\n"
	       "  -q --hostnqn=NQN     host NQN (default: the configured one)\n"
	       "     --all            every DC from the configuration and the cache\n"
	       "     --no-connect     read pages only, start no connects\n"
	       "     --no-systemd     discover referrals in this process too\n"
	       "     --dry-run        print the connect plan only (implies --no-systemd)\n"
	       "     --oneshot        connect, read and disconnect (keep no discovery\n"
	       "                      connection; what 'nvme discover' does)\n"
	       "     --json           print a JSON summary\n"
	       "     --retry          with one DC stas wants (configured, mDNS, referral):\n"
	       "                      retry with backoff (2 s doubling to 60 s) until read\n"
	       "     --missing        with --all: only the DCs without a live connection\n"
	       "                      (the audit: a live persistent one gets AENs)\n"
	       "     --register       register with a DDC/CDC (DIM) even if done before\n"
	       "     --cache-dir=DIR  the cache (default: $CACHE_DIRECTORY or " CACHEDIR ")\n"
	       "     --config=FILE    the configuration (default: " SYSCONFDIR "/stas/stas.conf)\n"
	       "     --tron           debug messages\n"
	       "  -h --help           this help\n"
	       "     --version        the version\n");
}

static int parse_argv(int argc, char **argv)
{
	enum {
		OPT_ALL = 0x100,
		OPT_NO_CONNECT,
		OPT_NO_SYSTEMD,
		OPT_DRY_RUN,
		OPT_ONESHOT,
		OPT_JSON,
		OPT_CACHE_DIR,
		OPT_CONFIG,
		OPT_TRON,
		OPT_VERSION,
		OPT_RETRY,
		OPT_REGISTER,
		OPT_MISSING,
	};
	static const struct option options[] = {
		NVME_OPTS_TID_LONG,
		{ "retry", no_argument, NULL, OPT_RETRY },
		{ "register", no_argument, NULL, OPT_REGISTER },
		{ "missing", no_argument, NULL, OPT_MISSING },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "no-connect", no_argument, NULL, OPT_NO_CONNECT },
		{ "no-systemd", no_argument, NULL, OPT_NO_SYSTEMD },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "oneshot", no_argument, NULL, OPT_ONESHOT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "tron", no_argument, NULL, OPT_TRON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, NVME_OPTS_TID_SHORT "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case OPT_VERSION:
			printf("stas-discover (stas) %s\n", STAS_VERSION);
			return 0;
		case OPT_ALL:
			arg_all = true;
			break;
		case OPT_NO_CONNECT:
			arg_no_connect = true;
			break;
		case OPT_RETRY:
			arg_retry = true;
			break;
		case OPT_REGISTER:
			arg_register = true;
			break;
		case OPT_MISSING:
			arg_missing = true;
			break;
		case OPT_NO_SYSTEMD:
			arg_no_systemd = true;
			break;
		case OPT_DRY_RUN:
			arg_dry_run = true;
			break;
		case OPT_ONESHOT:
			arg_oneshot = true;
			break;
		case OPT_JSON:
			arg_json = true;
			break;
		case OPT_CACHE_DIR:
			arg_cache_dir = optarg;
			break;
		case OPT_CONFIG:
			arg_config = optarg;
			break;
		case OPT_TRON:
			log_set_max_level(LOG_DEBUG);
			break;
		case '?':
			return -EINVAL;
		default:
			r = nvme_opt_tid_set(&arg_tid, c, optarg);
			if (r < 0)
				return log_error_errno(r, "Invalid --%s value '%s'.",
						       nvme_opt_from_letter(c)->name, optarg);
			if (r > 0)
				arg_tid_set = true;
		}
	}

	if (optind < argc)
		arg_name = arg_instance = argv[optind++];
	if (optind < argc)
		return log_error_errno(EINVAL, "Too many arguments.");
	if (!!arg_instance + arg_tid_set + arg_all != 1)
		return log_error_errno(
			EINVAL, "Give exactly one of: a DC instance, -t/-a options, or --all.");
	if (arg_missing && !arg_all)
		return log_error_errno(EINVAL, "--missing goes with --all.");
	if (arg_retry && (arg_all || arg_dry_run))
		return log_error_errno(EINVAL,
				       "--retry works on one DC, not with --all or --dry-run.");
	if (arg_dry_run && !arg_no_systemd)
		arg_no_systemd = true; /* a plan is only printed when the work is done here */
	return 1;
}

/* Host NQN: the DC's own, else the configured one. */
static int job_fill_host(struct discover *d, struct dc_job *job)
{
	if (isempty(job->tid.host_nqn)) {
		if (isempty(d->cfg->host.nqn))
			return log_error_errno(ENOENT,
					       "No host NQN: %s is missing. Create one with "
					       "'stasadm hostnqn generate'.",
					       strempty(d->cfg->host.nqn_spec));
		if (strscpy_checked(job->tid.host_nqn, sizeof(job->tid.host_nqn),
				    d->cfg->host.nqn) < 0)
			return -EINVAL;
	}
	return 0;
}

static void summary_add(struct discover *d, const struct dc_job *job, const char *device, int error,
			uint64_t genctr, size_t n, int changed, const struct cache_dlp_change *ch)
{
	_cleanup_free_ char *instance = NULL;
	char key[TID_KEY_MAX];
	json_object *o, *a;
	bool is_key;

	if (!d->json)
		return;
	o = json_object_new_object();
	(void)tid_key(&job->tid, key, sizeof(key));
	json_object_object_add(o, "dc", json_object_new_string(key));
	if (unit_name_dc_instance(&job->tid, d->cfg->host.nqn, &instance, &is_key) >= 0)
		json_object_object_add(o, "instance", json_object_new_string(instance));
	json_object_object_add(o, "origin",
			       json_object_new_string(cache_origin_to_string(job->origin)));
	if (!isempty(device))
		json_object_object_add(o, "device", json_object_new_string(device));
	if (error) {
		json_object_object_add(o, "error", json_object_new_string(strerror(abs(error))));
	} else {
		json_object_object_add(o, "genctr", json_object_new_uint64(genctr));
		json_object_object_add(o, "entries", json_object_new_int((int)n));
		json_object_object_add(o, "changed", json_object_new_boolean(changed > 0));
		if (ch) {
			const struct {
				const char *name;
				char **l;
			} lists[] = {
				{ "nqns-added", ch->nqns_added },
				{ "nqns-removed", ch->nqns_removed },
				{ "nqns-changed", ch->nqns_changed },
			};
			for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
				a = json_object_new_array();
				STRV_FOREACH(s, lists[i].l)
					json_object_array_add(a, json_object_new_string(*s));
				json_object_object_add(o, lists[i].name, a);
			}
			json_object_object_add(o, "referrals-added",
					       json_object_new_int((int)ch->n_referrals_added));
			json_object_object_add(o, "referrals-removed",
					       json_object_new_int((int)ch->n_referrals_removed));
		}
	}
	json_object_array_add(d->summary, o);
}

static int record_failure(struct discover *d, const struct dc_job *job, int error,
			  const struct kernel_error *err)
{
	/* The cache creates the DC or not, inside its write transaction (cache.h). */
	const struct cache_dc rec = { .tid = job->tid,
				      .origin = job->origin,
				      .referral_depth = job->depth,
				      .referrer = job->referrer };
	int r;

	/* The kernel's detail helps for a failed connect, not for an unreachable DC. */
	r = cache_dc_set_error(d->cache, &rec, error,
			       abs(error) != EHOSTUNREACH ? kernel_error_message(err, error) :
							    strerror(abs(error)));
	if (r == -ENOENT)
		return 0; /* removed from the cache meanwhile: nothing to record */
	if (r < 0)
		return log_error_errno(r, "Failed to record the error in the cache: %m");
	return 0;
}

/*
 * The give-up policy (stas-discover(8), "Referrals"): a referral DC that has
 * not answered for discovery.referral-give-up since its first failure is
 * no longer retried, until an answer or a change of its referrer's page that
 * still lists it. Configured and mDNS DCs are never given up.
 */
static uint64_t now_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool dc_given_up(const struct stas_config *cfg, const struct cache_dc *rec)
{
	if (rec->origin != CACHE_ORIGIN_REFERRAL)
		return false;
	return backoff_give_up(rec->first_failure_usec, now_usec(),
			       (uint64_t)cfg->discovery.referral_give_up_sec * 1000000u);
}

/* Whether stas wants @origin's DCs connected for as long as they are known. */
static bool origin_is_wanted(enum cache_origin origin)
{
	switch (origin) {
	case CACHE_ORIGIN_CONFIG:
	case CACHE_ORIGIN_MDNS:
	case CACHE_ORIGIN_REFERRAL:
		return true;
	case CACHE_ORIGIN_UDEV:
	case CACHE_ORIGIN_MANUAL:
	case _CACHE_ORIGIN_MAX:
		break;
	}
	return false;
}

/*
 * The boot run (--all) does not wait for a DC that failed: it hands a DC
 * stas wants to its own stas-discover@ unit, which retries with backoff
 * (stas-units(7)), and goes on, so remote-fs-pre.target is not held.
 */
static void handoff(struct discover *d, const struct dc_job *job, const char *name)
{
	int r;

	if (!d->handoff_failed || !origin_is_wanted(job->origin))
		return;
	r = trigger_start_dc(d, job);
	if (r == -ENOMEDIUM)
		return; /* no systemd: the next run (or the audit) tries again */
	if (r > 0)
		log_info("%s: handed to its stas-discover@ unit, which retries with backoff.",
			 name);
}

/*
 * A changed page of @job's DC that still lists a referral it recorded and
 * stas gave up on: the referral is tried afresh (its failures forgotten).
 */
static int referrals_revive(struct discover *d, const struct dc_job *job,
			    const struct dlpe *entries, size_t n)
{
	char buf[TID_FORMAT_MAX];
	int r, ret = 0;

	for (size_t i = 0; i < n; i++) {
		struct dc_job next = {
			.origin = CACHE_ORIGIN_REFERRAL,
			.depth = (uint8_t)(job->depth + 1),
			.referrer = job->tid,
			.spawn = true,
		};
		struct cache_dc rec;

		if (entries[i].subtype != DLPE_SUBTYPE_REFERRAL ||
		    tid_from_dlpe(&entries[i], &job->tid, d->cfg->host.nqn, &next.tid) < 0 ||
		    cache_dc_get(d->cache, &next.tid, &rec) <= 0 ||
		    !tid_equal(&rec.referrer, &job->tid) || !dc_given_up(d->cfg, &rec))
			continue;
		r = cache_dc_failures_reset(d->cache, &next.tid);
		if (r < 0) {
			log_warning_errno(r, "Failed to reset the failures of %s, ignoring: %m",
					  tid_format(&next.tid, buf, sizeof(buf)));
			continue;
		}
		log_info("%s still lists referral %s, given up on earlier; trying it again.",
			 tid_format(&job->tid, (char[TID_FORMAT_MAX]){}, TID_FORMAT_MAX),
			 tid_format(&next.tid, buf, sizeof(buf)));
		next.depth = rec.referral_depth;
		r = trigger_discover(d, &next);
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

static int discover_one(struct discover *d, const struct dc_job *job_in)
{
	_cleanup_free_ struct dlpe *entries = NULL;
	struct kernel_error kerr = {};
	struct cache_dlp_change ch = {};
	struct dc_session s = {};
	char key[TID_KEY_MAX], buf[TID_FORMAT_MAX];
	struct dc_job job = *job_in;
	struct cache_dc old;
	uint64_t genctr = 0;
	size_t n = 0;
	bool again;
	int r, changed;

	if (isempty(job.device)) {
		r = job_fill_host(d, &job);
		if (r < 0)
			return r;
	}
	if (tid_key(&job.tid, key, sizeof(key)) < 0)
		return -EINVAL;
	r = strv_extend_unique(&d->visited, key);
	if (r < 0)
		return log_oom();
	if (r == 0)
		return 0; /* already discovered in this run */
	tid_format(&job.tid, buf, sizeof(buf));

	if (config_is_excluded(d->cfg, CONFIG_ROLE_DISCOVERY, &job.tid)) {
		log_info("Discovery controller %s is excluded by the configuration.", buf);
		if (cache_dc_get(d->cache, &job.tid, &old) > 0)
			return dc_retire(d, &old, "excluded by the configuration");
		return 0;
	}

	r = dc_session_open(d, &job, &kerr, &s);
	if (r > 0)
		return 0; /* another orchestrator's DC, or excluded: said why, nothing to do */
	if (r >= 0)
		r = dc_session_read(d, &job, &s, &kerr);
	if (r >= 0)
		r = dlp_read(&s, &entries, &n, &genctr);
	if (r >= 0)
		r = dlp_store(d, &job, &s, entries, n, genctr, &ch);
	dc_session_close(d, &s);
	if (r < 0) {
		(void)record_failure(d, &job, r, &kerr);
		summary_add(d, &job, s.ctrl.name, r, 0, 0, 0, NULL);
		d->failed++;
		handoff(d, &job, buf);
		return r;
	}
	changed = r;
	log_info("%s: %zu entries, generation %llu%s.", buf, n, (unsigned long long)genctr,
		 changed ? ", changed" : ", unchanged");
	summary_add(d, &job, s.persistent ? s.ctrl.name : "", 0, genctr, n, changed, &ch);

	/*
	 * An unchanged page whose last change did not start all its units (a
	 * failed StartUnit, a crash after the commit): the flag cache_dlp_put()
	 * set with that page is still there, so start the whole page's units
	 * again - every NQN and every referral, as if the page were new.
	 */
	again = !changed && !d->no_connect && cache_dc_get(d->cache, &job.tid, &old) > 0 &&
		old.triggers_pending;
	if (again) {
		log_notice("%s: the units of its last log page change were not all started; "
			   "starting them again.",
			   buf);
		cache_dlp_change_free(&ch);
		r = dlp_diff(NULL, 0, entries, n, &ch);
		if (r < 0)
			return log_oom();
	}
	r = 0;
	if ((changed || again) && !d->no_connect)
		r = trigger_mark(d, &job.tid, genctr);
	char **lists[] = { ch.nqns_added, ch.nqns_removed, ch.nqns_changed };
	for (size_t i = 0; i < ELEMENTSOF(lists) && r >= 0; i++)
		STRV_FOREACH(nqn, lists[i]) {
			r = trigger_connect(d, *nqn);
			if (r < 0)
				break;
		}
	if (r >= 0)
		r = trigger_referrals(d, &job, &ch, again);
	if (r >= 0 && changed && !d->no_connect)
		r = referrals_revive(d, &job, entries, n);
	cache_dlp_change_free(&ch);
	if (r < 0)
		d->failed++;
	return r;
}

/*
 * A kernel discovery controller that is gone (udev's remove event, or a
 * controller deleted since the event): if the cache records it as the
 * persistent connection stas made to a DC stas still wants, that DC is
 * reconnected; anything else (not stas's, no longer wanted) is left alone.
 * Return: 1 with *ret filled, 0 when there is nothing to do, negative errno.
 */
static int job_from_removed(struct discover *d, const char *ctrl, struct dc_job *ret)
{
	_cleanup_free_ struct cache_dc *dcs = NULL;
	size_t n = 0;
	int r;

	r = cache_dc_list(d->cache, &dcs, &n);
	if (r < 0)
		return log_error_errno(r, "Failed to list the cache: %m");
	for (size_t i = 0; i < n; i++) {
		const struct cache_dc *dc = &dcs[i];
		const struct config_controller *conf;

		if (!streq(dc->device, ctrl))
			continue;
		conf = config_controller_find(d->cfg, CONFIG_ROLE_DISCOVERY, &dc->tid);
		if (!dc->persistent || !origin_is_wanted(dc->origin) ||
		    (dc->origin == CACHE_ORIGIN_CONFIG && !conf)) {
			log_info("%s is gone; it was no discovery controller stas keeps connected, "
				 "nothing to do.",
				 ctrl);
			return 0;
		}
		*ret = (struct dc_job){
			.tid = dc->tid,
			.origin = conf ? CACHE_ORIGIN_CONFIG : dc->origin,
			.depth = dc->referral_depth,
			.referrer = dc->referrer,
			.conf = conf,
		};
		log_notice("%s, stas's connection to %s, is gone; reconnecting.", ctrl,
			   tid_format(&dc->tid, (char[TID_FORMAT_MAX]){}, TID_FORMAT_MAX));
		return 1;
	}
	log_info("%s is gone and was not connected by stas; nothing to do.", ctrl);
	return 0;
}

/* A unit instance or -t/-a options: the one DC to work on. */
static int job_from_args(struct discover *d, struct dc_job *ret)
{
	_cleanup_free_ char *ctrl = NULL, *ikey = NULL;
	struct dc_job job = { .origin = CACHE_ORIGIN_MANUAL };
	struct cache_dc rec;
	struct kctrl k;
	int r;

	if (arg_instance) {
		r = dc_instance_parse(arg_instance, &job.tid, &ctrl, &ikey);
		if (r < 0)
			return log_error_errno(r, "Invalid discovery controller instance '%s'.",
					       arg_instance);
		if (ctrl) {
			/* From udev: an event on a kernel discovery controller. */
			r = kernel_ctrl_read(ctrl, &k);
			/* Gone, or its name already given to a new (I/O) controller. */
			if (r == -ENOENT || (r >= 0 && !k.discovery))
				return job_from_removed(d, ctrl, ret);
			if (r < 0)
				return log_error_errno(r, "Cannot read controller %s: %m", ctrl);
			if (!k.discovery)
				return log_error_errno(EINVAL, "%s is not a discovery controller.",
						       ctrl);
			job.tid = k.tid;
			job.origin = CACHE_ORIGIN_UDEV;
			(void)strscpy_checked(job.device, sizeof(job.device), k.name);
			/* The session uses this read rather than reading it again. */
			job.device_ctrl = k;
			job.device_read = true;
		} else if (ikey) {
			r = cache_dc_get_by_instance_key(d->cache, ikey, &rec);
			if (r < 0)
				return log_error_errno(r, "Failed to look up %s in the cache: %m",
						       ikey);
			if (r == 0)
				return log_error_errno(
					ENOENT, "No discovery controller %s in the cache.", ikey);
			job.tid = rec.tid;
		}
	} else {
		job.tid = arg_tid;
		if (isempty(job.tid.subsysnqn))
			(void)strscpy_checked(job.tid.subsysnqn, sizeof(job.tid.subsysnqn),
					      NVME_DISC_SUBSYS_NQN);
		tid_set_default_trsvcid(&job.tid, true);
		/* nvme-loop has no address: -t loop alone names its DC. */
		if (isempty(job.tid.transport) ||
		    (isempty(job.tid.traddr) && strcasecmp(job.tid.transport, "loop") != 0))
			return log_error_errno(EINVAL,
					       "-t/--transport and -a/--traddr are required.");
		r = tid_canonicalize(&job.tid);
		if (r < 0)
			return log_error_errno(r, "Invalid discovery controller transport ID.");
	}

	if (isempty(job.device) && (r = job_fill_host(d, &job)) < 0)
		return r;
	if (cache_dc_get(d->cache, &job.tid, &rec) > 0) {
		job.origin = rec.origin;
		job.depth = rec.referral_depth;
		job.referrer = rec.referrer;
	}
	job.conf = config_controller_find(d->cfg, CONFIG_ROLE_DISCOVERY, &job.tid);
	if (!job.conf)
		job.conf = nbft_dc_find(d, &job.tid);
	if (job.conf)
		job.origin = CACHE_ORIGIN_CONFIG;
	*ret = job;
	return 1;
}

/* --missing: whether @job's DC has a live kernel connection (its AENs keep the cache current). */
static bool dc_is_live(struct discover *d, const struct dc_job *job)
{
	struct dc_job j = *job;

	if (job_fill_host(d, &j) < 0)
		return false;
	return dc_live(&j.tid) > 0;
}

static int discover_all(struct discover *d)
{
	const struct config_section *sec = config_section(d->cfg, CONFIG_ROLE_DISCOVERY);
	_cleanup_free_ struct cache_dc *dcs = NULL;
	size_t n_dcs = 0;
	int r, ret = 0;

	bool unresolved = false;

	/* Configured DCs first, then whatever else the cache knows. */
	for (size_t i = 0; i < sec->n_controllers; i++) {
		struct dc_job job = {
			.tid = sec->controllers[i].tid,
			.origin = CACHE_ORIGIN_CONFIG,
			.conf = &sec->controllers[i],
		};
		/* a host name that did not resolve (logged at start): that DC only */
		if (!config_controller_usable(&sec->controllers[i])) {
			unresolved = true;
			continue;
		}
		if (arg_missing && dc_is_live(d, &job))
			continue;
		r = trigger_discover(d, &job);
		if (r < 0)
			return r;
	}

	/* The boot firmware's DCs (NBFT): discovered like configured ones. */
	r = nbft_dcs_load(d);
	if (r < 0)
		return log_oom();
	for (size_t i = 0; i < d->n_nbft_dcs; i++) {
		struct dc_job job = {
			.tid = d->nbft_dcs[i].tid,
			.origin = CACHE_ORIGIN_CONFIG,
			.conf = &d->nbft_dcs[i],
		};

		if (config_controller_find(d->cfg, CONFIG_ROLE_DISCOVERY, &job.tid))
			continue; /* configured as well: done above */
		if (arg_missing && dc_is_live(d, &job))
			continue;
		r = trigger_discover(d, &job);
		if (r < 0)
			return r;
	}

	r = cache_dc_list(d->cache, &dcs, &n_dcs);
	if (r < 0)
		return log_error_errno(r, "Failed to list the cache: %m");
	for (size_t i = 0; i < n_dcs; i++) {
		const struct cache_dc *dc = &dcs[i];
		struct dc_job job = {
			.tid = dc->tid,
			.origin = dc->origin,
			.depth = dc->referral_depth,
			.referrer = dc->referrer,
		};

		if (nbft_dc_find(d, &dc->tid))
			continue; /* queued above */
		/* A DC configured once and since removed from the configuration. */
		if (dc->origin == CACHE_ORIGIN_CONFIG &&
		    !config_controller_find(d->cfg, CONFIG_ROLE_DISCOVERY, &dc->tid)) {
			/* it may be the address of a name that failed to resolve this time */
			if (unresolved)
				continue;
			r = dc_retire(d, dc, "no longer in the configuration");
			if (r < 0 && ret == 0)
				ret = r;
			continue;
		}
		job.conf = config_controller_find(d->cfg, CONFIG_ROLE_DISCOVERY, &dc->tid);
		if (arg_missing && dc_is_live(d, &job))
			continue;
		if (!job.conf && dc_given_up(d->cfg, dc)) {
			log_debug("Skipping referral %s: given up on (never answered).",
				  tid_format(&dc->tid, (char[TID_FORMAT_MAX]){}, TID_FORMAT_MAX));
			continue;
		}
		r = trigger_discover(d, &job);
		if (r < 0)
			return r;
	}
	return ret;
}

static void discover_done(struct discover *d)
{
	config_free(d->cfg);
	cache_free(d->cache);
	unit_starter_free(d->units);
	json_object_put(d->summary);
	strv_free(d->visited);
	free(d->jobs);
	free(d->triggered);
	strv_free(d->nqns);
	strv_free(d->changed_dcs);
	nbft_dcs_free(d);
	kernel_close();
}

/* After a failed run on one DC: time to give up on it? Logs the one line if so. */
static bool job_gave_up(struct discover *d, const struct dc_job *job)
{
	char buf[TID_FORMAT_MAX], ref[TID_FORMAT_MAX];
	struct cache_dc rec;

	if (job->conf || cache_dc_get(d->cache, &job->tid, &rec) <= 0 || !dc_given_up(d->cfg, &rec))
		return false;
	log_warning("Giving up on referral discovery controller %s (referred by %s): no answer "
		    "in %" PRIu32 " attempts over %lld s (discovery.referral-give-up). It is tried "
		    "again when the referring DC's log page changes and still lists it.",
		    tid_format(&rec.tid, buf, sizeof(buf)),
		    tid_format(&rec.referrer, ref, sizeof(ref)), rec.n_failures,
		    (long long)((now_usec() - rec.first_failure_usec) / 1000000u));
	run_wanted = false;
	return true;
}

/*
 * One run. @attempt counts --retry's attempts from 1. Sets run_wanted when
 * the one DC is still one stas wants: configured, or an mDNS or referral DC
 * the cache still holds (a DC removed from the configuration, purged or
 * retired meanwhile is not retried).
 * Return: the exit status (0, 1: some DC failed, 2: usage or configuration).
 */
static int run(unsigned attempt)
{
	_cleanup_strv_free_ char **errors = NULL;
	_cleanup_(discover_done) struct discover d = { .n_referral_dcs = -1 };
	struct dc_job job, target = {};
	int r, ret;

	run_wanted = false;
	/* Configuration problems stop us before any kernel call. */
	r = config_load(arg_config, &d.cfg, &errors);
	if (r < 0) {
		STRV_FOREACH(e, errors)
			log_error("%s", *e);
		log_error_errno(r, "Invalid configuration, not discovering anything.");
		return 2;
	}
	if (attempt <= 1)
		STRV_FOREACH(w, d.cfg->warnings)
			log_warning("%s", *w);
	if (d.cfg->global.tron)
		log_set_max_level(LOG_DEBUG);
	d.oneshot = arg_oneshot;

	/* Host names as traddr: resolved now, on each discovery; a failure is that controller's only. */
	{
		_cleanup_strv_free_ char **problems = NULL;

		r = config_names_resolve(d.cfg, 0, &problems);
		if (r < 0)
			return log_oom(), 1;
		STRV_FOREACH(p, problems)
			log_error("%s.", *p);
	}

	/* A malformed instance is a usage error: say so before touching the cache. */
	if (arg_instance) {
		_cleanup_free_ char *ctrl = NULL, *ikey = NULL;
		struct tid t;

		r = dc_instance_parse(arg_instance, &t, &ctrl, &ikey);
		if (r < 0) {
			log_error_errno(r, "Invalid discovery controller instance '%s'.",
					arg_instance);
			return 2;
		}
	}

	r = cache_open(arg_cache_dir, CACHE_RDWR, &d.cache);
	if (r < 0) {
		log_error_errno(r, "Failed to open the cache in %s: %s",
				arg_cache_dir ? arg_cache_dir : cache_default_dir(),
				cache_strerror(r));
		/* Retrying may help (a full disk, a lock); the DC is not known yet. */
		run_wanted = true;
		return 1;
	}
	cache_set_writer(d.cache, "stas-discover");

	d.no_connect = arg_no_connect;
	d.no_systemd = arg_no_systemd;
	d.dry_run = arg_dry_run;
	d.json = arg_json;
	d.dim_register = arg_register && attempt <= 1;
	d.handoff_failed = arg_all && !arg_dry_run;
	if (d.json)
		d.summary = json_object_new_array();

	if (arg_all)
		ret = discover_all(&d);
	else {
		struct cache_dc rec;

		r = job_from_args(&d, &job);
		if (r < 0)
			return 2;
		if (r == 0)
			return 0;
		target = job;
		/*
		 * Later attempts name the DC by this transport ID, not by the
		 * instance: a kernel name (nvme3) may be deleted and given to
		 * another controller meanwhile.
		 */
		if (arg_retry && arg_instance) {
			arg_tid = job.tid;
			arg_tid_set = true;
			arg_instance = NULL;
		}
		run_wanted = origin_is_wanted(job.origin) &&
			     (job.conf || (job.origin != CACHE_ORIGIN_CONFIG &&
					   cache_dc_get(d.cache, &job.tid, &rec) > 0));
		if (attempt > 1 && !run_wanted) {
			log_info("%s is no longer a discovery controller stas wants; not retrying.",
				 arg_name ?: "The discovery controller");
			return 0;
		}
		r = trigger_discover(&d, &job);
		/* > 0 means queued: ret stays 0 so a failure below still shows in the exit status */
		ret = r < 0 ? r : 0;
	}

	/*
	 * Drain the queue: DCs (and the referrals they add: their own units, or
	 * discovered here without systemd), then, in one batch, the subsystems
	 * whose entries changed (trigger_flush()).
	 */
	while (d.n_jobs_done < d.n_jobs) {
		job = d.jobs[d.n_jobs_done++];
		r = job.spawn && !d.no_systemd ? trigger_start_dc(&d, &job) : -ENOMEDIUM;
		if (r == -ENOMEDIUM)
			r = discover_one(&d, &job);
		if (r < 0 && ret >= 0)
			ret = r;
	}
	r = trigger_flush(&d);
	if (r < 0 && ret >= 0)
		ret = r;
	/* Only now, with every unit started, may the DCs' pending triggers be forgotten. */
	(void)trigger_confirm(&d);
	/* Then stas-cached (best effort; activating it may take a while). */
	(void)cached_notify_changed(d.changed_dcs, NULL);

	if (d.json)
		puts(json_object_to_json_string_ext(
			d.summary, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!arg_all && d.failed > 0 && job_gave_up(&d, &target))
		return EXIT_GAVE_UP;
	return ret < 0 || d.failed > 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned first, max;
	int r;

	log_set_ident("stas-discover");
	log_set_target_auto();

	r = parse_argv(argc, argv);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	if (!arg_retry)
		return run(1);

	/*
	 * --retry (the stas-discover@ unit): a DC stas wants is retried with
	 * backoff until its page is read or it is no longer wanted; the unit
	 * stays activating meanwhile, and a stop request ends the wait at once.
	 */
	if (backoff_parse_env(&first, &max) < 0)
		log_warning("Ignoring an invalid $STAS_BACKOFF (wanted FIRST,MAX in seconds).");
	for (unsigned attempt = 1;; attempt++) {
		unsigned delay;

		r = run(attempt);
		if (r == 1 && !run_wanted) {
			log_info(
				"Not retrying %s: not a discovery controller stas keeps connected.",
				arg_name ?: "the discovery controller");
			return EXIT_GAVE_UP;
		}
		if (r != 1)
			return r;
		delay = backoff_delay_sec_custom(attempt, first, max);
		log_notice("Attempt %u on %s failed; retrying in %u s.", attempt,
			   arg_name ?: "the discovery controller", delay);
		r = backoff_wait(delay);
		if (r < 0) {
			log_error_errno(r, "Cannot wait before retrying: %m");
			return 1;
		}
		if (r > 0) {
			log_info("Stop requested (%s) while waiting to retry; exiting.",
				 strsignal(r));
			return 0;
		}
	}
}
