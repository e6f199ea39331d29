/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile.c - one subsystem's paths: gather, plan, execute (reconcile.h).
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "cache.h"
#include "conf.h"
#include "conn-opts.h"
#include "dlpe.h"
#include "exclusions.h"
#include "fileio.h"
#include "hashset.h"
#include "kernel.h"
#include "log.h"
#include "nbft.h"
#include "macro.h"
#include "reconcile.h"
#include "registry.h"
#include "sha256.h"
#include "tid.h"

#define RUNTIME_DIR_DEFAULT "/run/stas"

static const char *const action_names[_RECONCILE_ACTION_MAX] = {
	[RECONCILE_CONNECT] = "connect",       [RECONCILE_KEEP] = "keep",
	[RECONCILE_DISCONNECT] = "disconnect", [RECONCILE_SKIP] = "skip",
	[RECONCILE_FORGET] = "forget",
};

const char *reconcile_action_to_string(enum reconcile_action a)
{
	return (unsigned)a < _RECONCILE_ACTION_MAX ? action_names[a] : NULL;
}

void reconcile_policy_from_config(const struct stas_config *cfg, struct reconcile_policy *ret)
{
	struct config_path_opts po;

	*ret = (struct reconcile_policy){
		.cfg = cfg,
		.disconnect_scope = CONFIG_DISCONNECT_ONLY_STAS,
		.disconnect_trtypes = CONFIG_TRTYPE_TCP,
		.ip_family = CONFIG_IP_FAMILY_BOTH,
	};
	if (!cfg)
		return;
	ret->disconnect_scope = cfg->io.disconnect_scope;
	ret->disconnect_trtypes = cfg->io.disconnect_trtypes;
	ret->connect_attempts_on_ncc = cfg->io.connect_attempts_on_ncc;
	(void)config_conn_opts_resolve(cfg, CONFIG_ROLE_IO, NULL, &po);
	ret->ip_family = (unsigned)po.conn.ip_family;
	ret->ignore_iface = po.conn.ignore_iface > 0;
}

/* ------------------------------------------------------------- gathering */

struct wants {
	const struct stas_config *cfg;
	const char *nqn;
	struct reconcile_want *v;
	size_t n, alloc;
};

static int wants_add(struct wants *w, const struct reconcile_want *x)
{
	if (GREEDY_REALLOC(w->v, w->alloc, w->n) < 0)
		return -ENOMEM;
	w->v[w->n++] = *x;
	return 0;
}

/*
 * Options for path @t: the matching configured controller's, else the
 * io-defaults of the configured DC @via whose log page listed it (NULL: none,
 * or a configured path), else the section's.
 */
static void want_resolve(const struct stas_config *cfg, const struct config_controller *cc,
			 const struct config_controller *via, struct reconcile_want *x)
{
	struct config_path_opts po = {};

	if (cfg) {
		(void)config_conn_opts_resolve_discovered(cfg, cc, via, &po);
		conn_opts_from_config(&po, &x->opts);
	}
	if (isempty(x->tid.host_nqn) && po.hostnqn)
		(void)strscpy_checked(x->tid.host_nqn, sizeof(x->tid.host_nqn), po.hostnqn);
}

static int entry_cb(const struct cache_dc *dc, const struct dlpe *e, uint32_t index, void *userdata)
{
	struct wants *w = userdata;
	struct reconcile_want x = {};
	const struct config_controller *cc;
	int r;

	(void)index;
	if (e->subtype != DLPE_SUBTYPE_NVME || !streq(e->subnqn, w->nqn))
		return 0;
	r = tid_from_dlpe(e, &dc->tid, w->cfg ? w->cfg->host.nqn : NULL, &x.tid);
	if (r < 0) {
		log_debug("Ignoring a log page entry for %s that names no valid path.", w->nqn);
		return 0;
	}
	cc = config_controller_find(w->cfg, CONFIG_ROLE_IO, &x.tid);
	want_resolve(w->cfg, cc, config_controller_find(w->cfg, CONFIG_ROLE_DISCOVERY, &dc->tid),
		     &x);
	/* a DC the boot firmware named speaks for the firmware's host: its host ID too */
	if (nbft_host_id(x.tid.host_nqn))
		x.opts.hostid = nbft_host_id(x.tid.host_nqn);
	if (e->treq & DLPE_TREQ_DISABLE_SQFLOW)
		x.opts.disable_sqflow = true;
	x.tls_required = (e->treq & 0x3) == DLPE_TREQ_REQUIRED;
	x.ncc = e->eflags & DLPE_EFLAG_NCC;
	x.sources = RECONCILE_SOURCE_DLP;
	(void)snprintf(x.source, sizeof(x.source), "dc %s/%s/%s", dc->tid.transport, dc->tid.traddr,
		       dc->tid.trsvcid);
	return wants_add(w, &x);
}

int reconcile_wants_gather(struct cache *c, const struct stas_config *cfg, const char *nqn,
			   struct reconcile_want **ret)
{
	struct wants w = { .cfg = cfg, .nqn = nqn };
	int r;

	assert(nqn);
	assert(ret);

	if (c) {
		r = cache_entries_foreach_nqn(c, nqn, entry_cb, &w);
		if (r < 0) {
			free(w.v);
			return r;
		}
	}
	if (cfg) {
		/* this NQN's entries only, through the configuration's index */
		for (const struct config_controller *cc =
			     config_controller_next(cfg, CONFIG_ROLE_IO, nqn, NULL);
		     cc; cc = config_controller_next(cfg, CONFIG_ROLE_IO, nqn, cc)) {
			struct reconcile_want x = {};

			if (!config_controller_usable(cc)) {
				/* a host name that did not resolve: the program said so */
				log_debug("Skipping %s: %s.", strempty(cc->source),
					  config_resolve_error_to_string(cc->resolve_error));
				continue;
			}
			x.tid = cc->tid;
			want_resolve(cfg, cc, NULL, &x);
			x.sources = RECONCILE_SOURCE_CONFIG;
			(void)snprintf(x.source, sizeof(x.source), "%s", strempty(cc->source));
			r = wants_add(&w, &x);
			if (r < 0) {
				free(w.v);
				return r;
			}
		}
	}
	*ret = w.v;
	return (int)w.n;
}

struct records {
	struct cache_path *v;
	size_t n, alloc;
};

static int record_cb(const struct cache_path *p, void *userdata)
{
	struct records *rs = userdata;

	if (GREEDY_REALLOC(rs->v, rs->alloc, rs->n) < 0)
		return -ENOMEM;
	rs->v[rs->n++] = *p;
	return 0;
}

int reconcile_records_gather(struct cache *c, const char *nqn, struct cache_path **ret)
{
	struct records rs = {};
	int r;

	r = cache_path_foreach(c, nqn, record_cb, &rs);
	if (r < 0) {
		free(rs.v);
		return r;
	}
	*ret = rs.v;
	return (int)rs.n;
}

/* -------------------------------------------------------------- planning */

