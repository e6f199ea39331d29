/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm-cache.c - the cache verbs: ls, show, paths, stats, verify, purge,
 * export, import. Listings take --json. Exit status: 0 ok, 1 failure or
 * problems found, 2 usage.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache-lock.h"
#include "cache.h"
#include "dlpe.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "nvme-opts.h"
#include "stasadm-registry.h"
#include "status.h"
#include "tid.h"
#include "unit-name.h"
#include "stasadm-cache.h"
#include "stasadm.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)
#define _cleanup_json_ _cleanup_(json_object_putp)

/* ---- shared helpers ---------------------------------------------------- */

void json_print(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
}

const char *age_format(uint64_t usec, char *buf, size_t size)
{
	struct timespec ts;
	uint64_t now, s;

	if (!usec)
		return "-";
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
	s = now > usec ? (now - usec) / 1000000ULL : 0;
	if (s < 120)
		snprintf(buf, size, "%" PRIu64 "s", s);
	else if (s < 7200)
		snprintf(buf, size, "%" PRIu64 "m", s / 60);
	else if (s < 172800)
		snprintf(buf, size, "%" PRIu64 "h", s / 3600);
	else
		snprintf(buf, size, "%" PRIu64 "d", s / 86400);
	return buf;
}

/*
 * @s for a terminal: every byte outside printable ASCII (escape sequences,
 * newlines, UTF-8 too) as \xNN, a backslash as \\ - a record crafted or
 * damaged on disk cannot write to the administrator's terminal. Truncated
 * to @size.
 */
const char *esc(const char *s, char *buf, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	size_t k = 0;

	assert(size > 0);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			if (k + 1 >= size)
				break;
			buf[k++] = (char)ch;
		} else if (ch == '\\') {
			if (k + 2 >= size)
				break;
			buf[k++] = '\\';
			buf[k++] = '\\';
		} else {
			if (k + 4 >= size)
				break;
			buf[k++] = '\\';
			buf[k++] = 'x';
			buf[k++] = digits[ch >> 4];
			buf[k++] = digits[ch & 15];
		}
	}
	buf[k] = '\0';
	return buf;
}

const char *dc_short(const struct tid *t, char *buf, size_t size)
{
	bool v6 = strchr(t->traddr, ':') != NULL;

	snprintf(buf, size, "%s %s%s%s%s%s%s%s%s", t->transport, v6 ? "[" : "", t->traddr,
		 v6 ? "]" : "", isempty(t->trsvcid) ? "" : ":", t->trsvcid,
		 isempty(t->host_iface) ? "" : " %", t->host_iface,
		 streq(t->subsysnqn, NVME_DISC_SUBSYS_NQN) || isempty(t->subsysnqn) ? "" :
										      " (nqn)");
	{
		char raw[TID_FORMAT_MAX];
		snprintf(raw, sizeof(raw), "%s", buf);
		esc(raw, buf, size);
	}
	return buf;
}

static void json_add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(strempty(v)));
}

static void json_add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

json_object *tid_to_json(const struct tid *t)
{
	json_object *o = json_object_new_object();

	for (int f = 0; f < _TID_FIELD_MAX; f++)
		json_add_str(o, tid_field_to_string(f), tid_field_get(t, f));
	return o;
}

json_object *dc_to_json(const struct cache_dc *dc)
{
	json_object *o = json_object_new_object();
	char key[TID_KEY_MAX];

	if (tid_key(&dc->tid, key, sizeof(key)) < 0)
		key[0] = '\0';
	json_add_str(o, "key", key);
	json_object_object_add(o, "tid", tid_to_json(&dc->tid));
	json_add_str(o, "origin", cache_origin_to_string(dc->origin));
	json_add_str(o, "dctype", cache_dctype_to_string(dc->dctype));
	json_add_str(o, "state", status_dc_state(dc));
	json_object_object_add(o, "persistent", json_object_new_boolean(dc->persistent));
	json_add_int(o, "kato", dc->kato);
	json_add_str(o, "device", dc->device);
	json_add_str(o, "instance-key", dc->instance_key);
	json_add_int(o, "genctr", (int64_t)dc->genctr);
	json_add_int(o, "entries", dc->n_entries);
	json_add_int(o, "last-read-usec", (int64_t)dc->last_read_usec);
	json_object_object_add(o, "stale", json_object_new_boolean(dc->stale));
	json_add_int(o, "last-errno", dc->last_errno);
	json_add_str(o, "last-error", dc->last_error);
	json_add_int(o, "last-error-usec", (int64_t)dc->last_error_usec);
	json_object_object_add(o, "mdns-advertised", json_object_new_boolean(dc->mdns_advertised));
	json_add_int(o, "mdns-last-advertised-usec", (int64_t)dc->mdns_last_advertised_usec);
	json_add_int(o, "referral-depth", dc->referral_depth);
	if (!isempty(dc->referrer.transport))
		json_object_object_add(o, "referrer", tid_to_json(&dc->referrer));
	return o;
}

static json_object *dlpe_to_json(const struct dlpe *e, uint32_t index)
{
	json_object *o = json_object_new_object();

	json_add_int(o, "index", index);
	json_add_str(o, "subtype", dlpe_subtype_to_string(e->subtype));
	json_add_str(o, "transport", e->transport);
	json_add_str(o, "adrfam", dlpe_adrfam_to_string(e->adrfam));
	json_add_str(o, "traddr", e->traddr);
	json_add_str(o, "trsvcid", e->trsvcid);
	json_add_str(o, "subsysnqn", e->subnqn);
	json_add_int(o, "portid", e->portid);
	json_add_int(o, "cntlid", e->cntlid);
	json_add_int(o, "asqsz", e->asqsz);
	json_add_int(o, "eflags", e->eflags);
	json_add_str(o, "treq", dlpe_treq_to_string(e->treq));
	json_add_int(o, "tsas-sectype", e->tsas_sectype);
	return o;
}

