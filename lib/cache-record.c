/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <nvme/types.h>

#include "cache-record.h"
#include "macro.h"
#include "sha256.h"

enum {
	DC_FLAG_PERSISTENT = 1 << 0,
	DC_FLAG_MDNS_ADVERTISED = 1 << 1,
	DC_FLAG_STALE = 1 << 2,
	DC_FLAG_TRIGGERS_PENDING = 1 << 3,
	_DC_FLAGS_ALL = (1 << 4) - 1,
	PATH_FLAG_NCC = 1 << 0,
	_PATH_FLAGS_ALL = (1 << 1) - 1,
};

/* ---- writing ---- */

static void put_u8(struct record_buf *b, uint8_t v)
{
	assert(b->size < sizeof(b->data));
	b->data[b->size++] = v;
}

static void put_varint(struct record_buf *b, uint64_t v)
{
	do {
		uint8_t byte = v & 0x7f;
		v >>= 7;
		put_u8(b, byte | (v ? 0x80 : 0));
	} while (v);
}

static void put_str(struct record_buf *b, const char *s)
{
	size_t l = strlen(s);

	put_varint(b, l);
	assert(b->size + l <= sizeof(b->data));
	memcpy(b->data + b->size, s, l);
	b->size += l;
}

/* Since record version 2: the first bytes of SHA-256 of everything before. */
static void record_checksum(const uint8_t *data, size_t size, uint8_t ret[CACHE_RECORD_CHECKSUM])
{
	uint8_t digest[SHA256_DIGEST_SIZE];

	sha256(data, size, digest);
	memcpy(ret, digest, CACHE_RECORD_CHECKSUM);
}

static void put_checksum(struct record_buf *b)
{
	assert(b->size + CACHE_RECORD_CHECKSUM <= sizeof(b->data));
	record_checksum(b->data, b->size, b->data + b->size);
	b->size += CACHE_RECORD_CHECKSUM;
}

static void put_tid(struct record_buf *b, const struct tid *t)
{
	put_str(b, t->transport);
	put_str(b, t->traddr);
	put_str(b, t->trsvcid);
	put_str(b, t->subsysnqn);
	put_str(b, t->host_traddr);
	put_str(b, t->host_iface);
	put_str(b, t->host_nqn);
}

void record_encode_dc(const struct cache_dc *dc, struct record_buf *ret)
{
	ret->size = 0;
	put_u8(ret, CACHE_DC_RECORD_VERSION);
	put_tid(ret, &dc->tid);
	put_u8(ret, (uint8_t)dc->origin);
	put_u8(ret, (uint8_t)dc->dctype);
	put_u8(ret, (dc->persistent ? DC_FLAG_PERSISTENT : 0) |
			    (dc->mdns_advertised ? DC_FLAG_MDNS_ADVERTISED : 0) |
			    (dc->stale ? DC_FLAG_STALE : 0) |
			    (dc->triggers_pending ? DC_FLAG_TRIGGERS_PENDING : 0));
	put_varint(ret, dc->kato);
	put_str(ret, dc->device);
	put_str(ret, dc->instance_key);
	put_varint(ret, dc->mdns_last_advertised_usec);
	put_u8(ret, dc->referral_depth);
	put_tid(ret, &dc->referrer);
	put_varint(ret, dc->genctr);
	put_varint(ret, dc->last_read_usec);
	put_varint(ret, dc->n_entries);
	put_varint(ret, (uint32_t)dc->last_errno);
	put_varint(ret, dc->last_error_usec);
	put_str(ret, dc->last_error);
	put_varint(ret, dc->first_failure_usec);
	put_varint(ret, dc->n_failures);
	put_checksum(ret);
}

void record_encode_dlpe(const struct dlpe *e, struct record_buf *ret)
{
	ret->size = 0;
	put_u8(ret, CACHE_DLPE_RECORD_VERSION);
	put_u8(ret, e->trtype);
	put_u8(ret, e->adrfam);
	put_u8(ret, e->subtype);
	put_u8(ret, e->treq);
	put_varint(ret, e->portid);
	put_varint(ret, e->cntlid);
	put_varint(ret, e->asqsz);
	put_varint(ret, e->eflags);
	put_str(ret, e->transport);
	put_str(ret, e->trsvcid);
	put_str(ret, e->traddr);
	put_str(ret, e->subnqn);
	put_u8(ret, e->tsas_sectype);
	put_u8(ret, e->tsas_rdma_qptype);
	put_u8(ret, e->tsas_rdma_prtype);
	put_u8(ret, e->tsas_rdma_cms);
	put_varint(ret, e->tsas_rdma_pkey);
	put_checksum(ret);
}

