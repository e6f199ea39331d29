/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf-load.c - load and validate stas.conf and its drop-ins (see conf.h).
 *
 * One schema table lists every key: its type, range and the places it may
 * appear. The loader walks libconfig's whole tree and checks each setting
 * against it, so a key the table does not know is an error, never ignored.
 * Every problem becomes one "FILE:LINE: message".
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf-internal.h"
#include "conf.h"
#include "fileio.h"
#include "hashset.h"
#include "hostid.h"
#include "macro.h"
#include "strv.h"
#include "tid.h"
#include "tls-psk.h"

/* clang-format off */
const struct opt config_schema[] = {
	{ "host",      T_SECTION, W_ROOT, .field = W_HOST },
	{ "global",    T_SECTION, W_ROOT, .field = W_GLOBAL },
	{ "discovery", T_SECTION, W_ROOT, .field = W_DISC },
	{ "io",        T_SECTION, W_ROOT, .field = W_IO },

	{ "nqn",     T_HOST, W_HOST, .field = H_NQN },
	{ "id",      T_HOST, W_HOST, .field = H_ID },
	{ "key",     T_HOST, W_HOST, .field = H_KEY },
	{ "symname", T_HOST, W_HOST, .field = H_SYMNAME },
	{ "tls-key", T_HOST, W_HOST, .field = H_TLS_KEY },

	{ "tron", T_TRON, W_GLOBAL },
	{ "audit-interval", T_DURATION, W_GLOBAL, .field = DUR_AUDIT_INTERVAL },
	{ "tls-key-derivation", T_TLS_DERIVATION, W_GLOBAL },

	{ "kato",            T_INT, W_SECTIONS | W_CTRL | W_IODEF, 0, 65535, CONN(kato) },
	{ "queue-size",      T_INT, W_SECTIONS | W_CTRL | W_IODEF, 16, 1024, CONN(queue_size) },
	{ "nr-io-queues",    T_INT, W_GLOBAL | W_IO | W_ICTRL | W_IODEF, 1, 1024, CONN(nr_io_queues) },
	{ "nr-write-queues", T_INT, W_GLOBAL | W_IO | W_ICTRL | W_IODEF, 0, 1024, CONN(nr_write_queues) },
	{ "nr-poll-queues",  T_INT, W_GLOBAL | W_IO | W_ICTRL | W_IODEF, 0, 1024, CONN(nr_poll_queues) },
	{ "reconnect-delay", T_INT, W_SECTIONS | W_CTRL | W_IODEF, 1, 86400, CONN(reconnect_delay) },
	{ "ctrl-loss-tmo",   T_INT, W_SECTIONS | W_CTRL | W_IODEF, -1, INT32_MAX, CONN(ctrl_loss_tmo) },
	{ "hdr-digest",      T_CONN_BOOL, W_SECTIONS | W_CTRL | W_IODEF, .off = CONN(hdr_digest) },
	{ "data-digest",     T_CONN_BOOL, W_SECTIONS | W_CTRL | W_IODEF, .off = CONN(data_digest) },
	{ "disable-sqflow",  T_CONN_BOOL, W_SECTIONS | W_CTRL | W_IODEF, .off = CONN(disable_sqflow) },
	{ "ignore-iface",    T_CONN_BOOL, W_SECTIONS, .off = CONN(ignore_iface) },
	{ "ip-family",       T_IP_FAMILY, W_SECTIONS, .off = CONN(ip_family) },
	{ "tls",             T_CONN_BOOL, W_CTRL | W_IODEF, .off = CONN(tls) },

	{ "zeroconf",                         T_SWITCH, W_DISC, .off = SW_ZEROCONF },
	{ "persistent-connections",           T_SWITCH, W_DISC, .off = SW_PERSISTENT },
	{ "pleo",                             T_SWITCH, W_DISC, .off = SW_PLEO },
	{ "zeroconf-connections-persistence", T_DURATION, W_DISC, .field = DUR_ZEROCONF_PERSISTENCE },
	{ "referral-give-up",                 T_DURATION, W_DISC, .field = DUR_REFERRAL_GIVE_UP },
	{ "referrals-per-page-max", T_LIMIT, W_DISC, 0, CONFIG_REFERRALS_LIMIT, LIM_REFERRALS_PER_PAGE },
	{ "referral-dcs-max",       T_LIMIT, W_DISC, 0, CONFIG_REFERRALS_LIMIT, LIM_REFERRAL_DCS },

	{ "disconnect-scope",        T_SCOPE, W_IO },
	{ "disconnect-trtypes",      T_TRTYPES, W_IO },
	{ "connect-attempts-on-ncc", T_NCC, W_IO, 0, 1000000 },

	{ "controllers", T_CONTROLLERS, W_DISC | W_IO },
	{ "exclude",     T_EXCLUDE, W_DISC | W_IO },

	{ "transport",   T_TID, W_CTRL | W_EXCL, .field = TID_FIELD_TRANSPORT },
	{ "traddr",      T_TID, W_CTRL | W_EXCL, .field = TID_FIELD_TRADDR },
	{ "trsvcid",     T_TID, W_CTRL | W_EXCL, .field = TID_FIELD_TRSVCID },
	{ "nqn",         T_TID, W_CTRL | W_EXCL, .field = TID_FIELD_SUBSYSNQN },
	{ "host-traddr", T_TID, W_CTRL, .field = TID_FIELD_HOST_TRADDR },
	{ "host-iface",  T_TID, W_CTRL | W_EXCL, .field = TID_FIELD_HOST_IFACE },
	{ "host-nqn",    T_TID, W_CTRL | W_EXCL, .field = TID_FIELD_HOST_NQN },
	{ "host-id",     T_HOST_ID, W_CTRL },
	{ "dhchap-secret",      T_SECRET, W_CTRL, .field = SECRET_DHCHAP },
	{ "dhchap-ctrl-secret", T_SECRET, W_CTRL, .field = SECRET_DHCHAP_CTRL },
	{ "tls-key",            T_SECRET, W_CTRL, .field = SECRET_TLS_KEY },
	{ "io-defaults",        T_IO_DEFAULTS, W_DCTRL },
};
/* clang-format on */
const size_t config_schema_n = ELEMENTSOF(config_schema);

