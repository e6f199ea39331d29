/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exclusion lists (nvme-cli's exclusions.conf format) and single entries.
 * Properties: no crash, no leak; a match names a line that exists and an
 * entry that matches on its own; an entry that matches alone matches when
 * written as the only line of a list; matching is a conjunction, so an entry
 * that matches a connection with every field set also matches it with the
 * host-side fields the entry names removed only if it names none of them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exclusions.h"
#include "fuzz.h"
#include "macro.h"
#include "tid.h"

static struct tid conns[4];
static bool ready;

static void set(struct tid *t, enum tid_field f, const char *v)
{
	if (tid_field_set(t, f, v) < 0)
		abort();
}

static void init(void)
{
	set(&conns[0], TID_FIELD_TRANSPORT, "tcp");
	set(&conns[0], TID_FIELD_TRADDR, "192.168.1.20");
	set(&conns[0], TID_FIELD_TRSVCID, "4420");
	set(&conns[0], TID_FIELD_SUBSYSNQN, "nqn.2024-01.com.example:vol1");
	set(&conns[0], TID_FIELD_HOST_TRADDR, "192.168.1.2");
	set(&conns[0], TID_FIELD_HOST_IFACE, "eth0");
	set(&conns[0], TID_FIELD_HOST_NQN, "nqn.2014-08.org.nvmexpress:uuid:host");

	set(&conns[1], TID_FIELD_TRANSPORT, "rdma");
	set(&conns[1], TID_FIELD_TRADDR, "fd00::20");
	set(&conns[1], TID_FIELD_TRSVCID, "4420");
	set(&conns[1], TID_FIELD_SUBSYSNQN, "nqn.2024-01.com.example:vol1");
	set(&conns[1], TID_FIELD_HOST_TRADDR, "fe80::2%eth1");

	set(&conns[2], TID_FIELD_TRANSPORT, "fc");
	set(&conns[2], TID_FIELD_TRADDR, "nn-0x20000090fa000001:pn-0x10000090fa000001");
	set(&conns[2], TID_FIELD_SUBSYSNQN, "nqn.2024-01.com.example:vol1");
	set(&conns[2], TID_FIELD_HOST_TRADDR, "nn-0x20000090fa0000aa:pn-0x10000090fa0000aa");

	set(&conns[3], TID_FIELD_TRANSPORT, "loop");
	set(&conns[3], TID_FIELD_SUBSYSNQN, "nqn.2014-08.org.nvmexpress.discovery");

	for (size_t i = 0; i < ELEMENTSOF(conns); i++)
		if (tid_canonicalize(&conns[i]) < 0)
			abort();
	ready = true;
}

static unsigned count_lines(const uint8_t *data, size_t size)
{
	unsigned n = 0;

	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n')
			n++;
	return n + (size > 0 && data[size - 1] != '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = NULL, *list = NULL;
	int len;

	if (!ready)
		init();
	if (size > EXCLUSIONS_FILE_MAX)
		return 0;

	for (size_t c = 0; c < ELEMENTSOF(conns); c++) {
		struct exclusions_target tg = { .tid = &conns[c],
						.hostid = c == 0 ? "hid-0" : NULL };
		struct exclusions_match m = {};

		/* The input as a whole list. */
		if (exclusions_match_text("fuzz", (const char *)data, size, &tg, &m) > 0) {
			if (m.line < 1 || m.line > count_lines(data, size))
				abort();
			if (exclusions_entry_matches(m.entry, &tg, NULL) != 1)
				abort();
		}
	}

	/* The input as one entry value. */
	s = fuzz_strndup(data, size);
	if (!s || strlen(s) != size || strchr(s, '\n') || size > 1000)
		return 0;
	len = asprintf(&list, "[exclusions]\nexclusion = %s\n", s);
	if (len < 0)
		return 0;
	for (size_t c = 0; c < ELEMENTSOF(conns); c++) {
		struct exclusions_target tg = { .tid = &conns[c],
						.hostid = c == 0 ? "hid-0" : NULL };
		struct tid bare = conns[c];
		struct exclusions_target tb = { .tid = &bare };
		int r = exclusions_entry_matches(s, &tg, NULL);

		if (r < 0 && r != -EINVAL && r != -ENOMEM)
			abort();
		if (r == 1 && exclusions_match_text("fuzz", list, (size_t)len, &tg, NULL) != 1)
			abort();
		if (r != 1 && exclusions_match_text("fuzz", list, (size_t)len, &tg, NULL) != 0)
			abort();
		/* Removing values from the connection never turns a non-match into a match. */
		bare.host_traddr[0] = bare.host_iface[0] = bare.host_nqn[0] = '\0';
		if (r != 1 && exclusions_entry_matches(s, &tb, NULL) == 1)
			abort();
	}
	return 0;
}
