/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sha256.h - SHA-256 (FIPS 180-4), the one hash of stas.
 *
 * Used for the checksum of cache export files, the fixed-size DC/path ids in
 * the cache's database keys (first 8 bytes), and the names of the
 * per-subsystem lock files (sha256_u64()). One hash instead of three: the
 * export checksum needs a cryptographic-strength digest anyway, and truncated
 * SHA-256 is as stable across hosts, releases and architectures as the
 * FNV-1a it replaced for lock names.
 *
 * The one exception is the "key-<hex>" instance of a stas-discover@ unit
 * (unit-name.c): it stays FNV-1a 64 (fnv1a_64() below), because that name is persisted - in unit
 * names an administrator or a running system refers to, in the cache's ikey
 * index, and documented in stas-discover(8) - and changing its hash would
 * rename every existing long-ID DC unit.
 *
 * Written here rather than taken from a crypto library so that stas has no
 * crypto dependency for a checksum; the FIPS 180-2 test vectors are in
 * tests/test-sha256.c. Key material passes here through hkdf.h's HMAC (TLS
 * PSK derivation, and hostile-dc's DH-HMAC-CHAP); no constant-time claims.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

struct sha256_ctx {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[64];
	size_t n; /* bytes in buf */
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t size);
void sha256_final(struct sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_SIZE]);

/** sha256() - one-shot digest of @size bytes at @data. */
void sha256(const void *data, size_t size, uint8_t out[SHA256_DIGEST_SIZE]);

/**
 * sha256_u64() - the first 8 bytes of the digest of @size bytes at @data, as
 * a big-endian number: a short, stable name for a string.
 */
uint64_t sha256_u64(const void *data, size_t size);

/** sha256_hex() - lower-case hex of @digest into @buf (65 bytes). */
char *sha256_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char buf[2 * SHA256_DIGEST_SIZE + 1]);

/**
 * fnv1a_64() - FNV-1a, 64 bit, of the NUL-terminated @s, with the offset
 * basis XORed with @seed (0: plain FNV-1a). Not SHA-256, on purpose, in two
 * places only: the persisted "key-<hex>" DC instances (see above; @seed 0)
 * and lib/hashset.c's in-memory tables (a random @seed, plus a finaliser),
 * where a digest per lookup would cost more than the lookup.
 */
uint64_t fnv1a_64(const char *s, uint64_t seed);
