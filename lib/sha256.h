/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache-sha256.h - a small SHA-256 (FIPS 180-4) for the cache: the checksum
 * of export files and the fixed-size DC/path ids in database keys. Not for
 * secrets (no constant-time claims, no key material ever passes here).
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

/** sha256_hex() - lower-case hex of @digest into @buf (65 bytes). */
char *sha256_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char buf[2 * SHA256_DIGEST_SIZE + 1]);
