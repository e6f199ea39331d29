/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm-registry.c - nvme-cli's controller ownership registry
 * (/run/nvme/registry, lib/registry.h) as stasadm shows and maintains it:
 *
 *   stasadm registry [list]             every entry, with its controller
 *   stasadm registry remove DEV SEQNUM  the kernel's remove event (udev)
 *
 * and the live-controller table ("stasadm paths", "stasadm status"): each
 * kernel fabrics controller with its state, registry owner and src_addr.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "log.h"
#include "macro.h"
#include "reconcile.h"
#include "registry.h"
#include "stasadm-cache.h"
#include "stasadm-registry.h"
#include "stasadm.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)
#define _cleanup_json_ _cleanup_(json_object_putp)

int live_ctrls(const char *nqn, struct kctrl **ret)
{
	struct kctrl *v = NULL;
	int n;

	n = kernel_ctrls_scan(nqn, true, false, &v);
	if (n < 0)
		return n;
	reconcile_ctrls_fill_owner(v, (size_t)n);
	*ret = v;
	return n;
}

static const char *owner_text(const struct kctrl *k)
{
	return k->owner_unreadable ? "(unreadable)" : isempty(k->owner) ? "-" : k->owner;
}

/* What the kernel tells of the controller itself (Identify Controller), for the views. */
static const char *const ctrl_ids[] = { "model", "serial" };

json_object *kctrl_to_json(const struct kctrl *k)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "device", json_object_new_string(k->name));
	json_object_object_add(o, "tid", tid_to_json(&k->tid));
	json_object_object_add(o, "discovery", json_object_new_boolean(k->discovery));
	json_object_object_add(o, "state", json_object_new_string(k->state));
	json_object_object_add(o, "src-addr",
			       isempty(k->src_addr) ? NULL : json_object_new_string(k->src_addr));
	json_object_object_add(o, "owner",
			       isempty(k->owner) ? NULL : json_object_new_string(k->owner));
	json_object_object_add(o, "owner-unreadable", json_object_new_boolean(k->owner_unreadable));
	for (size_t i = 0; i < ELEMENTSOF(ctrl_ids); i++) {
		char v[256];

		json_object_object_add(o, ctrl_ids[i],
				       kernel_ctrl_attr(k->name, ctrl_ids[i], v, sizeof(v)) < 0 ||
						       isempty(v) ?
					       NULL :
					       json_object_new_string(v));
	}
	return o;
}

void live_ctrls_print(const struct kctrl *v, size_t n)
{
	printf("%-7s %-4s %-10s %-10s %-5s %-30s %-6s %-8s %-18s %-20s %-20s %s\n", "DEVICE",
	       "TYPE", "STATE", "OWNER", "TRANS", "TRADDR", "SVCID", "IFACE", "SRC-ADDR", "MODEL",
	       "SERIAL", "SUBSYSNQN");
	for (size_t i = 0; i < n; i++) {
		const struct kctrl *k = &v[i];
		char e[8][ESC_MAX], model[256], serial[256];

		if (kernel_ctrl_attr(k->name, "model", model, sizeof(model)) < 0)
			model[0] = '\0';
		if (kernel_ctrl_attr(k->name, "serial", serial, sizeof(serial)) < 0)
			serial[0] = '\0';
		printf("%-7s %-4s %-10s %-10s %-5s %-30s %-6s %-8s %-18s %-20s %-20s %s\n", k->name,
		       k->discovery ? "dc" : "io", esc(k->state, e[0], ESC_MAX),
		       esc(owner_text(k), e[1], ESC_MAX), k->tid.transport,
		       esc(k->tid.traddr, e[2], ESC_MAX), k->tid.trsvcid,
		       isempty(k->tid.host_iface) ? "-" : esc(k->tid.host_iface, e[3], ESC_MAX),
		       isempty(k->src_addr) ? "-" : esc(k->src_addr, e[4], ESC_MAX),
		       isempty(model) ? "-" : esc(model, e[6], ESC_MAX),
		       isempty(serial) ? "-" : esc(serial, e[7], ESC_MAX),
		       esc(k->tid.subsysnqn, e[5], ESC_MAX));
	}
}

static inline void closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

static int names_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	/* nvme2 before nvme10 */
	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

