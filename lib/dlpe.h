/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dlpe.h - Discovery Log Page entries as stas keeps them.
 *
 * The kernel hands a Discovery Log Page as an array of fixed-size records
 * (struct nvmf_disc_log_entry: 1024 bytes, string fields space- or
 * NUL-padded and not guaranteed to be NUL-terminated, integers
 * little-endian). stas converts every entry from the network once, at the
 * boundary, into this normalised form - validated, NUL-terminated, host
 * endian, transport and addresses canonical - and nothing else in stas ever
 * looks at the raw record. The cache stores this form; stas-cached and
 * stasadm print it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tid.h"

/* Subsystem types (NVMe base spec, Discovery Log Page Entry SUBTYPE). */
enum dlpe_subtype {
	DLPE_SUBTYPE_REFERRAL = 1, /* NVME_NQN_DISC: another discovery controller */
	DLPE_SUBTYPE_NVME = 2, /* NVME_NQN_NVME: an I/O subsystem */
	DLPE_SUBTYPE_CURRENT = 3, /* NVME_NQN_CURR: the DC's own entry */
};

/* EFLAGS bits */
#define DLPE_EFLAG_EPCSD (1u << 1) /* explicit persistent connection support */
#define DLPE_EFLAG_DUPRETINFO (1u << 0) /* duplicate returned information */
#define DLPE_EFLAG_NCC (1u << 2) /* no CDC connectivity */

/* TREQ values (low 2 bits) */
enum dlpe_treq_secure {
	DLPE_TREQ_NOT_SPECIFIED = 0,
	DLPE_TREQ_REQUIRED = 1,
	DLPE_TREQ_NOT_REQUIRED = 2,
};
#define DLPE_TREQ_DISABLE_SQFLOW (1u << 2)

struct dlpe {
	uint8_t trtype; /* raw NVMF_TRTYPE_* */
	uint8_t adrfam; /* raw NVMF_ADDR_FAMILY_* */
	uint8_t subtype; /* enum dlpe_subtype */
	uint8_t treq;
	uint16_t portid;
	uint16_t cntlid;
	uint16_t asqsz;
	uint16_t eflags;
	char transport[TID_TRANSPORT_MAX + 1]; /* canonical name of trtype: "tcp", "rdma", ... */
	char trsvcid[TID_TRSVCID_MAX + 1];
	char traddr[TID_TRADDR_MAX + 1]; /* canonical */
	char subnqn[TID_NQN_MAX + 1];
	/* transport-specific subtype: rdma qptype/prtype/cms/pkey, tcp sectype */
	uint8_t tsas_sectype; /* tcp: NVMF_TCP_SECTYPE_* */
	uint8_t tsas_rdma_qptype, tsas_rdma_prtype, tsas_rdma_cms;
	uint16_t tsas_rdma_pkey;
};

/**
 * dlpe_equal() - field-by-field equality of two normalised entries.
 */
bool dlpe_equal(const struct dlpe *a, const struct dlpe *b);

/**
 * dlpe_to_tid() - the I/O or discovery controller TID this entry points at,
 * on behalf of the discovery controller @dc (whose host-traddr, host-iface
 * and host NQN the path inherits).
 */
void dlpe_to_tid(const struct dlpe *e, const struct tid *dc, struct tid *ret);

/**
 * tid_from_dlpe() - the canonical path TID of entry @e as stas stores and
 * compares it: dlpe_to_tid() on behalf of DC @dc, the host NQN filled with
 * @host_nqn (the configured one; may be NULL) when @dc has none, the default
 * trsvcid of the entry's kind (8009 for a referral, 4420 otherwise), then
 * tid_canonicalize().
 * Return: 0 and *ret filled; -EINVAL when the entry names no valid path
 * (*ret untouched).
 */
int tid_from_dlpe(const struct dlpe *e, const struct tid *dc, const char *host_nqn,
		  struct tid *ret);