struct planner {
	const struct reconcile_policy *policy;
	struct reconcile_plan *plan;
	size_t alloc;
	const struct kctrl *ctrls;
	size_t n_ctrls;
	bool *ctrl_used;
	const struct cache_path *records;
	size_t n_records;
	bool *record_used;
	struct hashset *record_index; /* tid_key() -> 1 + index of its first record */
};

static struct reconcile_item *item_new(struct planner *pl)
{
	struct reconcile_plan *p = pl->plan;

	if (p->n_items == pl->alloc) {
		size_t na = pl->alloc ? pl->alloc * 2 : 8;
		struct reconcile_item *v = reallocarray(p->items, na, sizeof(*v));
		if (!v)
			return NULL;
		p->items = v;
		pl->alloc = na;
	}
	p->items[p->n_items] = (struct reconcile_item){};
	return &p->items[p->n_items++];
}

_printf_(2, 3) static void item_reason(struct reconcile_item *it, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(it->reason, sizeof(it->reason), fmt, ap);
	va_end(ap);
}

/* Claim the stored record of @it->tid, if any. */
static void item_attach_record(struct planner *pl, struct reconcile_item *it)
{
	char key[TID_KEY_MAX];
	void *v;

	if (tid_key(&it->tid, key, sizeof(key)) >= 0) {
		size_t i;

		if (!hashset_get(pl->record_index, key, &v))
			return; /* no record of this path */
		i = (uintptr_t)v - 1;
		if (!pl->record_used[i]) {
			pl->record_used[i] = true;
			it->have_record = true;
			it->record = pl->records[i];
			return;
		}
		/* its first record is taken: a duplicate record, if any, below */
	}
	for (size_t i = 0; i < pl->n_records; i++)
		if (!pl->record_used[i] && tid_equal(&pl->records[i].tid, &it->tid)) {
			pl->record_used[i] = true;
			it->have_record = true;
			it->record = pl->records[i];
			return;
		}
}

/*
 * The usable controller of @t not yet claimed, as an index, or -1: with
 * @exact, the same TID only; otherwise also a controller that serves the
 * path through its src_addr (kctrl_path_matches()).
 */
static ssize_t ctrl_claim(struct planner *pl, const struct tid *t, bool exact)
{
	for (size_t i = 0; i < pl->n_ctrls; i++)
		if (!pl->ctrl_used[i] && kctrl_is_usable(&pl->ctrls[i]) &&
		    (exact ? tid_equal(&pl->ctrls[i].tid, t) :
			     kctrl_path_matches(&pl->ctrls[i], t, pl->policy->ifaddrs,
						pl->policy->n_ifaddrs))) {
			pl->ctrl_used[i] = true;
			return (ssize_t)i;
		}
	return -1;
}

/* The registry gives @k to another orchestrator (or cannot say). */
static bool ctrl_owned_by_other(const struct kctrl *k)
{
	return k->owner_unreadable || (!isempty(k->owner) && !streq(k->owner, REGISTRY_OWNER_STAS));
}

static bool records_differ(const struct cache_path *a, const struct cache_path *b)
{
	return a->owner != b->owner || a->state != b->state || a->attempts != b->attempts ||
	       a->ncc != b->ncc || a->last_errno != b->last_errno ||
	       !streq(a->last_error, b->last_error) || !streq(a->device, b->device) ||
	       !tid_equal(&a->tid, &b->tid);
}

static unsigned trtype_bit(const char *transport)
{
	if (streq(transport, "tcp"))
		return CONFIG_TRTYPE_TCP;
	if (streq(transport, "rdma"))
		return CONFIG_TRTYPE_RDMA;
	if (streq(transport, "fc"))
		return CONFIG_TRTYPE_FC;
	return 0;
}

/*
 * A controller no wanted path claims: disconnect it when the policy says so.
 * @why says why it is not wanted.
 */
static void plan_stale(struct planner *pl, struct reconcile_item *it, const struct kctrl *k,
		       const char *why)
{
	const struct reconcile_policy *po = pl->policy;
	bool ours = (it->have_record && it->record.owner == CACHE_PATH_OWNER_STAS) ||
		    streq(k->owner, REGISTRY_OWNER_STAS);

	(void)strscpy_checked(it->ctrl, sizeof(it->ctrl), k->name);
	if (str_startswith(k->state, "deleting")) {
		it->action = RECONCILE_SKIP;
		item_reason(it, "%s; %s is already being deleted", why, k->name);
		return;
	}
	/* Whatever the scope: another orchestrator's controller is theirs to drop. */
	if (ctrl_owned_by_other(k)) {
		it->action = RECONCILE_SKIP;
		if (k->owner_unreadable)
			item_reason(it, "%s; its registry entry cannot be read", why);
		else
			item_reason(it, "%s; owned by %.64s (registry)", why, k->owner);
		return;
	}
	/* a failed name lookup is no reason to tear down a path it may name */
	if (config_controller_unresolved_match(po->cfg, CONFIG_ROLE_IO, &k->tid)) {
		it->action = RECONCILE_SKIP;
		item_reason(it,
			    "%s; kept: it may be a configured host name that did not resolve now",
			    why);
		return;
	}
	switch (po->disconnect_scope) {
	case CONFIG_DISCONNECT_ONLY_STAS:
		if (ours) {
			it->action = RECONCILE_DISCONNECT;
			item_reason(it, "%s; connected by stas", why);
		} else {
			it->action = RECONCILE_SKIP;
			item_reason(it, "%s; not connected by stas (disconnect-scope %s)", why,
				    config_disconnect_scope_to_string(po->disconnect_scope));
		}
		return;
	case CONFIG_DISCONNECT_ALL_MATCHING_TRTYPES:
		if (trtype_bit(k->tid.transport) & po->disconnect_trtypes) {
			it->action = RECONCILE_DISCONNECT;
			item_reason(it, "%s; %s is in disconnect-trtypes", why, k->tid.transport);
		} else {
			it->action = RECONCILE_SKIP;
			item_reason(it, "%s; %s is not in disconnect-trtypes", why,
				    k->tid.transport);
		}
		return;
	case CONFIG_DISCONNECT_NONE:
		it->action = RECONCILE_SKIP;
		item_reason(it, "%s; disconnect-scope no-disconnect", why);
		return;
	case _CONFIG_DISCONNECT_MAX:
		break;
	}
	it->action = RECONCILE_SKIP;
	item_reason(it, "%s; unknown disconnect-scope", why);
}

/*
 * Why a wanted path is filtered out (written to @why), or false when it is
 * wanted. @ret_excluded: the host's exclusion list said so.
 */