static json_object *path_to_json(const struct cache_path *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "tid", tid_to_json(&p->tid));
	json_add_str(o, "owner", cache_path_owner_to_string(p->owner));
	json_add_str(o, "state", cache_path_state_to_string(p->state));
	json_add_int(o, "attempts", p->attempts);
	json_object_object_add(o, "ncc", json_object_new_boolean(p->ncc));
	json_add_str(o, "device", p->device);
	json_add_int(o, "last-errno", p->last_errno);
	json_add_str(o, "last-error", p->last_error);
	json_add_int(o, "updated-usec", (int64_t)p->updated_usec);
	return o;
}

static const char *cache_error(int r)
{
	return cache_strerror(r);
}

static bool cache_is_corrupt(int r)
{
	return r == -EBADMSG || r == -EUCLEAN;
}

/*
 * The recovery of purge --all and import on a cache that cannot be opened
 * or read because it is corrupt: set the damaged data.mdb aside (kept as
 * data.mdb.corrupt-<time>) and open a new, empty cache in its place.
 */
static int cache_recreate(struct cache **c, unsigned flags)
{
	const char *dir = arg_cache_dir ?: cache_default_dir();
	char aside[PATH_MAX] = "";
	int r;

	*c = cache_free(*c);
	r = cache_set_aside(dir, aside, sizeof(aside));
	if (r < 0)
		return log_error_errno(r, "Failed to set the corrupt cache in %s aside: %s", dir,
				       cache_error(r));
	if (r > 0)
		log_warning("The corrupt cache was moved to %s; starting a new one in %s.", aside,
			    dir);
	r = cache_open(dir, CACHE_RDWR | flags, c);
	if (r < 0)
		return log_error_errno(r, "Failed to create a new cache in %s: %s", dir,
				       cache_error(r));
	cache_set_writer(*c, "stasadm");
	return 0;
}

/* Open the cache RDWR (| @flags) for a verb that can recover a corrupt one. Return: as cache_open(). */
static int cache_open_recoverable(struct cache **ret, unsigned flags)
{
	const char *dir = arg_cache_dir ?: cache_default_dir();
	int r = cache_open(dir, CACHE_RDWR | flags, ret);

	if (r < 0 && !cache_is_corrupt(r))
		return log_error_errno(r, "Failed to open the cache in %s: %s", dir,
				       cache_error(r));
	if (r >= 0)
		cache_set_writer(*ret, "stasadm");
	return r;
}

int stasadm_cache_open(unsigned flags, struct cache **ret)
{
	const char *dir = arg_cache_dir ?: cache_default_dir();
	int r;

	r = cache_open(dir, flags, ret);
	if (r == -ENOENT && !(flags & CACHE_RDWR)) {
		log_debug("No cache in %s yet.", dir);
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to open the cache in %s: %s", dir,
				       cache_error(r));
	cache_set_writer(*ret, "stasadm");
	return 1;
}

/*
 * Find the one DC named on the command line: a tid_key ("tcp/1.2.3.4/8009/..."),
 * a stas-discover@ instance ("tcp-192.168.1.10-8009", "key-<hex>", "nvme3"),
 * and/or -t/-a/-s/... options. Unset fields are wildcards.
 */
static int dc_resolve(struct cache *c, const char *arg, const struct tid *opts,
		      struct cache_dc *ret)
{
	_cleanup_free_ char *ctrl = NULL, *key = NULL;
	_cleanup_free_ struct cache_dc *v = NULL;
	struct tid pattern = *opts;
	size_t n, found = 0, which = 0;
	char buf[TID_FORMAT_MAX], pbuf[TID_FORMAT_MAX];
	int r;

	if (arg && strchr(arg, '/')) {
		r = tid_from_key(arg, &pattern);
		if (r < 0)
			return log_error_errno(r, "Invalid DC key '%s'.", arg);
	} else if (arg) {
		r = dc_instance_parse(arg, &pattern, &ctrl, &key);
		if (r < 0)
			return log_error_errno(r,
					       "Invalid DC '%s': not a key, unit instance or "
					       "controller name.",
					       arg);
		if (key) {
			r = c ? cache_dc_get_by_instance_key(c, key, ret) : 0;
			if (r < 0)
				return log_error_errno(r, "Failed to look up %s: %s", key,
						       cache_error(r));
			if (r == 0)
				return log_error_errno(
					ENOENT, "No DC with instance key %s in the cache.", key);
			return 0;
		}
		/* the instance leaves fields unset: options may add to it */
		for (int f = 0; f < _TID_FIELD_MAX; f++)
			if (!isempty(tid_field_get(opts, f)))
				(void)tid_field_set(&pattern, f, tid_field_get(opts, f));
	} else if (isempty(opts->traddr) && isempty(opts->transport))
		return log_error_errno(EINVAL,
				       "Which DC? Give a key, a unit instance or -t/-a/-s.");

