/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/tls-psk: the PSK interchange format, the derivation of the TLS PSK and
 * its identity, and finding the .nvme keyring in /proc/keys.
 *
 * Where the vectors come from:
 * - The interchange keys and the version-1 identities (whose digest is an
 *   HMAC under the retained PSK, so they check the retained-PSK derivation)
 *   are nvme-cli 2.13's (libnvme 1.13, Debian 13), in the Debian 13 guest
 *   root of tests/vm:
 *     H=nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555
 *     S=nqn.2024-01.io.stas:tls
 *     nvme gen-tls-key --hostnqn=$H --subsysnqn=$S --hmac=1 \
 *         --secret=000102...1e1f                       (32 bytes 0x00..0x1f)
 *     nvme gen-tls-key --hostnqn=$H --subsysnqn=$S --hmac=2 \
 *         --secret=303132...5e5f                       (48 bytes 0x30..0x5f)
 *     nvme check-tls-key --hostnqn=$H --subsysnqn=$S --identity=1 --keydata=KEY
 *   (HH 00: nvme-cli 2.13 does not generate it; the same 32 bytes with their
 *   CRC, checked with check-tls-key.) libnvme 1.13 is the "compat" layout.
 * - The TLS PSKs (the keyring payloads) of the compat layout with identity
 *   version 1 were read back from the .nvme keyring after `nvme
 *   check-tls-key --insert --identity=1` in the 6.12 guest
 *   (tests/vm/features-612.sh, section tls, compares stas's insertion with
 *   nvme-cli's for the same inputs on every run).
 * - The RFC 8446 layout (libnvme 1.16) and the version-0 keys: Python's
 *   hmac/hashlib following libnvme 1.16's derive_retained_key(),
 *   derive_psk_digest() and derive_tls_key() (no nvme-cli >= 2.16 at hand).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tls-psk.h"

#define H "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define S "nqn.2024-01.io.stas:tls"
#define K01 "NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"
#define K02 \
	"NVMeTLSkey-1:02:MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f+ENbJA==:"
#define K00 "NVMeTLSkey-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"

static const char *hex(const uint8_t *p, size_t n)
{
	static char buf[2 * TLS_PSK_KEY_MAX + 1];

	for (size_t i = 0; i < n; i++)
		(void)snprintf(buf + 2 * i, 3, "%02x", p[i]);
	buf[2 * n] = '\0';
	return buf;
}

static void test_parse(void)
{
	struct tls_psk_configured c = { .hmac = 99 };
	char bad[128];

	is_int(tls_psk_parse(K01, &c), 0, "parse HH 01");
	ok(c.hmac == 1 && c.len == 32 && c.key[0] == 0 && c.key[31] == 0x1f,
	   "... SHA-256, 32 bytes");
	is_int(tls_psk_parse(K02, &c), 0, "parse HH 02");
	ok(c.hmac == 2 && c.len == 48 && c.key[0] == 0x30 && c.key[47] == 0x5f,
	   "... SHA-384, 48 bytes");
	is_int(tls_psk_parse(K00, &c), 0, "parse HH 00");
	ok(c.hmac == 0 && c.len == 32, "... no transform, 32 bytes");

	c.hmac = 99;
	/* one base64 character changed: the CRC catches it */
	(void)snprintf(bad, sizeof(bad), "%s", K01);
	bad[20] = bad[20] == 'A' ? 'B' : 'A';
	is_int(tls_psk_parse(bad, &c), -EBADMSG, "a changed character: CRC mismatch");
	ok(c.hmac == 99, "... output untouched");
	ok(strstr(tls_psk_parse_strerror(-EBADMSG), "CRC-32") != NULL,
	   "... its words name the CRC");

	static const char *const malformed[] = {
		"",
		"DHHC-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:",
		"NVMeTLSkey-2:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:",
		"NVMeTLSkey-1:03:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:",
		"NVMeTLSkey-1:1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:",
		"NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR",
		"NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:\n",
		" NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:",
		"NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+Kfia:",
		"NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+Kfi*R:",
		"NVMeTLSkey-1:01:AAECAwQFBgcICQoL=A0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:",
		/* a 48-byte key is not SHA-256's */
		"NVMeTLSkey-1:01:MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f+ENbJA==:",
		"NVMeTLSkey-1:02:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:",
		/* 16 bytes + CRC */
		"NVMeTLSkey-1:00:AAECAwQFBgcICQoLDA0ODxxxxxx=:",
	};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		is_int(tls_psk_parse(malformed[i], &c), -EINVAL, "malformed %zu: -EINVAL", i);
	is_int(tls_psk_parse(NULL, &c), -EINVAL, "NULL: -EINVAL");
	ok(c.hmac == 99, "... output untouched");
}

static void derive_is(const char *key, unsigned version, enum tls_psk_derivation d,
		      const char *identity_tail, const char *psk_hex, const char *name)
{
	struct tls_psk_configured c;
	struct tls_psk p;
	char want[TLS_PSK_IDENTITY_MAX + 1];

	if (!ok(tls_psk_parse(key, &c) == 0, "%s: parse", name))
		return;
	if (!is_int(tls_psk_derive(&c, H, S, version, d, &p), 0, "%s: derive", name))
		return;
	(void)snprintf(want, sizeof(want), "NVMe%uR%s %s %s%s%s", version,
		       c.len == 32 && c.hmac != 2 ? "01" : "02", H, S, *identity_tail ? " " : "",
		       identity_tail);
	is_str(p.identity, want, "%s: identity", name);
	is_str(hex(p.key, p.len), psk_hex, "%s: TLS PSK", name);
}

static void test_derive(void)
{
	/* version 1, libnvme 1.13 (nvme-cli 2.13): identities from nvme-cli */
	derive_is(K01, 1, TLS_PSK_DERIVATION_COMPAT, "3QZCXZGpYOPQXfrxKYPafSa7nugjx9bozAtVW3Y2VIU=",
		  "433f00a7304d1013fa83d41561c001388aa46ce19dbd65097554037b712b8f8c",
		  "HH 01, v1, compat");
	derive_is(
		K02, 1, TLS_PSK_DERIVATION_COMPAT,
		"0UgaQ058hPKZ9L7ZLjc4H7NTPaFrkkXh11uJ2tHwhANVZzSNwElpX7BMVv443m/k",
		"861a40ea0a108b8dcbb52611bddd3b098977c32199e892bcb2d65c2514a7f36e64fea18291e39c336e66ebf61507a4cd",
		"HH 02, v1, compat");
	derive_is(K00, 1, TLS_PSK_DERIVATION_COMPAT, "f1J6qrPK7uyGEFDrWMz2pQPJd+0r92DxQVYri1+nSmw=",
		  "487965368e8041d8fa0ce15b9c60bbc84848da016f18fc0a10ecf08ef66cc7b6",
		  "HH 00, v1, compat");
	/* version 0 */
	derive_is(K01, 0, TLS_PSK_DERIVATION_COMPAT, "",
		  "367fa655eefcdec6b3c8812a8393d27919739dac283527d4681c46475b00eb39",
		  "HH 01, v0, compat");
	derive_is(
		K02, 0, TLS_PSK_DERIVATION_COMPAT, "",
		"4e13e43dbef9a7bfd84cd2ee860065525df53fcb04abd0e609dfea7c4d4635a81930069c04327635ddf758e5c879d6d0",
		"HH 02, v0, compat");
	/* RFC 8446's HkdfLabel (libnvme 1.16) */
	derive_is(K01, 1, TLS_PSK_DERIVATION_RFC8446,
		  "McsbGcFnNlC/Ha+jtuof2SK7SkKA7b0iqT+9VA/teQQ=",
		  "e5a4ec82f3ac8400dc02bf2260c409cd43fa83bd04201d75a52b75b09b7e0e93",
		  "HH 01, v1, rfc8446");
	derive_is(
		K02, 1, TLS_PSK_DERIVATION_RFC8446,
		"kmfX7i9H/SXIlIFdKTtCG74TMNlcxFwhIcFxVcM8180JDF+03IpJ43PRqSO4/Vkp",
		"162ba471ac9d46f3cb14cb27b02b3a6bc9dd0f2d5fb4924fee91dd020f64e62ef44eb5ecce609ed4d947fb2bb1349d28",
		"HH 02, v1, rfc8446");
	/* HH 00: no retained-key step, so the digest is the same in both layouts */
	derive_is(K00, 1, TLS_PSK_DERIVATION_RFC8446,
		  "f1J6qrPK7uyGEFDrWMz2pQPJd+0r92DxQVYri1+nSmw=",
		  "83de785208132ecf3848aeea12e763d801a88eaa305541cb6edfeb3bc3c24d47",
		  "HH 00, v1, rfc8446");
	derive_is(K01, 0, TLS_PSK_DERIVATION_RFC8446, "",
		  "58c982723c860b721ecef6a521cd9ee6b8b110d7be4fe71b84f1e55d9b672bcb",
		  "HH 01, v0, rfc8446");
	derive_is(
		K02, 0, TLS_PSK_DERIVATION_RFC8446, "",
		"6aac7777946ba8d2c6988224b1931edeafa0a03ede1282dbbbbee9ece5e064cb4a83496cace7c6a6afd8085d616ab3b1",
		"HH 02, v0, rfc8446");
}

static void test_derive_errors(void)
{
	struct tls_psk_configured c;
	struct tls_psk p = { .len = 7 };
	char longnqn[300];

	(void)tls_psk_parse(K01, &c);
	is_int(tls_psk_derive(&c, H, S, 2, TLS_PSK_DERIVATION_COMPAT, &p), -EINVAL, "version 2");
	is_int(tls_psk_derive(&c, "", S, 1, TLS_PSK_DERIVATION_COMPAT, &p), -EINVAL,
	       "empty host NQN");
	is_int(tls_psk_derive(&c, H, "nqn.a b", 1, TLS_PSK_DERIVATION_COMPAT, &p), -EINVAL,
	       "a space in the subsystem NQN");
	memset(longnqn, 'x', sizeof(longnqn) - 1);
	longnqn[sizeof(longnqn) - 1] = '\0';
	is_int(tls_psk_derive(&c, H, longnqn, 1, TLS_PSK_DERIVATION_RFC8446, &p), -EINVAL,
	       "an NQN longer than 223 bytes");
	/* 9 + 68 + 1 + 200 > 255: RFC 8446's context cannot hold the v0 identity */
	longnqn[200] = '\0';
	is_int(tls_psk_derive(&c, H, longnqn, 0, TLS_PSK_DERIVATION_RFC8446, &p), -EINVAL,
	       "v0 rfc8446 with an identity over 255 bytes");
	is_int(tls_psk_derive(&c, H, longnqn, 1, TLS_PSK_DERIVATION_RFC8446, &p), 0,
	       "... v1 has no such limit (its context is the digest)");
	p.len = 7;
	is_int(tls_psk_derive(&c, H, S, 3, TLS_PSK_DERIVATION_RFC8446, &p), -EINVAL, "failure");
	ok(p.len == 7, "... output untouched");
	tls_psk_configured_wipe(&c);
	ok(c.len == 0 && c.key[0] == 0 && c.key[31] == 0, "wipe zeroes the key");
}

static void test_keyring_find(void)
{
	char path[] = "/tmp/test-tls-psk-XXXXXX";
	int32_t serial = -1;
	FILE *f;
	int fd = mkstemp(path);

	if (!ok(fd >= 0, "temporary /proc/keys"))
		return;
	f = fdopen(fd, "w");
	fprintf(f, "0b1f7bd2 I--Q---     2 perm 3f030000     0     0 keyring   _ses: 1\n"
		   "1d2e3f40 I------     1 perm 1f3f0000     0 65534 keyring   .nvmeX: empty\n"
		   "2a3b4c5d I------     1 perm 3f010000     0     0 user      .nvme: 32\n"
		   "3e1f2a10 I------     1 perm 3f3f0000     0     0 keyring   .nvme: 1\n");
	fclose(f);
	is_int(tls_psk_keyring_find(path, ".nvme", &serial), 0, "the .nvme keyring is found");
	is_int(serial, 0x3e1f2a10, "... the keyring's serial, not a look-alike's");
	is_int(tls_psk_keyring_find(path, ".absent", &serial), -ENOKEY, "no such keyring: -ENOKEY");
	is_int(serial, 0x3e1f2a10, "... untouched");
	is_int(tls_psk_keyring_find("/nonexistent/keys", ".nvme", &serial), -ENOENT,
	       "unreadable file: its errno");
	unlink(path);
}

static void test_strings(void)
{
	is_int(tls_psk_derivation_from_string("rfc8446"), TLS_PSK_DERIVATION_RFC8446, "rfc8446");
	is_int(tls_psk_derivation_from_string("compat"), TLS_PSK_DERIVATION_COMPAT, "compat");
	is_int(tls_psk_derivation_from_string("RFC8446"), -EINVAL, "case matters");
	is_int(tls_psk_derivation_from_string(NULL), -EINVAL, "NULL");
}

int main(void)
{
	test_parse();
	test_derive();
	test_derive_errors();
	test_strings();
	test_keyring_find();
	return tap_done();
}
