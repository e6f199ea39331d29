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
 * "traddr", "trsvcid", "subsysnqn", "host-traddr", "host-iface", "host-nqn"),
 * or NULL for a value out of range.
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
 * tid_field_set() - set one field from @value (NULL, "" or "none" clears it).
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
 * address family (an IP literal for tcp/rdma, an IPv6 scope only on IPv6;
 * empty allowed for loop only), trsvcid numeric (1..65535) for tcp/rdma,
 * host_traddr an IP literal for tcp/rdma when set, host_iface a valid
 * interface name when set, NQNs valid when set (either may be empty).
 * A literal "none" is NOT special here (it is refused where the field needs
 * a number, an address or an NQN): "none" means unset only at the input
 * boundaries that take it (tid_field_set(), tid_parse_sysfs_address()).
 * Canonicalisation is idempotent. fc addresses (traddr and host_traddr)
 * must be one of the two forms nvme-fc accepts, "nn-0x<16 hex>:pn-0x<16 hex>"
 * or "nn-<16 hex>:pn-<16 hex>", in any case, and become the form the kernel
 * reports in sysfs and in its uevents (see fc_addr_canonicalize()).
 * An empty trsvcid is left empty (callers fill defaults with
 * tid_set_default_trsvcid()).
 *
 * Return: 0 on success, -EINVAL (t is left unchanged) when invalid.
 */
int tid_canonicalize(struct tid *t);

/* strlen("nn-0x") + 16 + strlen(":pn-0x") + 16 */
#define TID_FC_ADDR_MAX 43

/**
 * fc_addr_canonicalize() - an FC transport address in either form nvme-fc
 * accepts ("nn-0x<16 hex>:pn-0x<16 hex>" or "nn-<16 hex>:pn-<16 hex>"; here
 * each name with or without its "0x", prefixes and digits in any case)
 * rewritten in @buf (@size bytes) to the
 * form the kernel prints, "nn-0x%016llx:pn-0x%016llx" (lower case): the
 * form of /sys/class/nvme/nvmeN/address and of FC_EVENT=nvmediscovery's
 * NVMEFC_TRADDR and NVMEFC_HOST_TRADDR, so one port has one spelling.
 *
 * Return: 0, or -EINVAL when @buf is neither form or @size is below
 * TID_FC_ADDR_MAX + 1 (@buf unchanged).
 */
int fc_addr_canonicalize(char *buf, size_t size);

/**
 * tid_set_default_trsvcid() - for tcp with no trsvcid, set 8009 for a
 * discovery controller (@discovery) or 4420 for an I/O controller; for rdma
 * with no trsvcid, 4420 either way (as libnvme's nvmf_get_default_trsvcid():
 * 8009 is the NVMe/TCP discovery port only).
 */
void tid_set_default_trsvcid(struct tid *t, bool discovery);

/**
 * tid_parse_sysfs_address() - fill @ret from a kernel controller's sysfs
 * "address" attribute, e.g. "traddr=192.168.1.2,trsvcid=4420,src_addr=..."
 * or "traddr=...,trsvcid=...,host_traddr=...,host_iface=eth0". Only the
 * address fields are touched (transport, NQNs come from other attributes).
 * src_addr is the kernel's chosen source address: it is NOT host_traddr,
 * and is ignored, as are keys this version does not know. Address fields
 * absent from @address are cleared; "none" means unset. Values are checked
 * for length and printable characters (host_iface as an interface name);
 * call tid_canonicalize() once transport and NQNs are set.
 *
 * Return: 0, or -EINVAL for an unparsable string (a token without '=', a
 * bad value) (ret untouched).
 */
int tid_parse_sysfs_address(const char *address, struct tid *ret);

/**
 * tid_equal() - whether @a and @b (both canonical) name the same path.
 * All fields are compared.
 */
bool tid_equal(const struct tid *a, const struct tid *b);

/**
 * tid_match() - whether @t (canonical) matches the exclusion/filter
 * @pattern: every field set in @pattern must equal @t's; unset fields are
 * wildcards. A pattern traddr or host_traddr may also be a CIDR prefix
 * ("192.168.0.0/16", "fd00::/8"; the scope of @t's address is ignored);
 * a malformed CIDR pattern matches nothing. Patterns need not be
 * canonical: transport and non-IP addresses compare case-insensitively, FC
 * addresses in either nvme-fc spelling (fc_addr_canonicalize()), IP
 * addresses and tcp/rdma trsvcids by value; an IPv6 pattern address without
 * a scope matches any scope. Other fields compare exactly.
 */
bool tid_match(const struct tid *pattern, const struct tid *t);

/**
 * tid_pattern_canonicalize() - validate and canonicalise a filter pattern
 * (e.g. built with tid_field_set()): like tid_canonicalize(), but every field
 * may be empty and traddr/host_traddr may be CIDR prefixes, normalised to
 * "<inet_ntop address>/<prefix>" (prefix 0..32 or 0..128, no scope).
 *
 * Return: 0, or -EINVAL (@pattern is left unchanged).
 */
int tid_pattern_canonicalize(struct tid *pattern);

/**
 * tid_key() - a stable, canonical, printable key for @t, used in the cache
 * and as the long form of a unit instance:
 * "transport/traddr/trsvcid/subsysnqn/host_traddr/host_iface/host_nqn" with
 * '/', '%' and any byte outside 0x21..0x7e inside fields percent-encoded as
 * "%XX" (upper-case hex), so the key splits back and is printable.
 * Fields are encoded as they are: canonicalise @t first.
 *
 * Return: length written (excluding NUL), or -ENOBUFS when @size is too small.
 */
int tid_key(const struct tid *t, char *buf, size_t size);

/* Upper bound for a tid_key() buffer. */
#define TID_KEY_MAX 4096

/**
 * tid_from_key() - inverse of tid_key(): exactly seven fields, and only
 * the encoding tid_key() produces is accepted (upper-case hex, only the
 * bytes it encodes), so key and TID correspond one to one. Fields are not
 * otherwise validated.
 *
 * Return: 0 or -EINVAL (ret untouched).
 */
int tid_from_key(const char *key, struct tid *ret);

/**
 * tid_format() - human-readable form for logs:
 * "(tcp, 192.168.1.2, 8009, nqn..., host-traddr=..., host-iface=eth0,
 * host-nqn=...)"; the host fields appear only when set. Never fails;
 * truncates to @size. Return: @buf.
 */
const char *tid_format(const struct tid *t, char *buf, size_t size);
#define TID_FORMAT_MAX 1200

/**
 * tid_adrfam() - address family of @t's traddr: AF_INET, AF_INET6 (with
 * or without a scope), or 0 (not an IP address, e.g. fc or loop).
 */
int tid_adrfam(const struct tid *t);

/**
 * nqn_is_valid() - an NQN as the NVMe spec allows: "nqn." prefix, at most 223
 * bytes, printable ASCII, no spaces.
 */
bool nqn_is_valid(const char *nqn);

/**
 * ifname_is_valid() - a Linux network interface name as the kernel's
 * dev_valid_name() allows, restricted to printable ASCII: 1..15 bytes, not
 * "." or "..", no '/', ':', '%' (a name template) or whitespace. Also
 * used for IPv6 scopes.
 */
bool ifname_is_valid(const char *name);

/**
 * transport_is_valid() - one of tcp, rdma, fc, loop (lower case).
 */
bool transport_is_valid(const char *transport);