static const char *where_to_string(unsigned w)
{
	switch (w) {
	case W_HOST:
		return "section 'host'";
	case W_GLOBAL:
		return "section 'global'";
	case W_DISC:
		return "section 'discovery'";
	case W_IO:
		return "section 'io'";
	case W_DCTRL:
		return "a discovery controller entry";
	case W_ICTRL:
		return "an I/O controller entry";
	case W_EXCL:
		return "an exclude entry";
	case W_IODEF:
		return "a discovery controller's io-defaults";
	default:
		return "the top level";
	}
}

/* Append the message @s (NULL: out of memory) to the problems found. */
static void error_push(struct loader *l, char *s)
{
	if (!s || strv_consume(&l->errors, s) < 0)
		l->oom = true;
}

static const char *setting_file(const struct loader *l, const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;
	return f ? f : strempty(l->name);
}

static char *setting_source(const struct loader *l, const config_setting_t *s)
{
	char *p;
	if (asprintf(&p, "%s:%u", setting_file(l, s), s ? config_setting_source_line(s) : 0) < 0)
		return NULL;
	return p;
}

_printf_(3, 0) static void error_vsrc(struct loader *l, const char *src, const char *fmt,
				      va_list ap)
{
	_cleanup_free_ char *msg = NULL;
	char *full = NULL;

	if (!src || vasprintf(&msg, fmt, ap) < 0 || asprintf(&full, "%s: %s", src, msg) < 0)
		full = NULL;
	error_push(l, full);
}

/* A problem at @src ("FILE:LINE"). */
_printf_(3, 4) void conf_error_src(struct loader *l, const char *src, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vsrc(l, src, fmt, ap);
	va_end(ap);
}

void conf_check_secret_mode(struct loader *l, const char *path, const char *what)
{
	struct stat st;
	char *msg;

	if (stat(path, &st) < 0)
		return;
	/* 0640 root:root is as safe as 0600: only root is in group root by default */
	if (!(st.st_mode & S_IROTH) && !((st.st_mode & S_IRGRP) && st.st_gid != 0))
		return;
	if (asprintf(&msg,
		     "%s: %s but is readable by %s (mode %04o); make it mode 0600 "
		     "(chmod 600 %s)",
		     path, what, st.st_mode & S_IROTH ? "others" : "its group",
		     (unsigned)(st.st_mode & 07777), path) < 0) {
		l->oom = true;
		return;
	}
	if (strv_consume_unique(&l->cfg->warnings, msg) < 0)
		l->oom = true;
}

/* A problem at setting @s. */
_printf_(3, 4) static void error_at(struct loader *l, const config_setting_t *s, const char *fmt,
				    ...)
{
	_cleanup_free_ char *src = setting_source(l, s);
	va_list ap;

	va_start(ap, fmt);
	error_vsrc(l, src, fmt, ap);
	va_end(ap);
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "an unknown type";
	}
}

static bool setting_is_int(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	       config_setting_type(s) == CONFIG_TYPE_INT64;
}

static int trtype_from_string(const char *s)
{
	if (streq(s, "tcp"))
		return CONFIG_TRTYPE_TCP;
	if (streq(s, "rdma"))
		return CONFIG_TRTYPE_RDMA;
	if (streq(s, "fc"))
		return CONFIG_TRTYPE_FC;
	return -EINVAL;
}

/* ------------------------------------------------------------- the walker */

struct target {
	unsigned where;
	struct config_conn_opts *opts; /* sections and controllers */
	struct config_section *section;
	struct config_controller *ctrl;
	/* raw TID fields of the entry being read, applied once it is complete */
	const config_setting_t *tid_set[_TID_FIELD_MAX];
};

static const struct opt *schema_find(const char *name, unsigned where, bool *ret_elsewhere)
{
	*ret_elsewhere = false;
	for (size_t i = 0; i < config_schema_n; i++)
		if (streq(config_schema[i].name, name)) {
			if (config_schema[i].where & where)
				return &config_schema[i];
			*ret_elsewhere = true;
		}
	return NULL;
}

/*
 * The text of string setting @s, or NULL (reported) when it is not
 * printable UTF-8: it would reach a log, "config show --json" or the wire.
 * The value itself is never echoed then.
 */
static const char *printable_string(struct loader *l, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	const char *name = config_setting_name(s);

	if (!v || !config_string_is_printable(v)) {
		if (name)
			error_at(l, s,
				 "'%s' is not printable UTF-8 text (control characters or invalid "
				 "UTF-8)",
				 name);
		else
			error_at(l, s,
				 "a string that is not printable UTF-8 text (control characters or "
				 "invalid UTF-8)");
		return NULL;
	}
	return v;
}