	r = status_dc_list(c, &v, &n);
	if (r < 0)
		return log_error_errno(r, "Failed to read the cache: %s", cache_error(r));
	for (size_t i = 0; i < n; i++) {
		bool m = ctrl ? streq(v[i].device, ctrl) : tid_match(&pattern, &v[i].tid);
		if (m) {
			if (found == 1)
				log_error("'%s' matches several DCs:\n  %s",
					  arg ?: tid_format(&pattern, pbuf, sizeof(pbuf)),
					  tid_format(&v[which].tid, buf, sizeof(buf)));
			if (found >= 1)
				log_error("  %s", tid_format(&v[i].tid, buf, sizeof(buf)));
			found++;
			which = i;
		}
	}
	if (found == 0)
		return log_error_errno(ENOENT, "No such DC in the cache: %s",
				       arg ?: tid_format(&pattern, buf, sizeof(buf)));
	if (found > 1)
		return -EINVAL;
	*ret = v[which];
	return 0;
}

/* -t/-a/-s/-w/-f/-n/-q options naming a DC, as nvme-cli spells them */
static int dc_option(int opt, const char *value, struct tid *t)
{
	int r = nvme_opt_tid_set(t, opt, value);

	if (r < 0)
		return log_error_errno(r, "Invalid --%s '%s'.", nvme_opt_from_letter(opt)->name,
				       value);
	return r;
}

/* Parse the verb's options; returns optind or -EXIT_USAGE. */
static int parse_simple(int argc, char **argv, const char *usage, int max_args)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTIONS,
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (c == 'h') {
			printf("Usage: stasadm %s\n\nSee stasadm(8).\n", usage);
			return -1000;
		}
		if (c == '?' || !common_option(c, optarg))
			return -EXIT_USAGE;
	}
	if (argc - optind > max_args) {
		log_error("Too many arguments; usage: stasadm %s", usage);
		return -EXIT_USAGE;
	}
	return optind;
}

#define PARSE_OR_RETURN(i, argc, argv, usage, max)        \
	do {                                              \
		i = parse_simple(argc, argv, usage, max); \
		if (i == -1000)                           \
			return 0;                         \
		if (i < 0)                                \
			return -i;                        \
	} while (0)

/* ---- ls ----------------------------------------------------------------- */

int verb_cache_ls(int argc, char **argv)
{
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_free_ struct cache_dc *v = NULL;
	_cleanup_free_ struct kctrl *live = NULL;
	size_t n, n_dc = 0;
	int i, r, n_live;

	PARSE_OR_RETURN(i, argc, argv, "ls [--json]", 0);
	(void)i;
	r = stasadm_cache_open(CACHE_RDONLY, &c);
	if (r < 0)
		return 1;
	r = status_dc_list(c, &v, &n);
	if (r < 0)
		return log_error_errno(r, "Failed to read the cache: %s", cache_error(r)), 1;
	/* The kernel's side: each DC's live controller, with its registry owner. */
	n_live = live_ctrls(NULL, &live);
	if (n_live < 0) {
		log_warning_errno(n_live, "Cannot list the kernel's controllers: %m");
		n_live = 0;
	}
	for (int k = 0; k < n_live; k++)
		if (live[k].discovery)
			live[n_dc++] = live[k];

	if (arg_json) {
		_cleanup_json_ json_object *a = json_object_new_array();
		for (size_t k = 0; k < n; k++) {
			json_object *o = dc_to_json(&v[k]);
			const struct kctrl *kc = NULL;

			/* the device stas recorded, if it still is this DC (names are reused) */
			for (size_t j = 0; j < n_dc && !kc && !isempty(v[k].device); j++)
				if (streq(live[j].name, v[k].device) &&
				    streq(live[j].tid.transport, v[k].tid.transport) &&
				    streq(live[j].tid.traddr, v[k].tid.traddr) &&
				    streq(live[j].tid.trsvcid, v[k].tid.trsvcid))
					kc = &live[j];
			json_object_object_add(o, "live", kc ? kctrl_to_json(kc) : NULL);
			json_object_array_add(a, o);
		}
		json_print(a);
		return 0;
	}
	if (n == 0)
		printf("No discovery controllers in the cache.\n");
	else {
		printf("%-40s %-8s %-7s %-5s %7s %5s %s\n", "DC", "ORIGIN", "TYPE", "STATE",
		       "ENTRIES", "AGE", "DEVICE");
		for (size_t k = 0; k < n; k++) {
			char s[ESC_MAX], age[16], d[ESC_MAX];
			printf("%-40s %-8s %-7s %-5s %7" PRIu32 " %5s %s\n",
			       dc_short(&v[k].tid, s, sizeof(s)),
			       cache_origin_to_string(v[k].origin),
			       cache_dctype_to_string(v[k].dctype), status_dc_state(&v[k]),
			       v[k].n_entries, age_format(v[k].last_read_usec, age, sizeof(age)),
			       isempty(v[k].device) ? "-" : esc(v[k].device, d, sizeof(d)));
		}
	}
	if (n_dc > 0) {
		printf("\nLive discovery controllers (kernel), with their registry owner:\n");
		live_ctrls_print(live, n_dc);
	}
	return 0;
}

/* ---- show --------------------------------------------------------------- */

static int show_entry_cb(const struct cache_dc *dc, const struct dlpe *e, uint32_t index, void *ud)
{
	json_object *a = ud;
	char t[ESC_MAX], ad[ESC_MAX], sv[ESC_MAX], nq[ESC_MAX];

	(void)dc;
	if (a) {
		json_object_array_add(a, dlpe_to_json(e, index));
		return 0;
	}
	printf("%4" PRIu32 " %-28s %-5s %-39s %-6s %5u %6u %s%s\n", index,
	       dlpe_subtype_to_string(e->subtype), esc(e->transport, t, sizeof(t)),
	       esc(e->traddr, ad, sizeof(ad)), esc(e->trsvcid, sv, sizeof(sv)), e->portid,
	       e->cntlid, esc(e->subnqn, nq, sizeof(nq)),
	       (e->eflags & DLPE_EFLAG_NCC) ? " [ncc]" : "");
	return 0;
}