static bool want_filter(const struct reconcile_policy *po, const struct reconcile_want *w,
			char why[RECONCILE_REASON_MAX + 1], bool *ret_excluded)
{
	const struct exclusions_target target = { .tid = &w->tid, .hostid = w->opts.hostid };
	struct exclusions_match m;
	const char *reason = NULL;
	int af;

	*ret_excluded = false;
	if (isempty(w->tid.host_nqn))
		reason = "no host NQN (set host.nqn in stas.conf or create /etc/nvme/hostnqn)";
	else if (po->cfg && config_is_excluded(po->cfg, CONFIG_ROLE_IO, &w->tid))
		reason = "excluded by configuration (io.exclude)";
	else if (exclusions_loaded_match(po->exclusions, &target, &m) > 0) {
		(void)snprintf(why, RECONCILE_REASON_MAX + 1,
			       "excluded by %.140s:%u (host exclusion list)", m.path, m.line);
		*ret_excluded = true;
		return true;
	} else if ((af = tid_adrfam(&w->tid)) == AF_INET &&
		   !(po->ip_family & CONFIG_IP_FAMILY_IPV4))
		reason = "IPv4 address, but ip-family is ipv6";
	else if (af == AF_INET6 && !(po->ip_family & CONFIG_IP_FAMILY_IPV6))
		reason = "IPv6 address, but ip-family is ipv4";
	if (!reason)
		return false;
	(void)snprintf(why, RECONCILE_REASON_MAX + 1, "%s", reason);
	return true;
}

/* @k: the controller claimed for this path, or -1. */
static void plan_wanted(struct planner *pl, struct reconcile_item *it, bool tls_required, ssize_t k)
{
	const struct reconcile_policy *po = pl->policy;
	uint32_t attempts = 0;
	bool ncc_reset = false;

	item_attach_record(pl, it);
	if (it->have_record) {
		attempts = it->record.attempts;
		/* A later page cleared NCC: try again from scratch. */
		if (it->record.ncc && !it->ncc) {
			ncc_reset = true;
			attempts = 0;
		}
	}

	if (k >= 0) {
		const struct kctrl *c = &pl->ctrls[k];
		struct cache_path want = {
			.tid = it->tid,
			.owner = it->have_record ? it->record.owner : CACHE_PATH_OWNER_OTHER,
			.state = CACHE_PATH_CONNECTED,
			.ncc = it->ncc,
		};

		/* The cache and the registry agree after this run. */
		if (ctrl_owned_by_other(c))
			want.owner = CACHE_PATH_OWNER_OTHER;
		else if (streq(c->owner, REGISTRY_OWNER_STAS))
			want.owner = CACHE_PATH_OWNER_STAS;
		else if (want.owner == CACHE_PATH_OWNER_STAS)
			it->registry_put = true;
		if (!tid_equal(&c->tid, &it->tid)) {
			bool via_src = (!isempty(it->tid.host_iface) &&
					!streq(it->tid.host_iface, c->tid.host_iface)) ||
				       (!isempty(it->tid.host_traddr) &&
					!streq(it->tid.host_traddr, c->tid.host_traddr));

			if (via_src)
				item_reason(
					it,
					"served by %s: its src_addr %s meets the path's host side",
					c->name, c->src_addr);
			else
				item_reason(it,
					    "served by %s, made with a host side this path "
					    "leaves open",
					    c->name);
		}
		it->action = RECONCILE_KEEP;
		(void)strscpy_checked(it->ctrl, sizeof(it->ctrl), c->name);
		(void)strscpy_checked(want.device, sizeof(want.device), c->name);
		it->new_record = want;
		it->record_put = !it->have_record || records_differ(&it->record, &want);
		return;
	}

	it->new_record = (struct cache_path){
		.tid = it->tid,
		.owner = CACHE_PATH_OWNER_STAS,
		.state = CACHE_PATH_CONNECTING,
		.attempts = attempts,
		.ncc = it->ncc,
	};
	if (tls_required && !streq(it->tid.transport, "tcp")) {
		it->action = RECONCILE_SKIP;
		item_reason(it, "the target requires a secure channel, which stas sets up only "
				"for tcp (TLS)");
		return;
	}
	/* "tls = true" configured for this path (its controller entry or a DC's io-defaults) */
	if (!tls_required && it->opts.tls && !streq(it->tid.transport, "tcp")) {
		it->action = RECONCILE_SKIP;
		item_reason(it, "tls = true is configured for this controller, but TLS exists "
				"only for tcp");
		return;
	}
	if ((tls_required || it->opts.tls) && (po->tls_supported <= 0 || po->tlshd_running <= 0)) {
		const char *why = tls_required ? "the target requires TLS" :
						 "tls = true is configured for this controller";

		it->action = RECONCILE_SKIP;
		if (po->tls_supported <= 0)
			item_reason(it,
				    "%s, which this kernel does not offer (no \"tls\" in "
				    "/dev/nvme-fabrics)",
				    why);
		else
			item_reason(it,
				    "%s and tlshd (ktls-utils) is not running: the kernel could "
				    "not do the handshake",
				    why);
		return;
	}
	it->opts.tls = tls_required || it->opts.tls;
	if (it->ncc && po->connect_attempts_on_ncc > 0 && attempts >= po->connect_attempts_on_ncc) {
		it->action = RECONCILE_SKIP;
		item_reason(it,
			    "no CDC connectivity (NCC): gave up after %u failed attempts "
			    "(connect-attempts-on-ncc); waiting for a log page without NCC",
			    attempts);
		return;
	}
	it->action = RECONCILE_CONNECT;
	if (ncc_reset)
		item_reason(it, "NCC cleared: attempts reset");
}

