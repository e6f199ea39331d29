/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stas-cached.h - the context of stas-cached and what its files share.
 *
 *   stas-cached.c    main(): options, the bus and event loop, names, idle exit
 *   cached-stas.c    org.nvmexpress.stas: stas's own typed interface
 *   cached-compat.c  org.nvmexpress.staf/.stac (+ .debug): nvme-stas's API
 *   cached-signal.c  Notify(): re-read the cache, emit the change signals
 *   cached-vocab.c   nvme-stas's / libnvme's words for DLP entry fields
 *
 * Everything runs on one sd-event loop; method handlers only read the cache
 * (one short LMDB read transaction each) and sysfs.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cache.h"
#include "tid.h"

#define STAF_BUS_NAME "org.nvmexpress.staf"
#define STAF_OBJECT_PATH "/org/nvmexpress/staf"
#define STAF_INTERFACE "org.nvmexpress.staf"
#define STAF_DEBUG_INTERFACE "org.nvmexpress.staf.debug"
#define STAC_BUS_NAME "org.nvmexpress.stac"
#define STAC_OBJECT_PATH "/org/nvmexpress/stac"
#define STAC_INTERFACE "org.nvmexpress.stac"
#define STAC_DEBUG_INTERFACE "org.nvmexpress.stac.debug"

/* D-Bus errors of our own (stas-dbus(7)). */
#define CACHED_ERROR_NO_SUCH_DC "org.nvmexpress.stas.Error.NoSuchDC"
#define CACHED_ERROR_READ_ONLY "org.nvmexpress.stas.Error.ReadOnly"
#define CACHED_ERROR_CACHE "org.nvmexpress.stas.Error.CacheUnavailable"

/* Longest string argument we look at; longer ones are refused up front. */
#define CACHED_ARG_MAX 4096

/* A DC's fingerprint: what tells a real change of its page. */
struct dc_fp {
	char *key; /* tid_key() */
	struct tid tid;
	char device[CACHE_DEVICE_MAX + 1];
	uint64_t genctr;
	uint32_t n_entries;
	uint64_t entries_hash;
};

struct context {
	sd_event *event;
	sd_bus *bus;
	sd_bus_slot *slots[7];

	const char *cache_dir; /* NULL: cache_default_dir() */
	const char *config_path; /* NULL: the default file */
	struct cache *cache; /* opened on first use; NULL while there is no cache */
	char *hostnqn; /* /etc/nvme/hostnqn, NULL when unreadable */
	uint64_t idle_usec; /* 0: never exit */
	bool compat; /* own org.nvmexpress.staf and .stac */
	bool exiting;
	unsigned names_releasing;

	/* cached-signal.c: the DCs as last seen, and whether a Notify() has been
	 * handled since (the first one after activation trusts its caller). */
	struct dc_fp *fps;
	size_t n_fps;
	bool notified;
};

/* stas-cached.c */
/*
 * The cache, opened read-only on first use. Return: 1 and *ret, 0 when there
 * is no cache yet (*ret = NULL: an empty state), or a negative errno with
 * @error set.
 */
int context_cache(struct context *ctx, sd_bus_error *error, struct cache **ret);
/* Fail a method with a cache error (sets @error, returns its errno). */
int cached_error_cache(sd_bus_error *error, int r);
/* Refuse a string argument longer than CACHED_ARG_MAX (InvalidArgs). */
int cached_check_args(sd_bus_error *error, const char *const *args, size_t n);

/* cached-stas.c */
extern const sd_bus_vtable stas_vtable[];

/* cached-compat.c */
extern const sd_bus_vtable staf_vtable[];
extern const sd_bus_vtable staf_debug_vtable[];
extern const sd_bus_vtable stac_vtable[];
extern const sd_bus_vtable stac_debug_vtable[];
/* The seven-string controller ID of nvme-stas, as a{ss} into @m. */
int compat_append_cid(sd_bus_message *m, const struct context *ctx, const struct tid *t,
		      const char *device);

/* cached-signal.c */
int fps_take(struct context *ctx, struct dc_fp **ret, size_t *ret_n);
void fps_free(struct dc_fp *v, size_t n);
int method_notify(sd_bus_message *m, void *userdata, sd_bus_error *error);
