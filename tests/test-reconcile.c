/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-reconcile - the connect planner over many cases (no kernel), and
 * gathering/executing against a temporary cache, a configuration string and
 * a fake sysfs tree ($STAS_SYSFS_ROOT).
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "conf.h"
#include "dlpe.h"
#include "exclusions.h"
#include "fileio.h"
#include "kernel.h"
#include "macro.h"
#include "reconcile.h"
#include "registry.h"
#include "tap.h"
#include "tid.h"

#define NQN_A "nqn.2024-01.io.stas:sub-a"
#define NQN_B "nqn.2024-01.io.stas:sub-b"
#define HOST1 "nqn.2014-08.org.nvmexpress:uuid:11111111-1111-1111-1111-111111111111"
#define HOST2 "nqn.2014-08.org.nvmexpress:uuid:22222222-2222-2222-2222-222222222222"

static struct tid mk_tid(const char *traddr, const char *trsvcid, const char *nqn,
			 const char *host_iface, const char *hostnqn)
{
	struct tid t = {};

	strcpy(t.transport, "tcp");
	strcpy(t.traddr, traddr);
	strcpy(t.trsvcid, trsvcid);
	strcpy(t.subsysnqn, nqn);
	strcpy(t.host_iface, strempty(host_iface));
	strcpy(t.host_nqn, strempty(hostnqn));
	if (tid_canonicalize(&t) < 0) {
		fprintf(stderr, "bad test tid %s\n", traddr);
		abort();
	}
	return t;
}

static struct reconcile_want mk_want(struct tid t, bool ncc, bool tls, const char *src)
{
	struct reconcile_want w = { .tid = t, .ncc = ncc, .tls_required = tls };

	w.sources = RECONCILE_SOURCE_DLP;
	snprintf(w.source, sizeof(w.source), "%s", src);
	return w;
}

static struct kctrl mk_ctrl(const char *name, struct tid t, const char *state)
{
	struct kctrl k = { .tid = t, .fabrics = true, .kato = -1 };

	strcpy(k.name, name);
	strcpy(k.state, state);
	return k;
}

static struct cache_path mk_rec(struct tid t, enum cache_path_owner owner,
				enum cache_path_state state, unsigned attempts, bool ncc,
				const char *device)
{
	struct cache_path p = { .tid = t, .owner = owner, .state = state, .attempts = attempts };

	p.ncc = ncc;
	strcpy(p.device, strempty(device));
	return p;
}

static struct reconcile_policy policy_default(void)
{
	struct reconcile_policy p;

	reconcile_policy_from_config(NULL, &p);
	return p;
}

static const struct reconcile_item *find(const struct reconcile_plan *p, const struct tid *t)
{
	for (size_t i = 0; i < p->n_items; i++)
		if (tid_equal(&p->items[i].tid, t))
			return &p->items[i];
	return NULL;
}

static struct reconcile_plan *plan(const struct reconcile_want *w, size_t nw, const struct kctrl *k,
				   size_t nk, const struct cache_path *r, size_t nr,
				   const struct reconcile_policy *po)
{
	struct reconcile_plan *p = NULL;
	int e = reconcile_plan_build(NQN_A, w, nw, k, nk, r, nr, po, &p);

	if (e < 0 || !p) {
		fprintf(stderr, "plan_build failed: %d\n", e);
		abort();
	}
	return p;
}

static int action_of(const struct reconcile_plan *p, const struct tid *t)
{
	const struct reconcile_item *it = find(p, t);
	return it ? (int)it->action : -1;
}

static bool reason_has(const struct reconcile_plan *p, const struct tid *t, const char *s)
{
	const struct reconcile_item *it = find(p, t);
	bool r = it && strstr(it->reason, s);

	if (!r)
		diag("  reason: \"%s\" lacks \"%s\"", it ? it->reason : "(no item)", s);
	return r;
}

static void test_basic(void)
{
	struct reconcile_policy po = policy_default();
	struct tid a = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST1);
	struct tid b = mk_tid("10.0.0.2", "4420", NQN_A, NULL, HOST1);
	struct reconcile_want w[2] = { mk_want(a, false, false, "dc1"),
				       mk_want(b, false, false, "dc1") };
	struct kctrl k[1] = { mk_ctrl("nvme1", b, "live") };
	struct cache_path r[1];
	struct reconcile_plan *p;
	const struct reconcile_item *it;

	p = plan(w, 2, k, 1, NULL, 0, &po);
	is_int(p->n_items, 2, "missing + present: two items");
	is_int(action_of(p, &a), RECONCILE_CONNECT, "missing path: connect");
	is_int(action_of(p, &b), RECONCILE_KEEP, "present path: keep");
	it = find(p, &b);
	ok(it && streq(it->ctrl, "nvme1") && it->record_put &&
		   it->new_record.owner == CACHE_PATH_OWNER_OTHER &&
		   it->new_record.state == CACHE_PATH_CONNECTED &&
		   streq(it->new_record.device, "nvme1"),
	   "present path without a record is recorded owner=other, connected, nvme1");
	it = find(p, &a);
	ok(it && it->wanted && it->new_record.owner == CACHE_PATH_OWNER_STAS &&
		   it->new_record.attempts == 0,
	   "connect intent: owner stas, 0 attempts so far");
	is_int(p->n[RECONCILE_CONNECT], 1, "count: 1 connect");
	is_int(p->n[RECONCILE_KEEP], 1, "count: 1 keep");
	is_int(p->n_record_writes, 1, "one record write planned (the keep's record)");
	reconcile_plan_free(p);

	/* Up to date: nothing to write. */
	r[0] = mk_rec(b, CACHE_PATH_OWNER_STAS, CACHE_PATH_CONNECTED, 0, false, "nvme1");
	p = plan(&w[1], 1, k, 1, r, 1, &po);
	it = find(p, &b);
	ok(it && it->action == RECONCILE_KEEP && !it->record_put && p->n_record_writes == 0,
	   "keep with an up-to-date record plans no write (idempotent)");
	reconcile_plan_free(p);

	/* Record with another device (reconnected under a new name) is refreshed, owner kept. */
	r[0] = mk_rec(b, CACHE_PATH_OWNER_STAS, CACHE_PATH_CONNECTING, 0, false, "");
	p = plan(&w[1], 1, k, 1, r, 1, &po);
	it = find(p, &b);
	ok(it && it->record_put && it->new_record.owner == CACHE_PATH_OWNER_STAS &&
		   it->new_record.state == CACHE_PATH_CONNECTED,
	   "keep after a kill mid-connect: record becomes connected, still owner stas");
	reconcile_plan_free(p);

	/* "connecting" counts as present; "dead" does not. */
	k[0] = mk_ctrl("nvme1", b, "connecting");
	p = plan(&w[1], 1, k, 1, NULL, 0, &po);
	is_int(action_of(p, &b), RECONCILE_KEEP, "a connecting controller counts as present");
	reconcile_plan_free(p);
	k[0] = mk_ctrl("nvme1", b, "dead");
	p = plan(&w[1], 1, k, 1, NULL, 0, &po);
	ok(p->n[RECONCILE_CONNECT] == 1 && p->n[RECONCILE_SKIP] == 1,
	   "a dead controller does not count: connect, and the dead one (not ours) is skipped");
	reconcile_plan_free(p);
}

