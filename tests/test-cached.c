/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-cached.c - stas-cached on a private bus (tests/cached-bus.test sets
 * it up: a dbus-daemon acting as the system bus, activation files starting
 * the build's stas-cached --idle-timeout=2 on a cache seeded by
 * tests/seed-cache). Every method and property of both APIs, malformed and
 * random calls, the change signals after a cache write, idle exit and
 * re-activation, and refusing to start when a name is taken.
 *
 *   test-cached CACHE_DIR
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cached-notify.h"
#include "dlpe.h"
#include "macro.h"
#include "strv.h"
#include "tap.h"
#include "tid.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define SUB1 "nqn.2024-01.io.test:sub1"
#define SUB2 "nqn.2024-01.io.test:sub2"
#define DISC NVME_DISC_SUBSYS_NQN
#define KEY10 "tcp/192.168.1.10/8009/" DISC "///" HOSTNQN
#define KEY12_PREFIX "tcp/192.168.1.12/8009/nqn.2024-01.io.test:a-very-long"

static sd_bus *bus;
static const char *test_cache_dir;

#define STAS "org.nvmexpress.stas", "/org/nvmexpress/stas", "org.nvmexpress.stas"
#define STAF "org.nvmexpress.staf", "/org/nvmexpress/staf", "org.nvmexpress.staf"
#define STAF_DEBUG "org.nvmexpress.staf", "/org/nvmexpress/staf", "org.nvmexpress.staf.debug"
#define STAC "org.nvmexpress.stac", "/org/nvmexpress/stac", "org.nvmexpress.stac"
#define STAC_DEBUG "org.nvmexpress.stac", "/org/nvmexpress/stac", "org.nvmexpress.stac.debug"

/* ---- a{ss} as a strv of key, value, key, value ... --------------------- */

static char **read_ss(sd_bus_message *m)
{
	char **l = NULL;
	const char *k, *v;

	if (sd_bus_message_enter_container(m, 'a', "{ss}") <= 0)
		return NULL;
	while (sd_bus_message_read(m, "{ss}", &k, &v) > 0)
		if (strv_extend(&l, k) < 0 || strv_extend(&l, v) < 0)
			abort();
	(void)sd_bus_message_exit_container(m);
	if (!l)
		l = calloc(1, sizeof(char *));
	return l;
}

static const char *ss_get(char **l, const char *key)
{
	for (char **p = l; p && p[0] && p[1]; p += 2)
		if (streq(p[0], key))
			return p[1];
	return NULL;
}

/* aa{ss}: count of dicts, each kept in @out (up to @max). */
static int read_aass(sd_bus_message *m, char ***out, int max)
{
	int n = 0;
	char **d;

	if (sd_bus_message_enter_container(m, 'a', "a{ss}") <= 0)
		return -1;
	while ((d = read_ss(m))) {
		if (n < max)
			out[n] = d;
		else
			strv_free(d);
		n++;
	}
	(void)sd_bus_message_exit_container(m);
	return n;
}

static void free_dicts(char ***v, int n)
{
	for (int i = 0; i < n; i++)
		strv_free(v[i]);
}

static bool dicts_have_secret(char ***v, int n)
{
	for (int i = 0; i < n; i++)
		for (char **p = v[i]; p && *p; p++)
			if (strstr(*p, "secret") || strstr(*p, "DHHC-1"))
				return true;
	return false;
}

static int call(const char *dest, const char *path, const char *iface, const char *member,
		sd_bus_error *e, sd_bus_message **reply, const char *types, ...)
{
	sd_bus_message *m = NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, dest, path, iface, member);
	if (r >= 0 && types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call(bus, m, 10 * 1000000ULL, e, reply);
	sd_bus_message_unref(m);
	return r;
}

/* ---- org.nvmexpress.stas ------------------------------------------------ */

static void test_properties(void)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *s = NULL;
	uint64_t t = 0;
	uint32_t u = 0;
	int r;

	r = sd_bus_get_property_trivial(bus, STAS, "DCCount", &e, 't', &t);
	ok(r >= 0 && t == 3, "DCCount is 3 (%" PRIu64 ")", t);
	r = sd_bus_get_property_trivial(bus, STAS, "EntryCount", &e, 't', &t);
	ok(r >= 0 && t == 7, "EntryCount is 7 (%" PRIu64 ")", t);
	r = sd_bus_get_property_trivial(bus, STAS, "SubsystemCount", &e, 't', &t);
	ok(r >= 0 && t == 3, "SubsystemCount is 3 (%" PRIu64 ")", t);
	r = sd_bus_get_property_trivial(bus, STAS, "PathCount", &e, 't', &t);
	ok(r >= 0 && t == 3, "PathCount is 3 (%" PRIu64 ")", t);
	r = sd_bus_get_property_trivial(bus, STAS, "CacheSchema", &e, 'u', &u);
	ok(r >= 0 && u == CACHE_SCHEMA_VERSION, "CacheSchema");
	r = sd_bus_get_property_trivial(bus, STAS, "CacheSize", &e, 't', &t);
	ok(r >= 0 && t > 0, "CacheSize > 0");
	r = sd_bus_get_property_string(bus, STAS, "CacheDirectory", &e, &s);
	ok(r >= 0 && streq(s, test_cache_dir), "CacheDirectory is the seeded cache");
	free(s);
	s = NULL;
	r = sd_bus_get_property_string(bus, STAS, "ConfigFile", &e, &s);
	ok(r >= 0 && s && s[0] == '/', "ConfigFile: %s", strempty(s));
	free(s);
	s = NULL;
	r = sd_bus_get_property_string(bus, STAS, "Version", &e, &s);
	ok(r >= 0 && s && *s, "Version: %s", strempty(s));
	free(s);
	for (const char *p = "HostNQN"; p; p = streq(p, "HostNQN") ? "HostID" : NULL) {
		s = NULL;
		r = sd_bus_get_property_string(bus, STAS, p, &e, &s);
		ok(r >= 0, "%s readable (%s)", p, strempty(s));
		free(s);
	}
	r = sd_bus_set_property(bus, STAS, "DCCount", &e, "t", (uint64_t)1);
	ok(r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_PROPERTY_READ_ONLY),
	   "Set DCCount refused: %s", strempty(e.name));
	sd_bus_error_free(&e);
}

