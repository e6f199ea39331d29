/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tid.h - transport IDs: the identity of one NVMe-oF controller path.
 *
 * A transport ID (TID) names a controller as the host sees it: transport,
 * target address and service, the subsystem NQN, and the host side of the
 * path (host address, host interface, host NQN). Every program of stas
 * builds TIDs from its own inputs - a config entry, a Discovery Log Page
 * entry, a kernel controller's sysfs "address" string, an mDNS record - and
 * must agree on identity, so every TID is canonicalised before it is
 * compared, stored or used as a key:
 *
 *  - transport lower-case ("tcp", "rdma", "fc", "loop");
 *  - IPv4/IPv6 addresses in inet_ntop() form ("::ffff:1.2.3.4" stays IPv6,
 *    leading zeros and case folded); an IPv6 scope ("fe80::1%eth0") kept as
 *    the interface name after '%';
 *  - trsvcid as a decimal number without leading zeros for tcp/rdma;
 *  - empty string for every unset field (never "none").
 *
 * Fields are fixed-size strings, so a struct tid is a plain value: copy it
 * with '=', no allocation, no cleanup.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define TID_TRANSPORT_MAX 8
#define TID_TRADDR_MAX 256 /* DLP traddr field size */
#define TID_TRSVCID_MAX 32 /* DLP trsvcid field size */
#define TID_NQN_MAX 223 /* NVMF_NQN_SIZE - 1 */
#define TID_IFACE_MAX 15 /* IFNAMSIZ - 1 */

struct tid {
	char transport[TID_TRANSPORT_MAX + 1];
	char traddr[TID_TRADDR_MAX + 1];
	char trsvcid[TID_TRSVCID_MAX + 1];
	char subsysnqn[TID_NQN_MAX + 1];
	char host_traddr[TID_TRADDR_MAX + 1];
	char host_iface[TID_IFACE_MAX + 1];
	char host_nqn[TID_NQN_MAX + 1];
};

/* The well-known discovery subsystem NQN. */
#define NVME_DISC_SUBSYS_NQN "nqn.2014-08.org.nvmexpress.discovery"

/* Default service IDs (NVMe/TCP spec): discovery 8009, I/O 4420. */
#define TID_TRSVCID_DISC "8009"
#define TID_TRSVCID_IO "4420"

enum tid_field {
	TID_FIELD_TRANSPORT,
	TID_FIELD_TRADDR,
	TID_FIELD_TRSVCID,
	TID_FIELD_SUBSYSNQN,
	TID_FIELD_HOST_TRADDR,
	TID_FIELD_HOST_IFACE,
	TID_FIELD_HOST_NQN,
	_TID_FIELD_MAX,
};

/**
 * tid_field_to_string() - the canonical name of a field ("transport",
 * "traddr", "trsvcid", "subsysnqn", "host-traddr", "host-iface", "host-nqn").
 */
const char *tid_field_to_string(enum tid_field f);

/**
 * tid_field_from_string() - inverse of tid_field_to_string(); also accepts
 * nvme-cli/nvme-stas spellings ("nqn", "host_traddr", "host_iface", "hostnqn",
 * "host-nqn", "trtype"). Return: the field, or -EINVAL.
 */
int tid_field_from_string(const char *s);

/**
 * tid_field_ptr() / tid_field_size() - direct access to a field's buffer.
 */
char *tid_field_ptr(struct tid *t, enum tid_field f);
const char *tid_field_get(const struct tid *t, enum tid_field f);
size_t tid_field_size(enum tid_field f);

/**
 * tid_field_set() - set one field from @value (NULL or "none" clears it).
 * The value is validated for the field (length, printable characters, NQN
 * form, address syntax for the transport if already known); it is not
 * canonicalised - call tid_canonicalize() once all fields are set.
 *
 * Return: 0, -EINVAL for a malformed value, -ENAMETOOLONG when too long.
 */
int tid_field_set(struct tid *t, enum tid_field f, const char *value);

