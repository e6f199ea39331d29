/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-384 (FIPS 180-4 examples), HMAC-SHA-256/384 (RFC 4231 test cases 1,
 * 2 and 6) and HKDF (RFC 5869 test cases 1 and 3; test case 3's inputs
 * with SHA-384, whose values were computed with Python's hmac/hashlib).
 */
#include <errno.h>
#include <string.h>

#include "hkdf.h"
#include "tap.h"

static const char *hex(const uint8_t *p, size_t n)
{
	static char buf[2 * 255 * HKDF_HASH_SIZE_MAX + 1];

	for (size_t i = 0; i < n; i++)
		(void)snprintf(buf + 2 * i, 3, "%02x", p[i]);
	buf[2 * n] = '\0';
	return buf;
}

/* FIPS 180-4's examples (and "million a" for SHA-384), for one digest function. */
static void test_digest(const char *name, void (*fn)(const void *, size_t, uint8_t *), size_t size,
			const char *abc, const char *empty, const char *two_blocks,
			const char *million)
{
	static const char msg896[] =
		"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	static char mil[1000000];
	uint8_t d[HKDF_HASH_SIZE_MAX];

	fn("abc", 3, d);
	is_str(hex(d, size), abc, "%s(abc)", name);
	fn("", 0, d);
	is_str(hex(d, size), empty, "%s(empty)", name);
	fn(msg896, 112, d);
	is_str(hex(d, size), two_blocks, "%s(896 bits: two blocks)", name);
	if (million) {
		memset(mil, 'a', sizeof(mil));
		fn(mil, sizeof(mil), d);
		is_str(hex(d, size), million, "%s(million a)", name);
	}
}

static void test_sha384(void)
{
	test_digest(
		"sha384", sha384, SHA384_DIGEST_SIZE,
		"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
		"38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
		"09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039",
		"9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985");
}

static void test_sha512(void)
{
	test_digest(
		"sha512", sha512, SHA512_DIGEST_SIZE,
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
		"8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
		NULL);
}

static void test_hmac(void)
{
	static const struct {
		const char *name, *key, *data, *s256, *s384, *s512;
		size_t key_len;
	} t[] = {
		{ "RFC 4231 1",
		  "\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b",
		  "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
		  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
		  20 },
		{ "RFC 4231 2", "Jefe", "what do ya want for nothing?",
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
		  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
		  4 },
		{ "RFC 4231 6", NULL, "Test Using Larger Than Block-Size Key - Hash Key First",
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		  "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
		  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
		  131 },
	};
	uint8_t key131[131], out[HKDF_HASH_SIZE_MAX];

	memset(key131, 0xaa, sizeof(key131));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const void *key = t[i].key ? (const void *)t[i].key : key131;
		/* the message in two chunks: the split must not matter */
		size_t half = strlen(t[i].data) / 2;
		struct hkdf_chunk m[] = { { t[i].data, half },
					  { t[i].data + half, strlen(t[i].data) - half } };

		hmac(HKDF_SHA256, key, t[i].key_len, m, 2, out);
		is_str(hex(out, 32), t[i].s256, "HMAC-SHA-256 %s", t[i].name);
		hmac(HKDF_SHA384, key, t[i].key_len, m, 2, out);
		is_str(hex(out, 48), t[i].s384, "HMAC-SHA-384 %s", t[i].name);
		hmac(HKDF_SHA512, key, t[i].key_len, m, 2, out);
		is_str(hex(out, 64), t[i].s512, "HMAC-SHA-512 %s", t[i].name);
	}
}

static void test_hkdf(void)
{
	uint8_t ikm[22], salt[13], info[10], prk[HKDF_HASH_SIZE_MAX], okm[42];

	memset(ikm, 0x0b, sizeof(ikm));
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);

	hkdf_extract(HKDF_SHA256, salt, sizeof(salt), ikm, sizeof(ikm), prk);
	is_str(hex(prk, 32), "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
	       "RFC 5869 1: PRK");
	is_int(hkdf_expand(HKDF_SHA256, prk, info, sizeof(info), okm, sizeof(okm)), 0,
	       "RFC 5869 1: expand");
	is_str(hex(okm, 42),
	       "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
	       "RFC 5869 1: OKM");

	hkdf_extract(HKDF_SHA256, NULL, 0, ikm, sizeof(ikm), prk);
	is_str(hex(prk, 32), "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
	       "RFC 5869 3 (no salt, no info): PRK");
	is_int(hkdf_expand(HKDF_SHA256, prk, NULL, 0, okm, sizeof(okm)), 0, "RFC 5869 3: expand");
	is_str(hex(okm, 42),
	       "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
	       "RFC 5869 3: OKM");

	hkdf_extract(HKDF_SHA384, NULL, 0, ikm, sizeof(ikm), prk);
	is_str(hex(prk, 48),
	       "10e40cf072a4c5626e43dd22c1cf727d4bb140975c9ad0cbc8e45b40068f8f0ba57cdb598af9dfa6963a96899af047e5",
	       "RFC 5869 3's inputs, SHA-384: PRK");
	is_int(hkdf_expand(HKDF_SHA384, prk, NULL, 0, okm, sizeof(okm)), 0, "SHA-384 expand");
	is_str(hex(okm, 42),
	       "c8c96e710f89b0d7990bca68bcdec8cf854062e54c73a7abc743fade9b242daacc1cea5670415b52849c",
	       "RFC 5869 3's inputs, SHA-384: OKM");

	memset(okm, 0x5a, sizeof(okm));
	is_int(hkdf_expand(HKDF_SHA256, prk, NULL, 0, okm, 0), -EINVAL,
	       "expand to 0 bytes: -EINVAL");
	is_int(hkdf_expand(HKDF_SHA256, prk, NULL, 0, okm, 255 * 32 + 1), -EINVAL,
	       "expand beyond 255 blocks: -EINVAL");
	ok(okm[0] == 0x5a, "... output untouched");
}

int main(void)
{
	test_sha384();
	test_sha512();
	test_hmac();
	test_hkdf();
	return tap_done();
}