static void test_stale(void)
{
	struct tid a = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST1);
	struct tid rd = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST1);
	struct kctrl k[1] = { mk_ctrl("nvme2", a, "live") };
	struct cache_path stas =
		mk_rec(a, CACHE_PATH_OWNER_STAS, CACHE_PATH_CONNECTED, 0, false, "nvme2");
	struct cache_path other =
		mk_rec(a, CACHE_PATH_OWNER_OTHER, CACHE_PATH_CONNECTED, 0, false, "nvme2");
	struct reconcile_policy po = policy_default();
	struct reconcile_plan *p;
	const struct reconcile_item *it;

	strcpy(rd.transport, "rdma");

	/* only-stas-connections (default) */
	p = plan(NULL, 0, k, 1, &stas, 1, &po);
	it = find(p, &a);
	ok(it && it->action == RECONCILE_DISCONNECT && streq(it->ctrl, "nvme2") && it->have_record,
	   "only-stas: stale stas-owned controller is disconnected");
	reconcile_plan_free(p);
	p = plan(NULL, 0, k, 1, &other, 1, &po);
	is_int(action_of(p, &a), RECONCILE_SKIP, "only-stas: stale owner=other is left alone");
	ok(reason_has(p, &a, "not connected by stas"), "only-stas: reason says not ours");
	reconcile_plan_free(p);
	p = plan(NULL, 0, k, 1, NULL, 0, &po);
	is_int(action_of(p, &a), RECONCILE_SKIP, "only-stas: stale, no record: left alone");
	ok(p->n_record_writes == 0, "only-stas: nothing recorded for another tool's controller");
	reconcile_plan_free(p);

	/* all-connections-matching-disconnect-trtypes */
	po.disconnect_scope = CONFIG_DISCONNECT_ALL_MATCHING_TRTYPES;
	po.disconnect_trtypes = CONFIG_TRTYPE_TCP;
	p = plan(NULL, 0, k, 1, NULL, 0, &po);
	is_int(action_of(p, &a), RECONCILE_DISCONNECT,
	       "all-matching tcp: another tool's tcp controller is disconnected");
	reconcile_plan_free(p);
	p = plan(NULL, 0, k, 1, &stas, 1, &po);
	is_int(action_of(p, &a), RECONCILE_DISCONNECT, "all-matching tcp: stas's too");
	reconcile_plan_free(p);
	po.disconnect_trtypes = CONFIG_TRTYPE_RDMA;
	p = plan(NULL, 0, k, 1, &stas, 1, &po);
	is_int(action_of(p, &a), RECONCILE_SKIP, "all-matching rdma only: a tcp one stays");
	ok(reason_has(p, &a, "not in disconnect-trtypes"), "all-matching: reason names trtypes");
	reconcile_plan_free(p);

	/* no-disconnect */
	po.disconnect_scope = CONFIG_DISCONNECT_NONE;
	p = plan(NULL, 0, k, 1, &stas, 1, &po);
	is_int(action_of(p, &a), RECONCILE_SKIP, "no-disconnect: even stas's own stays");
	ok(reason_has(p, &a, "no-disconnect"), "no-disconnect: reason");
	ok(p->n_record_writes == 0, "no-disconnect: the record is kept as is");
	reconcile_plan_free(p);

	/* Never: discovery controllers, PCIe, other NQNs, controllers being deleted. */
	po = policy_default();
	po.disconnect_scope = CONFIG_DISCONNECT_ALL_MATCHING_TRTYPES;
	po.disconnect_trtypes = CONFIG_TRTYPE_TCP | CONFIG_TRTYPE_RDMA | CONFIG_TRTYPE_FC;
	{
		struct kctrl ks[4];
		struct tid b = mk_tid("10.0.0.9", "4420", NQN_B, NULL, HOST1);

		ks[0] = mk_ctrl("nvme3", a, "live");
		ks[0].discovery = true; /* a unique-NQN DC claiming this NQN */
		ks[1] = mk_ctrl("nvme4", a, "live");
		ks[1].fabrics = false;
		ks[2] = mk_ctrl("nvme5", b, "live");
		ks[3] = mk_ctrl("nvme6", rd, "deleting");
		p = plan(NULL, 0, ks, 4, NULL, 0, &po);
		ok(p->n[RECONCILE_DISCONNECT] == 0,
		   "discovery, PCIe and other NQNs' controllers are never disconnected");
		ok(!find(p, &b) && !find(p, &a), "they are not even in the plan");
		ok(reason_has(p, &rd, "being deleted"), "a controller being deleted is skipped");
		reconcile_plan_free(p);
	}

	/* Forget: a record with no controller and no wanted path. */
	po = policy_default();
	p = plan(NULL, 0, NULL, 0, &stas, 1, &po);
	ok(action_of(p, &a) == RECONCILE_FORGET && p->n_record_writes == 1,
	   "a record of a gone, unwanted path is forgotten");
	reconcile_plan_free(p);
}

static void test_filters(void)
{
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	struct reconcile_policy po;
	struct tid a = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST1);
	struct tid x = mk_tid("10.9.0.1", "4420", NQN_A, NULL, HOST1);
	struct tid v6 = mk_tid("fd00::1", "4420", NQN_A, NULL, HOST1);
	struct tid nohost = mk_tid("10.0.0.3", "4420", NQN_A, NULL, NULL);
	struct reconcile_want w[4] = { mk_want(a, false, false, "dc"),
				       mk_want(x, false, false, "dc"),
				       mk_want(v6, false, false, "dc"),
				       mk_want(nohost, false, false, "dc") };
	struct kctrl k[1] = { mk_ctrl("nvme7", x, "live") };
	struct cache_path r[1] = { mk_rec(x, CACHE_PATH_OWNER_STAS, CACHE_PATH_CONNECTED, 0, false,
					  "nvme7") };
	struct reconcile_plan *p;
	int e;

	e = config_load_string("io = {\n"
			       "  exclude = ( { traddr = \"10.9.0.0/16\"; } );\n"
			       "  ip-family = \"ipv4\";\n"
			       "};\n",
			       "filters.conf", &cfg, &errors);
	if (!is_int(e, 0, "filter config loads"))
		STRV_FOREACH(s, errors)
			diag("%s", *s);
	if (!cfg)
		return;
	reconcile_policy_from_config(cfg, &po);
	is_int(po.ip_family, CONFIG_IP_FAMILY_IPV4, "policy: ip-family from io section");

	p = plan(w, 4, NULL, 0, NULL, 0, &po);
	is_int(action_of(p, &a), RECONCILE_CONNECT, "not excluded: connect");
	is_int(action_of(p, &x), RECONCILE_SKIP, "excluded: skip");
	ok(reason_has(p, &x, "excluded"), "excluded: reason");
	is_int(action_of(p, &v6), RECONCILE_SKIP, "ip-family ipv4: IPv6 path skipped");
	ok(reason_has(p, &v6, "ip-family"), "ip-family: reason");
	is_int(action_of(p, &nohost), RECONCILE_SKIP, "no host NQN: skipped");
	ok(reason_has(p, &nohost, "host NQN"), "no host NQN: reason");
	reconcile_plan_free(p);

	/* An excluded path stas had connected: disconnected, reason says excluded. */
	p = plan(w, 2, k, 1, r, 1, &po);
	is_int(action_of(p, &x), RECONCILE_DISCONNECT, "excluded and stas-owned: disconnected");
	ok(reason_has(p, &x, "excluded"), "excluded disconnect: reason");
	reconcile_plan_free(p);

	/* Excluded, no controller, a stale record: the record goes. */
	r[0].state = CACHE_PATH_FAILED;
	p = plan(w, 2, NULL, 0, r, 1, &po);
	ok(action_of(p, &x) == RECONCILE_SKIP && find(p, &x)->record_remove,
	   "excluded, no controller: skip and drop the record");
	reconcile_plan_free(p);
}

