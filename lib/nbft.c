/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nbft.c - the NBFT ACPI table (NVM Express Boot Specification 1.0): stas's
 * own parser, the libnvme path, and the host's tables. Layout (offsets in
 * bytes, all little-endian; "heap object" = 4-byte offset from the table's
 * start + 2-byte length, inside the heap):
 *   header   0  "NBFT", length@4, major@8, checksum@9, heap offset@36,
 *               heap length@40, minor@50; 64 bytes
 *   control 64  id 1@0, major@1, length@4, flags@6 (bit 0 valid), host
 *               descriptor object@8, then for HFI@16, SSNS@24, security@32,
 *               discovery@40: list offset(4), descriptor length(2),
 *               version(1), count(1)
 *   host        id 2@0, flags@1, host ID@2 (16), host NQN object@18; 32
 *   HFI         id 3@0, index@1, flags@2, trtype@3 (3 = tcp), transport
 *               info object@16; 32
 *   HFI TCP     id 7@0, version@1, trtype@2, hfi index@4, flags@6, MAC@11,
 *               VLAN@17, IP@20 (16), prefix@36, gateway@37 (16); 128
 *   SSNS        id 4@0, index@1, flags@3, trtype@5, trflags@6, DC index@8,
 *               traddr object@10 (a 16-byte IP), trsvcid object@16, NSID@24,
 *               primary HFI@46, secondary HFIs object@48, NQN object@54; 128
 *   discovery   id 6@0, flags@1, index@2, hfi index@3, URI object@6, NQN
 *               object@12; 32
 * IP addresses are IPv6 or IPv4-mapped IPv6 (::ffff:a.b.c.d).
 */
#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if HAVE_NVME_NBFT_READ
#include <nvme/nbft.h>
#endif

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "nbft.h"
#include "strv.h"

#define NBFT_FILE_MAX (1024 * 1024)

enum {
	HDR_SIZE = 64,
	CTRL_MIN = 48, /* the control descriptor's fields up to the discovery list */
	HOST_SIZE = 32,
	HFI_SIZE = 32,
	HFI_TCP_SIZE = 128,
	SSNS_SIZE = 128,
	DISC_SIZE = 32,
	SEC_SIZE = 64,
};

enum {
	DESC_CONTROL = 1,
	DESC_HOST = 2,
	DESC_HFI = 3,
	DESC_SSNS = 4,
	DESC_DISCOVERY = 6,
	DESC_HFI_TRINFO = 7,
};

#define TRTYPE_TCP 3

