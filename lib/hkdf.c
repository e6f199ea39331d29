/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hkdf.c - SHA-384 (FIPS 180-4, the SHA-512 compression function with its
 * own initial values, truncated), HMAC and HKDF. See hkdf.h.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "hkdf.h"
#include "macro.h"
#include "sha256.h"

/*
 * SHA-512's round constants: the first 64 bits of the fractional parts of
 * the cube roots of the first 80 primes (FIPS 180-4 4.2.3).
 */
static const uint64_t K512[80] = {
	0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
	0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
	0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
	0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
	0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
	0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
	0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
	0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
	0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
	0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
	0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
	0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
	0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
	0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
	0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
	0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
	0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
	0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
	0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
	0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};

struct sha512_ctx {
	uint64_t h[8];
	uint64_t len; /* bytes hashed so far (< 2^61 here) */
	uint8_t buf[128];
	size_t n;
};

static uint64_t ror64(uint64_t x, unsigned n)
{
	return (x >> n) | (x << (64 - n));
}

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void sha512_block(struct sha512_ctx *ctx, const uint8_t *p)
{
	uint64_t w[80], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = load_be64(p + 8 * i);
	for (int i = 16; i < 80; i++) {
		uint64_t s0 = ror64(w[i - 15], 1) ^ ror64(w[i - 15], 8) ^ (w[i - 15] >> 7);
		uint64_t s1 = ror64(w[i - 2], 19) ^ ror64(w[i - 2], 61) ^ (w[i - 2] >> 6);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = ctx->h[0];
	b = ctx->h[1];
	c = ctx->h[2];
	d = ctx->h[3];
	e = ctx->h[4];
	f = ctx->h[5];
	g = ctx->h[6];
	h = ctx->h[7];
	for (int i = 0; i < 80; i++) {
		uint64_t S1 = ror64(e, 14) ^ ror64(e, 18) ^ ror64(e, 41);
		uint64_t ch = (e & f) ^ (~e & g);
		uint64_t t1 = h + S1 + ch + K512[i] + w[i];
		uint64_t S0 = ror64(a, 28) ^ ror64(a, 34) ^ ror64(a, 39);
		uint64_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint64_t t2 = S0 + maj;

		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	ctx->h[0] += a;
	ctx->h[1] += b;
	ctx->h[2] += c;
	ctx->h[3] += d;
	ctx->h[4] += e;
	ctx->h[5] += f;
	ctx->h[6] += g;
	ctx->h[7] += h;
	explicit_bzero(w, sizeof(w));
}

static void sha512_init_iv(struct sha512_ctx *ctx, enum hkdf_hash h)
{
	/* FIPS 180-4 5.3.4 (SHA-384: square roots of the 9th..16th primes) and
	 * 5.3.5 (SHA-512: of the first 8 primes) */
	static const uint64_t iv384[8] = {
		0xcbbb9d5dc1059ed8ULL, 0x629a292a367cd507ULL, 0x9159015a3070dd17ULL,
		0x152fecd8f70e5939ULL, 0x67332667ffc00b31ULL, 0x8eb44a8768581511ULL,
		0xdb0c2e0d64f98fa7ULL, 0x47b5481dbefa4fa4ULL,
	};
	static const uint64_t iv512[8] = {
		0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
		0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
		0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
	};

	memcpy(ctx->h, h == HKDF_SHA512 ? iv512 : iv384, sizeof(iv384));
	ctx->len = 0;
	ctx->n = 0;
}

static void sha512_update(struct sha512_ctx *ctx, const void *data, size_t size)
{
	const uint8_t *p = data;

	ctx->len += size;
	while (size > 0) {
		size_t k = MIN(size, sizeof(ctx->buf) - ctx->n);

		memcpy(ctx->buf + ctx->n, p, k);
		ctx->n += k;
		p += k;
		size -= k;
		if (ctx->n == sizeof(ctx->buf)) {
			sha512_block(ctx, ctx->buf);
			ctx->n = 0;
		}
	}
}

/* SHA-384 or SHA-512's digest (@words 64-bit words: 6 or 8) into @out. */
static void sha512_final_words(struct sha512_ctx *ctx, uint8_t *out, int words)
{
	uint64_t bits = ctx->len * 8;

	ctx->buf[ctx->n++] = 0x80;
	if (ctx->n > sizeof(ctx->buf) - 16) {
		memset(ctx->buf + ctx->n, 0, sizeof(ctx->buf) - ctx->n);
		sha512_block(ctx, ctx->buf);
		ctx->n = 0;
	}
	memset(ctx->buf + ctx->n, 0, sizeof(ctx->buf) - ctx->n);
	/* a 128-bit length whose high half is 0 */
	store_be64(ctx->buf + sizeof(ctx->buf) - 8, bits);
	sha512_block(ctx, ctx->buf);
	for (int i = 0; i < words; i++)
		store_be64(out + 8 * i, ctx->h[i]);
	explicit_bzero(ctx, sizeof(*ctx));
}

void sha384(const void *data, size_t size, uint8_t out[SHA384_DIGEST_SIZE])
{
	struct sha512_ctx ctx;

	sha512_init_iv(&ctx, HKDF_SHA384);
	sha512_update(&ctx, data, size);
	sha512_final_words(&ctx, out, SHA384_DIGEST_SIZE / 8);
}

void sha512(const void *data, size_t size, uint8_t out[SHA512_DIGEST_SIZE])
{
	struct sha512_ctx ctx;

	sha512_init_iv(&ctx, HKDF_SHA512);
	sha512_update(&ctx, data, size);
	sha512_final_words(&ctx, out, SHA512_DIGEST_SIZE / 8);
}

size_t hkdf_hash_size(enum hkdf_hash h)
{
	switch (h) {
	case HKDF_SHA256:
		return SHA256_DIGEST_SIZE;
	case HKDF_SHA384:
		return SHA384_DIGEST_SIZE;
	case HKDF_SHA512:
		return SHA512_DIGEST_SIZE;
	case _HKDF_HASH_MAX:
		break;
	}
	assert(!"unknown hash");
	return 0;
}

/* One running hash of any kind, for HMAC's two passes. */
struct hash_ctx {
	enum hkdf_hash h;
	union {
		struct sha256_ctx s256;
		struct sha512_ctx s512;
	};
};

static void hash_init(struct hash_ctx *c, enum hkdf_hash h)
{
	c->h = h;
	if (h == HKDF_SHA256)
		sha256_init(&c->s256);
	else
		sha512_init_iv(&c->s512, h);
}

static void hash_update(struct hash_ctx *c, const void *data, size_t size)
{
	if (c->h == HKDF_SHA256)
		sha256_update(&c->s256, data, size);
	else
		sha512_update(&c->s512, data, size);
}

static void hash_final(struct hash_ctx *c, uint8_t *out)
{
	if (c->h == HKDF_SHA256)
		sha256_final(&c->s256, out);
	else
		sha512_final_words(&c->s512, out, (int)hkdf_hash_size(c->h) / 8);
	explicit_bzero(c, sizeof(*c));
}

static size_t hash_block_size(enum hkdf_hash h)
{
	return h == HKDF_SHA256 ? 64 : 128;
}

void hmac(enum hkdf_hash h, const void *key, size_t key_len, const struct hkdf_chunk *msg, size_t n,
	  uint8_t *out)
{
	size_t bs = hash_block_size(h), hs = hkdf_hash_size(h);
	uint8_t k0[128] = {}, pad[128], inner[HKDF_HASH_SIZE_MAX];
	struct hash_ctx c;

	assert(key || key_len == 0);
	if (key_len > bs) {
		hash_init(&c, h);
		hash_update(&c, key, key_len);
		hash_final(&c, k0);
	} else if (key_len > 0)
		memcpy(k0, key, key_len);

	for (size_t i = 0; i < bs; i++)
		pad[i] = k0[i] ^ 0x36;
	hash_init(&c, h);
	hash_update(&c, pad, bs);
	for (size_t i = 0; i < n; i++)
		if (msg[i].size > 0)
			hash_update(&c, msg[i].data, msg[i].size);
	hash_final(&c, inner);

	for (size_t i = 0; i < bs; i++)
		pad[i] = k0[i] ^ 0x5c;
	hash_init(&c, h);
	hash_update(&c, pad, bs);
	hash_update(&c, inner, hs);
	hash_final(&c, out);

	explicit_bzero(k0, sizeof(k0));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
}

void hkdf_extract(enum hkdf_hash h, const void *salt, size_t salt_len, const void *ikm,
		  size_t ikm_len, uint8_t *ret_prk)
{
	/* HMAC pads its key with zeros: an empty salt is HashLen zeros. */
	struct hkdf_chunk m = { ikm, ikm_len };

	hmac(h, salt_len ? salt : NULL, salt_len, &m, 1, ret_prk);
}

int hkdf_expand(enum hkdf_hash h, const uint8_t *prk, const void *info, size_t info_len,
		uint8_t *ret_okm, size_t out_len)
{
	size_t hs = hkdf_hash_size(h), done = 0;
	uint8_t t[HKDF_HASH_SIZE_MAX];
	size_t t_len = 0;

	if (out_len == 0 || out_len > 255 * hs)
		return -EINVAL;
	for (uint8_t i = 1; done < out_len; i++) {
		struct hkdf_chunk m[] = { { t, t_len }, { info, info_len }, { &i, 1 } };
		size_t k;

		hmac(h, prk, hs, m, ELEMENTSOF(m), t);
		t_len = hs;
		k = MIN(hs, out_len - done);
		memcpy(ret_okm + done, t, k);
		done += k;
	}
	explicit_bzero(t, sizeof(t));
	return 0;
}