int reconcile_plan_build(const char *nqn, const struct reconcile_want *wants, size_t n_wants,
			 const struct kctrl *ctrls, size_t n_ctrls,
			 const struct cache_path *records, size_t n_records,
			 const struct reconcile_policy *policy, struct reconcile_plan **ret)
{
	_cleanup_free_ bool *ctrl_used = NULL, *record_used = NULL, *want_ok = NULL;
	_cleanup_free_ bool *tls = NULL, *excluded = NULL;
	_cleanup_free_ char(*why)[RECONCILE_REASON_MAX + 1] = NULL;
	_cleanup_free_ ssize_t *claimed = NULL;
	_cleanup_reconcile_plan_ struct reconcile_plan *p = NULL;
	_cleanup_hashset_free_ struct hashset *record_index = NULL, *item_index = NULL;
	struct reconcile_policy defaults;
	struct planner pl;
	size_t n_wanted_items;

	assert(nqn);
	assert(ret);

	if (strlen(nqn) > TID_NQN_MAX)
		return -EINVAL;
	if (!policy) {
		reconcile_policy_from_config(NULL, &defaults);
		policy = &defaults;
	}
	p = calloc(1, sizeof(*p));
	ctrl_used = calloc(n_ctrls + 1, sizeof(bool));
	record_used = calloc(n_records + 1, sizeof(bool));
	want_ok = calloc(n_wants + 1, sizeof(bool));
	tls = calloc(n_wants + 1, sizeof(bool));
	why = calloc(n_wants + 1, sizeof(*why));
	excluded = calloc(n_wants + 1, sizeof(bool));
	claimed = calloc(n_wants + 1, sizeof(ssize_t));
	if (!p || !ctrl_used || !record_used || !want_ok || !tls || !why || !excluded || !claimed)
		return -ENOMEM;
	(void)strscpy_checked(p->nqn, sizeof(p->nqn), nqn);
	if (hashset_new(&record_index) < 0 || hashset_new(&item_index) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n_records; i++) {
		char key[TID_KEY_MAX];
		if (tid_key(&records[i].tid, key, sizeof(key)) >= 0 &&
		    hashset_put(record_index, key, (void *)(uintptr_t)(i + 1), NULL) < 0)
			return -ENOMEM;
	}
	pl = (struct planner){
		.policy = policy,
		.plan = p,
		.ctrls = ctrls,
		.n_ctrls = n_ctrls,
		.ctrl_used = ctrl_used,
		.records = records,
		.n_records = n_records,
		.record_used = record_used,
		.record_index = record_index,
	};

	/* Controllers that are none of our business are claimed up front. */
	for (size_t i = 0; i < n_ctrls; i++)
		if (!ctrls[i].fabrics || ctrls[i].discovery || !streq(ctrls[i].tid.subsysnqn, nqn))
			ctrl_used[i] = true;

	/*
	 * 1. Wanted paths, merged by TID (after ignore-iface). Items 0..n-1 of
	 * the plan are the distinct paths, in the order first seen; a path is
	 * wanted when any of its sources passes the filters.
	 */
	for (size_t i = 0; i < n_wants; i++) {
		const struct reconcile_want *w = &wants[i];
		struct tid t = w->tid;
		char reason[RECONCILE_REASON_MAX + 1];
		bool filtered, excl;
		struct reconcile_item *it = NULL;
		char key[TID_KEY_MAX];
		void *v;
		size_t j;
		int r;

		if (!streq(t.subsysnqn, nqn))
			continue;
		filtered = want_filter(policy, w, reason, &excl);
		if (policy->ignore_iface)
			t.host_iface[0] = '\0';
		r = tid_key(&t, key, sizeof(key));
		if (r < 0)
			return r;
		if (hashset_get(item_index, key, &v)) {
			j = (uintptr_t)v - 1;
			it = &p->items[j];
		}
		if (!it) {
			it = item_new(&pl);
			if (!it)
				return -ENOMEM;
			j = p->n_items - 1;
			if (hashset_put(item_index, key, (void *)(uintptr_t)(j + 1), NULL) < 0)
				return -ENOMEM;
			it->tid = t;
			it->opts = w->opts;
			it->ncc = w->ncc;
			it->sources = w->sources;
			(void)snprintf(it->source, sizeof(it->source), "%s", w->source);
			want_ok[j] = !filtered;
			tls[j] = w->tls_required;
			if (filtered)
				memcpy(why[j], reason, sizeof(reason));
			excluded[j] = excl;
			continue;
		}
		/* A duplicate: merge. */
		it->sources |= w->sources;
		it->ncc = it->ncc && w->ncc;
		it->opts.disable_sqflow = it->opts.disable_sqflow || w->opts.disable_sqflow;
		it->opts.tls = it->opts.tls || w->opts.tls;
		tls[j] = tls[j] || w->tls_required;
		if (!filtered && !want_ok[j]) {
			/* The first source was filtered out, this one is not. */
			want_ok[j] = true;
			why[j][0] = '\0';
			excluded[j] = false;
			it->opts = w->opts;
			(void)snprintf(it->source, sizeof(it->source), "%s", w->source);
		}
	}
	n_wanted_items = p->n_items;

	/*
	 * 2. Decide each path. Wanted ones first, so they claim their
	 * controllers: every exact match before any src_addr match, so a
	 * controller made for exactly one wanted path is never taken by
	 * another that it merely also serves.
	 */
	for (size_t j = 0; j < n_wanted_items; j++)
		claimed[j] = want_ok[j] ? ctrl_claim(&pl, &p->items[j].tid, true) : -1;
	for (size_t j = 0; j < n_wanted_items; j++)
		if (want_ok[j] && claimed[j] < 0)
			claimed[j] = ctrl_claim(&pl, &p->items[j].tid, false);
	for (size_t j = 0; j < n_wanted_items; j++)
		if (want_ok[j]) {
			p->items[j].wanted = true;
			plan_wanted(&pl, &p->items[j], tls[j], claimed[j]);
		}
	for (size_t j = 0; j < n_wanted_items; j++) {
		struct reconcile_item *it = &p->items[j];
		ssize_t k;

		if (want_ok[j])
			continue;
		it->excluded = excluded[j];
		item_attach_record(&pl, it);
		k = ctrl_claim(&pl, &it->tid, true);
		if (k >= 0 && excluded[j]) {
			/*
			 * The exclusion list governs connections to come ("no
			 * orchestrator may auto-connect this"); the registry and
			 * the disconnect scope govern those that exist. An
			 * administrator excludes before disconnecting (nvme
			 * disconnect --exclude): stas does not tear it down.
			 */
			it->action = RECONCILE_SKIP;
			(void)strscpy_checked(it->ctrl, sizeof(it->ctrl), pl.ctrls[k].name);
			item_reason(it, "%s; %s is left connected", why[j], pl.ctrls[k].name);
			continue;
		}
		if (k >= 0) {
			plan_stale(&pl, it, &pl.ctrls[k], why[j]);
			continue;
		}
		it->action = RECONCILE_SKIP;
		item_reason(it, "%s", why[j]);
		/* Nothing to record for a path that is neither wanted nor there. */
		it->record_remove = it->have_record;
	}

	/* 3. Stale controllers: every one of this NQN no wanted path claimed. */
	for (size_t i = 0; i < n_ctrls; i++) {
		struct reconcile_item *it;

		if (ctrl_used[i])
			continue;
		ctrl_used[i] = true;
		it = item_new(&pl);
		if (!it)
			return -ENOMEM;
		it->tid = ctrls[i].tid;
		item_attach_record(&pl, it);
		plan_stale(&pl, it, &ctrls[i], "no longer wanted");
	}

	/* 4. Records no item claimed: their paths are gone and not wanted. */
	for (size_t i = 0; i < n_records; i++) {
		struct reconcile_item *it;

		if (record_used[i] || !streq(records[i].tid.subsysnqn, nqn))
			continue;
		record_used[i] = true;
		it = item_new(&pl);
		if (!it)
			return -ENOMEM;
		it->action = RECONCILE_FORGET;
		it->tid = records[i].tid;
		it->have_record = true;
		it->record = records[i];
		item_reason(it, "no controller and no longer wanted: dropping the %s record",
			    cache_path_owner_to_string(records[i].owner));
	}

	for (size_t j = 0; j < p->n_items; j++) {
		const struct reconcile_item *it = &p->items[j];

		p->n[it->action]++;
		if (it->record_put || it->record_remove || it->action == RECONCILE_FORGET)
			p->n_record_writes++;
	}
	*ret = TAKE_PTR(p);
	return 0;
}

struct reconcile_plan *reconcile_plan_free(struct reconcile_plan *p)
{
	if (p) {
		/* Options point into the configuration; nothing secret is owned here. */
		free(p->items);
		free(p);
	}
	return NULL;
}

/* ------------------------------------------------------------- executing */

