/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache-verify.c - consistency check of the whole cache in one snapshot:
 * used by cache_verify() and by cache_import() before it commits.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache-internal.h"
#include "cache-record.h"
#include "cache.h"
#include "macro.h"

struct dc_info {
	uint8_t id[CACHE_ID_SIZE];
	uint32_t n_entries, seen;
	char instance_key[CACHE_IKEY_MAX + 1];
};

struct verifier {
	struct cache *c;
	MDB_txn *txn;
	void (*report)(const char *problem, void *userdata);
	void *userdata;
	unsigned problems;
	struct dc_info *dcs;
	size_t n_dcs, alloc_dcs;
};

_printf_(2, 3) static void problem(struct verifier *v, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	v->problems++;
	if (!v->report)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	v->report(buf, v->userdata);
}

static const char *hex(const void *data, size_t size, char *buf, size_t bufsize)
{
	const uint8_t *p = data;
	size_t k = 0;

	for (size_t i = 0; i < size && k + 3 < bufsize; i++)
		k += (size_t)snprintf(buf + k, bufsize - k, "%02x", p[i]);
	buf[k] = '\0';
	return buf;
}

static int dc_info_cmp(const void *key, const void *elem)
{
	return memcmp(key, ((const struct dc_info *)elem)->id, CACHE_ID_SIZE);
}

static struct dc_info *dc_find(struct verifier *v, const void *id)
{
	return v->n_dcs > 0 ? bsearch(id, v->dcs, v->n_dcs, sizeof(*v->dcs), dc_info_cmp) : NULL;
}

typedef int (*row_fn)(struct verifier *v, const MDB_val *k, const MDB_val *val);

struct walk {
	struct verifier *v;
	row_fn fn;
};

static int walk_row(struct cache_row *row, void *ud)
{
	struct walk *w = ud;

	return w->fn(w->v, &row->key, &row->val);
}

/* Every row of @db, in key order. */
static int walk(struct verifier *v, enum cache_db db, row_fn fn)
{
	return cache_range(v->c, v->txn, db, NULL, 0, walk_row, &(struct walk){ v, fn });
}

static int check_dc(struct verifier *v, const MDB_val *k, const MDB_val *val)
{
	char h[64];
	struct cache_dc dc;
	uint8_t id[CACHE_ID_SIZE];
	MDB_val key, iv;

	if (k->mv_size != CACHE_ID_SIZE) {
		problem(v, "dc: key %s has the wrong size",
			hex(k->mv_data, k->mv_size, h, sizeof(h)));
		return 0;
	}
	hex(k->mv_data, k->mv_size, h, sizeof(h));
	if (record_decode_dc(val->mv_data, val->mv_size, &dc) < 0) {
		problem(v, "dc %s: record does not decode", h);
		return 0;
	}
	if (record_validate_dc(&dc) < 0)
		problem(v, "dc %s: invalid transport ID, device, instance key or error text", h);
	if (cache_tid_id(&dc.tid, id) < 0 || memcmp(id, k->mv_data, CACHE_ID_SIZE) != 0)
		problem(v, "dc %s: key does not match the record's transport ID", h);

	if (GREEDY_REALLOC(v->dcs, v->alloc_dcs, v->n_dcs) < 0)
		return -ENOMEM;
	struct dc_info *d = &v->dcs[v->n_dcs++];
	*d = (struct dc_info){ .n_entries = dc.n_entries };
	memcpy(d->id, k->mv_data, CACHE_ID_SIZE);
	memcpy(d->instance_key, dc.instance_key, sizeof(d->instance_key));

	if (!isempty(dc.instance_key)) {
		key = (MDB_val){ strlen(dc.instance_key), dc.instance_key };
		if (!v->c->have[CACHE_DB_IKEY] ||
		    mdb_get(v->txn, v->c->dbi[CACHE_DB_IKEY], &key, &iv) != MDB_SUCCESS ||
		    cache_val_check(v->c, &iv) < 0 || iv.mv_size != CACHE_ID_SIZE ||
		    memcmp(iv.mv_data, k->mv_data, CACHE_ID_SIZE) != 0)
			problem(v, "dc %s: instance key %s is not indexed", h, dc.instance_key);
	}
	return 0;
}