static void test_ignore_iface(void)
{
	struct reconcile_policy po = policy_default();
	struct tid wi = mk_tid("10.0.0.1", "4420", NQN_A, "eth0", HOST1);
	struct tid ni = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST1);
	struct reconcile_want w[1] = { mk_want(wi, false, false, "dc") };
	struct kctrl k[1] = { mk_ctrl("nvme1", ni, "live") };
	struct reconcile_plan *p;

	p = plan(w, 1, k, 1, NULL, 0, &po);
	ok(action_of(p, &wi) == RECONCILE_CONNECT && action_of(p, &ni) == RECONCILE_SKIP,
	   "host-iface is part of identity: connect via eth0, leave the other one");
	reconcile_plan_free(p);
	po.ignore_iface = true;
	p = plan(w, 1, k, 1, NULL, 0, &po);
	ok(action_of(p, &ni) == RECONCILE_KEEP && !find(p, &wi) && p->n_items == 1,
	   "ignore-iface: host-iface dropped, the existing controller matches");
	reconcile_plan_free(p);
}

static void test_ncc(void)
{
	struct reconcile_policy po = policy_default();
	struct tid a = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST1);
	struct reconcile_want w[1] = { mk_want(a, true, false, "dc") };
	struct cache_path r[1] = { mk_rec(a, CACHE_PATH_OWNER_STAS, CACHE_PATH_FAILED, 3, true,
					  "") };
	struct kctrl k[1] = { mk_ctrl("nvme1", a, "live") };
	struct reconcile_plan *p;
	const struct reconcile_item *it;

	po.connect_attempts_on_ncc = 3;
	p = plan(w, 1, NULL, 0, r, 1, &po);
	is_int(action_of(p, &a), RECONCILE_SKIP, "NCC, 3 attempts of 3: stop trying");
	ok(reason_has(p, &a, "NCC"), "NCC stop: reason");
	ok(p->n_record_writes == 0, "NCC stop writes nothing (idempotent)");
	reconcile_plan_free(p);

	r[0].attempts = 2;
	p = plan(w, 1, NULL, 0, r, 1, &po);
	it = find(p, &a);
	ok(it && it->action == RECONCILE_CONNECT && it->new_record.attempts == 2,
	   "NCC, 2 attempts of 3: try again (attempts carried)");
	reconcile_plan_free(p);

	po.connect_attempts_on_ncc = 0;
	r[0].attempts = 50;
	p = plan(w, 1, NULL, 0, r, 1, &po);
	is_int(action_of(p, &a), RECONCILE_CONNECT, "connect-attempts-on-ncc 0: never stop");
	reconcile_plan_free(p);

	/* Resume: a later page cleared NCC. */
	po.connect_attempts_on_ncc = 3;
	w[0].ncc = false;
	r[0].attempts = 7;
	p = plan(w, 1, NULL, 0, r, 1, &po);
	it = find(p, &a);
	ok(it && it->action == RECONCILE_CONNECT && it->new_record.attempts == 0 &&
		   !it->new_record.ncc,
	   "NCC cleared: connect again with attempts reset");
	ok(reason_has(p, &a, "NCC cleared"), "NCC cleared: reason");
	reconcile_plan_free(p);

	/* NCC with the path up: keep; attempts go back to 0. */
	w[0].ncc = true;
	p = plan(w, 1, k, 1, r, 1, &po);
	it = find(p, &a);
	ok(it && it->action == RECONCILE_KEEP && it->record_put && it->new_record.attempts == 0 &&
		   it->new_record.ncc,
	   "NCC but live: keep, record connected");
	reconcile_plan_free(p);
}

static void test_treq_and_dupes(void)
{
	struct reconcile_policy po = policy_default();
	struct tid a = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST1);
	struct tid a2 = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST2);
	struct reconcile_want w[4];
	struct kctrl k[1] = { mk_ctrl("nvme1", a, "live") };
	struct reconcile_plan *p;
	const struct reconcile_item *it;

	w[0] = mk_want(a, false, true, "dc1");
	p = plan(w, 1, NULL, 0, NULL, 0, &po);
	is_int(action_of(p, &a), RECONCILE_SKIP, "TLS required, no kernel TLS: skip");
	ok(reason_has(p, &a, "TLS"), "TLS: reason names TLS");
	ok(reason_has(p, &a, "does not offer"), "TLS: reason says the kernel lacks it");
	reconcile_plan_free(p);
	po.tls_supported = 1;
	p = plan(w, 1, NULL, 0, NULL, 0, &po);
	ok(action_of(p, &a) == RECONCILE_SKIP && reason_has(p, &a, "tlshd"),
	   "TLS required, kernel TLS, no tlshd: skip, the reason names tlshd");
	reconcile_plan_free(p);
	po.tlshd_running = 1;
	p = plan(w, 1, NULL, 0, NULL, 0, &po);
	it = find(p, &a);
	ok(action_of(p, &a) == RECONCILE_CONNECT && it && it->opts.tls,
	   "TLS required, kernel TLS and tlshd: connect with tls");
	reconcile_plan_free(p);
	w[1] = mk_want(a, false, false, "dc1");
	p = plan(&w[1], 1, NULL, 0, NULL, 0, &po);
	it = find(p, &a);
	ok(action_of(p, &a) == RECONCILE_CONNECT && it && !it->opts.tls,
	   "TLS not required: connect without tls");
	reconcile_plan_free(p);
	p = plan(w, 1, k, 1, NULL, 0, &po);
	is_int(action_of(p, &a), RECONCILE_KEEP, "TLS required but already connected: keep");
	reconcile_plan_free(p);

	/* tls = true configured (the path's entry or a DC's io-defaults), not required */
	w[1] = mk_want(a, false, false, "stas.conf:7");
	w[1].opts.tls = true;
	p = plan(&w[1], 1, NULL, 0, NULL, 0, &po);
	it = find(p, &a);
	ok(action_of(p, &a) == RECONCILE_CONNECT && it && it->opts.tls,
	   "tls = true, kernel TLS and tlshd: connect with tls");
	reconcile_plan_free(p);
	po.tlshd_running = 0;
	p = plan(&w[1], 1, NULL, 0, NULL, 0, &po);
	ok(action_of(p, &a) == RECONCILE_SKIP && reason_has(p, &a, "tls = true is configured") &&
		   reason_has(p, &a, "tlshd"),
	   "tls = true, no tlshd: skip, the reason names the setting and tlshd");
	reconcile_plan_free(p);
	po.tls_supported = 0;
	p = plan(&w[1], 1, NULL, 0, NULL, 0, &po);
	ok(action_of(p, &a) == RECONCILE_SKIP && reason_has(p, &a, "does not offer"),
	   "tls = true, no kernel TLS: skip, the kernel lacks it");
	reconcile_plan_free(p);
	{
		struct tid r = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST1);
		struct reconcile_want wr;

		strcpy(r.transport, "rdma");
		wr = mk_want(r, false, false, "stas.conf:9");
		wr.opts.tls = true;
		po.tls_supported = po.tlshd_running = 1;
		p = plan(&wr, 1, NULL, 0, NULL, 0, &po);
		ok(action_of(p, &r) == RECONCILE_SKIP && reason_has(p, &r, "only for tcp"),
		   "tls = true on rdma: skip, TLS exists only for tcp");
		reconcile_plan_free(p);
	}
	/* merged: one source configures tls, the other does not */
	w[2] = mk_want(a, false, false, "dc1");
	w[3] = w[1];
	p = plan(&w[2], 2, NULL, 0, NULL, 0, &po);
	it = find(p, &a);
	ok(it && it->action == RECONCILE_CONNECT && it->opts.tls,
	   "a duplicate with tls = true: the merged path uses tls");
	reconcile_plan_free(p);

	/* Duplicates: same path from two DCs and the config. */
	po = policy_default();
	w[0] = mk_want(a, true, false, "dc1");
	w[1] = mk_want(a, false, false, "dc2");
	w[1].opts.disable_sqflow = true;
	w[2] = mk_want(a, true, false, "stas.conf:3");
	w[2].sources = RECONCILE_SOURCE_CONFIG;
	w[3] = mk_want(a2, false, false, "dc1");
	p = plan(w, 4, NULL, 0, NULL, 0, &po);
	is_int(p->n_items, 2, "duplicates merged: 2 distinct paths (host NQN differs)");
	it = find(p, &a);
	ok(it && it->sources == (RECONCILE_SOURCE_DLP | RECONCILE_SOURCE_CONFIG), "merged sources");
	ok(it && !it->ncc, "NCC only when every source says so");
	ok(it && it->opts.disable_sqflow, "disable-sqflow OR'ed over sources");
	ok(it && streq(it->source, "dc1"), "first source named");
	is_int(p->n[RECONCILE_CONNECT], 2, "two connects");
	reconcile_plan_free(p);
}

