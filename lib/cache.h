/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.h - the persistent cache every stas program shares: discovery
 * controllers (DCs), their Discovery Log Page entries, an index from
 * subsystem NQN to entries, and I/O controller path state.
 *
 * One LMDB environment (default /var/cache/stas, $CACHE_DIRECTORY under
 * systemd). LMDB gives one writer at a time and lock-free readers that see a
 * consistent snapshot; stas keeps every logical change (a whole DLP, a DC
 * purge, an import) in ONE short write transaction, so a reader or a process
 * killed at any moment sees either the old or the new state, never a mix.
 * See stas-cache(7) for the layout, the record encoding and the export
 * format.
 *
 * Named databases (keys are binary; "dcid" is the first 8 bytes of
 * SHA-256(tid_key(dc)), so keys stay well under LMDB's 511-byte key limit
 * however long a transport ID is; each record holds the full TID and
 * cache_verify() checks the key against it):
 *   dc    dcid                                  -> DC record
 *   dlpe  dcid . be32 index                     -> DLP entry record
 *   nqn   subsysnqn . '\0' . dcid . be32 index  -> (empty)   I/O entries only
 *   path  subsysnqn . '\0' . pathid             -> path record
 *   ikey  "key-<hex>" instance key              -> dcid
 *   meta  "schema", "created", "writer"         -> text
 *
 * Rules for callers:
 *  - Functions return a negative errno on failure (LMDB codes are converted
 *    here), 0 when there was nothing to do or nothing found, >0 when they
 *    did something. Output parameters are untouched on failure.
 *  - Never fork() with an open cache; open it in the child after fork().
 *  - A program meeting a cache whose schema is newer than CACHE_SCHEMA_VERSION
 *    may read the records it understands, but every write returns -EPROTO.
 *  - foreach callbacks run inside a read transaction: they may call other
 *    read functions, but should not write. A callback returns <0 to abort
 *    (that value is returned), 0 to continue, >0 to stop (that value is
 *    returned).
 *  - lib/ logs at debug level only; the caller reports errors.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dlp-diff.h"
#include "dlpe.h"
#include "tid.h"

/* Bumped when the layout changes incompatibly (see stas-cache(7)). */
#define CACHE_SCHEMA_VERSION 1
/* Version of the export file format. */
#define CACHE_EXPORT_VERSION 1

#define CACHE_ERRMSG_MAX 127
#define CACHE_DEVICE_MAX 31
#define CACHE_IKEY_MAX 63

struct cache;

enum cache_open_flags {
	CACHE_RDONLY = 0,
	CACHE_RDWR = 1 << 0,
	/* Skip fsync on commit: a killed process still loses nothing, an OS
	 * crash may lose the last commits. For tests and bulk tools only. */
	CACHE_NOSYNC = 1 << 1,
	/* RDWR without the shared writer lock (cache-lock.h): only for a caller
	 * that holds the directory's lock exclusively itself (stasadm import). */
	CACHE_NOLOCK = 1 << 2,
};

enum cache_origin {
	CACHE_ORIGIN_CONFIG,
	CACHE_ORIGIN_MDNS,
	CACHE_ORIGIN_REFERRAL,
	CACHE_ORIGIN_UDEV,
	CACHE_ORIGIN_MANUAL,
	_CACHE_ORIGIN_MAX,
};

enum cache_dctype {
	CACHE_DCTYPE_UNKNOWN,
	CACHE_DCTYPE_DDC,
	CACHE_DCTYPE_CDC,
	_CACHE_DCTYPE_MAX,
};

