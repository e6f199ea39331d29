/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "cache-internal.h"
#include "cache-lock.h"
#include "cache-record.h"
#include "cache.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "string-table.h"
#include "strv.h"

#define CACHE_MAPSIZE_DEFAULT ((size_t)32 << 20)
#define CACHE_MAPSIZE_LIMIT ((size_t)64 << 30)
#define CACHE_OPEN_RETRIES 50
#define CACHE_GROW_RETRIES 12
/* LMDB's smallest page: data.mdb holds at least two (the meta pages). */
#define CACHE_PAGE_MIN 4096
/* Below this much free space, a failed write is reported as a full disk. */
#define CACHE_LOW_SPACE ((uint64_t)1 << 20)
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

static const char *const cache_origin_table[_CACHE_ORIGIN_MAX] = {
	[CACHE_ORIGIN_CONFIG] = "config",     [CACHE_ORIGIN_MDNS] = "mdns",
	[CACHE_ORIGIN_REFERRAL] = "referral", [CACHE_ORIGIN_UDEV] = "udev",
	[CACHE_ORIGIN_MANUAL] = "manual",
};
DEFINE_STRING_TABLE_LOOKUP(cache_origin, enum cache_origin, _CACHE_ORIGIN_MAX)

static const char *const cache_dctype_table[_CACHE_DCTYPE_MAX] = {
	[CACHE_DCTYPE_UNKNOWN] = "unknown",
	[CACHE_DCTYPE_DDC] = "ddc",
	[CACHE_DCTYPE_CDC] = "cdc",
};
DEFINE_STRING_TABLE_LOOKUP(cache_dctype, enum cache_dctype, _CACHE_DCTYPE_MAX)

static const char *const cache_path_owner_table[_CACHE_PATH_OWNER_MAX] = {
	[CACHE_PATH_OWNER_STAS] = "stas",
	[CACHE_PATH_OWNER_OTHER] = "other",
};
DEFINE_STRING_TABLE_LOOKUP(cache_path_owner, enum cache_path_owner, _CACHE_PATH_OWNER_MAX)

static const char *const cache_path_state_table[_CACHE_PATH_STATE_MAX] = {
	[CACHE_PATH_UNKNOWN] = "unknown",	    [CACHE_PATH_CONNECTING] = "connecting",
	[CACHE_PATH_CONNECTED] = "connected",	    [CACHE_PATH_FAILED] = "failed",
	[CACHE_PATH_DISCONNECTED] = "disconnected",
};
DEFINE_STRING_TABLE_LOOKUP(cache_path_state, enum cache_path_state, _CACHE_PATH_STATE_MAX)

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

const char *cache_strerror(int r)
{
	switch (r) {
	case -EBADMSG:
		return "the cache is corrupt (run 'stasadm verify'; to recover, see stas-cache(7))";
	case -EUCLEAN:
		return "data.mdb is truncated: the cache is corrupt (recover with 'stasadm purge "
		       "--all' or 'stasadm import', see stas-cache(7))";
	case -EPROTO:
		return "the cache was written by a newer stas (schema too new); not writing";
	case -ENOSPC:
		return "no space left on device (or the cache reached its size limit)";
	case -EROFS:
		return "read-only file system or read-only access";
	case -EACCES:
		return "permission denied";
	case -EPERM:
		return "unsafe cache directory: it must be owned by this user or root and not "
		       "writable by group or others";
	case -ELOOP:
		return "data.mdb or lock.mdb is not a regular file (a symbolic link?): refusing to "
		       "open it";
	case -EBUSY:
		return "the cache is locked by another process (an import, see stas-cache(7))";
	default:
		return strerror(r < 0 ? -r : r);
	}
}

/* ---- bounds of what LMDB hands out ------------------------------------- */

/*
 * A pointer into this environment's map: the record of a named database in
 * the main database, read in a read transaction (never a dirty page).
 * LMDB does not say where it mapped the file (mdb_env_info()'s me_mapaddr
 * is only the fixed-map address).
 */
static const void *map_probe(struct cache *c)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi main_dbi;
	MDB_val k, v = {};

	if (mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn) != MDB_SUCCESS)
		return NULL;
	if (mdb_dbi_open(txn, NULL, 0, &main_dbi) != MDB_SUCCESS ||
	    mdb_cursor_open(txn, main_dbi, &cur) != MDB_SUCCESS ||
	    mdb_cursor_get(cur, &k, &v, MDB_FIRST) != MDB_SUCCESS)
		v.mv_data = NULL;
	if (cur)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return v.mv_data; /* the map outlives the transaction */
}

/* The mapping of file @st that holds @inside, from /proc/self/maps. */
static int map_find(const struct stat *st, const void *inside, const uint8_t **ret_start)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
	char line[512];

	if (!f)
		return negative_errno();
	/*
	 * stdio sizes its buffer by proc's 1 KiB block size: a dozen reads per
	 * open. The kernel hands over up to a page per read: one page each.
	 */
	(void)setvbuf(f, NULL, _IOFBF, 4096);
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, off, ino;
		unsigned maj, mnr;

		if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &start, &end, &off, &maj, &mnr,
			   &ino) != 6)
			continue;
		if (ino == st->st_ino && makedev(maj, mnr) == st->st_dev && off == 0 &&
		    (uintptr_t)inside >= start && (uintptr_t)inside < end) {
			*ret_start = (const uint8_t *)start;
			return 0;
		}
	}
	return -ENOENT;
}

/* The part of the map data.mdb backs, from the environment and the file. */
static int map_bounds_refresh(struct cache *c)
{
	MDB_envinfo info;
	MDB_stat est;
	struct stat st;
	const void *inside;
	const uint8_t *map = NULL;
	int fd = -1, rc;

	rc = mdb_env_info(c->env, &info);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_get_fd(c->env, &fd);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	if (fstat(fd, &st) < 0)
		return negative_errno();
	c->file_size = (uint64_t)st.st_size;
	/* a truncated file is not probed: the probe could read a missing page */
	rc = mdb_env_stat(c->env, &est);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	inside = (info.me_last_pgno + 1) * (uint64_t)est.ms_psize <= c->file_size ? map_probe(c) :
										    NULL;
	if (!inside || map_find(&st, inside, &map) < 0) {
		/* unknown: only the size limit applies */
		c->map = c->map_end = NULL;
		c->map_size = 0;
		return 0;
	}
	c->map = map;
	c->map_size = info.me_mapsize;
	c->map_end = c->map + MIN((uint64_t)st.st_size, (uint64_t)info.me_mapsize);
	return 0;
}