/* A string value or an error; NULL when the type is wrong or the text not printable. */
static const char *want_string(struct loader *l, const config_setting_t *s, const char *what)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		error_at(l, s, "'%s' must be a string (%s), not %s", config_setting_name(s), what,
			 type_name(s));
		return NULL;
	}
	return printable_string(l, s);
}

/* @s as an integer within @o's range; false (the error reported) otherwise. */
static bool int_in_range(struct loader *l, const config_setting_t *s, const struct opt *o,
			 long long *ret)
{
	long long v;

	if (!setting_is_int(s)) {
		error_at(l, s, "'%s' must be an integer (%" PRId64 "..%" PRId64 "), not %s",
			 o->name, o->min, o->max, type_name(s));
		return false;
	}
	v = config_setting_get_int64(s);
	if (v < o->min || v > o->max) {
		error_at(l, s, "'%s' = %lld is out of range %" PRId64 "..%" PRId64, o->name, v,
			 o->min, o->max);
		return false;
	}
	*ret = v;
	return true;
}

static void apply_int(struct loader *l, const config_setting_t *s, const struct opt *o,
		      struct target *t)
{
	long long v;

	if (int_in_range(l, s, o, &v))
		*(int32_t *)((char *)t->opts + o->off) = (int32_t)v;
}

static void apply_switch(struct loader *l, const config_setting_t *s, const struct opt *o)
{
	bool v;

	/* nvme-stas compares lower-cased text: "Enabled" and "DISABLED" count too */
	if (config_setting_type(s) == CONFIG_TYPE_BOOL)
		v = config_setting_get_bool(s);
	else if (config_setting_type(s) == CONFIG_TYPE_STRING &&
		 (strcasecmp(config_setting_get_string(s), "enabled") == 0 ||
		  strcasecmp(config_setting_get_string(s), "disabled") == 0))
		v = strcasecmp(config_setting_get_string(s), "enabled") == 0;
	else {
		error_at(l, s, "'%s' must be true, false, \"enabled\" or \"disabled\"", o->name);
		return;
	}
	switch (o->off) {
	case SW_ZEROCONF:
		l->cfg->discovery.zeroconf = v;
		break;
	case SW_PERSISTENT:
		if (!v) {
			error_at(l, s, "%s", CONFIG_PERSISTENT_FALSE_REFUSED);
			return;
		}
		l->cfg->discovery.persistent_connections = v;
		break;
	case SW_PLEO:
		l->cfg->discovery.pleo = v;
		break;
	}
}

static void apply_trtypes(struct loader *l, const config_setting_t *s)
{
	unsigned mask = 0;
	int n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		/* nvme-stas's "tcp+rdma" form */
		const char *v = printable_string(l, s);
		_cleanup_free_ char *copy = NULL;
		char *save = NULL;

		if (!v)
			return;
		copy = strdup(v);
		if (!copy) {
			l->oom = true;
			return;
		}
		for (char *tok = strtok_r(copy, "+", &save); tok;
		     tok = strtok_r(NULL, "+", &save)) {
			int r = trtype_from_string(tok);
			if (r < 0) {
				error_at(
					l, s,
					"'disconnect-trtypes': unknown transport \"%s\" (tcp, rdma, fc)",
					config_value_mask(NULL, tok));
				return;
			}
			mask |= (unsigned)r;
		}
	} else if (config_setting_type(s) == CONFIG_TYPE_ARRAY ||
		   config_setting_type(s) == CONFIG_TYPE_LIST) {
		n = config_setting_length(s);
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			int r;
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				error_at(l, e,
					 "'disconnect-trtypes' entries must be strings, not %s",
					 type_name(e));
				return;
			}
			if (!printable_string(l, e))
				return;
			r = trtype_from_string(config_setting_get_string(e));
			if (r < 0) {
				error_at(
					l, e,
					"'disconnect-trtypes': unknown transport \"%s\" (tcp, rdma, fc)",
					config_value_mask(NULL, config_setting_get_string(e)));
				return;
			}
			mask |= (unsigned)r;
		}
	} else {
		error_at(l, s, "'disconnect-trtypes' must be an array of strings, not %s",
			 type_name(s));
		return;
	}
	if (!mask) {
		error_at(l, s, "'disconnect-trtypes' must name at least one transport");
		return;
	}
	l->cfg->io.disconnect_trtypes = mask;
}

static void apply_host(struct loader *l, const config_setting_t *s, const struct opt *o)
{
	struct config_host *h = &l->cfg->host;
	char **spec = o->field == H_NQN	    ? &h->nqn_spec :
		      o->field == H_ID	    ? &h->id_spec :
		      o->field == H_KEY	    ? &h->key_spec :
		      o->field == H_TLS_KEY ? &h->tls_key_spec :
					      &h->symname_spec;
	const char *v = want_string(l, s, "a value or \"file://PATH\"");
	char *copy, *src;

	if (!v)
		return;
	copy = strdup(v);
	src = setting_source(l, s);
	if (!copy || !src) {
		free(copy);
		free(src);
		l->oom = true;
		return;
	}
	if (o->field == H_KEY || o->field == H_TLS_KEY) {
		conf_secret_free(spec);
		if (!str_startswith(copy, "file://") && !isempty(copy))
			l->inline_secret = true;
	} else
		free(*spec);
	*spec = copy;
	free(l->host_src[o->field]);
	l->host_src[o->field] = src;
}