/*
 * A discovery controller as the cache keeps it. A plain value (no
 * pointers). Times are CLOCK_REALTIME microseconds, 0 for "never".
 *
 * Field ownership. Several programs write the same record, each in its own
 * write transaction; every writer reads the stored record INSIDE its write
 * transaction and changes only the fields it owns, so no update is lost to
 * a copy read earlier (the fields of the caller's struct that it does not
 * own are ignored):
 *
 *   tid                           the key; never changes
 *   origin, referral_depth,       provenance: set by whoever creates the
 *   referrer                      record; later only the provenance rule
 *                                 below changes them
 *   dctype, persistent, kato,     the discovery session: stas-discover,
 *   device, instance_key          through cache_dlp_put() (an instance key,
 *                                 once set, is only ever replaced)
 *   mdns_advertised,              stas-mdns-watch, through
 *   mdns_last_advertised_usec     cache_dc_set_advertised() (and
 *                                 cache_dc_put() when it creates the DC)
 *   genctr, last_read_usec,       the page: cache_dlp_put()
 *   n_entries
 *   triggers_pending              set by cache_dlp_put() in the transaction
 *                                 that stores a changed page; cleared by
 *                                 cache_dc_triggers_done() once every unit
 *                                 the change calls for was started
 *   stale, last_errno,            the last result: cache_dlp_put() clears,
 *   last_error_usec, last_error   cache_dc_set_error() sets
 *   first_failure_usec,           failures since the last success:
 *   n_failures                    cache_dc_set_error() sets the first time
 *                                 and counts, cache_dlp_put() and
 *                                 cache_dc_failures_reset() clear
 *
 * Provenance rule (applied by cache_dc_put(), cache_dlp_put() and
 * cache_dc_set_error() to an existing record): a caller whose origin is
 * config makes the origin config (the configuration is authoritative); any
 * other origin is kept. referral_depth and referrer are kept while the
 * stored or the caller's origin is referral (a referral's are recorded by
 * its referrer when it creates the record); otherwise the caller's apply
 * (none, for a configured DC).
 *
 * Creation rule for the result writers cache_dlp_put() and
 * cache_dc_set_error(): they create a missing DC only when the caller's
 * origin is config, manual or udev - DCs stas-discover finds by itself.
 * An mdns or referral DC is recorded by its finder (stas-mdns-watch, the
 * referring DC's run, with cache_dc_put()) before its discovery starts, so
 * when its record is missing at write time it was purged meanwhile
 * (persistence expired, referral withdrawn, an administrator's purge): the
 * result is dropped with -ENOENT and the DC stays purged.
 */
struct cache_dc {
	struct tid tid; /* canonical; the identity */
	enum cache_origin origin;
	enum cache_dctype dctype;
	bool persistent; /* a persistent discovery connection is wanted */
	uint32_t kato; /* keep-alive timeout, seconds (0: default) */
	char device[CACHE_DEVICE_MAX + 1]; /* kernel name of its persistent connection, "nvme3" */
	char instance_key[CACHE_IKEY_MAX + 1]; /* "key-<hex>" when the unit instance is too long */
	/* mDNS */
	bool mdns_advertised;
	uint64_t mdns_last_advertised_usec;
	/* referrals: how many hops from a configured/mDNS DC, and which DC referred it */
	uint8_t referral_depth;
	struct tid referrer; /* all fields empty when none */
	/* the page and the last result */
	uint64_t genctr;
	uint64_t last_read_usec; /* last successful DLP read (to the minute) */
	uint32_t n_entries;
	bool triggers_pending; /* a changed page's stas-connect@/referral units not all started */
	bool stale; /* the last read failed; the entries are the last good page */
	int32_t last_errno; /* positive errno of the last failure, 0 for none */
	uint64_t last_error_usec;
	char last_error[CACHE_ERRMSG_MAX + 1];
	/* failures since the last success (record version 3): the give-up policy */
	uint64_t first_failure_usec; /* the first of them, 0: not failing */
	uint32_t n_failures;
};

enum cache_path_owner {
	CACHE_PATH_OWNER_STAS, /* stas connected it: stas may disconnect it */
	CACHE_PATH_OWNER_OTHER, /* found connected by someone else */
	_CACHE_PATH_OWNER_MAX,
};

enum cache_path_state {
	CACHE_PATH_UNKNOWN,
	CACHE_PATH_CONNECTING,
	CACHE_PATH_CONNECTED,
	CACHE_PATH_FAILED,
	CACHE_PATH_DISCONNECTED,
	_CACHE_PATH_STATE_MAX,
};

/* One I/O controller path (keyed by its canonical TID). */
struct cache_path {
	struct tid tid;
	enum cache_path_owner owner;
	enum cache_path_state state;
	uint32_t attempts; /* failed connect attempts since the last success */
	bool ncc; /* the DLP entry said "no CDC connectivity" */
	int32_t last_errno;
	char last_error[CACHE_ERRMSG_MAX + 1];
	uint64_t updated_usec; /* set by cache_path_put() when 0 */
	char device[CACHE_DEVICE_MAX + 1];
};

