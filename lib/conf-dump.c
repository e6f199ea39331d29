/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf-dump.c - the effective configuration as output: a libconfig tree
 * (config show), libconfig text, JSON (config show --json). Secrets are
 * always masked.
 */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <libconfig.h>
#include <stdio.h>
#include <string.h>

#include "conf-internal.h"
#include "conf.h"
#include "macro.h"
#include "tid.h"
#include "tls-psk.h"

static bool add_str(config_setting_t *g, const char *name, const char *v)
{
	config_setting_t *s = config_setting_add(g, name, CONFIG_TYPE_STRING);
	return s && config_setting_set_string(s, v);
}

static bool add_int(config_setting_t *g, const char *name, long long v)
{
	config_setting_t *s;

	if (v >= INT32_MIN && v <= INT32_MAX) {
		s = config_setting_add(g, name, CONFIG_TYPE_INT);
		return s && config_setting_set_int(s, (int)v);
	}
	s = config_setting_add(g, name, CONFIG_TYPE_INT64);
	return s && config_setting_set_int64(s, v);
}

static bool add_bool(config_setting_t *g, const char *name, bool v)
{
	config_setting_t *s = config_setting_add(g, name, CONFIG_TYPE_BOOL);
	return s && config_setting_set_bool(s, v);
}

/* The options of @o that are set, for @where. */
static bool add_conn_opts(config_setting_t *g, const struct config_conn_opts *o, unsigned where)
{
	for (size_t i = 0; i < config_schema_n; i++) {
		const struct opt *s = &config_schema[i];
		int32_t v;

		if (!(s->where & where) ||
		    (s->type != T_INT && s->type != T_CONN_BOOL && s->type != T_IP_FAMILY))
			continue;
		v = *(const int32_t *)((const char *)o + s->off);
		if (v == CONFIG_UNSET)
			continue;
		if (s->type == T_INT && !add_int(g, s->name, v))
			return false;
		if (s->type == T_CONN_BOOL && !add_bool(g, s->name, v))
			return false;
		if (s->type == T_IP_FAMILY && !add_str(g, s->name, config_ip_family_to_string(v)))
			return false;
	}
	return true;
}

static bool add_tid(config_setting_t *g, const struct tid *t, bool exclude)
{
	static const char *const names[_TID_FIELD_MAX] = {
		[TID_FIELD_TRANSPORT] = "transport",	 [TID_FIELD_TRADDR] = "traddr",
		[TID_FIELD_TRSVCID] = "trsvcid",	 [TID_FIELD_SUBSYSNQN] = "nqn",
		[TID_FIELD_HOST_TRADDR] = "host-traddr", [TID_FIELD_HOST_IFACE] = "host-iface",
		[TID_FIELD_HOST_NQN] = "host-nqn",
	};
	for (int f = 0; f < _TID_FIELD_MAX; f++) {
		const char *v = tid_field_get(t, f);
		if (exclude && f == TID_FIELD_HOST_TRADDR)
			continue;
		if (v[0] && !add_str(g, names[f], v))
			return false;
	}
	return true;
}

static bool add_section_lists(config_setting_t *g, const struct config_section *s, unsigned cw)
{
	config_setting_t *list = config_setting_add(g, "controllers", CONFIG_TYPE_LIST);

	if (!list)
		return false;
	for (size_t i = 0; i < s->n_controllers; i++) {
		const struct config_controller *c = &s->controllers[i];
		config_setting_t *e = config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
		struct tid t = c->tid;

		if (c->traddr_name)
			t.traddr[0] = '\0';
		if (!e || !add_tid(e, &t, false))
			return false;
		/* a host name: the name, and the address it has now (or why none) */
		if (c->traddr_name &&
		    (!add_str(e, "traddr", c->traddr_name) ||
		     (c->resolve_error == 0 && !add_str(e, "traddr-address", c->tid.traddr)) ||
		     (c->resolve_error != 0 &&
		      !add_str(e, "traddr-error",
			       config_resolve_error_to_string(c->resolve_error)))))
			return false;
		if (c->host_id && !add_str(e, "host-id", c->host_id))
			return false;
		if (c->dhchap_secret && !add_str(e, "dhchap-secret", CONFIG_SECRET_MASK))
			return false;
		if (c->dhchap_ctrl_secret && !add_str(e, "dhchap-ctrl-secret", CONFIG_SECRET_MASK))
			return false;
		if (c->tls_key && !add_str(e, "tls-key", CONFIG_SECRET_MASK))
			return false;
		if (!add_conn_opts(e, &c->opts, cw))
			return false;
		if (cw == W_DCTRL) {
			struct config_conn_opts unset;
			config_setting_t *d;

			conf_opts_unset(&unset);
			if (memcmp(&unset, &c->io_defaults, sizeof(unset)) != 0 &&
			    (!(d = config_setting_add(e, "io-defaults", CONFIG_TYPE_GROUP)) ||
			     !add_conn_opts(d, &c->io_defaults, W_IODEF)))
				return false;
		}
	}
	list = config_setting_add(g, "exclude", CONFIG_TYPE_LIST);
	if (!list)
		return false;
	for (size_t i = 0; i < s->n_exclude; i++) {
		config_setting_t *e = config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
		if (!e || !add_tid(e, &s->exclude[i].pattern, true))
			return false;
	}
	return true;
}

