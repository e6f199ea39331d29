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
#include "exclusions.h"
#include "hostid.h"
#include "kernel.h"
#include "log.h"
#include "macro.h"
#include "nbft.h"
#include "reconcile.h"
#include "registry.h"
#include "status.h"
#include "stasadm-cache.h"
#include "stasadm-registry.h"
#include "stasadm.h"
#include "strv.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)
#define _cleanup_json_ _cleanup_(json_object_putp)

/* One wanted path the host's exclusion list keeps stas from connecting. */
struct excluded {
	struct tid tid;
	char reason[RECONCILE_REASON_MAX + 1]; /* "excluded by FILE:LINE (host exclusion list)" */
};

/*
 * The wanted paths of @st's subsystems that the exclusion list matches, from
 * the same dry-run plans stas-connect would make (the configuration must be
 * valid for that). Return: the count with *ret, or negative errno.
 */
static int excluded_collect(struct cache *c, const struct status *st, struct excluded **ret)
{
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	struct excluded *v = NULL;
	size_t n = 0, alloc = 0;

	*ret = NULL;
	if (!st->config_valid || config_load(arg_config, &cfg, NULL) < 0)
		return 0;
	for (size_t i = 0; i < st->n_subsystems; i++) {
		_cleanup_reconcile_plan_ struct reconcile_plan *plan = NULL;

		if (reconcile_nqn(c, cfg, st->subsystems[i].nqn, true, &plan) < 0)
			continue;
		for (size_t j = 0; j < plan->n_items; j++) {
			const struct reconcile_item *it = &plan->items[j];

			if (!it->excluded)
				continue;
			if (GREEDY_REALLOC(v, alloc, n) < 0) {
				free(v);
				return -ENOMEM;
			}
			v[n].tid = it->tid;
			memcpy(v[n].reason, it->reason, sizeof(v[n].reason));
			n++;
		}
	}
	*ret = v;
	return (int)n;
}

static void exclusion_problem(const char *path, unsigned line, const char *reason, void *ud)
{
	char ***l = ud;
	char *s = NULL;

	if (line > 0 ? asprintf(&s, "%s:%u: %s", path, line, reason) < 0 :
		       asprintf(&s, "%s: %s", path, reason) < 0)
		return;
	(void)strv_consume(l, s);
}

/*
 * The kernel's fabrics capabilities: the option tokens /dev/nvme-fabrics
 * accepts (host_iface, dhchap_secret, tls, concat, ...), read once.
 */
/* The boot firmware's tables (NBFT): host identity, interfaces, DCs, subsystems. */
static json_object *nbft_to_json(struct nbft **v, char **errors)
{
	json_object *a = json_object_new_array();

	for (struct nbft **t = v; t && *t; t++) {
		json_object *o = json_object_new_object(), *ha = json_object_new_array(),
			    *da = json_object_new_array(), *sa = json_object_new_array(),
			    *pa = json_object_new_array();

		json_object_object_add(o, "path", json_object_new_string((*t)->path));
		json_object_object_add(o, "parser", json_object_new_string((*t)->parser));
		json_object_object_add(o, "hostnqn", json_object_new_string((*t)->host_nqn));
		json_object_object_add(o, "hostid", json_object_new_string((*t)->host_id));
		for (size_t i = 0; i < (*t)->n_hfis; i++) {
			const struct nbft_iface *h = &(*t)->hfis[i];
			json_object *x = json_object_new_object();
			char mac[18];

			(void)snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", h->mac[0],
				       h->mac[1], h->mac[2], h->mac[3], h->mac[4], h->mac[5]);
			json_object_object_add(x, "index", json_object_new_int64(h->index));
			json_object_object_add(x, "transport",
					       json_object_new_string(h->transport));
			json_object_object_add(x, "ipaddr", json_object_new_string(h->ipaddr));
			json_object_object_add(x, "prefix", json_object_new_int64(h->prefix));
			json_object_object_add(x, "gateway", json_object_new_string(h->gateway));
			json_object_object_add(x, "mac", json_object_new_string(mac));
			json_object_object_add(x, "vlan", json_object_new_int64(h->vlan));
			json_object_object_add(x, "dhcp",
					       json_object_new_boolean(h->dhcp_override));
			json_object_object_add(x, "host-iface",
					       json_object_new_string(h->host_iface));
			json_object_array_add(ha, x);
		}
		for (size_t i = 0; i < (*t)->n_dcs; i++) {
			json_object *x = json_object_new_object();

			json_object_object_add(x, "index",
					       json_object_new_int64((*t)->dcs[i].index));
			json_object_object_add(x, "uri", json_object_new_string((*t)->dcs[i].uri));
			json_object_object_add(x, "hfi",
					       json_object_new_int64((*t)->dcs[i].hfi_index));
			json_object_object_add(x, "tid", tid_to_json(&(*t)->dcs[i].tid));
			json_object_array_add(da, x);
		}
		for (size_t i = 0; i < (*t)->n_subsys; i++) {
			const struct nbft_subsys *ss = &(*t)->subsys[i];
			json_object *x = json_object_new_object();

			json_object_object_add(x, "index", json_object_new_int64(ss->index));
			json_object_object_add(x, "tid", tid_to_json(&ss->tid));
			json_object_object_add(x, "nsid", json_object_new_int64(ss->nsid));
			json_object_object_add(x, "hfi", json_object_new_int64(ss->hfi_index));
			json_object_object_add(x, "dc", json_object_new_int64(ss->dc_index));
			json_object_object_add(x, "unavailable",
					       json_object_new_boolean(ss->unavailable));
			json_object_array_add(sa, x);
		}
		STRV_FOREACH(p, (*t)->problems)
			json_object_array_add(pa, json_object_new_string(*p));
		json_object_object_add(o, "hfis", ha);
		json_object_object_add(o, "dcs", da);
		json_object_object_add(o, "subsystems", sa);
		json_object_object_add(o, "problems", pa);
		json_object_array_add(a, o);
	}
	STRV_FOREACH(e, errors) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(*e));
		json_object_array_add(a, o);
	}
	return a;
}