/*
 * The words for an entry's raw fields: one table each, spelled exactly as
 * libnvme 1.3's nvmf_trtype_str(), nvmf_adrfam_str(), nvmf_subtype_str() and
 * nvmf_treq_str() spell them (nvme-cli prints them, nvme-stas's D-Bus API
 * carries them, stas-cached reproduces them): "tcp"; "ipv4", "infiniband",
 * "fibre-channel"; "nvme subsystem", "discovery subsystem referral",
 * "current discovery subsystem"; "not specified", "required", "not
 * required", "not specified, sq flow control disable supported". A value
 * libnvme has no word for is "unrecognized". struct dlpe keeps the raw values.
 *
 * dlpe_<field>_to_string() - the word for @v (never NULL).
 * dlpe_<field>_from_string() - Return: the raw value, -EINVAL for no word of
 * the table (and for "unrecognized").
 */
#define DLPE_UNRECOGNIZED "unrecognized"
const char *dlpe_trtype_to_string(uint8_t v);
int dlpe_trtype_from_string(const char *s);
const char *dlpe_adrfam_to_string(uint8_t v);
int dlpe_adrfam_from_string(const char *s);
const char *dlpe_subtype_to_string(uint8_t v);
int dlpe_subtype_from_string(const char *s);
const char *dlpe_treq_to_string(uint8_t v);
int dlpe_treq_from_string(const char *s);

struct nvmf_disc_log_entry; /* libnvme <nvme/types.h>: the raw 1024-byte record */
struct nvmf_discovery_log; /* libnvme <nvme/types.h>: the page, header and records */

/**
 * dlpe_from_nvmf() - validate and normalise one raw entry as received from a
 * discovery controller. Every fixed-size field is bounded (no NUL needed),
 * trailing spaces are stripped, and it must be printable; the transport must
 * be known; the subsystem NQN valid; for tcp/rdma the address must parse in
 * the family ADRFAM gives and trsvcid must be a port number. Addresses that
 * name no host (empty, 0.0.0.0, ::) are refused with -EADDRNOTAVAIL, which
 * callers drop quietly as nvme-stas does.
 *
 * Return: 0 and *ret filled; or a negative errno with *ret_reason (when
 * non-NULL) pointing at a static description of what was wrong.
 */
int dlpe_from_nvmf(const struct nvmf_disc_log_entry *raw, struct dlpe *ret,
		   const char **ret_reason);

/* A page claiming more entries than this is not a discovery log any target sends. */
#define DLP_ENTRIES_MAX 65536
/* The page header (genctr, numrec, recfmt) is the first 1 KiB; each entry is 1 KiB. */
#define DLP_HEADER_SIZE 1024
#define DLP_ENTRY_SIZE 1024

/**
 * dlpe_log_header_check() - check the header of a Discovery Log Page before
 * reading the rest: @hdr holds the first @size bytes of the page as the DC
 * sent them (at least the 20 bytes of genctr, numrec and recfmt). Pure: no
 * I/O, so a reader can refuse a hostile numrec before it allocates or
 * issues a single command for the entries.
 * Return: 0 with the entry count in *@ret_numrec and the generation counter
 * in *@ret_genctr (either may be NULL); -EBADMSG when numrec exceeds
 * DLP_ENTRIES_MAX or the record format is not 0; -EINVAL when @size is too
 * small for a header. Outputs untouched on failure.
 */
int dlpe_log_header_check(const void *hdr, size_t size, uint64_t *ret_numrec, uint64_t *ret_genctr);

/* Called for each malformed entry: its index on the page and why (static text). */
typedef void (*dlpe_malformed_cb)(uint64_t index, const char *why, void *userdata);

/**
 * dlpe_list_from_log() - every entry of the Discovery Log Page @log through
 * dlpe_from_nvmf(). Entries that name no host are dropped quietly; malformed
 * ones are skipped and, when @on_malformed is non-NULL, reported to it (with
 * @userdata) so that the program can say so once per entry.
 * Return: 0, a malloc()ed array of *ret_n entries in *ret (NULL when none),
 * the page's generation counter in *ret_genctr (may be NULL); -EBADMSG for a
 * page claiming more entries than any target sends; -ENOMEM.
 */
int dlpe_list_from_log(const struct nvmf_discovery_log *log, dlpe_malformed_cb on_malformed,
		       void *userdata, struct dlpe **ret, size_t *ret_n, uint64_t *ret_genctr);

/**
 * dlpe_to_nvmf() - the inverse, for tests and fuzz targets that need to
 * build raw records.
 */
void dlpe_to_nvmf(const struct dlpe *e, struct nvmf_disc_log_entry *ret);
