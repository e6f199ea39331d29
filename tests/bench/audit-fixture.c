/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit-fixture - a host with N live stas controllers, without a kernel:
 * a cache holding one persistent discovery controller (nvme0) whose page
 * lists N subsystems, and a fake sysfs tree ($STAS_SYSFS_ROOT) with the DC
 * and one live I/O controller per subsystem, as Linux 6.1 shows them. For
 * tests/bench/audit, which counts what an audit costs when nothing changed.
 *
 * Usage: audit-fixture DIR N HOSTNQN   (creates DIR/cache and DIR/sys)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache.h"
#include "dlpe.h"
#include "macro.h"
#include "tid.h"

#define SUB "nqn.2024-01.io.stas:audit-"

static int put(const char *dir, const char *name, const char *value)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "we");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", value);
	return fclose(f) == 0 ? 0 : -errno;
}

static int ctrl(const char *sys, unsigned k, const char *nqn, const char *type, const char *hostnqn)
{
	char d[4096];

	snprintf(d, sizeof(d), "%s/class/nvme/nvme%u", sys, k);
	if (mkdir(d, 0755) < 0)
		return -errno;
	return put(d, "subsysnqn", nqn)							     ?:
		       put(d, "transport", "tcp")					     ?:
		       put(d, "address", "traddr=127.0.0.1,trsvcid=8009,src_addr=127.0.0.1") ?:
		       put(d, "state", "live")						     ?:
		       put(d, "hostnqn", hostnqn)					     ?:
		       put(d, "cntrltype", type)					     ?:
		       put(d, "dctype", "none")						     ?:
		       put(d, "kato", "30");
}

int main(int argc, char **argv)
{
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_free_ struct dlpe *e = NULL;
	static const char *const dirs[] = { "", "/sys", "/sys/class", "/sys/class/nvme" };
	struct cache_dc dc = {};
	char path[4096], nqn[TID_NQN_MAX + 1];
	unsigned n;
	int r;

	if (argc != 4 || (n = (unsigned)atoi(argv[2])) == 0 || n > 10000) {
		fprintf(stderr, "Usage: audit-fixture DIR N HOSTNQN\n");
		return 2;
	}
	for (size_t k = 0; k < ELEMENTSOF(dirs); k++) {
		snprintf(path, sizeof(path), "%s%s", argv[1], dirs[k]);
		if (mkdir(path, 0755) < 0) {
			perror("audit-fixture: mkdir");
			return 1;
		}
	}
	snprintf(path, sizeof(path), "%s/sys", argv[1]);
	if (ctrl(path, 0, NVME_DISC_SUBSYS_NQN, "discovery", argv[3]) < 0) {
		perror("audit-fixture: sysfs");
		return 1;
	}
	e = calloc(n, sizeof(*e));
	if (!e)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		e[i] = (struct dlpe){ .trtype = 3,
				      .adrfam = 1,
				      .subtype = DLPE_SUBTYPE_NVME,
				      .treq = DLPE_TREQ_NOT_REQUIRED,
				      .portid = 1,
				      .cntlid = 0xffff,
				      .asqsz = 128 };
		strcpy(e[i].transport, "tcp");
		strcpy(e[i].trsvcid, "8009");
		strcpy(e[i].traddr, "127.0.0.1");
		snprintf(e[i].subnqn, sizeof(e[i].subnqn), SUB "%u", i + 1);
		snprintf(nqn, sizeof(nqn), SUB "%u", i + 1);
		if (ctrl(path, i + 1, nqn, "io", argv[3]) < 0) {
			perror("audit-fixture: sysfs");
			return 1;
		}
	}
	snprintf(path, sizeof(path), "%s/cache", argv[1]);
	r = cache_open(path, CACHE_RDWR, &c);
	if (r < 0) {
		fprintf(stderr, "audit-fixture: cache: %s\n", strerror(-r));
		return 1;
	}
	strcpy(dc.tid.transport, "tcp");
	strcpy(dc.tid.traddr, "127.0.0.1");
	strcpy(dc.tid.trsvcid, "8009");
	strcpy(dc.tid.subsysnqn, NVME_DISC_SUBSYS_NQN);
	snprintf(dc.tid.host_nqn, sizeof(dc.tid.host_nqn), "%s", argv[3]);
	dc.origin = CACHE_ORIGIN_MANUAL;
	dc.persistent = true;
	strcpy(dc.device, "nvme0");
	r = cache_dlp_put(c, &dc, e, n, 1, NULL);
	if (r < 0) {
		fprintf(stderr, "audit-fixture: page: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