/* Walk one a{sv} DC: the key, origin and state. */
static int read_dc(sd_bus_message *m, char *key, size_t ksize, char *origin, char *state)
{
	const char *k, *v;
	int r, n = 0;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r <= 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		char type;
		const char *contents;

		if (sd_bus_message_read(m, "s", &k) < 0)
			return -EBADMSG;
		if (sd_bus_message_peek_type(m, &type, &contents) < 0)
			return -EBADMSG;
		if (streq(contents, "s") &&
		    (streq(k, "key") || streq(k, "origin") || streq(k, "state"))) {
			if (sd_bus_message_read(m, "v", "s", &v) < 0)
				return -EBADMSG;
			(void)snprintf(streq(k, "key")	  ? key :
				       streq(k, "origin") ? origin :
							    state,
				       streq(k, "key") ? ksize : 16, "%s", v);
		} else if (sd_bus_message_skip(m, "v") < 0)
			return -EBADMSG;
		n++;
		if (sd_bus_message_exit_container(m) < 0)
			return -EBADMSG;
	}
	(void)sd_bus_message_exit_container(m);
	return n;
}

static void test_list_dcs(void)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char key[TID_KEY_MAX], origin[16], state[16];
	int r, n = 0, fields = 0;
	bool seen_stale = false, seen10 = false;

	r = call(STAS, "ListDCs", &e, &reply, NULL);
	ok(r >= 0, "ListDCs: %s", strempty(e.message));
	if (r >= 0 && sd_bus_message_enter_container(reply, 'a', "a{sv}") > 0) {
		while ((r = read_dc(reply, key, sizeof(key), origin, state)) > 0) {
			n++;
			fields += r;
			if (streq(key, KEY10))
				seen10 = streq(origin, "config") && streq(state, "ok");
			if (strstr(key, "192.168.1.11"))
				seen_stale = streq(state, "stale") && streq(origin, "referral");
		}
	}
	is_int(n, 3, "ListDCs lists 3 DCs");
	ok(fields >= 3 * 19, "every DC has its 19+ fields (%d)", fields);
	ok(seen10, "DC .10 is configured and ok");
	ok(seen_stale, "DC .11 is a stale referral");
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
}

static void test_get_dc(void)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char key[TID_KEY_MAX] = "", origin[16], state[16];
	int r, n = 0, referrals = 0;
	uint32_t index;
	const char *subtype, *transport, *adrfam, *traddr, *trsvcid, *subnqn, *treq;
	uint16_t portid, cntlid, asqsz, eflags;
	uint8_t sectype;
	bool first_ok = false;

	r = call(STAS, "GetDC", &e, &reply, "s", KEY10);
	ok(r >= 0, "GetDC(.10): %s", strempty(e.message));
	if (r >= 0) {
		ok(read_dc(reply, key, sizeof(key), origin, state) > 0 && streq(key, KEY10),
		   "GetDC returns the DC");
		if (sd_bus_message_enter_container(reply, 'a', "(usssssssqqqqy)") > 0)
			while (sd_bus_message_read(reply, "(usssssssqqqqy)", &index, &subtype,
						   &transport, &adrfam, &traddr, &trsvcid, &subnqn,
						   &treq, &portid, &cntlid, &asqsz, &eflags,
						   &sectype) > 0) {
				if (n == 0)
					first_ok = index == 0 && streq(subtype, "nvme subsystem") &&
						   streq(traddr, "192.168.1.20") &&
						   streq(subnqn, SUB1) && streq(adrfam, "ipv4") &&
						   streq(treq, "not required") && asqsz == 32;
				referrals += streq(subtype, "discovery subsystem referral");
				n++;
			}
	}
	is_int(n, 4, "GetDC(.10) has 4 entries");
	ok(first_ok, "entry 0 is sub1 at 192.168.1.20:4420");
	is_int(referrals, 1, "one referral entry");
	reply = sd_bus_message_unref(reply);
	sd_bus_error_free(&e);

	r = call(STAS, "GetDC", &e, &reply, "s", "tcp/192.168.1.99/8009/" DISC "///");
	ok(r < 0 && sd_bus_error_has_name(&e, "org.nvmexpress.stas.Error.NoSuchDC"),
	   "GetDC(unknown) -> NoSuchDC (%s)", strempty(e.name));
	sd_bus_error_free(&e);
	r = call(STAS, "GetDC", &e, &reply, "s", "not a key");
	ok(r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_INVALID_ARGS),
	   "GetDC(malformed) -> InvalidArgs (%s)", strempty(e.name));
	sd_bus_error_free(&e);
	r = call(STAS, "GetDC", &e, &reply, "s", "tcp/999.1.1.1/8009/" DISC "///");
	ok(r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_INVALID_ARGS),
	   "GetDC(bad address) -> InvalidArgs (%s)", strempty(e.name));
	sd_bus_error_free(&e);
}

