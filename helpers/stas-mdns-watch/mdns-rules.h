/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mdns-rules.h - the policy of stas-mdns-watch, free of I/O so that it can
 * be tested table by table and fuzzed: how a DNS-SD announcement of an NVMe
 * discovery controller (TXT record, address, interface) becomes a DC
 * transport ID, when an unadvertised DC expires, and how long to wait
 * before probing an unreachable one again.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "conf.h"
#include "tid.h"

/* RFC 6763 6.2: a TXT record SHOULD NOT exceed 1300 bytes; we refuse more. */
#define MDNS_TXT_MAX 1300
#define MDNS_WHY_MAX 160

/* What the TXT record says, validated. */
struct mdns_txt {
	char transport[TID_TRANSPORT_MAX + 1]; /* "tcp" or "rdma" */
	char p[16]; /* the p= value as given (lower-cased), for messages */
	char nqn[TID_NQN_MAX + 1]; /* "" when absent */
};

/**
 * mdns_txt_parse() - parse the TXT RDATA @wire (@n bytes: length-prefixed
 * strings, as avahi_string_list_serialize() writes them) strictly:
 * every string "key[=value]" with a non-empty printable-ASCII key, valid
 * UTF-8 without control characters; keys compared case-insensitively and
 * never repeated; the whole record at most MDNS_TXT_MAX bytes; p= present
 * and one of tcp (-> tcp), roce, iwarp, rdma (-> rdma), case-insensitive,
 * blanks around it ignored; nqn=, when present, a valid NQN. Zero-length
 * strings (an empty TXT record) are skipped.
 *
 * Return: 0 and *ret; -EBADMSG (malformed, non-UTF-8, duplicated key),
 * -E2BIG (oversized), -ENOENT (no p=), -EPROTONOSUPPORT (unknown p=); on
 * failure @why (MDNS_WHY_MAX bytes) says why and *ret is untouched.
 */
int mdns_txt_parse(const uint8_t *wire, size_t n, struct mdns_txt *ret, char *why);

/**
 * mdns_address_normalize() - the traddr of an address avahi resolved on
 * interface @ifname: IPv4-mapped IPv6 ("::ffff:1.2.3.4") becomes IPv4, a
 * link-local IPv6 address gets the interface as its scope ("fe80::1%eth0"),
 * the result is in inet_ntop() form. Unspecified, multicast and malformed
 * addresses are refused.
 * Return: AF_INET or AF_INET6 and @ret (TID_TRADDR_MAX + 1 bytes), or
 * -EINVAL (@ret untouched).
 */
int mdns_address_normalize(const char *addr, const char *ifname, char *ret);

/* What the configuration and the kernel say about turning a service into a DC. */
struct mdns_policy {
	unsigned ip_family; /* CONFIG_IP_FAMILY_* */
	bool ignore_iface; /* no host-iface on the DC */
	bool unique_nqn; /* the kernel takes a discovery NQN other than the well-known one */
	const char *host_nqn; /* the configured host NQN (may be NULL) */
};

/**
 * mdns_dc_from_service() - the DC transport ID for a service resolved on
 * @ifname at @addr:@port with TXT @txt: transport from p=; traddr
 * normalised; trsvcid the port; subsysnqn the TXT nqn= when the kernel
 * supports unique discovery NQNs (TP8013) and one is given, else the
 * well-known discovery NQN; host-iface @ifname for tcp unless
 * @pol->ignore_iface (never for rdma, as nvme-stas); host-nqn @pol->host_nqn.
 *
 * Return: 0 and canonical *ret; -EAFNOSUPPORT when @pol's ip-family filters
 * the address out; -EINVAL for a bad address or port (@why says which).
 */
int mdns_dc_from_service(const struct mdns_txt *txt, const char *ifname, const char *addr,
			 uint16_t port, const struct mdns_policy *pol, struct tid *ret, char *why);

/**
 * mdns_dc_is_excluded() - whether @cfg's discovery exclude rules match DC
 * @dc seen on interface @ifname (matched with host-iface set to @ifname
 * even where the DC has none, so "host-iface=eth1" excludes an interface).
 */
bool mdns_dc_is_excluded(const struct stas_config *cfg, const struct tid *dc, const char *ifname);

/**
 * mdns_dc_expiry() - when the DC @dc (as the cache holds it) is due to be
 * purged under zeroconf-connections-persistence @persistence_sec (-1:
 * never): mDNS-origin DCs that are no longer advertised, at their last
 * advertisement plus the persistence.
 * Return: 1 and *ret_usec (CLOCK_REALTIME microseconds), or 0 when the DC
 * never expires (advertised, another origin, or persistence "never").
 */
int mdns_dc_expiry(const struct cache_dc *dc, int64_t persistence_sec, uint64_t *ret_usec);

/* Reachability probe: each attempt may take this long. */
#define MDNS_PROBE_TIMEOUT_USEC (3 * UINT64_C(1000000))
#define MDNS_BACKOFF_FIRST_USEC (2 * UINT64_C(1000000))
#define MDNS_BACKOFF_MAX_USEC (600 * UINT64_C(1000000))

/**
 * mdns_backoff_usec() - the wait after the @attempt-th failed probe (1 for
 * the first): 2 s doubling each time, capped at 10 min.
 */
uint64_t mdns_backoff_usec(unsigned attempt);
