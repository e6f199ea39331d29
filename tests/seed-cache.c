/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seed-cache.c - fixtures for tests/stasadm-cache.test, which checks
 * stasadm's output against exactly this content:
 *
 *   seed-cache seed DIR           three DCs, their pages and three paths;
 *                                 prints the long-NQN DC's instance key
 *   seed-cache dangling-nqn DIR   add an NQN index row that points at no
 *                                 entry (raw LMDB: the cache API can't)
 *   seed-cache future-schema DIR  set meta "schema" to one past ours
 *   seed-cache bad-traddr DIR     add a DC whose traddr holds a terminal
 *                                 escape, newline and comma (a well-formed
 *                                 record that means nothing valid)
 *   seed-cache bad-path DIR       add a path record that does not decode
 *   seed-cache bad-length DIR     make the length of meta "created" in
 *                                 data.mdb claim 16 MiB more than the file
 *                                 holds (raw bytes: LMDB's node header)
 *   seed-cache hold DIR           open the cache for writing as every stas
 *                                 writer does (cache_open RDWR), print
 *                                 "ready" and keep it open until killed
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache-record.h"
#include "cache.h"
#include "dlpe.h"
#include "fileio.h"
#include "macro.h"
#include "tid.h"
#include "unit-name.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
/* 216 bytes: its stas-discover@ instance is too long for a unit name */
#define LONG_NQN                                                                               \
	"nqn.2024-01.io.test:a-very-long-discovery-subsystem-name-that-goes-on-and-on-and-on-" \
	"and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-" \
	"and-on-and-on-and-on-and-on-until-it-ends"
#define GHOST_NQN "nqn.2024-01.io.test:ghost"

static void dc_init(struct cache_dc *dc, const char *traddr, const char *subsysnqn)
{
	memset(dc, 0, sizeof(*dc));
	strcpy(dc->tid.transport, "tcp");
	strcpy(dc->tid.traddr, traddr);
	strcpy(dc->tid.trsvcid, "8009");
	strcpy(dc->tid.subsysnqn, subsysnqn);
	strcpy(dc->tid.host_nqn, HOSTNQN);
	dc->dctype = CACHE_DCTYPE_DDC;
	dc->kato = 30;
}

static void entry_init(struct dlpe *e, uint8_t subtype, const char *traddr, const char *svc,
		       const char *nqn, uint16_t portid)
{
	memset(e, 0, sizeof(*e));
	e->trtype = 3; /* tcp */
	e->adrfam = 1; /* ipv4 */
	e->subtype = subtype;
	e->treq = DLPE_TREQ_NOT_REQUIRED;
	e->portid = portid;
	e->cntlid = 0xffff;
	e->asqsz = 32;
	strcpy(e->transport, "tcp");
	strcpy(e->trsvcid, svc);
	strcpy(e->traddr, traddr);
	strcpy(e->subnqn, nqn);
}

static void path_init(struct cache_path *p, const char *traddr, const char *nqn,
		      enum cache_path_owner owner, enum cache_path_state state)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->tid.transport, "tcp");
	strcpy(p->tid.traddr, traddr);
	strcpy(p->tid.trsvcid, "4420");
	strcpy(p->tid.subsysnqn, nqn);
	strcpy(p->tid.host_nqn, HOSTNQN);
	p->owner = owner;
	p->state = state;
	p->updated_usec = 1700000000000000ULL; /* fixed: exports compare byte for byte */
}

static int check(int r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "seed-cache: %s: %s\n", what, strerror(-r));
		exit(EXIT_FAILURE);
	}
	return r;
}

