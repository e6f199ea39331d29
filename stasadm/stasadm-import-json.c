/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm-import-json - nvme-cli's /etc/nvme/config.json (libnvme's JSON
 * configuration, read by "nvme connect-all" and "nvme connect") into
 * stas.conf entries.
 *
 * The file is either an array of hosts (libnvme 1.x) or { "hosts": [...] }
 * (later). A host has hostnqn, hostid, dhchap_key, hostsymname,
 * persistent_discovery_ctrl and subsystems; a subsystem has nqn and ports;
 * a port has the transport ID (transport, traddr, trsvcid, host_traddr,
 * host_iface), the keys (dhchap_key, dhchap_ctrl_key, tls_key, keyring,
 * tls_key_identity) and the connect options with underscores
 * (keep_alive_tmo, nr_io_queues, ...), plus "discovery" / "persistent".
 *
 * Translation: a port of the well-known discovery subsystem, or marked
 * "discovery", becomes a discovery controller; every other port an I/O
 * controller of its subsystem. Each entry carries its host's NQN and ID
 * (stas has one host identity and per-controller overrides, so several
 * hosts keep theirs), and the host's dhchap_key where the port has none,
 * as libnvme does. JSON has no line numbers: problems name the element
 * ("FILE: hosts[0].subsystems[1].ports[0]").
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "macro.h"
#include "nvme-opts.h"
#include "tid.h"

#include "stasadm-import.h"

/* The values a host passes down to its ports. */
struct host_ctx {
	const char *nqn, *id, *key;
};

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* @key of a port as a stas.conf key/value pair into @f; false: not translated (reported). */
static bool port_option(struct import *im, const char *where, const char *key,
			struct json_object *v, bool discovery, FILE *f)
{
	char name[64];
	const struct nvme_opt *o;

	/* connect option names with '-' (fast_io_fail_tmo and tls_key keep theirs) */
	o = nvme_opt_from_name(key);
	if (!o) {
		(void)snprintf(name, sizeof(name), "%s", key);
		for (char *p = name; *p; p++)
			if (*p == '_')
				*p = '-';
		o = nvme_opt_from_name(name);
	}
	if (!o || !o->key || o->field >= 0 || o->type == NVME_OPT_SECRET ||
	    (discovery && o->io_only)) {
		if (o && o->io_only && discovery)
			untranslated(im, where, 0,
				     "'%s' not translated: not an option of discovery controllers",
				     key);
		else
			untranslated(im, where, 0, "'%s' not translated: %s (value not shown)",
				     config_value_mask(NULL, key),
				     o && o->why ? o->why : "not a libnvme port option stas knows");
		return false;
	}
	if (o->type == NVME_OPT_BOOL) {
		if (!json_object_is_type(v, json_type_boolean)) {
			untranslated(im, where, 0, "'%s' not translated: not a boolean", key);
			return false;
		}
		fprintf(f, " %s = %s;", o->key, json_object_get_boolean(v) ? "true" : "false");
		return true;
	}
	if (!json_object_is_type(v, json_type_int)) {
		untranslated(im, where, 0, "'%s' not translated: not an integer", key);
		return false;
	}
	fprintf(f, " %s = %" PRId64 ";", o->key, json_object_get_int64(v));
	return true;
}