/* ------------------------------------------------------- with a cache */

static char *tmp_dir(void)
{
	char *d = strdup("/tmp/test-reconcile-XXXXXX");

	if (!d || !mkdtemp(d))
		abort();
	return d;
}

static void rm_rf(const char *d)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	(void)!system(cmd);
}

static void write_attr(const char *dir, const char *name, const char *value)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "we");
	if (!f)
		abort();
	fprintf(f, "%s\n", value);
	fclose(f);
}

/* A controller in the fake sysfs tree under @root. */
static void fake_ctrl(const char *root, const char *name, const char *nqn, const char *address,
		      const char *state, const char *hostnqn, const char *cntrltype)
{
	char d[1024];

	snprintf(d, sizeof(d), "%s/class/nvme/%s", root, name);
	if (mkdir(d, 0755) < 0)
		abort();
	write_attr(d, "subsysnqn", nqn);
	write_attr(d, "transport", "tcp");
	write_attr(d, "address", address);
	write_attr(d, "state", state);
	write_attr(d, "hostnqn", hostnqn);
	write_attr(d, "cntrltype", cntrltype);
	write_attr(d, "delete_controller", "");
}

static bool ctrl_deleted(const char *root, const char *name)
{
	char p[1024], buf[16] = "";
	FILE *f;

	snprintf(p, sizeof(p), "%s/class/nvme/%s/delete_controller", root, name);
	f = fopen(p, "re");
	if (!f)
		return false;
	(void)!fgets(buf, sizeof(buf), f);
	fclose(f);
	return buf[0] == '1';
}

static struct dlpe mk_entry(const char *traddr, const char *nqn, uint8_t subtype, uint8_t treq,
			    uint16_t eflags)
{
	struct dlpe e = {};

	e.trtype = 3;
	e.adrfam = strchr(traddr, ':') ? 2 : 1;
	e.subtype = subtype;
	e.treq = treq;
	e.eflags = eflags;
	e.cntlid = 0xffff;
	e.asqsz = 32;
	strcpy(e.transport, "tcp");
	strcpy(e.traddr, traddr);
	strcpy(e.trsvcid, subtype == DLPE_SUBTYPE_REFERRAL ? "8009" : "4420");
	strcpy(e.subnqn, nqn);
	return e;
}

static int count_paths_cb(const struct cache_path *p, void *userdata)
{
	(void)p;
	(*(int *)userdata)++;
	return 0;
}

static int count_paths(struct cache *c, const char *nqn)
{
	int n = 0;

	if (cache_path_foreach(c, nqn, count_paths_cb, &n) < 0)
		return -1;
	return n;
}

static void put_file(const char *dir, const char *rel, const char *text);

/*
 * 1 when another open file holds a lock on byte @offset of the file open as
 * @fd (a taker there would wait), 0 when it is free, -1 on error.
 */
static int range_held(int fd, uint64_t offset)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = (off_t)offset,
		.l_len = 1,
	};

	if (fd < 0 || fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -1;
	return fl.l_type != F_UNLCK;
}