struct cache_stats {
	uint64_t n_dcs, n_entries, n_nqn_rows, n_nqns, n_paths, n_ikeys;
	uint64_t map_size; /* bytes reserved for the map */
	uint64_t used_size; /* bytes of pages in use (last page number * page size) */
	uint64_t file_size; /* data.mdb on disk */
	uint32_t page_size;
	unsigned schema; /* schema version in the cache (0: not initialised) */
	uint64_t created_usec;
	char writer[128]; /* last writer: "program pid usec" */
};

struct cache_import_summary {
	uint64_t records; /* records in the file */
	uint64_t dcs, entries, paths; /* in the file */
	uint64_t dcs_added, dcs_removed, dcs_changed, dcs_unchanged; /* vs. the cache */
	char reason[256]; /* why the import was refused; filled even on failure */
};

/**
 * cache_default_dir() - $CACHE_DIRECTORY when set by systemd (the first of a
 * ':'-separated list), else the compiled-in CACHEDIR (/var/cache/stas).
 */
const char *cache_default_dir(void);

/**
 * cache_open() - open (RDWR: create if needed, directory 0755) the cache in
 * @dir (NULL: cache_default_dir()). Retries the open race with other
 * processes, clears stale reader slots, and on RDWR creates the named
 * databases and the meta records.
 *
 * Before LMDB touches a file, @dir must be owned by the effective user or
 * root and not writable by group or others, and data.mdb and lock.mdb must
 * be regular files (never followed through a symbolic link). After opening,
 * data.mdb must be as long as the pages its meta page says are in use: a
 * truncated file is refused here instead of killing the process with SIGBUS
 * at the first read of a missing page.
 *
 * RDWR (without CACHE_NOLOCK) holds a shared lock on @dir until
 * cache_free(), waiting up to CACHE_LOCK_WAIT_USEC for an exclusive holder
 * (an import) to finish; see cache-lock.h.
 *
 * Return: 0 and *ret; -EBUSY (RDWR: the cache stayed locked by an import),
 * -ENOENT (RDONLY and no cache yet), -EACCES/-EROFS
 * (RDWR on a directory that cannot be written), -EPERM (unsafe directory),
 * -ELOOP (data.mdb or lock.mdb not a regular file), -EUCLEAN (data.mdb
 * truncated or empty), -EBADMSG (not an LMDB environment or corrupt), other
 * negative errno. cache_strerror() says each in words.
 */
int cache_open(const char *dir, unsigned flags, struct cache **ret);

/**
 * cache_strerror() - what a negative errno from a cache function means to
 * an administrator ("the cache is corrupt ...", "data.mdb is truncated ...",
 * "no space left on device", ...): the one wording every program prints.
 * Stateless; falls back to strerror().
 */
const char *cache_strerror(int r);

/**
 * cache_set_aside() - the recovery from a corrupt cache: rename @dir's
 * data.mdb to data.mdb.corrupt-<UTC time> (kept for analysis) and remove
 * lock.mdb, so the next RDWR cache_open() starts an empty environment.
 * Processes that still have the old environment open keep writing to the
 * set-aside file: stop the stas units first (stas-cache(7)).
 * @ret_path (may be NULL) receives the new name of the old data.mdb.
 * Return: 1 when moved, 0 when there was no data.mdb, negative errno
 * (-EPERM/-ELOOP: unsafe directory or files, nothing moved).
 */
int cache_set_aside(const char *dir, char *ret_path, size_t size);

/**
 * cache_open_full() - cache_open() with an initial map size in bytes (0:
 * the default 32 MiB, or the current size of an existing cache). The map
 * grows by doubling when full, so this matters only for tests.
 */
int cache_open_full(const char *dir, unsigned flags, size_t mapsize, struct cache **ret);

/** cache_free() - close; accepts NULL. Return: NULL. */
struct cache *cache_free(struct cache *c);

static inline void cache_freep(struct cache **c)
{
	cache_free(*c);
}
#define _cleanup_cache_ __attribute__((cleanup(cache_freep)))

/** cache_dir() - the directory @c was opened in. */
const char *cache_dir(const struct cache *c);