static void apply_secret(struct loader *l, const config_setting_t *s, const struct opt *o,
			 struct target *t)
{
	_cleanup_free_ char *src = NULL;
	bool tls = o->field == SECRET_TLS_KEY;
	const char *v = want_string(l, s,
				    tls ? "a TLS PSK (interchange format) or \"file://PATH\"" :
					  "a DH-HMAC-CHAP secret or \"file://PATH\"");
	char *val;
	char **dst = o->field == SECRET_DHCHAP_CTRL ? &t->ctrl->dhchap_ctrl_secret :
		     tls			    ? &t->ctrl->tls_key :
						      &t->ctrl->dhchap_secret;
	struct tls_psk_configured psk;
	int r;

	if (!v)
		return;
	src = setting_source(l, s);
	if (!src) {
		l->oom = true;
		return;
	}
	if (!str_startswith(v, "file://"))
		l->inline_secret = true;
	val = conf_resolve_value(l, src, o->name, v, true, true, false);
	if (!val)
		return;
	if (tls) {
		r = tls_psk_parse(val, &psk);
		tls_psk_configured_wipe(&psk);
		if (r < 0) {
			/* the key's words, never the key */
			conf_error_src(l, src, "'%s' is %s", o->name, tls_psk_parse_strerror(r));
			conf_secret_free(&val);
			return;
		}
	} else if (!config_secret_is_valid(val)) {
		conf_error_src(l, src,
			       "'%s' is not a DH-HMAC-CHAP secret (\"DHHC-1:NN:<base64>:\")",
			       o->name);
		conf_secret_free(&val);
		return;
	}
	conf_secret_free(dst);
	*dst = val;
}

static void walk_group(struct loader *l, const config_setting_t *group, struct target *t);

/*
 * An fc controller needs both ports in a form nvme-fc accepts, and the host
 * port: the kernel refuses a connect without host_traddr.
 */
static bool fc_tid_check(struct loader *l, const config_setting_t *entry, const struct tid *tid)
{
	static const struct {
		enum tid_field f;
		const char *name;
	} addrs[] = { { TID_FIELD_TRADDR, "traddr" }, { TID_FIELD_HOST_TRADDR, "host-traddr" } };
	bool good = true;

	for (size_t i = 0; i < ELEMENTSOF(addrs); i++) {
		const char *v = tid_field_get(tid, addrs[i].f);
		char c[TID_FC_ADDR_MAX + 1];

		if (isempty(v))
			continue;
		if (strscpy_checked(c, sizeof(c), v) < 0 ||
		    fc_addr_canonicalize(c, sizeof(c)) < 0) {
			error_at(
				l, entry,
				"'%s' = \"%s\" is not an FC address (nn-0x<16 hex digits>:pn-0x<16 hex digits>)",
				addrs[i].name, v);
			good = false;
		}
	}
	if (isempty(tid->host_traddr)) {
		error_at(
			l, entry,
			"fc controller without 'host-traddr' (the host's FC port, nn-0x...:pn-0x...)");
		good = false;
	}
	return good;
}

static void finish_controller(struct loader *l, const config_setting_t *entry, struct target *t,
			      bool exclude)
{
	struct config_controller *c = t->ctrl;
	char buf[TID_FORMAT_MAX];
	struct tid tid = {};
	bool bad = false;
	int r;

	/* transport first, so the address fields are checked for it */
	for (int f = 0; f < _TID_FIELD_MAX; f++) {
		const config_setting_t *s = t->tid_set[f];
		char *dst = tid_field_ptr(&tid, f);
		const char *v;

		if (!s)
			continue;
		if (f == TID_FIELD_TRSVCID && setting_is_int(s)) {
			long long port = config_setting_get_int64(s);
			if (port < 1 || port > 65535) {
				error_at(l, s, "'trsvcid' = %lld is out of range 1..65535", port);
				bad = true;
				continue;
			}
			(void)snprintf(dst, tid_field_size(f), "%lld", port);
			continue;
		}
		v = want_string(l, s,
				f == TID_FIELD_TRSVCID ? "or an integer" : "a transport ID field");
		if (!v) {
			bad = true;
			continue;
		}
		if (isempty(v) || streq(v, "none")) {
			error_at(l, s, "'%s' must not be empty", config_setting_name(s));
			bad = true;
			continue;
		}
		/* exclude patterns: addresses may be CIDR prefixes, checked below */
		if (exclude && (f == TID_FIELD_TRADDR || f == TID_FIELD_HOST_TRADDR))
			r = strscpy_checked(dst, tid_field_size(f), v);
		else
			r = tid_field_set(&tid, f, v);
		/* a host name as traddr: resolved at use (config_names_resolve()) */
		if (r == -EINVAL && !exclude && f == TID_FIELD_TRADDR &&
		    (streq(tid.transport, "tcp") || streq(tid.transport, "rdma")) &&
		    conf_hostname_is_valid(v)) {
			free(c->traddr_name);
			c->traddr_name = strdup(v);
			if (!c->traddr_name) {
				l->oom = true;
				return;
			}
			/* canonicalised with a stand-in address, cleared below */
			r = tid_field_set(&tid, f, "0.0.0.0");
		}
		if (r < 0) {
			error_at(l, s, "'%s' = \"%s\" is %s", config_setting_name(s),
				 config_value_mask(config_setting_name(s), v),
				 r == -ENAMETOOLONG ? "too long" : "not valid");
			bad = true;
		}
	}
	if (bad)
		return;

	if (exclude) {
		if (!config_setting_length(entry)) {
			error_at(l, entry, "an empty exclude entry would exclude everything");
			return;
		}
		if (tid_pattern_canonicalize(&tid) < 0) {
			error_at(l, entry, "invalid exclude pattern %s",
				 tid_format(&tid, buf, sizeof(buf)));
			return;
		}
		struct config_exclude *e = &t->section->exclude[t->section->n_exclude - 1];
		e->pattern = tid;
		return;
	}

	if (!tid.transport[0]) {
		error_at(l, entry, "controller without 'transport'");
		bad = true;
	}
	if (!tid.traddr[0] && !streq(tid.transport, "loop")) {
		error_at(l, entry, "controller without 'traddr'");
		bad = true;
	}
	if (t->where == W_ICTRL && !tid.subsysnqn[0]) {
		error_at(l, entry, "I/O controller without 'nqn' (the subsystem NQN)");
		bad = true;
	}
	if (strcasecmp(tid.transport, "fc") == 0 && !fc_tid_check(l, entry, &tid))
		bad = true;
	if (bad)
		return;
	if (t->where == W_DCTRL && !tid.subsysnqn[0])
		strcpy(tid.subsysnqn, NVME_DISC_SUBSYS_NQN);
	tid_set_default_trsvcid(&tid, t->where == W_DCTRL);
	if (tid_canonicalize(&tid) < 0) {
		error_at(l, entry, "invalid transport ID %s", tid_format(&tid, buf, sizeof(buf)));
		return;
	}
	if (c->traddr_name) {
		tid.traddr[0] = '\0';
		c->resolve_error = -EADDRNOTAVAIL;
	}
	c->tid = tid;
}