static void test_with_cache(void)
{
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	_cleanup_strv_free_ char **errors = NULL, **all = NULL;
	_cleanup_free_ struct reconcile_want *wants = NULL;
	_cleanup_free_ char *dir = tmp_dir();
	struct cache *c = NULL;
	struct cache_dc dc1 = {}, dc2 = {};
	struct dlpe e1[5], e2[1];
	char cdir[300], sys[300], rt[300], fab[300], conf[2048];
	struct reconcile_plan *p = NULL;
	struct cache_path rec;
	struct tid t1 = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST1);
	struct tid t3 = mk_tid("10.0.0.3", "4420", NQN_A, NULL, HOST1);
	struct tid t7 = mk_tid("10.0.0.7", "4420", NQN_A, NULL, HOST1);
	int n, r;

	snprintf(cdir, sizeof(cdir), "%s/cache", dir);
	snprintf(sys, sizeof(sys), "%s/sys", dir);
	snprintf(rt, sizeof(rt), "%s/run", dir);
	snprintf(fab, sizeof(fab), "%s/nvme-fabrics", dir);
	mkdir(sys, 0755);
	mkdir(rt, 0755);
	snprintf(conf, sizeof(conf), "%s/sys/class", dir);
	mkdir(conf, 0755);
	snprintf(conf, sizeof(conf), "%s/sys/class/nvme", dir);
	mkdir(conf, 0755);
	setenv("STAS_SYSFS_ROOT", sys, 1);
	setenv("RUNTIME_DIRECTORY", rt, 1);
	/* No /dev/nvme-fabrics: every connect fails (no kernel here). */
	setenv("STAS_NVME_FABRICS", fab, 1);

	snprintf(
		conf, sizeof(conf),
		"host = { nqn = \"%s\"; };\n"
		"io = {\n"
		"  connect-attempts-on-ncc = 2;\n"
		"  kato = 7;\n"
		"  controllers = (\n"
		"    { transport = \"tcp\"; traddr = \"10.0.0.1\"; nqn = \"%s\"; queue-size = 64; },\n"
		"    { transport = \"tcp\"; traddr = \"10.0.0.50\"; nqn = \"%s\"; }\n"
		"  );\n"
		"  exclude = ( { traddr = \"10.0.0.99\"; } );\n"
		"};\n",
		HOST1, NQN_A, NQN_A);
	r = config_load_string(conf, "test.conf", &cfg, &errors);
	if (!is_int(r, 0, "cache test config loads")) {
		STRV_FOREACH(s, errors)
			diag("%s", *s);
		return;
	}

	is_int(cache_open(cdir, CACHE_RDWR | CACHE_NOSYNC, &c), 0, "temp cache");
	if (!c)
		return;

	/* DC1 (no host NQN of its own): A at .1 (also configured), A at .2 with sqflow, A at .3
	 * with NCC, A at .99 (excluded), B at .1. DC2 with host NQN 2: A at .1. */
	strcpy(dc1.tid.transport, "tcp");
	strcpy(dc1.tid.traddr, "10.0.0.100");
	strcpy(dc1.tid.trsvcid, "8009");
	strcpy(dc1.tid.subsysnqn, NVME_DISC_SUBSYS_NQN);
	dc2 = dc1;
	strcpy(dc2.tid.traddr, "10.0.0.101");
	strcpy(dc2.tid.host_nqn, HOST2);
	e1[0] = mk_entry("10.0.0.1", NQN_A, DLPE_SUBTYPE_NVME, DLPE_TREQ_NOT_SPECIFIED, 0);
	e1[1] = mk_entry("10.0.0.2", NQN_A, DLPE_SUBTYPE_NVME,
			 DLPE_TREQ_NOT_REQUIRED | DLPE_TREQ_DISABLE_SQFLOW, 0);
	e1[2] = mk_entry("10.0.0.3", NQN_A, DLPE_SUBTYPE_NVME, 0, DLPE_EFLAG_NCC);
	e1[3] = mk_entry("10.0.0.99", NQN_A, DLPE_SUBTYPE_NVME, 0, 0);
	e1[4] = mk_entry("10.0.0.1", NQN_B, DLPE_SUBTYPE_NVME, DLPE_TREQ_REQUIRED, 0);
	e2[0] = mk_entry("10.0.0.1", NQN_A, DLPE_SUBTYPE_NVME, 0, 0);
	is_int(cache_dlp_put(c, &dc1, e1, 5, 1, NULL), 1, "DC1's page stored");
	is_int(cache_dlp_put(c, &dc2, e2, 1, 1, NULL), 1, "DC2's page stored");

	/* Gathering. */
	n = reconcile_wants_gather(c, cfg, NQN_A, &wants);
	is_int(n, 7, "gather: 5 entries for A + 2 configured controllers");
	if (n == 7) {
		struct tid t1h2 = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST2);
		struct tid t2 = mk_tid("10.0.0.2", "4420", NQN_A, NULL, HOST1);
		int seen = 0;

		for (int i = 0; i < n; i++) {
			const struct reconcile_want *w = &wants[i];

			if (tid_equal(&w->tid, &t1) && w->sources == RECONCILE_SOURCE_DLP) {
				seen |= 1;
				ok(w->opts.queue_size == 64 && w->opts.kato == 7,
				   "gather: a DLP path takes its configured controller's options");
				ok(!w->opts.disable_sqflow && !w->tls_required && !w->ncc,
				   "gather: plain entry");
			} else if (tid_equal(&w->tid, &t1h2)) {
				seen |= 2;
			} else if (tid_equal(&w->tid, &t2)) {
				seen |= 4;
				ok(w->opts.disable_sqflow && w->opts.queue_size == 0 &&
					   w->opts.kato == 7,
				   "gather: treq sqflow bit sets disable-sqflow; io section kato");
				ok(strstr(w->source, "10.0.0.100") != NULL,
				   "gather: source names the DC");
			} else if (tid_equal(&w->tid, &t3)) {
				seen |= 8;
				ok(w->ncc, "gather: NCC from eflags");
			} else if (w->sources == RECONCILE_SOURCE_CONFIG) {
				seen |= 16;
				ok(streq(w->tid.host_nqn, HOST1),
				   "gather: configured path gets the host NQN");
				ok(strstr(w->source, "test.conf:") != NULL,
				   "gather: configured path names file:line");
			}
		}
		is_int(seen, 31, "gather: every kind of path seen");
		ok(streq(wants[0].tid.host_nqn, HOST1), "gather: empty DC host NQN -> configured");
	}

	/* The TLS-required entry of B. */
	{
		_cleanup_free_ struct reconcile_want *wb = NULL;
		n = reconcile_wants_gather(c, cfg, NQN_B, &wb);
		ok(n == 1 && wb[0].tls_required, "gather: treq required -> TLS needed");
	}

	/* --all: NQNs from pages and config. */
	n = reconcile_nqns_all(c, cfg, &all);
	ok(n == 2 && streq(all[0], NQN_A) && streq(all[1], NQN_B), "nqns_all: A and B, sorted");

	/* Kernel: A at .1 (host 1) live, made by someone else; a stale stas-owned A at .7. */
	fake_ctrl(sys, "nvme0", NQN_A, "traddr=10.0.0.1,trsvcid=4420,src_addr=10.0.0.200", "live",
		  HOST1, "io");
	fake_ctrl(sys, "nvme1", NQN_A, "traddr=10.0.0.7,trsvcid=4420", "live", HOST1, "io");
	fake_ctrl(sys, "nvme2", NVME_DISC_SUBSYS_NQN, "traddr=10.0.0.100,trsvcid=8009", "live",
		  HOST1, "discovery");
	rec = mk_rec(mk_tid("10.0.0.7", "4420", NQN_A, NULL, HOST1), CACHE_PATH_OWNER_STAS,
		     CACHE_PATH_CONNECTED, 0, false, "nvme1");
	is_int(cache_path_put(c, &rec), 1, "stale stas-owned record stored");

	r = reconcile_nqn(c, cfg, NQN_A, true, &p);
	is_int(r, 0, "dry run");
	if (p) {
		/* paths: .1/h1 keep, .1/h2 connect, .2 connect, .3 connect, .99 skip, .50 connect;
		 * nvme1 disconnect. */
		is_int(p->n[RECONCILE_KEEP], 1, "dry run: keep .1");
		is_int(p->n[RECONCILE_CONNECT], 4, "dry run: connect .1/host2, .2, .3, .50");
		is_int(p->n[RECONCILE_DISCONNECT], 1, "dry run: disconnect the stale stas one");
		is_int(p->n[RECONCILE_SKIP], 1, "dry run: skip the excluded one");
		ok(!ctrl_deleted(sys, "nvme1"), "dry run touched nothing");
	}
	p = reconcile_plan_free(p);
	is_int(count_paths(c, NQN_A), 1, "dry run wrote nothing");

	/* Execute: connects fail (no kernel), the disconnect goes to the fake sysfs. */
	r = reconcile_nqn(c, cfg, NQN_A, false, &p);
	is_int(r, 4, "run: 4 failed connects reported");
	if (p) {
		is_int(p->n_kernel_calls, 5, "run: 4 connects + 1 disconnect issued");
		ok(ctrl_deleted(sys, "nvme1"), "run: the stale stas-owned controller was deleted");
		ok(!ctrl_deleted(sys, "nvme0") && !ctrl_deleted(sys, "nvme2"),
		   "run: the others' and the DC untouched");
	}
	p = reconcile_plan_free(p);
	rec = (struct cache_path){};
	is_int(cache_path_get(c, &t7, &rec), 0, "run: the disconnected path's record is gone");
	is_int(cache_path_get(c, &t1, &rec), 1, "run: the kept path is recorded");
	ok(rec.owner == CACHE_PATH_OWNER_OTHER && rec.state == CACHE_PATH_CONNECTED &&
		   streq(rec.device, "nvme0"),
	   "run: ... owner other, connected, nvme0");
	is_int(cache_path_get(c, &t3, &rec), 1, "run: the failed path is recorded");
	ok(rec.owner == CACHE_PATH_OWNER_STAS && rec.state == CACHE_PATH_FAILED &&
		   rec.attempts == 1 && rec.ncc && rec.last_errno > 0 && !isempty(rec.last_error),
	   "run: ... owner stas, failed, 1 attempt, NCC, last error");

	/* Simulate the removal of the deleted controller. */
	{
		char d[700];
		snprintf(d, sizeof(d), "%s/class/nvme/nvme1", sys);
		rm_rf(d);
	}

	/* Second failure of the NCC path reaches connect-attempts-on-ncc = 2. */
	r = reconcile_nqn(c, cfg, NQN_A, false, &p);
	is_int(r, 4, "second run: 4 failed connects");
	p = reconcile_plan_free(p);
	r = reconcile_nqn(c, cfg, NQN_A, false, &p);
	ok(r == 3 && p && p->n[RECONCILE_SKIP] == 2, "third run: the NCC path is no longer tried");
	p = reconcile_plan_free(p);

	/* The page clears NCC: tried again from scratch. */
	e1[2].eflags = 0;
	is_int(cache_dlp_put(c, &dc1, e1, 5, 2, NULL), 1, "DC1's page without NCC");
	r = reconcile_nqn(c, cfg, NQN_A, true, &p);
	ok(p && find(p, &t3) && find(p, &t3)->action == RECONCILE_CONNECT,
	   "NCC cleared: the path is tried again");
	p = reconcile_plan_free(p);

	/* A batch: B, A and A again in one call; the copy is refused, each plan is as alone. */
	{
		struct reconcile_result v[3] = { { .nqn = NQN_B },
						 { .nqn = NQN_A },
						 { .nqn = NQN_A } };
		struct cache_path before, after;
		sigset_t term, old;
		int sig = 0;

		is_int(reconcile_nqns(c, cfg, v, 3, true), 0, "batch dry run");
		ok(v[0].plan && streq(v[0].plan->nqn, NQN_B) && v[0].r == 0 &&
			   v[0].plan->n[RECONCILE_SKIP] == 1,
		   "batch: B planned (its TLS path skipped), in the caller's order");
		ok(v[1].plan && streq(v[1].plan->nqn, NQN_A) && v[1].r == 0 &&
			   v[1].plan->n[RECONCILE_CONNECT] == 4 &&
			   v[1].plan->n[RECONCILE_KEEP] == 1,
		   "batch: A planned as alone (4 connects, 1 keep)");
		ok(!v[2].plan && v[2].r == -EEXIST, "batch: the second copy of A is refused");
		for (size_t i = 0; i < 3; i++)
			v[i].plan = reconcile_plan_free(v[i].plan);

		/* The host's exclusion list, read once for the batch, applies to every plan. */
		{
			char xroot[700];
			bool any_b = false, any_a = false;

			snprintf(xroot, sizeof(xroot), "%s/xroot", dir);
			put_file(xroot, "etc/nvme/exclusions.conf",
				 "[exclusions]\nexclusion = nqn=" NQN_A "\nexclusion = nqn=" NQN_B
				 "\n");
			setenv(REGISTRY_ROOT_ENV, xroot, 1);
			is_int(reconcile_nqns(c, cfg, v, 2, true), 0,
			       "batch dry run, both excluded");
			unsetenv(REGISTRY_ROOT_ENV);
			for (size_t i = 0; v[0].plan && i < v[0].plan->n_items; i++)
				any_b = any_b || v[0].plan->items[i].excluded;
			for (size_t i = 0; v[1].plan && i < v[1].plan->n_items; i++)
				any_a = any_a || v[1].plan->items[i].excluded;
			ok(any_b && any_a && v[1].plan->n[RECONCILE_CONNECT] == 0,
			   "batch: the one exclusion list serves both plans (B's and A's paths "
			   "excluded, nothing to connect)");
			for (size_t i = 0; i < 2; i++)
				v[i].plan = reconcile_plan_free(v[i].plan);
		}

		/* A stop request pending before the batch: no connect is made, records as before. */
		is_int(cache_path_get(c, &t3, &before), 1, "the NCC path's record before");
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_BLOCK, &term, &old);
		raise(SIGTERM);
		is_int(reconcile_nqns(c, cfg, v, 2, false), 0, "batch with SIGTERM pending");
		ok(v[1].plan && v[1].r == 4 && v[1].plan->n_kernel_calls == 0,
		   "stop requested: A's 4 connects not made, counted as failed");
		ok(v[1].plan && find(v[1].plan, &t3) && find(v[1].plan, &t3)->error == -EINTR,
		   "stop requested: the skipped connect says why");
		is_int(cache_path_get(c, &t3, &after), 1, "the NCC path's record after");
		ok(after.attempts == before.attempts && after.state == before.state,
		   "stop requested: the record is as it was (no attempt counted)");
		ok(sigwait(&term, &sig) == 0 && sig == SIGTERM,
		   "the stop request is still pending");
		sigprocmask(SIG_SETMASK, &old, NULL);
		for (size_t i = 0; i < 2; i++)
			v[i].plan = reconcile_plan_free(v[i].plan);

		/* The batch for real: the connects fail (no kernel), outcomes recorded. */
		is_int(reconcile_nqns(c, cfg, v, 2, false), 0, "batch run");
		ok(v[0].r == 0 && v[1].r == 4 && v[1].plan && v[1].plan->n_kernel_calls == 4,
		   "batch run: B nothing to do, A's 4 connects tried and failed");
		ok(cache_path_get(c, &t3, &after) == 1 && after.state == CACHE_PATH_FAILED &&
			   after.attempts == 1 && after.owner == CACHE_PATH_OWNER_STAS,
		   "batch run: the failed connect's outcome is recorded");
		for (size_t i = 0; i < 2; i++)
			v[i].plan = reconcile_plan_free(v[i].plan);
	}

	/* Idempotent: everything present and recorded -> no kernel call, no write. */
	{
		_cleanup_config_free_ struct stas_config *cfg2 = NULL;
		_cleanup_strv_free_ char **err2 = NULL;
		struct dlpe one = mk_entry("10.0.0.1", NQN_A, DLPE_SUBTYPE_NVME, 0, 0);
		struct cache_dc dc3 = dc1;
		char c2[512];

		snprintf(c2, sizeof(c2), "host = { nqn = \"%s\"; };\n", HOST1);
		is_int(config_load_string(c2, "plain.conf", &cfg2, &err2), 0, "plain config");
		is_int(cache_purge_all(c, true), 2, "cache purged");
		strcpy(dc3.tid.traddr, "10.0.0.102");
		is_int(cache_dlp_put(c, &dc3, &one, 1, 1, NULL), 1, "one-entry page");
		r = reconcile_nqn(c, cfg2, NQN_A, false, &p);
		ok(r == 0 && p && p->n[RECONCILE_KEEP] == 1 && p->n_cache_writes == 1 &&
			   p->n_kernel_calls == 0,
		   "first run: keep nvme0, one record write");
		p = reconcile_plan_free(p);
		r = reconcile_nqn(c, cfg2, NQN_A, false, &p);
		ok(r == 0 && p && p->n_items == 1 && p->n_cache_writes == 0 &&
			   p->n_kernel_calls == 0,
		   "second run: no kernel call, no cache write");
		p = reconcile_plan_free(p);

		/* The subsystem vanishes from every page: --all still visits it (stas path). */
		rec = mk_rec(mk_tid("10.0.0.8", "4420", NQN_B, NULL, HOST1), CACHE_PATH_OWNER_STAS,
			     CACHE_PATH_CONNECTED, 0, false, "nvme9");
		is_int(cache_path_put(c, &rec), 1, "a stas path of B");
		strv_free(all);
		all = NULL;
		n = reconcile_nqns_all(c, cfg2, &all);
		ok(n == 2 && streq(all[1], NQN_B), "nqns_all: B via its stas-owned record");
		r = reconcile_nqn(c, cfg2, NQN_B, false, &p);
		ok(r == 0 && p && p->n[RECONCILE_FORGET] == 1 && count_paths(c, NQN_B) == 0,
		   "B: gone from the kernel and the pages: record forgotten");
		p = reconcile_plan_free(p);
	}

	/* The locks: one file, one byte per NQN; held, a second taker would block. */
	{
		const char *both[] = { NQN_B, NQN_A, NQN_A };
		char path[700];
		int fd = -1, fd2;

		is_int(reconcile_lock(NQN_A, cdir, &fd), 0, "lock taken in $RUNTIME_DIRECTORY");
		snprintf(path, sizeof(path), "%s/" RECONCILE_LOCK_FILE, rt);
		fd2 = open(path, O_RDWR | O_CLOEXEC);
		ok(fd2 >= 0, "one lock file, " RECONCILE_LOCK_FILE);
		ok(reconcile_lock_offset(NQN_A) != reconcile_lock_offset(NQN_B) &&
			   reconcile_lock_offset(NQN_A) < (UINT64_C(1) << 62),
		   "A and B have their own bytes, below 2^62");
		is_int(range_held(fd2, reconcile_lock_offset(NQN_A)), 1,
		       "a second taker for A would wait");
		is_int(range_held(fd2, reconcile_lock_offset(NQN_B)), 0, "but not one for B");
		if (fd >= 0)
			close(fd);
		is_int(range_held(fd2, reconcile_lock_offset(NQN_A)), 0,
		       "closing the fd releases A's lock");

		/* A batch: every NQN's byte on one fd, a duplicate taken once. */
		fd = -1;
		is_int(reconcile_lock_many(both, 3, cdir, &fd), 0, "batch lock of B, A, A");
		is_int(range_held(fd2, reconcile_lock_offset(NQN_A)) +
			       range_held(fd2, reconcile_lock_offset(NQN_B)),
		       2, "  A and B both held by the batch");
		is_int(range_held(fd2, reconcile_lock_offset(NQN_A) + 1), 0,
		       "  the byte next to A is free (one byte per NQN)");
		if (fd >= 0)
			close(fd);
		is_int(range_held(fd2, reconcile_lock_offset(NQN_B)), 0, "  released on close");
		if (fd2 >= 0)
			close(fd2);
	}

	cache_free(c);
	rm_rf(dir);
}

