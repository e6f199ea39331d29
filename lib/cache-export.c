/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache-export.c - complete, checksummed dumps of the cache and their
 * all-or-nothing import. The format is described in stas-cache(7):
 *
 *   stas-cache-export <version> schema <n> records <n> bytes <n> sha256 <hex>\n
 *   <db> <hex key> <hex value or "-">\n      (records lines, key order per db)
 *
 * Raw records are dumped, so a round trip is exact; the importer decodes
 * every record with the same strict decoder the cache uses before it touches
 * anything.
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache-internal.h"
#include "cache-record.h"
#include "cache.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "sha256.h"

#define EXPORT_MAGIC "stas-cache-export"
#define EXPORT_MAX_SIZE ((size_t)1 << 31)
#define LMDB_KEY_MAX 511

/* Export order of the databases (meta first: a reader learns the schema early). */
static const enum cache_db export_order[_CACHE_DB_MAX] = {
	CACHE_DB_META, CACHE_DB_DC, CACHE_DB_DLPE, CACHE_DB_NQN, CACHE_DB_PATH, CACHE_DB_IKEY,
};

struct export_ctx {
	FILE *f;
	enum cache_db db;
	uint64_t records;
};

static void put_hex(FILE *f, const void *data, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;

	if (size == 0) {
		fputc('-', f);
		return;
	}
	for (size_t i = 0; i < size; i++) {
		fputc(digits[p[i] >> 4], f);
		fputc(digits[p[i] & 15], f);
	}
}

static int export_row(struct cache_row *row, void *ud)
{
	struct export_ctx *x = ud;

	fputs(cache_db_names[x->db], x->f);
	fputc(' ', x->f);
	put_hex(x->f, row->key.mv_data, row->key.mv_size);
	fputc(' ', x->f);
	put_hex(x->f, row->val.mv_data, row->val.mv_size);
	fputc('\n', x->f);
	x->records++;
	return 0;
}

/* The body of an export, from one snapshot, into @x->f. Return: 0, negative errno. */
static int export_body(struct cache *c, struct export_ctx *x, uint64_t *ret_schema,
		       const char **ret_db)
{
	_cleanup_cache_read_ MDB_txn *txn = NULL;
	int r;

	r = cache_read_begin(c, &txn);
	if (r < 0)
		return r;
	(void)cache_meta_get_uint(c, txn, "schema", ret_schema);
	for (size_t i = 0; i < ELEMENTSOF(export_order) && r >= 0; i++) {
		x->db = export_order[i];
		r = cache_range(c, txn, x->db, NULL, 0, export_row, x);
		if (r == -EBADMSG && ret_db)
			*ret_db = cache_db_names[x->db];
	}
	return r;
}