static void apply_list(struct loader *l, const config_setting_t *s, const struct opt *o,
		       struct target *t)
{
	bool exclude = o->type == T_EXCLUDE;
	struct config_section *sect = t->where == W_DISC ? &l->cfg->discovery.s : &l->cfg->io.s;
	int n;

	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		error_at(l, s, "'%s' must be a list of groups: ( { ... }, { ... } ), not %s",
			 o->name, type_name(s));
		return;
	}
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct target sub = { .section = sect };
		char *src;

		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			error_at(l, e, "'%s' entries must be groups { ... }, not %s", o->name,
				 type_name(e));
			continue;
		}
		src = setting_source(l, e);
		if (!src) {
			l->oom = true;
			return;
		}
		if (exclude) {
			struct config_exclude *ne =
				realloc(sect->exclude, (sect->n_exclude + 1) * sizeof(*ne));
			if (!ne) {
				free(src);
				l->oom = true;
				return;
			}
			sect->exclude = ne;
			ne[sect->n_exclude++] = (struct config_exclude){ .source = src };
			sub.where = W_EXCL;
		} else {
			struct config_controller *nc =
				realloc(sect->controllers, (sect->n_controllers + 1) * sizeof(*nc));
			if (!nc) {
				free(src);
				l->oom = true;
				return;
			}
			sect->controllers = nc;
			nc = &nc[sect->n_controllers++];
			*nc = (struct config_controller){ .source = src };
			conf_opts_unset(&nc->opts);
			conf_opts_unset(&nc->io_defaults);
			sub.where = t->where == W_DISC ? W_DCTRL : W_ICTRL;
			sub.ctrl = nc;
			sub.opts = &nc->opts;
		}
		walk_group(l, e, &sub);
		finish_controller(l, e, &sub, exclude);
	}
}

static void apply(struct loader *l, const config_setting_t *s, const struct opt *o,
		  struct target *t)
{
	const char *v;
	int r;