static void put_file(const char *dir, const char *rel, const char *text)
{
	char path[600], parent[600];
	char *slash;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	*slash = '\0';
	(void)mkdir_p(parent, 0755);
	if (write_file_atomic(path, text, strlen(text), 0644) < 0)
		abort();
}

static bool file_has(const char *dir, const char *rel, const char *text)
{
	_cleanup_free_ char *buf = NULL;
	char path[600];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return read_full_file(path, 4096, &buf, &n) >= 0 && streq(buf, text);
}

/* Issue 14 in the planner: registry owners, the host's exclusion list, src_addr. */
static void test_neighbours_plan(void)
{
	_cleanup_free_ char *dir = tmp_dir();
	struct tid a = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST1);
	struct tid b = mk_tid("10.0.0.2", "4420", NQN_A, NULL, HOST1);
	struct tid a_eth1 = mk_tid("10.0.0.1", "4420", NQN_A, "eth1", HOST1);
	struct kctrl k = mk_ctrl("nvme2", a, "live");
	struct cache_path stas =
		mk_rec(a, CACHE_PATH_OWNER_STAS, CACHE_PATH_CONNECTED, 0, false, "nvme2");
	struct reconcile_policy po = policy_default();
	static const enum config_disconnect_scope scopes[] = {
		CONFIG_DISCONNECT_ONLY_STAS, CONFIG_DISCONNECT_ALL_MATCHING_TRTYPES,
		CONFIG_DISCONNECT_NONE
	};
	struct reconcile_plan *p;
	const struct reconcile_item *it;

	/* Another orchestrator's controller stays, whatever the scope, even with a stas record. */
	strcpy(k.owner, "nbft");
	for (size_t i = 0; i < ELEMENTSOF(scopes); i++) {
		po.disconnect_scope = scopes[i];
		po.disconnect_trtypes = CONFIG_TRTYPE_TCP;
		p = plan(NULL, 0, &k, 1, &stas, 1, &po);
		is_int(action_of(p, &a), RECONCILE_SKIP,
		       "registry owner nbft: never disconnected (scope %s)",
		       config_disconnect_scope_to_string(scopes[i]));
		if (scopes[i] != CONFIG_DISCONNECT_NONE)
			ok(reason_has(p, &a, "owned by nbft (registry)"),
			   "  reason names the owner");
		reconcile_plan_free(p);
	}
	k.owner[0] = '\0';
	k.owner_unreadable = true;
	po.disconnect_scope = CONFIG_DISCONNECT_ALL_MATCHING_TRTYPES;
	p = plan(NULL, 0, &k, 1, &stas, 1, &po);
	ok(action_of(p, &a) == RECONCILE_SKIP && reason_has(p, &a, "cannot be read"),
	   "an unreadable registry entry: not disconnected");
	reconcile_plan_free(p);
	k.owner_unreadable = false;

	/* Registry owner stas without a cache record: stas's. */
	strcpy(k.owner, REGISTRY_OWNER_STAS);
	po = policy_default();
	p = plan(NULL, 0, &k, 1, NULL, 0, &po);
	is_int(action_of(p, &a), RECONCILE_DISCONNECT,
	       "only-stas: registry owner stas without a record is stas's");
	reconcile_plan_free(p);

	/* Kept paths: cache and registry made to agree. */
	{
		struct reconcile_want w = mk_want(a, false, false, "dc");

		k.owner[0] = '\0';
		p = plan(&w, 1, &k, 1, &stas, 1, &po);
		it = find(p, &a);
		ok(it && it->action == RECONCILE_KEEP && it->registry_put && !it->record_put,
		   "keep, cache says stas, no registry entry: registered again");
		reconcile_plan_free(p);
		strcpy(k.owner, "nbft");
		p = plan(&w, 1, &k, 1, &stas, 1, &po);
		it = find(p, &a);
		ok(it && it->action == RECONCILE_KEEP && !it->registry_put && it->record_put &&
			   it->new_record.owner == CACHE_PATH_OWNER_OTHER,
		   "keep, registry owner nbft, cache says stas: recorded owner=other");
		reconcile_plan_free(p);
		strcpy(k.owner, REGISTRY_OWNER_STAS);
		p = plan(&w, 1, &k, 1, NULL, 0, &po);
		it = find(p, &a);
		ok(it && it->action == RECONCILE_KEEP && !it->registry_put &&
			   it->new_record.owner == CACHE_PATH_OWNER_STAS,
		   "keep, registry owner stas, no record: recorded owner=stas");
		reconcile_plan_free(p);
		k.owner[0] = '\0';
	}

	/* The host's exclusion list. */
	{
		_cleanup_exclusions_ struct exclusions *x = NULL;
		struct reconcile_want w[2] = { mk_want(a, false, false, "dc"),
					       mk_want(b, false, false, "dc") };
		struct kctrl kb = mk_ctrl("nvme5", b, "live");
		struct cache_path stas_b =
			mk_rec(b, CACHE_PATH_OWNER_STAS, CACHE_PATH_CONNECTED, 0, false, "nvme5");

		put_file(dir, "etc/nvme/exclusions.conf",
			 "# test\n[exclusions]\nexclusion = nqn=" NQN_A ";traddr=10.0.0.2\n");
		is_int(exclusions_load(dir, &x), 0, "exclusion list loaded");
		is_int((int)exclusions_loaded_count(x), 1, "  one file");
		po.exclusions = x;
		p = plan(w, 2, NULL, 0, NULL, 0, &po);
		it = find(p, &b);
		ok(action_of(p, &a) == RECONCILE_CONNECT && it && it->action == RECONCILE_SKIP &&
			   it->excluded && !it->wanted,
		   "excluded by the host list: skipped, the other path connected");
		ok(reason_has(p, &b, "/etc/nvme/exclusions.conf:3 (host exclusion list)"),
		   "  the reason names file:line");
		reconcile_plan_free(p);
		/* An existing stas controller of an excluded path is left connected. */
		p = plan(w, 2, &kb, 1, &stas_b, 1, &po);
		it = find(p, &b);
		ok(it && it->action == RECONCILE_SKIP && streq(it->ctrl, "nvme5") &&
			   p->n[RECONCILE_DISCONNECT] == 0 && reason_has(p, &b, "left connected"),
		   "excluded path with a stas controller: left connected, not torn down");
		reconcile_plan_free(p);
		po.exclusions = NULL;
	}

	/* src_addr: a host-iface path served by a controller made without host-iface. */
	{
		struct kernel_ifaddr ifa[2] = { { .iface = "eth1", .family = AF_INET },
						{ .iface = "eth2", .family = AF_INET } };
		struct reconcile_want w = mk_want(a_eth1, false, false, "dc");
		struct kctrl ks[2];

		inet_pton(AF_INET, "192.0.2.5", ifa[0].addr);
		inet_pton(AF_INET, "198.51.100.7", ifa[1].addr);
		po.ifaddrs = ifa;
		po.n_ifaddrs = 2;
		ks[0] = mk_ctrl("nvme1", a, "live");
		strcpy(ks[0].src_addr, "192.0.2.5");
		p = plan(&w, 1, ks, 1, NULL, 0, &po);
		it = find(p, &a_eth1);
		ok(it && it->action == RECONCILE_KEEP && streq(it->ctrl, "nvme1") &&
			   p->n[RECONCILE_CONNECT] == 0,
		   "host-iface eth1 wanted, nvme-cli's controller leaves through eth1: kept, "
		   "not connected twice");
		ok(reason_has(p, &a_eth1, "src_addr 192.0.2.5"), "  the reason says why");
		reconcile_plan_free(p);
		strcpy(ks[0].src_addr, "198.51.100.7");
		p = plan(&w, 1, ks, 1, NULL, 0, &po);
		ok(action_of(p, &a_eth1) == RECONCILE_CONNECT && action_of(p, &a) == RECONCILE_SKIP,
		   "leaves through eth2: another path, connected; the other tool's one left alone");
		reconcile_plan_free(p);
		ks[0].src_addr[0] = '\0';
		p = plan(&w, 1, ks, 1, NULL, 0, &po);
		is_int(action_of(p, &a_eth1), RECONCILE_CONNECT,
		       "no src_addr (kernel < 6.1): not assumed to match");
		reconcile_plan_free(p);

		/* Exact matches are claimed first: a path without host-iface does not take the
		 * controller made for the host-iface path. */
		{
			struct reconcile_want w2[2] = { mk_want(a, false, false, "dc"),
							mk_want(a_eth1, false, false, "dc") };

			ks[0] = mk_ctrl("nvme1", a_eth1, "live");
			strcpy(ks[0].src_addr, "192.0.2.5");
			p = plan(w2, 2, ks, 1, NULL, 0, &po);
			it = find(p, &a_eth1);
			ok(it && it->action == RECONCILE_KEEP && streq(it->ctrl, "nvme1") &&
				   action_of(p, &a) == RECONCILE_CONNECT,
			   "exact before src_addr: nvme1 stays the eth1 path's, the other connects");
			reconcile_plan_free(p);
			/* Alone, the path without host-iface is served by the eth1 controller. */
			p = plan(w2, 1, ks, 1, NULL, 0, &po);
			it = find(p, &a);
			ok(it && it->action == RECONCILE_KEEP && streq(it->ctrl, "nvme1") &&
				   reason_has(p, &a, "made with a host side this path leaves open"),
			   "a path without host-iface is served by a controller bound to one");
			reconcile_plan_free(p);
		}
		po.ifaddrs = NULL;
		po.n_ifaddrs = 0;
	}
	rm_rf(dir);
}