static void test_subsystems(void)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *nqn, *a[6], *owner, *state, *err, *dev;
	uint32_t entries, paths, attempts;
	int32_t lerr;
	int ncc, r, n = 0;
	uint64_t upd;
	bool sub1 = false, sub3 = false, failed = false;

	r = call(STAS, "ListSubsystems", &e, &reply, NULL);
	ok(r >= 0, "ListSubsystems: %s", strempty(e.message));
	if (r >= 0 && sd_bus_message_enter_container(reply, 'a', "(suu)") > 0)
		while (sd_bus_message_read(reply, "(suu)", &nqn, &entries, &paths) > 0) {
			n++;
			if (streq(nqn, SUB1))
				sub1 = entries == 3 && paths == 2;
			if (streq(nqn, "nqn.2024-01.io.test:sub3"))
				sub3 = entries == 1 && paths == 0;
		}
	is_int(n, 3, "three subsystems");
	ok(sub1, "sub1: 3 entries, 2 paths");
	ok(sub3, "sub3: 1 entry, no path");
	reply = sd_bus_message_unref(reply);

	r = call(STAS, "GetSubsystemPaths", &e, &reply, "s", SUB2);
	ok(r >= 0, "GetSubsystemPaths(sub2): %s", strempty(e.message));
	n = 0;
	if (r >= 0 && sd_bus_message_enter_container(reply, 'a', "(ssssssssubisst)") > 0)
		while (sd_bus_message_read(reply, "(ssssssssubisst)", &a[0], &a[1], &a[2], &a[3],
					   &a[4], &a[5], &owner, &state, &attempts, &ncc, &lerr,
					   &err, &dev, &upd) > 0) {
			n++;
			failed = streq(a[1], "192.168.1.22") && streq(owner, "stas") &&
				 streq(state, "failed") && attempts == 3 && lerr == ECONNREFUSED &&
				 streq(err, "Connection refused");
		}
	is_int(n, 1, "sub2 has one path");
	ok(failed, "its owner, state, attempts and last error");
	reply = sd_bus_message_unref(reply);
	r = call(STAS, "GetSubsystemPaths", &e, &reply, "s", "no-nqn");
	ok(r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_INVALID_ARGS),
	   "GetSubsystemPaths(bad NQN) -> InvalidArgs");
	sd_bus_error_free(&e);
	r = call(STAS, "GetSubsystemPaths", &e, &reply, "s", "nqn.2024-01.io.test:none");
	ok(r >= 0, "GetSubsystemPaths(unknown NQN) -> empty list");
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
}

static void test_status(void)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *k, *contents;
	char type;
	int r, n = 0;
	unsigned seen = 0;

	r = call(STAS, "GetStatus", &e, &reply, NULL);
	ok(r >= 0, "GetStatus: %s", strempty(e.message));
	if (r >= 0 && sd_bus_message_enter_container(reply, 'a', "{sv}") > 0)
		while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
			(void)sd_bus_message_read(reply, "s", &k);
			(void)sd_bus_message_peek_type(reply, &type, &contents);
			if (streq(k, "dcs") && streq(contents, "aa{sv}")) {
				(void)sd_bus_message_enter_container(reply, 'v', "aa{sv}");
				(void)sd_bus_message_enter_container(reply, 'a', "a{sv}");
				while (sd_bus_message_skip(reply, "a{sv}") > 0)
					n++;
				(void)sd_bus_message_exit_container(reply);
				(void)sd_bus_message_exit_container(reply);
			} else
				(void)sd_bus_message_skip(reply, "v");
			seen |= streq(k, "host") << 0 | streq(k, "config") << 1 |
				streq(k, "cache") << 2 | streq(k, "dcs") << 3 |
				streq(k, "subsystems") << 4;
			(void)sd_bus_message_exit_container(reply);
		}
	is_int(seen, 0x1f, "GetStatus has host, config, cache, dcs, subsystems");
	is_int(n, 3, "GetStatus lists the 3 DCs");
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
}

/* ---- nvme-stas's API ------------------------------------------------------ */