/**
 * cache_schema() - the schema version found in the cache (0: none yet).
 * cache_writable() - whether writes are possible (RDWR and schema known).
 */
unsigned cache_schema(const struct cache *c);
bool cache_writable(const struct cache *c);

/**
 * cache_set_writer() - the program name recorded in meta "writer" by every
 * write (default: program_invocation_short_name).
 */
void cache_set_writer(struct cache *c, const char *program);

/*
 * Enum names, as stasadm prints them and stas-cache(7) documents:
 * origin: config mdns referral udev manual; dctype: unknown ddc cdc;
 * owner: stas other; state: unknown connecting connected failed disconnected.
 * _to_string() returns NULL for out-of-range; _from_string() -EINVAL.
 */
const char *cache_origin_to_string(enum cache_origin o);
int cache_origin_from_string(const char *s);
const char *cache_dctype_to_string(enum cache_dctype t);
int cache_dctype_from_string(const char *s);
const char *cache_path_owner_to_string(enum cache_path_owner o);
int cache_path_owner_from_string(const char *s);
const char *cache_path_state_to_string(enum cache_path_state s);
int cache_path_state_from_string(const char *s);

/* ---- discovery controllers ------------------------------------------- */

/**
 * cache_dc_put() - record a DC its finder found (stas-mdns-watch, the
 * discovery that follows a referral). A missing DC is created from @dc:
 * every field but the page and result ones, which start at zero. An
 * existing DC keeps its record; only the provenance rule (see struct
 * cache_dc) applies.
 *
 * Return: 1 when written, 0 when the stored record was already as wanted,
 * -EPROTO (newer schema), -EROFS (opened RDONLY), -EEXIST (@dc's instance key
 * belongs to another DC), -EINVAL, other negative errno.
 */
int cache_dc_put(struct cache *c, const struct cache_dc *dc);

/**
 * cache_dc_get() - the record of the DC with TID @tid (canonical).
 * Return: 1 and *ret when found, 0 when not, negative errno (-EBADMSG: the
 * stored record is corrupt).
 */
int cache_dc_get(struct cache *c, const struct tid *tid, struct cache_dc *ret);

/**
 * cache_dc_get_by_instance_key() - resolve a "key-<hex>" unit instance.
 * Return: as cache_dc_get().
 */
int cache_dc_get_by_instance_key(struct cache *c, const char *key, struct cache_dc *ret);

typedef int (*cache_dc_cb)(const struct cache_dc *dc, void *userdata);

/**
 * cache_dc_foreach() - call @cb for every DC (in key order, which is not
 * meaningful to humans: sort for display). Return: see the callback rules,
 * -EBADMSG on a corrupt record, else 0.
 */
int cache_dc_foreach(struct cache *c, cache_dc_cb cb, void *userdata);

/**
 * cache_dc_list() - every DC, from one snapshot, in a newly allocated array
 * sorted by transport ID: field by field in enum tid_field order (transport,
 * traddr, trsvcid, ...), each compared with strcmp() - the order stasadm
 * prints, stable across runs - so callers need not sort.
 * Return: 0 and *@ret (free()), *@ret_n (NULL and 0 when the cache has no
 * DC); -EBADMSG on a corrupt record, other negative errno (*@ret and
 * *@ret_n untouched).
 */
int cache_dc_list(struct cache *c, struct cache_dc **ret, size_t *ret_n);

/**
 * cache_dc_set_error() - record that reading the DLP of DC @dc failed:
 * @error (positive or negative errno) and a short message (may be NULL;
 * truncated to CACHE_ERRMSG_MAX). The DC is marked stale and keeps its last
 * good entries. Of @dc only tid and the provenance fields are read: the
 * provenance rule applies, and the creation rule decides whether a missing
 * DC is created (see struct cache_dc).
 * Return: 1, -ENOENT when the DC is not in the cache and @dc's origin may
 * not create it (nothing written), other negative errno.
 */
int cache_dc_set_error(struct cache *c, const struct cache_dc *dc, int error, const char *msg);

/**
 * cache_dc_triggers_done() - clear the triggers_pending flag of DC @tid
 * (which cache_dlp_put() set when it stored a changed page): every unit the
 * change called for has been started. Only when the stored genctr is still
 * @genctr, so a run cannot clear the flag another run set for a newer page.
 * Return: 1 cleared, 0 nothing to do (not set, or a newer page), -ENOENT
 * (no such DC), negative errno.
 */