int cache_export(struct cache *c, FILE *f, const char **ret_db)
{
	_cleanup_free_ char *body = NULL;
	size_t body_size = 0;
	uint64_t schema = 0;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hexd[2 * SHA256_DIGEST_SIZE + 1];
	struct export_ctx x = {};
	int r;

	x.f = open_memstream(&body, &body_size);
	if (!x.f)
		return -ENOMEM;
	r = export_body(c, &x, &schema, ret_db);
	if (fclose(x.f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r;

	sha256(body, body_size, digest);
	if (fprintf(f,
		    EXPORT_MAGIC " %u schema %" PRIu64 " records %" PRIu64 " bytes %zu sha256 %s\n",
		    CACHE_EXPORT_VERSION, schema ? schema : CACHE_SCHEMA_VERSION, x.records,
		    body_size, sha256_hex(digest, hexd)) < 0 ||
	    fwrite(body, 1, body_size, f) != body_size || fflush(f) != 0)
		return ferror(f) ? -EIO : negative_errno();
	return (int)MIN(x.records, (uint64_t)INT32_MAX);
}

/* ---- import ----------------------------------------------------------- */

struct row {
	const uint8_t *key, *val; /* decoded in place in the import buffer */
	size_t klen, vlen;
};

struct rows {
	struct row *r;
	size_t n, alloc;
};

struct import {
	struct rows db[_CACHE_DB_MAX];
	struct cache_import_summary *summary;
};

static void import_done(struct import *im)
{
	for (int i = 0; i < _CACHE_DB_MAX; i++)
		free(im->db[i].r);
}

_printf_(3, 4) static int refuse(struct cache_import_summary *s, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
	log_debug("cache: import refused: %s", s->reason);
	return error;
}

static int unhex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Decode the hex field [p, end) in place into p. Return: length or -EBADMSG. */
static ssize_t hex_in_place(char *p, const char *end)
{
	size_t l = (size_t)(end - p);

	if (l == 1 && p[0] == '-')
		return 0;
	if (l == 0 || l % 2)
		return -EBADMSG;
	for (size_t i = 0; i < l / 2; i++) {
		int hi = unhex(p[2 * i]), lo = unhex(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EBADMSG;
		((uint8_t *)p)[i] = (uint8_t)(hi << 4 | lo);
	}
	return (ssize_t)(l / 2);
}

/* LMDB's default key order: memcmp, then shorter first. */
static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int r = memcmp(a, b, MIN(al, bl));
	return r ? r : (al > bl) - (al < bl);
}

static int check_record(enum cache_db db, const struct row *row)
{
	struct cache_dc dc;
	struct dlpe e;
	struct cache_path p;

	if (row->klen == 0 || row->klen > LMDB_KEY_MAX)
		return -EBADMSG;
	switch (db) {
	case CACHE_DB_DC:
		if (row->klen != CACHE_ID_SIZE || record_decode_dc(row->val, row->vlen, &dc) < 0)
			return -EBADMSG;
		return record_validate_dc(&dc);
	case CACHE_DB_DLPE:
		if (row->klen != CACHE_DLPE_KEY_SIZE ||
		    record_decode_dlpe(row->val, row->vlen, &e) < 0)
			return -EBADMSG;
		return record_validate_dlpe(&e);
	case CACHE_DB_NQN:
		return row->vlen == 0 && row->klen > CACHE_DLPE_KEY_SIZE + 1 ? 0 : -EBADMSG;
	case CACHE_DB_PATH:
		if (record_decode_path(row->val, row->vlen, &p) < 0)
			return -EBADMSG;
		return record_validate_path(&p);
	case CACHE_DB_IKEY:
		return row->vlen == CACHE_ID_SIZE ? 0 : -EBADMSG;
	case CACHE_DB_META:
		return memchr(row->val, '\0', row->vlen) ? -EBADMSG : 0;
	case _CACHE_DB_MAX:
		break;
	}
	return -EBADMSG;
}

static int parse_body(struct import *im, char *body, size_t size, uint64_t records, uint64_t schema)
{
	struct cache_import_summary *s = im->summary;
	char *p = body, *end = body + size;
	uint64_t line = 1, n = 0;
	bool schema_seen = false;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *sp1, *sp2;
		struct row row;
		struct rows *rs;
		ssize_t kl, vl;
		int db, r;

		line++;
		if (!nl)
			return refuse(s, -EBADMSG, "line %" PRIu64 ": not terminated", line);
		sp1 = memchr(p, ' ', (size_t)(nl - p));
		sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(nl - sp1 - 1)) : NULL;
		if (!sp1 || !sp2)
			return refuse(s, -EBADMSG, "line %" PRIu64 ": malformed", line);
		db = cache_db_from_name(p, (size_t)(sp1 - p));
		if (db < 0)
			return refuse(s, -EBADMSG, "line %" PRIu64 ": unknown database \"%.*s\"",
				      line, (int)MIN(sp1 - p, 32), p);
		kl = hex_in_place(sp1 + 1, sp2);
		vl = hex_in_place(sp2 + 1, nl);
		if (kl < 0 || vl < 0)
			return refuse(s, -EBADMSG, "line %" PRIu64 ": malformed hex", line);
		row = (struct row){ (uint8_t *)sp1 + 1, (uint8_t *)sp2 + 1, (size_t)kl,
				    (size_t)vl };
		r = check_record(db, &row);
		if (r < 0)
			return refuse(s, -EBADMSG, "line %" PRIu64 ": invalid %s record", line,
				      cache_db_names[db]);
		rs = &im->db[db];
		if (rs->n > 0 &&
		    key_cmp(rs->r[rs->n - 1].key, rs->r[rs->n - 1].klen, row.key, row.klen) >= 0)
			return refuse(s, -EBADMSG,
				      "line %" PRIu64 ": %s key out of order or duplicated", line,
				      cache_db_names[db]);
		if (db == CACHE_DB_META && row.klen == 6 && memcmp(row.key, "schema", 6) == 0) {
			char buf[24];
			snprintf(buf, sizeof(buf), "%" PRIu64, schema);
			if (row.vlen != strlen(buf) || memcmp(row.val, buf, row.vlen) != 0)
				return refuse(s, -EBADMSG,
					      "line %" PRIu64 ": schema differs from the header's",
					      line);
			schema_seen = true;
		}
		if (GREEDY_REALLOC(rs->r, rs->alloc, rs->n) < 0)
			return -ENOMEM;
		rs->r[rs->n++] = row;
		n++;
		p = nl + 1;
	}
	if (n != records)
		return refuse(s, -EBADMSG, "%" PRIu64 " records, the header says %" PRIu64, n,
			      records);
	if (!schema_seen)
		return refuse(s, -EBADMSG, "no schema record");
	return 0;
}

