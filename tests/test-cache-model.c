/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-cache-model - thousands of random DLP puts, purges, errors and path
 * updates, each checked against a simple in-memory model; the whole cache is
 * compared with the model and verified every so often. Seeded and
 * reproducible: TEST_SEED=<n> replays a run.
 */
#include <errno.h>
#include <stdlib.h>

#include "cache.h"
#include "macro.h"
#include "tap.h"
#include "cache-test-util.h"

#define N_DC 8
#define N_NQN 12
#define N_PORT 6
#define MAX_PAGE 16
#define N_PATH 24
#define STEPS 4000
#define CHECK_EVERY 250

struct model_dc {
	bool present, stale;
	uint64_t genctr;
	size_t n;
	struct dlpe e[MAX_PAGE];
};

struct model_path {
	bool present;
	enum cache_path_state state;
	uint32_t attempts;
};

static struct model_dc m_dc[N_DC];
static struct model_path m_path[N_PATH];
static unsigned failures;

static void check(int cond, const char *what, unsigned step)
{
	if (!cond) {
		if (failures < 20)
			diag("step %u: %s", step, what);
		failures++;
	}
}

static void path_tid(unsigned i, struct tid *ret)
{
	struct dlpe e;
	struct cache_dc dc;

	test_dc(0, &dc);
	test_entry(i % N_NQN, i, &e);
	dlpe_to_tid(&e, &dc.tid, ret);
}

static void random_page(struct dlpe *e, size_t *ret_n)
{
	size_t n = (size_t)rand() % (MAX_PAGE + 1);

	for (size_t i = 0; i < n; i++) {
		if (rand() % 8 == 0)
			test_referral((unsigned)rand() % 4, &e[i]);
		else
			test_entry((unsigned)rand() % N_NQN, (unsigned)rand() % N_PORT, &e[i]);
	}
	*ret_n = n;
}

/* Model of what changed for one NQN / the referrals (multiset comparison). */
static bool nqn_entries_equal(const struct model_dc *a, const struct dlpe *b, size_t nb,
			      const char *nqn)
{
	bool used[MAX_PAGE] = {};
	size_t ca = 0, cb = 0;

	for (size_t i = 0; i < nb; i++)
		if (b[i].subtype == DLPE_SUBTYPE_NVME && streq(b[i].subnqn, nqn))
			cb++;
	for (size_t i = 0; i < a->n; i++) {
		if (a->e[i].subtype != DLPE_SUBTYPE_NVME || !streq(a->e[i].subnqn, nqn))
			continue;
		ca++;
		bool found = false;
		for (size_t j = 0; j < nb && !found; j++)
			if (!used[j] && dlpe_equal(&a->e[i], &b[j])) {
				used[j] = true;
				found = true;
			}
		if (!found)
			return false;
	}
	return ca == cb;
}

static bool lists(const struct dlpe *e, size_t n, const char *nqn)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].subtype == DLPE_SUBTYPE_NVME && streq(e[i].subnqn, nqn))
			return true;
	return false;
}

/* Any origin: the cache creates a missing DC only for config, manual and udev. */
static bool random_origin(struct cache_dc *dc)
{
	dc->origin = (enum cache_origin)(rand() % _CACHE_ORIGIN_MAX);
	return dc->origin == CACHE_ORIGIN_CONFIG || dc->origin == CACHE_ORIGIN_MANUAL ||
	       dc->origin == CACHE_ORIGIN_UDEV;
}

