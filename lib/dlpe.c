/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nvme/types.h>

#include "dlpe.h"
#include "log.h"
#include "macro.h"

_Static_assert(sizeof(struct nvmf_disc_log_entry) == 1024, "DLP entry is 1024 bytes");

bool dlpe_equal(const struct dlpe *a, const struct dlpe *b)
{
	return a->trtype == b->trtype && a->adrfam == b->adrfam && a->subtype == b->subtype &&
	       a->treq == b->treq && a->portid == b->portid && a->cntlid == b->cntlid &&
	       a->asqsz == b->asqsz && a->eflags == b->eflags &&
	       streq(a->transport, b->transport) && streq(a->trsvcid, b->trsvcid) &&
	       streq(a->traddr, b->traddr) && streq(a->subnqn, b->subnqn) &&
	       a->tsas_sectype == b->tsas_sectype && a->tsas_rdma_qptype == b->tsas_rdma_qptype &&
	       a->tsas_rdma_prtype == b->tsas_rdma_prtype && a->tsas_rdma_cms == b->tsas_rdma_cms &&
	       a->tsas_rdma_pkey == b->tsas_rdma_pkey;
}

void dlpe_to_tid(const struct dlpe *e, const struct tid *dc, struct tid *ret)
{
	struct tid t = {};

	memcpy(t.transport, e->transport, sizeof(t.transport));
	memcpy(t.traddr, e->traddr, sizeof(t.traddr));
	memcpy(t.trsvcid, e->trsvcid, sizeof(t.trsvcid));
	memcpy(t.subsysnqn, e->subnqn, sizeof(t.subsysnqn));
	if (dc) {
		memcpy(t.host_traddr, dc->host_traddr, sizeof(t.host_traddr));
		memcpy(t.host_iface, dc->host_iface, sizeof(t.host_iface));
		memcpy(t.host_nqn, dc->host_nqn, sizeof(t.host_nqn));
	}
	*ret = t;
}

int tid_from_dlpe(const struct dlpe *e, const struct tid *dc, const char *host_nqn, struct tid *ret)
{
	struct tid t;

	assert(e);
	assert(ret);

	dlpe_to_tid(e, dc, &t);
	/* Every path carries a host NQN: the kernel's controllers always report one. */
	if (isempty(t.host_nqn) && !isempty(host_nqn) &&
	    strscpy_checked(t.host_nqn, sizeof(t.host_nqn), host_nqn) < 0)
		return -EINVAL;
	tid_set_default_trsvcid(&t, e->subtype == DLPE_SUBTYPE_REFERRAL);
	if (tid_canonicalize(&t) < 0)
		return -EINVAL;
	*ret = t;
	return 0;
}

/*
 * The words for the raw values, exactly as libnvme 1.3's nvmf_*_str() spell
 * them (src/nvme/fabrics.c) - the words nvme-cli prints and nvme-stas's D-Bus
 * API carries - including "unrecognized" for a value libnvme has no word for
 * (adrfam loop, treq 3 and above 4).
 */
static const char *const trtype_words[] = {
	[NVMF_TRTYPE_RDMA] = "rdma",
	[NVMF_TRTYPE_FC] = "fc",
	[NVMF_TRTYPE_TCP] = "tcp",
	[NVMF_TRTYPE_LOOP] = "loop",
};

static const char *const adrfam_words[] = {
	[NVMF_ADDR_FAMILY_PCI] = "pci",		 [NVMF_ADDR_FAMILY_IP4] = "ipv4",
	[NVMF_ADDR_FAMILY_IP6] = "ipv6",	 [NVMF_ADDR_FAMILY_IB] = "infiniband",
	[NVMF_ADDR_FAMILY_FC] = "fibre-channel",
};

static const char *const subtype_words[] = {
	[DLPE_SUBTYPE_REFERRAL] = "discovery subsystem referral",
	[DLPE_SUBTYPE_NVME] = "nvme subsystem",
	[DLPE_SUBTYPE_CURRENT] = "current discovery subsystem",
};

static const char *const treq_words[] = {
	[DLPE_TREQ_NOT_SPECIFIED] = "not specified",
	[DLPE_TREQ_REQUIRED] = "required",
	[DLPE_TREQ_NOT_REQUIRED] = "not required",
	[DLPE_TREQ_DISABLE_SQFLOW] = "not specified, sq flow control disable supported",
};

/* <name>_to_string(): a table's word or "unrecognized"; <name>_from_string(): its index. */
#define DEFINE_DLPE_STRING_TABLE(name, table)                                            \
	const char *dlpe_##name##_to_string(uint8_t v)                                   \
	{                                                                                \
		return v < ELEMENTSOF(table) && table[v] ? table[v] : DLPE_UNRECOGNIZED; \
	}                                                                                \
	int dlpe_##name##_from_string(const char *s)                                     \
	{                                                                                \
		for (size_t i = 0; s && i < ELEMENTSOF(table); i++)                      \
			if (table[i] && streq(table[i], s))                              \
				return (int)i;                                           \
		return -EINVAL;                                                          \
	}