static int import_port(struct import *im, const char *file, const char *where,
		       const struct host_ctx *h, const char *nqn, struct json_object *port)
{
	static const char *const tid_keys[][2] = {
		{ "transport", "transport" },	{ "traddr", "traddr" },
		{ "trsvcid", "trsvcid" },	{ "host_traddr", "host-traddr" },
		{ "host_iface", "host-iface" },
	};
	_cleanup_erase_free_ char *body = NULL;
	size_t size = 0;
	struct json_object *v;
	bool discovery = streq(nqn, NVME_DISC_SUBSYS_NQN);
	const char *key;
	FILE *f;

	(void)file;
	if (!json_object_is_type(port, json_type_object)) {
		untranslated(im, where, 0, "not translated: not an object");
		return 0;
	}
	if (json_object_object_get_ex(port, "discovery", &v) && json_object_get_boolean(v))
		discovery = true;
	f = open_memstream(&body, &size);
	if (!f)
		return log_oom();

	for (size_t i = 0; i < ELEMENTSOF(tid_keys); i++) {
		const char *s = json_str(port, tid_keys[i][0]);
		_cleanup_free_ char *q = NULL;

		if (!s || isempty(s) || streq(s, "none"))
			continue;
		q = import_quote(s);
		if (!q) {
			fclose(f);
			return log_oom();
		}
		fprintf(f, " %s = %s;", tid_keys[i][1], q);
	}
	if (!discovery || !streq(nqn, NVME_DISC_SUBSYS_NQN)) {
		_cleanup_free_ char *q = import_quote(nqn);
		if (!q) {
			fclose(f);
			return log_oom();
		}
		fprintf(f, " nqn = %s;", q);
	}
	/* the host's identity travels with each of its controllers */
	if (h->nqn) {
		_cleanup_free_ char *q = import_quote(h->nqn);
		if (!q) {
			fclose(f);
			return log_oom();
		}
		fprintf(f, " host-nqn = %s;", q);
	}
	if (h->id) {
		_cleanup_free_ char *q = import_quote(h->id);
		if (!q) {
			fclose(f);
			return log_oom();
		}
		fprintf(f, " host-id = %s;", q);
	}
	/* secrets: the port's, else (host secret) the host's */
	key = json_str(port, "dhchap_key") ?: h->key;
	if (key && !isempty(key)) {
		_cleanup_erase_free_ char *q = import_quote(key);
		if (!q) {
			fclose(f);
			return log_oom();
		}
		fprintf(f, " dhchap-secret = %s;", q);
	}
	key = json_str(port, "dhchap_ctrl_key");
	if (key && !isempty(key)) {
		_cleanup_erase_free_ char *q = import_quote(key);
		if (!q) {
			fclose(f);
			return log_oom();
		}
		fprintf(f, " dhchap-ctrl-secret = %s;", q);
	}
	/* libnvme's "tls_key" is the configured PSK itself (interchange format), not a serial */
	key = json_str(port, "tls_key");
	if (key && !isempty(key)) {
		_cleanup_erase_free_ char *q = import_quote(key);
		if (!q) {
			fclose(f);
			return log_oom();
		}
		fprintf(f, " tls-key = %s;", q);
	}

	json_object_object_foreach(port, k, val)
	{
		bool handled = false;

		for (size_t i = 0; i < ELEMENTSOF(tid_keys); i++)
			handled |= streq(k, tid_keys[i][0]);
		if (handled || streq(k, "dhchap_key") || streq(k, "dhchap_ctrl_key") ||
		    streq(k, "tls_key") || streq(k, "discovery"))
			continue;
		if (streq(k, "persistent")) {
			if (!json_object_get_boolean(val) && discovery)
				untranslated(im, where, 0,
					     "'persistent = false' not translated: %s",
					     CONFIG_PERSISTENT_FALSE_REFUSED);
			continue;
		}
		(void)port_option(im, where, k, val, discovery, f);
	}
	if (fclose(f) != 0)
		return log_oom();
	return import_add_entry(im, discovery ? SEC_DISC : SEC_IO, false,
				body[0] == ' ' ? body + 1 : body, where, 0);
}

