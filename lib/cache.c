/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache-internal.h"
#include "cache-record.h"
#include "cache.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"

#define CACHE_MAPSIZE_DEFAULT ((size_t)32 << 20)
#define CACHE_MAPSIZE_LIMIT ((size_t)64 << 30)
#define CACHE_OPEN_RETRIES 50
#define CACHE_GROW_RETRIES 12
/* cache_dlp_put() refreshes an unchanged DC's last_read_usec this often. */
#define CACHE_READ_TIME_GRANULARITY_USEC (60ULL * 1000000ULL)

const char *const cache_db_names[_CACHE_DB_MAX] = {
	[CACHE_DB_DC] = "dc",	  [CACHE_DB_DLPE] = "dlpe", [CACHE_DB_NQN] = "nqn",
	[CACHE_DB_PATH] = "path", [CACHE_DB_IKEY] = "ikey", [CACHE_DB_META] = "meta",
};

int cache_db_from_name(const char *s, size_t len)
{
	for (int i = 0; i < _CACHE_DB_MAX; i++)
		if (strlen(cache_db_names[i]) == len && memcmp(s, cache_db_names[i], len) == 0)
			return i;
	return -EINVAL;
}

static const char *const origin_names[_CACHE_ORIGIN_MAX] = {
	[CACHE_ORIGIN_CONFIG] = "config",     [CACHE_ORIGIN_MDNS] = "mdns",
	[CACHE_ORIGIN_REFERRAL] = "referral", [CACHE_ORIGIN_UDEV] = "udev",
	[CACHE_ORIGIN_MANUAL] = "manual",
};
static const char *const dctype_names[_CACHE_DCTYPE_MAX] = {
	[CACHE_DCTYPE_UNKNOWN] = "unknown",
	[CACHE_DCTYPE_DDC] = "ddc",
	[CACHE_DCTYPE_CDC] = "cdc",
};
static const char *const owner_names[_CACHE_PATH_OWNER_MAX] = {
	[CACHE_PATH_OWNER_STAS] = "stas",
	[CACHE_PATH_OWNER_OTHER] = "other",
};
static const char *const state_names[_CACHE_PATH_STATE_MAX] = {
	[CACHE_PATH_UNKNOWN] = "unknown",	    [CACHE_PATH_CONNECTING] = "connecting",
	[CACHE_PATH_CONNECTED] = "connected",	    [CACHE_PATH_FAILED] = "failed",
	[CACHE_PATH_DISCONNECTED] = "disconnected",
};

static int lookup_name(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (streq(names[i], s))
			return i;
	return -EINVAL;
}

const char *cache_origin_to_string(enum cache_origin o)
{
	return (unsigned)o < _CACHE_ORIGIN_MAX ? origin_names[o] : NULL;
}
int cache_origin_from_string(const char *s)
{
	return lookup_name(origin_names, _CACHE_ORIGIN_MAX, s);
}
const char *cache_dctype_to_string(enum cache_dctype t)
{
	return (unsigned)t < _CACHE_DCTYPE_MAX ? dctype_names[t] : NULL;
}
int cache_dctype_from_string(const char *s)
{
	return lookup_name(dctype_names, _CACHE_DCTYPE_MAX, s);
}
const char *cache_path_owner_to_string(enum cache_path_owner o)
{
	return (unsigned)o < _CACHE_PATH_OWNER_MAX ? owner_names[o] : NULL;
}
int cache_path_owner_from_string(const char *s)
{
	return lookup_name(owner_names, _CACHE_PATH_OWNER_MAX, s);
}
const char *cache_path_state_to_string(enum cache_path_state s)
{
	return (unsigned)s < _CACHE_PATH_STATE_MAX ? state_names[s] : NULL;
}
int cache_path_state_from_string(const char *s)
{
	return lookup_name(state_names, _CACHE_PATH_STATE_MAX, s);
}

uint64_t cache_now_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

int cache_errno(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
		return -EXFULL; /* internal: cache_write() grows the map */
	case MDB_TXN_FULL:
	case MDB_BAD_VALSIZE:
		return -E2BIG;
	case MDB_PAGE_NOTFOUND:
	case MDB_CORRUPTED:
	case MDB_INVALID:
		return -EBADMSG;
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
		return -EPROTO;
	case MDB_PANIC:
		return -EIO;
	case MDB_MAP_RESIZED:
	case MDB_READERS_FULL:
	case MDB_TLS_FULL:
		return -EAGAIN;
	case MDB_DBS_FULL:
		return -EMFILE;
	case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL:
		return -EOVERFLOW;
	case MDB_BAD_RSLOT:
	case MDB_BAD_TXN:
	case MDB_BAD_DBI:
		return -EINVAL;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

const char *cache_default_dir(void)
{
	static char buf[4096];
	const char *e = getenv("CACHE_DIRECTORY");

	if (!isempty(e)) {
		/* systemd passes a ':'-separated list when CacheDirectory= has several */
		size_t l = strcspn(e, ":");
		if (l < sizeof(buf)) {
			memcpy(buf, e, l);
			buf[l] = '\0';
			return buf;
		}
	}
	return CACHEDIR;
}

const char *cache_dir(const struct cache *c)
{
	return c->dir;
}

unsigned cache_schema(const struct cache *c)
{
	return c->schema;
}

bool cache_writable(const struct cache *c)
{
	return (c->flags & CACHE_RDWR) && c->schema <= CACHE_SCHEMA_VERSION;
}

void cache_set_writer(struct cache *c, const char *program)
{
	snprintf(c->writer, sizeof(c->writer), "%s", program);
}

/* ---- transactions ---------------------------------------------------- */

int cache_read_begin(struct cache *c, MDB_txn **ret)
{
	MDB_txn *txn = NULL;
	int rc;

	for (unsigned attempt = 0;; attempt++) {
		if (c->rtxn && !c->rtxn_busy) {
			rc = mdb_txn_renew(c->rtxn);
			if (rc == MDB_SUCCESS) {
				c->rtxn_busy = true;
				*ret = c->rtxn;
				return 0;
			}
			mdb_txn_abort(c->rtxn);
			c->rtxn = NULL;
		} else {
			rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
			if (rc == MDB_SUCCESS) {
				if (!c->rtxn) {
					c->rtxn = txn;
					c->rtxn_busy = true;
				}
				*ret = txn;
				return 0;
			}
		}
		/* Another process grew the map: adopt its size, try again. */
		if (rc != MDB_MAP_RESIZED || attempt >= 3)
			return cache_errno(rc);
		if (c->rtxn && !c->rtxn_busy) {
			mdb_txn_abort(c->rtxn);
			c->rtxn = NULL;
		}
		rc = mdb_env_set_mapsize(c->env, 0);
		if (rc != MDB_SUCCESS)
			return cache_errno(rc);
	}
}

void cache_read_end(struct cache *c, MDB_txn *txn)
{
	if (!txn)
		return;
	if (txn == c->rtxn) {
		mdb_txn_reset(txn);
		c->rtxn_busy = false;
	} else
		mdb_txn_abort(txn);
}

int cache_meta_get_uint(struct cache *c, MDB_txn *txn, const char *key, uint64_t *ret)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	char buf[32], *end;
	int rc;

	if (!c->have[CACHE_DB_META])
		return 0;
	rc = mdb_get(txn, c->dbi[CACHE_DB_META], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	if (v.mv_size == 0 || v.mv_size >= sizeof(buf))
		return -EBADMSG;
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size] = '\0';
	errno = 0;
	unsigned long long u = strtoull(buf, &end, 10);
	if (errno || *end || buf[0] < '0' || buf[0] > '9')
		return -EBADMSG;
	*ret = u;
	return 1;
}