int verb_cache_show(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		NVME_OPTS_TID_LONG,
		COMMON_LONG_OPTIONS,
		{},
	};
	_cleanup_cache_ struct cache *c = NULL;
	struct tid opts = {};
	struct cache_dc dc;
	char buf[TID_FORMAT_MAX], key[TID_KEY_MAX], age[16], e1[ESC_MAX];
	int o, r;

	while ((o = getopt_long(argc, argv, "h" NVME_OPTS_TID_SHORT, options, NULL)) >= 0) {
		if (o == 'h') {
			printf("Usage: stasadm show DC [--json]\n"
			       "       stasadm show -t TRANSPORT -a TRADDR [-s TRSVCID] [-f IFACE] "
			       "[-w HOST-TRADDR] [-n NQN] [-q HOSTNQN]\n\n"
			       "DC is a cache key (stasadm ls --json), a stas-discover@ unit instance\n"
			       "(tcp-192.168.1.10-8009, key-<hex>) or a kernel controller (nvme3).\n");
			return 0;
		}
		r = dc_option(o, optarg, &opts);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0 && (o == '?' || !common_option(o, optarg)))
			return EXIT_USAGE;
	}
	if (argc - optind > 1) {
		log_error("Too many arguments; usage: stasadm show DC");
		return EXIT_USAGE;
	}
	r = stasadm_cache_open(CACHE_RDONLY, &c);
	if (r < 0)
		return 1;
	if (r == 0)
		return log_error("No cache yet: no DC to show."), 1;
	r = dc_resolve(c, optind < argc ? argv[optind] : NULL, &opts, &dc);
	if (r < 0)
		return r == -EINVAL ? EXIT_USAGE : 1;

	if (arg_json) {
		_cleanup_json_ json_object *j = dc_to_json(&dc);
		json_object *a = json_object_new_array();
		json_object_object_add(j, "log-page", a);
		r = cache_entries_foreach_dc(c, &dc.tid, show_entry_cb, a);
		if (r < 0)
			return log_error_errno(r, "Failed to read entries: %s", cache_error(r)), 1;
		json_print(j);
		return 0;
	}
	if (tid_key(&dc.tid, key, sizeof(key)) < 0)
		key[0] = '\0';
	printf("DC:           %s\n", esc(tid_format(&dc.tid, buf, sizeof(buf)), e1, sizeof(e1)));
	printf("Key:          %s\n", esc(key, e1, sizeof(e1)));
	if (!isempty(dc.instance_key))
		printf("Instance key: %s\n", esc(dc.instance_key, e1, sizeof(e1)));
	printf("Origin:       %s%s\n", cache_origin_to_string(dc.origin),
	       dc.origin == CACHE_ORIGIN_MDNS ?
		       (dc.mdns_advertised ? " (advertised)" : " (no longer advertised)") :
		       "");
	if (dc.origin == CACHE_ORIGIN_REFERRAL && !isempty(dc.referrer.transport))
		printf("Referred by:  %s (depth %u)\n",
		       esc(tid_format(&dc.referrer, buf, sizeof(buf)), e1, sizeof(e1)),
		       dc.referral_depth);
	printf("Type:         %s%s, kato %" PRIu32 "s\n", cache_dctype_to_string(dc.dctype),
	       dc.persistent ? ", persistent" : "", dc.kato);
	printf("Device:       %s\n", isempty(dc.device) ? "-" : esc(dc.device, e1, sizeof(e1)));
	printf("State:        %s", status_dc_state(&dc));
	if (dc.last_errno || dc.last_error[0])
		printf(" (%s: %s, %s ago)", strerror(dc.last_errno),
		       esc(dc.last_error, e1, sizeof(e1)),
		       age_format(dc.last_error_usec, age, sizeof(age)));
	printf("\nLast read:    %s ago, genctr %" PRIu64 ", %" PRIu32 " entries\n\n",
	       age_format(dc.last_read_usec, age, sizeof(age)), dc.genctr, dc.n_entries);
	printf("%4s %-28s %-5s %-39s %-6s %5s %6s %s\n", "#", "SUBTYPE", "TRANS", "TRADDR", "SVCID",
	       "PORT", "CNTLID", "SUBSYSNQN");
	r = cache_entries_foreach_dc(c, &dc.tid, show_entry_cb, NULL);
	if (r < 0)
		return log_error_errno(r, "Failed to read entries: %s", cache_error(r)), 1;
	return 0;
}

/* ---- adlp --------------------------------------------------------------- */

/*
 * Every DC's log page at once, from the cache (what "stafctl adlp" shows
 * from stafd): no kernel access, so it answers with every DC down.
 */