DEFINE_DLPE_STRING_TABLE(trtype, trtype_words)
DEFINE_DLPE_STRING_TABLE(adrfam, adrfam_words)
DEFINE_DLPE_STRING_TABLE(subtype, subtype_words)
DEFINE_DLPE_STRING_TABLE(treq, treq_words)

/* A transport stas handles, or NULL. */
static const char *transport_from_trtype(uint8_t trtype)
{
	return trtype < ELEMENTSOF(trtype_words) ? trtype_words[trtype] : NULL;
}

static uint8_t trtype_from_transport(const char *t)
{
	int r = dlpe_trtype_from_string(t);

	return r < 0 ? NVMF_TRTYPE_UNSPECIFIED : (uint8_t)r;
}

/*
 * Copy a fixed-size, possibly unterminated, space- or NUL-padded field.
 * Refuses non-printable bytes anywhere before the padding.
 */
static int field_copy(char *dst, size_t dst_size, const char *src, size_t src_size)
{
	size_t n = strnlen(src, src_size);

	while (n > 0 && src[n - 1] == ' ')
		n--;
	if (n >= dst_size)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)src[i] < 0x20 || (unsigned char)src[i] > 0x7e)
			return -EINVAL;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

static bool addr_is_unspecified(const char *traddr)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (isempty(traddr))
		return true;
	if (inet_pton(AF_INET, traddr, &a4) == 1)
		return a4.s_addr == INADDR_ANY;
	if (inet_pton(AF_INET6, traddr, &a6) == 1)
		return IN6_IS_ADDR_UNSPECIFIED(&a6);
	return false;
}

#define FAIL(err, why)                       \
	do {                                 \
		if (ret_reason)              \
			*ret_reason = (why); \
		return (err);                \
	} while (0)

int dlpe_from_nvmf(const struct nvmf_disc_log_entry *raw, struct dlpe *ret, const char **ret_reason)
{
	struct dlpe e = {};
	struct tid t = {};
	const char *transport;

	transport = transport_from_trtype(raw->trtype);
	if (!transport)
		FAIL(-EPROTONOSUPPORT, "unknown transport type");
	if (raw->subtype < DLPE_SUBTYPE_REFERRAL || raw->subtype > DLPE_SUBTYPE_CURRENT)
		FAIL(-EINVAL, "unknown subsystem type");

	e.trtype = raw->trtype;
	e.adrfam = raw->adrfam;
	e.subtype = raw->subtype;
	e.treq = raw->treq;
	e.portid = le16toh(raw->portid);
	e.cntlid = le16toh(raw->cntlid);
	e.asqsz = le16toh(raw->asqsz);
	e.eflags = le16toh(raw->eflags);
	strcpy(e.transport, transport);

	if (field_copy(e.subnqn, sizeof(e.subnqn), raw->subnqn, sizeof(raw->subnqn)) < 0)
		FAIL(-EINVAL, "subsystem NQN is too long or not printable");
	if (!nqn_is_valid(e.subnqn))
		FAIL(-EINVAL, "subsystem NQN is not a valid NQN");
	if (field_copy(e.traddr, sizeof(e.traddr), raw->traddr, sizeof(raw->traddr)) < 0)
		FAIL(-EINVAL, "transport address is not printable");
	if (field_copy(e.trsvcid, sizeof(e.trsvcid), raw->trsvcid, sizeof(raw->trsvcid)) < 0)
		FAIL(-EINVAL, "transport service ID is not printable");

	if (raw->trtype == NVMF_TRTYPE_TCP || raw->trtype == NVMF_TRTYPE_RDMA) {
		int want;

		if (addr_is_unspecified(e.traddr))
			FAIL(-EADDRNOTAVAIL, "transport address names no host");
		if (raw->adrfam == NVMF_ADDR_FAMILY_IP4)
			want = AF_INET;
		else if (raw->adrfam == NVMF_ADDR_FAMILY_IP6)
			want = AF_INET6;
		else if (raw->adrfam == NVMF_ADDR_FAMILY_IB && raw->trtype == NVMF_TRTYPE_RDMA)
			want = 0;
		else
			FAIL(-EINVAL, "address family does not fit the transport");
		if (isempty(e.trsvcid))
			FAIL(-EINVAL, "transport service ID is missing");

		strcpy(t.transport, transport);
		strcpy(t.traddr, e.traddr);
		strcpy(t.trsvcid, e.trsvcid);
		if (want != 0) {
			if (tid_canonicalize(&t) < 0)
				FAIL(-EINVAL, "transport address or service ID is malformed");
			if (tid_adrfam(&t) != want)
				FAIL(-EINVAL,
				     "transport address is not of the entry's address family");
			strcpy(e.traddr, t.traddr);
			strcpy(e.trsvcid, t.trsvcid);
		}
		if (raw->trtype == NVMF_TRTYPE_TCP)
			e.tsas_sectype = raw->tsas.tcp.sectype;
		else {
			e.tsas_rdma_qptype = raw->tsas.rdma.qptype;
			e.tsas_rdma_prtype = raw->tsas.rdma.prtype;
			e.tsas_rdma_cms = raw->tsas.rdma.cms;
			e.tsas_rdma_pkey = le16toh(raw->tsas.rdma.pkey);
		}
	} else if (raw->trtype == NVMF_TRTYPE_FC) {
		if (isempty(e.traddr))
			FAIL(-EADDRNOTAVAIL, "transport address names no host");
		if (fc_addr_canonicalize(e.traddr, sizeof(e.traddr)) < 0)
			FAIL(-EINVAL, "transport address is not an FC address "
				      "(nn-0x<16 hex digits>:pn-0x<16 hex digits>)");
	}

	*ret = e;
	return 0;
}