int cache_meta_put_str(struct cache *c, MDB_txn *txn, const char *key, const char *value)
{
	MDB_val k = { strlen(key), (void *)key }, v = { strlen(value), (void *)value };

	return cache_errno(mdb_put(txn, c->dbi[CACHE_DB_META], &k, &v, 0));
}

static int meta_init(struct cache *c, MDB_txn *txn)
{
	uint64_t schema = 0;
	char buf[32];
	int r;

	r = cache_meta_get_uint(c, txn, "schema", &schema);
	if (r < 0)
		return r;
	if (r > 0) {
		c->schema = (unsigned)MIN(schema, (uint64_t)UINT32_MAX);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%u", CACHE_SCHEMA_VERSION);
	r = cache_meta_put_str(c, txn, "schema", buf);
	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cache_now_usec());
	r = cache_meta_put_str(c, txn, "created", buf);
	if (r < 0)
		return r;
	c->schema = CACHE_SCHEMA_VERSION;
	return 0;
}

static int grow_map(struct cache *c)
{
	MDB_envinfo info;
	size_t size;
	int rc;

	rc = mdb_env_info(c->env, &info);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	size = info.me_mapsize * 2;
	if (size > CACHE_MAPSIZE_LIMIT)
		return -ENOSPC;
	if (c->rtxn && !c->rtxn_busy) {
		mdb_txn_abort(c->rtxn);
		c->rtxn = NULL;
	}
	if (c->rtxn_busy)
		return -ENOSPC; /* cannot resize with a read txn open in this process */
	rc = mdb_env_set_mapsize(c->env, size);
	log_debug("cache: map full, grown to %zu bytes: %s", size, mdb_strerror(rc));
	return cache_errno(rc);
}

int cache_write(struct cache *c, int (*fn)(struct cache *c, MDB_txn *txn, void *ud), void *ud)
{
	if (!(c->flags & CACHE_RDWR))
		return -EROFS;

	for (unsigned attempt = 0;; attempt++) {
		MDB_txn *txn = NULL;
		char writer[128];
		int r, rc;

		rc = mdb_txn_begin(c->env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED && attempt < CACHE_GROW_RETRIES) {
			rc = mdb_env_set_mapsize(c->env, 0);
			if (rc != MDB_SUCCESS)
				return cache_errno(rc);
			continue;
		}
		if (rc != MDB_SUCCESS)
			return cache_errno(rc);

		/* Someone may have upgraded the cache since we opened it. */
		r = meta_init(c, txn);
		if (r >= 0 && c->schema > CACHE_SCHEMA_VERSION)
			r = -EPROTO;
		if (r >= 0) {
			snprintf(writer, sizeof(writer), "%s %ld %llu", c->writer, (long)getpid(),
				 (unsigned long long)cache_now_usec());
			r = cache_meta_put_str(c, txn, "writer", writer);
		}
		if (r >= 0)
			r = fn(c, txn, ud);
		if (r < 0) {
			mdb_txn_abort(txn);
		} else {
			int k = cache_errno(mdb_txn_commit(txn));
			if (k < 0)
				r = k;
		}
		if (r == -EXFULL) {
			if (attempt >= CACHE_GROW_RETRIES)
				return -ENOSPC;
			r = grow_map(c);
			if (r < 0)
				return r;
			continue;
		}
		return r;
	}
}

/* ---- open/close ------------------------------------------------------ */

static int open_dbis(struct cache *c, bool create)
{
	MDB_txn *txn = NULL;
	uint64_t schema = 0;
	int rc, r;

	rc = mdb_txn_begin(c->env, NULL, create ? 0 : MDB_RDONLY, &txn);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	for (int i = 0; i < _CACHE_DB_MAX; i++) {
		rc = mdb_dbi_open(txn, cache_db_names[i], create ? MDB_CREATE : 0, &c->dbi[i]);
		if (rc == MDB_NOTFOUND && !create)
			continue; /* never written: reads see it empty */
		if (rc != MDB_SUCCESS) {
			mdb_txn_abort(txn);
			return cache_errno(rc);
		}
		c->have[i] = true;
	}
	if (create)
		r = meta_init(c, txn);
	else {
		r = cache_meta_get_uint(c, txn, "schema", &schema);
		if (r > 0)
			c->schema = (unsigned)MIN(schema, (uint64_t)UINT32_MAX);
	}
	if (r < 0) {
		mdb_txn_abort(txn);
		return r;
	}
	return cache_errno(mdb_txn_commit(txn));
}

static bool open_retryable(int r, unsigned attempt)
{
	/* EBADMSG: a data file caught half-created by another process */
	return r == -EAGAIN || r == -EBUSY || (r == -EBADMSG && attempt < 3);
}

static int env_open_once(struct cache *c, size_t mapsize, bool rdwr)
{
	/*
	 * MDB_NOMETASYNC: one fsync per commit instead of two. LMDB keeps the
	 * database intact; only an operating-system crash can undo the last
	 * commit - and after one the kernel's connections are gone too and every
	 * page is read again at boot. A killed process loses nothing.
	 */
	unsigned envflags = MDB_NOTLS | MDB_NORDAHEAD | MDB_NOMETASYNC;
	int rc;

	rc = mdb_env_create(&c->env);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	(void)mdb_env_set_maxdbs(c->env, _CACHE_DB_MAX + 2);
	(void)mdb_env_set_mapsize(c->env, mapsize ? mapsize : CACHE_MAPSIZE_DEFAULT);
	if (!rdwr)
		envflags |= MDB_RDONLY;
	if (c->flags & CACHE_NOSYNC)
		envflags |= MDB_NOSYNC;
	rc = mdb_env_open(c->env, c->dir, envflags, 0644);
	if (rc != MDB_SUCCESS) {
		mdb_env_close(c->env);
		c->env = NULL;
		return cache_errno(rc);
	}
	return 0;
}

