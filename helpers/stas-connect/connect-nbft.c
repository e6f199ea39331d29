/* SPDX-License-Identifier: Apache-2.0 */
/*
 * connect-nbft.c - the subsystems the boot firmware connected (NBFT), as
 * nvme-cli's "connect-all --nbft" connects them in the initramfs: with the
 * table's host identity, over the HFI's address (host-traddr), once each.
 * They are the boot disk's paths: stas never disconnects them (registry
 * owner "nbft", and reconcile treats any NBFT path as another owner's even
 * when the registry has no entry - lib/reconcile.c's fill-owner step).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cache.h"
#include "kernel.h"
#include "log.h"
#include "macro.h"
#include "nbft.h"
#include "registry.h"
#include "stas-connect.h"

static void record(struct cache *c, const struct tid *t, enum cache_path_state state,
		   const char *device, int error, const char *text)
{
	struct cache_path p = { .tid = *t, .owner = CACHE_PATH_OWNER_OTHER, .state = state };
	int r;

	if (!c || !cache_writable(c))
		return;
	(void)strscpy_checked(p.device, sizeof(p.device), strempty(device));
	if (error) {
		p.last_errno = -error;
		(void)strscpy_checked(p.last_error, sizeof(p.last_error), strempty(text));
		p.attempts = 1;
	}
	r = cache_path_put(c, &p);
	if (r < 0)
		log_warning_errno(r, "Failed to record the NBFT path in the cache, ignoring: %m");
}

static void adopt(const struct kctrl *k)
{
	struct registry_entry e;
	int r;

	r = registry_entry_get(registry_root(), k->name, &e);
	if (r != 0)
		return; /* someone's, or unreadable: leave it */
	r = registry_register(registry_root(), k->name, REGISTRY_OWNER_NBFT, NULL);
	if (r < 0)
		log_warning_errno(r, "Failed to register %s owner nbft, ignoring: %m", k->name);
}

static int connect_one(struct cache *c, const struct nbft *t, const struct nbft_subsys *s,
		       bool dry_run)
{
	_cleanup_free_ struct kctrl *v = NULL;
	const struct kernel_ifaddr *ifa = NULL;
	char buf[TID_FORMAT_MAX], name[KCTRL_NAME_MAX + 1] = "";
	struct kconn_opts o = {
		.hostid = isempty(t->host_id) ? NULL : t->host_id,
		.hdr_digest = s->hdr_digest,
		.data_digest = s->data_digest,
	};
	struct kernel_error err;
	int n, n_ifa, r;

	(void)tid_format(&s->tid, buf, sizeof(buf));
	n = kernel_ctrls_scan(s->tid.subsysnqn, false, false, &v);
	if (n < 0)
		return log_error_errno(n, "Cannot list the controllers of %s: %m",
				       s->tid.subsysnqn);
	n_ifa = kernel_iface_addrs(&ifa);
	for (int i = 0; i < n; i++)
		if (kctrl_is_usable(&v[i]) &&
		    kctrl_path_matches(&v[i], &s->tid, ifa, n_ifa > 0 ? (size_t)n_ifa : 0)) {
			if (dry_run) {
				printf("keep (nbft) %s (%s)\n", buf, v[i].name);
				return 0;
			}
			adopt(&v[i]);
			record(c, &s->tid, CACHE_PATH_CONNECTED, v[i].name, 0, NULL);
			log_debug("NBFT path %s is live as %s.", buf, v[i].name);
			return 0;
		}
	if (dry_run) {
		printf("connect (nbft) %s\n", buf);
		return 0;
	}
	r = kernel_connect(&s->tid, &o, false, &err, name);
	if (r < 0) {
		log_error("Failed to connect NBFT path %s (from %s): %s", buf, strempty(t->path),
			  kernel_error_message(&err, r));
		record(c, &s->tid, CACHE_PATH_FAILED, NULL, r, kernel_error_message(&err, r));
		return r;
	}
	r = registry_register(registry_root(), name, REGISTRY_OWNER_NBFT, NULL);
	if (r < 0)
		log_warning_errno(r, "Failed to register %s owner nbft, ignoring: %m", name);
	record(c, &s->tid, CACHE_PATH_CONNECTED, name, 0, NULL);
	log_info("Connected NBFT path %s as %s.", buf, name);
	return 0;
}

int connect_nbft(struct cache *c, bool dry_run)
{
	_cleanup_strv_free_ char **errors = NULL;
	struct nbft **v = NULL;
	int n, failed = 0;

	n = nbft_load_all(&v, &errors);
	if (n < 0)
		return log_oom();
	STRV_FOREACH(e, errors)
		log_error("Ignoring NBFT table %s.", *e);
	for (struct nbft **t = v; t && *t; t++) {
		STRV_FOREACH(p, (*t)->problems)
			log_warning("%s: %s; that descriptor is ignored.", (*t)->path, *p);
		for (size_t i = 0; i < (*t)->n_subsys; i++) {
			const struct nbft_subsys *s = &(*t)->subsys[i];

			/* a discovery subsystem is the DC's business (stas-discover) */
			if (streq(s->tid.subsysnqn, NVME_DISC_SUBSYS_NQN))
				continue;
			if (connect_one(c, *t, s, dry_run) < 0)
				failed++;
		}
	}
	nbft_list_free(v);
	return failed;
}