int verb_cache_adlp(int argc, char **argv)
{
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_free_ struct cache_dc *v = NULL;
	_cleanup_json_ json_object *all = NULL;
	char buf[TID_FORMAT_MAX], e1[ESC_MAX], age[16];
	size_t n;
	int i, r;

	PARSE_OR_RETURN(i, argc, argv, "adlp [--json]", 0);
	(void)i;
	r = stasadm_cache_open(CACHE_RDONLY, &c);
	if (r < 0)
		return 1;
	if (r == 0) {
		if (arg_json)
			printf("[]\n");
		else
			printf("No cache yet: no log pages.\n");
		return 0;
	}
	r = status_dc_list(c, &v, &n);
	if (r < 0)
		return log_error_errno(r, "Failed to read the cache: %s", cache_error(r)), 1;
	if (arg_json)
		all = json_object_new_array();
	for (size_t k = 0; k < n; k++) {
		json_object *a = NULL;

		if (all) {
			json_object *j = dc_to_json(&v[k]);
			a = json_object_new_array();
			json_object_object_add(j, "log-page", a);
			json_object_array_add(all, j);
		} else {
			printf("%s%s: %s, %s, genctr %" PRIu64 ", %" PRIu32
			       " entries, read %s ago\n",
			       k ? "\n" : "",
			       esc(tid_format(&v[k].tid, buf, sizeof(buf)), e1, sizeof(e1)),
			       cache_origin_to_string(v[k].origin), status_dc_state(&v[k]),
			       v[k].genctr, v[k].n_entries,
			       age_format(v[k].last_read_usec, age, sizeof(age)));
			if (v[k].n_entries)
				printf("%4s %-28s %-5s %-39s %-6s %5s %6s %s\n", "#", "SUBTYPE",
				       "TRANS", "TRADDR", "SVCID", "PORT", "CNTLID", "SUBSYSNQN");
		}
		r = cache_entries_foreach_dc(c, &v[k].tid, show_entry_cb, a);
		if (r < 0)
			return log_error_errno(r, "Failed to read entries: %s", cache_error(r)), 1;
	}
	if (all)
		json_print(all);
	else if (n == 0)
		printf("No discovery controllers in the cache.\n");
	return 0;
}

/* ---- paths -------------------------------------------------------------- */

struct paths_ctx {
	json_object *a;
	const struct kctrl *live; /* the kernel's controllers, with their registry owner */
	size_t n_live;
};

static int path_print_cb(const struct cache_path *p, void *ud)
{
	struct paths_ctx *ctx = ud;
	char age[16], e[7][ESC_MAX];

	if (ctx->a) {
		json_object *o = path_to_json(p);
		const struct kctrl *k = NULL;

		/* The live controller of this path: its state, owner and src_addr. */
		for (size_t i = 0; i < ctx->n_live && !k; i++)
			if (!ctx->live[i].discovery && streq(ctx->live[i].name, p->device))
				k = &ctx->live[i];
		json_object_object_add(o, "live", k ? kctrl_to_json(k) : NULL);
		json_object_array_add(ctx->a, o);
		return 0;
	}
	printf("%-40s %-5s %-30s %-6s %-8s %-6s %-12s %3" PRIu32 " %-7s %5s %s\n",
	       esc(p->tid.subsysnqn, e[0], ESC_MAX), esc(p->tid.transport, e[1], ESC_MAX),
	       esc(p->tid.traddr, e[2], ESC_MAX), esc(p->tid.trsvcid, e[3], ESC_MAX),
	       isempty(p->tid.host_iface) ? "-" : esc(p->tid.host_iface, e[4], ESC_MAX),
	       cache_path_owner_to_string(p->owner), cache_path_state_to_string(p->state),
	       p->attempts, isempty(p->device) ? "-" : esc(p->device, e[5], ESC_MAX),
	       age_format(p->updated_usec, age, sizeof(age)), esc(p->last_error, e[6], ESC_MAX));
	return 0;
}

int verb_cache_paths(int argc, char **argv)
{
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_json_ json_object *a = NULL;
	_cleanup_free_ struct kctrl *live = NULL;
	struct paths_ctx ctx = {};
	const char *nqn;
	int i, r, n_live;

	PARSE_OR_RETURN(i, argc, argv, "paths [NQN] [--json]", 1);
	nqn = i < argc ? argv[i] : NULL;
	/* checked here, not by the cache: a typo must not look like "no paths" */
	if (nqn && !nqn_is_valid(nqn))
		return log_error("Invalid NQN '%s'.", nqn), EXIT_USAGE;
	r = stasadm_cache_open(CACHE_RDONLY, &c);
	if (r < 0)
		return 1;
	if (arg_json)
		a = json_object_new_array();
	else
		printf("%-40s %-5s %-30s %-6s %-8s %-6s %-12s %3s %-7s %5s %s\n", "SUBSYSNQN",
		       "TRANS", "TRADDR", "SVCID", "IFACE", "OWNER", "STATE", "TRY", "DEVICE",
		       "AGE", "ERROR");
	n_live = live_ctrls(nqn, &live);
	if (n_live < 0) {
		log_warning_errno(n_live, "Cannot list the kernel's controllers: %m");
		n_live = 0;
	}
	ctx = (struct paths_ctx){ .a = a, .live = live, .n_live = (size_t)n_live };
	if (c) {
		r = cache_path_foreach(c, nqn, path_print_cb, &ctx);
		if (r < 0)
			return log_error_errno(r, "Failed to read paths: %s", cache_error(r)), 1;
	}
	if (a)
		json_print(a);
	else {
		/* Only I/O controllers: the paths' side of the kernel. */
		size_t n_io = 0;

		for (int k = 0; k < n_live; k++)
			if (!live[k].discovery)
				live[n_io++] = live[k];
		if (n_io > 0) {
			printf("\nLive I/O controllers (kernel), with their registry owner:\n");
			live_ctrls_print(live, n_io);
		}
	}
	return 0;
}

/* ---- stats -------------------------------------------------------------- */