static void step_dlp_put(struct cache *c, unsigned step)
{
	unsigned d = (unsigned)rand() % N_DC;
	struct model_dc *m = &m_dc[d];
	struct cache_dc dc;
	struct dlpe e[MAX_PAGE];
	struct cache_dlp_change ch = {};
	size_t n;
	uint64_t genctr;
	bool changed;
	int r;

	test_dc(d, &dc);
	/* often repeat the current page: the "nothing changed" path */
	if (m->present && rand() % 3 == 0) {
		memcpy(e, m->e, sizeof(e));
		n = m->n;
		genctr = rand() % 2 ? m->genctr : m->genctr + 1;
	} else {
		random_page(e, &n);
		genctr = (uint64_t)rand() % 5;
	}
	changed = !m->present || m->genctr != genctr || m->n != n;
	for (size_t i = 0; !changed && i < n; i++)
		changed = !dlpe_equal(&m->e[i], &e[i]);

	if (!random_origin(&dc) && !m->present) {
		check(cache_dlp_put(c, &dc, e, n, genctr, &ch) == -ENOENT,
		      "dlp_put of a purged mdns/referral DC", step);
		check(!ch.nqns_added && !ch.n_referrals_added, "...reports no change", step);
		return;
	}
	r = cache_dlp_put(c, &dc, e, n, genctr, &ch);
	check(r == (changed ? 1 : 0), "dlp_put return value", step);

	char nqn[TID_NQN_MAX + 1];
	for (unsigned s = 0; s < N_NQN; s++) {
		snprintf(nqn, sizeof(nqn), "nqn.2024-01.io.test:sub%u", s);
		bool before = m->present && lists(m->e, m->n, nqn), after = lists(e, n, nqn);
		bool added = !before && after, removed = before && !after;
		bool chg = before && after && !nqn_entries_equal(m, e, n, nqn);
		check(strv_contains(ch.nqns_added, nqn) == added, "nqns_added", step);
		check(strv_contains(ch.nqns_removed, nqn) == removed, "nqns_removed", step);
		check(strv_contains(ch.nqns_changed, nqn) == chg, "nqns_changed", step);
	}
	/* referrals: net count change */
	long before = 0, after = 0;
	for (size_t i = 0; m->present && i < m->n; i++)
		before += m->e[i].subtype == DLPE_SUBTYPE_REFERRAL;
	for (size_t i = 0; i < n; i++)
		after += e[i].subtype == DLPE_SUBTYPE_REFERRAL;
	if (changed)
		check(after - before == (long)ch.n_referrals_added - (long)ch.n_referrals_removed,
		      "referral change counts", step);
	cache_dlp_change_free(&ch);

	m->present = true;
	m->stale = false;
	m->genctr = genctr;
	m->n = n;
	memcpy(m->e, e, sizeof(e));
}

static void step_purge(struct cache *c, unsigned step)
{
	unsigned d = (unsigned)rand() % N_DC;
	struct cache_dc dc;

	test_dc(d, &dc);
	check(cache_dc_purge(c, &dc.tid) == (m_dc[d].present ? 1 : 0), "purge return", step);
	m_dc[d].present = false;
}

static void step_error(struct cache *c, unsigned step)
{
	unsigned d = (unsigned)rand() % N_DC;
	struct cache_dc dc;
	bool creates;

	test_dc(d, &dc);
	creates = random_origin(&dc);
	check(cache_dc_set_error(c, &dc, ETIMEDOUT, "timeout") ==
		      (m_dc[d].present || creates ? 1 : -ENOENT),
	      "set_error return", step);
	if (!m_dc[d].present && creates)
		m_dc[d] = (struct model_dc){ .present = true };
	if (m_dc[d].present)
		m_dc[d].stale = true;
}

static void step_path(struct cache *c, unsigned step)
{
	unsigned i = (unsigned)rand() % N_PATH;
	struct cache_path p = {};

	path_tid(i, &p.tid);
	if (rand() % 4 == 0) {
		check(cache_path_remove(c, &p.tid) == (m_path[i].present ? 1 : 0), "path_remove",
		      step);
		m_path[i].present = false;
		return;
	}
	p.state = (enum cache_path_state)(rand() % _CACHE_PATH_STATE_MAX);
	p.attempts = (uint32_t)rand() % 10;
	check(cache_path_put(c, &p) == 1, "path_put", step);
	m_path[i] = (struct model_path){ true, p.state, p.attempts };
}

struct nqn_count {
	char nqn[TID_NQN_MAX + 1];
	unsigned n;
};

static int count_entries_cb(const struct cache_dc *dc, const struct dlpe *e, uint32_t index,
			    void *ud)
{
	unsigned *cnt = ud;
	int d = -1;

	for (unsigned k = 0; k < N_DC; k++) {
		struct cache_dc t;
		test_dc(k, &t);
		if (tid_equal(&t.tid, &dc->tid))
			d = (int)k;
	}
	/* the entry must be exactly the model's entry at that index */
	if (d < 0 || index >= m_dc[d].n || !dlpe_equal(&m_dc[d].e[index], e))
		cnt[1]++;
	cnt[0]++;
	return 0;
}

static int nqns_cb(const char *nqn, unsigned n, void *ud)
{
	unsigned *total = ud;
	unsigned want = 0;

	for (unsigned d = 0; d < N_DC; d++)
		for (size_t i = 0; m_dc[d].present && i < m_dc[d].n; i++)
			want += m_dc[d].e[i].subtype == DLPE_SUBTYPE_NVME &&
				streq(m_dc[d].e[i].subnqn, nqn);
	if (want != n)
		total[1]++;
	total[0]++;
	return 0;
}

