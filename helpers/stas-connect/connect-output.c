/* SPDX-License-Identifier: Apache-2.0 */
/*
 * connect-output.c - plans as JSON objects, and those objects as text.
 *
 * Every plan is turned into a JSON object once, whether it was made in this
 * process or in a worker of --all (which sends it down a pipe), and both
 * outputs are rendered from that object.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "reconcile.h"
#include "stas-connect.h"
#include "tid.h"

static void add_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(strempty(v)));
}

static void add_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static const char *obj_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "";
	return strempty(json_object_get_string(v));
}

static int64_t obj_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

static struct json_object *tid_to_json(const struct tid *t)
{
	struct json_object *o = json_object_new_object();

	for (unsigned f = 0; f < _TID_FIELD_MAX; f++)
		if (!isempty(tid_field_get(t, f)))
			add_str(o, tid_field_to_string(f), tid_field_get(t, f));
	return o;
}

struct json_object *plan_to_json(const struct reconcile_plan *p, bool dry_run)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();
	struct json_object *counts = json_object_new_object();
	char buf[TID_FORMAT_MAX];

	add_str(o, "nqn", p->nqn);
	for (size_t i = 0; i < p->n_items; i++) {
		const struct reconcile_item *it = &p->items[i];
		struct json_object *x = json_object_new_object();

		add_str(x, "action", reconcile_action_to_string(it->action));
		add_str(x, "path", tid_format(&it->tid, buf, sizeof(buf)));
		json_object_object_add(x, "tid", tid_to_json(&it->tid));
		if (!isempty(it->ctrl))
			add_str(x, "controller", it->ctrl);
		if (!isempty(it->reason))
			add_str(x, "reason", it->reason);
		if (!isempty(it->source))
			add_str(x, "source", it->source);
		if (it->ncc)
			json_object_object_add(x, "ncc", json_object_new_boolean(true));
		if (it->have_record) {
			add_str(x, "owner", cache_path_owner_to_string(it->record.owner));
			add_int(x, "attempts", it->record.attempts);
		}
		if (!dry_run &&
		    (it->action == RECONCILE_CONNECT || it->action == RECONCILE_DISCONNECT)) {
			add_str(x, "result", it->error ? "failed" : "done");
			if (it->error)
				add_str(x, "error", it->error_text);
		}
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "actions", a);
	for (unsigned i = 0; i < _RECONCILE_ACTION_MAX; i++)
		add_int(counts, reconcile_action_to_string(i), p->n[i]);
	json_object_object_add(o, "counts", counts);
	add_int(o, "kernel-calls", dry_run ? 0 : p->n_kernel_calls);
	add_int(o, "cache-writes", dry_run ? 0 : p->n_cache_writes);
	add_int(o, "failed", dry_run ? 0 : p->n_failed);
	return o;
}

struct json_object *plan_error_to_json(const char *nqn, int error)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "nqn", nqn);
	add_str(o, "error", strerror(-error));
	add_int(o, "failed", 0);
	return o;
}

void output_plan_text(struct json_object *o, bool dry_run, bool verbose)
{
	struct json_object *a;
	const char *nqn = obj_str(o, "nqn");

	if (!json_object_object_get_ex(o, "actions", &a)) {
		log_error("%s: cannot reconcile: %s", nqn, obj_str(o, "error"));
		return;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *x = json_object_array_get_idx(a, i);
		const char *action = obj_str(x, "action"), *ctrl = obj_str(x, "controller");
		const char *reason = obj_str(x, "reason"), *path = obj_str(x, "path");
		const char *result = obj_str(x, "result");

		if (streq(result, "failed")) {
			/* One line per failed path, on stderr (the journal under systemd). */
			log_error("%s %s failed: %s", action, path, obj_str(x, "error"));
			continue;
		}
		/* A path an exclusion keeps out: say which rule, once per run (journal). */
		if (!dry_run && !verbose && str_startswith(reason, "excluded by ")) {
			log_info("%s %s: %s", action, path, reason);
			continue;
		}
		if (!dry_run && !verbose && !streq(result, "done"))
			continue;
		printf("%s%s %s%s%s%s%s%s\n", dry_run ? "" : "done: ", action, path,
		       *ctrl ? " [" : "", ctrl, *ctrl ? "]" : "", *reason ? ": " : "", reason);
	}
}

int output_summary(struct json_object *subsystems, bool json, bool dry_run, bool verbose)
{
	static const char *const keys[] = { "connect", "keep", "disconnect", "skip", "forget" };
	int64_t totals[ELEMENTSOF(keys)] = {}, kcalls = 0, cwrites = 0, failed = 0, broken = 0;
	size_t n = json_object_array_length(subsystems);

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(subsystems, i), *counts;

		if (!json_object_object_get_ex(o, "counts", &counts)) {
			broken++;
			continue;
		}
		for (size_t k = 0; k < ELEMENTSOF(keys); k++)
			totals[k] += obj_int(counts, keys[k]);
		kcalls += obj_int(o, "kernel-calls");
		cwrites += obj_int(o, "cache-writes");
		failed += obj_int(o, "failed");
	}

	if (json) {
		struct json_object *doc = json_object_new_object(), *c = json_object_new_object();

		json_object_object_add(doc, "dry-run", json_object_new_boolean(dry_run));
		json_object_object_add(doc, "subsystems", json_object_get(subsystems));
		for (size_t k = 0; k < ELEMENTSOF(keys); k++)
			add_int(c, keys[k], totals[k]);
		json_object_object_add(doc, "counts", c);
		add_int(doc, "kernel-calls", kcalls);
		add_int(doc, "cache-writes", cwrites);
		add_int(doc, "failed", failed);
		add_int(doc, "errors", broken);
		printf("%s\n",
		       json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	} else if (verbose || dry_run) {
		printf("%zu subsystem(s): connect %" PRId64 ", keep %" PRId64
		       ", disconnect %" PRId64 ", skip %" PRId64 ", forget %" PRId64 "; %" PRId64
		       " kernel call(s), %" PRId64 " cache write(s), %" PRId64 " failed\n",
		       n, totals[0], totals[1], totals[2], totals[3], totals[4], kcalls, cwrites,
		       failed);
	}
	return (int)(failed + broken);
}