static int seed(const char *dir)
{
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_free_ char *instance = NULL;
	struct cache_dc d1, d2, d3;
	struct cache_path p;
	struct dlpe e[4];
	bool is_key;

	check(cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &c), "open");

	/* configured, persistent: three I/O entries (two subsystems) and a referral */
	dc_init(&d1, "192.168.1.10", NVME_DISC_SUBSYS_NQN);
	d1.origin = CACHE_ORIGIN_CONFIG;
	d1.persistent = true;
	strcpy(d1.device, "nvme0");
	entry_init(&e[0], DLPE_SUBTYPE_NVME, "192.168.1.20", "4420", "nqn.2024-01.io.test:sub1", 1);
	entry_init(&e[1], DLPE_SUBTYPE_NVME, "192.168.1.21", "4420", "nqn.2024-01.io.test:sub1", 2);
	entry_init(&e[2], DLPE_SUBTYPE_NVME, "192.168.1.20", "4420", "nqn.2024-01.io.test:sub2", 1);
	entry_init(&e[3], DLPE_SUBTYPE_REFERRAL, "192.168.1.11", "8009", NVME_DISC_SUBSYS_NQN, 3);
	check(cache_dlp_put(c, &d1, e, 4, 7, NULL), "dlp 1");

	/* referred by the first; its last read failed: stale */
	dc_init(&d2, "192.168.1.11", NVME_DISC_SUBSYS_NQN);
	d2.origin = CACHE_ORIGIN_REFERRAL;
	d2.referral_depth = 1;
	d2.referrer = d1.tid;
	entry_init(&e[0], DLPE_SUBTYPE_NVME, "192.168.1.22", "4420", "nqn.2024-01.io.test:sub2", 1);
	entry_init(&e[1], DLPE_SUBTYPE_NVME, "192.168.1.23", "4420", "nqn.2024-01.io.test:sub3", 2);
	check(cache_dc_put(c, &d2), "referral recorded by its referrer");
	check(cache_dlp_put(c, &d2, e, 2, 3, NULL), "dlp 2");
	check(cache_dc_set_error(c, &d2, ETIMEDOUT, "read timed out"), "set error");

	/* manual, named by its instance key */
	dc_init(&d3, "192.168.1.12", LONG_NQN);
	d3.origin = CACHE_ORIGIN_MANUAL;
	d3.dctype = CACHE_DCTYPE_CDC;
	check(dc_instance_format(&d3.tid, &instance, &is_key), "instance");
	if (!is_key || strlen(instance) > CACHE_IKEY_MAX) {
		fprintf(stderr, "seed-cache: expected an instance key, got %s\n", instance);
		return EXIT_FAILURE;
	}
	strcpy(d3.instance_key, instance);
	entry_init(&e[0], DLPE_SUBTYPE_NVME, "192.168.1.24", "4420", "nqn.2024-01.io.test:sub1", 1);
	check(cache_dlp_put(c, &d3, e, 1, 1, NULL), "dlp 3");

	path_init(&p, "192.168.1.20", "nqn.2024-01.io.test:sub1", CACHE_PATH_OWNER_STAS,
		  CACHE_PATH_CONNECTED);
	strcpy(p.device, "nvme1");
	check(cache_path_put(c, &p), "path 1");
	path_init(&p, "192.168.1.21", "nqn.2024-01.io.test:sub1", CACHE_PATH_OWNER_OTHER,
		  CACHE_PATH_CONNECTED);
	strcpy(p.device, "nvme2");
	check(cache_path_put(c, &p), "path 2");
	path_init(&p, "192.168.1.22", "nqn.2024-01.io.test:sub2", CACHE_PATH_OWNER_STAS,
		  CACHE_PATH_FAILED);
	p.attempts = 3;
	p.last_errno = ECONNREFUSED;
	strcpy(p.last_error, "Connection refused");
	check(cache_path_put(c, &p), "path 3");

	printf("%s\n", instance);
	return EXIT_SUCCESS;
}