static const char *sysfs_root(void)
{
	const char *e = getenv("STAS_SYSFS_ROOT");
	return e ? e : "/sys";
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct nbft *nbft_free(struct nbft *t)
{
	if (!t)
		return NULL;
	free(t->path);
	free(t->hfis);
	free(t->dcs);
	free(t->subsys);
	strv_free(t->problems);
	free(t);
	return NULL;
}

void nbft_list_free(struct nbft **v)
{
	for (struct nbft **t = v; t && *t; t++)
		nbft_free(*t);
	free(v);
}

static int problem(struct nbft *t, const char *fmt, ...) _printf_(2, 3);
static int problem(struct nbft *t, const char *fmt, ...)
{
	char buf[NBFT_PROBLEM_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_debug("NBFT: %s", buf);
	return strv_extend(&t->problems, buf) < 0 ? -ENOMEM : 0;
}

/* ------------------------------------------------------------ shared checks */

int nbft_uri_parse(const char *uri, struct tid *ret)
{
	const char *p, *end;
	struct tid t = {};
	size_t n;

	p = str_startswith(uri, "nvme+tcp://");
	if (!p)
		return -EINVAL;
	(void)strscpy_checked(t.transport, sizeof(t.transport), "tcp");
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return -EINVAL;
		n = (size_t)(end - p - 1);
		if (n == 0 || n >= sizeof(t.traddr))
			return -EINVAL;
		memcpy(t.traddr, p + 1, n);
		p = end + 1;
	} else {
		n = strcspn(p, ":/");
		if (n == 0 || n >= sizeof(t.traddr))
			return -EINVAL;
		memcpy(t.traddr, p, n);
		p += n;
	}
	if (*p == ':') {
		p++;
		n = strcspn(p, "/");
		if (n == 0 || n >= sizeof(t.trsvcid))
			return -EINVAL;
		memcpy(t.trsvcid, p, n);
		p += n;
	} else
		(void)strscpy_checked(t.trsvcid, sizeof(t.trsvcid), TID_TRSVCID_DISC);
	if (*p != '\0' && *p != '/')
		return -EINVAL;
	/* an address literal: no host names from firmware */
	{
		unsigned char a[16];
		if (inet_pton(AF_INET, t.traddr, a) != 1 && inet_pton(AF_INET6, t.traddr, a) != 1)
			return -EINVAL;
	}
	if (tid_canonicalize(&t) < 0)
		return -EINVAL;
	(void)strscpy_checked(ret->transport, sizeof(ret->transport), t.transport);
	(void)strscpy_checked(ret->traddr, sizeof(ret->traddr), t.traddr);
	(void)strscpy_checked(ret->trsvcid, sizeof(ret->trsvcid), t.trsvcid);
	return 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static const struct nbft_iface *hfi_find(const struct nbft *t, unsigned index)
{
	for (size_t i = 0; i < t->n_hfis; i++)
		if (t->hfis[i].index == index)
			return &t->hfis[i];
	return NULL;
}

static const struct nbft_dc *dc_find(const struct nbft *t, unsigned index)
{
	for (size_t i = 0; i < t->n_dcs; i++)
		if (t->dcs[i].index == index)
			return &t->dcs[i];
	return NULL;
}

/*
 * The host side of a path through @hfi_index, then canonical. Both parsers
 * end here, so their results compare equal.
 */
static int path_finish(const struct nbft *t, unsigned hfi_index, struct tid *p)
{
	const struct nbft_iface *h = hfi_find(t, hfi_index);

	if (h) {
		(void)strscpy_checked(p->host_traddr, sizeof(p->host_traddr), h->ipaddr);
		(void)strscpy_checked(p->host_iface, sizeof(p->host_iface), h->host_iface);
	}
	(void)strscpy_checked(p->host_nqn, sizeof(p->host_nqn), t->host_nqn);
	return tid_canonicalize(p);
}

static int dc_add(struct nbft *t, unsigned index, unsigned hfi_index, const char *uri,
		  const char *nqn, size_t *alloc)
{
	struct nbft_dc d = { .index = index, .hfi_index = hfi_index };

	if (strscpy_checked(d.uri, sizeof(d.uri), uri) < 0 || !printable(uri))
		return problem(t, "discovery descriptor %u: URI unusable", index);
	if (nbft_uri_parse(uri, &d.tid) < 0)
		return problem(
			t, "discovery descriptor %u: URI '%.64s' is not nvme+tcp://ADDR[:PORT]/",
			index, uri);
	if (hfi_index && !hfi_find(t, hfi_index))
		(void)problem(t, "discovery descriptor %u: HFI %u not found", index, hfi_index);
	if (strscpy_checked(d.tid.subsysnqn, sizeof(d.tid.subsysnqn),
			    isempty(nqn) ? NVME_DISC_SUBSYS_NQN : nqn) < 0 ||
	    path_finish(t, hfi_index, &d.tid) < 0)
		return problem(t, "discovery descriptor %u: NQN or address invalid", index);
	if (GREEDY_REALLOC(t->dcs, *alloc, t->n_dcs) < 0)
		return -ENOMEM;
	t->dcs[t->n_dcs++] = d;
	return 0;
}

static int subsys_add(struct nbft *t, struct nbft_subsys *s, const char *traddr,
		      const char *trsvcid, const char *nqn, size_t *alloc)
{
	if (!hfi_find(t, s->hfi_index))
		return problem(t, "SSNS descriptor %u: primary HFI %u not found", s->index,
			       s->hfi_index);
	if (s->dc_index && !dc_find(t, s->dc_index))
		(void)problem(t, "SSNS descriptor %u: discovery descriptor %u not found", s->index,
			      s->dc_index);
	(void)strscpy_checked(s->tid.transport, sizeof(s->tid.transport), "tcp");
	if (strscpy_checked(s->tid.traddr, sizeof(s->tid.traddr), traddr) < 0 ||
	    strscpy_checked(s->tid.trsvcid, sizeof(s->tid.trsvcid), trsvcid) < 0 ||
	    strscpy_checked(s->tid.subsysnqn, sizeof(s->tid.subsysnqn), nqn) < 0 ||
	    !printable(trsvcid) || !printable(nqn) || isempty(nqn) ||
	    path_finish(t, s->hfi_index, &s->tid) < 0)
		return problem(t, "SSNS descriptor %u: address, service or NQN invalid", s->index);
	if (GREEDY_REALLOC(t->subsys, *alloc, t->n_subsys) < 0)
		return -ENOMEM;
	t->subsys[t->n_subsys++] = *s;
	return 0;
}

static void uuid_format(const uint8_t id[16], char ret[NBFT_UUID_STR_MAX + 1])
{
	bool zero = true;

	for (size_t i = 0; i < 16; i++)
		zero = zero && id[i] == 0;
	if (zero) {
		ret[0] = '\0';
		return;
	}
	(void)snprintf(ret, NBFT_UUID_STR_MAX + 1,
		       "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		       id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10],
		       id[11], id[12], id[13], id[14], id[15]);
}

static int host_set(struct nbft *t, const char *nqn, const uint8_t id[16])
{
	if (strscpy_checked(t->host_nqn, sizeof(t->host_nqn), nqn) < 0 || isempty(nqn) ||
	    !printable(nqn))
		return -EBADMSG;
	uuid_format(id, t->host_id);
	return 0;
}

/* ------------------------------------------------------------ own parser */

struct raw {
	const uint8_t *b;
	uint64_t len; /* the header's length, <= the buffer */
	uint64_t heap_lo, heap_hi;
};

/*
 * Heap object at @p (offset, length). Return: 0 absent (length 0), 1 and
 * *ret and *ret_len set, -EBADMSG outside the heap.
 */
static int heap_obj(const struct raw *r, const uint8_t *p, const uint8_t **ret, size_t *ret_len)
{
	uint64_t off = le32(p), n = le16(p + 4);

	if (n == 0)
		return 0;
	if (off < r->heap_lo || off + n > r->heap_hi)
		return -EBADMSG;
	*ret = r->b + off;
	*ret_len = (size_t)n;
	return 1;
}

/* A string heap object: up to its first NUL (or its length), into @buf. */
static int heap_str(const struct raw *r, const uint8_t *p, char *buf, size_t size)
{
	const uint8_t *s;
	size_t n;
	int k;

	buf[0] = '\0';
	k = heap_obj(r, p, &s, &n);
	if (k <= 0)
		return k;
	n = strnlen((const char *)s, n);
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return printable(buf) ? 1 : -EBADMSG;
}

static void ip_format(const uint8_t a[16], char buf[NBFT_IPADDR_MAX + 1])
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t zero[16];

	buf[0] = '\0';
	if (memcmp(a, zero, 16) == 0)
		return;
	if (memcmp(a, v4mapped, 12) == 0)
		(void)inet_ntop(AF_INET, a + 12, buf, NBFT_IPADDR_MAX + 1);
	else
		(void)inet_ntop(AF_INET6, a, buf, NBFT_IPADDR_MAX + 1);
}

/*
 * A descriptor list: @count descriptors of @stride bytes (at least @min)
 * from @off. Return: 0 when it lies inside the table, -EBADMSG otherwise.
 */
static int list_check(const struct raw *r, uint64_t off, unsigned stride, unsigned count,
		      unsigned min)
{
	if (count == 0)
		return 0;
	if (stride < min || off < HDR_SIZE || off + (uint64_t)stride * count > r->len)
		return -EBADMSG;
	return 0;
}

static int parse_hfi(const struct raw *r, struct nbft *t, const uint8_t *d, size_t *alloc)
{
	struct nbft_iface h = { .index = d[1] };
	const uint8_t *ti;
	size_t n;
	int k;

	if (!(d[2] & 1))
		return 0; /* not valid: reserved */
	if (d[0] != DESC_HFI)
		return problem(t, "HFI descriptor %u: structure ID %u, not %u", d[1], d[0],
			       DESC_HFI);
	if (d[3] != TRTYPE_TCP)
		return problem(t, "HFI descriptor %u: transport type %u is not supported", d[1],
			       d[3]);
	k = heap_obj(r, d + 16, &ti, &n);
	if (k <= 0 || n < HFI_TCP_SIZE)
		return problem(t, "HFI descriptor %u: transport info %s", d[1],
			       k < 0 ? "outside the heap" : "missing or short");
	if (ti[0] != DESC_HFI_TRINFO || ti[1] != 1 || !(ti[6] & 1))
		return problem(t, "HFI descriptor %u: transport info not valid (ID %u, version %u)",
			       d[1], ti[0], ti[1]);
	(void)strscpy_checked(h.transport, sizeof(h.transport), "tcp");
	memcpy(h.mac, ti + 11, 6);
	h.vlan = le16(ti + 17);
	ip_format(ti + 20, h.ipaddr);
	h.prefix = ti[36];
	ip_format(ti + 37, h.gateway);
	h.dhcp_override = ti[6] & 4;
	if (hfi_find(t, h.index))
		return problem(t, "HFI descriptor %u: index used twice", h.index);
	if (GREEDY_REALLOC(t->hfis, *alloc, t->n_hfis) < 0)
		return -ENOMEM;
	t->hfis[t->n_hfis++] = h;
	return 0;
}

static int parse_disc(const struct raw *r, struct nbft *t, const uint8_t *d, size_t *alloc)
{
	char uri[NBFT_URI_MAX + 1], nqn[TID_NQN_MAX + 1];

	if (!(d[1] & 1))
		return 0;
	if (d[0] != DESC_DISCOVERY)
		return problem(t, "discovery descriptor %u: structure ID %u, not %u", d[2], d[0],
			       DESC_DISCOVERY);
	if (heap_str(r, d + 6, uri, sizeof(uri)) <= 0)
		return problem(t, "discovery descriptor %u: URI missing or invalid", d[2]);
	if (heap_str(r, d + 12, nqn, sizeof(nqn)) <= 0)
		return problem(t, "discovery descriptor %u: NQN missing or invalid", d[2]);
	if (dc_find(t, d[2]))
		return problem(t, "discovery descriptor %u: index used twice", d[2]);
	return dc_add(t, d[2], d[3], uri, nqn, alloc);
}

static int parse_ssns(const struct raw *r, struct nbft *t, const uint8_t *d, size_t *alloc)
{
	struct nbft_subsys s = {};
	char traddr[NBFT_IPADDR_MAX + 1], trsvcid[TID_TRSVCID_MAX + 1], nqn[TID_NQN_MAX + 1];
	uint16_t flags = le16(d + 3), trflags = le16(d + 6);
	const uint8_t *a, *sec;
	size_t n, n_sec;
	int k;

	s.index = le16(d + 1);
	if (!(flags & 1))
		return 0;
	if (d[0] != DESC_SSNS)
		return problem(t, "SSNS descriptor %u: structure ID %u, not %u", s.index, d[0],
			       DESC_SSNS);
	if (d[5] != TRTYPE_TCP)
		return problem(t, "SSNS descriptor %u: transport type %u is not supported", s.index,
			       d[5]);
	k = heap_obj(r, d + 10, &a, &n);
	if (k <= 0 || n != 16)
		return problem(t, "SSNS descriptor %u: transport address %s", s.index,
			       k < 0 ? "outside the heap" : "missing or not 16 bytes");
	ip_format(a, traddr);
	if (isempty(traddr))
		return problem(t, "SSNS descriptor %u: transport address is zero", s.index);
	if (heap_str(r, d + 16, trsvcid, sizeof(trsvcid)) <= 0)
		return problem(t, "SSNS descriptor %u: service ID missing or invalid", s.index);
	if (heap_str(r, d + 54, nqn, sizeof(nqn)) <= 0)
		return problem(t, "SSNS descriptor %u: NQN missing or invalid", s.index);
	/* secondary HFIs: only checked (stas connects the primary path) */
	k = heap_obj(r, d + 48, &sec, &n_sec);
	if (k < 0)
		return problem(t, "SSNS descriptor %u: secondary HFI list outside the heap",
			       s.index);
	s.dc_index = d[8];
	s.nsid = le32(d + 24);
	s.hfi_index = d[46];
	s.hdr_digest = trflags & 2;
	s.data_digest = trflags & 4;
	s.discovered = flags & 0x40;
	s.unavailable = (flags & 0x180) == 0x100;
	return subsys_add(t, &s, traddr, trsvcid, nqn, alloc);
}

static int parse_table(const struct raw *r, struct nbft *t, const char **why)
{
	const uint8_t *c = r->b + HDR_SIZE, *h;
	uint64_t hoff;
	size_t alloc_hfi = 0, alloc_dc = 0, alloc_ss = 0;
	char nqn[TID_NQN_MAX + 1];
	struct {
		unsigned off_at, min;
		const char *name;
	} lists[] = {
		{ 16, HFI_SIZE, "HFI" },
		{ 24, SSNS_SIZE, "SSNS" },
		{ 32, SEC_SIZE, "security" },
		{ 40, DISC_SIZE, "discovery" },
	};
	int k;

	if (!(c[6] & 1))
		return 0; /* control descriptor not valid: the table describes nothing */
	if (c[0] != DESC_CONTROL)
		return *why = "the control descriptor's structure ID is not 1", -EBADMSG;
	if (c[1] != 1)
		return *why = "unsupported control descriptor major revision", -EPROTONOSUPPORT;
	if (le16(c + 4) < CTRL_MIN || HDR_SIZE + (uint64_t)le16(c + 4) > r->len)
		return *why = "the control descriptor's length is invalid", -EBADMSG;
	for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
		const uint8_t *l = c + lists[i].off_at;

		if (list_check(r, le32(l), le16(l + 4), l[7], lists[i].min) < 0)
			return *why = "a descriptor list lies outside the table", -EBADMSG;
		if (l[7] > 0 && l[6] != 1)
			return *why = "unsupported descriptor version", -EPROTONOSUPPORT;
	}

	hoff = le32(c + 8);
	if (hoff < HDR_SIZE || hoff + HOST_SIZE > r->len)
		return *why = "the host descriptor lies outside the table", -EBADMSG;
	h = r->b + hoff;
	if (h[0] != DESC_HOST || !(h[1] & 1))
		return *why = "the host descriptor is not valid", -EBADMSG;
	k = heap_str(r, h + 18, nqn, sizeof(nqn));
	if (k <= 0 || host_set(t, nqn, h + 2) < 0)
		return *why = "the host NQN is missing or invalid", -EBADMSG;
	t->host_id_configured = h[1] & 2;
	t->host_nqn_configured = h[1] & 4;

	/* HFIs first: discovery and SSNS descriptors refer to them; DCs before SSNS */
	for (unsigned i = 0; i < c[23]; i++)
		if ((k = parse_hfi(r, t, r->b + le32(c + 16) + (uint64_t)i * le16(c + 20),
				   &alloc_hfi)) < 0)
			return k;
	for (unsigned i = 0; i < c[47]; i++)
		if ((k = parse_disc(r, t, r->b + le32(c + 40) + (uint64_t)i * le16(c + 44),
				    &alloc_dc)) < 0)
			return k;
	for (unsigned i = 0; i < c[31]; i++)
		if ((k = parse_ssns(r, t, r->b + le32(c + 24) + (uint64_t)i * le16(c + 28),
				    &alloc_ss)) < 0)
			return k;
	return 0;
}