int cache_val_check(struct cache *c, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;

	/* every key and record stas writes is smaller (cache-record.h) */
	if (v->mv_size > CACHE_RECORD_MAX || (v->mv_size > 0 && !p))
		return -EBADMSG;
	for (unsigned pass = 0; pass < 2; pass++) {
		/* a dirty page of a write transaction lives outside the map */
		if (v->mv_size == 0 || !c->map || p < c->map || p >= c->map + c->map_size)
			return 0;
		if (p <= c->map_end && v->mv_size <= (size_t)(c->map_end - p))
			return 0;
		/* another process may have grown the file or the map since: look again */
		if (pass == 0 && map_bounds_refresh(c) < 0)
			break;
	}
	return -EBADMSG;
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
		(void)map_bounds_refresh(c);
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

void cache_read_endp(MDB_txn **txn)
{
	/* the environment's user context is its struct cache (env_open_once()) */
	if (*txn)
		cache_read_end(mdb_env_get_userctx(mdb_txn_env(*txn)), *txn);
}

int cache_range(struct cache *c, MDB_txn *txn, enum cache_db db, const void *prefix,
		size_t prefix_len, int (*fn)(struct cache_row *row, void *userdata), void *userdata)
{
	_cleanup_mdb_cursor_ MDB_cursor *cur = NULL;
	struct cache_row row = { .txn = txn, .key = { prefix_len, (void *)prefix } };
	int rc;

	if (!c->have[db])
		return 0;
	rc = mdb_cursor_open(txn, c->dbi[db], &cur);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	for (rc = mdb_cursor_get(cur, &row.key, &row.val, prefix_len ? MDB_SET_RANGE : MDB_FIRST);
	     rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &row.key, &row.val, MDB_NEXT)) {
		int r;

		if (prefix_len > 0 && (row.key.mv_size < prefix_len ||
				       memcmp(row.key.mv_data, prefix, prefix_len) != 0))
			return 0;
		r = cache_val_check(c, &row.key);
		if (r >= 0)
			r = cache_val_check(c, &row.val);
		if (r < 0)
			return r;
		row.remove = false;
		r = fn(&row, userdata);
		if (r != 0)
			return r;
		/* after a delete the cursor's NEXT is the row that followed */
		if (row.remove && (rc = mdb_cursor_del(cur, 0)) != MDB_SUCCESS)
			break;
	}
	return rc == MDB_NOTFOUND ? 0 : cache_errno(rc);
}

int cache_range_read(struct cache *c, enum cache_db db, const void *prefix, size_t prefix_len,
		     int (*fn)(struct cache_row *row, void *userdata), void *userdata)
{
	_cleanup_cache_read_ MDB_txn *txn = NULL;
	int r = cache_read_begin(c, &txn);

	return r < 0 ? r : cache_range(c, txn, db, prefix, prefix_len, fn, userdata);
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
	if (v.mv_size == 0 || v.mv_size >= sizeof(buf) || cache_val_check(c, &v) < 0)
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
	(void)map_bounds_refresh(c);
	return cache_errno(rc);
}

/* One attempt of cache_write(): begin, run @fn, commit. */
static int write_once(struct cache *c, int (*fn)(struct cache *c, MDB_txn *txn, void *ud), void *ud)
{
	_cleanup_mdb_txn_ MDB_txn *txn = NULL;
	char writer[128];
	int r, rc;

	rc = mdb_txn_begin(c->env, NULL, 0, &txn);
	if (rc != MDB_SUCCESS)
		return rc == MDB_MAP_RESIZED ? -EAGAIN : cache_errno(rc);

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
	if (r < 0)
		return r;
	rc = mdb_txn_commit(TAKE_PTR(txn));
	return rc == MDB_SUCCESS ? r : cache_errno(rc);
}

/*
 * LMDB reports a write that the full file system cut short as EIO (and an
 * extension of the file it could not make as EIO or ENOSPC): tell the
 * administrator what is wrong when the file system is (nearly) full.
 */
static int write_error(struct cache *c, int r)
{
	struct statvfs sv;

	if (r != -EIO || statvfs(c->dir, &sv) < 0)
		return r;
	if ((uint64_t)sv.f_bavail * sv.f_frsize < CACHE_LOW_SPACE ||
	    (sv.f_files > 0 && sv.f_favail == 0))
		return -ENOSPC;
	return r;
}

int cache_write(struct cache *c, int (*fn)(struct cache *c, MDB_txn *txn, void *ud), void *ud)
{
	if (!(c->flags & CACHE_RDWR))
		return -EROFS;

	for (unsigned attempt = 0;; attempt++) {
		int r = write_error(c, write_once(c, fn, ud));

		if (r == -EAGAIN && attempt < CACHE_GROW_RETRIES) {
			/* another process grew the map: adopt its size */
			r = cache_errno(mdb_env_set_mapsize(c->env, 0));
			if (r < 0)
				return r;
			(void)map_bounds_refresh(c);
			continue;
		}
		if (r != -EXFULL)
			return r;
		if (attempt >= CACHE_GROW_RETRIES)
			return -ENOSPC;
		r = grow_map(c);
		if (r < 0)
			return r;
	}
}

/* ---- open/close ------------------------------------------------------ */

static int open_dbis(struct cache *c, bool create)
{
	_cleanup_mdb_txn_ MDB_txn *txn = NULL;
	uint64_t schema = 0;
	int rc, r;

	rc = mdb_txn_begin(c->env, NULL, create ? 0 : MDB_RDONLY, &txn);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	for (int i = 0; i < _CACHE_DB_MAX; i++) {
		rc = mdb_dbi_open(txn, cache_db_names[i], create ? MDB_CREATE : 0, &c->dbi[i]);
		if (rc == MDB_NOTFOUND && !create)
			continue; /* never written: reads see it empty */
		if (rc != MDB_SUCCESS)
			return cache_errno(rc);
		c->have[i] = true;
	}
	if (create)
		r = meta_init(c, txn);
	else {
		r = cache_meta_get_uint(c, txn, "schema", &schema);
		if (r > 0)
			c->schema = (unsigned)MIN(schema, (uint64_t)UINT32_MAX);
	}
	if (r < 0)
		return r;
	return cache_errno(mdb_txn_commit(TAKE_PTR(txn)));
}

static bool open_retryable(int r, unsigned attempt)
{
	/* EBADMSG, EUCLEAN: a data file caught half-created by another process
	 * (it exists before its meta pages are written); a file that stays
	 * short for about 0.2 s is truncated. */
	return r == -EAGAIN || r == -EBUSY || (r == -EBADMSG && attempt < 3) ||
	       (r == -EUCLEAN && attempt < 20);
}