void record_encode_path(const struct cache_path *p, struct record_buf *ret)
{
	ret->size = 0;
	put_u8(ret, CACHE_PATH_RECORD_VERSION);
	put_tid(ret, &p->tid);
	put_u8(ret, (uint8_t)p->owner);
	put_u8(ret, (uint8_t)p->state);
	put_u8(ret, p->ncc ? PATH_FLAG_NCC : 0);
	put_varint(ret, p->attempts);
	put_varint(ret, (uint32_t)p->last_errno);
	put_varint(ret, p->updated_usec);
	put_str(ret, p->last_error);
	put_str(ret, p->device);
	put_checksum(ret);
}

/* ---- reading ---- */

struct reader {
	const uint8_t *p;
	size_t size, off;
	int err; /* sticky: the first failure */
};

static uint8_t get_u8(struct reader *r)
{
	if (r->err || r->off >= r->size) {
		r->err = -EBADMSG;
		return 0;
	}
	return r->p[r->off++];
}

static inline uint64_t get_varint(struct reader *r, uint64_t max)
{
	uint64_t v = 0;

	/* fast path: most values (lengths, enums, small counters) are one byte */
	if (_likely_(!r->err && r->off < r->size && !(r->p[r->off] & 0x80) && r->p[r->off] <= max))
		return r->p[r->off++];

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t byte = get_u8(r);
		if (r->err)
			return 0;
		if (shift == 63 && (byte & 0x7e)) /* bits beyond 64 */
			break;
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			/* no overlong encodings: the last byte is non-zero unless v == 0 */
			if (byte == 0 && shift > 0)
				break;
			if (v > max)
				break;
			return v;
		}
	}
	r->err = -EBADMSG;
	return 0;
}

static inline void get_str(struct reader *r, char *buf, size_t size)
{
	uint64_t l = get_varint(r, size - 1);
	const uint8_t *p;

	if (r->err)
		return;
	if (l > r->size - r->off) {
		r->err = -EBADMSG;
		return;
	}
	/* copy and refuse embedded NULs in one pass */
	p = r->p + r->off;
	for (size_t i = 0; i < l; i++) {
		if (_unlikely_(p[i] == 0)) {
			r->err = -EBADMSG;
			return;
		}
		buf[i] = (char)p[i];
	}
	buf[l] = '\0';
	r->off += l;
}

static void get_tid(struct reader *r, struct tid *t)
{
	get_str(r, t->transport, sizeof(t->transport));
	get_str(r, t->traddr, sizeof(t->traddr));
	get_str(r, t->trsvcid, sizeof(t->trsvcid));
	get_str(r, t->subsysnqn, sizeof(t->subsysnqn));
	get_str(r, t->host_traddr, sizeof(t->host_traddr));
	get_str(r, t->host_iface, sizeof(t->host_iface));
	get_str(r, t->host_nqn, sizeof(t->host_nqn));
}

/*
 * Version byte: 0 is never valid. From version 2 on, a record ends in a
 * checksum of the rest, checked here and cut off: a byte changed on disk in
 * a field that still decodes is caught. Returns the version.
 */
static unsigned get_version(struct reader *r)
{
	unsigned v = get_u8(r);
	uint8_t sum[CACHE_RECORD_CHECKSUM];

	if (v == 0)
		r->err = -EBADMSG;
	if (r->err || v < 2)
		return v;
	if (r->size < 1 + CACHE_RECORD_CHECKSUM) {
		r->err = -EBADMSG;
		return v;
	}
	r->size -= CACHE_RECORD_CHECKSUM;
	record_checksum(r->p, r->size, sum);
	if (memcmp(sum, r->p + r->size, CACHE_RECORD_CHECKSUM) != 0)
		r->err = -EBADMSG;
	return v;
}

/* A record of this version or an older one must end exactly here; a newer one may go on. */
static int finish(struct reader *r, unsigned version, unsigned current)
{
	if (r->err)
		return r->err;
	if (version <= current && r->off != r->size)
		return -EBADMSG;
	return 0;
}

