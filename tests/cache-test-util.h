/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache-test-util.h - fixtures shared by the cache tests: temporary cache
 * directories and generated DCs and DLP entries.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "dlpe.h"
#include "strv.h"
#include "tid.h"

static inline char *tmpdir_new(void)
{
	char *d = strdup("/tmp/test-cache-XXXXXX");
	if (!d || !mkdtemp(d)) {
		perror("mkdtemp");
		exit(1);
	}
	return d;
}

static inline void tmpdir_rm(char *d)
{
	char cmd[256];

	if (!d)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	(void)!system(cmd);
	free(d);
}

/* DC number @i: tcp 10.<i/256>.<i%256>.1:8009, well-known discovery NQN. */
static inline void test_dc(unsigned i, struct cache_dc *ret)
{
	memset(ret, 0, sizeof(*ret));
	strcpy(ret->tid.transport, "tcp");
	snprintf(ret->tid.traddr, sizeof(ret->tid.traddr), "10.%u.%u.1", (i >> 8) & 255, i & 255);
	strcpy(ret->tid.trsvcid, "8009");
	strcpy(ret->tid.subsysnqn, NVME_DISC_SUBSYS_NQN);
	strcpy(ret->tid.host_nqn,
	       "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001");
	ret->origin = CACHE_ORIGIN_CONFIG;
	ret->dctype = CACHE_DCTYPE_DDC;
	ret->kato = 30;
}

/* An I/O entry for subsystem "nqn.2024-01.io.test:sub<s>" at port @port. */
static inline void test_entry(unsigned s, unsigned port, struct dlpe *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->trtype = 3; /* tcp */
	ret->adrfam = 1; /* ipv4 */
	ret->subtype = DLPE_SUBTYPE_NVME;
	ret->treq = DLPE_TREQ_NOT_REQUIRED;
	ret->portid = (uint16_t)port;
	ret->cntlid = 0xffff;
	ret->asqsz = 32;
	strcpy(ret->transport, "tcp");
	strcpy(ret->trsvcid, "4420");
	snprintf(ret->traddr, sizeof(ret->traddr), "192.168.%u.%u", (port >> 8) & 255, port & 255);
	snprintf(ret->subnqn, sizeof(ret->subnqn), "nqn.2024-01.io.test:sub%u", s);
}

static inline void test_referral(unsigned i, struct dlpe *ret)
{
	test_entry(0, i, ret);
	ret->subtype = DLPE_SUBTYPE_REFERRAL;
	strcpy(ret->trsvcid, "8009");
	strcpy(ret->subnqn, NVME_DISC_SUBSYS_NQN);
}