static int registry_list(void)
{
	const char *root = registry_root();
	_cleanup_(closedirp) DIR *d = NULL;
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_json_ json_object *a = NULL;
	char dir[PATH_MAX];
	size_t n = 0, alloc = 0;
	struct dirent *de;
	int ret = 0;

	(void)snprintf(dir, sizeof(dir), "%s%s", strempty(root), REGISTRY_DIR);
	d = opendir(dir);
	if (!d && errno != ENOENT)
		return log_error_errno(errno, "Cannot read %s: %m", dir), 1;
	while (d && (errno = 0, de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue; /* temporary or being removed: not an entry */
		if (GREEDY_REALLOC(names, alloc, n + 2) < 0)
			return log_oom(), 1;
		names[n] = strdup(de->d_name);
		if (!names[n])
			return log_oom(), 1;
		names[++n] = NULL;
	}
	if (n > 0)
		qsort(names, n, sizeof(char *), names_cmp);

	if (arg_json)
		a = json_object_new_array();
	else
		printf("%-10s %-12s %12s %-10s %s\n", "DEVICE", "OWNER", "SEQNUM", "STATE",
		       "CONTROLLER");
	for (size_t i = 0; i < n; i++) {
		struct registry_entry e = {};
		struct kctrl k = {};
		char buf[TID_FORMAT_MAX], ebuf[3][ESC_MAX];
		bool valid = registry_device_is_valid(names[i]);
		int r = valid ? registry_entry_get(root, names[i], &e) : -EINVAL;
		int kr = valid ? kernel_ctrl_read(names[i], &k) : -EINVAL;

		if (r < 0 && r != -EINVAL)
			ret = 1;
		if (a) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "device", json_object_new_string(names[i]));
			json_object_object_add(o, "owner",
					       r > 0 ? json_object_new_string(e.owner) : NULL);
			json_object_object_add(o, "seqnum", json_object_new_uint64(e.seqnum));
			if (r < 0)
				json_object_object_add(o, "error",
						       json_object_new_string(strerror(-r)));
			json_object_object_add(o, "controller", kr >= 0 ? kctrl_to_json(&k) : NULL);
			json_object_array_add(a, o);
			continue;
		}
		printf("%-10s %-12s %12" PRIu64 " %-10s %s\n", esc(names[i], ebuf[0], ESC_MAX),
		       r > 0  ? esc(e.owner, ebuf[1], ESC_MAX) :
		       r == 0 ? "-" :
				"(malformed)",
		       e.seqnum, kr >= 0 ? esc(k.state, ebuf[2], ESC_MAX) : "gone",
		       kr >= 0 ? tid_format(&k.tid, buf, sizeof(buf)) : "-");
	}
	if (a)
		json_print(a);
	return ret;
}

/*
 * For the udev rule (rules.d/70-stas-autoconnect.rules): the kernel removed
 * controller DEV, whose remove event had sequence number SEQNUM. Quiet: the
 * rule has nobody to talk to; failures go to the log.
 */
static int registry_remove(const char *device, const char *seqnum)
{
	uint64_t seq;
	int r;

	if (!registry_device_is_valid(device))
		return log_error("Invalid controller name '%s'.", device), EXIT_USAGE;
	r = registry_seqnum_parse(seqnum, &seq);
	if (r < 0)
		return log_error("Invalid uevent sequence number '%s'.", seqnum), EXIT_USAGE;
	r = registry_remove_event(registry_root(), device, seq);
	if (r < 0)
		return log_error_errno(r, "Failed to remove the registry entry of %s: %m", device),
		       1;
	log_debug("%s: registry entry %s.", device, r > 0 ? "removed" : "kept (or none)");
	return 0;
}

int verb_registry(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTIONS,
		{},
	};
	const char *cmd;
	int o;

	while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (o == 'h') {
			printf("Usage: stasadm registry [list] [--json]\n"
			       "       stasadm registry remove DEVICE SEQNUM\n\n"
			       "nvme-cli's controller ownership registry (" REGISTRY_DIR "):\n"
			       "  list     every entry: owner, connect-time stamp, controller\n"
			       "  remove   drop DEVICE's entry for its kernel remove event SEQNUM,\n"
			       "           guarded as libnvme's rule does (used by stas's udev rule)\n");
			return 0;
		}
		if (o == '?' || !common_option(o, optarg))
			return EXIT_USAGE;
	}
	cmd = optind < argc ? argv[optind++] : "list";
	if (streq(cmd, "list")) {
		if (optind < argc)
			return log_error("Usage: stasadm registry list [--json]"), EXIT_USAGE;
		return registry_list();
	}
	if (streq(cmd, "remove")) {
		if (argc - optind != 2)
			return log_error("Usage: stasadm registry remove DEVICE SEQNUM"),
			       EXIT_USAGE;
		return registry_remove(argv[optind], argv[optind + 1]);
	}
	log_error("Unknown registry command '%s'; see 'stasadm registry --help'.", cmd);
	return EXIT_USAGE;
}