int cache_open_full(const char *dir, unsigned flags, size_t mapsize, struct cache **ret)
{
	struct cache *c;
	bool rdwr = flags & CACHE_RDWR;
	int r = 0, dead = 0;

	assert(ret);
	if (!dir)
		dir = cache_default_dir();

	if (rdwr) {
		r = mkdir_p(dir, 0755);
		if (r < 0)
			return r;
	} else {
		_cleanup_free_ char *p = NULL;
		if (asprintf(&p, "%s/data.mdb", dir) < 0)
			return -ENOMEM;
		if (access(p, F_OK) < 0)
			return negative_errno();
	}

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->flags = flags;
	cache_set_writer(c, program_invocation_short_name);
	c->dir = strdup(dir);
	if (!c->dir) {
		cache_free(c);
		return -ENOMEM;
	}

	/* Several processes may create or open the environment at once; LMDB
	 * serialises lock-file setup with fcntl locks, but a loser can see a
	 * transient EAGAIN/EBUSY (or a half-initialised lock file): retry. */
	for (unsigned attempt = 0; attempt < CACHE_OPEN_RETRIES; attempt++) {
		r = env_open_once(c, mapsize, rdwr);
		if (r >= 0) {
			(void)mdb_reader_check(c->env, &dead);
			if (dead > 0)
				log_debug("cache: cleared %d stale reader slot(s)", dead);
			r = open_dbis(c, rdwr);
			if (r >= 0)
				break;
			mdb_env_close(c->env);
			c->env = NULL;
			memset(c->have, 0, sizeof(c->have));
		}
		if (!open_retryable(r, attempt))
			break;
		(void)usleep(2000 + 1000 * attempt);
	}
	if (r < 0) {
		log_debug("cache: cannot open %s: %s", dir, strerror(-r));
		cache_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int cache_open(const char *dir, unsigned flags, struct cache **ret)
{
	return cache_open_full(dir, flags, 0, ret);
}

struct cache *cache_free(struct cache *c)
{
	if (!c)
		return NULL;
	if (c->rtxn)
		mdb_txn_abort(c->rtxn);
	if (c->env)
		mdb_env_close(c->env);
	free(c->dir);
	free(c);
	return NULL;
}

/* ---- helpers over one transaction ------------------------------------- */

static int get_record(struct cache *c, MDB_txn *txn, enum cache_db db, const void *key,
		      size_t keylen, MDB_val *ret)
{
	MDB_val k = { keylen, (void *)key };
	int rc;

	if (!c->have[db])
		return 0;
	rc = mdb_get(txn, c->dbi[db], &k, ret);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	return 1;
}

static int put_record(struct cache *c, MDB_txn *txn, enum cache_db db, const void *key,
		      size_t keylen, const void *data, size_t size)
{
	MDB_val k = { keylen, (void *)key }, v = { size, (void *)data };

	return cache_errno(mdb_put(txn, c->dbi[db], &k, &v, 0));
}

/* Return: 1 deleted, 0 not there. */
static int del_record(struct cache *c, MDB_txn *txn, enum cache_db db, const void *key,
		      size_t keylen)
{
	MDB_val k = { keylen, (void *)key };
	int rc = mdb_del(txn, c->dbi[db], &k, NULL);

	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == MDB_SUCCESS ? 1 : cache_errno(rc);
}

static int dc_get_txn(struct cache *c, MDB_txn *txn, const uint8_t id[CACHE_ID_SIZE],
		      struct cache_dc *ret)
{
	MDB_val v;
	int r = get_record(c, txn, CACHE_DB_DC, id, CACHE_ID_SIZE, &v);

	if (r <= 0)
		return r;
	r = record_decode_dc(v.mv_data, v.mv_size, ret);
	return r < 0 ? r : 1;
}

/* Write @rec under @id, keeping the ikey index in step with @old (NULL: new DC). */
static int dc_put_txn(struct cache *c, MDB_txn *txn, const uint8_t id[CACHE_ID_SIZE],
		      const struct cache_dc *rec, const struct cache_dc *old)
{
	struct record_buf b;
	int r;

	if (old && !streq(old->instance_key, rec->instance_key) && !isempty(old->instance_key)) {
		MDB_val v;
		r = get_record(c, txn, CACHE_DB_IKEY, old->instance_key, strlen(old->instance_key),
			       &v);
		if (r < 0)
			return r;
		if (r > 0 && v.mv_size == CACHE_ID_SIZE &&
		    memcmp(v.mv_data, id, CACHE_ID_SIZE) == 0) {
			r = del_record(c, txn, CACHE_DB_IKEY, old->instance_key,
				       strlen(old->instance_key));
			if (r < 0)
				return r;
		}
	}
	if (!isempty(rec->instance_key)) {
		MDB_val v;
		r = get_record(c, txn, CACHE_DB_IKEY, rec->instance_key, strlen(rec->instance_key),
			       &v);
		if (r < 0)
			return r;
		if (r > 0 &&
		    !(v.mv_size == CACHE_ID_SIZE && memcmp(v.mv_data, id, CACHE_ID_SIZE) == 0))
			return -EEXIST;
		if (r == 0) {
			r = put_record(c, txn, CACHE_DB_IKEY, rec->instance_key,
				       strlen(rec->instance_key), id, CACHE_ID_SIZE);
			if (r < 0)
				return r;
		}
	}
	record_encode_dc(rec, &b);
	return put_record(c, txn, CACHE_DB_DC, id, CACHE_ID_SIZE, b.data, b.size);
}

static bool dc_record_equal(const struct cache_dc *a, const struct cache_dc *b)
{
	struct record_buf x, y;

	record_encode_dc(a, &x);
	record_encode_dc(b, &y);
	return x.size == y.size && memcmp(x.data, y.data, x.size) == 0;
}

/* Metadata from @meta, maintained fields from @old (or zero). */
static void dc_merge(const struct cache_dc *meta, const struct cache_dc *old, struct cache_dc *ret)
{
	*ret = *meta;
	if (old) {
		ret->genctr = old->genctr;
		ret->last_read_usec = old->last_read_usec;
		ret->n_entries = old->n_entries;
		ret->stale = old->stale;
		ret->last_errno = old->last_errno;
		ret->last_error_usec = old->last_error_usec;
		memcpy(ret->last_error, old->last_error, sizeof(ret->last_error));
	} else {
		ret->genctr = 0;
		ret->last_read_usec = 0;
		ret->n_entries = 0;
		ret->stale = false;
		ret->last_errno = 0;
		ret->last_error_usec = 0;
		ret->last_error[0] = '\0';
	}
}

static int dc_validate(const struct cache_dc *dc)
{
	if ((unsigned)dc->origin >= _CACHE_ORIGIN_MAX || (unsigned)dc->dctype >= _CACHE_DCTYPE_MAX)
		return -EINVAL;
	if (isempty(dc->tid.transport))
		return -EINVAL;
	if (!isempty(dc->instance_key) && !startswith(dc->instance_key, "key-"))
		return -EINVAL;
	if (memchr(dc->device, '\0', sizeof(dc->device)) == NULL ||
	    memchr(dc->instance_key, '\0', sizeof(dc->instance_key)) == NULL ||
	    memchr(dc->last_error, '\0', sizeof(dc->last_error)) == NULL)
		return -EINVAL;
	return 0;
}

/* ---- discovery controllers ------------------------------------------- */

struct dc_put_ctx {
	const struct cache_dc *dc;
	uint8_t id[CACHE_ID_SIZE];
};

static int dc_put_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	struct dc_put_ctx *ctx = ud;
	struct cache_dc old, rec;
	int r;

	r = dc_get_txn(c, txn, ctx->id, &old);
	if (r < 0)
		return r;
	dc_merge(ctx->dc, r > 0 ? &old : NULL, &rec);
	if (r > 0 && dc_record_equal(&rec, &old))
		return 0;
	r = dc_put_txn(c, txn, ctx->id, &rec, r > 0 ? &old : NULL);
	return r < 0 ? r : 1;
}

int cache_dc_put(struct cache *c, const struct cache_dc *dc)
{
	struct dc_put_ctx ctx = { .dc = dc };
	int r;

	r = dc_validate(dc);
	if (r < 0)
		return r;
	r = cache_tid_id(&dc->tid, ctx.id);
	if (r < 0)
		return r;
	return cache_write(c, dc_put_fn, &ctx);
}

int cache_dc_get(struct cache *c, const struct tid *tid, struct cache_dc *ret)
{
	uint8_t id[CACHE_ID_SIZE];
	struct cache_dc dc;
	MDB_txn *txn = NULL;
	int r;

	r = cache_tid_id(tid, id);
	if (r < 0)
		return r;
	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	r = dc_get_txn(c, txn, id, &dc);
	cache_read_end(c, txn);
	if (r > 0)
		*ret = dc;
	return r;
}

int cache_dc_get_by_instance_key(struct cache *c, const char *key, struct cache_dc *ret)
{
	struct cache_dc dc;
	MDB_txn *txn = NULL;
	MDB_val v;
	int r;

	if (isempty(key) || strlen(key) > CACHE_IKEY_MAX)
		return -EINVAL;
	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	r = get_record(c, txn, CACHE_DB_IKEY, key, strlen(key), &v);
	if (r > 0) {
		if (v.mv_size != CACHE_ID_SIZE)
			r = -EBADMSG;
		else
			r = dc_get_txn(c, txn, v.mv_data, &dc);
	}
	cache_read_end(c, txn);
	if (r > 0)
		*ret = dc;
	return r;
}

int cache_dc_foreach(struct cache *c, cache_dc_cb cb, void *userdata)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int r, rc;

	if (!c->have[CACHE_DB_DC])
		return 0;
	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	rc = mdb_cursor_open(txn, c->dbi[CACHE_DB_DC], &cur);
	if (rc != MDB_SUCCESS) {
		cache_read_end(c, txn);
		return cache_errno(rc);
	}
	r = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct cache_dc dc;
		r = record_decode_dc(v.mv_data, v.mv_size, &dc);
		if (r < 0)
			break;
		r = cb(&dc, userdata);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != MDB_NOTFOUND)
		r = cache_errno(rc);
	mdb_cursor_close(cur);
	cache_read_end(c, txn);
	return r;
}

