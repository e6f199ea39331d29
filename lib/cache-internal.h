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
};

/* Names of the databases, as in LMDB and in export files. */
extern const char *const cache_db_names[_CACHE_DB_MAX];
int cache_db_from_name(const char *s, size_t len);

/* MDB_* or positive errno -> negative errno (MDB_MAP_FULL -> -EXFULL: grow and retry). */
int cache_errno(int mdb_rc);

/* Read transactions: begin (or renew the kept one) / end. */
int cache_read_begin(struct cache *c, MDB_txn **ret);
void cache_read_end(struct cache *c, MDB_txn *txn);

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
