/* SPDX-License-Identifier: Apache-2.0 */
/*
 * connect-shutdown.c - "stas-connect --shutdown": disconnect the controllers
 * stas made, before the network goes down (stas-shutdown.service's ExecStop,
 * see stas-units(7)), so that a reboot does not hang on I/O controllers whose
 * transport is gone.
 *
 * What is stas's, from the cache alone (read-only; nothing is written, so a
 * shutdown never leaves a half-written record):
 *  - an I/O controller whose transport ID equals a path record with
 *    owner=stas (the kernel refuses a second controller with the same
 *    transport ID, so the ID names one controller);
 *  - a discovery controller that a DC record names as its persistent
 *    connection (device), with the same transport ID, unless the DC came
 *    from udev (then someone else connected it; stas-discover's retire rule).
 *  - a controller nvme-cli's registry (/run/nvme/registry) gives to "stas".
 * Everything else (connected by an admin, nvme-cli, the initramfs) is left
 * alone, and so is any controller the registry gives to another
 * orchestrator, even when the cache says stas made it (issue 14). stas's
 * registry entry is removed just before each disconnect. The configuration is not read: an error in it must not keep the
 * volumes connected while the network stops.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "kernel.h"
#include "log.h"
#include "macro.h"
#include "reconcile.h"
#include "registry.h"
#include "stas-connect.h"
#include "tid.h"

struct owned {
	struct tid *paths;
	size_t n_paths, alloc_paths;
	struct cache_dc *dcs;
	size_t n_dcs, alloc_dcs;
};

static void owned_done(struct owned *o)
{
	free(o->paths);
	free(o->dcs);
}

static int collect_path(const struct cache_path *p, void *userdata)
{
	struct owned *o = userdata;

	if (p->owner != CACHE_PATH_OWNER_STAS)
		return 0;
	if (GREEDY_REALLOC(o->paths, o->alloc_paths, o->n_paths) < 0)
		return -ENOMEM;
	o->paths[o->n_paths++] = p->tid;
	return 0;
}

static int collect_dc(const struct cache_dc *dc, void *userdata)
{
	struct owned *o = userdata;

	if (isempty(dc->device) || dc->origin == CACHE_ORIGIN_UDEV)
		return 0;
	if (GREEDY_REALLOC(o->dcs, o->alloc_dcs, o->n_dcs) < 0)
		return -ENOMEM;
	o->dcs[o->n_dcs++] = *dc;
	return 0;
}

static bool is_stas_io(const struct owned *o, const struct kctrl *k)
{
	for (size_t i = 0; i < o->n_paths; i++)
		if (tid_equal(&o->paths[i], &k->tid))
			return true;
	return false;
}

static bool is_stas_dc(const struct owned *o, const struct kctrl *k)
{
	for (size_t i = 0; i < o->n_dcs; i++)
		if (streq(o->dcs[i].device, k->name) && tid_equal(&o->dcs[i].tid, &k->tid))
			return true;
	return false;
}

/* Read what stas owns, then close the cache before any kernel call. */
static int owned_read(const char *cache_dir, struct owned *o)
{
	_cleanup_cache_ struct cache *c = NULL;
	int r;

	r = cache_open(cache_dir, CACHE_RDONLY, &c);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return log_error_errno(r, "Failed to open the cache in %s: %m",
				       cache_dir ?: cache_default_dir());
	r = cache_path_foreach(c, NULL, collect_path, o);
	if (r < 0)
		return log_error_errno(r, "Failed to read the path records: %m");
	r = cache_dc_foreach(c, collect_dc, o);
	if (r < 0)
		return log_error_errno(r, "Failed to read the discovery controller records: %m");
	return 1;
}

/* One pass over @v: the I/O controllers (@discovery false) or the DCs. */
static int disconnect_pass(const struct owned *o, const struct kctrl *v, size_t n, bool discovery,
			   bool dry_run, unsigned *n_done)
{
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		const struct kctrl *k = &v[i];
		char buf[TID_FORMAT_MAX];
		int r;

		if (!k->fabrics || k->discovery != discovery || streq(k->state, "deleting"))
			continue;
		tid_format(&k->tid, buf, sizeof(buf));
		if (k->owner_unreadable ||
		    (!isempty(k->owner) && !streq(k->owner, REGISTRY_OWNER_STAS))) {
			if (discovery ? is_stas_dc(o, k) : is_stas_io(o, k))
				log_notice("Leaving %s %s alone: the registry gives it to %s.",
					   k->name, buf,
					   k->owner_unreadable ? "someone (unreadable entry)" :
								 k->owner);
			continue;
		}
		if (!streq(k->owner, REGISTRY_OWNER_STAS) &&
		    (discovery ? !is_stas_dc(o, k) : !is_stas_io(o, k)))
			continue;
		if (dry_run) {
			printf("disconnect %s %s\n", k->name, buf);
			continue;
		}
		r = registry_unregister(registry_root(), k->name, REGISTRY_OWNER_STAS);
		if (r < 0) {
			log_error_errno(
				r, "Not disconnecting %s %s: its registry entry %s: %m", k->name,
				buf, r == -EPERM ? "names another owner now" : "cannot be updated");
			if (ret == 0)
				ret = r;
			continue;
		}
		r = kernel_disconnect(k->name);
		if (r == -ENOENT)
			continue; /* gone meanwhile: that is what we wanted */
		if (r < 0) {
			/* Still there: still stas's. */
			(void)registry_register(registry_root(), k->name, REGISTRY_OWNER_STAS,
						NULL);
			log_error_errno(r, "Failed to disconnect %s %s: %m", k->name, buf);
			if (ret == 0)
				ret = r;
			continue;
		}
		log_info("Disconnected %s %s (was %s).", k->name, buf, k->state);
		(*n_done)++;
	}
	return ret;
}

int connect_shutdown(const char *cache_dir, bool dry_run)
{
	_cleanup_(owned_done) struct owned o = {};
	_cleanup_free_ struct kctrl *v = NULL;
	unsigned done = 0;
	int r, n, ret;

	r = owned_read(cache_dir, &o);
	if (r < 0)
		return r;

	n = kernel_ctrls_scan(NULL, true, false, &v);
	if (n < 0)
		return log_error_errno(n, "Failed to list the kernel's NVMe controllers: %m");
	reconcile_ctrls_fill_owner(v, (size_t)n);

	/* I/O controllers first: a DC holds no file system. */
	ret = disconnect_pass(&o, v, (size_t)n, false, dry_run, &done);
	r = disconnect_pass(&o, v, (size_t)n, true, dry_run, &done);
	if (r < 0 && ret == 0)
		ret = r;
	if (!dry_run)
		log_info("Disconnected %u controller(s) of stas's%s.", done,
			 ret < 0 ? "; some could not be disconnected" : "");
	return ret < 0 ? ret : (int)MIN(done, (unsigned)INT_MAX);
}
