/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache-record.h - the on-disk encoding of cache records and keys (internal
 * to lib/cache*.c).
 *
 * A record is a version byte followed by fields: integers as unsigned LEB128
 * varints, small enums and flag sets as one byte, strings as a varint length
 * and the bytes (no NUL). Decoding is strict: every length is checked
 * against the remaining bytes and the field's maximum, enums and flags
 * against their ranges, and a record of the current version must end
 * exactly after its last field; anything else is -EBADMSG. A record with a
 * NEWER version is decoded as far as this version's fields go and the rest is
 * ignored: versions only ever append fields (see stas-cache(7)). From
 * version 2 on, the last CACHE_RECORD_CHECKSUM bytes are the start of the
 * SHA-256 of everything before them, checked before any field is read (a
 * version 1 program ignores them as a newer version's extra field).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "dlpe.h"

/*
 * Version 2 appends a checksum to version 1's fields (both are read). A DC
 * record of version 3 adds first_failure_usec and n_failures after version
 * 1's fields, before the checksum; a version 2 program reads it as a newer
 * record (its known prefix), a version 3 program reads 1 and 2 with both 0.
 */
#define CACHE_DC_RECORD_VERSION 3
#define CACHE_DLPE_RECORD_VERSION 2
#define CACHE_PATH_RECORD_VERSION 2
#define CACHE_RECORD_CHECKSUM 4 /* bytes of SHA-256 ending a version >= 2 record */

/* Largest encoded record (a DC with two maximal TIDs is about 2.3 KiB). */
#define CACHE_RECORD_MAX 4096

#define CACHE_ID_SIZE 8 /* dcid / pathid: first bytes of SHA-256(tid_key) */
#define CACHE_DLPE_KEY_SIZE (CACHE_ID_SIZE + 4)
#define CACHE_NQN_KEY_MAX (TID_NQN_MAX + 1 + CACHE_DLPE_KEY_SIZE)
#define CACHE_PATH_KEY_MAX (TID_NQN_MAX + 1 + CACHE_ID_SIZE)

struct record_buf {
	uint8_t data[CACHE_RECORD_MAX];
	size_t size;
};

void record_encode_dc(const struct cache_dc *dc, struct record_buf *ret);
void record_encode_dlpe(const struct dlpe *e, struct record_buf *ret);
void record_encode_path(const struct cache_path *p, struct record_buf *ret);

/** Return: 0, or -EBADMSG for a malformed record (*ret then undefined). */
int record_decode_dc(const void *data, size_t size, struct cache_dc *ret);
int record_decode_dlpe(const void *data, size_t size, struct dlpe *ret);
int record_decode_path(const void *data, size_t size, struct cache_path *ret);

/**
 * record_validate_dc() / _dlpe() / _path() - whether a decoded record means
 * something stas could have written: TIDs canonical (tid_canonicalize()
 * leaves them unchanged; printable), entries exactly what dlpe_from_nvmf()
 * makes of them, device names, instance keys and error texts printable.
 * cache_verify() and cache_import() apply them to every record.
 * Return: 0, or -EBADMSG.
 */
int record_validate_dc(const struct cache_dc *dc);
int record_validate_dlpe(const struct dlpe *e);
int record_validate_path(const struct cache_path *p);

/**
 * cache_tid_id() - the 8-byte id of @t: SHA-256 of tid_key(@t).
 * Return: 0 or negative errno from tid_key().
 */
int cache_tid_id(const struct tid *t, uint8_t ret[CACHE_ID_SIZE]);

/* dlpe key: dcid . be32 index */
void cache_dlpe_key(const uint8_t dcid[CACHE_ID_SIZE], uint32_t index,
		    uint8_t ret[CACHE_DLPE_KEY_SIZE]);
/* nqn key: nqn . '\0' . dcid . be32 index. Return: its length. */
size_t cache_nqn_key(const char *nqn, const uint8_t dcid[CACHE_ID_SIZE], uint32_t index,
		     uint8_t ret[CACHE_NQN_KEY_MAX]);
/* path key: nqn . '\0' . pathid. Return: its length. */
size_t cache_path_key(const char *nqn, const uint8_t pathid[CACHE_ID_SIZE],
		      uint8_t ret[CACHE_PATH_KEY_MAX]);

static inline uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