static int path_cb(const struct cache_path *p, void *ud)
{
	unsigned *cnt = ud;
	bool found = false;

	for (unsigned i = 0; i < N_PATH; i++) {
		struct tid t;
		path_tid(i, &t);
		if (tid_equal(&t, &p->tid)) {
			found = m_path[i].present && m_path[i].state == p->state &&
				m_path[i].attempts == p->attempts;
		}
	}
	cnt[0]++;
	if (!found)
		cnt[1]++;
	return 0;
}

static void report_cb(const char *problem, void *ud)
{
	(void)ud;
	diag("verify: %s", problem);
}

static void check_all(struct cache *c, unsigned step)
{
	unsigned n_present = 0, distinct = 0;

	for (unsigned d = 0; d < N_DC; d++) {
		struct cache_dc dc, got;
		struct dlpe *e = NULL;
		size_t n = 0;
		int r;

		test_dc(d, &dc);
		r = cache_dc_get(c, &dc.tid, &got);
		check(r == (m_dc[d].present ? 1 : 0), "dc presence", step);
		if (!m_dc[d].present)
			continue;
		n_present++;
		check(got.genctr == m_dc[d].genctr && got.n_entries == m_dc[d].n &&
			      got.stale == m_dc[d].stale,
		      "dc record", step);
		r = cache_dlp_get(c, &dc.tid, &e, &n);
		check(r == 1 && n == m_dc[d].n, "page size", step);
		for (size_t i = 0; r == 1 && i < n && i < m_dc[d].n; i++)
			check(dlpe_equal(&e[i], &m_dc[d].e[i]), "page entry", step);
		free(e);
	}
	for (unsigned s = 0; s < N_NQN; s++) {
		char nqn[TID_NQN_MAX + 1];
		unsigned cnt[2] = {}, want = 0;
		snprintf(nqn, sizeof(nqn), "nqn.2024-01.io.test:sub%u", s);
		for (unsigned d = 0; d < N_DC; d++)
			for (size_t i = 0; m_dc[d].present && i < m_dc[d].n; i++)
				want += m_dc[d].e[i].subtype == DLPE_SUBTYPE_NVME &&
					streq(m_dc[d].e[i].subnqn, nqn);
		distinct += want > 0;
		check(cache_entries_foreach_nqn(c, nqn, count_entries_cb, cnt) == 0, "foreach_nqn",
		      step);
		check(cnt[0] == want && cnt[1] == 0, "entries by NQN match the model", step);
	}
	unsigned tot[2] = {};
	cache_nqns_foreach(c, nqns_cb, tot);
	check(tot[0] == distinct && tot[1] == 0, "nqns_foreach matches the model", step);

	unsigned pc[2] = {}, want_paths = 0;
	for (unsigned i = 0; i < N_PATH; i++)
		want_paths += m_path[i].present;
	cache_path_foreach(c, NULL, path_cb, pc);
	check(pc[0] == want_paths && pc[1] == 0, "paths match the model", step);

	struct cache_stats st;
	check(cache_stats(c, &st) == 0 && st.n_dcs == n_present, "stats", step);
	check(cache_verify(c, report_cb, NULL) == 0, "verify clean", step);
}

int main(void)
{
	const char *seed_env = getenv("TEST_SEED");
	unsigned seed = seed_env ? (unsigned)strtoul(seed_env, NULL, 0) : 20240601;
	char *dir = tmpdir_new(), *dir2 = tmpdir_new();
	struct cache *c = NULL, *c2 = NULL;

	diag("seed %u (replay with TEST_SEED=%u)", seed, seed);
	srand(seed);
	if (cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &c) < 0)
		return 1;

	for (unsigned step = 1; step <= STEPS; step++) {
		int op = rand() % 100;
		if (op < 55)
			step_dlp_put(c, step);
		else if (op < 63)
			step_purge(c, step);
		else if (op < 70)
			step_error(c, step);
		else
			step_path(c, step);
		if (step % CHECK_EVERY == 0) {
			unsigned before = failures;
			check_all(c, step);
			ok(failures == before, "state after %u steps matches the model", step);
		}
	}
	ok(failures == 0, "%d steps, %u mismatches", STEPS, failures);

	/* and the final state survives export + import into a fresh cache */
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	ok(cache_export(c, f, NULL) > 0, "export");
	fclose(f);
	cache_free(c);
	cache_open(dir2, CACHE_RDWR | CACHE_NOSYNC, &c2);
	f = fmemopen(buf, size, "r");
	struct cache_import_summary s;
	is_int(cache_import(c2, f, false, &s), 1, "import into a fresh cache");
	fclose(f);
	free(buf);
	unsigned before = failures;
	check_all(c2, STEPS + 1);
	ok(failures == before, "the imported cache matches the model");
	cache_free(c2);
	tmpdir_rm(dir);
	tmpdir_rm(dir2);
	return tap_done();
}