struct dc_update_ctx {
	uint8_t id[CACHE_ID_SIZE];
	int error;
	const char *msg;
	bool advertised;
	uint64_t usec;
};

static int dc_set_error_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	struct dc_update_ctx *ctx = ud;
	struct cache_dc old, rec;
	int r;

	r = dc_get_txn(c, txn, ctx->id, &old);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	rec = old;
	rec.stale = true;
	rec.last_errno = abs(ctx->error);
	rec.last_error_usec = cache_now_usec();
	snprintf(rec.last_error, sizeof(rec.last_error), "%s", strempty(ctx->msg));
	r = dc_put_txn(c, txn, ctx->id, &rec, &old);
	return r < 0 ? r : 1;
}

int cache_dc_set_error(struct cache *c, const struct tid *tid, int error, const char *msg)
{
	struct dc_update_ctx ctx = { .error = error, .msg = msg };
	int r = cache_tid_id(tid, ctx.id);

	if (r < 0)
		return r;
	return cache_write(c, dc_set_error_fn, &ctx);
}

static int dc_set_advertised_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	struct dc_update_ctx *ctx = ud;
	struct cache_dc old, rec;
	int r;

	r = dc_get_txn(c, txn, ctx->id, &old);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	rec = old;
	rec.mdns_advertised = ctx->advertised;
	if (ctx->usec)
		rec.mdns_last_advertised_usec = ctx->usec;
	if (dc_record_equal(&rec, &old))
		return 0;
	r = dc_put_txn(c, txn, ctx->id, &rec, &old);
	return r < 0 ? r : 1;
}

int cache_dc_set_advertised(struct cache *c, const struct tid *tid, bool advertised, uint64_t usec)
{
	struct dc_update_ctx ctx = { .advertised = advertised, .usec = usec };
	int r = cache_tid_id(tid, ctx.id);

	if (r < 0)
		return r;
	return cache_write(c, dc_set_advertised_fn, &ctx);
}

/* Delete every nqn row pointing at DC @id (full scan: only for corrupt entries). */
static int nqn_rows_delete_dc(struct cache *c, MDB_txn *txn, const uint8_t id[CACHE_ID_SIZE])
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(txn, c->dbi[CACHE_DB_NQN], &cur);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;) {
		const uint8_t *p = k.mv_data;
		if (k.mv_size > CACHE_DLPE_KEY_SIZE &&
		    memcmp(p + k.mv_size - CACHE_DLPE_KEY_SIZE, id, CACHE_ID_SIZE) == 0) {
			rc = mdb_cursor_del(cur, 0);
			if (rc != MDB_SUCCESS)
				break;
			/* after a delete, NEXT yields the record that followed */
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			continue;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : cache_errno(rc);
}

/* Delete DC @id's entries and their nqn rows. Return: entries deleted. */
static int entries_delete_dc(struct cache *c, MDB_txn *txn, const uint8_t id[CACHE_ID_SIZE])
{
	uint8_t start[CACHE_DLPE_KEY_SIZE];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	bool corrupt = false;
	int rc, n = 0;

	cache_dlpe_key(id, 0, start);
	rc = mdb_cursor_open(txn, c->dbi[CACHE_DB_DLPE], &cur);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	k = (MDB_val){ sizeof(start), start };
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == MDB_SUCCESS && k.mv_size >= CACHE_ID_SIZE &&
	     memcmp(k.mv_data, id, CACHE_ID_SIZE) == 0;) {
		struct dlpe e;

		if (k.mv_size != CACHE_DLPE_KEY_SIZE ||
		    record_decode_dlpe(v.mv_data, v.mv_size, &e) < 0)
			corrupt = true;
		else if (e.subtype == DLPE_SUBTYPE_NVME) {
			uint8_t nk[CACHE_NQN_KEY_MAX];
			size_t nl = cache_nqn_key(
				e.subnqn, id, be32_get((uint8_t *)k.mv_data + CACHE_ID_SIZE), nk);
			int r = del_record(c, txn, CACHE_DB_NQN, nk, nl);
			if (r < 0) {
				mdb_cursor_close(cur);
				return r;
			}
		}
		rc = mdb_cursor_del(cur, 0);
		if (rc != MDB_SUCCESS)
			break;
		n++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return cache_errno(rc);
	if (corrupt) {
		int r = nqn_rows_delete_dc(c, txn, id);
		if (r < 0)
			return r;
	}
	return n;
}

struct purge_ctx {
	uint8_t id[CACHE_ID_SIZE];
	bool paths;
};

static int dc_purge_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	struct purge_ctx *ctx = ud;
	struct cache_dc old;
	int r;

	r = dc_get_txn(c, txn, ctx->id, &old);
	if (r == -EBADMSG) {
		/* a corrupt record can still be purged */
		old.instance_key[0] = '\0';
		r = 1;
	}
	if (r <= 0)
		return r;
	r = entries_delete_dc(c, txn, ctx->id);
	if (r < 0)
		return r;
	if (!isempty(old.instance_key)) {
		r = del_record(c, txn, CACHE_DB_IKEY, old.instance_key, strlen(old.instance_key));
		if (r < 0)
			return r;
	}
	r = del_record(c, txn, CACHE_DB_DC, ctx->id, CACHE_ID_SIZE);
	return r < 0 ? r : 1;
}