/* Block SIGTERM and SIGINT (and SIGHUP) around a kernel call and its record. */
static void signals_block(sigset_t *old)
{
	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &ss, old);
}

static void signals_restore(const sigset_t *old)
{
	(void)sigprocmask(SIG_SETMASK, old, NULL);
}

static void item_error(struct reconcile_item *it, int error, const char *detail)
{
	it->error = error;
	(void)snprintf(it->error_text, sizeof(it->error_text), "%s",
		       !isempty(detail) ? detail : strerror(-error));
}

/* Record @name as stas's in the registry; a failure is counted, not fatal. */
static void registry_put(struct reconcile_plan *p, const char *name)
{
	int r = registry_register(registry_root(), name, REGISTRY_OWNER_STAS, NULL);

	if (r < 0) {
		p->n_registry_failed++;
		log_debug_errno(r, "Failed to register %s as stas's: %m", name);
	} else
		p->n_registry_writes++;
}

/*
 * The path record writes of one execution, committed together with
 * cache_paths_write(). Before the first connect, the intent records of every
 * connect of the batch (owner=stas, state=connecting) are committed in one
 * transaction; the outcomes of every connect and disconnect and the plans'
 * other record changes go in a second one at the end: two commits (two
 * fdatasyncs, MDB_NOMETASYNC) per batch instead of two per connect. The
 * crash guarantees are those of one intent record per connect:
 *  - no connect is written to the kernel before its intent is committed, so
 *    a process killed anywhere in the batch (SIGKILL, a crash) leaves every
 *    controller it made recorded as stas's; what it loses is the outcome
 *    (connected or failed, the device), which the next run reads from the
 *    kernel again (a connecting record whose controller is there is KEEP,
 *    one whose controller is not is connected again or forgotten);
 *  - SIGTERM, SIGINT and SIGHUP stay blocked during the whole execution and
 *    are looked for before every connect: a stop request ends the batch
 *    early, with the outcomes of what was done committed;
 *  - each commit is a whole LMDB transaction: a cut-off run never leaves
 *    half a batch, and an operating-system crash, which can undo the last
 *    commit, takes the kernel's controllers with it.
 */
struct exec_writes {
	struct cache_path_op *ops;
	struct reconcile_item **items; /* the item each op is for */
	struct reconcile_plan **plans; /* and its plan */
	size_t n, alloc_ops, alloc_items, alloc_plans;
};

static void exec_writes_done(struct exec_writes *w)
{
	free(w->ops);
	free(w->items);
	free(w->plans);
}

static int exec_stage(struct exec_writes *w, struct reconcile_plan *p, struct reconcile_item *it,
		      const struct cache_path *rec, bool remove)
{
	if (GREEDY_REALLOC(w->ops, w->alloc_ops, w->n) < 0 ||
	    GREEDY_REALLOC(w->items, w->alloc_items, w->n) < 0 ||
	    GREEDY_REALLOC(w->plans, w->alloc_plans, w->n) < 0)
		return -ENOMEM;
	w->ops[w->n] = (struct cache_path_op){ .path = *rec, .remove = remove };
	w->items[w->n] = it;
	w->plans[w->n] = p;
	w->n++;
	return 0;
}

static int exec_stage_remove(struct exec_writes *w, struct reconcile_plan *p,
			     struct reconcile_item *it)
{
	struct cache_path rec = { .tid = it->tid };

	return exec_stage(w, p, it, &rec, true);
}

/* Commit what is staged, as one transaction; on failure nothing was written. */
static int exec_commit(struct exec_writes *w, struct cache *c)
{
	int r;

	if (w->n == 0)
		return 0;
	r = cache_paths_write(c, w->ops, w->n);
	if (r >= 0)
		for (size_t i = 0; i < w->n; i++)
			w->plans[i]->n_cache_writes++;
	w->n = 0;
	return r;
}

/* A stop request (blocked, so pending) arrived. */
static bool exec_stop_requested(void)
{
	sigset_t pending;

	if (sigpending(&pending) < 0)
		return false;
	return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1 ||
	       sigismember(&pending, SIGHUP) == 1;
}

/* Find the controller of @t after the kernel said it already exists. */
static void ctrl_lookup(const struct tid *t, char name[KCTRL_NAME_MAX + 1])
{
	_cleanup_free_ struct kctrl *v = NULL;
	const struct kctrl *k;
	int n;

	n = kernel_ctrls_scan(t->subsysnqn, false, false, &v);
	if (n <= 0)
		return;
	k = kctrl_find(v, (size_t)n, t);
	if (k)
		(void)strscpy_checked(name, KCTRL_NAME_MAX + 1, k->name);
}

/* The intent record of a connect (committed before any connect is made). */
static struct cache_path connect_intent(const struct reconcile_item *it)
{
	struct cache_path rec = it->new_record;

	rec.owner = CACHE_PATH_OWNER_STAS;
	rec.state = CACHE_PATH_CONNECTING;
	rec.updated_usec = 0;
	return rec;
}

/* Connect @it (its intent is committed) and stage the outcome record. */
static int execute_connect(struct exec_writes *w, struct reconcile_plan *p,
			   struct reconcile_item *it)
{
	struct cache_path rec = connect_intent(it);
	struct kernel_error kerr = {};
	char name[KCTRL_NAME_MAX + 1] = "";
	char tbuf[TID_FORMAT_MAX];
	int k;

	p->n_kernel_calls++;
	k = kernel_connect(&it->tid, &it->opts, false, &kerr, name);
	if (k == 0) {
		rec.state = CACHE_PATH_CONNECTED;
		rec.attempts = 0;
		rec.last_errno = 0;
		rec.last_error[0] = '\0';
		(void)strscpy_checked(rec.device, sizeof(rec.device), name);
		(void)strscpy_checked(it->ctrl, sizeof(it->ctrl), name);
		/* Right after the connect: the stamp is newer than its add event. */
		registry_put(p, name);
		log_debug("Connected %s as %s.", tid_format(&it->tid, tbuf, sizeof(tbuf)), name);
	} else if (k == -EALREADY) {
		/* Someone else made it between our scan and now: not ours. */
		ctrl_lookup(&it->tid, name);
		rec.owner = it->have_record ? it->record.owner : CACHE_PATH_OWNER_OTHER;
		rec.state = CACHE_PATH_CONNECTED;
		rec.attempts = 0;
		rec.last_errno = 0;
		rec.last_error[0] = '\0';
		(void)strscpy_checked(rec.device, sizeof(rec.device), name);
		(void)strscpy_checked(it->ctrl, sizeof(it->ctrl), name);
		k = 0;
	} else {
		rec.state = CACHE_PATH_FAILED;
		rec.attempts++;
		rec.last_errno = -k;
		(void)snprintf(rec.last_error, sizeof(rec.last_error), "%s",
			       kernel_error_message(&kerr, k));
		rec.device[0] = '\0';
		item_error(it, k, rec.last_error);
	}
	it->done = k == 0;
	if (k < 0)
		p->n_failed++;
	return exec_stage(w, p, it, &rec, false);
}