	switch (o->type) {
	case T_SECTION: {
		struct target sub = { .where = (unsigned)o->field };
		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			error_at(l, s, "'%s' must be a group { ... }, not %s", o->name,
				 type_name(s));
			return;
		}
		if (sub.where == W_GLOBAL)
			sub.opts = &l->cfg->global.opts;
		else if (sub.where == W_DISC)
			sub.opts = &l->cfg->discovery.s.opts;
		else if (sub.where == W_IO)
			sub.opts = &l->cfg->io.s.opts;
		walk_group(l, s, &sub);
		return;
	}
	case T_BOOL:
	case T_TRON:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			error_at(l, s, "'%s' must be a boolean (true or false), not %s", o->name,
				 type_name(s));
			return;
		}
		l->cfg->global.tron = config_setting_get_bool(s);
		return;
	case T_INT:
		apply_int(l, s, o, t);
		return;
	case T_CONN_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			error_at(l, s, "'%s' must be a boolean (true or false), not %s", o->name,
				 type_name(s));
			return;
		}
		*(int32_t *)((char *)t->opts + o->off) = config_setting_get_bool(s);
		return;
	case T_IP_FAMILY:
		v = want_string(l, s, "\"ipv4\", \"ipv6\" or \"ipv4+ipv6\"");
		if (!v)
			return;
		r = config_ip_family_from_string(v);
		if (r < 0) {
			error_at(l, s,
				 "'%s' = \"%s\" is not one of \"ipv4\", \"ipv6\", \"ipv4+ipv6\"",
				 o->name, config_value_mask(o->name, v));
			return;
		}
		*(int32_t *)((char *)t->opts + o->off) = r;
		return;
	case T_SWITCH:
		apply_switch(l, s, o);
		return;
	case T_DURATION: {
		int64_t d;
		if (setting_is_int(s)) {
			d = config_setting_get_int64(s);
			if (d < -1 || d > INT32_MAX) {
				error_at(l, s, "'%s' = %" PRId64 " is out of range -1..%d", o->name,
					 d, INT32_MAX);
				return;
			}
		} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
			if (!printable_string(l, s))
				return;
			if (config_duration_parse(config_setting_get_string(s), &d) < 0) {
				error_at(
					l, s,
					"'%s' = \"%s\" is not a duration (seconds, \"72h\", \"3 days\", \"never\")",
					o->name,
					config_value_mask(o->name, config_setting_get_string(s)));
				return;
			}
		} else {
			error_at(l, s,
				 "'%s' must be an integer (seconds) or a duration string, not %s",
				 o->name, type_name(s));
			return;
		}
		/* audit-interval and referral-give-up: 0 or negative ("never") is off */
		switch (o->field) {
		case DUR_ZEROCONF_PERSISTENCE:
			l->cfg->discovery.zeroconf_persistence_sec = d;
			break;
		case DUR_AUDIT_INTERVAL:
			l->cfg->global.audit_interval_sec = d < 0 ? 0 : d;
			break;
		case DUR_REFERRAL_GIVE_UP:
			l->cfg->discovery.referral_give_up_sec = d < 0 ? 0 : d;
			break;
		}
		return;
	}
	case T_SCOPE:
		v = want_string(l, s, "a disconnect scope");
		if (!v)
			return;
		r = config_disconnect_scope_from_string(v);
		if (r < 0) {
			error_at(
				l, s,
				"'%s' = \"%s\" is not one of \"only-stas-connections\", "
				"\"all-connections-matching-disconnect-trtypes\", \"no-disconnect\"",
				o->name, config_value_mask(o->name, v));
			return;
		}
		l->cfg->io.disconnect_scope = r;
		return;
	case T_TRTYPES:
		apply_trtypes(l, s);
		return;
	case T_NCC: {
		long long n;
		if (!setting_is_int(s)) {
			error_at(l, s, "'%s' must be an integer (0, or 2..%" PRId64 "), not %s",
				 o->name, o->max, type_name(s));
			return;
		}
		n = config_setting_get_int64(s);
		if (n < 0 || n == 1 || n > o->max) {
			error_at(
				l, s,
				"'%s' = %lld is out of range: 0 (never stop trying) or 2..%" PRId64,
				o->name, n, o->max);
			return;
		}
		l->cfg->io.connect_attempts_on_ncc = (unsigned)n;
		return;
	}
	case T_HOST:
		apply_host(l, s, o);
		return;
	case T_TID:
		t->tid_set[o->field] = s;
		return;
	case T_HOST_ID:
		v = want_string(l, s, "a UUID");
		if (!v)
			return;
		if (!uuid_is_valid(v)) {
			error_at(l, s, "'%s' = \"%s\" is not a UUID", o->name,
				 config_value_mask(o->name, v));
			return;
		}
		free(t->ctrl->host_id);
		t->ctrl->host_id = strdup(v);
		if (!t->ctrl->host_id)
			l->oom = true;
		return;
	case T_SECRET:
		apply_secret(l, s, o, t);
		return;
	case T_TLS_DERIVATION:
		v = want_string(l, s, "\"rfc8446\" or \"compat\"");
		if (!v)
			return;
		r = tls_psk_derivation_from_string(v);
		if (r < 0) {
			error_at(l, s, "'%s' = \"%s\" is not one of \"rfc8446\", \"compat\"",
				 o->name, config_value_mask(o->name, v));
			return;
		}
		l->cfg->global.tls_key_derivation = r;
		return;
	case T_CONTROLLERS:
	case T_EXCLUDE:
		apply_list(l, s, o, t);
		return;
	case T_IO_DEFAULTS: {
		struct target sub = { .where = W_IODEF, .opts = &t->ctrl->io_defaults };
		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			error_at(l, s, "'%s' must be a group { ... }, not %s", o->name,
				 type_name(s));
			return;
		}
		walk_group(l, s, &sub);
		return;
	}
	case T_LIMIT: {
		long long n;

		if (!int_in_range(l, s, o, &n))
			return;
		if (o->off == LIM_REFERRALS_PER_PAGE)
			l->cfg->discovery.referrals_per_page_max = (unsigned)n;
		else
			l->cfg->discovery.referral_dcs_max = (unsigned)n;
		return;
	}
	}
}

static void walk_group(struct loader *l, const config_setting_t *group, struct target *t)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct opt *o;
		bool elsewhere;

		if (!name) { /* cannot happen inside a group */
			error_at(l, s, "unnamed setting");
			continue;
		}
		o = schema_find(name, t->where, &elsewhere);
		if (!o) {
			if (elsewhere)
				error_at(l, s, "'%s' is not allowed in %s", name,
					 where_to_string(t->where));
			else
				error_at(l, s, "unknown key '%s' in %s", name,
					 where_to_string(t->where));
			continue;
		}
		apply(l, s, o, t);
	}
}

static void load_tree(struct loader *l, config_t *c)
{
	struct target root = { .where = W_ROOT };
	walk_group(l, config_root_setting(c), &root);
}