static int check_dlpe(struct verifier *v, const MDB_val *k, const MDB_val *val)
{
	char h[64];
	struct dlpe e;
	struct dc_info *d;
	uint32_t index;

	hex(k->mv_data, k->mv_size, h, sizeof(h));
	if (k->mv_size != CACHE_DLPE_KEY_SIZE) {
		problem(v, "dlpe: key %s has the wrong size", h);
		return 0;
	}
	index = be32_get((const uint8_t *)k->mv_data + CACHE_ID_SIZE);
	d = dc_find(v, k->mv_data);
	if (!d) {
		problem(v, "dlpe %s: entry of an unknown DC", h);
		return 0;
	}
	if (index != d->seen)
		problem(v, "dlpe %s: entry index %u, expected %u (hole in the page)", h, index,
			d->seen);
	d->seen++;
	if (record_decode_dlpe(val->mv_data, val->mv_size, &e) < 0) {
		problem(v, "dlpe %s: record does not decode", h);
		return 0;
	}
	if (record_validate_dlpe(&e) < 0)
		problem(v,
			"dlpe %s: not a valid log page entry (as a discovery controller's page "
			"would be refused)",
			h);
	if (e.subtype == DLPE_SUBTYPE_NVME) {
		uint8_t nk[CACHE_NQN_KEY_MAX];
		MDB_val key = { cache_nqn_key(e.subnqn, d->id, index, nk), nk }, nv;
		if (isempty(e.subnqn) || !v->c->have[CACHE_DB_NQN] ||
		    mdb_get(v->txn, v->c->dbi[CACHE_DB_NQN], &key, &nv) != MDB_SUCCESS)
			problem(v, "dlpe %s: I/O entry for %s missing from the NQN index", h,
				e.subnqn);
	}
	return 0;
}

static int check_nqn(struct verifier *v, const MDB_val *k, const MDB_val *val)
{
	const uint8_t *p = k->mv_data;
	char h[600], nqn[TID_NQN_MAX + 1];
	struct dlpe e;
	MDB_val key, ev;
	size_t l;

	hex(k->mv_data, k->mv_size, h, sizeof(h));
	if (k->mv_size <= CACHE_DLPE_KEY_SIZE + 1 ||
	    (l = k->mv_size - CACHE_DLPE_KEY_SIZE - 1) > TID_NQN_MAX || p[l] != '\0' ||
	    memchr(p, '\0', l)) {
		problem(v, "nqn: malformed key %s", h);
		return 0;
	}
	memcpy(nqn, p, l);
	nqn[l] = '\0';
	if (val->mv_size != 0)
		problem(v, "nqn %s: unexpected value", nqn);
	key = (MDB_val){ CACHE_DLPE_KEY_SIZE, (void *)(p + l + 1) };
	if (!v->c->have[CACHE_DB_DLPE] ||
	    mdb_get(v->txn, v->c->dbi[CACHE_DB_DLPE], &key, &ev) != MDB_SUCCESS ||
	    cache_val_check(v->c, &ev) < 0) {
		problem(v, "nqn %s: index row %s points at no entry", nqn, h);
		return 0;
	}
	if (record_decode_dlpe(ev.mv_data, ev.mv_size, &e) < 0)
		return 0; /* reported with the entry */
	if (e.subtype != DLPE_SUBTYPE_NVME || !streq(e.subnqn, nqn))
		problem(v, "nqn %s: index row %s points at an entry for %s", nqn, h, e.subnqn);
	return 0;
}