int verb_cache_stats(int argc, char **argv)
{
	_cleanup_cache_ struct cache *c = NULL;
	struct cache_stats s = {};
	int i, r;

	PARSE_OR_RETURN(i, argc, argv, "stats [--json]", 0);
	(void)i;
	r = stasadm_cache_open(CACHE_RDONLY, &c);
	if (r < 0)
		return 1;
	if (c) {
		r = cache_stats(c, &s);
		if (r < 0)
			return log_error_errno(r, "Failed to read statistics: %s", cache_error(r)),
			       1;
	}
	if (arg_json) {
		_cleanup_json_ json_object *o = json_object_new_object();
		json_add_str(o, "directory", arg_cache_dir ?: cache_default_dir());
		json_add_int(o, "schema", s.schema);
		json_add_int(o, "dcs", (int64_t)s.n_dcs);
		json_add_int(o, "entries", (int64_t)s.n_entries);
		json_add_int(o, "nqns", (int64_t)s.n_nqns);
		json_add_int(o, "nqn-index-rows", (int64_t)s.n_nqn_rows);
		json_add_int(o, "paths", (int64_t)s.n_paths);
		json_add_int(o, "instance-keys", (int64_t)s.n_ikeys);
		json_add_int(o, "map-size", (int64_t)s.map_size);
		json_add_int(o, "used-size", (int64_t)s.used_size);
		json_add_int(o, "file-size", (int64_t)s.file_size);
		json_add_int(o, "page-size", s.page_size);
		json_add_int(o, "created-usec", (int64_t)s.created_usec);
		json_add_str(o, "last-writer", s.writer);
		json_print(o);
		return 0;
	}
	printf("Directory:      %s%s\n", arg_cache_dir ?: cache_default_dir(),
	       c ? "" : " (no cache yet)");
	if (!c)
		return 0;
	printf("Schema:         %u%s\n", s.schema,
	       s.schema > CACHE_SCHEMA_VERSION ? " (newer than this stasadm: read-only)" : "");
	printf("DCs:            %" PRIu64 "\n", s.n_dcs);
	printf("Entries:        %" PRIu64 " (%" PRIu64 " I/O, %" PRIu64 " subsystems)\n",
	       s.n_entries, s.n_nqn_rows, s.n_nqns);
	printf("Paths:          %" PRIu64 "\n", s.n_paths);
	printf("Instance keys:  %" PRIu64 "\n", s.n_ikeys);
	printf("File size:      %" PRIu64 " KiB (used %" PRIu64 " KiB of a %" PRIu64 " KiB map)\n",
	       s.file_size / 1024, s.used_size / 1024, s.map_size / 1024);
	{
		char w[ESC_MAX];
		printf("Last writer:    %s\n", s.writer[0] ? esc(s.writer, w, sizeof(w)) : "-");
	}
	return 0;
}

/* ---- verify ------------------------------------------------------------- */

static void verify_report(const char *problem, void *ud)
{
	json_object *a = ud;

	char e[ESC_MAX];

	if (a)
		json_object_array_add(a, json_object_new_string(problem));
	else
		printf("%s\n", esc(problem, e, sizeof(e)));
}

int verb_cache_verify(int argc, char **argv)
{
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_json_ json_object *a = NULL;
	struct cache_stats s = {};
	int i, r;

	PARSE_OR_RETURN(i, argc, argv, "verify [--json]", 0);
	(void)i;
	r = stasadm_cache_open(CACHE_RDONLY, &c);
	if (r < 0)
		return 1;
	if (r == 0) {
		printf("No cache in %s: nothing to verify.\n",
		       arg_cache_dir ?: cache_default_dir());
		return 0;
	}
	if (arg_json)
		a = json_object_new_array();
	r = cache_verify(c, verify_report, a);
	if (r < 0)
		return log_error_errno(r, "Failed to verify the cache: %s", cache_error(r)), 1;
	(void)cache_stats(c, &s);
	if (a) {
		_cleanup_json_ json_object *o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(r == 0));
		json_object_object_add(o, "problems", json_object_get(a));
		json_print(o);
	} else if (r == 0)
		printf("Cache OK: schema %u, %" PRIu64 " DCs, %" PRIu64 " entries, %" PRIu64
		       " paths.\n",
		       s.schema, s.n_dcs, s.n_entries, s.n_paths);
	else
		printf("%d problem%s found. 'stasadm purge' the DCs concerned, or 'stasadm import' "
		       "a good export.\n",
		       r, r == 1 ? "" : "s");
	return r == 0 ? 0 : 1;
}

/* ---- purge -------------------------------------------------------------- */

/*
 * Replacing the whole cache (import; purge --all's recovery of a corrupt
 * one) is an offline operation: a helper running meanwhile would commit
 * what it derived from the old cache into the new one, or go on writing
 * into the damaged file set aside, and the connections it makes would be
 * missing from the result. Take the cache directory's lock exclusively,
 * without waiting (every writer holds it shared while it has the cache
 * open, see cache-lock.h; one starting now waits until we are done) and
 * keep it until the end. @what names the operation for the messages, @hint
 * what to do instead. Return: 0 and *ret_fd, or -EBUSY/negative errno,
 * reported.
 */