static int parse(struct import *im, char *buf, size_t size)
{
	struct cache_import_summary *s = im->summary;
	unsigned version = 0;
	uint64_t schema = 0, records = 0, bytes = 0;
	char digest_hex[65] = "", expect[256], hexd[65], *nl;
	uint8_t digest[SHA256_DIGEST_SIZE];
	size_t hl;

	if (size == 0)
		return refuse(s, -ENODATA, "the file is empty");
	if (size < STRLEN(EXPORT_MAGIC " ") ||
	    memcmp(buf, EXPORT_MAGIC " ", MIN(size, STRLEN(EXPORT_MAGIC " "))) != 0)
		return refuse(s, -EBADMSG, "not a stas cache export");
	nl = memchr(buf, '\n', MIN(size, (size_t)255));
	if (!nl)
		return refuse(s, size < 255 ? -ENODATA : -EBADMSG,
			      size < 255 ? "truncated header" : "malformed header");
	*nl = '\0';
	hl = (size_t)(nl - buf) + 1;
	if (sscanf(buf, EXPORT_MAGIC " %u", &version) != 1)
		return refuse(s, -EBADMSG, "malformed header");
	if (version > CACHE_EXPORT_VERSION)
		return refuse(s, -EPROTO, "export format %u is newer than this program's (%u)",
			      version, CACHE_EXPORT_VERSION);
	if (sscanf(buf,
		   EXPORT_MAGIC " %u schema %" SCNu64 " records %" SCNu64 " bytes %" SCNu64
				" sha256 %64s",
		   &version, &schema, &records, &bytes, digest_hex) != 5)
		return refuse(s, -EBADMSG, "malformed header");
	/* The header must be exactly what cache_export() writes. */
	snprintf(expect, sizeof(expect),
		 EXPORT_MAGIC " %u schema %" PRIu64 " records %" PRIu64 " bytes %" PRIu64
			      " sha256 %s",
		 version, schema, records, bytes, digest_hex);
	if (!streq(expect, buf) || version < 1 || strlen(digest_hex) != 64)
		return refuse(s, -EBADMSG, "malformed header");
	if (schema > CACHE_SCHEMA_VERSION)
		return refuse(s, -EPROTO,
			      "cache schema %" PRIu64 " is newer than this program's (%u)", schema,
			      CACHE_SCHEMA_VERSION);
	if (schema < CACHE_SCHEMA_VERSION)
		return refuse(s, -EPROTO, "cache schema %" PRIu64 " is too old (no migration)",
			      schema);
	if (size - hl < bytes)
		return refuse(s, -ENODATA, "truncated: %zu of %" PRIu64 " bytes", size - hl, bytes);
	if (size - hl > bytes)
		return refuse(s, -EBADMSG, "%zu bytes of trailing data", size - hl - (size_t)bytes);
	sha256(buf + hl, (size_t)bytes, digest);
	if (!streq(sha256_hex(digest, hexd), digest_hex))
		return refuse(s, -EBADMSG, "checksum mismatch: the file was altered or damaged");
	s->records = records;
	return parse_body(im, buf + hl, (size_t)bytes, records, schema);
}