int cache_dc_purge(struct cache *c, const struct tid *tid)
{
	struct purge_ctx ctx = {};
	int r = cache_tid_id(tid, ctx.id);

	if (r < 0)
		return r;
	return cache_write(c, dc_purge_fn, &ctx);
}

static int purge_all_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	struct purge_ctx *ctx = ud;
	MDB_stat st;
	int rc;

	rc = mdb_stat(txn, c->dbi[CACHE_DB_DC], &st);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	for (int i = 0; i < _CACHE_DB_MAX; i++) {
		if (i == CACHE_DB_META || (i == CACHE_DB_PATH && !ctx->paths))
			continue;
		rc = mdb_drop(txn, c->dbi[i], 0);
		if (rc != MDB_SUCCESS)
			return cache_errno(rc);
	}
	return (int)MIN(st.ms_entries, (size_t)INT32_MAX);
}

int cache_purge_all(struct cache *c, bool paths)
{
	struct purge_ctx ctx = { .paths = paths };

	return cache_write(c, purge_all_fn, &ctx);
}

/* ---- discovery log pages ---------------------------------------------- */

/* Encoded entries packed in one buffer. */
struct packed {
	uint8_t *data;
	size_t size, alloc;
	size_t *off; /* n + 1 offsets */
	size_t n, n_alloc;
};

static void packed_done(struct packed *p)
{
	free(p->data);
	free(p->off);
	*p = (struct packed){};
}

static int packed_add(struct packed *p, const void *data, size_t size)
{
	if (p->n + 2 > p->n_alloc) {
		size_t n = p->n_alloc ? p->n_alloc * 2 : 64;
		size_t *o = realloc(p->off, n * sizeof(*o));
		if (!o)
			return -ENOMEM;
		p->off = o;
		p->n_alloc = n;
	}
	if (p->size + size > p->alloc) {
		size_t a = MAX(p->alloc * 2, p->size + size + 4096);
		uint8_t *d = realloc(p->data, a);
		if (!d)
			return -ENOMEM;
		p->data = d;
		p->alloc = a;
	}
	if (p->n == 0)
		p->off[0] = 0;
	memcpy(p->data + p->size, data, size);
	p->size += size;
	p->off[++p->n] = p->size;
	return 0;
}

static inline const uint8_t *packed_get(const struct packed *p, size_t i, size_t *ret_size)
{
	*ret_size = p->off[i + 1] - p->off[i];
	return p->data + p->off[i];
}

static bool packed_equal_at(const struct packed *a, size_t i, const struct packed *b, size_t j)
{
	size_t la, lb;
	const uint8_t *x = packed_get(a, i, &la), *y = packed_get(b, j, &lb);

	return la == lb && memcmp(x, y, la) == 0;
}

void cache_dlp_change_free(struct cache_dlp_change *ch)
{
	if (!ch)
		return;
	strv_free(ch->nqns_added);
	strv_free(ch->nqns_removed);
	strv_free(ch->nqns_changed);
	free(ch->referrals_added);
	free(ch->referrals_removed);
	*ch = (struct cache_dlp_change){};
}

/* One entry for sorting: its NQN (for I/O entries) and its encoding. */
struct sort_item {
	const char *nqn;
	const uint8_t *data;
	size_t size;
	const struct dlpe *e;
};

static int bytes_cmp(const struct sort_item *a, const struct sort_item *b)
{
	int r = memcmp(a->data, b->data, MIN(a->size, b->size));
	return r ? r : (a->size > b->size) - (a->size < b->size);
}

static int sort_item_cmp(const void *x, const void *y)
{
	const struct sort_item *a = x, *b = y;
	int r = strcmp(a->nqn, b->nqn);

	return r ? r : bytes_cmp(a, b);
}

static int strv_push(char ***l, size_t *n, const char *s)
{
	char **nl = realloc(*l, (*n + 2) * sizeof(char *));

	if (!nl)
		return -ENOMEM;
	*l = nl;
	nl[*n] = strdup(s);
	if (!nl[*n])
		return -ENOMEM;
	nl[++*n] = NULL;
	return 0;
}

static int dlpe_push(struct dlpe **l, size_t *n, const struct dlpe *e)
{
	struct dlpe *nl = realloc(*l, (*n + 1) * sizeof(*nl));

	if (!nl)
		return -ENOMEM;
	*l = nl;
	nl[(*n)++] = *e;
	return 0;
}

static size_t collect(const struct packed *p, const struct dlpe *e, uint8_t subtype,
		      struct sort_item *out)
{
	size_t k = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (e[i].subtype != subtype)
			continue;
		out[k].nqn = subtype == DLPE_SUBTYPE_NVME ? e[i].subnqn : "";
		out[k].data = packed_get(p, i, &out[k].size);
		out[k].e = &e[i];
		k++;
	}
	qsort(out, k, sizeof(*out), sort_item_cmp);
	return k;
}

/* What differs between the old and the new page of one DC. */
static int compute_change(const struct packed *oldp, const struct dlpe *olde,
			  const struct packed *newp, const struct dlpe *newe,
			  struct cache_dlp_change *ch)
{
	_cleanup_free_ struct sort_item *a = calloc(oldp->n + 1, sizeof(*a));
	_cleanup_free_ struct sort_item *b = calloc(newp->n + 1, sizeof(*b));
	size_t na, nb, i, j, n_add = 0, n_rm = 0, n_ch = 0;
	int r;

	if (!a || !b)
		return -ENOMEM;

	/* I/O subsystems: group by NQN; a group changed if its entry multiset did */
	na = collect(oldp, olde, DLPE_SUBTYPE_NVME, a);
	nb = collect(newp, newe, DLPE_SUBTYPE_NVME, b);
	for (i = 0, j = 0; i < na || j < nb;) {
		int c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].nqn, b[j].nqn);
		if (c < 0) {
			r = strv_push(&ch->nqns_removed, &n_rm, a[i].nqn);
			for (const char *q = a[i].nqn; i < na && streq(a[i].nqn, q); i++)
				;
		} else if (c > 0) {
			r = strv_push(&ch->nqns_added, &n_add, b[j].nqn);
			for (const char *q = b[j].nqn; j < nb && streq(b[j].nqn, q); j++)
				;
		} else {
			const char *q = a[i].nqn;
			bool same = true;
			for (; i < na && streq(a[i].nqn, q) && j < nb && streq(b[j].nqn, q);
			     i++, j++)
				if (bytes_cmp(&a[i], &b[j]) != 0)
					same = false;
			if ((i < na && streq(a[i].nqn, q)) || (j < nb && streq(b[j].nqn, q)))
				same = false;
			for (; i < na && streq(a[i].nqn, q); i++)
				;
			for (; j < nb && streq(b[j].nqn, q); j++)
				;
			r = same ? 0 : strv_push(&ch->nqns_changed, &n_ch, q);
		}
		if (r < 0)
			return r;
	}

	/* referrals: by identical entry */
	na = collect(oldp, olde, DLPE_SUBTYPE_REFERRAL, a);
	nb = collect(newp, newe, DLPE_SUBTYPE_REFERRAL, b);
	for (i = 0, j = 0; i < na || j < nb;) {
		int c = i >= na ? 1 : j >= nb ? -1 : bytes_cmp(&a[i], &b[j]);
		if (c < 0)
			r = dlpe_push(&ch->referrals_removed, &ch->n_referrals_removed, a[i++].e);
		else if (c > 0)
			r = dlpe_push(&ch->referrals_added, &ch->n_referrals_added, b[j++].e);
		else
			i++, j++, r = 0;
		if (r < 0)
			return r;
	}
	return 0;
}