static void field_put(char *dst, size_t dst_size, const char *src)
{
	size_t n = strlen(src);

	memset(dst, ' ', dst_size);
	memcpy(dst, src, MIN(n, dst_size));
	if (n < dst_size)
		dst[n] = '\0';
}

void dlpe_to_nvmf(const struct dlpe *e, struct nvmf_disc_log_entry *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->trtype = e->trtype ? e->trtype : trtype_from_transport(e->transport);
	ret->adrfam = e->adrfam;
	ret->subtype = e->subtype;
	ret->treq = e->treq;
	ret->portid = htole16(e->portid);
	ret->cntlid = htole16(e->cntlid);
	ret->asqsz = htole16(e->asqsz);
	ret->eflags = htole16(e->eflags);
	field_put(ret->trsvcid, sizeof(ret->trsvcid), e->trsvcid);
	field_put(ret->subnqn, sizeof(ret->subnqn), e->subnqn);
	field_put(ret->traddr, sizeof(ret->traddr), e->traddr);
	if (ret->trtype == NVMF_TRTYPE_TCP)
		ret->tsas.tcp.sectype = e->tsas_sectype;
	else if (ret->trtype == NVMF_TRTYPE_RDMA) {
		ret->tsas.rdma.qptype = e->tsas_rdma_qptype;
		ret->tsas.rdma.prtype = e->tsas_rdma_prtype;
		ret->tsas.rdma.cms = e->tsas_rdma_cms;
		ret->tsas.rdma.pkey = htole16(e->tsas_rdma_pkey);
	}
}

int dlpe_log_header_check(const void *hdr, size_t size, uint64_t *ret_numrec, uint64_t *ret_genctr)
{
	const struct nvmf_discovery_log *h = hdr;
	uint64_t numrec;

	assert(hdr);

	if (size < offsetof(struct nvmf_discovery_log, rsvd14))
		return -EINVAL;
	numrec = le64toh(h->numrec);
	if (numrec > DLP_ENTRIES_MAX)
		return log_debug_errno(EBADMSG,
				       "Discovery log page header claims %llu entries (more than "
				       "%d), refusing.",
				       (unsigned long long)numrec, DLP_ENTRIES_MAX);
	/* Record format 0 is the only one defined: another is not a page we can parse. */
	if (le16toh(h->recfmt) != 0)
		return log_debug_errno(EBADMSG,
				       "Discovery log page has record format %u, refusing.",
				       le16toh(h->recfmt));
	if (ret_numrec)
		*ret_numrec = numrec;
	if (ret_genctr)
		*ret_genctr = le64toh(h->genctr);
	return 0;
}

int dlpe_list_from_log(const struct nvmf_discovery_log *log, dlpe_malformed_cb on_malformed,
		       void *userdata, struct dlpe **ret, size_t *ret_n, uint64_t *ret_genctr)
{
	_cleanup_free_ struct dlpe *v = NULL;
	uint64_t numrec;
	size_t n = 0;
	int r;

	assert(log);
	assert(ret);
	assert(ret_n);

	r = dlpe_log_header_check(log, DLP_HEADER_SIZE, &numrec, NULL);
	if (r < 0)
		return r;
	if (numrec > 0) {
		v = calloc(numrec, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (uint64_t i = 0; i < numrec; i++) {
		const char *why = NULL;

		r = dlpe_from_nvmf(&log->entries[i], &v[n], &why);
		if (r == -EADDRNOTAVAIL) {
			log_debug("Dropping log page entry %llu: %s.", (unsigned long long)i, why);
			continue;
		}
		if (r < 0) {
			log_debug("Skipping malformed log page entry %llu: %s.",
				  (unsigned long long)i, why ? why : "invalid");
			if (on_malformed)
				on_malformed(i, why ? why : "invalid", userdata);
			continue;
		}
		n++;
	}
	if (ret_genctr)
		*ret_genctr = le64toh(log->genctr);
	*ret_n = n;
	*ret = TAKE_PTR(v);
	return 0;
}
