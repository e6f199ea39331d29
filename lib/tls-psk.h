/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls-psk.h - NVMe/TCP TLS pre-shared keys (TP8011, TP8018): the PSK
 * interchange format, the derivation of the TLS PSK and its identity from a
 * configured PSK, and its insertion into the kernel's ".nvme" keyring.
 *
 * A configured PSK ("NVMeTLSkey-1:HH:<base64>:", what `nvme gen-tls-key`
 * prints) is never given to the kernel as is. The NVMe/TCP specification
 * derives, per host and subsystem:
 *
 *   retained PSK = HKDF-Expand-Label(HKDF-Extract(0, configured PSK),
 *                                    "HostNQN", <host NQN>, L)
 *                  (or the configured PSK itself when HH is 00)
 *   identity     = "NVMe1R<CC> <host NQN> <subsystem NQN> <digest>"
 *   digest       = base64(HMAC(retained PSK, "<host NQN> <subsystem NQN>
 *                                             NVMe-over-Fabrics"))
 *   TLS PSK      = HKDF-Expand-Label(HKDF-Extract(0, retained PSK),
 *                                    "nvme-tls-psk", "<CC> <digest>", L)
 *
 * where L is the configured key's length (32 or 48 bytes), the hash is
 * SHA-256 for HH 01 and SHA-384 for HH 02 (HH 00: by the key length), and
 * CC the same hash as two digits. Identity version 0 ("NVMe0R<CC> <host
 * NQN> <subsystem NQN>", context = the identity) is derived too, for
 * comparison with nvme-cli; stas inserts version 1, as `nvme connect
 * --tls-key` does (libnvme's __nvme_insert_tls_key()).
 *
 * HKDF-Expand-Label is RFC 8446's: the info is a 2-byte big-endian length,
 * then the label "tls13 <label>" and the context, each after one length
 * byte. libnvme up to 1.15 (nvme-cli up to 2.15) wrote it differently: a
 * 2-byte length in host byte order and the label and context concatenated
 * without length bytes. A key derived one way does not match the other, so
 * both are here (TLS_PSK_DERIVATION_*); libnvme 1.16 calls the old one
 * "compat".
 *
 * Configured keys are secrets: nothing here logs; buffers that held key
 * material are wiped (tls_psk_configured_wipe(), tls_psk_wipe()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tid.h"

#define TLS_PSK_KEY_MAX 48
/* "NVMe1R02 " + host NQN + ' ' + subsystem NQN + ' ' + 64 digest chars */
#define TLS_PSK_IDENTITY_MAX (9 + TID_NQN_MAX + 1 + TID_NQN_MAX + 1 + 64)
/* The kernel's keyring for NVMe TLS keys (nvme-keyring.ko). */
#define TLS_PSK_KEYRING ".nvme"
/* The key type nvme-keyring.ko registers for TLS PSKs. */
#define TLS_PSK_KEY_TYPE "psk"

enum tls_psk_derivation {
	TLS_PSK_DERIVATION_RFC8446, /* RFC 8446 HkdfLabel; libnvme >= 1.16 */
	TLS_PSK_DERIVATION_COMPAT, /* libnvme <= 1.15's info layout (1.16's "compat") */
	_TLS_PSK_DERIVATION_MAX,
};

/** tls_psk_derivation_to_string() - "rfc8446" / "compat", NULL when invalid. */
const char *tls_psk_derivation_to_string(enum tls_psk_derivation d);
/** tls_psk_derivation_from_string() - the value, or -EINVAL. */
int tls_psk_derivation_from_string(const char *s);

/**
 * struct tls_psk_configured - a configured PSK, decoded.
 * @hmac: the interchange format's HH: 0 no transform, 1 SHA-256, 2 SHA-384.
 * @len:  32 or 48.
 */
struct tls_psk_configured {
	unsigned hmac;
	size_t len;
	uint8_t key[TLS_PSK_KEY_MAX];
};

/**
 * struct tls_psk - what goes into the keyring: the TLS PSK (@len bytes of
 * @key, as long as the configured key) under the description @identity.
 */
struct tls_psk {
	char identity[TLS_PSK_IDENTITY_MAX + 1];
	uint8_t key[TLS_PSK_KEY_MAX];
	size_t len;
};

/**
 * tls_psk_parse() - decode the PSK interchange format
 * "NVMeTLSkey-1:HH:<base64 of key + CRC-32>:" (HH 00, 01 or 02; the key 32
 * bytes for 01, 48 for 02, either for 00; the CRC-32 of the key, little
 * endian, after it). Surrounding white space is not accepted.
 *
 * Return: 0 and *@ret; -EINVAL when @s is not in that format (prefix,
 * version, HH, length or base64 wrong); -EBADMSG when the CRC-32 does not
 * match (a key mistyped or cut). *@ret untouched on failure; nothing is
 * logged.
 */
int tls_psk_parse(const char *s, struct tls_psk_configured *ret);

/** tls_psk_parse_strerror() - words for tls_psk_parse()'s @r (no key text). */
const char *tls_psk_parse_strerror(int r);

/**
 * tls_psk_derive() - the TLS PSK and its identity for @hostnqn and
 * @subsysnqn from the configured PSK @c (see the top of this file), with
 * identity @version 0 or 1 and the HKDF info layout @d.
 *
 * Return: 0 and *@ret; -EINVAL when @version is not 0 or 1 or an NQN is
 * empty, longer than TID_NQN_MAX or holds a space. *@ret untouched on
 * failure.
 */
int tls_psk_derive(const struct tls_psk_configured *c, const char *hostnqn, const char *subsysnqn,
		   unsigned version, enum tls_psk_derivation d, struct tls_psk *ret);

/** tls_psk_configured_wipe() / tls_psk_wipe() - zero the key material. */
void tls_psk_configured_wipe(struct tls_psk_configured *c);
void tls_psk_wipe(struct tls_psk *p);

/**
 * tls_psk_keyring_find() - the serial of the keyring named @name (".nvme")
 * from @proc_keys (NULL: /proc/keys, the keys this process may view): the
 * kernel's .nvme keyring is linked into no process keyring, so it cannot
 * be searched for from one (libnvme finds it the same way, through
 * keyutils' find_key_by_type_and_desc()).
 *
 * Return: 0 and *@ret_serial; -ENOKEY when no such keyring is listed (the
 * nvme-keyring module is not loaded); a negative errno when @proc_keys
 * cannot be read. *@ret_serial untouched on failure.
 */
int tls_psk_keyring_find(const char *proc_keys, const char *name, int32_t *ret_serial);

/**
 * tls_psk_insert() - derive (identity version 1, info layout @d) the TLS PSK
 * for @hostnqn/@subsysnqn from the configured PSK in interchange format
 * @configured and add it to the kernel's .nvme keyring as a "psk" key (a
 * key with the same identity is replaced, as add_key(2) does). Needs
 * CAP_SYS_ADMIN or root's access to .nvme.
 *
 * Return: 0 and *@ret_serial, the key to name in "tls_key=" (and, when not
 * NULL, its identity in @ret_identity, TLS_PSK_IDENTITY_MAX + 1 bytes);
 * tls_psk_parse()'s errors for a malformed key; -ENOKEY without the .nvme
 * keyring; -EINVAL for an unusable NQN; add_key(2)'s errno. Outputs
 * untouched on failure.
 */
int tls_psk_insert(const char *configured, const char *hostnqn, const char *subsysnqn,
		   enum tls_psk_derivation d, int32_t *ret_serial, char *ret_identity);