struct dlp_put_ctx {
	const struct cache_dc *dc;
	uint8_t id[CACHE_ID_SIZE];
	const struct dlpe *entries;
	struct packed enc; /* the new page, encoded */
	uint64_t genctr;
	struct cache_dlp_change change;
};

/* Read DC @id's stored page (encoded and decoded). */
static int entries_load(struct cache *c, MDB_txn *txn, const uint8_t id[CACHE_ID_SIZE],
			struct packed *ret, struct dlpe **ret_e)
{
	uint8_t start[CACHE_DLPE_KEY_SIZE];
	_cleanup_free_ struct dlpe *e = NULL;
	size_t alloc = 0;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, r = 0;

	cache_dlpe_key(id, 0, start);
	rc = mdb_cursor_open(txn, c->dbi[CACHE_DB_DLPE], &cur);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	k = (MDB_val){ sizeof(start), start };
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == MDB_SUCCESS && k.mv_size >= CACHE_ID_SIZE &&
	     memcmp(k.mv_data, id, CACHE_ID_SIZE) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != CACHE_DLPE_KEY_SIZE ||
		    be32_get((uint8_t *)k.mv_data + CACHE_ID_SIZE) != ret->n) {
			r = -EBADMSG; /* a hole or a stray key: the page is not ours to diff */
			break;
		}
		if (ret->n >= alloc) {
			alloc = alloc ? alloc * 2 : 64;
			struct dlpe *ne = realloc(e, alloc * sizeof(*e));
			if (!ne) {
				r = -ENOMEM;
				break;
			}
			e = ne;
		}
		r = record_decode_dlpe(v.mv_data, v.mv_size, &e[ret->n]);
		if (r < 0)
			break;
		r = packed_add(ret, v.mv_data, v.mv_size);
		if (r < 0)
			break;
	}
	mdb_cursor_close(cur);
	if (r < 0)
		return r;
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return cache_errno(rc);
	*ret_e = TAKE_PTR(e);
	return 0;
}

static int nqn_row(struct cache *c, MDB_txn *txn, const char *nqn, const uint8_t id[CACHE_ID_SIZE],
		   uint32_t index, bool put)
{
	uint8_t key[CACHE_NQN_KEY_MAX];
	size_t l = cache_nqn_key(nqn, id, index, key);

	if (put)
		return put_record(c, txn, CACHE_DB_NQN, key, l, "", 0);
	return del_record(c, txn, CACHE_DB_NQN, key, l);
}

static int dlp_put_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	struct dlp_put_ctx *ctx = ud;
	_cleanup_free_ struct dlpe *olde = NULL;
	struct packed oldp = {};
	struct cache_dc old, rec;
	bool found, same;
	uint64_t now = cache_now_usec();
	int r;

	cache_dlp_change_free(&ctx->change); /* from an attempt before a map growth */

	r = dc_get_txn(c, txn, ctx->id, &old);
	if (r < 0)
		return r;
	found = r > 0;
	dc_merge(ctx->dc, found ? &old : NULL, &rec);

	r = entries_load(c, txn, ctx->id, &oldp, &olde);
	if (r == -EBADMSG) {
		/* a damaged page is replaced wholesale */
		r = entries_delete_dc(c, txn, ctx->id);
		packed_done(&oldp);
		free(TAKE_PTR(olde));
	}
	if (r < 0)
		goto out;

	same = found && old.genctr == ctx->genctr && old.n_entries == ctx->enc.n &&
	       oldp.n == ctx->enc.n;
	for (size_t i = 0; same && i < ctx->enc.n; i++)
		same = packed_equal_at(&oldp, i, &ctx->enc, i);

	rec.genctr = ctx->genctr;
	rec.n_entries = (uint32_t)ctx->enc.n;
	rec.stale = false;
	rec.last_errno = 0;
	rec.last_error_usec = 0;
	rec.last_error[0] = '\0';

	if (same) {
		if (now - old.last_read_usec >= CACHE_READ_TIME_GRANULARITY_USEC)
			rec.last_read_usec = now;
		if (!dc_record_equal(&rec, &old))
			r = dc_put_txn(c, txn, ctx->id, &rec, &old);
		r = r < 0 ? r : 0;
		goto out;
	}

	/* rewrite only the slots that differ */
	for (size_t i = 0; i < MAX(oldp.n, ctx->enc.n); i++) {
		uint8_t key[CACHE_DLPE_KEY_SIZE];
		bool have_old = i < oldp.n, have_new = i < ctx->enc.n;

		if (have_old && have_new && packed_equal_at(&oldp, i, &ctx->enc, i))
			continue;
		if (have_old && olde[i].subtype == DLPE_SUBTYPE_NVME) {
			r = nqn_row(c, txn, olde[i].subnqn, ctx->id, (uint32_t)i, false);
			if (r < 0)
				goto out;
		}
		cache_dlpe_key(ctx->id, (uint32_t)i, key);
		if (have_new) {
			size_t size;
			const uint8_t *data = packed_get(&ctx->enc, i, &size);
			r = put_record(c, txn, CACHE_DB_DLPE, key, sizeof(key), data, size);
			if (r >= 0 && ctx->entries[i].subtype == DLPE_SUBTYPE_NVME)
				r = nqn_row(c, txn, ctx->entries[i].subnqn, ctx->id, (uint32_t)i,
					    true);
		} else
			r = del_record(c, txn, CACHE_DB_DLPE, key, sizeof(key));
		if (r < 0)
			goto out;
	}

	rec.last_read_usec = now;
	r = dc_put_txn(c, txn, ctx->id, &rec, found ? &old : NULL);
	if (r < 0)
		goto out;
	r = compute_change(&oldp, olde, &ctx->enc, ctx->entries, &ctx->change);
	if (r >= 0)
		r = 1;
out:
	packed_done(&oldp);
	return r;
}

int cache_dlp_put(struct cache *c, const struct cache_dc *dc, const struct dlpe *entries, size_t n,
		  uint64_t genctr, struct cache_dlp_change *ret_change)
{
	struct dlp_put_ctx ctx = { .dc = dc, .entries = entries, .genctr = genctr };
	int r;

	assert(entries || n == 0);
	if (n > UINT32_MAX)
		return -E2BIG;
	r = dc_validate(dc);
	if (r < 0)
		return r;
	r = cache_tid_id(&dc->tid, ctx.id);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct record_buf b;

		if (entries[i].subtype == DLPE_SUBTYPE_NVME && isempty(entries[i].subnqn)) {
			packed_done(&ctx.enc);
			return -EINVAL;
		}
		record_encode_dlpe(&entries[i], &b);
		r = packed_add(&ctx.enc, b.data, b.size);
		if (r < 0) {
			packed_done(&ctx.enc);
			return r;
		}
	}
	r = cache_write(c, dlp_put_fn, &ctx);
	packed_done(&ctx.enc);
	if (r >= 0 && ret_change)
		*ret_change = ctx.change;
	else
		cache_dlp_change_free(&ctx.change);
	return r;
}

