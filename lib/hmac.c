/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "hmac.h"

#define BLOCK 64

void hmac_sha256_init(struct hmac_sha256_ctx *ctx, const void *key, size_t key_size)
{
	uint8_t k[BLOCK] = {}, pad[BLOCK];

	if (key_size > BLOCK)
		sha256(key, key_size, k);
	else if (key_size > 0)
		memcpy(k, key, key_size);
	for (size_t i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&ctx->inner);
	sha256_update(&ctx->inner, pad, BLOCK);
	for (size_t i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&ctx->outer);
	sha256_update(&ctx->outer, pad, BLOCK);
	/* The padded key is key material: do not leave it on the stack. */
	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
}

void hmac_sha256_update(struct hmac_sha256_ctx *ctx, const void *data, size_t size)
{
	sha256_update(&ctx->inner, data, size);
}

void hmac_sha256_final(struct hmac_sha256_ctx *ctx, uint8_t out[HMAC_SHA256_SIZE])
{
	uint8_t ih[SHA256_DIGEST_SIZE];

	sha256_final(&ctx->inner, ih);
	sha256_update(&ctx->outer, ih, sizeof(ih));
	sha256_final(&ctx->outer, out);
	explicit_bzero(ih, sizeof(ih));
	explicit_bzero(ctx, sizeof(*ctx));
}

void hmac_sha256(const void *key, size_t key_size, const void *data, size_t size,
		 uint8_t out[HMAC_SHA256_SIZE])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_init(&ctx, key, key_size);
	hmac_sha256_update(&ctx, data, size);
	hmac_sha256_final(&ctx, out);
}
