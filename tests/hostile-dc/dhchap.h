/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dhchap.h - the arithmetic of DH-HMAC-CHAP (NVMe base specification 2.0
 * section 8.13, TP8006) that hostile-dc needs to play an authenticating
 * controller: the secret's interchange format, the key transformation and
 * the two responses, with SHA-256 and the NULL DH group only (no DH
 * exponentials: the challenge is used as it is, not augmented).
 *
 * Kept apart from the protocol code so tests/test-dhchap.c can check each
 * step against values computed independently.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define DHCHAP_KEY_MAX 64
#define DHCHAP_HASH_LEN SHA256_DIGEST_SIZE

/* The hash of a secret's key transformation ("DHHC-1:<hash>:"). */
enum dhchap_key_hash {
	DHCHAP_KEY_HASH_NONE = 0,
	DHCHAP_KEY_HASH_SHA256 = 1,
	DHCHAP_KEY_HASH_SHA384 = 2,
	DHCHAP_KEY_HASH_SHA512 = 3,
};

struct dhchap_key {
	uint8_t key[DHCHAP_KEY_MAX];
	size_t len; /* 32, 48 or 64 */
	enum dhchap_key_hash hash;
};

/**
 * dhchap_key_parse() - decode a secret "DHHC-1:<hh>:<base64 of key + CRC-32>:"
 * (what nvme gen-dhchap-key prints; the trailing ':' may be missing, as the
 * kernel tolerates).
 *
 * The key is 32, 48 or 64 bytes; the CRC-32 (IEEE, little-endian) of the key
 * follows it; <hh> 01/02/03 ask for the SHA-256/384/512 transformation and
 * then fix the key length at 32/48/64.
 *
 * Return: 0 and *@ret_key filled; -EINVAL not that format (or a key length
 * its hash does not allow), -EBADMSG the CRC does not match. @ret_key is
 * untouched on failure.
 */
int dhchap_key_parse(const char *secret, struct dhchap_key *ret_key);

/**
 * dhchap_key_transform() - the key the responses are computed with: for
 * hash 01/02/03, HMAC-SHA-256/384/512 under the key of @nqn followed by
 * "NVMe-over-Fabrics" (32/48/64 bytes); for hash 00 the key itself.
 * @nqn is the host NQN for the host's key and the subsystem NQN for the
 * controller's key.
 *
 * Return: 0 and *@ret_out; -EINVAL for an unknown hash. @ret_out is
 * untouched on failure.
 */
int dhchap_key_transform(const struct dhchap_key *key, const char *nqn, struct dhchap_key *ret_out);

/**
 * dhchap_host_response() - the response the host sends in
 * DH-HMAC-CHAP_Reply: HMAC-SHA-256 under the transformed host key of
 * challenge C1 (32 bytes), sequence number S1 (LE32), transaction ID T_ID
 * (LE16), the secure channel concatenation byte SC_C, "HostHost", the host
 * NQN, one zero byte and the subsystem NQN.
 */
void dhchap_host_response(const struct dhchap_key *tkey, const uint8_t c1[DHCHAP_HASH_LEN],
			  uint32_t s1, uint16_t tid, uint8_t sc_c, const char *hostnqn,
			  const char *subnqn, uint8_t out[DHCHAP_HASH_LEN]);

/**
 * dhchap_ctrl_response() - the controller's response in
 * DH-HMAC-CHAP_Success1 of a bidirectional exchange: HMAC-SHA-256 under the
 * transformed controller key of C2, S2 (LE32), T_ID (LE16), one zero byte,
 * "Controller", the subsystem NQN, one zero byte and the host NQN.
 */
void dhchap_ctrl_response(const struct dhchap_key *tkey, const uint8_t c2[DHCHAP_HASH_LEN],
			  uint32_t s2, uint16_t tid, const char *subnqn, const char *hostnqn,
			  uint8_t out[DHCHAP_HASH_LEN]);
