/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 against the FIPS 180-2 test vectors, and the truncation stas uses. */
#include <string.h>

#include "sha256.h"
#include "tap.h"

static void test_vectors(void)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	char h[2 * SHA256_DIGEST_SIZE + 1];
	struct sha256_ctx ctx;
	char mil[1001];

	sha256("abc", 3, d);
	is_str(sha256_hex(d, h), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "sha256(abc)");
	sha256("", 0, d);
	is_str(sha256_hex(d, h), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "sha256(empty)");
	sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
	is_str(sha256_hex(d, h), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	       "sha256(448 bits)");
	memset(mil, 'a', sizeof(mil));
	sha256_init(&ctx);
	for (int i = 0; i < 1000; i++)
		sha256_update(&ctx, mil, i % 2 ? 999 : 1001); /* uneven chunks, 10^6 bytes */
	sha256_final(&ctx, d);
	is_str(sha256_hex(d, h), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "sha256(million a)");
}

static void test_u64(void)
{
	/* The first 8 bytes of sha256(abc), big-endian. */
	ok(sha256_u64("abc", 3) == UINT64_C(0xba7816bf8f01cfea), "sha256_u64(abc)");
	ok(sha256_u64("", 0) == UINT64_C(0xe3b0c44298fc1c14), "sha256_u64(empty)");
}

/* FNV-1a 64 reference values (the published test vectors: "" and "a"). */
static void test_fnv1a(void)
{
	ok(fnv1a_64("", 0) == UINT64_C(0xcbf29ce484222325), "fnv1a_64(\"\")");
	ok(fnv1a_64("a", 0) == UINT64_C(0xaf63dc4c8601ec8c), "fnv1a_64(\"a\")");
	ok(fnv1a_64("foobar", 0) == UINT64_C(0x85944171f73967e8), "fnv1a_64(\"foobar\")");
	ok(fnv1a_64("a", 1) != fnv1a_64("a", 0), "the seed changes the hash");
}

int main(void)
{
	test_vectors();
	test_u64();
	test_fnv1a();
	return tap_done();
}