int nbft_parse(const void *buf, size_t size, struct nbft **ret, const char **ret_why)
{
	_cleanup_nbft_ struct nbft *t = NULL;
	const uint8_t *b = buf;
	const char *why = NULL;
	struct raw r = { .b = b };
	uint8_t sum = 0;
	int k;

	assert(buf || size == 0);
	assert(ret);

	if (size < HDR_SIZE + CTRL_MIN)
		why = "shorter than a header and a control descriptor";
	else if (memcmp(b, "NBFT", 4) != 0)
		why = "the signature is not NBFT";
	else if (le32(b + 4) > size || le32(b + 4) < HDR_SIZE + CTRL_MIN)
		why = "the header's length does not match the table";
	if (why) {
		if (ret_why)
			*ret_why = why;
		return -EBADMSG;
	}
	r.len = le32(b + 4);
	for (uint64_t i = 0; i < r.len; i++)
		sum = (uint8_t)(sum + b[i]);
	r.heap_lo = le32(b + 36);
	r.heap_hi = r.heap_lo + le32(b + 40);
	if (sum != 0)
		why = "bad checksum";
	else if (b[8] != 1) {
		if (ret_why)
			*ret_why = "unsupported NBFT major revision (stas reads revision 1)";
		return -EPROTONOSUPPORT;
	} else if (r.heap_hi > r.len || (r.heap_hi > r.heap_lo && r.heap_lo < HDR_SIZE))
		why = "the heap lies outside the table";
	if (why) {
		if (ret_why)
			*ret_why = why;
		return -EBADMSG;
	}

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->parser = "stas";
	k = parse_table(&r, t, &why);
	if (k < 0) {
		if (ret_why)
			*ret_why = k == -ENOMEM ? "out of memory" : why;
		return k;
	}
	*ret = TAKE_PTR(t);
	return 0;
}

