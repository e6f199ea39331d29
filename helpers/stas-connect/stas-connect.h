/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stas-connect.h - what the files of stas-connect share.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "reconcile.h"

/* Exit statuses (see stas-connect(8)). */
enum {
	EXIT_PATHS_FAILED = 1, /* some wanted path is not live, or a fatal error */
	EXIT_USAGE = 2, /* bad arguments, invalid NQN */
	EXIT_CONFIG = 6, /* the configuration has errors (LSB "not configured") */
};

/**
 * plan_to_json() - one subsystem's plan (and results unless @dry_run) as a
 * JSON object: {"nqn", "actions": [...], "counts": {...}, "kernel-calls",
 * "cache-writes", "failed"}. Never contains a secret.
 */
struct json_object *plan_to_json(const struct reconcile_plan *p, bool dry_run);

/**
 * plan_error_to_json() - the object for an NQN whose reconcile could not
 * even be planned (@error: negative errno).
 */
struct json_object *plan_error_to_json(const char *nqn, int error);

/**
 * output_plan_text() - print a plan object as text: with @dry_run every
 * action ("connect X", "keep Y (nvme3)", "disconnect Z (nvme4): reason",
 * "skip W (reason)"), otherwise what was done; failures go to stderr as
 * one line per failed path.
 */
void output_plan_text(struct json_object *o, bool dry_run, bool verbose);

/**
 * output_summary() - the whole run: with @json the document
 * {"dry-run", "subsystems": [...], "counts": {...}, "kernel-calls",
 * "cache-writes", "failed"} on stdout; otherwise a one-line summary when
 * @verbose. Return: the number of failed paths plus subsystems that could
 * not be reconciled.
 */
int output_summary(struct json_object *subsystems, bool json, bool dry_run, bool verbose);

/**
 * connect_shutdown() - disconnect every controller the cache in @cache_dir
 * (NULL: the default) says stas made: I/O controllers with an owner=stas
 * path record, then stas's persistent discovery controllers (see
 * connect-shutdown.c). With @dry_run print "disconnect nvmeN (...)" instead.
 * Return: the number disconnected, or negative errno when reading the cache
 * or any disconnect failed (the others are still done).
 */
int connect_shutdown(const char *cache_dir, bool dry_run);

/**
 * connect_nbft() - the boot path's first step (--all): every subsystem path
 * the host's NBFT tables name (nbft.h) that has no usable controller is
 * connected with the table's host NQN and host ID, registered owner "nbft"
 * in nvme-cli's registry and recorded owner=other in the cache @c, so no
 * disconnect scope and no --shutdown ever removes it. A live one without a
 * registry entry (connected by the initramfs) is registered owner "nbft".
 * With @dry_run print "connect (nbft) X" / "keep (nbft) X (nvmeN)" only.
 * Return: the number of paths that failed to connect (>= 0), or -ENOMEM.
 */
int connect_nbft(struct cache *c, bool dry_run);