/* Rows of @rs whose key starts with @prefix: [*ret_first, *ret_end). */
static void rows_range(const struct rows *rs, const uint8_t *prefix, size_t pl, size_t *ret_first,
		       size_t *ret_end)
{
	size_t lo = 0, hi = rs->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (key_cmp(rs->r[mid].key, rs->r[mid].klen, prefix, pl) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*ret_first = lo;
	while (lo < rs->n && rs->r[lo].klen >= pl && memcmp(rs->r[lo].key, prefix, pl) == 0)
		lo++;
	*ret_end = lo;
}

struct entries_same {
	const struct rows *rs;
	size_t i, end;
	bool same;
};

static int entry_same_row(struct cache_row *row, void *ud)
{
	struct entries_same *x = ud;
	const struct row *f = &x->rs->r[x->i];

	if (x->i >= x->end || key_cmp(row->key.mv_data, row->key.mv_size, f->key, f->klen) != 0 ||
	    key_cmp(row->val.mv_data, row->val.mv_size, f->val, f->vlen) != 0) {
		x->same = false;
		return 1;
	}
	x->i++;
	return 0;
}

/* Whether the cache holds exactly the file's entries for DC @id. */
static int entries_same(struct cache *c, MDB_txn *txn, const struct rows *rs, const uint8_t *id)
{
	struct entries_same x = { .rs = rs, .same = true };
	int r;

	rows_range(rs, id, CACHE_ID_SIZE, &x.i, &x.end);
	r = cache_range(c, txn, CACHE_DB_DLPE, id, CACHE_ID_SIZE, entry_same_row, &x);
	if (r < 0)
		return r;
	return x.same && x.i == x.end;
}

struct dc_removed {
	const struct rows *dcs;
	uint64_t n;
};

/* A DC in the cache that the file does not have. */
static int dc_removed_row(struct cache_row *row, void *ud)
{
	struct dc_removed *x = ud;
	size_t first, end;

	rows_range(x->dcs, row->key.mv_data, row->key.mv_size, &first, &end);
	if (first == end || x->dcs->r[first].klen != row->key.mv_size)
		x->n++;
	return 0;
}

/* Counts of the file against the cache as @txn sees it (the import's own write
 * transaction, so the summary describes exactly what the import replaced). */
static int summarize(struct cache *c, MDB_txn *txn, struct import *im)
{
	struct cache_import_summary *s = im->summary;
	const struct rows *dcs = &im->db[CACHE_DB_DC];
	struct dc_removed removed = { .dcs = dcs };
	int r;

	s->dcs = dcs->n;
	s->entries = im->db[CACHE_DB_DLPE].n;
	s->paths = im->db[CACHE_DB_PATH].n;
	s->dcs_added = s->dcs_removed = s->dcs_changed = s->dcs_unchanged = 0;
	for (size_t i = 0; i < dcs->n; i++) {
		MDB_val key = { dcs->r[i].klen, (void *)dcs->r[i].key }, v;
		int rc = c->have[CACHE_DB_DC] ? mdb_get(txn, c->dbi[CACHE_DB_DC], &key, &v) :
						MDB_NOTFOUND;

		if (rc == MDB_NOTFOUND) {
			s->dcs_added++;
			continue;
		}
		if (rc != MDB_SUCCESS)
			return cache_errno(rc);
		if (cache_val_check(c, &v) < 0)
			return -EBADMSG;
		r = key_cmp(v.mv_data, v.mv_size, dcs->r[i].val, dcs->r[i].vlen) == 0 ?
			    entries_same(c, txn, &im->db[CACHE_DB_DLPE], dcs->r[i].key) :
			    0;
		if (r < 0)
			return r;
		if (r > 0)
			s->dcs_unchanged++;
		else
			s->dcs_changed++;
	}
	r = cache_range(c, txn, CACHE_DB_DC, NULL, 0, dc_removed_row, &removed);
	s->dcs_removed = removed.n;
	return r < 0 ? r : 0;
}

static int summarize_read(struct cache *c, struct import *im)
{
	_cleanup_cache_read_ MDB_txn *txn = NULL;
	int r = cache_read_begin(c, &txn);

	return r < 0 ? r : summarize(c, txn, im);
}

static void import_report(const char *problem, void *userdata)
{
	struct cache_import_summary *s = userdata;

	if (!s->reason[0])
		snprintf(s->reason, sizeof(s->reason), "inconsistent content: %s", problem);
}

static int import_fn(struct cache *c, MDB_txn *txn, void *ud)
{
	struct import *im = ud;
	char writer[128];
	int r, rc;

	/* what is replaced, seen by this transaction: no commit can slip in between */
	r = summarize(c, txn, im);
	if (r < 0)
		return r;
	for (int db = 0; db < _CACHE_DB_MAX; db++) {
		rc = mdb_drop(txn, c->dbi[db], 0);
		if (rc != MDB_SUCCESS)
			return cache_errno(rc);
		for (size_t i = 0; i < im->db[db].n; i++) {
			const struct row *row = &im->db[db].r[i];
			MDB_val k = { row->klen, (void *)row->key },
				v = { row->vlen, (void *)row->val };
			rc = mdb_put(txn, c->dbi[db], &k, &v, MDB_APPEND);
			if (rc != MDB_SUCCESS)
				return cache_errno(rc);
		}
	}
	snprintf(writer, sizeof(writer), "%s %ld %llu", c->writer, (long)getpid(),
		 (unsigned long long)cache_now_usec());
	r = cache_meta_put_str(c, txn, "writer", writer);
	if (r < 0)
		return r;
	r = cache_verify_txn(c, txn, import_report, im->summary);
	if (r < 0)
		return r;
	if (r > 0)
		return -EBADMSG; /* aborted: nothing changes */
	return 1;
}

/*
 * Read an export: the header line first, then exactly the body length it
 * gives (+1 byte, to tell trailing data) - a regular file whose size does not
 * match is refused before its body is read, and nothing reads more than the
 * header promises. Return: 0 and *@ret (header and body), negative errno
 * with @s->reason.
 */
static int import_read(FILE *f, struct cache_import_summary *s, char **ret, size_t *ret_size)
{
	_cleanup_free_ char *buf = NULL;
	char head[256];
	size_t hl = 0, n;
	uint64_t bytes = 0;
	struct stat st;
	const char *p;
	int ch;

	while (hl < sizeof(head) - 1 && (ch = getc(f)) != EOF) {
		head[hl++] = (char)ch;
		if (ch == '\n')
			break;
	}
	if (ferror(f))
		return refuse(s, -EIO, "cannot read the file: %s", strerror(EIO));
	head[hl] = '\0';
	/* the header's own checks are parse()'s; only the length matters here */
	p = hl > 0 && head[hl - 1] == '\n' && strlen(head) == hl ? strstr(head, " bytes ") : NULL;
	if (p && sscanf(p, " bytes %" SCNu64, &bytes) == 1) {
		if (bytes > EXPORT_MAX_SIZE)
			return refuse(s, -EFBIG,
				      "the header claims %" PRIu64 " bytes, more than an export "
				      "can hold",
				      bytes);
		if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
			off_t pos = ftello(f);
			uint64_t left =
				pos >= 0 && st.st_size >= pos ? (uint64_t)(st.st_size - pos) : 0;
			if (left < bytes)
				return refuse(s, -ENODATA,
					      "truncated: %" PRIu64 " of %" PRIu64 " bytes", left,
					      bytes);
			if (left > bytes)
				return refuse(s, -EBADMSG, "%" PRIu64 " bytes of trailing data",
					      left - bytes);
		}
	} else
		bytes = 0; /* parse() refuses the header */
	buf = malloc(hl + (size_t)bytes + 2);
	if (!buf)
		return refuse(s, -ENOMEM, "out of memory");
	memcpy(buf, head, hl);
	n = fread(buf + hl, 1, (size_t)bytes + 1, f);
	if (ferror(f))
		return refuse(s, -EIO, "cannot read the file: %s", strerror(EIO));
	buf[hl + n] = '\0';
	*ret_size = hl + n;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* The import itself; @im->summary's reason says why it was refused. */
static int import_run(struct cache *c, struct import *im, FILE *f, bool dry_run)
{
	struct cache_import_summary *s = im->summary;
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	int r;

	if (!dry_run && !cache_writable(c)) {
		r = (c->flags & CACHE_RDWR) ? -EPROTO : -EROFS;
		snprintf(s->reason, sizeof(s->reason), "%s",
			 r == -EPROTO ? "the cache has a newer schema" : "the cache is read-only");
		return r;
	}
	r = import_read(f, s, &buf, &size);
	if (r < 0)
		return r;
	r = parse(im, buf, size);
	if (r >= 0 && dry_run)
		r = summarize_read(c, im);
	if (r >= 0 && !dry_run) {
		r = cache_write(c, import_fn, im);
		if (r == -EBADMSG && !s->reason[0])
			snprintf(s->reason, sizeof(s->reason), "inconsistent content");
	}
	return r;
}

int cache_import(struct cache *c, FILE *f, bool dry_run, struct cache_import_summary *ret_summary)
{
	struct cache_import_summary s = {};
	struct import im = { .summary = &s };
	int r = import_run(c, &im, f, dry_run);

	import_done(&im);
	if (ret_summary)
		*ret_summary = s;
	return r;
}