/* A connect not made because a stop was requested: its record as it was. */
static int execute_connect_skipped(struct exec_writes *w, struct reconcile_plan *p,
				   struct reconcile_item *it)
{
	item_error(it, -EINTR, "not connected: stas was asked to stop");
	p->n_failed++;
	return it->have_record ? exec_stage(w, p, it, &it->record, false) :
				 exec_stage_remove(w, p, it);
}

static int execute_disconnect(struct exec_writes *w, struct reconcile_plan *p,
			      struct reconcile_item *it)
{
	int k, reg;

	/*
	 * Drop stas's registry entry while the controller still exists (its
	 * instance cannot be recycled yet); refuse when someone else took it
	 * since the plan was made.
	 */
	reg = registry_unregister(registry_root(), it->ctrl, REGISTRY_OWNER_STAS);
	if (reg < 0) {
		item_error(it, reg,
			   reg == -EPERM ?
				   "not disconnected: another orchestrator owns it (registry)" :
				   "not disconnected: its registry entry cannot be updated");
		log_debug_errno(reg, "Not disconnecting %s: %m", it->ctrl);
		return 0;
	}
	if (reg > 0)
		p->n_registry_writes++;
	p->n_kernel_calls++;
	k = kernel_disconnect(it->ctrl);
	if (k == 0 || k == -ENOENT) {
		it->done = true;
		return it->have_record ? exec_stage_remove(w, p, it) : 0;
	}
	item_error(it, k, NULL);
	p->n_failed++;
	if (reg > 0)
		registry_put(p, it->ctrl); /* still there, still stas's */
	if (it->have_record) {
		struct cache_path rec = it->record;

		rec.last_errno = -k;
		(void)snprintf(rec.last_error, sizeof(rec.last_error), "disconnect failed: %s",
			       strerror(-k));
		rec.updated_usec = 0;
		return exec_stage(w, p, it, &rec, false);
	}
	return 0;
}

/* The record changes of KEEP, SKIP and FORGET items. */
static int execute_records(struct exec_writes *w, struct reconcile_plan *p,
			   struct reconcile_item *it)
{
	switch (it->action) {
	case RECONCILE_KEEP:
	case RECONCILE_SKIP:
		it->done = true;
		if (it->registry_put && !isempty(it->ctrl))
			registry_put(p, it->ctrl);
		if (it->record_put) {
			struct cache_path rec = it->new_record;

			rec.updated_usec = 0;
			return exec_stage(w, p, it, &rec, false);
		}
		return it->record_remove ? exec_stage_remove(w, p, it) : 0;
	case RECONCILE_FORGET:
		it->done = true;
		return exec_stage_remove(w, p, it);
	case RECONCILE_CONNECT:
	case RECONCILE_DISCONNECT:
		return 0;
	case _RECONCILE_ACTION_MAX:
		assert(false);
	}
	return 0;
}

/* The outcome commit failed: say so on every item it was for. */
static void exec_commit_failed(struct exec_writes *w, int r)
{
	for (size_t i = 0; i < w->n; i++) {
		struct reconcile_item *it = w->items[i];

		if (it->action == RECONCILE_CONNECT && it->done)
			item_error(it, r, "connected, but failed to record the path");
		else if (it->action == RECONCILE_KEEP || it->action == RECONCILE_SKIP ||
			 it->action == RECONCILE_FORGET) {
			it->done = false;
			item_error(it, r, "failed to update the path record");
		} else if (!it->error)
			item_error(it, r, "failed to record the path");
	}
}

/*
 * Carry out @plans as one batch: the intents of every connect (one commit),
 * every connect (make before break), every disconnect, then every outcome
 * and record change (one commit). Return: 0, or the negative errno of a
 * commit that failed (the first: no connect was made; the second: the
 * kernel calls were made, their records not written).
 */
static int plans_execute(struct reconcile_plan **plans, size_t n, struct cache *c)
{
	_cleanup_(exec_writes_done) struct exec_writes w = {};
	bool stop = false;
	sigset_t old;
	int r = 0;

	for (size_t j = 0; j < n; j++) {
		struct reconcile_plan *p = plans[j];

		p->n_kernel_calls = p->n_cache_writes = p->n_failed = 0;
		p->n_registry_writes = p->n_registry_failed = 0;
		if (!c &&
		    (p->n[RECONCILE_CONNECT] || p->n[RECONCILE_DISCONNECT] || p->n_record_writes))
			return -EINVAL;
	}

	signals_block(&old);
	/* Intent first: a kill after a connect still leaves a record that says "ours". */
	for (size_t j = 0; j < n && r >= 0; j++)
		for (size_t i = 0; i < plans[j]->n_items && r >= 0; i++) {
			struct reconcile_item *it = &plans[j]->items[i];
			struct cache_path rec;

			if (it->action != RECONCILE_CONNECT)
				continue;
			rec = connect_intent(it);
			r = exec_stage(&w, plans[j], it, &rec, false);
		}
	if (r >= 0)
		r = exec_commit(&w, c);
	if (r < 0) {
		for (size_t j = 0; j < n; j++)
			for (size_t i = 0; i < plans[j]->n_items; i++)
				if (plans[j]->items[i].action == RECONCILE_CONNECT)
					item_error(&plans[j]->items[i], r,
						   "failed to record the path before connecting");
		signals_restore(&old);
		return r;
	}

	/* Make before break: connect what is missing before dropping anything. */
	for (size_t j = 0; j < n && r >= 0; j++)
		for (size_t i = 0; i < plans[j]->n_items && r >= 0; i++) {
			struct reconcile_item *it = &plans[j]->items[i];

			if (it->action != RECONCILE_CONNECT)
				continue;
			stop = stop || exec_stop_requested();
			r = stop ? execute_connect_skipped(&w, plans[j], it) :
				   execute_connect(&w, plans[j], it);
		}
	for (size_t j = 0; j < n && r >= 0 && !stop; j++)
		for (size_t i = 0; i < plans[j]->n_items && r >= 0; i++)
			if (plans[j]->items[i].action == RECONCILE_DISCONNECT)
				r = execute_disconnect(&w, plans[j], &plans[j]->items[i]);
	for (size_t j = 0; j < n && r >= 0; j++)
		for (size_t i = 0; i < plans[j]->n_items && r >= 0; i++)
			r = execute_records(&w, plans[j], &plans[j]->items[i]);

	if (r >= 0) {
		size_t staged = w.n;

		r = exec_commit(&w, c);
		if (r < 0) {
			w.n = staged;
			exec_commit_failed(&w, r);
		}
	}
	signals_restore(&old);
	return r < 0 ? r : 0;
}

int reconcile_plan_execute(struct reconcile_plan *p, struct cache *c)
{
	int r;

	assert(p);

	r = plans_execute(&p, 1, c);
	return r < 0 ? r : (int)p->n_failed;
}

/* ------------------------------------------------------------- locking */