static void nbft_print(struct nbft **v, char **errors)
{
	char e[ESC_MAX], b[TID_FORMAT_MAX];

	if (!(v && *v) && !errors)
		return;
	printf("\nNBFT (boot firmware):\n");
	STRV_FOREACH(x, errors)
		printf("  unusable: %s\n", esc(*x, e, ESC_MAX));
	for (struct nbft **t = v; t && *t; t++) {
		printf("  %s (read by %s)\n", (*t)->path, (*t)->parser);
		printf("    host NQN %s\n", esc((*t)->host_nqn, e, ESC_MAX));
		printf("    host ID  %s\n", isempty((*t)->host_id) ? "(none)" : (*t)->host_id);
		for (size_t i = 0; i < (*t)->n_hfis; i++) {
			const struct nbft_iface *h = &(*t)->hfis[i];

			printf("    HFI %u: %s %s/%u%s%s%s%s\n", h->index, h->transport,
			       isempty(h->ipaddr) ? "-" : h->ipaddr, h->prefix,
			       isempty(h->gateway) ? "" : " via ", h->gateway,
			       isempty(h->host_iface) ? "" : " on ", h->host_iface);
		}
		for (size_t i = 0; i < (*t)->n_dcs; i++)
			printf("    DC %u: %s\n", (*t)->dcs[i].index,
			       esc(tid_format(&(*t)->dcs[i].tid, b, sizeof(b)), e, ESC_MAX));
		for (size_t i = 0; i < (*t)->n_subsys; i++)
			printf("    subsystem %u: %s nsid %" PRIu32 "%s\n", (*t)->subsys[i].index,
			       esc(tid_format(&(*t)->subsys[i].tid, b, sizeof(b)), e, ESC_MAX),
			       (*t)->subsys[i].nsid,
			       (*t)->subsys[i].unavailable ? " (firmware: unavailable)" : "");
		STRV_FOREACH(p, (*t)->problems)
			printf("    ignored: %s\n", esc(*p, e, ESC_MAX));
	}
}

static void fabrics_caps_print(void)
{
	_cleanup_strv_free_ char **opts = NULL;
	int r = kernel_fabrics_options(&opts);

	if (r == -ENOENT) {
		printf("Fabrics:    /dev/nvme-fabrics missing (modprobe nvme-fabrics)\n");
		return;
	}
	if (r < 0) {
		printf("Fabrics:    /dev/nvme-fabrics unreadable: %s\n", strerror(-r));
		return;
	}
	printf("Fabrics:   ");
	STRV_FOREACH(o, opts)
		printf(" %s", *o);
	printf("\n");
}

