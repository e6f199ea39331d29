/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cached-signal.c - change notification.
 *
 * The writers (stas-discover, stas-connect) call Notify(dc_keys, nqns) after
 * a commit that changed something (lib/cached-notify.c); the bus activates
 * stas-cached if needed. Notify() is root-only (bus policy, and checked here
 * against the caller's EUID). The service then re-reads the DCs and compares
 * each one's fingerprint (genctr, entry count, a hash of the entries) with
 * the previous read: a DC whose page really changed gets LogPagesChanged and
 * nvme-stas's log_pages_changed, a DC that vanished DCRemoved and
 * dc_removed. The first Notify() after activation has nothing earlier to
 * compare with (the service started after the write), so it trusts the DC
 * keys it names - the writers only name DCs whose page they changed. NQNs get
 * PathsChanged. A Notify() that changed nothing emits nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "cache.h"
#include "cached-notify.h"
#include "log.h"
#include "macro.h"
#include "stas-cached.h"
#include "strv.h"

void fps_free(struct dc_fp *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}

struct fp_vec {
	struct dc_fp *v;
	size_t n, alloc;
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int fp_entry_cb(const struct cache_dc *dc, const struct dlpe *e, uint32_t index, void *ud)
{
	struct dc_fp *fp = ud;

	/* field by field: struct padding is not part of an entry */
	fp->entries_hash = fnv1a(fp->entries_hash, &index, sizeof(index));
	fp->entries_hash = fnv1a(fp->entries_hash, &e->trtype, 4); /* trtype adrfam subtype treq */
	fp->entries_hash = fnv1a(fp->entries_hash, &e->portid, sizeof(e->portid));
	fp->entries_hash = fnv1a(fp->entries_hash, &e->cntlid, sizeof(e->cntlid));
	fp->entries_hash = fnv1a(fp->entries_hash, &e->asqsz, sizeof(e->asqsz));
	fp->entries_hash = fnv1a(fp->entries_hash, &e->eflags, sizeof(e->eflags));
	fp->entries_hash = fnv1a(fp->entries_hash, e->trsvcid, strlen(e->trsvcid) + 1);
	fp->entries_hash = fnv1a(fp->entries_hash, e->traddr, strlen(e->traddr) + 1);
	fp->entries_hash = fnv1a(fp->entries_hash, e->subnqn, strlen(e->subnqn) + 1);
	fp->entries_hash = fnv1a(fp->entries_hash, &e->tsas_sectype, 1);
	return 0;
}

static int fp_dc_cb(const struct cache_dc *dc, void *ud)
{
	struct fp_vec *l = ud;
	char key[TID_KEY_MAX];
	struct dc_fp *fp;

	if (tid_key(&dc->tid, key, sizeof(key)) < 0)
		return 0;
	if (GREEDY_REALLOC(l->v, l->alloc, l->n) < 0)
		return -ENOMEM;
	fp = &l->v[l->n];
	*fp = (struct dc_fp){
		.key = strdup(key),
		.tid = dc->tid,
		.genctr = dc->genctr,
		.n_entries = dc->n_entries,
		.entries_hash = 0xcbf29ce484222325ULL,
	};
	if (!fp->key)
		return -ENOMEM;
	memcpy(fp->device, dc->device, sizeof(fp->device));
	l->n++;
	return 0;
}

int fps_take(struct context *ctx, struct dc_fp **ret, size_t *ret_n)
{
	struct fp_vec l = {};
	struct cache *c;
	int r;

	r = context_cache(ctx, NULL, &c);
	if (r < 0)
		return r;
	if (c) {
		r = cache_dc_foreach(c, fp_dc_cb, &l);
		for (size_t i = 0; r >= 0 && i < l.n; i++) {
			r = cache_entries_foreach_dc(c, &l.v[i].tid, fp_entry_cb, &l.v[i]);
			if (r == -ENOENT) /* purged meanwhile: the next Notify() tells */
				r = 0;
		}
		if (r < 0) {
			fps_free(l.v, l.n);
			return r;
		}
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

static const struct dc_fp *fp_find(const struct dc_fp *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (streq(v[i].key, key))
			return &v[i];
	return NULL;
}

static bool fp_equal(const struct dc_fp *a, const struct dc_fp *b)
{
	return a->genctr == b->genctr && a->n_entries == b->n_entries &&
	       a->entries_hash == b->entries_hash;
}

static int emit_changed(struct context *ctx, const struct dc_fp *fp)
{
	const struct tid *t = &fp->tid;
	int r;

	log_debug("Log pages of %s changed.", fp->key);
	r = sd_bus_emit_signal(ctx->bus, CACHED_OBJECT_PATH, CACHED_INTERFACE, "LogPagesChanged",
			       "s", fp->key);
	if (r >= 0 && ctx->compat)
		r = sd_bus_emit_signal(ctx->bus, STAF_OBJECT_PATH, STAF_INTERFACE,
				       "log_pages_changed", "ssssssss", t->transport, t->traddr,
				       t->trsvcid, t->subsysnqn, t->host_traddr, t->host_iface,
				       isempty(t->host_nqn) ? strempty(ctx->hostnqn) : t->host_nqn,
				       fp->device);
	return r;
}

static int emit_removed(struct context *ctx, const char *key)
{
	int r;

	log_debug("DC %s removed.", key);
	r = sd_bus_emit_signal(ctx->bus, CACHED_OBJECT_PATH, CACHED_INTERFACE, "DCRemoved", "s",
			       key);
	if (r >= 0 && ctx->compat)
		r = sd_bus_emit_signal(ctx->bus, STAF_OBJECT_PATH, STAF_INTERFACE, "dc_removed",
				       "");
	return r;
}

static int check_root(sd_bus_message *m, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	uid_t uid;
	int r;

	r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
	if (r >= 0)
		r = sd_bus_creds_get_euid(creds, &uid);
	if (r < 0 || uid != 0)
		return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
					"Only root may call Notify().");
	return 0;
}

int method_notify(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_strv_free_ char **keys = NULL, **nqns = NULL;
	struct context *ctx = userdata;
	struct dc_fp *now = NULL;
	size_t n_now = 0;
	unsigned n_signals = 0;
	int r;

	r = check_root(m, error);
	if (r < 0)
		return r;
	r = sd_bus_message_read_strv(m, &keys);
	if (r >= 0)
		r = sd_bus_message_read_strv(m, &nqns);
	if (r < 0)
		return r;
	STRV_FOREACH(k, keys) {
		struct tid t;

		if (cached_check_args(error, (const char *const *)k, 1) < 0)
			return -EINVAL;
		if (tid_from_key(*k, &t) < 0)
			return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
						 "Not a DC key: %s", *k);
	}
	STRV_FOREACH(q, nqns)
		if (!nqn_is_valid(*q))
			return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
						 "Not a valid subsystem NQN.");

	r = fps_take(ctx, &now, &n_now);
	if (r < 0)
		return cached_error_cache(error, r);

	for (size_t i = 0; i < n_now; i++) {
		const struct dc_fp *old = fp_find(ctx->fps, ctx->n_fps, now[i].key);
		bool named = strv_contains(keys, now[i].key);

		if ((old && !fp_equal(old, &now[i])) || (!old && ctx->notified) ||
		    (!ctx->notified && named)) {
			(void)emit_changed(ctx, &now[i]);
			n_signals++;
		}
	}
	for (size_t i = 0; i < ctx->n_fps; i++)
		if (!fp_find(now, n_now, ctx->fps[i].key)) {
			(void)emit_removed(ctx, ctx->fps[i].key);
			n_signals++;
		}
	if (!ctx->notified)
		STRV_FOREACH(k, keys)
			if (!fp_find(now, n_now, *k) && !fp_find(ctx->fps, ctx->n_fps, *k)) {
				(void)emit_removed(ctx, *k);
				n_signals++;
			}
	STRV_FOREACH(q, nqns) {
		(void)sd_bus_emit_signal(ctx->bus, CACHED_OBJECT_PATH, CACHED_INTERFACE,
					 "PathsChanged", "s", *q);
		n_signals++;
	}
	if (n_signals > 0)
		(void)sd_bus_emit_properties_changed(ctx->bus, CACHED_OBJECT_PATH, CACHED_INTERFACE,
						     "CacheSize", "DCCount", "EntryCount",
						     "SubsystemCount", "PathCount", NULL);

	fps_free(ctx->fps, ctx->n_fps);
	ctx->fps = now;
	ctx->n_fps = n_now;
	ctx->notified = true;
	return sd_bus_reply_method_return(m, NULL);
}
