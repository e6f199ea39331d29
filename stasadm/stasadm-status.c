/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm-status.c - "stasadm status": one view of the whole state, the one
 * an administrator reaches for first: host identity, configuration, the
 * cache, discovery controllers and subsystems with their path counts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "conf.h"
#include "hostid.h"
#include "kernel.h"
#include "log.h"
#include "macro.h"
#include "reconcile.h"
#include "stasadm-cache.h"
#include "stasadm.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Live paths of subsystem @nqn: usable controllers the kernel has now. */
static int status_live_paths(const char *nqn)
{
	_cleanup_free_ struct kctrl *v = NULL;
	int n, live = 0;

	n = kernel_ctrls_scan(nqn, false, false, &v);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		live += kctrl_is_usable(&v[i]);
	return live;
}

struct subsys {
	char nqn[TID_NQN_MAX + 1];
	unsigned wanted;
};

/*
 * Wanted paths of @nqn as stas-connect would see them (exclude, ip-family,
 * NCC and TLS applied): a dry-run plan. -1 when it cannot be planned.
 */
static int status_wanted_paths(struct cache *c, const struct stas_config *cfg, const char *nqn)
{
	_cleanup_reconcile_plan_ struct reconcile_plan *plan = NULL;
	int wanted = 0;

	if (reconcile_nqn(c, cfg, nqn, true, &plan) < 0)
		return -1;
	for (size_t i = 0; i < plan->n_items; i++)
		wanted += plan->items[i].wanted;
	return wanted;
}

struct subsys_list {
	struct subsys *v;
	size_t n, alloc;
};

static int subsys_cb(const char *nqn, unsigned n, void *ud)
{
	struct subsys_list *l = ud;

	if (GREEDY_REALLOC(l->v, l->alloc, l->n) < 0)
		return -ENOMEM;
	snprintf(l->v[l->n].nqn, sizeof(l->v[l->n].nqn), "%s", nqn);
	l->v[l->n++].wanted = n;
	return 0;
}