static int offline_lock(const char *what, const char *hint, int *ret_fd)
{
	const char *dir = arg_cache_dir ?: cache_default_dir();
	char holders[512];
	int r;

	r = mkdir_p(dir, 0755);
	if (r < 0)
		return log_error_errno(r, "Failed to create %s: %m", dir);
	r = cache_lock_dir(dir, true, 0, ret_fd);
	if (r == -EBUSY) {
		if (cache_lock_holders(dir, holders, sizeof(holders)) > 0)
			log_error("The cache in %s is in use by %s.", dir, holders);
		else
			log_error("The cache in %s is in use by another process.", dir);
		log_error("%s is an offline operation: stop stas first (systemctl stop "
			  "stas.target, and wait for the running stas-discover@ and "
			  "stas-connect@ units)%s; the cache was not changed.",
			  what, hint);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to lock the cache in %s: %m", dir);
	return 0;
}

int verb_cache_purge(int argc, char **argv)
{
	enum { OPT_ALL = _OPT_COMMON_MAX, OPT_PATHS };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "paths", no_argument, NULL, OPT_PATHS },
		NVME_OPTS_TID_LONG,
		COMMON_LONG_OPTIONS,
		{},
	};
	/* declared first, released last: after the cache is closed */
	_cleanup_close_ int lock_fd = -EBADF;
	_cleanup_cache_ struct cache *c = NULL;
	bool all = false, paths = false;
	struct tid opts = {};
	struct cache_dc dc;
	char buf[TID_FORMAT_MAX];
	int o, r;

	while ((o = getopt_long(argc, argv, "h" NVME_OPTS_TID_SHORT, options, NULL)) >= 0) {
		if (o == 'h') {
			printf("Usage: stasadm purge DC | -t .. -a .. | --all [--paths]\n\n"
			       "Remove a DC with its log page entries, or every DC (--all; --paths\n"
			       "also forgets path ownership). stas rediscovers what is configured.\n");
			return 0;
		}
		if (o == OPT_ALL) {
			all = true;
			continue;
		}
		if (o == OPT_PATHS) {
			paths = true;
			continue;
		}
		r = dc_option(o, optarg, &opts);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0 && (o == '?' || !common_option(o, optarg)))
			return EXIT_USAGE;
	}
	if (argc - optind > (all ? 0 : 1)) {
		log_error("Usage: stasadm purge DC | --all");
		return EXIT_USAGE;
	}
	if (all) {
		r = cache_open_recoverable(&c, 0);
		if (r >= 0)
			r = cache_purge_all(c, paths);
		/* what is left (paths) must be sound, or nothing is kept */
		if (r >= 0 && cache_verify(c, NULL, NULL) != 0)
			r = -EBADMSG;
		if (cache_is_corrupt(r)) {
			/* nothing in a corrupt cache can be trusted, path ownership included */
			log_warning("%s: replacing it.", cache_error(r));
			c = cache_free(c); /* our own shared lock first */
			if (offline_lock("Replacing a corrupt cache", "", &lock_fd) < 0)
				return 1;
			if (cache_recreate(&c, CACHE_NOLOCK) < 0)
				return 1;
			printf("Purged everything: the corrupt cache was replaced by an empty one.\n");
			return 0;
		}
		if (r < 0)
			return log_error_errno(r, "Failed to purge the cache: %s", cache_error(r)),
			       1;
		printf("Purged %d DC%s%s.\n", r, r == 1 ? "" : "s", paths ? " and every path" : "");
		return 0;
	}
	r = stasadm_cache_open(CACHE_RDWR, &c);
	if (r < 0)
		return 1;
	r = dc_resolve(c, optind < argc ? argv[optind] : NULL, &opts, &dc);
	if (r < 0)
		return r == -EINVAL ? EXIT_USAGE : 1;
	r = cache_dc_purge(c, &dc.tid);
	if (r < 0)
		return log_error_errno(r, "Failed to purge %s: %s",
				       tid_format(&dc.tid, buf, sizeof(buf)), cache_error(r)),
		       1;
	printf("Purged %s (%" PRIu32 " entries).\n", tid_format(&dc.tid, buf, sizeof(buf)),
	       dc.n_entries);
	return 0;
}

/* ---- export / import ---------------------------------------------------- */

int verb_cache_export(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		COMMON_LONG_OPTIONS,
		{},
	};
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_free_ char *buf = NULL;
	const char *output = NULL, *db = NULL;
	size_t size = 0;
	FILE *m;
	int o, r, records;

	while ((o = getopt_long(argc, argv, "ho:", options, NULL)) >= 0) {
		if (o == 'h') {
			printf("Usage: stasadm export [-o FILE]\n\n"
			       "Write a complete, checksummed dump of the cache (stas-cache(7)) to\n"
			       "FILE (replaced atomically) or stdout.\n");
			return 0;
		}
		if (o == 'o')
			output = optarg;
		else if (o == '?' || !common_option(o, optarg))
			return EXIT_USAGE;
	}
	if (optind < argc) {
		log_error("Usage: stasadm export [-o FILE]");
		return EXIT_USAGE;
	}
	r = stasadm_cache_open(CACHE_RDONLY, &c);
	if (r < 0)
		return 1;
	if (r == 0)
		return log_error("No cache in %s: nothing to export.",
				 arg_cache_dir ?: cache_default_dir()),
		       1;
	m = open_memstream(&buf, &size);
	if (!m)
		return log_oom(), 1;
	records = cache_export(c, m, &db);
	fclose(m);
	if (records == -EBADMSG && db)
		return log_error_errno(records,
				       "Failed to export the cache: corrupt record in database %s "
				       "(%s)",
				       db, cache_error(records)),
		       1;
	if (records < 0)
		return log_error_errno(records, "Failed to export the cache: %s",
				       cache_error(records)),
		       1;
	if (!output || streq(output, "-")) {
		if (fwrite(buf, 1, size, stdout) != size || fflush(stdout) != 0)
			return log_error_errno(EIO, "Failed to write the export: %m"), 1;
		return 0;
	}
	r = write_file_atomic(output, buf, size, 0644);
	if (r < 0)
		return log_error_errno(r, "Failed to write %s: %m", output), 1;
	log_info("Exported %d records to %s.", records, output);
	return 0;
}

static void rm_cache_dir(const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char p[PATH_MAX];

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		(void)unlink(p);
	}
	(void)rmdir(dir);
}

