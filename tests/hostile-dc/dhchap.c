/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dhchap.h"
#include "hkdf.h"

#define PREFIX "DHHC-1:"

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Standard base64 of @n characters at @s ('=' padding allowed at the end) into @out. */
static int b64_decode(const char *s, size_t n, uint8_t *out, size_t out_size, size_t *ret_len)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t len = 0, pad = 0;

	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if ((n + pad) % 4 != 0 && pad > 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len == out_size)
				return -EINVAL;
			out[len++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be the zero fill of the last character. */
	if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
		return -EINVAL;
	*ret_len = len;
	return 0;
}

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

int dhchap_key_parse(const char *secret, struct dhchap_key *ret_key)
{
	uint8_t buf[DHCHAP_KEY_MAX + 4];
	struct dhchap_key k = {};
	const char *b64, *end;
	size_t len;
	uint32_t crc;
	int r;

	if (strncmp(secret, PREFIX, strlen(PREFIX)) != 0)
		return -EINVAL;
	secret += strlen(PREFIX);
	if (secret[0] < '0' || secret[0] > '9' || secret[1] < '0' || secret[1] > '9' ||
	    secret[2] != ':')
		return -EINVAL;
	k.hash = (enum dhchap_key_hash)((secret[0] - '0') * 10 + (secret[1] - '0'));
	if (k.hash > DHCHAP_KEY_HASH_SHA512)
		return -EINVAL;
	b64 = secret + 3;
	end = strchr(b64, ':');
	if (end && end[1] != '\0')
		return -EINVAL;
	r = b64_decode(b64, end ? (size_t)(end - b64) : strlen(b64), buf, sizeof(buf), &len);
	if (r < 0)
		return r;
	if (len != 36 && len != 52 && len != 68)
		return -EINVAL;
	k.len = len - 4;
	crc = (uint32_t)buf[k.len] | (uint32_t)buf[k.len + 1] << 8 |
	      (uint32_t)buf[k.len + 2] << 16 | (uint32_t)buf[k.len + 3] << 24;
	if (crc32_ieee(buf, k.len) != crc) {
		explicit_bzero(buf, sizeof(buf));
		return -EBADMSG;
	}
	if (k.hash != DHCHAP_KEY_HASH_NONE && k.len != 32 + 16 * ((size_t)k.hash - 1)) {
		explicit_bzero(buf, sizeof(buf));
		return -EINVAL;
	}
	memcpy(k.key, buf, k.len);
	explicit_bzero(buf, sizeof(buf));
	*ret_key = k;
	explicit_bzero(&k, sizeof(k));
	return 0;
}

int dhchap_key_transform(const struct dhchap_key *key, const char *nqn, struct dhchap_key *ret_out)
{
	static const enum hkdf_hash by_hash[] = {
		[DHCHAP_KEY_HASH_SHA256] = HKDF_SHA256,
		[DHCHAP_KEY_HASH_SHA384] = HKDF_SHA384,
		[DHCHAP_KEY_HASH_SHA512] = HKDF_SHA512,
	};
	const struct hkdf_chunk m[] = { { nqn, strlen(nqn) }, { "NVMe-over-Fabrics", 17 } };
	enum hkdf_hash h;

	if (key->hash == DHCHAP_KEY_HASH_NONE) {
		*ret_out = *key;
		return 0;
	}
	if (key->hash > DHCHAP_KEY_HASH_SHA512)
		return -EINVAL;
	h = by_hash[key->hash];
	memset(ret_out, 0, sizeof(*ret_out));
	hmac(h, key->key, key->len, m, 2, ret_out->key);
	ret_out->len = hkdf_hash_size(h);
	ret_out->hash = DHCHAP_KEY_HASH_NONE;
	return 0;
}

/* @v as @n little-endian bytes into @b. */
static const uint8_t *le(uint8_t b[4], uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
	return b;
}

void dhchap_host_response(const struct dhchap_key *tkey, const uint8_t c1[DHCHAP_HASH_LEN],
			  uint32_t s1, uint16_t tid, uint8_t sc_c, const char *hostnqn,
			  const char *subnqn, uint8_t out[DHCHAP_HASH_LEN])
{
	uint8_t sb[4], tb[4];
	const struct hkdf_chunk m[] = {
		{ c1, DHCHAP_HASH_LEN },
		{ le(sb, s1), 4 },
		{ le(tb, tid), 2 },
		{ &sc_c, 1 },
		{ "HostHost", 8 },
		{ hostnqn, strlen(hostnqn) },
		{ "", 1 },
		{ subnqn, strlen(subnqn) },
	};

	hmac(HKDF_SHA256, tkey->key, tkey->len, m, sizeof(m) / sizeof(m[0]), out);
}

void dhchap_ctrl_response(const struct dhchap_key *tkey, const uint8_t c2[DHCHAP_HASH_LEN],
			  uint32_t s2, uint16_t tid, const char *subnqn, const char *hostnqn,
			  uint8_t out[DHCHAP_HASH_LEN])
{
	uint8_t sb[4], tb[4];
	const struct hkdf_chunk m[] = {
		{ c2, DHCHAP_HASH_LEN },
		{ le(sb, s2), 4 },
		{ le(tb, tid), 2 },
		{ "", 1 },
		{ "Controller", 10 },
		{ subnqn, strlen(subnqn) },
		{ "", 1 },
		{ hostnqn, strlen(hostnqn) },
	};

	hmac(HKDF_SHA256, tkey->key, tkey->len, m, sizeof(m) / sizeof(m[0]), out);
}