/* ------------------------------------------------------------ libnvme */

#if HAVE_NVME_NBFT_READ
static void ip_copy(char dst[NBFT_IPADDR_MAX + 1], const char *src)
{
	unsigned char a[16];

	/* libnvme prints an all-zero address as "::"; stas leaves it empty */
	if (inet_pton(AF_INET6, src, a) == 1 &&
	    memcmp(a, (const unsigned char[16]){}, sizeof(a)) == 0)
		dst[0] = '\0';
	else
		(void)strscpy_checked(dst, NBFT_IPADDR_MAX + 1, src);
}

static int from_libnvme(const struct nbft_info *ni, struct nbft *t)
{
	size_t alloc_hfi = 0, alloc_dc = 0, alloc_ss = 0;
	int r;

	if (!ni->host.nqn)
		return 0; /* control descriptor not valid */
	if (host_set(t, ni->host.nqn, ni->host.id) < 0)
		return -EBADMSG;
	t->host_id_configured = ni->host.host_id_configured;
	t->host_nqn_configured = ni->host.host_nqn_configured;
	for (struct nbft_info_hfi **hp = ni->hfi_list; hp && *hp; hp++) {
		struct nbft_iface h = { .index = (unsigned)(*hp)->index };

		if (hfi_find(t, h.index)) {
			(void)problem(t, "HFI descriptor %u: index used twice", h.index);
			continue;
		}
		(void)strscpy_checked(h.transport, sizeof(h.transport), (*hp)->transport);
		memcpy(h.mac, (*hp)->tcp_info.mac_addr, 6);
		h.vlan = (*hp)->tcp_info.vlan;
		ip_copy(h.ipaddr, (*hp)->tcp_info.ipaddr);
		h.prefix = (*hp)->tcp_info.subnet_mask_prefix;
		ip_copy(h.gateway, (*hp)->tcp_info.gateway_ipaddr);
		h.dhcp_override = (*hp)->tcp_info.dhcp_override;
		if (GREEDY_REALLOC(t->hfis, alloc_hfi, t->n_hfis) < 0)
			return -ENOMEM;
		t->hfis[t->n_hfis++] = h;
	}
	for (struct nbft_info_discovery **dp = ni->discovery_list; dp && *dp; dp++) {
		if (dc_find(t, (unsigned)(*dp)->index)) {
			(void)problem(t, "discovery descriptor %d: index used twice", (*dp)->index);
			continue;
		}
		r = dc_add(t, (unsigned)(*dp)->index, (*dp)->hfi ? (unsigned)(*dp)->hfi->index : 0,
			   strempty((*dp)->uri), strempty((*dp)->nqn), &alloc_dc);
		if (r < 0)
			return r;
	}
	for (struct nbft_info_subsystem_ns **sp = ni->subsystem_ns_list; sp && *sp; sp++) {
		const struct nbft_info_subsystem_ns *x = *sp;
		struct nbft_subsys s = {
			.index = (unsigned)x->index,
			.hfi_index = x->num_hfis > 0 && x->hfis[0] ? (unsigned)x->hfis[0]->index :
								     0,
			.dc_index = x->discovery ? (unsigned)x->discovery->index : 0,
			.nsid = x->nsid,
			.hdr_digest = x->pdu_header_digest_required,
			.data_digest = x->data_digest_required,
		};
		char traddr[NBFT_IPADDR_MAX + 1];

#if HAVE_STRUCT_NBFT_INFO_SUBSYSTEM_NS_UNAVAILABLE /* libnvme 1.10 */
		s.unavailable = x->unavailable;
		s.discovered = x->discovered;
#endif
		ip_copy(traddr, x->traddr);
		r = subsys_add(t, &s, traddr, strempty(x->trsvcid), strempty(x->subsys_nqn),
			       &alloc_ss);
		if (r < 0)
			return r;
	}
	return 0;
}
#endif