/*
 * The line of the first '@' directive in @text, found the way libconfig's
 * scanner finds one (outside strings and comments), or 0 when there is
 * none. libconfig 1.5 follows "@include" on its own - relative to the
 * working directory, into FIFOs (hanging) and directories (exiting the
 * process) - and has no hook to stop it; stas has drop-in directories
 * instead. '@' means nothing else in libconfig's syntax.
 */
static unsigned find_directive(const char *text)
{
	enum { NORMAL, STRING, BLOCK_COMMENT, LINE_COMMENT } state = NORMAL;
	unsigned line = 1;

	for (const char *p = text; *p; p++) {
		if (*p == '\n') {
			line++;
			if (state == LINE_COMMENT)
				state = NORMAL;
			continue;
		}
		switch (state) {
		case NORMAL:
			if (*p == '@')
				return line;
			if (*p == '"')
				state = STRING;
			else if (*p == '#' || (p[0] == '/' && p[1] == '/'))
				state = LINE_COMMENT;
			else if (p[0] == '/' && p[1] == '*') {
				state = BLOCK_COMMENT;
				p++;
			}
			break;
		case STRING:
			if (*p == '\\' && p[1] && p[1] != '\n')
				p++; /* an escaped character, '"' included */
			else if (*p == '"')
				state = NORMAL;
			break;
		case BLOCK_COMMENT:
			if (p[0] == '*' && p[1] == '/') {
				state = NORMAL;
				p++;
			}
			break;
		case LINE_COMMENT:
			break;
		}
	}
	return 0;
}

/* The read problem @r of configuration file @path as text. */
static const char *read_error_text(int r)
{
	switch (r) {
	case -EISDIR:
		return "is a directory, not a configuration file";
	case -EBADFD:
		return "is not a regular file (a FIFO, socket or device)";
	case -EFBIG:
		return "is larger than 1 MiB; not a configuration file";
	default:
		return strerror(-r);
	}
}

/*
 * Apply the configuration text @text (@size bytes) named @name. libconfig
 * parses it from memory: its scanner is linear there, quadratic in a token's
 * length when it reads a FILE* (an 8 MiB comment took a minute).
 */
static void load_text(struct loader *l, const char *name, const char *text, size_t size)
{
	const char *nul = memchr(text, '\0', size);
	config_t c;
	unsigned line;

	if (nul) {
		line = 1;
		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		conf_error_src(l, name, "line %u: a NUL byte; not a configuration file", line);
		return;
	}
	line = find_directive(text);
	if (line) {
		_cleanup_free_ char *src = NULL;
		if (asprintf(&src, "%s:%u", name, line) < 0) {
			l->oom = true;
			return;
		}
		conf_error_src(l, src,
			       "'@include' and other '@' directives are not supported; put the "
			       "file in the drop-in directory (stas.conf.d/*.conf) instead");
		return;
	}

	config_init(&c);
	if (!config_read_string(&c, text)) {
		char *msg;

		if (asprintf(&msg, "%s:%d: syntax error: %s", config_error_file(&c) ?: name,
			     config_error_line(&c), config_error_text(&c)) < 0)
			msg = NULL;
		error_push(l, msg);
		config_destroy(&c);
		return;
	}
	load_tree(l, &c);
	config_destroy(&c);
}

/* Read one file and apply it. Return: 0 (problems are in @l), or -errno when unreadable. */
static int load_file(struct loader *l, const char *path)
{
	_cleanup_free_ char *text = NULL;
	size_t size;
	int r;

	r = read_regular_file(path, CONFIG_FILE_MAX, &text, &size);
	if (r == -ENOMEM) {
		l->oom = true;
		return r;
	}
	if (r < 0) {
		conf_error_src(l, path, "cannot read: %s", read_error_text(r));
		return r == -EISDIR || r == -EBADFD || r == -EFBIG ? -EINVAL : r;
	}
	l->inline_secret = false;
	load_text(l, path, text, size);
	/* inline secrets: wipe the text they were read from */
	explicit_bzero(text, size);
	if (l->inline_secret)
		conf_check_secret_mode(l, path, "holds inline secrets");
	return 0;
}

/* @t as one string, every field, for exact-equality lookups (tid_equal()). */
static int tid_lookup_key(const struct config_controller *c, char **ret)
{
	const struct tid *t = &c->tid;

	/* fields hold no control characters: 0x1f cannot occur inside one */
	if (asprintf(ret, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", t->transport,
		     c->traddr_name ?: t->traddr, t->trsvcid, t->subsysnqn, t->host_traddr,
		     t->host_iface, t->host_nqn) < 0)
		return -ENOMEM;
	return 0;
}