/* A dry-run import of @f into an empty, throw-away cache. */
static int import_scratch(FILE *f, struct cache_import_summary *s)
{
	_cleanup_cache_ struct cache *c = NULL;
	char tmp[] = "/tmp/stasadm-import-XXXXXX";
	int r;

	if (!mkdtemp(tmp))
		return log_error_errno(errno, "Failed to create a temporary directory: %m");
	r = cache_open(tmp, CACHE_RDWR | CACHE_NOSYNC, &c);
	if (r >= 0)
		r = cache_import(c, f, true, s);
	c = cache_free(c);
	rm_cache_dir(tmp);
	return r;
}

/*
 * Import @f into a new cache in place of the corrupt one (@error): check
 * the file on a throw-away cache first, so a bad file leaves the old cache
 * where it was. Return: as cache_import(); -EIO when already reported.
 */
static int import_recover(FILE *f, const char *file, struct cache **c, unsigned flags,
			  struct cache_import_summary *s, int error)
{
	int r;

	log_warning("%s: replacing it.", cache_error(error));
	rewind(f);
	if (fseek(f, 0, SEEK_SET) < 0)
		return log_error_errno(errno,
				       "Cannot read %s twice to recover a corrupt cache: give a "
				       "file, not a pipe.",
				       file),
		       -EIO;
	r = import_scratch(f, s);
	if (r < 0)
		return r;
	if (fseek(f, 0, SEEK_SET) < 0)
		return log_error_errno(errno, "Failed to rewind %s: %m", file), -EIO;
	if (cache_recreate(c, flags) < 0)
		return -EIO;
	*s = (struct cache_import_summary){};
	return cache_import(*c, f, false, s);
}

int verb_cache_import(int argc, char **argv)
{
	enum { OPT_DRY_RUN = _OPT_COMMON_MAX, OPT_FORCE };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "force", no_argument, NULL, OPT_FORCE },
		COMMON_LONG_OPTIONS,
		{},
	};
	/* declared first, released last: after the cache is closed */
	_cleanup_close_ int lock_fd = -EBADF;
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	struct cache_import_summary s = {};
	bool dry_run = false, force = false;
	unsigned flags = 0;
	const char *file;
	int o, r;

	while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (o == 'h') {
			printf("Usage: stasadm import FILE [--dry-run] [--force]\n\n"
			       "Replace the whole cache with an export (FILE or - for stdin). The file\n"
			       "is checked completely first; a truncated, altered or newer-version\n"
			       "file is refused and the cache is left as it was. Offline: refused\n"
			       "while another stas program has the cache open for writing, unless\n"
			       "--force.\n");
			return 0;
		}
		if (o == OPT_DRY_RUN)
			dry_run = true;
		else if (o == OPT_FORCE)
			force = true;
		else if (o == '?' || !common_option(o, optarg))
			return EXIT_USAGE;
	}
	if (argc - optind != 1) {
		log_error("Usage: stasadm import FILE [--dry-run] [--force]");
		return EXIT_USAGE;
	}
	file = argv[optind];
	if (streq(file, "-"))
		f = fdopen(dup(STDIN_FILENO), "r");
	else
		f = fopen(file, "re");
	if (!f)
		return log_error_errno(errno, "Failed to open %s: %m", file), 1;
	if (!dry_run && !force) {
		if (offline_lock("Import", ", or use --force to import anyway", &lock_fd) < 0)
			return 1;
		flags = CACHE_NOLOCK; /* held exclusively: the writer's shared lock would wait for us */
	} else if (!dry_run)
		log_warning(
			"--force: importing while other stas programs may be writing the cache.");
	if (dry_run) {
		r = stasadm_cache_open(CACHE_RDONLY, &c);
		if (r < 0)
			return 1;
	} else {
		r = cache_open_recoverable(&c, flags);
		if (r < 0 && !cache_is_corrupt(r))
			return 1;
	}
	if (r >= 0 && !c)
		/* a dry run and no cache yet: compare with an empty, throw-away one */
		r = import_scratch(f, &s);
	else if (r >= 0)
		r = cache_import(c, f, dry_run, &s);
	/* the cache (not the file: no reason given) is corrupt: replace it */
	if (!dry_run && cache_is_corrupt(r) && !s.reason[0]) {
		r = import_recover(f, file, &c, flags, &s, r);
		if (r == -EIO)
			return 1; /* already reported */
	}
	if (r < 0) {
		log_error("Refusing %s: %s", file, s.reason[0] ? s.reason : cache_error(r));
		log_error("The cache was not changed.");
		return 1;
	}
	if (arg_json) {
		_cleanup_json_ json_object *jo = json_object_new_object();
		json_object_object_add(jo, "dry-run", json_object_new_boolean(dry_run));
		json_add_int(jo, "records", (int64_t)s.records);
		json_add_int(jo, "dcs", (int64_t)s.dcs);
		json_add_int(jo, "entries", (int64_t)s.entries);
		json_add_int(jo, "paths", (int64_t)s.paths);
		json_add_int(jo, "dcs-added", (int64_t)s.dcs_added);
		json_add_int(jo, "dcs-removed", (int64_t)s.dcs_removed);
		json_add_int(jo, "dcs-changed", (int64_t)s.dcs_changed);
		json_add_int(jo, "dcs-unchanged", (int64_t)s.dcs_unchanged);
		json_print(jo);
		return 0;
	}
	printf("%s %" PRIu64 " DCs (%" PRIu64 " entries, %" PRIu64 " paths): %" PRIu64
	       " added, %" PRIu64 " removed, %" PRIu64 " changed, %" PRIu64 " unchanged.\n",
	       dry_run ? "Would import" : "Imported", s.dcs, s.entries, s.paths, s.dcs_added,
	       s.dcs_removed, s.dcs_changed, s.dcs_unchanged);
	return 0;
}