static void test_staf(void)
{
	static const char *const cid_keys[] = { "transport", "traddr",	    "trsvcid",
						"subsysnqn", "host-traddr", "host-iface",
						"host-nqn",  "device" };
	static const char *const dlpe_keys[] = { "trtype", "adrfam",  "traddr", "trsvcid",
						 "subnqn", "subtype", "treq",	"portid",
						 "cntlid", "asqsz",   "eflags" };
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char **d[8] = {};
	int r, n;
	bool keys_ok = true;

	r = call(STAF, "list_controllers", &e, &reply, "b", 0);
	n = r >= 0 ? read_aass(reply, d, 8) : -1;
	is_int(n, 3, "staf list_controllers(False): 3 DCs");
	for (int i = 0; i < MIN(n, 8); i++) {
		keys_ok &= strv_length(d[i]) == 2 * ELEMENTSOF(cid_keys);
		for (size_t k = 0; k < ELEMENTSOF(cid_keys); k++)
			keys_ok &= ss_get(d[i], cid_keys[k]) != NULL;
	}
	ok(keys_ok, "each has exactly nvme-stas's controller ID keys");
	ok(n > 0 && streq_ptr(ss_get(d[0], "traddr"), "192.168.1.10") &&
		   streq_ptr(ss_get(d[0], "device"), "nvme0") &&
		   streq_ptr(ss_get(d[0], "host-nqn"), HOSTNQN),
	   "DC .10: device nvme0, its host NQN");
	ok(!dicts_have_secret(d, MIN(n, 8)), "no secret in list_controllers");
	free_dicts(d, MIN(n, 8));
	reply = sd_bus_message_unref(reply);

	r = call(STAF, "list_controllers", &e, &reply, "b", 1);
	n = r >= 0 ? read_aass(reply, d, 8) : -1;
	is_int(n, 3, "staf list_controllers(True): 3 DCs");
	ok(n == 3 && streq_ptr(ss_get(d[0], "origin"), "configured") &&
		   streq_ptr(ss_get(d[1], "origin"), "referral") && ss_get(d[0], "connected") &&
		   ss_get(d[0], "model"),
	   "detailed: origin words, connected, udev attributes");
	free_dicts(d, MIN(n, 8));
	reply = sd_bus_message_unref(reply);

	/* get_log_pages: canonical matching */
	struct {
		const char *a[7];
		int want;
		const char *what;
	} q[] = {
		{ { "tcp", "192.168.1.10", "8009", DISC, "", "", HOSTNQN }, 4, "exact" },
		{ { "TCP", "192.168.1.10", "", "", "", "", "" },
		  4,
		  "upper case, default trsvcid, unset" },
		{ { "tcp", "192.168.1.10", "8009", DISC, "", "", "" }, 4, "empty host NQN" },
		{ { "tcp", "192.168.1.12", "8009", DISC, "", "", HOSTNQN },
		  1,
		  "well-known NQN finds the DC with a unique NQN" },
		{ { "tcp", "192.168.1.10", "4420", DISC, "", "", "" }, 0, "other port: none" },
		{ { "tcp", "192.168.1.99", "8009", DISC, "", "", "" }, 0, "unknown DC: none" },
		{ { "tcp", "192.168.1.10", "8009", DISC, "", "", "nqn.2014-08.org.other:x" },
		  0,
		  "other host NQN: none" },
		{ { "", "", "", "", "", "", "" }, 0, "all empty: none" },
	};
	for (size_t i = 0; i < ELEMENTSOF(q); i++) {
		r = call(STAF, "get_log_pages", &e, &reply, "sssssss", q[i].a[0], q[i].a[1],
			 q[i].a[2], q[i].a[3], q[i].a[4], q[i].a[5], q[i].a[6]);
		n = r >= 0 ? read_aass(reply, d, 8) : -1;
		is_int(n, q[i].want, "get_log_pages %s", q[i].what);
		if (i == 0 && n == 4) {
			keys_ok = true;
			for (int j = 0; j < 4; j++) {
				keys_ok &= strv_length(d[j]) == 2 * ELEMENTSOF(dlpe_keys);
				for (size_t k = 0; k < ELEMENTSOF(dlpe_keys); k++)
					keys_ok &= ss_get(d[j], dlpe_keys[k]) != NULL;
			}
			ok(keys_ok, "entries have exactly libnvme's 11 keys");
			ok(streq_ptr(ss_get(d[0], "trtype"), "tcp") &&
				   streq_ptr(ss_get(d[0], "adrfam"), "ipv4") &&
				   streq_ptr(ss_get(d[0], "subtype"), "nvme") &&
				   streq_ptr(ss_get(d[0], "treq"), "not required") &&
				   streq_ptr(ss_get(d[0], "portid"), "1") &&
				   streq_ptr(ss_get(d[0], "cntlid"), "65535") &&
				   streq_ptr(ss_get(d[0], "asqsz"), "32") &&
				   streq_ptr(ss_get(d[0], "eflags"), "0") &&
				   streq_ptr(ss_get(d[3], "subtype"), "referral"),
			   "value words as libnvme's Python binding");
		}
		free_dicts(d, MIN(n, 8));
		reply = sd_bus_message_unref(reply);
		sd_bus_error_free(&e);
	}
	r = call(STAF, "get_log_pages", &e, &reply, "sssssss", "tcp", "not-an-ip", "8009", "", "",
		 "", "");
	ok(r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_INVALID_ARGS),
	   "get_log_pages(bad traddr) -> InvalidArgs");
	sd_bus_error_free(&e);
	r = call(STAF, "get_log_pages", &e, &reply, "sssssss", "tcp", "192.168.1.10", "8009",
		 "not-an-nqn", "", "", "");
	ok(r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_INVALID_ARGS),
	   "get_log_pages(bad NQN) -> InvalidArgs");
	sd_bus_error_free(&e);

	for (int detailed = 0; detailed < 2; detailed++) {
		const char *s = NULL;
		json_object *j = NULL, *dc, *pages;
		int counts[3] = {};

		r = call(STAF, "get_all_log_pages", &e, &reply, "b", detailed);
		if (r >= 0 && sd_bus_message_read(reply, "s", &s) > 0)
			j = json_tokener_parse(s);
		ok(j && json_object_is_type(j, json_type_array) && json_object_array_length(j) == 3,
		   "get_all_log_pages(%d): a JSON array of 3", detailed);
		for (size_t i = 0; j && i < MIN(json_object_array_length(j), 3u); i++) {
			json_object *o = json_object_array_get_idx(j, i);
			if (json_object_object_get_ex(o, "discovery-controller", &dc) &&
			    json_object_object_get_ex(o, "log-pages", &pages))
				counts[i] = (int)json_object_array_length(pages);
		}
		ok(counts[0] == 4 && counts[1] == 2 && counts[2] == 1,
		   "  with discovery-controller and log-pages (4, 2, 1)");
		ok(s && !strstr(s, "secret"), "  and no secret");
		json_object_put(j);
		reply = sd_bus_message_unref(reply);
	}
}