/**
 * tid_canonicalize() - bring @t to canonical form (see above) and validate
 * it: transport known, traddr present and valid for the transport and its
 * address family, trsvcid numeric (1..65535) for tcp/rdma, NQNs valid.
 * An empty trsvcid is left empty (callers fill defaults with
 * tid_set_default_trsvcid()).
 *
 * Return: 0 on success, -EINVAL (t is left unchanged) when invalid.
 */
int tid_canonicalize(struct tid *t);

/**
 * tid_set_default_trsvcid() - for tcp/rdma with no trsvcid, set 8009 for a
 * discovery controller (@discovery) or 4420 for an I/O controller.
 */
void tid_set_default_trsvcid(struct tid *t, bool discovery);

/**
 * tid_parse_sysfs_address() - fill @ret from a kernel controller's sysfs
 * "address" attribute, e.g. "traddr=192.168.1.2,trsvcid=4420,src_addr=..."
 * or "traddr=...,trsvcid=...,host_traddr=...,host_iface=eth0". Only the
 * address fields are touched (transport, NQNs come from other attributes).
 * src_addr is the kernel's chosen source address: it is NOT host_traddr,
 * and is ignored.
 *
 * Return: 0, or -EINVAL for an unparsable string (ret untouched).
 */
int tid_parse_sysfs_address(const char *address, struct tid *ret);

/**
 * tid_parse_kv() - parse a comma- or space-separated "key=value" list, as in
 * nvme-stas config ("transport=tcp;traddr=1.2.3.4;trsvcid=8009" with ';'
 * separators) and nvme-cli discovery.conf ("--transport=tcp --traddr=...").
 * Keys are tid_field_from_string() names, with an optional "--" prefix and
 * single-letter nvme-cli options (-t -a -s -w -f -n -q).
 * Unknown keys are an error, named in @ret_bad_key when given (a pointer
 * into a static buffer).
 *
 * Return: 0, -EINVAL for a malformed token or an unknown key.
 */
int tid_parse_kv(const char *s, struct tid *ret, const char **ret_bad_key);

/**
 * tid_equal() - whether @a and @b (both canonical) name the same path.
 * All fields are compared.
 */
bool tid_equal(const struct tid *a, const struct tid *b);

/**
 * tid_match() - whether @t matches the exclusion/filter @pattern: every
 * field set in @pattern must equal @t's; unset fields are wildcards. A
 * pattern traddr may also be a CIDR prefix ("192.168.0.0/16", "fd00::/8").
 */
bool tid_match(const struct tid *pattern, const struct tid *t);

/**
 * tid_key() - a stable, canonical, printable key for @t, used in the cache
 * and as the long form of a unit instance:
 * "transport/traddr/trsvcid/subsysnqn/host_traddr/host_iface/host_nqn" with
 * '/' and '%' inside fields percent-encoded (so the key splits back).
 *
 * Return: length written (excluding NUL), or -ENOBUFS when @size is too small.
 */
int tid_key(const struct tid *t, char *buf, size_t size);

/* Upper bound for a tid_key() buffer. */
#define TID_KEY_MAX 4096

/**
 * tid_from_key() - inverse of tid_key(). Return: 0 or -EINVAL.
 */
int tid_from_key(const char *key, struct tid *ret);

/**
 * tid_format() - human-readable form for logs:
 * "(tcp, 192.168.1.2, 8009, nqn..., host-iface=eth0)". Never fails;
 * truncates to @size.
 */
const char *tid_format(const struct tid *t, char *buf, size_t size);
#define TID_FORMAT_MAX 1200

/**
 * tid_adrfam() - address family of @t's traddr: AF_INET, AF_INET6, or 0
 * (not an IP address, e.g. fc or loop).
 */
int tid_adrfam(const struct tid *t);

/**
 * nqn_is_valid() - an NQN as the NVMe spec allows: "nqn." prefix, at most 223
 * bytes, printable ASCII, no spaces.
 */
bool nqn_is_valid(const char *nqn);

/**
 * transport_is_valid() - one of tcp, rdma, fc, loop (lower case).
 */
bool transport_is_valid(const char *transport);
