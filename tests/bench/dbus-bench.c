/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dbus-bench.c - helper of tests/bench/dbus.
 *
 *   dbus-bench seed DIR N_DC N_PER_DC   a cache of N_DC DCs x N_PER_DC entries
 *   dbus-bench time ROUNDS              time stas-cached's methods on the bus
 *                                       in DBUS_SYSTEM_BUS_ADDRESS (it must be
 *                                       running); prints "BENCH name ms" lines
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "cache.h"
#include "dlpe.h"
#include "macro.h"
#include "strv.h"
#include "tid.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int seed(const char *dir, unsigned n_dc, unsigned n_per)
{
	_cleanup_cache_ struct cache *c = NULL;
	_cleanup_free_ struct dlpe *e = calloc(n_per, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	r = cache_open(dir, CACHE_RDWR | CACHE_NOSYNC, &c);
	if (r < 0)
		return r;
	for (unsigned d = 0; d < n_dc; d++) {
		struct cache_dc dc = { .origin = CACHE_ORIGIN_CONFIG, .kato = 30 };

		strcpy(dc.tid.transport, "tcp");
		(void)snprintf(dc.tid.traddr, sizeof(dc.tid.traddr), "10.%u.%u.1", d / 250,
			       d % 250);
		strcpy(dc.tid.trsvcid, "8009");
		strcpy(dc.tid.subsysnqn, NVME_DISC_SUBSYS_NQN);
		for (unsigned i = 0; i < n_per; i++) {
			memset(&e[i], 0, sizeof(e[i]));
			e[i].trtype = 3;
			e[i].adrfam = 1;
			e[i].subtype = DLPE_SUBTYPE_NVME;
			e[i].treq = DLPE_TREQ_NOT_SPECIFIED;
			e[i].portid = (uint16_t)(i % 8);
			e[i].cntlid = 0xffff;
			e[i].asqsz = 32;
			strcpy(e[i].transport, "tcp");
			strcpy(e[i].trsvcid, "4420");
			(void)snprintf(e[i].traddr, sizeof(e[i].traddr), "10.%u.%u.%u", d / 250,
				       d % 250, 2 + i % 250);
			(void)snprintf(e[i].subnqn, sizeof(e[i].subnqn),
				       "nqn.1988-11.com.example:storage-array:subsystem-%04u",
				       (d * n_per + i) / 4);
		}
		r = cache_dlp_put(c, &dc, e, n_per, 1, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static double timed_call(sd_bus *bus, const char *dest, const char *path, const char *iface,
			 const char *member, size_t *ret_size, const char *types, ...)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	double t0 = now_ms(), t;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, dest, path, iface, member);
	if (r >= 0 && types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call(bus, m, 120 * 1000000ULL, &e, &reply);
	t = now_ms() - t0;
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", member, e.message ?: strerror(-r));
		t = -1;
	}
	if (ret_size && reply) {
		const char *s = NULL;
		*ret_size = 0;
		if (streq(member, "get_all_log_pages") && sd_bus_message_read(reply, "s", &s) > 0)
			*ret_size = strlen(s);
	}
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return t;
}

#define STAS "org.nvmexpress.stas", "/org/nvmexpress/stas", "org.nvmexpress.stas"
#define STAF "org.nvmexpress.staf", "/org/nvmexpress/staf", "org.nvmexpress.staf"

static int bench(unsigned rounds)
{
	_cleanup_strv_free_ char **keys = NULL;
	sd_bus *bus = NULL;
	sd_bus_message *reply = NULL;
	double best[6] = { 1e9, 1e9, 1e9, 1e9, 1e9, 1e9 }, t;
	size_t json = 0;
	const char *k, *v;
	int r;

	r = sd_bus_open_system(&bus);
	if (r < 0)
		return r;
	/* the DC keys, for the typed per-DC listing */
	r = sd_bus_call_method(bus, STAS, "ListDCs", NULL, &reply, NULL);
	if (r >= 0 && sd_bus_message_enter_container(reply, 'a', "a{sv}") > 0)
		while (sd_bus_message_enter_container(reply, 'a', "{sv}") > 0) {
			while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
				char type;
				const char *contents;

				(void)sd_bus_message_read(reply, "s", &k);
				(void)sd_bus_message_peek_type(reply, &type, &contents);
				if (streq(k, "key") && sd_bus_message_read(reply, "v", "s", &v) > 0)
					(void)strv_extend(&keys, v);
				else
					(void)sd_bus_message_skip(reply, "v");
				(void)sd_bus_message_exit_container(reply);
			}
			(void)sd_bus_message_exit_container(reply);
		}
	sd_bus_message_unref(reply);
	for (unsigned i = 0; i < rounds; i++) {
		best[0] = MIN(best[0], timed_call(bus, STAF, "get_all_log_pages", &json, "b", 0));
		best[1] = MIN(best[1], timed_call(bus, STAF, "get_all_log_pages", NULL, "b", 1));
		best[2] = MIN(best[2], timed_call(bus, STAS, "ListDCs", NULL, NULL));
		t = 0;
		STRV_FOREACH(key, keys)
			t += timed_call(bus, STAS, "GetDC", NULL, "s", *key);
		best[3] = MIN(best[3], t);
		best[4] = MIN(best[4], timed_call(bus, STAS, "ListSubsystems", NULL, NULL));
		best[5] = MIN(best[5], timed_call(bus, STAF, "list_controllers", NULL, "b", 0));
	}
	printf("BENCH get_all_log_pages %.1f\n", best[0]);
	printf("BENCH get_all_log_pages-detailed %.1f\n", best[1]);
	printf("BENCH get_all_log_pages-json-bytes %zu\n", json);
	printf("BENCH ListDCs %.1f\n", best[2]);
	printf("BENCH GetDC-all-%zu %.1f\n", strv_length(keys), best[3]);
	printf("BENCH ListSubsystems %.1f\n", best[4]);
	printf("BENCH list_controllers %.1f\n", best[5]);
	sd_bus_flush_close_unref(bus);
	return 0;
}

int main(int argc, char **argv)
{
	int r;

	if (argc == 5 && streq(argv[1], "seed"))
		r = seed(argv[2], (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
	else if (argc == 3 && streq(argv[1], "time"))
		r = bench((unsigned)atoi(argv[2]));
	else {
		fprintf(stderr, "usage: dbus-bench seed DIR N_DC N_PER_DC | time ROUNDS\n");
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "dbus-bench: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