int config_to_libconfig(const struct stas_config *cfg, config_t *ret)
{
	config_setting_t *root = config_root_setting(ret), *g, *a;
	const struct config_host *h = &cfg->host;

	assert(cfg);

	/* host: the values in effect */
	g = config_setting_add(root, "host", CONFIG_TYPE_GROUP);
	if (!g)
		return -ENOMEM;
	if (h->nqn && !add_str(g, "nqn", h->nqn))
		return -ENOMEM;
	if (h->id && !add_str(g, "id", h->id))
		return -ENOMEM;
	if (h->key && !add_str(g, "key", CONFIG_SECRET_MASK))
		return -ENOMEM;
	if (h->symname && !add_str(g, "symname", h->symname))
		return -ENOMEM;
	if (h->tls_key && !add_str(g, "tls-key", CONFIG_SECRET_MASK))
		return -ENOMEM;

	g = config_setting_add(root, "global", CONFIG_TYPE_GROUP);
	if (!g || !add_bool(g, "tron", cfg->global.tron) ||
	    !add_int(g, "audit-interval", cfg->global.audit_interval_sec) ||
	    !add_str(g, "tls-key-derivation",
		     tls_psk_derivation_to_string(cfg->global.tls_key_derivation)))
		return -ENOMEM;
	{
		/* global defaults made explicit */
		struct config_conn_opts o = cfg->global.opts;
		conf_opts_set_defaults(&o);
		if (!add_conn_opts(g, &o, W_GLOBAL))
			return -ENOMEM;
	}

	g = config_setting_add(root, "discovery", CONFIG_TYPE_GROUP);
	if (!g)
		return -ENOMEM;
	{
		struct config_conn_opts o = cfg->discovery.s.opts;
		if (o.kato == CONFIG_UNSET && cfg->global.opts.kato == CONFIG_UNSET)
			o.kato = DEFAULT_DC_KATO;
		if (!add_conn_opts(g, &o, W_DISC))
			return -ENOMEM;
	}
	if (!add_str(g, "zeroconf", cfg->discovery.zeroconf ? "enabled" : "disabled") ||
	    !add_bool(g, "persistent-connections", cfg->discovery.persistent_connections) ||
	    !add_str(g, "pleo", cfg->discovery.pleo ? "enabled" : "disabled"))
		return -ENOMEM;
	if (cfg->discovery.zeroconf_persistence_sec == CONFIG_DURATION_INFINITY) {
		if (!add_str(g, "zeroconf-connections-persistence", "never"))
			return -ENOMEM;
	} else if (!add_int(g, "zeroconf-connections-persistence",
			    cfg->discovery.zeroconf_persistence_sec))
		return -ENOMEM;
	if (!add_int(g, "referrals-per-page-max", cfg->discovery.referrals_per_page_max) ||
	    !add_int(g, "referral-dcs-max", cfg->discovery.referral_dcs_max) ||
	    !add_int(g, "referral-give-up", cfg->discovery.referral_give_up_sec))
		return -ENOMEM;
	if (!add_section_lists(g, &cfg->discovery.s, W_DCTRL))
		return -ENOMEM;

	g = config_setting_add(root, "io", CONFIG_TYPE_GROUP);
	if (!g || !add_conn_opts(g, &cfg->io.s.opts, W_IO) ||
	    !add_str(g, "disconnect-scope",
		     config_disconnect_scope_to_string(cfg->io.disconnect_scope)))
		return -ENOMEM;
	a = config_setting_add(g, "disconnect-trtypes", CONFIG_TYPE_ARRAY);
	if (!a)
		return -ENOMEM;
	if (((cfg->io.disconnect_trtypes & CONFIG_TRTYPE_TCP) &&
	     !config_setting_set_string_elem(a, -1, "tcp")) ||
	    ((cfg->io.disconnect_trtypes & CONFIG_TRTYPE_RDMA) &&
	     !config_setting_set_string_elem(a, -1, "rdma")) ||
	    ((cfg->io.disconnect_trtypes & CONFIG_TRTYPE_FC) &&
	     !config_setting_set_string_elem(a, -1, "fc")))
		return -ENOMEM;
	if (!add_int(g, "connect-attempts-on-ncc", cfg->io.connect_attempts_on_ncc))
		return -ENOMEM;
	if (!add_section_lists(g, &cfg->io.s, W_ICTRL))
		return -ENOMEM;
	return 0;
}

int config_dump(const struct stas_config *cfg, FILE *f)
{
	config_t c;
	int r;

	config_init(&c);
	r = config_to_libconfig(cfg, &c);
	if (r >= 0) {
		config_write(&c, f);
		r = ferror(f) ? -EIO : 0;
	}
	config_destroy(&c);
	return r;
}

static json_object *setting_to_json(const config_setting_t *s)
{
	json_object *j;
	int n;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		j = json_object_new_object();
		n = config_setting_length(s);
		for (int i = 0; i < n && j; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			json_object_object_add(j, config_setting_name(e), setting_to_json(e));
		}
		return j;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		j = json_object_new_array();
		n = config_setting_length(s);
		for (int i = 0; i < n && j; i++)
			json_object_array_add(
				j, setting_to_json(config_setting_get_elem(s, (unsigned)i)));
		return j;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return json_object_new_int64(config_setting_get_int64(s));
	case CONFIG_TYPE_FLOAT:
		return json_object_new_double(config_setting_get_float(s));
	case CONFIG_TYPE_BOOL:
		return json_object_new_boolean(config_setting_get_bool(s));
	case CONFIG_TYPE_STRING:
		return json_object_new_string(config_setting_get_string(s));
	default:
		return NULL;
	}
}

int config_to_json(const struct stas_config *cfg, struct json_object **ret)
{
	json_object *j;
	config_t c;
	int r;

	assert(cfg);
	assert(ret);

	config_init(&c);
	r = config_to_libconfig(cfg, &c);
	j = r < 0 ? NULL : setting_to_json(config_root_setting(&c));
	config_destroy(&c);
	if (r < 0)
		return r;
	if (!j)
		return -ENOMEM;
	*ret = j;
	return 0;
}