/* Iterate DLPE rows from @start while the key begins with @id (NULL: all). */
static int entries_walk(struct cache *c, MDB_txn *txn, const uint8_t *id, cache_entry_cb cb,
			void *userdata)
{
	uint8_t start[CACHE_DLPE_KEY_SIZE], cur_id[CACHE_ID_SIZE];
	struct cache_dc dc;
	bool have_dc = false;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, r = 0;

	if (!c->have[CACHE_DB_DLPE])
		return 0;
	rc = mdb_cursor_open(txn, c->dbi[CACHE_DB_DLPE], &cur);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	if (id) {
		cache_dlpe_key(id, 0, start);
		k = (MDB_val){ sizeof(start), start };
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	} else
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct dlpe e;

		if (k.mv_size != CACHE_DLPE_KEY_SIZE) {
			r = -EBADMSG;
			break;
		}
		if (id && memcmp(k.mv_data, id, CACHE_ID_SIZE) != 0)
			break;
		if (!have_dc || memcmp(k.mv_data, cur_id, CACHE_ID_SIZE) != 0) {
			memcpy(cur_id, k.mv_data, CACHE_ID_SIZE);
			r = dc_get_txn(c, txn, cur_id, &dc);
			if (r == 0)
				r = -EBADMSG; /* entries without their DC */
			if (r < 0)
				break;
			have_dc = true;
		}
		r = record_decode_dlpe(v.mv_data, v.mv_size, &e);
		if (r < 0)
			break;
		r = cb(&dc, &e, be32_get((uint8_t *)k.mv_data + CACHE_ID_SIZE), userdata);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		r = cache_errno(rc);
	mdb_cursor_close(cur);
	return r;
}

int cache_entries_foreach_dc(struct cache *c, const struct tid *dc_tid, cache_entry_cb cb,
			     void *userdata)
{
	uint8_t id[CACHE_ID_SIZE];
	struct cache_dc dc;
	MDB_txn *txn = NULL;
	int r;

	r = cache_tid_id(dc_tid, id);
	if (r < 0)
		return r;
	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	r = dc_get_txn(c, txn, id, &dc);
	if (r == 0)
		r = -ENOENT;
	if (r > 0)
		r = entries_walk(c, txn, id, cb, userdata);
	cache_read_end(c, txn);
	return r;
}

int cache_entries_foreach(struct cache *c, cache_entry_cb cb, void *userdata)
{
	MDB_txn *txn = NULL;
	int r;

	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	r = entries_walk(c, txn, NULL, cb, userdata);
	cache_read_end(c, txn);
	return r;
}

struct dlp_get_ctx {
	struct dlpe *e;
	size_t n, alloc;
};

static int dlp_get_cb(const struct cache_dc *dc, const struct dlpe *e, uint32_t index, void *ud)
{
	struct dlp_get_ctx *ctx = ud;

	(void)dc;
	(void)index;
	if (ctx->n >= ctx->alloc) {
		size_t a = ctx->alloc ? ctx->alloc * 2 : 16;
		struct dlpe *ne = realloc(ctx->e, a * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		ctx->e = ne;
		ctx->alloc = a;
	}
	ctx->e[ctx->n++] = *e;
	return 0;
}

int cache_dlp_get(struct cache *c, const struct tid *dc_tid, struct dlpe **ret, size_t *ret_n)
{
	struct dlp_get_ctx ctx = {};
	int r;

	r = cache_entries_foreach_dc(c, dc_tid, dlp_get_cb, &ctx);
	if (r == -ENOENT) {
		free(ctx.e);
		return 0;
	}
	if (r < 0) {
		free(ctx.e);
		return r;
	}
	*ret = ctx.e;
	*ret_n = ctx.n;
	return 1;
}

int cache_entries_foreach_nqn(struct cache *c, const char *nqn, cache_entry_cb cb, void *userdata)
{
	uint8_t prefix[TID_NQN_MAX + 1], cur_id[CACHE_ID_SIZE];
	size_t pl;
	struct cache_dc dc;
	bool have_dc = false;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int r, rc;

	if (isempty(nqn) || strlen(nqn) > TID_NQN_MAX)
		return -EINVAL;
	if (!c->have[CACHE_DB_NQN])
		return 0;
	pl = strlen(nqn) + 1;
	memcpy(prefix, nqn, pl); /* with its NUL */
	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	rc = mdb_cursor_open(txn, c->dbi[CACHE_DB_NQN], &cur);
	if (rc != MDB_SUCCESS) {
		cache_read_end(c, txn);
		return cache_errno(rc);
	}
	k = (MDB_val){ pl, prefix };
	r = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == MDB_SUCCESS && k.mv_size >= pl && memcmp(k.mv_data, prefix, pl) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *dk = (const uint8_t *)k.mv_data + pl;
		struct dlpe e;
		MDB_val ev;

		if (k.mv_size != pl + CACHE_DLPE_KEY_SIZE) {
			r = -EBADMSG;
			break;
		}
		if (!have_dc || memcmp(dk, cur_id, CACHE_ID_SIZE) != 0) {
			memcpy(cur_id, dk, CACHE_ID_SIZE);
			r = dc_get_txn(c, txn, cur_id, &dc);
			if (r == 0)
				r = -EBADMSG;
			if (r < 0)
				break;
			have_dc = true;
		}
		r = get_record(c, txn, CACHE_DB_DLPE, dk, CACHE_DLPE_KEY_SIZE, &ev);
		if (r == 0)
			r = -EBADMSG; /* index row without its entry */
		if (r < 0)
			break;
		r = record_decode_dlpe(ev.mv_data, ev.mv_size, &e);
		if (r < 0)
			break;
		r = cb(&dc, &e, be32_get(dk + CACHE_ID_SIZE), userdata);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		r = cache_errno(rc);
	mdb_cursor_close(cur);
	cache_read_end(c, txn);
	return r;
}

int cache_nqns_foreach(struct cache *c, int (*cb)(const char *nqn, unsigned n, void *userdata),
		       void *userdata)
{
	char nqn[TID_NQN_MAX + 1] = "";
	unsigned count = 0;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int r, rc;

	if (!c->have[CACHE_DB_NQN])
		return 0;
	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	rc = mdb_cursor_open(txn, c->dbi[CACHE_DB_NQN], &cur);
	if (rc != MDB_SUCCESS) {
		cache_read_end(c, txn);
		return cache_errno(rc);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t l;

		if (k.mv_size <= CACHE_DLPE_KEY_SIZE + 1 ||
		    (l = k.mv_size - CACHE_DLPE_KEY_SIZE - 1) > TID_NQN_MAX ||
		    ((char *)k.mv_data)[l] != '\0' || memchr(k.mv_data, '\0', l)) {
			r = -EBADMSG;
			break;
		}
		if (count > 0 && strlen(nqn) == l && memcmp(nqn, k.mv_data, l) == 0) {
			count++;
			continue;
		}
		if (count > 0) {
			r = cb(nqn, count, userdata);
			if (r != 0)
				break;
		}
		memcpy(nqn, k.mv_data, l);
		nqn[l] = '\0';
		count = 1;
	}
	if (r == 0 && rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		r = cache_errno(rc);
	if (r == 0 && count > 0)
		r = cb(nqn, count, userdata);
	mdb_cursor_close(cur);
	cache_read_end(c, txn);
	return r;
}

/* ---- I/O controller paths ---------------------------------------------- */

static int path_key_of(const struct tid *tid, uint8_t key[CACHE_PATH_KEY_MAX], size_t *ret_len)
{
	uint8_t id[CACHE_ID_SIZE];
	int r;

	if (isempty(tid->subsysnqn))
		return -EINVAL;
	r = cache_tid_id(tid, id);
	if (r < 0)
		return r;
	*ret_len = cache_path_key(tid->subsysnqn, id, key);
	return 0;
}

struct path_put_ctx {
	uint8_t key[CACHE_PATH_KEY_MAX];
	size_t keylen;
	struct record_buf b;
};

static int path_put_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	struct path_put_ctx *ctx = ud;
	int r = put_record(c, txn, CACHE_DB_PATH, ctx->key, ctx->keylen, ctx->b.data, ctx->b.size);

	return r < 0 ? r : 1;
}

int cache_path_put(struct cache *c, const struct cache_path *p)
{
	struct path_put_ctx ctx;
	struct cache_path rec = *p;
	int r;

	if ((unsigned)p->owner >= _CACHE_PATH_OWNER_MAX ||
	    (unsigned)p->state >= _CACHE_PATH_STATE_MAX || p->last_errno < 0 ||
	    !memchr(p->last_error, '\0', sizeof(p->last_error)) ||
	    !memchr(p->device, '\0', sizeof(p->device)))
		return -EINVAL;
	r = path_key_of(&p->tid, ctx.key, &ctx.keylen);
	if (r < 0)
		return r;
	if (rec.updated_usec == 0)
		rec.updated_usec = cache_now_usec();
	record_encode_path(&rec, &ctx.b);
	return cache_write(c, path_put_fn, &ctx);
}

int cache_path_get(struct cache *c, const struct tid *tid, struct cache_path *ret)
{
	uint8_t key[CACHE_PATH_KEY_MAX];
	struct cache_path p;
	MDB_txn *txn = NULL;
	MDB_val v;
	size_t kl;
	int r;

	r = path_key_of(tid, key, &kl);
	if (r < 0)
		return r;
	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	r = get_record(c, txn, CACHE_DB_PATH, key, kl, &v);
	if (r > 0) {
		r = record_decode_path(v.mv_data, v.mv_size, &p);
		r = r < 0 ? r : 1;
	}
	cache_read_end(c, txn);
	if (r > 0)
		*ret = p;
	return r;
}

static int path_remove_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	struct path_put_ctx *ctx = ud;

	return del_record(c, txn, CACHE_DB_PATH, ctx->key, ctx->keylen);
}