/* Duplicates in one pass (a hash set of the TIDs seen), and the index by subsysnqn. */
static void section_finish(struct loader *l, struct config_section *s)
{
	_cleanup_hashset_free_ struct hashset *seen = NULL;
	_cleanup_free_ size_t *tail = NULL;

	if (!s->n_controllers)
		return;
	tail = malloc(s->n_controllers * sizeof(size_t));
	if (!tail) {
		l->oom = true;
		return;
	}
	if (hashset_new(&seen) < 0 || hashset_new(&s->by_nqn) < 0) {
		l->oom = true;
		return;
	}
	s->nqn_next = malloc(s->n_controllers * sizeof(size_t));
	if (!s->nqn_next) {
		l->oom = true;
		return;
	}
	for (size_t i = 0; i < s->n_controllers; i++) {
		const struct config_controller *c = &s->controllers[i];
		_cleanup_free_ char *key = NULL;
		void *first = NULL, *last = NULL;
		int r;

		s->nqn_next[i] = SIZE_MAX;
		if (!c->tid.transport[0])
			continue; /* invalid, already reported */
		if (tid_lookup_key(c, &key) < 0) {
			l->oom = true;
			return;
		}
		r = hashset_put(seen, key, (void *)(uintptr_t)(i + 1), &first);
		if (r < 0) {
			l->oom = true;
			return;
		}
		if (r == 0) {
			char buf[TID_FORMAT_MAX];
			conf_error_src(l, c->source,
				       "duplicate controller %s%s%s, first defined at %s",
				       tid_format(&c->tid, buf, sizeof(buf)),
				       c->traddr_name ? " traddr=" : "", strempty(c->traddr_name),
				       s->controllers[(uintptr_t)first - 1].source);
			continue;
		}
		/* by NQN: the map holds the first entry, chained through nqn_next */
		r = hashset_put(s->by_nqn, c->tid.subsysnqn, (void *)(uintptr_t)(i + 1), &last);
		if (r < 0) {
			l->oom = true;
			return;
		}
		if (r == 0) {
			/* tail[first] is the last entry of that NQN's chain so far */
			size_t f = (uintptr_t)last - 1;
			s->nqn_next[tail[f]] = i;
			tail[f] = i;
		} else
			tail[i] = i;
	}
}

static int sort_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted "<dir>/<*>.conf" regular files; missing dir: empty list. */
static int dropins_list(const char *dir, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	DIR *d;
	struct dirent *de;

	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*ret = NULL;
			return 0;
		}
		return -errno;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *p;
		struct stat st;

		if (de->d_name[0] == '.' || len <= 5 || !streq(de->d_name + len - 5, ".conf"))
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
			closedir(d);
			return -ENOMEM;
		}
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (strv_consume(&l, p) < 0) {
			closedir(d);
			return -ENOMEM;
		}
	}
	closedir(d);
	if (l)
		qsort(l, strv_length(l), sizeof(char *), sort_strings);
	*ret = TAKE_PTR(l);
	return 0;
}

static void loader_done(struct loader *l)
{
	for (int i = 0; i < _H_MAX; i++)
		free(l->host_src[i]);
	strv_free(l->errors);
	config_free(l->cfg);
}

static int loader_finish(struct loader *l, struct stas_config **ret, char ***ret_errors, int fail)
{
	conf_resolve_host(l);
	section_finish(l, &l->cfg->discovery.s);
	section_finish(l, &l->cfg->io.s);

	if (l->oom) {
		loader_done(l);
		return -ENOMEM;
	}
	if (fail < 0 || l->errors) {
		if (ret_errors)
			*ret_errors = TAKE_PTR(l->errors);
		loader_done(l);
		return fail < 0 ? fail : -EINVAL;
	}
	*ret = TAKE_PTR(l->cfg);
	loader_done(l);
	return 0;
}

int config_load(const char *path, struct stas_config **ret, char ***ret_errors)
{
	struct loader l = { .name = path };
	_cleanup_strv_free_ char **dropins = NULL;
	_cleanup_free_ char *dir = NULL;
	bool explicit = path;
	int r, fail = 0;

	assert(ret);

	if (!path)
		path = CONFIG_FILE_DEFAULT;
	l.name = path;
	l.cfg = conf_alloc();
	if (!l.cfg)
		return -ENOMEM;

	if (access(path, F_OK) == 0 || explicit) {
		r = load_file(&l, path);
		if (r < 0)
			fail = r;
		else if (strv_extend(&l.cfg->files, path) < 0)
			l.oom = true;
	}

	if (asprintf(&dir, "%s" CONFIG_DROPIN_SUFFIX, path) < 0) {
		loader_done(&l);
		return -ENOMEM;
	}
	r = dropins_list(dir, &dropins);
	if (r < 0) {
		errno = -r;
		conf_error_src(&l, dir, "cannot read directory: %m");
		if (!fail)
			fail = -EINVAL;
	}
	STRV_FOREACH(p, dropins) {
		l.name = *p;
		r = load_file(&l, *p);
		if (r < 0) {
			if (!fail)
				fail = -EINVAL;
		} else if (strv_extend(&l.cfg->files, *p) < 0)
			l.oom = true;
	}
	return loader_finish(&l, ret, ret_errors, fail);
}

int config_load_string(const char *text, const char *name, struct stas_config **ret,
		       char ***ret_errors)
{
	return config_load_string_flags(text, name, 0, ret, ret_errors);
}

int config_load_string_flags(const char *text, const char *name, unsigned flags,
			     struct stas_config **ret, char ***ret_errors)
{
	struct loader l = { .name = name ?: "<string>", .flags = flags };

	assert(text);
	assert(ret);

	l.cfg = conf_alloc();
	if (!l.cfg)
		return -ENOMEM;
	load_text(&l, l.name, text, strlen(text));
	return loader_finish(&l, ret, ret_errors, 0);
}

int config_new_default(struct stas_config **ret)
{
	_cleanup_strv_free_ char **errors = NULL;
	int r = config_load_string("", "<defaults>", ret, &errors);
	/* defaults cannot be invalid; a bad /etc/nvme file is quietly unset */
	return r == -EINVAL ? 0 : r;
}
