/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hkdf.h - SHA-384, HMAC (RFC 2104) and HKDF (RFC 5869) over SHA-256 and
 * SHA-384: what NVMe/TCP's TLS PSK derivation (TP8011, lib/tls-psk.h)
 * needs, and nothing more.
 *
 * Written here, like lib/sha256.c, so that stas keeps no crypto library
 * dependency. Unlike sha256(), key material passes through these functions:
 * every intermediate buffer holding a key or a keyed state is wiped with
 * explicit_bzero() before it goes out of scope. No constant-time claims
 * beyond that (the inputs are the host's own configured keys, not values an
 * attacker can time against). The test vectors (FIPS 180-4 for SHA-384,
 * RFC 4231 for HMAC, RFC 5869 for HKDF-SHA-256) are in tests/test-hkdf.c.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA384_DIGEST_SIZE 48
#define SHA512_DIGEST_SIZE 64
#define HKDF_HASH_SIZE_MAX SHA512_DIGEST_SIZE

enum hkdf_hash {
	HKDF_SHA256,
	HKDF_SHA384,
	HKDF_SHA512,
	_HKDF_HASH_MAX,
};

/** hkdf_hash_size() - the output size of @h in bytes (32, 48 or 64). */
size_t hkdf_hash_size(enum hkdf_hash h);

/** sha384() - one-shot SHA-384 digest of @size bytes at @data. */
void sha384(const void *data, size_t size, uint8_t out[SHA384_DIGEST_SIZE]);

/** sha512() - one-shot SHA-512 digest of @size bytes at @data. */
void sha512(const void *data, size_t size, uint8_t out[SHA512_DIGEST_SIZE]);

/**
 * struct hkdf_chunk - one piece of a message given in parts (HMAC's input
 * is the concatenation of the chunks, in order).
 */
struct hkdf_chunk {
	const void *data;
	size_t size;
};

/**
 * hmac() - HMAC-@h (RFC 2104) of the concatenation of the @n chunks at @msg
 * under the @key_len bytes at @key (any length; longer than the block size
 * is hashed first). Writes hkdf_hash_size(@h) bytes to @out.
 */
void hmac(enum hkdf_hash h, const void *key, size_t key_len, const struct hkdf_chunk *msg, size_t n,
	  uint8_t *out);

/**
 * hkdf_extract() - HKDF-Extract(@salt, @ikm) (RFC 5869 2.2): the
 * pseudo-random key, hkdf_hash_size(@h) bytes, to @ret_prk. A NULL or empty
 * @salt is the hash length of zeros, as the RFC says.
 */
void hkdf_extract(enum hkdf_hash h, const void *salt, size_t salt_len, const void *ikm,
		  size_t ikm_len, uint8_t *ret_prk);

/**
 * hkdf_expand() - HKDF-Expand(@prk, @info, @out_len) (RFC 5869 2.3): @out_len
 * bytes of output keying material to @ret_okm. @prk is hkdf_hash_size(@h)
 * bytes.
 *
 * Return: 0; -EINVAL when @out_len is 0 or more than 255 hash lengths
 * (@ret_okm untouched).
 */
int hkdf_expand(enum hkdf_hash h, const uint8_t *prk, const void *info, size_t info_len,
		uint8_t *ret_okm, size_t out_len);
