/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hmac.h - HMAC-SHA-256 (RFC 2104 over FIPS 180-4 SHA-256, lib/sha256.c).
 *
 * The keyed hash of NVMe in-band authentication (DH-HMAC-CHAP, NVMe base
 * specification 2.0 section 8.13): the key transformation of a
 * "DHHC-1:01:..." secret and the challenge responses. The test vectors of
 * RFC 4231 are in tests/test-dhchap.c. Like sha256.h, no constant-time claim
 * is made: the only user is test equipment (tests/hostile-dc).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define HMAC_SHA256_SIZE SHA256_DIGEST_SIZE

struct hmac_sha256_ctx {
	struct sha256_ctx inner;
	struct sha256_ctx outer;
};

/**
 * hmac_sha256_init() - start an HMAC-SHA-256 of @key (@key_size bytes, any
 * length: a key longer than the 64-byte block is hashed first, as RFC 2104
 * says).
 */
void hmac_sha256_init(struct hmac_sha256_ctx *ctx, const void *key, size_t key_size);

/** hmac_sha256_update() - feed @size bytes at @data. */
void hmac_sha256_update(struct hmac_sha256_ctx *ctx, const void *data, size_t size);

/**
 * hmac_sha256_final() - the MAC into @out; @ctx is wiped and must be
 * initialised again before another use.
 */
void hmac_sha256_final(struct hmac_sha256_ctx *ctx, uint8_t out[HMAC_SHA256_SIZE]);

/** hmac_sha256() - one-shot MAC of @size bytes at @data under @key. */
void hmac_sha256(const void *key, size_t key_size, const void *data, size_t size,
		 uint8_t out[HMAC_SHA256_SIZE]);