uint64_t reconcile_lock_offset(const char *nqn)
{
	/* 62 bits: the byte [offset, offset + 1) never reaches off_t's limit. */
	return sha256_u64(nqn, strlen(nqn)) >> 2;
}

/* Open (creating it) the lock file in @dir. */
static int lock_file_open_in(const char *dir)
{
	char path[4096];
	int fd;

	if (snprintf(path, sizeof(path), "%s/" RECONCILE_LOCK_FILE, dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? negative_errno() : fd;
}

/* The lock file in the first of $RUNTIME_DIRECTORY, /run/stas and @fallback_dir. */
static int lock_file_open(const char *fallback_dir)
{
	const char *rt = getenv("RUNTIME_DIRECTORY");
	char dir[4096];
	int fd;

	if (!isempty(rt)) {
		/* systemd passes a ':'-separated list; the first is ours. */
		size_t l = strcspn(rt, ":");
		if (l < sizeof(dir)) {
			memcpy(dir, rt, l);
			dir[l] = '\0';
			fd = lock_file_open_in(dir);
			if (fd >= 0)
				return fd;
		}
	}
	fd = lock_file_open_in(RUNTIME_DIR_DEFAULT);
	if (fd == -ENOENT) {
		/* Only the first run after boot creates it. */
		if (mkdir(RUNTIME_DIR_DEFAULT, 0755) < 0 && errno != EEXIST)
			log_debug_errno(errno,
					"Cannot create " RUNTIME_DIR_DEFAULT ", ignoring: %m");
		fd = lock_file_open_in(RUNTIME_DIR_DEFAULT);
	}
	if (fd < 0 && !isempty(fallback_dir))
		fd = lock_file_open_in(fallback_dir);
	return fd;
}

/* Take the one-byte write lock at @offset of @fd (an OFD lock: it belongs to the open file). */
static int lock_range(int fd, uint64_t offset)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = (off_t)offset,
		.l_len = 1,
	};

	while (fcntl(fd, F_OFD_SETLKW, &fl) < 0)
		if (errno != EINTR)
			return negative_errno();
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int reconcile_lock_many(const char *const *nqns, size_t n, const char *fallback_dir, int *ret_fd)
{
	_cleanup_free_ uint64_t *off = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	assert(nqns || n == 0);
	assert(ret_fd);

	off = malloc((n + 1) * sizeof(*off));
	if (!off)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		off[i] = reconcile_lock_offset(nqns[i]);
	/*
	 * Ascending offsets, each once: every taker goes up the same ladder, so
	 * two batches cannot wait for each other in a cycle - also when two
	 * NQNs share an offset (they then share the lock, harmlessly).
	 */
	qsort(off, n, sizeof(*off), u64_cmp);
	fd = lock_file_open(fallback_dir);
	if (fd < 0)
		return fd;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && off[i] == off[i - 1])
			continue;
		r = lock_range(fd, off[i]);
		if (r < 0)
			return r;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int reconcile_lock(const char *nqn, const char *fallback_dir, int *ret_fd)
{
	assert(nqn);
	return reconcile_lock_many(&nqn, 1, fallback_dir, ret_fd);
}

/* ------------------------------------------------------------ NQNs */

void reconcile_ctrls_fill_owner(struct kctrl *v, size_t n)
{
	const char *root = registry_root();

	for (size_t i = 0; i < n; i++) {
		struct registry_entry e;
		int r;

		v[i].owner[0] = '\0';
		v[i].owner_unreadable = false;
		if (!v[i].fabrics)
			continue;
		r = registry_entry_get(root, v[i].name, &e);
		if (r > 0)
			(void)strscpy_checked(v[i].owner, sizeof(v[i].owner), e.owner);
		else if (r < 0) {
			log_debug_errno(r, "Cannot read the registry entry of %s: %m", v[i].name);
			v[i].owner_unreadable = true;
		} else if (nbft_host_claims(&v[i].tid))
			/* a boot path the firmware named: like another owner's, entry or not */
			(void)strscpy_checked(v[i].owner, sizeof(v[i].owner), REGISTRY_OWNER_NBFT);
	}
}

/* The host's exclusion list, read at most once per batch (see nqn_plan()). */
struct batch_exclusions {
	bool loaded;
	struct exclusions *excl;
};

/*
 * Gather for @nqn and plan against the kernel's controllers @ctrls. The
 * exclusion list is read by the first plan of the batch that has wanted
 * paths and shared by the rest (the batch runs under its locks, as one
 * run: the list as it is at its start).
 */
static int nqn_plan(struct cache *c, const struct stas_config *cfg, const char *nqn,
		    const struct kctrl *ctrls, size_t n_ctrls, struct batch_exclusions *bx,
		    struct reconcile_plan **ret)
{
	_cleanup_free_ struct reconcile_want *wants = NULL;
	_cleanup_free_ struct cache_path *records = NULL;
	struct reconcile_policy policy;
	int n_wants, n_records = 0, r;

	n_wants = reconcile_wants_gather(c, cfg, nqn, &wants);
	if (n_wants < 0)
		return n_wants;
	if (c) {
		n_records = reconcile_records_gather(c, nqn, &records);
		if (n_records < 0)
			return n_records;
	}

	reconcile_policy_from_config(cfg, &policy);
	/* The exclusion list as it is now, once for the whole run. */
	if (n_wants > 0) {
		if (!bx->loaded) {
			r = exclusions_load(registry_root(), &bx->excl);
			if (r < 0)
				return r;
			bx->loaded = true;
		}
		policy.exclusions = bx->excl;
	}
	for (int i = 0; i < n_wants; i++)
		if (!isempty(wants[i].tid.host_iface)) {
			const struct kernel_ifaddr *ifa;
			int n = kernel_iface_addrs(&ifa);

			if (n < 0)
				log_debug_errno(n, "Cannot list the interface addresses: %m");
			else {
				policy.ifaddrs = ifa;
				policy.n_ifaddrs = (size_t)n;
			}
			break;
		}
	for (int i = 0; i < n_wants; i++)
		if (wants[i].tls_required || wants[i].opts.tls) {
			policy.tls_supported = kernel_fabrics_has_option("tls");
			if (policy.tls_supported > 0)
				policy.tlshd_running = kernel_tlshd_running();
			break;
		}

	return reconcile_plan_build(nqn, wants, (size_t)n_wants, ctrls, n_ctrls, records,
				    (size_t)n_records, &policy, ret);
}

static int result_cmp(const void *a, const void *b)
{
	const struct reconcile_result *const *x = a, *const *y = b;

	return strcmp((*x)->nqn, (*y)->nqn);
}

/* The I/O controllers of the batch @v's subsystems, one scan. */
static int batch_scan(struct reconcile_result **v, size_t n, struct kctrl **ret)
{
	_cleanup_hashset_free_ struct hashset *set = NULL;
	int r;

	r = hashset_new(&set);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = hashset_put(set, v[i]->nqn, NULL, NULL);
		if (r < 0)
			return r;
	}
	return kernel_ctrls_scan_nqns(set, ret);
}