/* Issue 14 when executing: registry entries written and removed, a late owner respected. */
static void test_neighbours_execute(void)
{
	_cleanup_free_ char *dir = tmp_dir();
	struct tid a = mk_tid("10.0.0.1", "4420", NQN_A, NULL, HOST1);
	struct tid b = mk_tid("10.0.0.2", "4420", NQN_A, NULL, HOST1);
	struct tid c3 = mk_tid("10.0.0.3", "4420", NQN_A, NULL, HOST1);
	struct reconcile_want w = mk_want(c3, false, false, "dc");
	struct kctrl ks[3] = { mk_ctrl("nvme2", a, "live"), mk_ctrl("nvme3", b, "live"),
			       mk_ctrl("nvme4", c3, "live") };
	struct cache_path recs[3] = {
		mk_rec(a, CACHE_PATH_OWNER_STAS, CACHE_PATH_CONNECTED, 0, false, "nvme2"),
		mk_rec(b, CACHE_PATH_OWNER_STAS, CACHE_PATH_CONNECTED, 0, false, "nvme3"),
		mk_rec(c3, CACHE_PATH_OWNER_STAS, CACHE_PATH_CONNECTED, 0, false, "nvme4"),
	};
	struct reconcile_policy po = policy_default();
	struct reconcile_plan *p;
	struct registry_entry e;
	struct cache *c = NULL;
	char root[400], sys[400], cdir[400];

	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(sys, sizeof(sys), "%s/sys", dir);
	snprintf(cdir, sizeof(cdir), "%s/cache", dir);
	put_file(dir, "root/sys/kernel/uevent_seqnum", "100\n");
	put_file(dir, "sys/class/nvme/nvme2/delete_controller", "");
	put_file(dir, "sys/class/nvme/nvme3/delete_controller", "");
	setenv("STAS_SYSFS_ROOT", sys, 1);
	setenv(REGISTRY_ROOT_ENV, root, 1);
	is_int(registry_register(root, "nvme2", REGISTRY_OWNER_STAS, NULL), 0,
	       "nvme2 registered as stas's");
	is_int(cache_open(cdir, CACHE_RDWR | CACHE_NOSYNC, &c), 0, "temp cache");
	if (!c)
		goto out;
	for (size_t i = 0; i < 3; i++)
		(void)cache_path_put(c, &recs[i]);

	p = plan(&w, 1, ks, 3, recs, 3, &po);
	ok(action_of(p, &a) == RECONCILE_DISCONNECT && action_of(p, &b) == RECONCILE_DISCONNECT &&
		   action_of(p, &c3) == RECONCILE_KEEP,
	   "plan: disconnect nvme2 and nvme3 (stas's), keep nvme4");
	/* Another orchestrator takes nvme3 between the plan and its execution. */
	is_int(registry_register(root, "nvme3", "discoverd", NULL), 0,
	       "nvme3 registered by discoverd after the plan");
	is_int(reconcile_plan_execute(p, c), 0, "executed");
	ok(file_has(sys, "class/nvme/nvme2/delete_controller", "1") &&
		   registry_entry_get(root, "nvme2", &e) == 0,
	   "nvme2 disconnected, its registry entry removed");
	ok(file_has(sys, "class/nvme/nvme3/delete_controller", "") &&
		   registry_entry_get(root, "nvme3", &e) > 0 && streq(e.owner, "discoverd"),
	   "nvme3 not disconnected: discoverd's now, entry kept");
	ok(find(p, &b)->error == -EPERM && strstr(find(p, &b)->error_text, "another orchestrator"),
	   "  the item says why");
	ok(registry_entry_get(root, "nvme4", &e) > 0 && streq(e.owner, REGISTRY_OWNER_STAS) &&
		   e.seqnum == 100,
	   "kept nvme4, stas's in the cache: registered again, stamped");
	is_int((int)p->n_registry_writes, 2, "two registry writes (one removal, one entry)");
	reconcile_plan_free(p);
	cache_free(c);
out:
	unsetenv(REGISTRY_ROOT_ENV);
	unsetenv("STAS_SYSFS_ROOT");
	rm_rf(dir);
}

int main(void)
{
	test_basic();
	test_stale();
	test_filters();
	test_ignore_iface();
	test_ncc();
	test_treq_and_dupes();
	test_with_cache();
	test_neighbours_plan();
	test_neighbours_execute();
	return tap_done();
}
