/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nbft-build.h - build NBFT tables for tests, following the NVM Express
 * Boot Specification 1.0 (and the field sizes libnvme's nbft.h gives):
 * header, control descriptor, one host descriptor, HFI descriptors with
 * their TCP transport info, discovery descriptors, SSNS descriptors, and a
 * heap with every string and object. Used by tests/nbft-gen (the VM test's
 * table), tests/test-nbft and the fuzz seeds. Layout of the result:
 *   0 header (64) | 64 control (64) | 128 host (32) | HFIs (32 each) |
 *   SSNS (128 each) | discovery (32 each) | heap
 */
#pragma once

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NB_MAX 4

struct nb_hfi {
	const char *ip; /* IPv4 or IPv6 literal */
	unsigned prefix;
	const char *gateway; /* may be NULL */
	uint8_t mac[6];
};

struct nb_dc {
	const char *uri;
	const char *nqn;
	unsigned hfi; /* 1-based, 0 none */
};

struct nb_ssns {
	const char *traddr; /* IP literal */
	const char *trsvcid;
	const char *nqn;
	unsigned hfi; /* 1-based */
	unsigned dc; /* 1-based, 0 none */
	uint32_t nsid;
};

struct nb_table {
	const char *host_nqn;
	uint8_t host_id[16];
	unsigned n_hfi, n_dc, n_ssns;
	struct nb_hfi hfi[NB_MAX];
	struct nb_dc dc[NB_MAX];
	struct nb_ssns ssns[NB_MAX];
	uint8_t major, minor; /* 0, 0 mean 1, 0 */
};

struct nb_buf {
	uint8_t *b;
	size_t len, heap;
};

static inline void nb_le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void nb_le32(uint8_t *p, uint32_t v)
{
	nb_le16(p, v & 0xffff);
	nb_le16(p + 2, v >> 16);
}

/* Append @n bytes to the heap; write the heap object (offset, length) at @obj. */
static inline void nb_heap(struct nb_buf *t, uint8_t *obj, const void *data, size_t n)
{
	memcpy(t->b + t->len, data, n);
	nb_le32(obj, (uint32_t)t->len);
	nb_le16(obj + 4, (unsigned)n);
	t->len += n;
}

static inline void nb_heap_str(struct nb_buf *t, uint8_t *obj, const char *s)
{
	nb_heap(t, obj, s, strlen(s) + 1); /* with its NUL, as firmware writes it */
}

static inline void nb_ip(uint8_t a[16], const char *s)
{
	memset(a, 0, 16);
	if (!s)
		return;
	if (inet_pton(AF_INET, s, a + 12) == 1) {
		a[10] = a[11] = 0xff;
		return;
	}
	(void)inet_pton(AF_INET6, s, a);
}

static inline void nb_checksum(uint8_t *b, size_t len)
{
	uint8_t sum = 0;

	b[9] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	b[9] = (uint8_t)(0x100 - sum);
}

/* The table described by @d, malloc'ed, its size in *ret_len; NULL on OOM. */
static inline uint8_t *nb_build(const struct nb_table *d, size_t *ret_len)
{
	size_t hfi_off = 128 + 32, ssns_off = hfi_off + 32 * d->n_hfi,
	       disc_off = ssns_off + 128 * d->n_ssns, heap_off = disc_off + 32 * d->n_dc;
	struct nb_buf t = { .len = heap_off };
	uint8_t *c, *h;

	t.b = calloc(1, heap_off + 8192);
	if (!t.b)
		return NULL;
	memcpy(t.b, "NBFT", 4);
	t.b[8] = d->major ? d->major : 1;
	memcpy(t.b + 10, "STAS  ", 6);
	memcpy(t.b + 16, "NBFTTEST", 8);
	nb_le32(t.b + 24, 1);
	t.b[50] = d->minor;
	nb_le32(t.b + 36, (uint32_t)heap_off);

	c = t.b + 64;
	c[0] = 1; /* control */
	c[1] = 1;
	nb_le16(c + 4, 64);
	c[6] = 1; /* valid */
	nb_le32(c + 8, 128);
	nb_le16(c + 12, 32);
	c[14] = 1;
	nb_le32(c + 16, (uint32_t)hfi_off);
	nb_le16(c + 20, 32);
	c[22] = 1;
	c[23] = (uint8_t)d->n_hfi;
	nb_le32(c + 24, (uint32_t)ssns_off);
	nb_le16(c + 28, 128);
	c[30] = 1;
	c[31] = (uint8_t)d->n_ssns;
	nb_le32(c + 40, (uint32_t)disc_off);
	nb_le16(c + 44, 32);
	c[46] = 1;
	c[47] = (uint8_t)d->n_dc;

	h = t.b + 128;
	h[0] = 2;
	h[1] = 1 | 2 | 4; /* valid, host ID and NQN configured */
	memcpy(h + 2, d->host_id, 16);
	nb_heap_str(&t, h + 18, d->host_nqn);

	for (unsigned i = 0; i < d->n_hfi; i++) {
		uint8_t *x = t.b + hfi_off + 32 * i, ti[128] = { 0 };

		x[0] = 3;
		x[1] = (uint8_t)(i + 1);
		x[2] = 1;
		x[3] = 3; /* tcp */
		ti[0] = 7;
		ti[1] = 1;
		ti[2] = 3;
		ti[3] = 1;
		nb_le16(ti + 4, i + 1);
		ti[6] = 1; /* valid */
		memcpy(ti + 11, d->hfi[i].mac, 6);
		nb_ip(ti + 20, d->hfi[i].ip);
		ti[36] = (uint8_t)d->hfi[i].prefix;
		nb_ip(ti + 37, d->hfi[i].gateway);
		nb_heap(&t, x + 16, ti, sizeof(ti));
	}
	for (unsigned i = 0; i < d->n_dc; i++) {
		uint8_t *x = t.b + disc_off + 32 * i;

		x[0] = 6;
		x[1] = 1;
		x[2] = (uint8_t)(i + 1);
		x[3] = (uint8_t)d->dc[i].hfi;
		nb_heap_str(&t, x + 6, d->dc[i].uri);
		nb_heap_str(&t, x + 12, d->dc[i].nqn);
	}
	for (unsigned i = 0; i < d->n_ssns; i++) {
		uint8_t *x = t.b + ssns_off + 128 * i, a[16], none = 0;

		x[0] = 4;
		nb_le16(x + 1, i + 1);
		nb_le16(x + 3, 1); /* valid */
		x[5] = 3;
		nb_le16(x + 6, 1); /* transport flags valid, no digests */
		x[8] = (uint8_t)d->ssns[i].dc;
		nb_ip(a, d->ssns[i].traddr);
		nb_heap(&t, x + 10, a, 16);
		nb_heap_str(&t, x + 16, d->ssns[i].trsvcid);
		nb_le32(x + 24, d->ssns[i].nsid);
		x[46] = (uint8_t)d->ssns[i].hfi;
		/* an empty secondary HFI list: libnvme insists on the object */
		nb_heap(&t, x + 48, &none, 1);
		nb_heap_str(&t, x + 54, d->ssns[i].nqn);
	}
	nb_le32(t.b + 40, (uint32_t)(t.len - heap_off));
	nb_le32(t.b + 4, (uint32_t)t.len);
	nb_checksum(t.b, t.len);
	*ret_len = t.len;
	return t.b;
}