int verb_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTIONS,
		{},
	};
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_free_ char *hostnqn = NULL, *hostid = NULL;
	_cleanup_free_ struct cache_dc *dcs = NULL;
	struct subsys_list subs = {};
	struct cache_stats st = {};
	const char *config = arg_config ?: SYSCONFDIR "/stas/stas.conf";
	const char *dir = arg_cache_dir ?: cache_default_dir();
	size_t n_dcs = 0;
	int o, r, rn, ri, rc, ret = 0;
	bool config_exists;
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	_cleanup_strv_free_ char **cfg_errors = NULL, **nqns = NULL;
	int rcfg;

	while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (o == 'h') {
			printf("Usage: stasadm status [--json]\n\n"
			       "Host identity, configuration, cache, discovery controllers and\n"
			       "subsystems (wanted paths from the cache, live paths from the kernel).\n");
			return 0;
		}
		if (o == '?' || !common_option(o, optarg))
			return EXIT_USAGE;
	}
	if (optind < argc) {
		log_error("Usage: stasadm status [--json]");
		return EXIT_USAGE;
	}

	rcfg = config_load(arg_config, &cfg, &cfg_errors);
	rn = hostid_read_file(HOSTNQN_PATH, &hostnqn);
	ri = hostid_read_file(HOSTID_PATH, &hostid);
	config_exists = access(config, F_OK) == 0;

	rc = stasadm_cache_open(CACHE_RDONLY, &c);
	if (rc < 0)
		ret = 1;
	if (c) {
		r = cache_stats(c, &st);
		if (r >= 0)
			r = dc_list(c, &dcs, &n_dcs);
		if (r >= 0)
			r = cache_nqns_foreach(c, subsys_cb, &subs);
		/* With a valid configuration, the NQNs stas-connect --all would visit:
		 * configured ones and those with stas-owned paths too. */
		if (r >= 0 && cfg && reconcile_nqns_all(c, cfg, &nqns) >= 0) {
			subs.n = 0;
			STRV_FOREACH(q, nqns) {
				int w = status_wanted_paths(c, cfg, *q);
				r = subsys_cb(*q, w < 0 ? 0 : (unsigned)w, &subs);
				if (r < 0)
					break;
			}
		}
		if (r >= 0 && cache_verify(c, NULL, NULL) != 0)
			r = -EBADMSG;
		if (r < 0) {
			log_error_errno(r, "Failed to read the cache: %s", cache_strerror(r));
			ret = 1;
		}
	}

	if (arg_json) {
		_cleanup_json_ json_object *jo = json_object_new_object();
		json_object *h = json_object_new_object(), *cf = json_object_new_object(),
			    *ca = json_object_new_object(), *da = json_object_new_array(),
			    *sa = json_object_new_array();

		json_object_object_add(h, "hostnqn",
				       rn >= 0 ? json_object_new_string(hostnqn) : NULL);
		json_object_object_add(h, "hostid",
				       ri >= 0 ? json_object_new_string(hostid) : NULL);
		json_object_object_add(jo, "host", h);
		json_object_object_add(cf, "path", json_object_new_string(config));
		json_object_object_add(cf, "exists", json_object_new_boolean(config_exists));
		json_object_object_add(cf, "valid", json_object_new_boolean(rcfg >= 0));
		if (cfg_errors) {
			json_object *ea = json_object_new_array();
			STRV_FOREACH(e, cfg_errors)
				json_object_array_add(ea, json_object_new_string(*e));
			json_object_object_add(cf, "errors", ea);
		}
		json_object_object_add(jo, "config", cf);
		json_object_object_add(ca, "directory", json_object_new_string(dir));
		json_object_object_add(ca, "exists", json_object_new_boolean(c != NULL));
		json_object_object_add(ca, "file-size",
				       json_object_new_int64((int64_t)st.file_size));
		json_object_object_add(ca, "schema", json_object_new_int64(st.schema));
		json_object_object_add(jo, "cache", ca);
		for (size_t i = 0; i < n_dcs; i++)
			json_object_array_add(da, dc_to_json(&dcs[i]));
		json_object_object_add(jo, "dcs", da);
		for (size_t i = 0; i < subs.n; i++) {
			json_object *s = json_object_new_object();
			int live = status_live_paths(subs.v[i].nqn);
			json_object_object_add(s, "nqn", json_object_new_string(subs.v[i].nqn));
			json_object_object_add(s, "wanted",
					       json_object_new_int64(subs.v[i].wanted));
			json_object_object_add(s, "live",
					       live >= 0 ? json_object_new_int64(live) : NULL);
			json_object_array_add(sa, s);
		}
		json_object_object_add(jo, "subsystems", sa);
		json_print(jo);
		free(subs.v);
		return ret;
	}

	printf("Host NQN:   %s\n", rn >= 0	 ? hostnqn :
				   rn == -ENOENT ? "(not set: " HOSTNQN_PATH " missing)" :
						   "(unreadable)");
	printf("Host ID:    %s\n", ri >= 0	 ? hostid :
				   ri == -ENOENT ? "(not set: " HOSTID_PATH " missing)" :
						   "(unreadable)");
	printf("Config:     %s%s\n", config,
	       rcfg < 0	      ? " (INVALID: see 'stasadm config check')" :
	       !config_exists ? " (missing: defaults apply)" :
				" (valid)");
	if (c)
		printf("Cache:      %s (%" PRIu64 " KiB, schema %u%s)\n", dir, st.file_size / 1024,
		       st.schema,
		       st.schema > CACHE_SCHEMA_VERSION ? ", newer than this stasadm" : "");
	else
		printf("Cache:      %s (%s)\n", dir,
		       rc < 0 ? "cannot be opened" : "not created yet");

	printf("\nDiscovery controllers: %zu\n", n_dcs);
	for (size_t i = 0; i < n_dcs; i++) {
		char s[TID_FORMAT_MAX], age[16];
		printf("  %-40s %-8s %-5s %5" PRIu32 " entries, read %s ago%s%s\n",
		       dc_short(&dcs[i].tid, s, sizeof(s)), cache_origin_to_string(dcs[i].origin),
		       dc_state(&dcs[i]), dcs[i].n_entries,
		       age_format(dcs[i].last_read_usec, age, sizeof(age)),
		       dcs[i].last_error[0] ? ": " : "", dcs[i].last_error);
	}
	printf("\nSubsystems: %zu\n", subs.n);
	if (subs.n)
		printf("  %-60s %6s %6s\n", "NQN", "LIVE", "WANTED");
	for (size_t i = 0; i < subs.n; i++) {
		int live = status_live_paths(subs.v[i].nqn);
		char lb[16] = "-";
		if (live >= 0)
			snprintf(lb, sizeof(lb), "%d", live);
		printf("  %-60s %6s %6u\n", subs.v[i].nqn, lb, subs.v[i].wanted);
	}
	free(subs.v);
	return ret;
}