static int import_host(struct import *im, const char *file, size_t hi, struct json_object *host,
		       bool *symname_set)
{
	struct host_ctx h = {};
	struct json_object *subsystems, *v;
	_cleanup_free_ char *where = NULL;
	const char *sym;

	if (asprintf(&where, "%s: hosts[%zu]", file, hi) < 0)
		return log_oom();
	if (!json_object_is_type(host, json_type_object)) {
		untranslated(im, where, 0, "not translated: not an object");
		return 0;
	}
	h.nqn = json_str(host, "hostnqn");
	h.id = json_str(host, "hostid");
	h.key = json_str(host, "dhchap_key");
	sym = json_str(host, "hostsymname");
	if (sym && !isempty(sym)) {
		if (!*symname_set) {
			int r = import_add_string_item(im, SEC_HOST, "symname", sym, where, 0);
			if (r < 0)
				return r;
			*symname_set = true;
		} else
			untranslated(im, where, 0,
				     "'hostsymname' not translated: stas sends one symbolic name, "
				     "the first host's");
	}
	if (json_object_object_get_ex(host, "persistent_discovery_ctrl", &v) &&
	    !json_object_get_boolean(v))
		untranslated(im, where, 0, "'persistent_discovery_ctrl = false' not translated: %s",
			     CONFIG_PERSISTENT_FALSE_REFUSED);
	json_object_object_foreach(host, k, val)
	{
		(void)val;
		if (!streq(k, "hostnqn") && !streq(k, "hostid") && !streq(k, "dhchap_key") &&
		    !streq(k, "hostsymname") && !streq(k, "persistent_discovery_ctrl") &&
		    !streq(k, "subsystems"))
			untranslated(
				im, where, 0,
				"'%s' not translated: not a libnvme host key (value not shown)",
				config_value_mask(NULL, k));
	}

	if (!json_object_object_get_ex(host, "subsystems", &subsystems))
		return 0;
	if (!json_object_is_type(subsystems, json_type_array)) {
		untranslated(im, where, 0, "'subsystems' not translated: not an array");
		return 0;
	}
	for (size_t si = 0; si < json_object_array_length(subsystems); si++) {
		struct json_object *sub = json_object_array_get_idx(subsystems, si), *ports;
		_cleanup_free_ char *swhere = NULL;
		const char *nqn;

		if (asprintf(&swhere, "%s.subsystems[%zu]", where, si) < 0)
			return log_oom();
		nqn = json_object_is_type(sub, json_type_object) ? json_str(sub, "nqn") : NULL;
		if (!nqn) {
			untranslated(im, swhere, 0, "not translated: no subsystem \"nqn\"");
			continue;
		}
		if (!json_object_object_get_ex(sub, "ports", &ports) ||
		    !json_object_is_type(ports, json_type_array)) {
			untranslated(im, swhere, 0, "not translated: no \"ports\" array");
			continue;
		}
		for (size_t pi = 0; pi < json_object_array_length(ports); pi++) {
			_cleanup_free_ char *pwhere = NULL;
			int r;

			if (asprintf(&pwhere, "%s.ports[%zu]", swhere, pi) < 0)
				return log_oom();
			r = import_port(im, file, pwhere, &h, nqn,
					json_object_array_get_idx(ports, pi));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int import_config_json(struct import *im, const char *file, const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *hosts;
	bool symname_set = false;
	int r = 0;

	if (!tok)
		return log_oom();
	root = json_tokener_parse_ex(tok, text, (int)strlen(text));
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		log_error("%s: not valid JSON: %s.", file,
			  json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		json_object_put(root);
		return -EINVAL;
	}
	json_tokener_free(tok);

	hosts = root;
	if (json_object_is_type(root, json_type_object)) {
		json_object_object_foreach(root, k, v)
		{
			(void)v;
			if (streq(k, "owner"))
				note(file, 0,
				     "'owner' ignored: stas registers its controllers as "
				     "owner=stas");
			else if (!streq(k, "hosts"))
				untranslated(im, file, 0, "'%s' not translated: not a libnvme key",
					     config_value_mask(NULL, k));
		}
		if (!json_object_object_get_ex(root, "hosts", &hosts))
			hosts = NULL;
	}
	if (!hosts || !json_object_is_type(hosts, json_type_array)) {
		log_error("%s: no hosts array (libnvme's config.json is [ hosts ] or "
			  "{ \"hosts\": [ ... ] }).",
			  file);
		json_object_put(root);
		return -EINVAL;
	}
	for (size_t i = 0; i < json_object_array_length(hosts) && r >= 0; i++)
		r = import_host(im, file, i, json_object_array_get_idx(hosts, i), &symname_set);
	json_object_put(root);
	return r;
}
