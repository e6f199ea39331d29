/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status.c - see status.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "conf.h"
#include "hostid.h"
#include "kernel.h"
#include "macro.h"
#include "reconcile.h"
#include "status.h"
#include "strv.h"

const char *status_dc_state(const struct cache_dc *dc)
{
	if (!dc->stale && dc->last_errno == 0)
		return "ok";
	return dc->last_read_usec ? "stale" : "error";
}

int status_dc_list(struct cache *c, struct cache_dc **ret, size_t *ret_n)
{
	if (c)
		return cache_dc_list(c, ret, ret_n);
	*ret = NULL;
	*ret_n = 0;
	return 0;
}

struct subsys_vec {
	struct status_subsys *v;
	size_t n, alloc;
};

static int subsys_add(struct subsys_vec *l, const char *nqn, unsigned wanted)
{
	if (GREEDY_REALLOC(l->v, l->alloc, l->n) < 0)
		return -ENOMEM;
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	(void)snprintf(l->v[l->n].nqn, sizeof(l->v[l->n].nqn), "%s", nqn);
	l->v[l->n++].wanted = wanted;
	return 0;
}

static int subsys_cb(const char *nqn, unsigned n, void *ud)
{
	return subsys_add(ud, nqn, n);
}

/* Usable controllers of @nqn the kernel has now. */
static int live_paths(const char *nqn)
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

/* Wanted paths of @nqn as stas-connect would plan them; -1 when it cannot plan. */
static int wanted_paths(struct cache *c, const struct stas_config *cfg, const char *nqn)
{
	_cleanup_reconcile_plan_ struct reconcile_plan *plan = NULL;
	int wanted = 0;

	if (reconcile_nqn(c, cfg, nqn, true, &plan) < 0)
		return -1;
	for (size_t i = 0; i < plan->n_items; i++)
		wanted += plan->items[i].wanted;
	return wanted;
}

static int subsystems_collect(struct cache *c, const struct stas_config *cfg, struct subsys_vec *l)
{
	_cleanup_strv_free_ char **nqns = NULL;
	int r;

	r = cache_nqns_foreach(c, subsys_cb, l);
	if (r < 0)
		return r;
	/* With a valid configuration: the NQNs stas-connect --all would visit,
	 * configured ones and those with stas-owned paths too. */
	if (cfg && reconcile_nqns_all(c, cfg, &nqns) >= 0) {
		l->n = 0;
		STRV_FOREACH(q, nqns) {
			int w = wanted_paths(c, cfg, *q);
			r = subsys_add(l, *q, w < 0 ? 0 : (unsigned)w);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/*
 * The identity in *@value (the default file's, replaced by the
 * configuration's when valid) and where it came from in *@ret_source.
 * Return: 0 or -ENOMEM.
 */
static int identity_resolve(const struct stas_config *cfg, bool nqn, char **value, int file_error,
			    char **ret_source)
{
	const char *def = nqn ? HOSTNQN_PATH : HOSTID_PATH, *key = nqn ? "host.nqn" : "host.id";
	const char *spec = cfg ? (nqn ? cfg->host.nqn_spec : cfg->host.id_spec) : NULL;
	const char *v = cfg ? (nqn ? cfg->host.nqn : cfg->host.id) : *value;
	const char *path = spec ? str_startswith(spec, "file://") : NULL;
	char *copy = NULL;
	int r;

	if (!cfg)
		r = asprintf(ret_source, "%s (the configuration has errors)", def);
	else if (path && streq(path, def))
		r = asprintf(ret_source, "%s%s", def,
			     v					  ? "" :
			     file_error == -ENOENT || !file_error ? ", missing" :
								    ", unreadable");
	else if (path)
		r = asprintf(ret_source, "%s (stas.conf %s, overrides %s)", path, key, def);
	else
		r = asprintf(ret_source, "stas.conf %s (overrides %s)", key, def);
	if (r < 0)
		return -ENOMEM;
	if (v && v != *value && !(copy = strdup(v)))
		return -ENOMEM;
	if (v != *value) {
		free(*value);
		*value = copy;
	}
	return 0;
}

int status_collect(struct cache *c, const char *cache_dir, const char *config_path,
		   struct status **ret)
{
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	struct subsys_vec subs = {};
	struct status *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->config_path = strdup(config_path ?: CONFIG_FILE_DEFAULT);
	s->cache_dir = strdup(cache_dir ?: cache_default_dir());
	if (!s->config_path || !s->cache_dir) {
		status_free(s);
		return -ENOMEM;
	}

	s->hostnqn_error = hostid_read_file(HOSTNQN_PATH, &s->hostnqn);
	s->hostid_error = hostid_read_file(HOSTID_PATH, &s->hostid);
	s->config_exists = access(s->config_path, F_OK) == 0;
	r = config_load(config_path, &cfg, &s->config_errors);
	s->config_valid = r >= 0;
	if (r == -ENOMEM ||
	    identity_resolve(s->config_valid ? cfg : NULL, true, &s->hostnqn, s->hostnqn_error,
			     &s->hostnqn_source) < 0 ||
	    identity_resolve(s->config_valid ? cfg : NULL, false, &s->hostid, s->hostid_error,
			     &s->hostid_source) < 0) {
		status_free(s);
		return -ENOMEM;
	}

	s->cache_exists = c != NULL;
	if (c) {
		r = cache_stats(c, &s->stats);
		if (r >= 0)
			r = status_dc_list(c, &s->dcs, &s->n_dcs);
		if (r >= 0)
			r = subsystems_collect(c, cfg, &subs);
		/* A corrupt record a listing skipped must not pass as a healthy cache. */
		if (r >= 0 && cache_verify(c, NULL, NULL) != 0)
			r = -EBADMSG;
		s->cache_error = MIN(r, 0);
		if (r == -ENOMEM) {
			free(subs.v);
			status_free(s);
			return r;
		}
	}
	for (size_t i = 0; i < subs.n; i++)
		subs.v[i].live = live_paths(subs.v[i].nqn);
	s->subsystems = subs.v;
	s->n_subsystems = subs.n;
	*ret = s;
	return 0;
}

struct status *status_free(struct status *s)
{
	if (!s)
		return NULL;
	free(s->hostnqn);
	free(s->hostid);
	free(s->hostnqn_source);
	free(s->hostid_source);
	free(s->config_path);
	strv_free(s->config_errors);
	free(s->cache_dir);
	free(s->dcs);
	free(s->subsystems);
	free(s);
	return NULL;
}