/*
 * A data.mdb shorter than the last page its newest meta page says is in use
 * (an interrupted copy, a full disk during a restore, a damaged file system)
 * would make the first read of a missing page kill the process with SIGBUS:
 * refuse it at open. Return: 0, -EUCLEAN (truncated), negative errno.
 */
static int env_check_size(struct cache *c)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc, r;

	rc = mdb_env_info(c->env, &info);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_stat(c->env, &st);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	r = map_bounds_refresh(c);
	if (r < 0)
		return r;
	if (st.ms_psize == 0 || info.me_last_pgno >= SIZE_MAX / st.ms_psize ||
	    (info.me_last_pgno + 1) * (uint64_t)st.ms_psize > c->file_size) {
		log_debug("cache: %s/data.mdb is truncated: %llu bytes, pages up to %zu in use "
			  "(page size %u)",
			  c->dir, (unsigned long long)c->file_size, (size_t)info.me_last_pgno,
			  st.ms_psize);
		return -EUCLEAN;
	}
	return 0;
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
	int r, rc;

	rc = mdb_env_create(&c->env);
	if (rc != MDB_SUCCESS)
		return cache_errno(rc);
	(void)mdb_env_set_userctx(c->env, c);
	(void)mdb_env_set_maxdbs(c->env, _CACHE_DB_MAX + 2);
	(void)mdb_env_set_mapsize(c->env, mapsize ? mapsize : CACHE_MAPSIZE_DEFAULT);
	if (!rdwr)
		envflags |= MDB_RDONLY;
	if (c->flags & CACHE_NOSYNC)
		envflags |= MDB_NOSYNC;
	rc = mdb_env_open(c->env, c->dir, envflags, 0644);
	r = rc == MDB_SUCCESS ? env_check_size(c) : cache_errno(rc);
	if (r < 0) {
		mdb_env_close(c->env);
		c->env = NULL;
		c->map = c->map_end = NULL;
		return r;
	}
	return 0;
}

