/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nbft.h - the NVMe Boot Firmware Table (NBFT, NVM Express Boot
 * Specification 1.0), as stas uses it. Firmware that booted the host from
 * an NVMe-oF namespace leaves an ACPI table, /sys/firmware/acpi/tables/NBFT
 * (NBFT1, NBFT2, ... when there are several), naming the host identity it
 * used (host NQN and host ID), its host fabric interfaces (HFIs: one NIC's
 * IP configuration each), the subsystems it connected (SSNS descriptors)
 * and the discovery controllers it knew (Discovery descriptors, a URI
 * "nvme+tcp://addr:port/" each).
 *
 * struct nbft is one table seen by stas: every string validated, every
 * path a canonical struct tid with the host side (host-traddr from the
 * HFI's address, host NQN from the host descriptor) filled in. It is filled
 * by libnvme's nvme_nbft_read() where libnvme has it (1.5 and later) or by
 * stas's own parser, nbft_parse(), which is always built (and fuzzed).
 *
 * nbft_parse() refuses a table whose structure cannot be trusted - too
 * short, wrong signature, bad checksum, a major revision other than 1, a
 * header/control/host descriptor or descriptor list outside the table -
 * with -EBADMSG (-EPROTONOSUPPORT for the revision) and a reason. A single
 * descriptor that is malformed (bad structure ID, unknown transport, a heap
 * object outside the heap, an unusable string) is left out and named in
 * @problems, as libnvme leaves it out; the rest of the table is used.
 * Minor revisions are accepted: the specification makes them backwards
 * compatible. Security descriptors are bounds-checked but not interpreted
 * (neither does libnvme 1.13).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tid.h"

#define NBFT_UUID_STR_MAX 36
#define NBFT_IPADDR_MAX 45 /* INET6_ADDRSTRLEN - 1 */
#define NBFT_URI_MAX 511
#define NBFT_PROBLEM_MAX 160

/* Where the tables live, below the sysfs root (STAS_SYSFS_ROOT or /sys). */
#define NBFT_SYSFS_DIR "firmware/acpi/tables"

/**
 * struct nbft_iface - one host fabric interface (HFI descriptor + its TCP
 * transport info).
 * @index:      the HFI descriptor index other descriptors refer to.
 * @transport:  "tcp" (the only transport NBFT 1.0 defines).
 * @ipaddr:     the interface's address ("" when all zero).
 * @prefix:     the subnet prefix length.
 * @gateway:    the IP gateway ("" when none).
 * @mac:        the MAC address.
 * @vlan:       the VLAN ID, 0 for none.
 * @dhcp_override: the address came from DHCP.
 * @host_iface: the interface with @mac on this host, or "" (not found, or
 *              an all-zero MAC); filled by nbft_resolve_ifaces(), never by
 *              the parsers.
 */
struct nbft_iface {
	unsigned index;
	char transport[TID_TRANSPORT_MAX + 1];
	char ipaddr[NBFT_IPADDR_MAX + 1];
	unsigned prefix;
	char gateway[NBFT_IPADDR_MAX + 1];
	uint8_t mac[6];
	unsigned vlan;
	bool dhcp_override;
	char host_iface[TID_IFACE_MAX + 1];
};

/**
 * struct nbft_dc - one Discovery descriptor.
 * @index:     its index (SSNS descriptors refer to it).
 * @hfi_index: the HFI it is reached through, 0 for none.
 * @uri:       the URI as the table gives it.
 * @tid:       the DC's canonical path: from the URI (nvme+tcp://addr[:port]/,
 *             port 8009 by default), the NQN, the HFI's address as
 *             host-traddr and the table's host NQN.
 */
struct nbft_dc {
	unsigned index;
	unsigned hfi_index;
	char uri[NBFT_URI_MAX + 1];
	struct tid tid;
};

/**
 * struct nbft_subsys - one Subsystem Namespace (SSNS) descriptor.
 * @index:     its index.
 * @tid:       the canonical path: transport, traddr, trsvcid, subsystem NQN,
 *             the primary HFI's address as host-traddr, the table's host NQN.
 * @hfi_index: the primary HFI.
 * @dc_index:  the discovery controller it was found through, 0 for none.
 * @nsid:      the namespace the firmware booted from.
 * @hdr_digest, @data_digest: the digests the firmware used.
 * @unavailable: the firmware could not reach the namespace.
 * @discovered: the firmware found the namespace through a DC.
 */
struct nbft_subsys {
	unsigned index;
	struct tid tid;
	unsigned hfi_index;
	unsigned dc_index;
	uint32_t nsid;
	bool hdr_digest;
	bool data_digest;
	bool unavailable;
	bool discovered;
};

/**
 * struct nbft - one table.
 * @path:     the file it was read from (NULL for nbft_parse()).
 * @parser:   "stas" or "libnvme": which parser filled it.
 * @host_nqn: the host NQN; @host_id the host ID as a lower-case UUID ("" if
 *            all zero); @host_nqn_configured, @host_id_configured: set by an
 *            administrator rather than a driver default.
 * @problems: descriptors left out, one line each (may be empty).
 * A table whose control descriptor is not marked valid has no host and no
 * lists (@host_nqn empty).
 */
struct nbft {
	char *path;
	const char *parser;
	char host_nqn[TID_NQN_MAX + 1];
	char host_id[NBFT_UUID_STR_MAX + 1];
	bool host_nqn_configured;
	bool host_id_configured;
	struct nbft_iface *hfis;
	size_t n_hfis;
	struct nbft_dc *dcs;
	size_t n_dcs;
	struct nbft_subsys *subsys;
	size_t n_subsys;
	char **problems;
};

/** nbft_free() - free @t and all it owns; NULL is accepted. Return: NULL. */
struct nbft *nbft_free(struct nbft *t);
static inline void nbft_freep(struct nbft **t)
{
	nbft_free(*t);
}
#define _cleanup_nbft_ __attribute__((cleanup(nbft_freep)))

/**
 * nbft_parse() - stas's own parser: fill a new struct nbft from the raw
 * table @buf of @size bytes. Bytes past the header's length are ignored.
 * Return: 0 and *ret set; -EBADMSG for a table that cannot be trusted (see
 * above), -EPROTONOSUPPORT for a major revision other than 1, -ENOMEM; on
 * failure *ret is untouched and, when @ret_why is not NULL, a static string
 * saying why is stored there.
 */
int nbft_parse(const void *buf, size_t size, struct nbft **ret, const char **ret_why);

/**
 * nbft_parse_libnvme() - the same, through libnvme's nvme_nbft_read() on
 * the file @path. The result is checked the same way (canonical paths).
 * Return: 0 and *ret set; -EOPNOTSUPP when libnvme has no NBFT support
 * (before 1.5); -EBADMSG when libnvme refuses the table; -ENOMEM.
 */
int nbft_parse_libnvme(const char *path, struct nbft **ret);

/**
 * nbft_read_file() - read the table @path (at most 1 MiB) and parse it:
 * with libnvme when it has NBFT support, else with nbft_parse().
 * Return: as the parsers, -ENOENT when there is no such file, -EFBIG when
 * it is larger than 1 MiB, other negative errno from reading; *ret_why as
 * nbft_parse() (NULL when not known).
 */
int nbft_read_file(const char *path, struct nbft **ret, const char **ret_why);

/**
 * nbft_resolve_ifaces() - fill each HFI's @host_iface with the network
 * interface whose address is its MAC (in <sysfs root>/class/net/), and the
 * host-iface of each path through such an HFI. An all-zero MAC names no
 * interface (loopback's address is all zero too).
 */
void nbft_resolve_ifaces(struct nbft *t);

/**
 * nbft_load_all() - every NBFT table of the host: the files "NBFT*" in
 * <sysfs root>/firmware/acpi/tables/ (sysfs root: $STAS_SYSFS_ROOT, else
 * /sys), in name order, each parsed with nbft_read_file() and its
 * interfaces resolved. A table that fails to parse is not returned; its
 * file name and reason are appended to *ret_errors (a strv, may be NULL to
 * ignore them).
 * Return: the number of tables (0 when there is none or no such directory)
 * with *ret set to a NULL-terminated array (free with nbft_list_free()), or
 * -ENOMEM.
 */
int nbft_load_all(struct nbft ***ret, char ***ret_errors);

/** nbft_list_free() - free a list from nbft_load_all(); NULL is accepted. */
void nbft_list_free(struct nbft **v);
static inline void nbft_list_freep(struct nbft ***v)
{
	nbft_list_free(*v);
}
#define _cleanup_nbft_list_ __attribute__((cleanup(nbft_list_freep)))

/**
 * nbft_uri_parse() - the DC address of a Discovery descriptor URI
 * "nvme+tcp://ADDR[:PORT][/...]" (ADDR an IPv4 literal or a bracketed IPv6
 * one; PORT 8009 when absent) into @ret's transport, traddr and trsvcid.
 * Return: 0, or -EINVAL for any other form (@ret untouched).
 */
int nbft_uri_parse(const char *uri, struct tid *ret);

/**
 * nbft_claims() - whether the kernel controller path @t (subsystem NQN,
 * transport, traddr, trsvcid; host side ignored) is one of the subsystem
 * paths of the tables @v (NULL-terminated, may be NULL).
 */
bool nbft_claims(struct nbft *const *v, const struct tid *t);

/**
 * nbft_host_claims() - nbft_claims() over this host's tables, loaded once
 * per process (nbft_load_all()); a table that cannot be read claims
 * nothing. stas uses it to treat a boot path as another orchestrator's even
 * when nvme-cli's registry has no entry for it.
 */
bool nbft_host_claims(const struct tid *t);

/**
 * nbft_host_id() - the host ID of this host's NBFT table whose host NQN is
 * @host_nqn (tables loaded once per process, as nbft_host_claims()), or
 * NULL when no table has that NQN or its host ID is zero. The string lives
 * as long as the process.
 */
const char *nbft_host_id(const char *host_nqn);