int cache_path_remove(struct cache *c, const struct tid *tid)
{
	struct path_put_ctx ctx;
	int r;

	r = path_key_of(tid, ctx.key, &ctx.keylen);
	if (r < 0)
		return r;
	return cache_write(c, path_remove_fn, &ctx);
}

int cache_path_foreach(struct cache *c, const char *nqn,
		       int (*cb)(const struct cache_path *p, void *userdata), void *userdata)
{
	uint8_t prefix[TID_NQN_MAX + 1];
	size_t pl = 0;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int r, rc;

	if (nqn) {
		if (isempty(nqn) || strlen(nqn) > TID_NQN_MAX)
			return -EINVAL;
		pl = strlen(nqn) + 1;
		memcpy(prefix, nqn, pl);
	}
	if (!c->have[CACHE_DB_PATH])
		return 0;
	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	rc = mdb_cursor_open(txn, c->dbi[CACHE_DB_PATH], &cur);
	if (rc != MDB_SUCCESS) {
		cache_read_end(c, txn);
		return cache_errno(rc);
	}
	k = (MDB_val){ pl, prefix };
	r = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, nqn ? MDB_SET_RANGE : MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct cache_path p;

		if (nqn && (k.mv_size < pl || memcmp(k.mv_data, prefix, pl) != 0))
			break;
		r = record_decode_path(v.mv_data, v.mv_size, &p);
		if (r < 0)
			break;
		r = cb(&p, userdata);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		r = cache_errno(rc);
	mdb_cursor_close(cur);
	cache_read_end(c, txn);
	return r;
}

/* ---- statistics ------------------------------------------------------- */

static int count_nqns(const char *nqn, unsigned n, void *ud)
{
	(void)nqn;
	(void)n;
	(*(uint64_t *)ud)++;
	return 0;
}

int cache_stats(struct cache *c, struct cache_stats *ret)
{
	struct cache_stats s = {};
	MDB_envinfo info;
	MDB_stat st;
	MDB_txn *txn = NULL;
	MDB_val v;
	uint64_t *counts[_CACHE_DB_MAX] = {
		[CACHE_DB_DC] = &s.n_dcs,	[CACHE_DB_DLPE] = &s.n_entries,
		[CACHE_DB_NQN] = &s.n_nqn_rows, [CACHE_DB_PATH] = &s.n_paths,
		[CACHE_DB_IKEY] = &s.n_ikeys,
	};
	_cleanup_free_ char *p = NULL;
	struct stat fst;
	int r, rc;

	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	for (int i = 0; i < _CACHE_DB_MAX; i++) {
		if (!counts[i] || !c->have[i])
			continue;
		rc = mdb_stat(txn, c->dbi[i], &st);
		if (rc != MDB_SUCCESS) {
			cache_read_end(c, txn);
			return cache_errno(rc);
		}
		*counts[i] = st.ms_entries;
	}
	uint64_t u = 0;
	if (cache_meta_get_uint(c, txn, "schema", &u) > 0)
		s.schema = (unsigned)MIN(u, (uint64_t)UINT32_MAX);
	if (cache_meta_get_uint(c, txn, "created", &u) > 0)
		s.created_usec = u;
	if (get_record(c, txn, CACHE_DB_META, "writer", 6, &v) > 0)
		snprintf(s.writer, sizeof(s.writer), "%.*s",
			 (int)MIN(v.mv_size, sizeof(s.writer) - 1), (const char *)v.mv_data);
	rc = mdb_env_info(c->env, &info);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_stat(c->env, &st);
	cache_read_end(c, txn);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	s.map_size = info.me_mapsize;
	s.page_size = st.ms_psize;
	s.used_size = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;

	r = cache_nqns_foreach(c, count_nqns, &s.n_nqns);
	if (r < 0)
		return r;
	if (asprintf(&p, "%s/data.mdb", c->dir) < 0)
		return -ENOMEM;
	if (stat(p, &fst) < 0)
		return negative_errno();
	s.file_size = (uint64_t)fst.st_size;
	*ret = s;
	return 0;
}