/* lstat() @dir/@name. Return: 1 regular file, 0 absent, -ELOOP not a regular file. */
static int cache_file_stat(const char *dir, const char *name, struct stat *ret)
{
	_cleanup_free_ char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	if (lstat(p, ret) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	return S_ISREG(ret->st_mode) ? 1 : -ELOOP;
}

/*
 * Before LMDB opens (and creates, and truncates) anything in @dir: the
 * directory must be one nobody else could have planted files in (owned by
 * us or root, not writable by group or others), and data.mdb and lock.mdb
 * regular files, not symbolic links to somebody else's file. A data.mdb too
 * short to hold LMDB's two meta pages is truncated (LMDB itself would say
 * "Bad file descriptor" or start a new environment in it).
 * Return: 0, -ENOENT (no data.mdb and !@rdwr), -EPERM, -ELOOP, -EUCLEAN,
 * -ENOTDIR, negative errno.
 */
static int cache_dir_check(const char *dir, bool rdwr)
{
	struct stat st;
	int r;

	if (stat(dir, &st) < 0)
		return negative_errno();
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		log_debug("cache: %s is owned by uid %u, mode %04o: refusing it", dir,
			  (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	r = cache_file_stat(dir, "lock.mdb", &st);
	if (r < 0)
		return r;
	r = cache_file_stat(dir, "data.mdb", &st);
	if (r < 0)
		return r;
	if (r == 0)
		return rdwr ? 0 : -ENOENT;
	if (st.st_size < 2 * CACHE_PAGE_MIN) {
		log_debug("cache: %s/data.mdb is truncated (%lld bytes)", dir,
			  (long long)st.st_size);
		return -EUCLEAN;
	}
	return 0;
}

int cache_open_full(const char *dir, unsigned flags, size_t mapsize, struct cache **ret)
{
	_cleanup_cache_ struct cache *c = NULL;
	bool rdwr = flags & CACHE_RDWR;
	int r = 0, dead = 0;

	assert(ret);
	if (!dir)
		dir = cache_default_dir();

	if (rdwr) {
		r = mkdir_p(dir, 0755);
		if (r < 0)
			return r;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->flags = flags;
	c->lock_fd = -EBADF;
	cache_set_writer(c, program_invocation_short_name);
	c->dir = strdup(dir);
	if (!c->dir)
		return -ENOMEM;
	/* A writer holds the shared lock while open: an import waits for none (cache-lock.h). */
	if (rdwr && !(flags & CACHE_NOLOCK)) {
		r = cache_lock_dir(dir, false, CACHE_LOCK_WAIT_USEC, &c->lock_fd);
		if (r < 0)
			return r;
	}

	/* Several processes may create or open the environment at once; LMDB
	 * serialises lock-file setup with fcntl locks, but a loser can see a
	 * transient EAGAIN/EBUSY, a half-initialised lock file or a data file
	 * not yet holding its meta pages: retry. The directory check runs
	 * first in every attempt, before LMDB touches anything. */
	for (unsigned attempt = 0; attempt < CACHE_OPEN_RETRIES; attempt++) {
		r = cache_dir_check(dir, rdwr);
		if (r >= 0)
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
		return r;
	}
	*ret = TAKE_PTR(c);
	return 0;
}

int cache_open(const char *dir, unsigned flags, struct cache **ret)
{
	return cache_open_full(dir, flags, 0, ret);
}

int cache_set_aside(const char *dir, char *ret_path, size_t size)
{
	_cleanup_free_ char *data = NULL, *lock = NULL, *aside = NULL;
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	struct stat st;
	int r;

	assert(dir);
	r = cache_dir_check(dir, true);
	if (r < 0 && r != -EUCLEAN)
		return r;
	if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return -EINVAL;
	if (asprintf(&data, "%s/data.mdb", dir) < 0 || asprintf(&lock, "%s/lock.mdb", dir) < 0)
		return -ENOMEM;
	for (unsigned i = 0;; i++) {
		free(aside);
		aside = NULL;
		if ((i == 0 ? asprintf(&aside, "%s.corrupt-%s", data, stamp) :
			      asprintf(&aside, "%s.corrupt-%s.%u", data, stamp, i)) < 0)
			return -ENOMEM;
		if (lstat(aside, &st) < 0 && errno == ENOENT)
			break;
		if (i >= 100)
			return -EEXIST;
	}
	if (rename(data, aside) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	/* the lock file describes the old environment: a fresh one starts clean */
	if (unlink(lock) < 0 && errno != ENOENT)
		return negative_errno();
	if (ret_path)
		snprintf(ret_path, size, "%s", aside);
	return 1;
}

struct cache *cache_free(struct cache *c)
{
	if (!c)
		return NULL;
	if (c->rtxn)
		mdb_txn_abort(c->rtxn);
	if (c->env)
		mdb_env_close(c->env);
	if (c->lock_fd >= 0)
		(void)close(c->lock_fd);
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
	return cache_val_check(c, ret) < 0 ? -EBADMSG : 1;
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

/* Whether ikey row @key points at DC @id. */
static int ikey_points_at(struct cache *c, MDB_txn *txn, const char *key,
			  const uint8_t id[CACHE_ID_SIZE])
{
	MDB_val v;
	int r = get_record(c, txn, CACHE_DB_IKEY, key, strlen(key), &v);

	if (r <= 0)
		return r;
	return v.mv_size == CACHE_ID_SIZE && memcmp(v.mv_data, id, CACHE_ID_SIZE) == 0 ? 1 :
											 -EEXIST;
}

/* Write @rec under @id, keeping the ikey index in step with @old (NULL: new DC). */
static int dc_put_txn(struct cache *c, MDB_txn *txn, const uint8_t id[CACHE_ID_SIZE],
		      const struct cache_dc *rec, const struct cache_dc *old)
{
	struct record_buf b;
	int r;

	if (old && !streq(old->instance_key, rec->instance_key) && !isempty(old->instance_key)) {
		r = ikey_points_at(c, txn, old->instance_key, id);
		if (r > 0)
			r = del_record(c, txn, CACHE_DB_IKEY, old->instance_key,
				       strlen(old->instance_key));
		if (r < 0 && r != -EEXIST)
			return r;
	}
	if (!isempty(rec->instance_key)) {
		r = ikey_points_at(c, txn, rec->instance_key, id);
		if (r == 0)
			r = put_record(c, txn, CACHE_DB_IKEY, rec->instance_key,
				       strlen(rec->instance_key), id, CACHE_ID_SIZE);
		if (r < 0)
			return r;
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

static int dc_validate(const struct cache_dc *dc)
{
	if ((unsigned)dc->origin >= _CACHE_ORIGIN_MAX || (unsigned)dc->dctype >= _CACHE_DCTYPE_MAX)
		return -EINVAL;
	if (isempty(dc->tid.transport))
		return -EINVAL;
	if (!isempty(dc->instance_key) && !str_startswith(dc->instance_key, "key-"))
		return -EINVAL;
	if (memchr(dc->device, '\0', sizeof(dc->device)) == NULL ||
	    memchr(dc->instance_key, '\0', sizeof(dc->instance_key)) == NULL ||
	    memchr(dc->last_error, '\0', sizeof(dc->last_error)) == NULL)
		return -EINVAL;
	return 0;
}

/* ---- one DC record: the merge inside the write transaction ------------- */

/* The creation rule (cache.h): the origins stas-discover finds by itself. */
static bool origin_found_by_discovery(enum cache_origin o)
{
	switch (o) {
	case CACHE_ORIGIN_CONFIG:
	case CACHE_ORIGIN_MANUAL:
	case CACHE_ORIGIN_UDEV:
		return true;
	case CACHE_ORIGIN_MDNS:
	case CACHE_ORIGIN_REFERRAL:
	case _CACHE_ORIGIN_MAX:
		break;
	}
	return false;
}

/* The provenance rule (cache.h). */
static void provenance_apply(struct cache_dc *rec, const struct cache_dc *in)
{
	if (in->origin == CACHE_ORIGIN_CONFIG)
		rec->origin = CACHE_ORIGIN_CONFIG;
	if (in->origin != CACHE_ORIGIN_REFERRAL && rec->origin != CACHE_ORIGIN_REFERRAL) {
		rec->referral_depth = in->referral_depth;
		rec->referrer = in->referrer;
	}
}

/* One write to the record of DC @id; @fn changes the fields its writer owns. */
struct dc_update {
	uint8_t id[CACHE_ID_SIZE];
	const struct cache_dc *in; /* the caller's view: provenance (NULL: none) */
	bool create; /* a missing DC is created from @in's provenance */
	void (*fn)(struct cache_dc *rec, bool created, const struct dc_update *u);
	bool force; /* write even when nothing changed */
	/* arguments of the writers */
	int error;
	const char *msg;
	bool advertised;
	uint64_t usec;
	uint64_t genctr;
};

/*
 * Read DC @u->id in @txn and build its new version in *@ret_rec: the stored
 * record (or a new one when @u->create) with the rules and @u->fn applied.
 * Return: 1 and *@ret_old (it exists), 0 (new), -ENOENT (missing, not
 * created), negative errno.
 */
static int dc_merge_txn(struct cache *c, MDB_txn *txn, const struct dc_update *u,
			struct cache_dc *ret_old, struct cache_dc *ret_rec)
{
	int r = dc_get_txn(c, txn, u->id, ret_old);

	if (r < 0)
		return r;
	if (r == 0 && !u->create)
		return -ENOENT;
	if (r > 0) {
		*ret_rec = *ret_old;
		if (u->in)
			provenance_apply(ret_rec, u->in);
	} else
		*ret_rec = (struct cache_dc){ .tid = u->in->tid,
					      .origin = u->in->origin,
					      .referral_depth = u->in->referral_depth,
					      .referrer = u->in->referrer };
	if (u->fn)
		u->fn(ret_rec, r == 0, u);
	return r;
}

/* Write @rec when it differs from @old (NULL: a new DC) or @force. Return: 1 written, 0 not. */
static int dc_store_txn(struct cache *c, MDB_txn *txn, const uint8_t id[CACHE_ID_SIZE],
			const struct cache_dc *rec, const struct cache_dc *old, bool force)
{
	int r;

	if (old && !force && dc_record_equal(rec, old))
		return 0;
	r = dc_put_txn(c, txn, id, rec, old);
	return r < 0 ? r : 1;
}

static int dc_update_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	const struct dc_update *u = ud;
	struct cache_dc old, rec;
	int r = dc_merge_txn(c, txn, u, &old, &rec);

	return r < 0 ? r : dc_store_txn(c, txn, u->id, &rec, r > 0 ? &old : NULL, u->force);
}

static int dc_update(struct cache *c, const struct tid *tid, struct dc_update *u)
{
	int r = cache_tid_id(tid, u->id);

	return r < 0 ? r : cache_write(c, dc_update_fn, u);
}

/* ---- discovery controllers ------------------------------------------- */

/* cache_dc_put(): a new DC gets everything but the page and result fields. */
static void found_apply(struct cache_dc *rec, bool created, const struct dc_update *u)
{
	if (!created)
		return;
	rec->dctype = u->in->dctype;
	rec->persistent = u->in->persistent;
	rec->kato = u->in->kato;
	memcpy(rec->device, u->in->device, sizeof(rec->device));
	memcpy(rec->instance_key, u->in->instance_key, sizeof(rec->instance_key));
	rec->mdns_advertised = u->in->mdns_advertised;
	rec->mdns_last_advertised_usec = u->in->mdns_last_advertised_usec;
}

int cache_dc_put(struct cache *c, const struct cache_dc *dc)
{
	struct dc_update u = { .in = dc, .create = true, .fn = found_apply };
	int r = dc_validate(dc);

	return r < 0 ? r : dc_update(c, &dc->tid, &u);
}

int cache_dc_get(struct cache *c, const struct tid *tid, struct cache_dc *ret)
{
	_cleanup_cache_read_ MDB_txn *txn = NULL;
	uint8_t id[CACHE_ID_SIZE];
	struct cache_dc dc;
	int r;

	r = cache_tid_id(tid, id);
	if (r < 0)
		return r;
	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	r = dc_get_txn(c, txn, id, &dc);
	if (r > 0)
		*ret = dc;
	return r;
}

int cache_dc_get_by_instance_key(struct cache *c, const char *key, struct cache_dc *ret)
{
	_cleanup_cache_read_ MDB_txn *txn = NULL;
	struct cache_dc dc;
	MDB_val v;
	int r;

	if (isempty(key) || strlen(key) > CACHE_IKEY_MAX)
		return -EINVAL;
	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	r = get_record(c, txn, CACHE_DB_IKEY, key, strlen(key), &v);
	if (r > 0)
		r = v.mv_size != CACHE_ID_SIZE ? -EBADMSG : dc_get_txn(c, txn, v.mv_data, &dc);
	if (r > 0)
		*ret = dc;
	return r;
}

struct dc_walk {
	cache_dc_cb cb;
	void *userdata;
};

static int dc_row(struct cache_row *row, void *ud)
{
	struct dc_walk *w = ud;
	struct cache_dc dc;
	int r = record_decode_dc(row->val.mv_data, row->val.mv_size, &dc);

	return r < 0 ? r : w->cb(&dc, w->userdata);
}

int cache_dc_foreach(struct cache *c, cache_dc_cb cb, void *userdata)
{
	return cache_range_read(c, CACHE_DB_DC, NULL, 0, dc_row, &(struct dc_walk){ cb, userdata });
}

struct dc_array {
	struct cache_dc *v;
	size_t n, alloc;
};

static int dc_list_row(struct cache_row *row, void *ud)
{
	struct dc_array *a = ud;
	int r;

	if (GREEDY_REALLOC(a->v, a->alloc, a->n) < 0)
		return -ENOMEM;
	r = record_decode_dc(row->val.mv_data, row->val.mv_size, &a->v[a->n]);
	a->n += r >= 0;
	return r;
}

static int dc_tid_cmp(const void *x, const void *y)
{
	const struct tid *a = &((const struct cache_dc *)x)->tid;
	const struct tid *b = &((const struct cache_dc *)y)->tid;
	int r = 0;

	for (int f = 0; r == 0 && f < _TID_FIELD_MAX; f++)
		r = strcmp(tid_field_get(a, f), tid_field_get(b, f));
	return r;
}

int cache_dc_list(struct cache *c, struct cache_dc **ret, size_t *ret_n)
{
	_cleanup_free_ struct cache_dc *v = NULL;
	struct dc_array a = {};
	int r;

	r = cache_range_read(c, CACHE_DB_DC, NULL, 0, dc_list_row, &a);
	v = a.v;
	if (r < 0)
		return r;
	if (a.n > 0)
		qsort(v, a.n, sizeof(*v), dc_tid_cmp);
	*ret = TAKE_PTR(v);
	*ret_n = a.n;
	return 0;
}

static void error_apply(struct cache_dc *rec, bool created, const struct dc_update *u)
{
	(void)created;
	rec->stale = true;
	rec->last_errno = abs(u->error);
	rec->last_error_usec = cache_now_usec();
	snprintf(rec->last_error, sizeof(rec->last_error), "%s", strempty(u->msg));
	if (rec->first_failure_usec == 0)
		rec->first_failure_usec = rec->last_error_usec;
	if (rec->n_failures < UINT32_MAX)
		rec->n_failures++;
}

int cache_dc_set_error(struct cache *c, const struct cache_dc *dc, int error, const char *msg)
{
	struct dc_update u = { .in = dc,
			       .create = origin_found_by_discovery(dc->origin),
			       .fn = error_apply,
			       .force = true,
			       .error = error,
			       .msg = msg };
	int r = dc_validate(dc);

	return r < 0 ? r : dc_update(c, &dc->tid, &u);
}

static void triggers_done_apply(struct cache_dc *rec, bool created, const struct dc_update *u)
{
	(void)created;
	if (rec->genctr == u->genctr)
		rec->triggers_pending = false;
}

int cache_dc_triggers_done(struct cache *c, const struct tid *tid, uint64_t genctr)
{
	struct dc_update u = { .fn = triggers_done_apply, .genctr = genctr };

	return dc_update(c, tid, &u);
}

static void failures_reset_apply(struct cache_dc *rec, bool created, const struct dc_update *u)
{
	(void)created;
	(void)u;
	rec->first_failure_usec = 0;
	rec->n_failures = 0;
}

int cache_dc_failures_reset(struct cache *c, const struct tid *tid)
{
	struct dc_update u = { .fn = failures_reset_apply };

	/* dc_update() writes only a record that changed: 1, else 0 */
	return dc_update(c, tid, &u);
}

static void advertised_apply(struct cache_dc *rec, bool created, const struct dc_update *u)
{
	(void)created;
	rec->mdns_advertised = u->advertised;
	if (u->usec)
		rec->mdns_last_advertised_usec = u->usec;
}

int cache_dc_set_advertised(struct cache *c, const struct tid *tid, bool advertised, uint64_t usec)
{
	struct dc_update u = { .fn = advertised_apply, .advertised = advertised, .usec = usec };

	return dc_update(c, tid, &u);
}

/* Delete every nqn row pointing at DC id (full scan: only for corrupt entries). */
static int nqn_row_of_dc(struct cache_row *row, void *ud)
{
	const uint8_t *id = ud, *p = row->key.mv_data;

	row->remove = row->key.mv_size > CACHE_DLPE_KEY_SIZE &&
		      memcmp(p + row->key.mv_size - CACHE_DLPE_KEY_SIZE, id, CACHE_ID_SIZE) == 0;
	return 0;
}

struct entries_delete {
	struct cache *c;
	const uint8_t *id;
	bool corrupt;
	int n;
};

static int entry_delete_row(struct cache_row *row, void *ud)
{
	struct entries_delete *d = ud;
	struct dlpe e;

	if (row->key.mv_size != CACHE_DLPE_KEY_SIZE ||
	    record_decode_dlpe(row->val.mv_data, row->val.mv_size, &e) < 0)
		d->corrupt = true;
	else if (e.subtype == DLPE_SUBTYPE_NVME) {
		uint8_t nk[CACHE_NQN_KEY_MAX];
		size_t nl = cache_nqn_key(
			e.subnqn, d->id, be32_get((uint8_t *)row->key.mv_data + CACHE_ID_SIZE), nk);
		int r = del_record(d->c, row->txn, CACHE_DB_NQN, nk, nl);
		if (r < 0)
			return r;
	}
	row->remove = true;
	d->n++;
	return 0;
}

/* Delete DC @id's entries and their nqn rows. Return: entries deleted. */
static int entries_delete_dc(struct cache *c, MDB_txn *txn, const uint8_t id[CACHE_ID_SIZE])
{
	struct entries_delete d = { .c = c, .id = id };
	int r;

	r = cache_range(c, txn, CACHE_DB_DLPE, id, CACHE_ID_SIZE, entry_delete_row, &d);
	if (r >= 0 && d.corrupt)
		r = cache_range(c, txn, CACHE_DB_NQN, NULL, 0, nqn_row_of_dc, (void *)id);
	return r < 0 ? r : d.n;
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
	if (r >= 0 && !isempty(old.instance_key))
		r = del_record(c, txn, CACHE_DB_IKEY, old.instance_key, strlen(old.instance_key));
	if (r >= 0)
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

struct page_load {
	struct dlpe *e;
	size_t n, alloc;
};

static int page_load_row(struct cache_row *row, void *ud)
{
	struct page_load *p = ud;

	if (row->key.mv_size != CACHE_DLPE_KEY_SIZE ||
	    be32_get((uint8_t *)row->key.mv_data + CACHE_ID_SIZE) != p->n)
		return -EBADMSG; /* a hole or a stray key: the page is not ours to diff */
	if (GREEDY_REALLOC(p->e, p->alloc, p->n) < 0)
		return -ENOMEM;
	return record_decode_dlpe(row->val.mv_data, row->val.mv_size, &p->e[p->n++]);
}

/* Read DC @id's stored page. Return: 0 and *ret, *ret_n; -EBADMSG when damaged. */
static int page_load(struct cache *c, MDB_txn *txn, const uint8_t id[CACHE_ID_SIZE],
		     struct dlpe **ret, size_t *ret_n)
{
	struct page_load p = {};
	int r = cache_range(c, txn, CACHE_DB_DLPE, id, CACHE_ID_SIZE, page_load_row, &p);

	if (r < 0) {
		free(p.e);
		return r;
	}
	*ret = p.e;
	*ret_n = p.n;
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

/* Rewrite slot @i of DC @id's page: @old (NULL: none) becomes @new (NULL: none). */
static int page_slot_put(struct cache *c, MDB_txn *txn, const uint8_t id[CACHE_ID_SIZE], uint32_t i,
			 const struct dlpe *old, const struct dlpe *new)
{
	uint8_t key[CACHE_DLPE_KEY_SIZE];
	struct record_buf b;
	int r = 0;

	if (old && old->subtype == DLPE_SUBTYPE_NVME)
		r = nqn_row(c, txn, old->subnqn, id, i, false);
	if (r < 0)
		return r;
	cache_dlpe_key(id, i, key);
	if (!new)
		return del_record(c, txn, CACHE_DB_DLPE, key, sizeof(key));
	record_encode_dlpe(new, &b);
	r = put_record(c, txn, CACHE_DB_DLPE, key, sizeof(key), b.data, b.size);
	if (r >= 0 && new->subtype == DLPE_SUBTYPE_NVME)
		r = nqn_row(c, txn, new->subnqn, id, i, true);
	return r;
}

/* cache_dlp_put(): the session fields are stas-discover's. */
static void session_apply(struct cache_dc *rec, bool created, const struct dc_update *u)
{
	(void)created;
	rec->dctype = u->in->dctype;
	rec->persistent = u->in->persistent;
	rec->kato = u->in->kato;
	memcpy(rec->device, u->in->device, sizeof(rec->device));
	/* a unit started by the key must keep resolving: a key, once given, stays */
	if (!isempty(u->in->instance_key))
		memcpy(rec->instance_key, u->in->instance_key, sizeof(rec->instance_key));
}

struct dlp_put_ctx {
	struct dc_update u;
	const struct dlpe *entries;
	size_t n;
	uint64_t genctr;
	struct cache_dlp_change change;
};

static int dlp_put_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	struct dlp_put_ctx *ctx = ud;
	_cleanup_free_ struct dlpe *olde = NULL;
	struct cache_dc old, rec;
	size_t n_old = 0;
	uint64_t now = cache_now_usec();
	bool found, same;
	int r;

	cache_dlp_change_free(&ctx->change); /* from an attempt before a map growth */

	/* the record as stored now, not as the caller read it earlier */
	r = dc_merge_txn(c, txn, &ctx->u, &old, &rec);
	if (r < 0)
		return r;
	found = r > 0;

	r = page_load(c, txn, ctx->u.id, &olde, &n_old);
	if (r == -EBADMSG)
		r = entries_delete_dc(c, txn, ctx->u.id); /* a damaged page is replaced wholesale */
	if (r < 0)
		return r;

	same = found && old.genctr == ctx->genctr && old.n_entries == ctx->n &&
	       dlp_equal(olde, n_old, ctx->entries, ctx->n);
	rec.genctr = ctx->genctr;
	rec.n_entries = (uint32_t)ctx->n;
	rec.stale = false;
	rec.last_errno = 0;
	rec.last_error_usec = 0;
	rec.last_error[0] = '\0';
	rec.first_failure_usec = 0;
	rec.n_failures = 0;

	if (same) {
		if (now - old.last_read_usec >= CACHE_READ_TIME_GRANULARITY_USEC)
			rec.last_read_usec = now;
		r = dc_store_txn(c, txn, ctx->u.id, &rec, &old, false);
		return r < 0 ? r : 0;
	}

	/* rewrite only the slots that differ */
	for (size_t i = 0; i < MAX(n_old, ctx->n); i++) {
		const struct dlpe *o = i < n_old ? &olde[i] : NULL;
		const struct dlpe *e = i < ctx->n ? &ctx->entries[i] : NULL;

		if (o && e && dlpe_equal(o, e))
			continue;
		r = page_slot_put(c, txn, ctx->u.id, (uint32_t)i, o, e);
		if (r < 0)
			return r;
	}
	rec.last_read_usec = now;
	/* the units this change calls for are not started yet (cache_dc_triggers_done()) */
	rec.triggers_pending = true;
	r = dc_store_txn(c, txn, ctx->u.id, &rec, found ? &old : NULL, true);
	if (r >= 0)
		r = dlp_diff(olde, n_old, ctx->entries, ctx->n, &ctx->change);
	return r < 0 ? r : 1;
}

int cache_dlp_put(struct cache *c, const struct cache_dc *dc, const struct dlpe *entries, size_t n,
		  uint64_t genctr, struct cache_dlp_change *ret_change)
{
	struct dlp_put_ctx ctx = {
		.u = { .in = dc,
		       .create = origin_found_by_discovery(dc->origin),
		       .fn = session_apply },
		.entries = entries,
		.n = n,
		.genctr = genctr,
	};
	int r;

	assert(entries || n == 0);
	if (n > UINT32_MAX)
		return -E2BIG;
	r = dc_validate(dc);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (entries[i].subtype == DLPE_SUBTYPE_NVME && isempty(entries[i].subnqn))
			return -EINVAL;
	r = cache_tid_id(&dc->tid, ctx.u.id);
	if (r < 0)
		return r;
	r = cache_write(c, dlp_put_fn, &ctx);
	if (r >= 0 && ret_change)
		*ret_change = ctx.change;
	else
		cache_dlp_change_free(&ctx.change);
	return r;
}

/* Entries reached through dlpe rows (@skip 0) or nqn index rows (@skip: the NQN and its NUL). */
struct entry_walk {
	struct cache *c;
	cache_entry_cb cb;
	void *userdata;
	size_t skip;
	struct cache_dc dc; /* of the last entry */
	uint8_t dc_id[CACHE_ID_SIZE];
	bool have_dc;
};

static int entry_row(struct cache_row *row, void *ud)
{
	struct entry_walk *w = ud;
	const uint8_t *dk = (const uint8_t *)row->key.mv_data + w->skip;
	MDB_val ev = row->val;
	struct dlpe e;
	int r;

	if (row->key.mv_size != w->skip + CACHE_DLPE_KEY_SIZE)
		return -EBADMSG;
	if (!w->have_dc || memcmp(dk, w->dc_id, CACHE_ID_SIZE) != 0) {
		memcpy(w->dc_id, dk, CACHE_ID_SIZE);
		r = dc_get_txn(w->c, row->txn, w->dc_id, &w->dc);
		if (r == 0)
			r = -EBADMSG; /* entries without their DC */
		if (r < 0)
			return r;
		w->have_dc = true;
	}
	if (w->skip > 0) {
		r = get_record(w->c, row->txn, CACHE_DB_DLPE, dk, CACHE_DLPE_KEY_SIZE, &ev);
		if (r == 0)
			r = -EBADMSG; /* index row without its entry */
		if (r < 0)
			return r;
	}
	r = record_decode_dlpe(ev.mv_data, ev.mv_size, &e);
	if (r < 0)
		return r;
	return w->cb(&w->dc, &e, be32_get(dk + CACHE_ID_SIZE), w->userdata);
}

int cache_entries_foreach_dc(struct cache *c, const struct tid *dc_tid, cache_entry_cb cb,
			     void *userdata)
{
	_cleanup_cache_read_ MDB_txn *txn = NULL;
	struct entry_walk w = { .c = c, .cb = cb, .userdata = userdata };
	uint8_t id[CACHE_ID_SIZE];
	int r;

	r = cache_tid_id(dc_tid, id);
	if (r < 0)
		return r;
	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	r = dc_get_txn(c, txn, id, &w.dc);
	if (r == 0)
		return -ENOENT;
	if (r < 0)
		return r;
	return cache_range(c, txn, CACHE_DB_DLPE, id, CACHE_ID_SIZE, entry_row, &w);
}

int cache_entries_foreach(struct cache *c, cache_entry_cb cb, void *userdata)
{
	struct entry_walk w = { .c = c, .cb = cb, .userdata = userdata };

	return cache_range_read(c, CACHE_DB_DLPE, NULL, 0, entry_row, &w);
}

static int page_add(const struct cache_dc *dc, const struct dlpe *e, uint32_t index, void *ud)
{
	struct page_load *p = ud;

	(void)dc;
	(void)index;
	if (GREEDY_REALLOC(p->e, p->alloc, p->n) < 0)
		return -ENOMEM;
	p->e[p->n++] = *e;
	return 0;
}

int cache_dlp_get(struct cache *c, const struct tid *dc_tid, struct dlpe **ret, size_t *ret_n)
{
	struct page_load p = {};
	int r = cache_entries_foreach_dc(c, dc_tid, page_add, &p);

	if (r < 0) {
		free(p.e);
		return r == -ENOENT ? 0 : r;
	}
	*ret = p.e;
	*ret_n = p.n;
	return 1;
}

static int nqn_add(const struct cache_dc *dc, const struct dlpe *e, uint32_t index, void *ud)
{
	(void)dc;
	(void)index;
	if (e->subtype != DLPE_SUBTYPE_NVME)
		return 0;
	return strv_extend_unique(ud, e->subnqn) < 0 ? -ENOMEM : 0;
}

int cache_dc_nqns(struct cache *c, const struct tid *dc, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	int r = cache_entries_foreach_dc(c, dc, nqn_add, &l);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	*ret = TAKE_PTR(l);
	return 1;
}

int cache_entries_foreach_nqn(struct cache *c, const char *nqn, cache_entry_cb cb, void *userdata)
{
	struct entry_walk w = { .c = c, .cb = cb, .userdata = userdata };

	if (isempty(nqn) || strlen(nqn) > TID_NQN_MAX)
		return -EINVAL;
	w.skip = strlen(nqn) + 1; /* the prefix is the NQN with its NUL */
	return cache_range_read(c, CACHE_DB_NQN, nqn, w.skip, entry_row, &w);
}

struct nqn_count {
	int (*cb)(const char *nqn, unsigned n, void *userdata);
	void *userdata;
	char nqn[TID_NQN_MAX + 1];
	unsigned count;
};

static int nqn_count_row(struct cache_row *row, void *ud)
{
	struct nqn_count *w = ud;
	const char *k = row->key.mv_data;
	size_t l;
	int r;

	if (row->key.mv_size <= CACHE_DLPE_KEY_SIZE + 1 ||
	    (l = row->key.mv_size - CACHE_DLPE_KEY_SIZE - 1) > TID_NQN_MAX || k[l] != '\0' ||
	    memchr(k, '\0', l))
		return -EBADMSG;
	if (w->count > 0 && strlen(w->nqn) == l && memcmp(w->nqn, k, l) == 0) {
		w->count++;
		return 0;
	}
	if (w->count > 0 && (r = w->cb(w->nqn, w->count, w->userdata)) != 0)
		return r;
	memcpy(w->nqn, k, l);
	w->nqn[l] = '\0';
	w->count = 1;
	return 0;
}

int cache_nqns_foreach(struct cache *c, int (*cb)(const char *nqn, unsigned n, void *userdata),
		       void *userdata)
{
	struct nqn_count w = { .cb = cb, .userdata = userdata };
	int r = cache_range_read(c, CACHE_DB_NQN, NULL, 0, nqn_count_row, &w);

	if (r == 0 && w.count > 0)
		r = cb(w.nqn, w.count, userdata);
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

struct paths_write_ctx {
	const struct cache_path_op *ops;
	size_t n;
};

static int paths_write_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	struct paths_write_ctx *ctx = ud;
	uint64_t now = 0;
	int r, count = 0;

	for (size_t i = 0; i < ctx->n; i++) {
		const struct cache_path_op *op = &ctx->ops[i];
		struct path_put_ctx pc;
		struct cache_path rec = op->path;

		r = path_key_of(&op->path.tid, pc.key, &pc.keylen);
		if (r < 0)
			return r;
		if (op->remove) {
			r = del_record(c, txn, CACHE_DB_PATH, pc.key, pc.keylen);
		} else {
			/* One clock read for the batch: its records were written together. */
			if (rec.updated_usec == 0)
				rec.updated_usec = now ?: (now = cache_now_usec());
			record_encode_path(&rec, &pc.b);
			r = put_record(c, txn, CACHE_DB_PATH, pc.key, pc.keylen, pc.b.data,
				       pc.b.size);
			r = r < 0 ? r : 1;
		}
		if (r < 0)
			return r;
		count += r;
	}
	return count;
}

int cache_paths_write(struct cache *c, const struct cache_path_op *ops, size_t n)
{
	struct paths_write_ctx ctx = { .ops = ops, .n = n };

	if (n == 0)
		return 0;
	if (n > INT_MAX)
		return -E2BIG;
	/* Check everything before the transaction: one bad record writes nothing. */
	for (size_t i = 0; i < n; i++) {
		const struct cache_path *p = &ops[i].path;
		uint8_t key[CACHE_PATH_KEY_MAX];
		size_t kl;
		int r;

		if (!ops[i].remove &&
		    ((unsigned)p->owner >= _CACHE_PATH_OWNER_MAX ||
		     (unsigned)p->state >= _CACHE_PATH_STATE_MAX || p->last_errno < 0 ||
		     !memchr(p->last_error, '\0', sizeof(p->last_error)) ||
		     !memchr(p->device, '\0', sizeof(p->device))))
			return -EINVAL;
		r = path_key_of(&p->tid, key, &kl);
		if (r < 0)
			return r;
	}
	return cache_write(c, paths_write_fn, &ctx);
}

int cache_path_get(struct cache *c, const struct tid *tid, struct cache_path *ret)
{
	_cleanup_cache_read_ MDB_txn *txn = NULL;
	uint8_t key[CACHE_PATH_KEY_MAX];
	struct cache_path p;
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
	if (r > 0)
		r = record_decode_path(v.mv_data, v.mv_size, &p) < 0 ? -EBADMSG : 1;
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

struct path_walk {
	int (*cb)(const struct cache_path *p, void *userdata);
	void *userdata;
};

static int path_row(struct cache_row *row, void *ud)
{
	struct path_walk *w = ud;
	struct cache_path p;
	int r = record_decode_path(row->val.mv_data, row->val.mv_size, &p);

	return r < 0 ? r : w->cb(&p, w->userdata);
}

int cache_path_foreach(struct cache *c, const char *nqn,
		       int (*cb)(const struct cache_path *p, void *userdata), void *userdata)
{
	struct path_walk w = { cb, userdata };

	if (nqn && (isempty(nqn) || strlen(nqn) > TID_NQN_MAX))
		return -EINVAL;
	/* the prefix is the NQN with its NUL */
	return cache_range_read(c, CACHE_DB_PATH, nqn, nqn ? strlen(nqn) + 1 : 0, path_row, &w);
}

/* ---- statistics ------------------------------------------------------- */

static int count_nqns(const char *nqn, unsigned n, void *ud)
{
	(void)nqn;
	(void)n;
	(*(uint64_t *)ud)++;
	return 0;
}

/* The counts and meta of one snapshot. */
static int stats_txn(struct cache *c, struct cache_stats *s)
{
	_cleanup_cache_read_ MDB_txn *txn = NULL;
	uint64_t *counts[_CACHE_DB_MAX] = {
		[CACHE_DB_DC] = &s->n_dcs,	 [CACHE_DB_DLPE] = &s->n_entries,
		[CACHE_DB_NQN] = &s->n_nqn_rows, [CACHE_DB_PATH] = &s->n_paths,
		[CACHE_DB_IKEY] = &s->n_ikeys,
	};
	MDB_stat st;
	MDB_val v;
	uint64_t u = 0;
	int r, rc;

	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	for (int i = 0; i < _CACHE_DB_MAX; i++) {
		if (!counts[i] || !c->have[i])
			continue;
		rc = mdb_stat(txn, c->dbi[i], &st);
		if (rc != MDB_SUCCESS)
			return cache_errno(rc);
		*counts[i] = st.ms_entries;
	}
	if (cache_meta_get_uint(c, txn, "schema", &u) > 0)
		s->schema = (unsigned)MIN(u, (uint64_t)UINT32_MAX);
	if (cache_meta_get_uint(c, txn, "created", &u) > 0)
		s->created_usec = u;
	if (get_record(c, txn, CACHE_DB_META, "writer", 6, &v) > 0)
		snprintf(s->writer, sizeof(s->writer), "%.*s",
			 (int)MIN(v.mv_size, sizeof(s->writer) - 1), (const char *)v.mv_data);
	return 0;
}

int cache_stats(struct cache *c, struct cache_stats *ret)
{
	struct cache_stats s = {};
	_cleanup_free_ char *p = NULL;
	MDB_envinfo info;
	MDB_stat st;
	struct stat fst;
	int r, rc;

	r = stats_txn(c, &s);
	if (r < 0)
		return r;
	rc = mdb_env_info(c->env, &info);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_stat(c->env, &st);
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