/* Put one row behind the cache's back. */
static int raw_put(const char *dir, const char *db, const void *key, size_t klen, const void *val,
		   size_t vlen)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	rc = mdb_env_create(&env);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_set_maxdbs(env, 16);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_open(env, dir, MDB_NOTLS, 0644);
	if (rc == MDB_SUCCESS)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == MDB_SUCCESS)
		rc = mdb_dbi_open(txn, db, 0, &dbi);
	if (rc == MDB_SUCCESS)
		rc = mdb_put(txn, dbi, &k, &v, 0);
	if (rc == MDB_SUCCESS) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	if (rc != MDB_SUCCESS) {
		fprintf(stderr, "seed-cache: %s: %s\n", dir, mdb_strerror(rc));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

/*
 * LMDB's leaf node: u16 lo, u16 hi (data size lo | hi << 16), u16 flags,
 * u16 key size, then key and data. Find the node of meta key "created" in
 * data.mdb and add 256 << 16 to its data size, as a damaged disk might.
 */
static int bad_length(const char *dir)
{
	static const uint8_t hdr_tail[] = { 0, 0, 7, 0, 'c', 'r', 'e', 'a', 't', 'e', 'd' };
	_cleanup_free_ char *buf = NULL;
	char path[4096];
	size_t n = 0, found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	f = fopen(path, "r+e");
	if (!f)
		return perror(path), EXIT_FAILURE;
	if (read_full_stream(f, (size_t)1 << 30, &buf, &n) < 0)
		return fclose(f), perror(path), EXIT_FAILURE;
	/* every copy of the node (older pages too: whichever the newest tree uses) */
	for (size_t i = 4; i + sizeof(hdr_tail) <= n; i++) {
		if (memcmp(buf + i, hdr_tail, sizeof(hdr_tail)) != 0)
			continue;
		/* buf[i - 4 .. i - 1] is lo, hi: hi's low byte is at i - 2 */
		if (fseek(f, (long)i - 2, SEEK_SET) < 0 || fputc(1, f) == EOF)
			return fclose(f), perror(path), EXIT_FAILURE;
		found++;
	}
	if (fclose(f) != 0)
		return perror(path), EXIT_FAILURE;
	if (found == 0) {
		fprintf(stderr, "seed-cache: no meta \"created\" node in %s\n", path);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr,
			"Usage: seed-cache seed|dangling-nqn|future-schema|bad-length|hold DIR\n");
		return 2;
	}
	if (streq(argv[1], "seed"))
		return seed(argv[2]);
	if (streq(argv[1], "dangling-nqn")) {
		/* subsysnqn '\0' dcid index: a DC id nothing has */
		uint8_t key[sizeof(GHOST_NQN) + 12];

		memcpy(key, GHOST_NQN, sizeof(GHOST_NQN));
		memset(key + sizeof(GHOST_NQN), 0xee, 12);
		return raw_put(argv[2], "nqn", key, sizeof(key), "", 0);
	}
	if (streq(argv[1], "future-schema")) {
		char v[16];

		snprintf(v, sizeof(v), "%d", CACHE_SCHEMA_VERSION + 1);
		return raw_put(argv[2], "meta", "schema", 6, v, strlen(v));
	}
	if (streq(argv[1], "bad-traddr")) {
		struct cache_dc dc;
		struct record_buf b;
		uint8_t id[CACHE_ID_SIZE];

		dc_init(&dc, "10.0.0.1\033[31m\n,x", NVME_DISC_SUBSYS_NQN);
		if (cache_tid_id(&dc.tid, id) < 0)
			return fprintf(stderr, "seed-cache: no id\n"), EXIT_FAILURE;
		record_encode_dc(&dc, &b);
		return raw_put(argv[2], "dc", id, sizeof(id), b.data, b.size);
	}
	if (streq(argv[1], "bad-path")) {
		/* nqn '\0' pathid -> a value of the wrong version */
		static const char key[] = "nqn.2024-01.io.test:sub1\0\1\2\3\4\5\6\7\10";
		return raw_put(argv[2], "path", key, sizeof(key) - 1, "\0garbage", 8);
	}
	if (streq(argv[1], "bad-length"))
		return bad_length(argv[2]);
	if (streq(argv[1], "hold")) {
		_cleanup_cache_ struct cache *c = NULL;
		int r = cache_open(argv[2], CACHE_RDWR, &c);

		if (r < 0)
			return fprintf(stderr, "seed-cache: %s\n", cache_strerror(r)), EXIT_FAILURE;
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	fprintf(stderr, "seed-cache: unknown mode '%s'\n", argv[1]);
	return 2;
}