int cache_dc_triggers_done(struct cache *c, const struct tid *tid, uint64_t genctr);

/**
 * cache_dc_failures_reset() - forget @tid's failures since its last success
 * (first_failure_usec, n_failures), so a DC given up on is tried afresh: a
 * referral its referrer's changed page still lists. The rest of the record
 * is untouched.
 * Return: 1 when something was cleared, 0 when nothing was failing,
 * -ENOENT when the DC is not in the cache, other negative errno.
 */
int cache_dc_failures_reset(struct cache *c, const struct tid *tid);

/**
 * cache_dc_set_advertised() - the mDNS advertisement state of an existing DC
 * (@usec: when it was last seen advertised; 0 keeps the stored time).
 * Return: 1 when written, 0 when unchanged, -ENOENT, negative errno.
 */
int cache_dc_set_advertised(struct cache *c, const struct tid *tid, bool advertised, uint64_t usec);

/**
 * cache_dc_purge() - remove a DC, its entries, their index rows and its
 * instance key, in one transaction. Paths are kept (they record ownership).
 * Return: 1 when removed, 0 when not there, negative errno.
 */
int cache_dc_purge(struct cache *c, const struct tid *tid);

/**
 * cache_purge_all() - remove every DC and entry (and, with @paths, every
 * path record) in one transaction. Meta is kept.
 * Return: the number of DCs removed, or negative errno.
 */
int cache_purge_all(struct cache *c, bool paths);

/* ---- discovery log pages ---------------------------------------------- */

/**
 * cache_dlp_put() - store the DLP just read from @dc: in ONE transaction,
 * read the stored record, apply the creation and provenance rules and @dc's
 * session fields (dctype, persistent, kato, device, instance_key; see
 * struct cache_dc: nothing else of @dc is read, so mDNS state and the result
 * of another run are never overwritten), set genctr, clear stale and last
 * error, and replace the entries and their NQN index rows - but only when
 * @genctr or the entries differ from what is stored (entries are compared
 * field by field, in order). @entries must be normalised (dlpe.h).
 * @ret_change (may be NULL) receives what changed for this DC (dlp-diff.h);
 * free it with cache_dlp_change_free().
 *
 * A changed page also sets the DC's triggers_pending flag (struct cache_dc) in
 * the same transaction; an identical one leaves the flag as it is.
 * Return: 1 when the page changed, 0 when it was identical (the DC record is
 * still refreshed if its session changed or last_read_usec is older than a
 * minute), negative errno (-ENOENT: the DC is gone and @dc's origin may not
 * create it - it was purged while being read; -EPROTO: newer schema;
 * -ENOSPC: disk or map full; the previous content is intact on every
 * error).
 */
int cache_dlp_put(struct cache *c, const struct cache_dc *dc, const struct dlpe *entries, size_t n,
		  uint64_t genctr, struct cache_dlp_change *ret_change);

/**
 * cache_dlp_get() - all entries of one DC, newly allocated (NULL and 0 when
 * none). Return: 1 found (the DC exists), 0 no such DC, negative errno.
 */
int cache_dlp_get(struct cache *c, const struct tid *dc_tid, struct dlpe **ret, size_t *ret_n);

/**
 * cache_dc_nqns() - the distinct I/O subsystem NQNs DC @dc lists, in page
 * order of their first entry, as a newly allocated string list (strv.h; NULL
 * when the page lists none).
 * Return: 1 and *@ret (the DC is known), 0 (no such DC; *@ret untouched),
 * negative errno.
 */
int cache_dc_nqns(struct cache *c, const struct tid *dc, char ***ret);

typedef int (*cache_entry_cb)(const struct cache_dc *dc, const struct dlpe *e, uint32_t index,
			      void *userdata);

/**
 * cache_entries_foreach_dc() - every entry of one DC, in page order.
 * Return: callback rules; -ENOENT when the DC is unknown.
 */
int cache_entries_foreach_dc(struct cache *c, const struct tid *dc_tid, cache_entry_cb cb,
			     void *userdata);

/**
 * cache_entries_foreach_nqn() - every I/O (subtype nvme) entry for @nqn
 * across all DCs, with the DC that listed it. One range scan of the index.
 */