static int check_path(struct verifier *v, const MDB_val *k, const MDB_val *val)
{
	char h[600];
	struct cache_path p;
	uint8_t id[CACHE_ID_SIZE], key[CACHE_PATH_KEY_MAX];

	hex(k->mv_data, k->mv_size, h, sizeof(h));
	if (record_decode_path(val->mv_data, val->mv_size, &p) < 0) {
		problem(v, "path %s: record does not decode", h);
		return 0;
	}
	if (record_validate_path(&p) < 0)
		problem(v, "path %s: invalid transport ID, device or error text", h);
	if (cache_tid_id(&p.tid, id) < 0 ||
	    cache_path_key(p.tid.subsysnqn, id, key) != k->mv_size ||
	    memcmp(key, k->mv_data, k->mv_size) != 0)
		problem(v, "path %s: key does not match the record's transport ID", h);
	return 0;
}

static int check_ikey(struct verifier *v, const MDB_val *k, const MDB_val *val)
{
	char key[CACHE_IKEY_MAX + 1];
	struct dc_info *d;

	if (k->mv_size > CACHE_IKEY_MAX || memchr(k->mv_data, '\0', k->mv_size)) {
		problem(v, "ikey: malformed key");
		return 0;
	}
	memcpy(key, k->mv_data, k->mv_size);
	key[k->mv_size] = '\0';
	if (!str_startswith(key, "key-"))
		problem(v, "ikey %s: not a \"key-\" instance key", key);
	if (val->mv_size != CACHE_ID_SIZE || !(d = dc_find(v, val->mv_data)))
		problem(v, "ikey %s: points at no DC", key);
	else if (!streq(d->instance_key, key))
		problem(v, "ikey %s: its DC has instance key \"%s\"", key, d->instance_key);
	return 0;
}

int cache_verify_txn(struct cache *c, MDB_txn *txn,
		     void (*report)(const char *problem, void *userdata), void *userdata)
{
	struct verifier v = { .c = c, .txn = txn, .report = report, .userdata = userdata };
	uint64_t schema = 0, created = 0;
	int r;

	if (!c->have[CACHE_DB_META]) {
		/* created but never initialised (the creator died before its first
		 * commit): an empty cache, not a damaged one */
		for (int i = 0; i < _CACHE_DB_MAX; i++)
			if (c->have[i])
				problem(&v, "meta: missing, but %s exists", cache_db_names[i]);
		return (int)v.problems;
	}
	r = cache_meta_get_uint(c, txn, "schema", &schema);
	if (r == 0)
		problem(&v, "meta: no schema version");
	else if (r < 0)
		problem(&v, "meta: malformed schema version");
	else if (schema > CACHE_SCHEMA_VERSION)
		problem(&v, "meta: schema %llu is newer than this program's (%u)",
			(unsigned long long)schema, CACHE_SCHEMA_VERSION);
	if (cache_meta_get_uint(c, txn, "created", &created) < 0)
		problem(&v, "meta: malformed creation time");

	r = walk(&v, CACHE_DB_DC, check_dc); /* key order: v.dcs is sorted */
	if (r >= 0)
		r = walk(&v, CACHE_DB_DLPE, check_dlpe);
	if (r >= 0)
		for (size_t i = 0; i < v.n_dcs; i++)
			if (v.dcs[i].seen != v.dcs[i].n_entries) {
				char h[32];
				problem(&v, "dc %s: %u entries stored, record says %u",
					hex(v.dcs[i].id, CACHE_ID_SIZE, h, sizeof(h)),
					v.dcs[i].seen, v.dcs[i].n_entries);
			}
	if (r >= 0)
		r = walk(&v, CACHE_DB_NQN, check_nqn);
	if (r >= 0)
		r = walk(&v, CACHE_DB_PATH, check_path);
	if (r >= 0)
		r = walk(&v, CACHE_DB_IKEY, check_ikey);
	free(v.dcs);
	if (r < 0)
		return r;
	return (int)MIN(v.problems, (unsigned)INT32_MAX);
}

int cache_verify(struct cache *c, void (*report)(const char *problem, void *userdata),
		 void *userdata)
{
	_cleanup_cache_read_ MDB_txn *txn = NULL;
	int r;

	r = cache_read_begin(c, &txn);
	return r < 0 ? r : cache_verify_txn(c, txn, report, userdata);
}
