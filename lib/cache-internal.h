/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache-internal.h - what lib/cache.c shares with cache-export.c and
 * cache-verify.c. Not for use outside lib/cache*.c.
 */
#pragma once

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "macro.h"

enum cache_db {
	CACHE_DB_DC,
	CACHE_DB_DLPE,
	CACHE_DB_NQN,
	CACHE_DB_PATH,
	CACHE_DB_IKEY,
	CACHE_DB_META,
	_CACHE_DB_MAX,
};

struct cache {
	MDB_env *env;
	MDB_dbi dbi[_CACHE_DB_MAX];
	bool have[_CACHE_DB_MAX]; /* false: absent in a read-only view (empty) */
	unsigned flags;
	unsigned schema;
	char *dir;
	char writer[64];
	MDB_txn *rtxn; /* a reset read txn kept for renewal (saves the reader-slot dance) */
	bool rtxn_busy;
	/* Bytes [map, map_end) of the map are backed by data.mdb: a key or value
	 * LMDB hands out must lie inside (a corrupt length would otherwise make
	 * us read past the file's end: SIGBUS). Refreshed when the file or map
	 * grows (cache_val_check()). */
	const uint8_t *map, *map_end;
	size_t map_size;
	uint64_t file_size; /* of data.mdb, when the bounds were last taken */
	int lock_fd; /* RDWR: the shared lock on the directory (cache-lock.h), or -EBADF */
};

/*
 * cache_val_check() - whether the key or value @v that LMDB returned can be
 * read: no longer than any record stas writes and, when it points into the
 * map, ending before the end of data.mdb. Return: 0, or -EBADMSG.
 */
int cache_val_check(struct cache *c, const MDB_val *v);

/* Names of the databases, as in LMDB and in export files. */
extern const char *const cache_db_names[_CACHE_DB_MAX];
int cache_db_from_name(const char *s, size_t len);

/* MDB_* or positive errno -> negative errno (MDB_MAP_FULL -> -EXFULL: grow and retry). */
int cache_errno(int mdb_rc);

/*
 * Read transactions: begin (or renew the kept one) / end. A variable
 * declared _cleanup_cache_read_ ends the transaction it holds (NULL: none)
 * when it goes out of scope.
 */
int cache_read_begin(struct cache *c, MDB_txn **ret);
void cache_read_end(struct cache *c, MDB_txn *txn);
void cache_read_endp(MDB_txn **txn);
#define _cleanup_cache_read_ _cleanup_(cache_read_endp)

/* Any other transaction (a write, the open-time one): aborted unless TAKE_PTR()ed to commit. */
DEFINE_TRIVIAL_CLEANUP_FUNC(MDB_txn *, mdb_txn_abort)
#define _cleanup_mdb_txn_ _cleanup_(mdb_txn_abortp)

DEFINE_TRIVIAL_CLEANUP_FUNC(MDB_cursor *, mdb_cursor_close)
#define _cleanup_mdb_cursor_ _cleanup_(mdb_cursor_closep)

/* One row visited by cache_range(). */
struct cache_row {
	MDB_txn *txn; /* the transaction walked */
	MDB_val key, val;
	bool remove; /* set by the callback: delete this row (write transactions only) */
};

/*
 * cache_range() - the one cursor loop: call @fn for every row of @db whose
 * key starts with the @prefix_len bytes at @prefix (0: every row), in key
 * order, inside @txn. A database absent from a read-only view is empty.
 * @fn follows the callback rules of cache.h (<0 aborts, 0 continues, >0
 * stops; that value is returned); when it sets row->remove (and returns 0),
 * the row is deleted and the walk goes on with the row that followed it.
 * Return: the callback's value, 0 at the end, negative errno from LMDB.
 */
int cache_range(struct cache *c, MDB_txn *txn, enum cache_db db, const void *prefix,
		size_t prefix_len, int (*fn)(struct cache_row *row, void *userdata),
		void *userdata);
/* cache_range() in a read transaction of its own. */
int cache_range_read(struct cache *c, enum cache_db db, const void *prefix, size_t prefix_len,
		     int (*fn)(struct cache_row *row, void *userdata), void *userdata);

/*
 * Run @fn in a write transaction and commit: checks the schema first, records
 * the writer in meta, grows the map and runs @fn again when it fills up.
 * @fn returns negative errno (the txn is aborted) or >= 0 (committed; that
 * value is returned).
 */
int cache_write(struct cache *c, int (*fn)(struct cache *c, MDB_txn *txn, void *ud), void *ud);

/* meta helpers */
int cache_meta_get_uint(struct cache *c, MDB_txn *txn, const char *key, uint64_t *ret);
int cache_meta_put_str(struct cache *c, MDB_txn *txn, const char *key, const char *value);

/* Verification over one transaction (cache_verify(), and import before commit). */
int cache_verify_txn(struct cache *c, MDB_txn *txn,
		     void (*report)(const char *problem, void *userdata), void *userdata);

uint64_t cache_now_usec(void);