int nbft_parse_libnvme(const char *path, struct nbft **ret)
{
#if HAVE_NVME_NBFT_READ
	_cleanup_nbft_ struct nbft *t = NULL;
	struct nbft_info *ni = NULL;
	int r;

	assert(path);
	assert(ret);
	if (nvme_nbft_read(&ni, path) != 0)
		return errno == ENOMEM ? -ENOMEM : -EBADMSG;
	t = calloc(1, sizeof(*t));
	if (!t) {
		nvme_nbft_free(ni);
		return -ENOMEM;
	}
	t->parser = "libnvme";
	r = from_libnvme(ni, t);
	nvme_nbft_free(ni);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(t);
	return 0;
#else
	(void)path;
	(void)ret;
	return -EOPNOTSUPP;
#endif
}

/* ------------------------------------------------------------ the host's tables */

int nbft_read_file(const char *path, struct nbft **ret, const char **ret_why)
{
	_cleanup_free_ char *buf = NULL;
	struct nbft *t = NULL;
	size_t size;
	int r;

	assert(path);
	assert(ret);
	if (ret_why)
		*ret_why = NULL;
	r = read_regular_file(path, NBFT_FILE_MAX, &buf, &size);
	if (r < 0)
		return r;
#if HAVE_NVME_NBFT_READ
	{
		_cleanup_nbft_ struct nbft *own = NULL;

		/* Cheap checks first, with a reason; libnvme then reads the file. */
		r = nbft_parse(buf, size, &own, ret_why);
		if (r < 0)
			return r;
		r = nbft_parse_libnvme(path, &t);
		/* libnvme refuses minor revisions other than 0, which the specification
		 * keeps compatible: what stas's parser accepted is used then */
		if (r == -EBADMSG) {
			r = problem(own,
				    "libnvme refused the table (minor revision %u); read by "
				    "stas's parser",
				    (unsigned)(uint8_t)buf[50]);
			t = TAKE_PTR(own);
		}
	}
#else
	r = nbft_parse(buf, size, &t, ret_why);
#endif
	if (r < 0) {
		nbft_free(t);
		return r;
	}
	t->path = strdup(path);
	if (!t->path) {
		nbft_free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

static int mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -EINVAL;
	for (size_t i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

void nbft_resolve_ifaces(struct nbft *t)
{
	_cleanup_free_ char *dir = NULL;
	DIR *d;

	if (asprintf(&dir, "%s/class/net", sysfs_root()) < 0)
		return;
	for (size_t i = 0; i < t->n_hfis; i++) {
		struct nbft_iface *h = &t->hfis[i];
		static const uint8_t zero[6];
		struct dirent *de;

		if (memcmp(h->mac, zero, 6) == 0)
			continue;
		d = opendir(dir);
		if (!d)
			return;
		while ((de = readdir(d))) {
			_cleanup_free_ char *p = NULL, *addr = NULL;
			uint8_t mac[6];

			if (de->d_name[0] == '.' || strlen(de->d_name) > TID_IFACE_MAX)
				continue;
			if (asprintf(&p, "%s/%s/address", dir, de->d_name) < 0)
				break;
			if (read_full_file(p, 64, &addr, NULL) < 0 || mac_parse(addr, mac) < 0 ||
			    memcmp(mac, h->mac, 6) != 0)
				continue;
			(void)strscpy_checked(h->host_iface, sizeof(h->host_iface), de->d_name);
			break;
		}
		closedir(d);
	}
	for (size_t i = 0; i < t->n_subsys; i++) {
		const struct nbft_iface *h = hfi_find(t, t->subsys[i].hfi_index);
		struct tid x = t->subsys[i].tid;

		if (h && !isempty(h->host_iface) &&
		    strscpy_checked(x.host_iface, sizeof(x.host_iface), h->host_iface) == 0 &&
		    tid_canonicalize(&x) == 0)
			t->subsys[i].tid = x;
	}
	for (size_t i = 0; i < t->n_dcs; i++) {
		const struct nbft_iface *h = hfi_find(t, t->dcs[i].hfi_index);
		struct tid x = t->dcs[i].tid;

		if (h && !isempty(h->host_iface) &&
		    strscpy_checked(x.host_iface, sizeof(x.host_iface), h->host_iface) == 0 &&
		    tid_canonicalize(&x) == 0)
			t->dcs[i].tid = x;
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int nbft_load_all(struct nbft ***ret, char ***ret_errors)
{
	_cleanup_free_ char *dir = NULL;
	char **names = NULL;
	struct nbft **v = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	assert(ret);
	if (asprintf(&dir, "%s/" NBFT_SYSFS_DIR, sysfs_root()) < 0)
		return -ENOMEM;
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d)))
			if (str_startswith(de->d_name, "NBFT") &&
			    strv_extend(&names, de->d_name) < 0) {
				r = -ENOMEM;
				break;
			}
		closedir(d);
	}
	if (r == 0 && names)
		qsort(names, strv_length(names), sizeof(char *), name_cmp);
	v = calloc(strv_length(names) + 1, sizeof(*v));
	if (!v)
		r = -ENOMEM;
	STRV_FOREACH(name, names) {
		_cleanup_free_ char *p = NULL, *line = NULL;
		const char *why = NULL;
		struct nbft *t = NULL;
		int k;

		if (r < 0)
			break;
		if (asprintf(&p, "%s/%s", dir, *name) < 0) {
			r = -ENOMEM;
			break;
		}
		k = nbft_read_file(p, &t, &why);
		if (k == -ENOMEM) {
			r = k;
			break;
		}
		if (k < 0) {
			log_debug_errno(k, "Ignoring %s: %s", p, why ? why : strerror(-k));
			if (ret_errors &&
			    (asprintf(&line, "%s: %s", p, why ? why : strerror(-k)) < 0 ||
			     strv_consume(ret_errors, TAKE_PTR(line)) < 0)) {
				r = -ENOMEM;
				break;
			}
			continue;
		}
		nbft_resolve_ifaces(t);
		v[n++] = t;
	}
	strv_free(names);
	if (r < 0) {
		nbft_list_free(v);
		return r;
	}
	*ret = v;
	return (int)n;
}

bool nbft_claims(struct nbft *const *v, const struct tid *t)
{
	for (struct nbft *const *p = v; p && *p; p++)
		for (size_t i = 0; i < (*p)->n_subsys; i++) {
			const struct tid *s = &(*p)->subsys[i].tid;

			if (streq(s->transport, t->transport) && streq(s->traddr, t->traddr) &&
			    streq(s->trsvcid, t->trsvcid) && streq(s->subsysnqn, t->subsysnqn))
				return true;
		}
	return false;
}

/* This host's tables, loaded on first use and kept for the process's life. */
static struct nbft **host_tables(void)
{
	static struct nbft **tables;
	static bool loaded;

	if (!loaded) {
		if (nbft_load_all(&tables, NULL) < 0)
			tables = NULL;
		loaded = true;
	}
	return tables;
}

bool nbft_host_claims(const struct tid *t)
{
	return nbft_claims(host_tables(), t);
}

const char *nbft_host_id(const char *host_nqn)
{
	for (struct nbft **p = host_tables(); p && *p && !isempty(host_nqn); p++)
		if (streq((*p)->host_nqn, host_nqn) && !isempty((*p)->host_id))
			return (*p)->host_id;
	return NULL;
}