int record_decode_dc(const void *data, size_t size, struct cache_dc *ret)
{
	struct reader r = { .p = data, .size = size };
	unsigned version, flags;

	memset(ret, 0, sizeof(*ret));
	version = get_version(&r);
	get_tid(&r, &ret->tid);
	ret->origin = get_u8(&r);
	ret->dctype = get_u8(&r);
	flags = get_u8(&r);
	if (ret->origin >= _CACHE_ORIGIN_MAX || ret->dctype >= _CACHE_DCTYPE_MAX ||
	    (version <= CACHE_DC_RECORD_VERSION && (flags & ~_DC_FLAGS_ALL)))
		return -EBADMSG;
	ret->persistent = flags & DC_FLAG_PERSISTENT;
	ret->mdns_advertised = flags & DC_FLAG_MDNS_ADVERTISED;
	ret->stale = flags & DC_FLAG_STALE;
	ret->triggers_pending = flags & DC_FLAG_TRIGGERS_PENDING;
	ret->kato = (uint32_t)get_varint(&r, UINT32_MAX);
	get_str(&r, ret->device, sizeof(ret->device));
	get_str(&r, ret->instance_key, sizeof(ret->instance_key));
	ret->mdns_last_advertised_usec = get_varint(&r, UINT64_MAX);
	ret->referral_depth = get_u8(&r);
	get_tid(&r, &ret->referrer);
	ret->genctr = get_varint(&r, UINT64_MAX);
	ret->last_read_usec = get_varint(&r, UINT64_MAX);
	ret->n_entries = (uint32_t)get_varint(&r, UINT32_MAX);
	ret->last_errno = (int32_t)get_varint(&r, INT32_MAX);
	ret->last_error_usec = get_varint(&r, UINT64_MAX);
	get_str(&r, ret->last_error, sizeof(ret->last_error));
	if (version >= 3) {
		ret->first_failure_usec = get_varint(&r, UINT64_MAX);
		ret->n_failures = (uint32_t)get_varint(&r, UINT32_MAX);
	}
	return finish(&r, version, CACHE_DC_RECORD_VERSION);
}

int record_decode_dlpe(const void *data, size_t size, struct dlpe *ret)
{
	struct reader r = { .p = data, .size = size };
	unsigned version;

	memset(ret, 0, sizeof(*ret));
	version = get_version(&r);
	ret->trtype = get_u8(&r);
	ret->adrfam = get_u8(&r);
	ret->subtype = get_u8(&r);
	ret->treq = get_u8(&r);
	ret->portid = (uint16_t)get_varint(&r, UINT16_MAX);
	ret->cntlid = (uint16_t)get_varint(&r, UINT16_MAX);
	ret->asqsz = (uint16_t)get_varint(&r, UINT16_MAX);
	ret->eflags = (uint16_t)get_varint(&r, UINT16_MAX);
	get_str(&r, ret->transport, sizeof(ret->transport));
	get_str(&r, ret->trsvcid, sizeof(ret->trsvcid));
	get_str(&r, ret->traddr, sizeof(ret->traddr));
	get_str(&r, ret->subnqn, sizeof(ret->subnqn));
	ret->tsas_sectype = get_u8(&r);
	ret->tsas_rdma_qptype = get_u8(&r);
	ret->tsas_rdma_prtype = get_u8(&r);
	ret->tsas_rdma_cms = get_u8(&r);
	ret->tsas_rdma_pkey = (uint16_t)get_varint(&r, UINT16_MAX);
	return finish(&r, version, CACHE_DLPE_RECORD_VERSION);
}

int record_decode_path(const void *data, size_t size, struct cache_path *ret)
{
	struct reader r = { .p = data, .size = size };
	unsigned version, flags;

	memset(ret, 0, sizeof(*ret));
	version = get_version(&r);
	get_tid(&r, &ret->tid);
	ret->owner = get_u8(&r);
	ret->state = get_u8(&r);
	flags = get_u8(&r);
	if (ret->owner >= _CACHE_PATH_OWNER_MAX || ret->state >= _CACHE_PATH_STATE_MAX ||
	    (version <= CACHE_PATH_RECORD_VERSION && (flags & ~_PATH_FLAGS_ALL)))
		return -EBADMSG;
	ret->ncc = flags & PATH_FLAG_NCC;
	ret->attempts = (uint32_t)get_varint(&r, UINT32_MAX);
	ret->last_errno = (int32_t)get_varint(&r, INT32_MAX);
	ret->updated_usec = get_varint(&r, UINT64_MAX);
	get_str(&r, ret->last_error, sizeof(ret->last_error));
	get_str(&r, ret->device, sizeof(ret->device));
	return finish(&r, version, CACHE_PATH_RECORD_VERSION);
}

