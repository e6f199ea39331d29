/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostile-dc's DH-HMAC-CHAP arithmetic (tests/hostile-dc/dhchap.c; its
 * HMAC-SHA-256 is lib/hkdf's hmac(), checked against RFC 4231 by test-hkdf)
 * against values computed independently with
 * Python's hmac/hashlib/base64/zlib from the formulas of the NVMe base
 * specification 2.0 section 8.13.
 */
#include <errno.h>
#include <string.h>

#include "dhchap.h"
#include "tap.h"

static char *hex(const uint8_t *p, size_t n, char *buf)
{
	for (size_t i = 0; i < n; i++)
		sprintf(buf + 2 * i, "%02x", p[i]);
	buf[2 * n] = '\0';
	return buf;
}

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define SUBNQN "nqn.2014-08.org.nvmexpress.discovery"
/* Key bytes 0x01..0x20, CRC-32 appended, base64. */
#define SEC01 "DHHC-1:01:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAl7OaH:"
#define SEC00 "DHHC-1:00:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAl7OaH:"
/* 48 key bytes 100..147, with '=' padding. */
#define SEC00_48 \
	"DHHC-1:00:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKTvGwQfg==:"

static void key_parse(void)
{
	struct dhchap_key k, untouched = { .len = 7 };
	uint8_t want[32];
	char bad[sizeof(SEC01)];

	for (int i = 0; i < 32; i++)
		want[i] = (uint8_t)(i + 1);
	is_int(dhchap_key_parse(SEC01, &k), 0, "parse a SHA-256 secret");
	ok(k.len == 32 && k.hash == DHCHAP_KEY_HASH_SHA256 && memcmp(k.key, want, 32) == 0,
	   "... its 32 key bytes and hash 01");
	is_int(dhchap_key_parse("DHHC-1:01:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAl7OaH", &k),
	       0, "the trailing ':' may be missing");
	is_int(dhchap_key_parse(SEC00_48, &k), 0, "a 48-byte untransformed secret, '=' padded");
	ok(k.len == 48 && k.hash == DHCHAP_KEY_HASH_NONE && k.key[0] == 100 && k.key[47] == 147,
	   "... its 48 key bytes");

	k = untouched;
	strcpy(bad, SEC01);
	bad[12] = bad[12] == 'A' ? 'B' : 'A'; /* one key bit flipped: the CRC catches it */
	is_int(dhchap_key_parse(bad, &k), -EBADMSG, "a corrupted secret fails its CRC");
	ok(k.len == 7, "... and leaves the key untouched");
	is_int(dhchap_key_parse("DHHC-1:02:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAl7OaH:", &k),
	       -EINVAL, "hash 02 with a 32-byte key is refused (SHA-384 means 48)");
	is_int(dhchap_key_parse("DHHC-1:02:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yN"
				"jo+QkZKTvGwQfg==:",
				&k),
	       0, "a SHA-384 secret (48 bytes)");
	{
		/* HMAC-SHA-384(key, host NQN || "NVMe-over-Fabrics"), from Python's hmac */
		struct dhchap_key t;
		char h[2 * 64 + 1];

		ok(k.len == 48 && k.hash == DHCHAP_KEY_HASH_SHA384, "... hash 02, 48 key bytes");
		is_int(dhchap_key_transform(&k, HOSTNQN, &t), 0, "... transformed");
		is_str(hex(t.key, t.len, h),
		       "b5ab87bc1196160de11992889bae343a69c927bb1722f0959dc564938d4ddd846b3bfef3cd2c3536e3c17bb3aa46defe",
		       "... with HMAC-SHA-384 (48 bytes)");
	}
	k = untouched; /* the failures below must leave it as it is */
	is_int(dhchap_key_parse("DHHC-1:04:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAl7OaH:", &k),
	       -EINVAL, "hash 04 does not exist");
	is_int(dhchap_key_parse("DHHC-2:01:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAl7OaH:", &k),
	       -EINVAL, "another version is refused");
	is_int(dhchap_key_parse("DHHC-1:01:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAl7Oa:", &k),
	       -EINVAL, "a truncated base64 is refused");
	is_int(dhchap_key_parse("DHHC-1:01:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAl7O*H:", &k),
	       -EINVAL, "a non-base64 character is refused");
	is_int(dhchap_key_parse("DHHC-1:01:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAl7OaH:x", &k),
	       -EINVAL, "text after the closing ':' is refused");
	is_int(dhchap_key_parse("DHHC-1:01:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcY:", &k), -EINVAL,
	       "a short key is refused");
	is_int(dhchap_key_parse("", &k), -EINVAL, "an empty secret is refused");
	ok(k.len == 7, "no failure touched the key");
}

static void transform_and_responses(void)
{
	struct dhchap_key k, th, ts, t0;
	uint8_t c1[32], c2[32], r[DHCHAP_HASH_LEN];
	char h[2 * DHCHAP_HASH_LEN + 1];

	is_int(dhchap_key_parse(SEC01, &k), 0, "parse the test secret");
	is_int(dhchap_key_transform(&k, HOSTNQN, &th), 0, "transform with the host NQN");
	is_str(hex(th.key, th.len, h),
	       "ef916103367f8baf647cd40be3410886b52e2db1db73cf6c72c9236235f8d3a6",
	       "... HMAC-SHA-256(key, hostnqn || \"NVMe-over-Fabrics\")");
	is_int(dhchap_key_transform(&k, SUBNQN, &ts), 0, "transform with the subsystem NQN");
	is_str(hex(ts.key, ts.len, h),
	       "9090019ced83992fb651c9f9f9e5d64e87021970d660eca4e691f65eff073478",
	       "... a different key per NQN");
	is_int(dhchap_key_parse(SEC00, &k), 0, "parse the same key with hash 00");
	is_int(dhchap_key_transform(&k, HOSTNQN, &t0), 0, "hash 00: no transformation");
	ok(t0.len == 32 && t0.key[0] == 1 && t0.key[31] == 32, "... the key as it is");

	for (int i = 0; i < 32; i++) {
		c1[i] = (uint8_t)(0xa0 + i);
		c2[i] = (uint8_t)(0x40 + i);
	}
	dhchap_host_response(&th, c1, 0x12345678, 0x0102, 0, HOSTNQN, SUBNQN, r);
	is_str(hex(r, sizeof(r), h),
	       "862227a1a5d9f256280b0eee41cba323bf5dc31297c9553fa12df918dc722efd",
	       "host response (Reply) for C1, S1, T_ID");
	dhchap_host_response(&th, c1, 0x12345679, 0x0102, 0, HOSTNQN, SUBNQN, r);
	ok(strcmp(hex(r, sizeof(r), h),
		  "862227a1a5d9f256280b0eee41cba323bf5dc31297c9553fa12df918dc722efd") != 0,
	   "... another sequence number, another response");
	dhchap_ctrl_response(&ts, c2, 0x9abcdef0, 0x0102, SUBNQN, HOSTNQN, r);
	is_str(hex(r, sizeof(r), h),
	       "1fd971bcc15e67fe2a406921a78913338aa5c6ce9b8bf3872774722710635f70",
	       "controller response (Success1) for C2, S2, T_ID");
}

int main(void)
{
	key_parse();
	transform_and_responses();
	return tap_done();
}