static void fabrics_caps_json(json_object *jo)
{
	_cleanup_strv_free_ char **opts = NULL;
	json_object *f = json_object_new_object(), *a;
	int r = kernel_fabrics_options(&opts);

	json_object_object_add(f, "device-present", json_object_new_boolean(r != -ENOENT));
	if (r >= 0) {
		a = json_object_new_array();
		STRV_FOREACH(o, opts)
			json_object_array_add(a, json_object_new_string(*o));
		json_object_object_add(f, "options", a);
	} else if (r != -ENOENT)
		json_object_object_add(f, "error", json_object_new_string(strerror(-r)));
	json_object_object_add(jo, "fabrics", f);
}

int verb_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTIONS,
		{},
	};
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_status_ struct status *st = NULL;
	_cleanup_free_ struct excluded *excl = NULL;
	_cleanup_free_ struct kctrl *live = NULL;
	_cleanup_nbft_list_ struct nbft **nbft = NULL;
	_cleanup_strv_free_ char **nbft_errors = NULL;
	_cleanup_strv_free_ char **excl_problems = NULL;
	const char *dir = arg_cache_dir ?: cache_default_dir();
	int o, r, rc, ret = 0, n_excl, n_live;

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

	rc = stasadm_cache_open(CACHE_RDONLY, &c);
	if (rc < 0)
		ret = 1;
	r = status_collect(c, dir, arg_config, &st);
	if (r < 0)
		return log_error_errno(r, "Failed to collect the status: %m");
	n_excl = excluded_collect(c, st, &excl);
	if (n_excl < 0)
		return log_oom();
	n_live = live_ctrls(NULL, &live);
	if (n_live < 0) {
		log_warning_errno(n_live, "Cannot list the kernel's controllers: %m");
		n_live = 0;
	}
	if (exclusions_check(registry_root(), exclusion_problem, &excl_problems) < 0)
		return log_oom();
	if (nbft_load_all(&nbft, &nbft_errors) < 0)
		return log_oom();
	if (st->cache_error < 0) {
		log_error_errno(st->cache_error, "Failed to read the cache: %s",
				cache_strerror(st->cache_error));
		ret = 1;
	}

	if (arg_json) {
		_cleanup_json_ json_object *jo = json_object_new_object();
		fabrics_caps_json(jo);
		json_object_object_add(jo, "nbft", nbft_to_json(nbft, nbft_errors));
		json_object *h = json_object_new_object(), *cf = json_object_new_object(),
			    *ca = json_object_new_object(), *da = json_object_new_array(),
			    *sa = json_object_new_array();

		json_object_object_add(h, "hostnqn",
				       st->hostnqn ? json_object_new_string(st->hostnqn) : NULL);
		json_object_object_add(h, "hostnqn-source",
				       json_object_new_string(st->hostnqn_source));
		json_object_object_add(h, "hostid",
				       st->hostid ? json_object_new_string(st->hostid) : NULL);
		json_object_object_add(h, "hostid-source",
				       json_object_new_string(st->hostid_source));
		json_object_object_add(jo, "host", h);
		json_object_object_add(cf, "path", json_object_new_string(st->config_path));
		json_object_object_add(cf, "exists", json_object_new_boolean(st->config_exists));
		json_object_object_add(cf, "valid", json_object_new_boolean(st->config_valid));
		if (st->config_errors) {
			json_object *ea = json_object_new_array();
			STRV_FOREACH(e, st->config_errors)
				json_object_array_add(ea, json_object_new_string(*e));
			json_object_object_add(cf, "errors", ea);
		}
		json_object_object_add(jo, "config", cf);
		json_object_object_add(ca, "directory", json_object_new_string(st->cache_dir));
		json_object_object_add(ca, "exists", json_object_new_boolean(st->cache_exists));
		json_object_object_add(ca, "file-size",
				       json_object_new_int64((int64_t)st->stats.file_size));
		json_object_object_add(ca, "schema", json_object_new_int64(st->stats.schema));
		json_object_object_add(jo, "cache", ca);
		for (size_t i = 0; i < st->n_dcs; i++)
			json_object_array_add(da, dc_to_json(&st->dcs[i]));
		json_object_object_add(jo, "dcs", da);
		for (size_t i = 0; i < st->n_subsystems; i++) {
			const struct status_subsys *ss = &st->subsystems[i];
			json_object *s = json_object_new_object();
			json_object_object_add(s, "nqn", json_object_new_string(ss->nqn));
			json_object_object_add(s, "wanted", json_object_new_int64(ss->wanted));
			json_object_object_add(
				s, "live", ss->live >= 0 ? json_object_new_int64(ss->live) : NULL);
			json_object_array_add(sa, s);
		}
		json_object_object_add(jo, "subsystems", sa);
		{
			json_object *ea = json_object_new_array(), *ka = json_object_new_array(),
				    *pa = json_object_new_array();

			for (int i = 0; i < n_excl; i++) {
				json_object *e = json_object_new_object();
				json_object_object_add(e, "tid", tid_to_json(&excl[i].tid));
				json_object_object_add(e, "reason",
						       json_object_new_string(excl[i].reason));
				json_object_array_add(ea, e);
			}
			json_object_object_add(jo, "excluded", ea);
			STRV_FOREACH(p, excl_problems)
				json_object_array_add(pa, json_object_new_string(*p));
			json_object_object_add(jo, "exclusion-list-problems", pa);
			for (int i = 0; i < n_live; i++)
				json_object_array_add(ka, kctrl_to_json(&live[i]));
			json_object_object_add(jo, "controllers", ka);
		}
		json_print(jo);
		return ret;
	}

	printf("Host NQN:   %s (from %s)\n", st->hostnqn ?: "(not set)", st->hostnqn_source);
	printf("Host ID:    %s (from %s)\n", st->hostid ?: "(not set)", st->hostid_source);
	printf("Config:     %s%s\n", st->config_path,
	       !st->config_valid  ? " (INVALID: see 'stasadm config check')" :
	       !st->config_exists ? " (missing: defaults apply)" :
				    " (valid)");
	if (c)
		printf("Cache:      %s (%" PRIu64 " KiB, schema %u%s)\n", dir,
		       st->stats.file_size / 1024, st->stats.schema,
		       st->stats.schema > CACHE_SCHEMA_VERSION ? ", newer than this stasadm" : "");
	else
		printf("Cache:      %s (%s)\n", dir,
		       rc < 0 ? "cannot be opened" : "not created yet");

	fabrics_caps_print();
	nbft_print(nbft, nbft_errors);
	printf("\nDiscovery controllers: %zu\n", st->n_dcs);
	for (size_t i = 0; i < st->n_dcs; i++) {
		const struct cache_dc *dc = &st->dcs[i];
		char s[TID_FORMAT_MAX], age[16];
		printf("  %-40s %-8s %-5s %5" PRIu32 " entries, read %s ago%s%s\n",
		       dc_short(&dc->tid, s, sizeof(s)), cache_origin_to_string(dc->origin),
		       status_dc_state(dc), dc->n_entries,
		       age_format(dc->last_read_usec, age, sizeof(age)),
		       dc->last_error[0] ? ": " : "", dc->last_error);
	}
	printf("\nSubsystems: %zu\n", st->n_subsystems);
	if (st->n_subsystems)
		printf("  %-60s %6s %6s\n", "NQN", "LIVE", "WANTED");
	for (size_t i = 0; i < st->n_subsystems; i++) {
		const struct status_subsys *ss = &st->subsystems[i];
		char lb[16] = "-";
		if (ss->live >= 0)
			snprintf(lb, sizeof(lb), "%d", ss->live);
		printf("  %-60s %6s %6u\n", ss->nqn, lb, ss->wanted);
	}
	if (n_excl > 0 || excl_problems) {
		printf("\nExcluded paths (host exclusion list): %d\n", n_excl);
		for (int i = 0; i < n_excl; i++) {
			char t[TID_FORMAT_MAX], e[ESC_MAX];
			printf("  %s: %s\n",
			       esc(tid_format(&excl[i].tid, t, sizeof(t)), e, ESC_MAX),
			       excl[i].reason);
		}
		STRV_FOREACH(p, excl_problems) {
			char e[ESC_MAX];
			printf("  problem: %s\n", esc(*p, e, ESC_MAX));
		}
	}
	if (n_live > 0) {
		printf("\nControllers (kernel): %d\n", n_live);
		live_ctrls_print(live, (size_t)n_live);
	}
	return ret;
}