static void test_debug(void)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *s = NULL;
	char *level = NULL;
	int r, tron = -1;
	json_object *j;

	for (int o = 0; o < 2; o++) {
		const char *dest = o ? "org.nvmexpress.stac" : "org.nvmexpress.staf";
		const char *path = o ? "/org/nvmexpress/stac" : "/org/nvmexpress/staf";
		const char *iface = o ? "org.nvmexpress.stac.debug" : "org.nvmexpress.staf.debug";

		r = sd_bus_get_property_trivial(bus, dest, path, iface, "tron", &e, 'b', &tron);
		ok(r >= 0 && tron == 0, "%s tron reads false", iface);
		r = sd_bus_set_property(bus, dest, path, iface, "tron", &e, "b", 1);
		ok(r < 0 && sd_bus_error_has_name(&e, "org.nvmexpress.stas.Error.ReadOnly"),
		   "%s tron write -> ReadOnly (%s)", iface, strempty(e.message));
		sd_bus_error_free(&e);
		r = sd_bus_get_property_string(bus, dest, path, iface, "log_level", &e, &level);
		ok(r >= 0 && streq_ptr(level, "INFO"), "%s log_level INFO", iface);
		free(level);
		level = NULL;
		r = call(dest, path, iface, "process_info", &e, &reply, NULL);
		j = r >= 0 && sd_bus_message_read(reply, "s", &s) > 0 ? json_tokener_parse(s) :
									NULL;
		ok(j && json_object_object_get_ex(j, "hostnqn", NULL) &&
			   json_object_object_get_ex(j, "symname", NULL) &&
			   json_object_object_get_ex(j, "kernel", NULL) &&
			   json_object_object_get_ex(j, "tron", NULL),
		   "%s process_info: host ids, symname, kernel flags", iface);
		ok(s && !strstr(s, "secret\":\"") && !strstr(s, "hostkey") && !strstr(s, "DHHC"),
		   "%s process_info: no key", iface);
		json_object_put(j);
		reply = sd_bus_message_unref(reply);
	}

	r = call(STAF_DEBUG, "controller_info", &e, &reply, "sssssss", "tcp", "192.168.1.11",
		 "8009", DISC, "", "", "");
	j = r >= 0 && sd_bus_message_read(reply, "s", &s) > 0 ? json_tokener_parse(s) : NULL;
	ok(j && json_object_object_get_ex(j, "origin", NULL) && strstr(s, "read timed out"),
	   "staf controller_info(.11): origin, last error");
	json_object_put(j);
	reply = sd_bus_message_unref(reply);
	r = call(STAF_DEBUG, "controller_info", &e, &reply, "sssssss", "tcp", "10.9.9.9", "8009",
		 DISC, "", "", "");
	ok(r >= 0 && sd_bus_message_read(reply, "s", &s) > 0 && streq(s, "{}"),
	   "staf controller_info(unknown) -> {}");
	reply = sd_bus_message_unref(reply);
	r = call(STAC_DEBUG, "controller_info", &e, &reply, "sssssss", "tcp", "192.168.1.22",
		 "4420", SUB2, "", "", HOSTNQN);
	j = r >= 0 && sd_bus_message_read(reply, "s", &s) > 0 ? json_tokener_parse(s) : NULL;
	ok(j && strstr(s, "\"state\":\"failed\"") && strstr(s, "\"connect attempts\":\"3\""),
	   "stac controller_info(path): state and attempts");
	json_object_put(j);
	reply = sd_bus_message_unref(reply);
	r = call(STAC_DEBUG, "controller_info", &e, &reply, "sssssss", "tcp", "192.168.1.22",
		 "4420", SUB1, "", "", "");
	ok(r >= 0 && sd_bus_message_read(reply, "s", &s) > 0 && streq(s, "{}"),
	   "stac controller_info(unknown) -> {}");
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
}