/* ---- meaning ---- */

/* Printable ASCII only: what stasadm prints and the journal logs verbatim. */
static bool str_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* A stored TID is canonical (tid_canonicalize() leaves it as it is); @may_be_empty: all unset. */
static bool tid_stored_valid(const struct tid *t, bool may_be_empty)
{
	struct tid c = *t;

	if (may_be_empty) {
		bool empty = true;
		for (int f = 0; f < _TID_FIELD_MAX && empty; f++)
			empty = isempty(tid_field_get(t, f));
		if (empty)
			return true;
	}
	for (int f = 0; f < _TID_FIELD_MAX; f++)
		if (!str_printable(tid_field_get(t, f)))
			return false;
	return tid_canonicalize(&c) == 0 && tid_equal(&c, t);
}

static bool device_valid(const char *s)
{
	/* a kernel controller name, "nvme3" */
	if (isempty(s))
		return true;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

int record_validate_dc(const struct cache_dc *dc)
{
	if (!tid_stored_valid(&dc->tid, false) || !tid_stored_valid(&dc->referrer, true) ||
	    !device_valid(dc->device) || !str_printable(dc->instance_key) ||
	    (!isempty(dc->instance_key) && !str_startswith(dc->instance_key, "key-")) ||
	    !str_printable(dc->last_error))
		return -EBADMSG;
	return 0;
}

int record_validate_dlpe(const struct dlpe *e)
{
	struct nvmf_disc_log_entry raw;
	struct dlpe again;

	/* what stas stores is what dlpe_from_nvmf() made of a page: it must come back unchanged */
	dlpe_to_nvmf(e, &raw);
	if (dlpe_from_nvmf(&raw, &again, NULL) < 0 || !dlpe_equal(e, &again))
		return -EBADMSG;
	return 0;
}

int record_validate_path(const struct cache_path *p)
{
	if (!tid_stored_valid(&p->tid, false) || isempty(p->tid.subsysnqn) ||
	    !device_valid(p->device) || !str_printable(p->last_error))
		return -EBADMSG;
	return 0;
}

/* ---- keys ---- */

int cache_tid_id(const struct tid *t, uint8_t ret[CACHE_ID_SIZE])
{
	char key[TID_KEY_MAX];
	uint8_t digest[SHA256_DIGEST_SIZE];
	int r;

	r = tid_key(t, key, sizeof(key));
	if (r < 0)
		return r;
	sha256(key, (size_t)r, digest);
	memcpy(ret, digest, CACHE_ID_SIZE);
	return 0;
}

static void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void cache_dlpe_key(const uint8_t dcid[CACHE_ID_SIZE], uint32_t index,
		    uint8_t ret[CACHE_DLPE_KEY_SIZE])
{
	memcpy(ret, dcid, CACHE_ID_SIZE);
	be32_put(ret + CACHE_ID_SIZE, index);
}

size_t cache_nqn_key(const char *nqn, const uint8_t dcid[CACHE_ID_SIZE], uint32_t index,
		     uint8_t ret[CACHE_NQN_KEY_MAX])
{
	size_t l = strnlen(nqn, TID_NQN_MAX);

	memcpy(ret, nqn, l);
	ret[l] = '\0';
	cache_dlpe_key(dcid, index, ret + l + 1);
	return l + 1 + CACHE_DLPE_KEY_SIZE;
}

size_t cache_path_key(const char *nqn, const uint8_t pathid[CACHE_ID_SIZE],
		      uint8_t ret[CACHE_PATH_KEY_MAX])
{
	size_t l = strnlen(nqn, TID_NQN_MAX);

	memcpy(ret, nqn, l);
	ret[l] = '\0';
	memcpy(ret + l + 1, pathid, CACHE_ID_SIZE);
	return l + 1 + CACHE_ID_SIZE;
}