int cache_entries_foreach_nqn(struct cache *c, const char *nqn, cache_entry_cb cb, void *userdata);

/**
 * cache_entries_foreach() - every entry of every DC (listing, export of
 * pages, stas-cached's get_all_log_pages).
 */
int cache_entries_foreach(struct cache *c, cache_entry_cb cb, void *userdata);

/**
 * cache_nqns_foreach() - every distinct I/O subsystem NQN, with the number
 * of entries (paths wanted) listing it.
 */
int cache_nqns_foreach(struct cache *c, int (*cb)(const char *nqn, unsigned n, void *userdata),
		       void *userdata);

/* ---- I/O controller paths ---------------------------------------------- */

/**
 * cache_path_put() - insert or replace the state of path @p->tid (its
 * subsysnqn must be set). updated_usec is set to now when 0.
 * Return: 1, negative errno.
 */
int cache_path_put(struct cache *c, const struct cache_path *p);

/* One change of cache_paths_write(): put @path, or remove @path.tid's record. */
struct cache_path_op {
	struct cache_path path;
	bool remove;
};

/**
 * cache_paths_write() - apply @n path puts and removes, in order, as one
 * write transaction: one commit (one fdatasync) for a whole batch, and all
 * of them or none. Every record is checked as cache_path_put() checks it
 * before anything is written.
 * Return: how many records were written or removed (a remove of an absent
 * record does not count), negative errno (nothing written).
 */
int cache_paths_write(struct cache *c, const struct cache_path_op *ops, size_t n);

/** cache_path_get() - Return: 1 and *ret, 0 when unknown, negative errno. */
int cache_path_get(struct cache *c, const struct tid *tid, struct cache_path *ret);

/** cache_path_remove() - Return: 1 removed, 0 not there, negative errno. */
int cache_path_remove(struct cache *c, const struct tid *tid);

/**
 * cache_path_foreach() - every path, or those of subsystem @nqn (one range
 * scan) when @nqn is not NULL.
 */
int cache_path_foreach(struct cache *c, const char *nqn,
		       int (*cb)(const struct cache_path *p, void *userdata), void *userdata);

/* ---- administration ---------------------------------------------------- */

/** cache_stats() - counts and sizes. Return: 0 and *ret, negative errno. */
int cache_stats(struct cache *c, struct cache_stats *ret);

/**
 * cache_verify() - check every record decodes, every key matches its
 * record, the NQN index and the entries agree both ways, entry counts and
 * instance keys are consistent, and the schema is known. Each problem is
 * passed to @report (may be NULL) as one line of text.
 * Return: the number of problems (0: clean), or negative errno.
 */
int cache_verify(struct cache *c, void (*report)(const char *problem, void *userdata),
		 void *userdata);

/**
 * cache_export() - write a complete dump of every database to @f:
 * a header line "stas-cache-export <version> schema <n> records <n>
 * bytes <n> sha256 <hex>" then the body, one record per line
 * ("<db> <hex key> <hex value>"), in key order, from one snapshot.
 * Every key and value length is checked against data.mdb before it is
 * read; nothing is written to @f unless the whole dump could be made.
 * Return: the number of records, or negative errno (-EBADMSG: a corrupt
 * record, and *@ret_db, when @ret_db is not NULL, names its database).
 */
int cache_export(struct cache *c, FILE *f, const char **ret_db);

/**
 * cache_import() - replace the whole cache with an export read from @f.
 * Everything is checked before the cache is touched (header, length,
 * checksum, every record decodes, no duplicates, schema); then the content
 * is replaced and cross-checked (cache_verify() rules) in ONE write
 * transaction that is committed only when clean. With @dry_run nothing is
 * written. @ret_summary (may be NULL) gets counts and the DCs that would
 * be/were added, removed or changed; its reason field says why the file was
 * refused and is filled on failure too.
 *
 * Return: 0 (dry run) or 1 (imported); -ENODATA (truncated or empty),
 * -EBADMSG (altered, corrupt, not an export), -EPROTO (newer export format
 * or schema), other negative errno. The cache is unchanged on every error.
 */
int cache_import(struct cache *c, FILE *f, bool dry_run, struct cache_import_summary *ret_summary);