static void test_stac(void)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char **d[8] = {};
	int r, n;
	bool found = false;

	r = call(STAC, "list_controllers", &e, &reply, "b", 0);
	n = r >= 0 ? read_aass(reply, d, 8) : -1;
	is_int(n, 3, "stac list_controllers(False): the 3 paths");
	for (int i = 0; i < MIN(n, 8); i++)
		found |= streq_ptr(ss_get(d[i], "traddr"), "192.168.1.22") &&
			 streq_ptr(ss_get(d[i], "subsysnqn"), SUB2) && strv_length(d[i]) == 16;
	ok(found, "a path with nvme-stas's 8 ID keys");
	free_dicts(d, MIN(n, 8));
	reply = sd_bus_message_unref(reply);
	r = call(STAC, "list_controllers", &e, &reply, "b", 1);
	n = r >= 0 ? read_aass(reply, d, 8) : -1;
	is_int(n, 3, "stac list_controllers(True)");
	found = false;
	for (int i = 0; i < MIN(n, 8); i++)
		found |= streq_ptr(ss_get(d[i], "traddr"), "192.168.1.22") &&
			 streq_ptr(ss_get(d[i], "connect attempts"), "3") && ss_get(d[i], "dlpe") &&
			 strstr(ss_get(d[i], "dlpe"), "'subnqn': '" SUB2) &&
			 streq_ptr(ss_get(d[i], "dlpe.eflags.ncc"), "False");
	ok(found, "detailed: attempts, the DLP entry, ncc");
	ok(!dicts_have_secret(d, MIN(n, 8)), "no secret in stac list_controllers");
	free_dicts(d, MIN(n, 8));
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
}

/* The members of stafd.idl/stacd.idl as sd-bus introspects them. */
static void test_introspection(void)
{
	static const char *const want[] = {
		"<interface name=\"org.nvmexpress.staf\">",
		"<method name=\"get_log_pages\">",
		"<arg type=\"sssssss\"",
		"<signal name=\"log_pages_changed\">",
		"<signal name=\"dc_removed\">",
		"<property name=\"tron\" type=\"b\" access=\"readwrite\">",
		"<property name=\"log_level\" type=\"s\" access=\"read\">",
	};
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *xml = NULL;
	int r;

	r = call("org.nvmexpress.staf", "/org/nvmexpress/staf",
		 "org.freedesktop.DBus.Introspectable", "Introspect", &e, &reply, NULL);
	ok(r >= 0 && sd_bus_message_read(reply, "s", &xml) > 0, "introspect staf");
	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		bool found = xml && strstr(xml, want[i]);
		/* sd-bus writes one <arg> per argument */
		if (!found && xml && streq(want[i], "<arg type=\"sssssss\""))
			found = strstr(xml, "<arg type=\"s\" name=\"host_nqn\" direction=\"in\"/>");
		ok(found, "introspection has %s", want[i]);
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
}

/* ---- malformed and random calls ---------------------------------------- */

static const struct {
	const char *dest, *path, *iface, *member;
} members[] = {
	{ STAS, "ListDCs" },
	{ STAS, "GetDC" },
	{ STAS, "ListSubsystems" },
	{ STAS, "GetSubsystemPaths" },
	{ STAS, "GetStatus" },
	{ STAF, "list_controllers" },
	{ STAF, "get_log_pages" },
	{ STAF, "get_all_log_pages" },
	{ STAF, "no_such_method" },
	{ STAF_DEBUG, "process_info" },
	{ STAF_DEBUG, "controller_info" },
	{ STAC, "list_controllers" },
	{ STAC_DEBUG, "controller_info" },
	{ "org.nvmexpress.stac", "/org/nvmexpress/nothing", "org.nvmexpress.stac", "x" },
	{ STAS, "Notify" },
};

static unsigned rnd(unsigned n)
{
	return (unsigned)random() % n;
}

static char *random_string(void)
{
	static const char *const pool[] = {
		"",
		"tcp",
		"TCP",
		"rdma",
		"fc",
		"loop",
		"192.168.1.10",
		"::1",
		"fe80::1%lo",
		"[::1]",
		"8009",
		"0",
		"65536",
		"-1",
		DISC,
		SUB1,
		"nqn.",
		"nqn.x y",
		"none",
		KEY10,
		"tcp/192.168.1.10",
		"%ZZ",
		"eth0",
		"../../etc",
		"nvme0",
		"a/b/c/d/e/f/g",
	};
	unsigned kind = rnd(5);
	size_t len;
	char *s;

	if (kind < 3)
		return strdup(pool[rnd(ELEMENTSOF(pool))]);
	len = kind == 3 ? rnd(300) : 60000 + rnd(6000); /* up to 64 KiB */
	s = malloc(len + 1);
	if (!s)
		abort();
	for (size_t i = 0; i < len; i++)
		s[i] = (char)(0x20 + rnd(0x5f)); /* printable ASCII; sd-bus refuses invalid UTF-8 */
	s[len] = '\0';
	return s;
}

static int append_random(sd_bus_message *m)
{
	unsigned n = rnd(9);
	int r = 0;

	for (unsigned i = 0; r >= 0 && i < n; i++) {
		switch (rnd(7)) {
		case 0:
		case 1:
		case 2: {
			_cleanup_free_ char *s = random_string();
			r = sd_bus_message_append_basic(m, 's', s);
			break;
		}
		case 3:
			r = sd_bus_message_append(m, "b", (int)rnd(2));
			break;
		case 4:
			r = sd_bus_message_append(m, "u", (uint32_t)random());
			break;
		case 5:
			r = sd_bus_message_append(m, "as", 2, "x", "y");
			break;
		default:
			r = sd_bus_message_append(m, "a{sv}", 1, "k", "i", 3);
			break;
		}
	}
	return r;
}