/*
 * One batch of reconcile_nqns(): @v holds up to RECONCILE_BATCH_MAX results,
 * sorted by NQN, each NQN once. Locks are taken in that order, so two
 * batches that share NQNs cannot deadlock (and a single-NQN run takes one).
 */
static void batch_run(struct cache *c, const struct stas_config *cfg, struct reconcile_result **v,
		      size_t n, bool dry_run)
{
	_cleanup_free_ struct reconcile_plan **plans = NULL;
	_cleanup_free_ struct kctrl *ctrls = NULL;
	_cleanup_free_ const char **lock_nqns = NULL;
	_cleanup_close_ int lock_fd = -1;
	struct batch_exclusions bx = {};
	size_t n_plans = 0, n_lock = 0;
	int n_ctrls, r;

	plans = calloc(n + 1, sizeof(*plans));
	lock_nqns = calloc(n + 1, sizeof(*lock_nqns));
	if (!plans || !lock_nqns) {
		for (size_t i = 0; i < n; i++)
			v[i]->r = -ENOMEM;
		return;
	}
	/* The whole gather-plan-execute runs under the locks: one instance per NQN. */
	for (size_t i = 0; i < n; i++)
		if (!dry_run && v[i]->r == 0)
			lock_nqns[n_lock++] = v[i]->nqn;
	if (n_lock > 0) {
		r = reconcile_lock_many(lock_nqns, n_lock, c ? cache_dir(c) : NULL, &lock_fd);
		if (r < 0)
			for (size_t i = 0; i < n; i++)
				if (v[i]->r == 0)
					v[i]->r = r;
	}

	/*
	 * One scan for the whole batch, under its locks: a plan never sees
	 * another NQN's controllers change, so one view serves every plan, and
	 * connects do not call for a rescan. Only the batch's own controllers
	 * are read in full; the others cost one attribute each.
	 */
	if (n == 1)
		n_ctrls = kernel_ctrls_scan(v[0]->nqn, false, false, &ctrls);
	else
		n_ctrls = batch_scan(v, n, &ctrls);
	/* One registry read per controller of the view. */
	if (n_ctrls > 0)
		reconcile_ctrls_fill_owner(ctrls, (size_t)n_ctrls);
	for (size_t i = 0; i < n; i++) {
		if (v[i]->r < 0)
			continue;
		if (n_ctrls < 0) {
			v[i]->r = n_ctrls;
			continue;
		}
		r = nqn_plan(c, cfg, v[i]->nqn, ctrls, (size_t)n_ctrls, &bx, &v[i]->plan);
		if (r < 0)
			v[i]->r = r;
		else
			plans[n_plans++] = v[i]->plan;
	}

	if (!dry_run && n_plans > 0) {
		r = plans_execute(plans, n_plans, c);
		for (size_t i = 0; i < n; i++)
			if (v[i]->plan)
				v[i]->r = r < 0 ? r : (int)v[i]->plan->n_failed;
	}
	exclusions_free(bx.excl);
}

int reconcile_nqns(struct cache *c, const struct stas_config *cfg, struct reconcile_result *v,
		   size_t n, bool dry_run)
{
	_cleanup_free_ struct reconcile_result **order = NULL;
	size_t n_order = 0;

	assert(v || n == 0);
	for (size_t i = 0; i < n; i++)
		assert(v[i].nqn);

	order = calloc(n + 1, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i].plan = NULL;
		v[i].r = nqn_is_valid(v[i].nqn) ? 0 : -EINVAL;
		order[n_order++] = &v[i];
	}
	qsort(order, n_order, sizeof(*order), result_cmp);
	/* The same NQN twice: reconciled once, the copy says so. */
	for (size_t i = 1; i < n_order; i++)
		if (streq(order[i]->nqn, order[i - 1]->nqn))
			order[i]->r = -EEXIST;
	for (size_t i = 0, j = 0; i < n_order; i = j) {
		size_t k = 0;
		struct reconcile_result *batch[RECONCILE_BATCH_MAX];

		for (j = i; j < n_order && k < RECONCILE_BATCH_MAX; j++)
			if (order[j]->r != -EEXIST)
				batch[k++] = order[j];
		batch_run(c, cfg, batch, k, dry_run);
	}
	return 0;
}

int reconcile_nqn(struct cache *c, const struct stas_config *cfg, const char *nqn, bool dry_run,
		  struct reconcile_plan **ret_plan)
{
	struct reconcile_result res = { .nqn = nqn };

	assert(nqn);
	assert(ret_plan);

	(void)reconcile_nqns(c, cfg, &res, 1, dry_run);
	if (!res.plan)
		return res.r < 0 ? res.r : -EIO;
	*ret_plan = res.plan;
	return res.r;
}

/* ------------------------------------------------------------ all NQNs */

struct nqn_set {
	char **v;
	size_t n, alloc;
	struct hashset *seen; /* membership; @v keeps the list */
};

static int nqn_set_add(struct nqn_set *s, const char *nqn)
{
	char *d;
	int r;

	if (isempty(nqn) || streq(nqn, NVME_DISC_SUBSYS_NQN))
		return 0;
	r = hashset_put(s->seen, nqn, NULL, NULL);
	if (r <= 0)
		return r;
	if (s->n + 1 >= s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 16;
		char **p = reallocarray(s->v, na, sizeof(char *));
		if (!p)
			return -ENOMEM;
		s->v = p;
		s->alloc = na;
	}
	d = strdup(nqn);
	if (!d)
		return -ENOMEM;
	s->v[s->n++] = d;
	s->v[s->n] = NULL;
	return 0;
}

static int nqn_cb(const char *nqn, unsigned n, void *userdata)
{
	(void)n;
	return nqn_set_add(userdata, nqn);
}

static int stas_path_cb(const struct cache_path *p, void *userdata)
{
	if (p->owner != CACHE_PATH_OWNER_STAS)
		return 0;
	return nqn_set_add(userdata, p->tid.subsysnqn);
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int reconcile_nqns_all(struct cache *c, const struct stas_config *cfg, char ***ret)
{
	struct nqn_set s = {};
	_cleanup_hashset_free_ struct hashset *seen = NULL;
	int r;

	assert(ret);

	r = hashset_new(&seen);
	if (r < 0)
		return r;
	s.seen = seen;
	if (c) {
		r = cache_nqns_foreach(c, nqn_cb, &s);
		if (r >= 0)
			r = cache_path_foreach(c, NULL, stas_path_cb, &s);
	}
	if (r >= 0 && cfg) {
		const struct config_section *sec = config_section(cfg, CONFIG_ROLE_IO);
		for (size_t i = 0; r >= 0 && i < sec->n_controllers; i++)
			r = nqn_set_add(&s, sec->controllers[i].tid.subsysnqn);
	}
	if (r < 0) {
		strv_free(s.v);
		return r;
	}
	if (!s.v) {
		s.v = calloc(1, sizeof(char *));
		if (!s.v)
			return -ENOMEM;
	}
	qsort(s.v, s.n, sizeof(char *), strcmp_ptr);
	*ret = s.v;
	return (int)s.n;
}