/* The right signature with random strings, or a random signature. */
static int append_shaped(sd_bus_message *m, const char *member)
{
	char *a[7];
	int r;

	for (int i = 0; i < 7; i++)
		a[i] = random_string();
	if (streq(member, "get_log_pages") || streq(member, "controller_info"))
		r = sd_bus_message_append(m, "sssssss", a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
	else if (streq(member, "GetDC") || streq(member, "GetSubsystemPaths"))
		r = sd_bus_message_append(m, "s", a[0]);
	else if (streq(member, "Notify"))
		r = sd_bus_message_append(m, "asas", 1, a[0], 1, a[1]);
	else
		r = sd_bus_message_append(m, "b", (int)rnd(2));
	for (int i = 0; i < 7; i++)
		free(a[i]);
	return r;
}

static void test_random(unsigned n_calls)
{
	unsigned replies = 0, errors = 0, timeouts = 0;

	srandom(12345);
	for (unsigned i = 0; i < n_calls; i++) {
		unsigned k = rnd(ELEMENTSOF(members));
		sd_bus_error e = SD_BUS_ERROR_NULL;
		sd_bus_message *m = NULL, *reply = NULL;
		int r;

		r = sd_bus_message_new_method_call(bus, &m, members[k].dest, members[k].path,
						   members[k].iface, members[k].member);
		if (r >= 0)
			r = rnd(2) ? append_shaped(m, members[k].member) : append_random(m);
		if (r >= 0)
			r = sd_bus_call(bus, m, 10 * 1000000ULL, &e, &reply);
		if (r >= 0)
			replies++;
		else if (r == -ETIMEDOUT)
			timeouts++;
		else if (sd_bus_error_is_set(&e))
			errors++;
		sd_bus_message_unref(m);
		sd_bus_message_unref(reply);
		sd_bus_error_free(&e);
	}
	is_int(timeouts, 0, "%u random calls: %u replies, %u errors, no timeout", n_calls, replies,
	       errors);
	ok(replies + errors == n_calls, "every call was answered");
	ok(call(STAS, "ListDCs", NULL, NULL, NULL) >= 0, "the service is alive afterwards");
}

/* ---- change signals ------------------------------------------------------ */

struct seen {
	unsigned changed, removed, typed_changed, typed_removed, paths;
	char traddr[64], device[32];
};

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct seen *s = userdata;
	const char *a[8];

	if (sd_bus_message_is_signal(m, "org.nvmexpress.staf", "log_pages_changed")) {
		if (sd_bus_message_read(m, "ssssssss", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5],
					&a[6], &a[7]) >= 0) {
			(void)snprintf(s->traddr, sizeof(s->traddr), "%s", a[1]);
			(void)snprintf(s->device, sizeof(s->device), "%s", a[7]);
		}
		s->changed++;
	} else if (sd_bus_message_is_signal(m, "org.nvmexpress.staf", "dc_removed"))
		s->removed++;
	else if (sd_bus_message_is_signal(m, "org.nvmexpress.stas", "LogPagesChanged"))
		s->typed_changed++;
	else if (sd_bus_message_is_signal(m, "org.nvmexpress.stas", "DCRemoved"))
		s->typed_removed++;
	else if (sd_bus_message_is_signal(m, "org.nvmexpress.stas", "PathsChanged"))
		s->paths++;
	return 0;
}

/* Process the bus for @ms milliseconds. */
static void pump(unsigned ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= (long)ms)
			return;
		if (sd_bus_process(bus, NULL) > 0)
			continue;
		(void)sd_bus_wait(bus, (uint64_t)(ms - el) * 1000);
	}
}

static int notify(char **keys, char **nqns)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, STAS, "Notify");
	if (r >= 0)
		r = sd_bus_message_append_strv(m, keys);
	if (r >= 0)
		r = sd_bus_message_append_strv(m, nqns);
	if (r >= 0)
		r = sd_bus_call(bus, m, 10 * 1000000ULL, NULL, NULL);
	sd_bus_message_unref(m);
	return r;
}

static void test_signals(void)
{
	_cleanup_cache_ struct cache *c = NULL;
	struct seen s = {};
	struct cache_dc dc;
	struct dlpe *e = NULL;
	size_t n = 0;
	struct tid t;
	int r;

	r = sd_bus_match_signal(bus, NULL, NULL, NULL, "org.nvmexpress.staf", NULL, on_signal, &s);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, NULL, NULL, "org.nvmexpress.stas", NULL,
					on_signal, &s);
	ok(r >= 0, "subscribed to the signals");

	/* Nothing changed: nothing is sent. */
	ok(notify(NULL, NULL) >= 0, "Notify() with nothing changed");
	pump(500);
	ok(s.changed + s.removed + s.typed_changed + s.typed_removed == 0,
	   "no signal without a change");

	/* A new page for DC .10 */
	r = cache_open(test_cache_dir, CACHE_RDWR | CACHE_NOSYNC, &c);
	ok(r >= 0, "open the cache for writing");
	(void)tid_from_key(KEY10, &t);
	if (r >= 0 && cache_dc_get(c, &t, &dc) > 0 && cache_dlp_get(c, &t, &e, &n) > 0 && n > 1) {
		strcpy(e[0].traddr, "192.168.1.30");
		r = cache_dlp_put(c, &dc, e, n - 1, dc.genctr + 1, NULL);
		is_int(r, 1, "page of .10 changed in the cache");
	}
	free(e);
	ok(notify((char *[]){ (char *)KEY10, NULL }, NULL) >= 0, "Notify(.10)");
	pump(700);
	is_int(s.changed, 1, "log_pages_changed sent once");
	is_str(s.traddr, "192.168.1.10", "  for the DC .10");
	is_str(s.device, "nvme0", "  with its device");
	is_int(s.typed_changed, 1, "LogPagesChanged sent once");

	/* The same Notify() again: the service sees no change. */
	ok(notify((char *[]){ (char *)KEY10, NULL }, NULL) >= 0, "Notify(.10) again");
	pump(500);
	is_int(s.changed, 1, "no second log_pages_changed for the same page");

	/* A DC purged behind its back, then any Notify() */
	(void)tid_from_key("tcp/192.168.1.11/8009/" DISC "///" HOSTNQN, &t);
	is_int(cache_dc_purge(c, &t), 1, "purge DC .11");
	ok(notify(NULL, (char *[]){ (char *)SUB2, NULL }) >= 0, "Notify(paths of sub2)");
	pump(700);
	is_int(s.removed, 1, "dc_removed sent");
	is_int(s.typed_removed, 1, "DCRemoved sent");
	is_int(s.paths, 1, "PathsChanged sent");

	/* The library call the helpers use: fire and forget. */
	r = cached_notify_changed(NULL, (char *[]){ (char *)SUB1, NULL });
	is_int(r, 1, "cached_notify_changed() sends");
	pump(700);
	is_int(s.paths, 2, "and the service signals");

	r = call(STAS, "Notify", NULL, NULL, "asas", 1, "garbage", 0);
	ok(r < 0, "Notify(malformed key) refused");
}

/* A caller that is not root may not call Notify(). */
static void test_notify_not_root(void)
{
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		ok(1, "# SKIP not root: cannot test a non-root caller");
		return;
	}
	pid = fork();
	if (pid == 0) {
		sd_bus *b = NULL;
		sd_bus_error e = SD_BUS_ERROR_NULL;
		int r;

		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(3);
		r = sd_bus_open_system(&b);
		if (r < 0)
			_exit(4);
		r = sd_bus_call_method(b, STAS, "Notify", &e, NULL, "asas", 0, 0);
		_exit(r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED) ? 0 : 1);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		   WEXITSTATUS(status) == 0,
	   "Notify() from uid 65534 -> AccessDenied (exit %d)",
	   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* ---- idle exit and re-activation ---------------------------------------- */

static pid_t owner_pid(const char *name)
{
	sd_bus_creds *c = NULL;
	pid_t pid = 0;

	if (sd_bus_get_name_creds(bus, name, SD_BUS_CREDS_PID, &c) >= 0)
		(void)sd_bus_creds_get_pid(c, &pid);
	sd_bus_creds_unref(c);
	return pid;
}

static void test_idle(void)
{
	pid_t p1, p2;
	bool gone = false;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	ok(call(STAS, "ListDCs", NULL, NULL, NULL) >= 0, "a call activates the service");
	p1 = owner_pid("org.nvmexpress.stas");
	ok(p1 > 0, "it owns org.nvmexpress.stas (pid %d)", (int)p1);
	ok(owner_pid("org.nvmexpress.staf") == p1 && owner_pid("org.nvmexpress.stac") == p1,
	   "and org.nvmexpress.staf/.stac");
	for (int i = 0; i < 80 && !gone; i++) {
		usleep(100000);
		gone = kill(p1, 0) < 0 && errno == ESRCH;
	}
	ok(gone, "it exits after the idle timeout");
	ok(owner_pid("org.nvmexpress.stas") == 0, "and the name is free");
	ok(call(STAF, "list_controllers", NULL, NULL, "b", 0) >= 0,
	   "a call to org.nvmexpress.staf activates it again");
	p2 = owner_pid("org.nvmexpress.stas");
	ok(p2 > 0 && p2 != p1, "a new process (pid %d)", (int)p2);

	/* Someone else owns org.nvmexpress.staf: the service refuses to start. */
	for (int i = 0; i < 80 && kill(p2, 0) == 0; i++)
		usleep(100000);
	r = sd_bus_request_name(bus, "org.nvmexpress.staf", 0);
	ok(r >= 0, "the test owns org.nvmexpress.staf");
	r = call(STAS, "ListDCs", &e, NULL, NULL);
	ok(r < 0, "stas-cached refuses to start (%s)", strempty(e.name));
	sd_bus_error_free(&e);
	(void)sd_bus_release_name(bus, "org.nvmexpress.staf");
	ok(call(STAS, "ListDCs", NULL, NULL, NULL) >= 0, "and starts once the name is free");
}

int main(int argc, char **argv)
{
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: test-cached CACHE_DIR\n");
		return 2;
	}
	test_cache_dir = argv[1];
	r = sd_bus_open_system(&bus);
	if (r < 0)
		tap_skip_all("no private bus (DBUS_SYSTEM_BUS_ADDRESS)");

	test_properties();
	test_list_dcs();
	test_get_dc();
	test_subsystems();
	test_status();
	test_staf();
	test_stac();
	test_debug();
	test_introspection();
	test_random(3000);
	test_notify_not_root();
	test_signals();
	test_idle();
	sd_bus_flush_close_unref(bus);
	return tap_done();
}
