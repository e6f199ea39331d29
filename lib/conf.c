/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf.c - the configuration model (see conf.h): defaults, freeing, the
 * enum and duration spellings, and the queries programs make on a loaded
 * configuration (sections, layered options, the configured controller for
 * a path, exclusion). Loading is in conf-load.c, file:// and host identity
 * resolution in conf-resolve.c, output in conf-dump.c.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf-internal.h"
#include "conf.h"
#include "hashset.h"
#include "macro.h"
#include "tid.h"

void conf_opts_unset(struct config_conn_opts *o)
{
	int32_t *p = (int32_t *)o;
	for (size_t i = 0; i < sizeof(*o) / sizeof(int32_t); i++)
		p[i] = CONFIG_UNSET;
}

void conf_opts_set_defaults(struct config_conn_opts *o)
{
	if (o->hdr_digest == CONFIG_UNSET)
		o->hdr_digest = 0;
	if (o->data_digest == CONFIG_UNSET)
		o->data_digest = 0;
	if (o->disable_sqflow == CONFIG_UNSET)
		o->disable_sqflow = 0;
	if (o->ignore_iface == CONFIG_UNSET)
		o->ignore_iface = 0;
	if (o->ip_family == CONFIG_UNSET)
		o->ip_family = CONFIG_IP_FAMILY_BOTH;
	if (o->tls == CONFIG_UNSET)
		o->tls = 0;
}

/* ---------------------------------------------------------------- strings */

const char *config_disconnect_scope_to_string(enum config_disconnect_scope s)
{
	switch (s) {
	case CONFIG_DISCONNECT_ONLY_STAS:
		return "only-stas-connections";
	case CONFIG_DISCONNECT_ALL_MATCHING_TRTYPES:
		return "all-connections-matching-disconnect-trtypes";
	case CONFIG_DISCONNECT_NONE:
		return "no-disconnect";
	case _CONFIG_DISCONNECT_MAX:
		break;
	}
	return NULL;
}

int config_disconnect_scope_from_string(const char *s)
{
	for (int i = 0; i < _CONFIG_DISCONNECT_MAX; i++)
		if (streq(s, config_disconnect_scope_to_string(i)))
			return i;
	return -EINVAL;
}

const char *config_ip_family_to_string(unsigned f)
{
	switch (f) {
	case CONFIG_IP_FAMILY_IPV4:
		return "ipv4";
	case CONFIG_IP_FAMILY_IPV6:
		return "ipv6";
	case CONFIG_IP_FAMILY_BOTH:
		return "ipv4+ipv6";
	}
	return NULL;
}

int config_ip_family_from_string(const char *s)
{
	if (streq(s, "ipv4"))
		return CONFIG_IP_FAMILY_IPV4;
	if (streq(s, "ipv6"))
		return CONFIG_IP_FAMILY_IPV6;
	if (streq(s, "ipv4+ipv6") || streq(s, "ipv6+ipv4"))
		return CONFIG_IP_FAMILY_BOTH;
	return -EINVAL;
}

bool config_secret_is_valid(const char *s)
{
	const char *p = str_startswith(s, "DHHC-1:");
	size_t n = 0;

	if (!p || !isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || p[2] != ':')
		return false;
	for (p += 3; *p && *p != ':'; p++, n++)
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '/' && *p != '=')
			return false;
	/* 32, 48 or 64 key bytes plus a 4-byte CRC, base64: at least 48 chars */
	return n >= 4 && n % 4 == 0 && p[0] == ':' && p[1] == '\0';
}

bool config_string_is_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	assert(s);
	while (*p) {
		uint32_t c;
		size_t n;

		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return false;
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			c = *p & 0x1f;
			n = 1;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			c = *p & 0x0f;
			n = 2;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			c = *p & 0x07;
			n = 3;
		} else
			return false; /* a continuation byte, 0xc0/0xc1 or 0xf5.. */
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false; /* also stops at the NUL */
			c = (c << 6) | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF, C1 controls */
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff) || c < 0xa0)
			return false;
		p += n + 1;
	}
	return true;
}

const char *config_value_mask(const char *key, const char *value)
{
	static const char *const secret_keys[] = { "key", "secret", "psk" };
	static const char *const secret_shapes[] = { "DHHC-1:", "NVMeTLSkey-1:" };

	if (!value)
		return NULL;
	for (size_t i = 0; key && i < ELEMENTSOF(secret_keys); i++)
		if (strcasestr(key, secret_keys[i]))
			return CONFIG_SECRET_MASK;
	for (size_t i = 0; i < ELEMENTSOF(secret_shapes); i++)
		if (strcasestr(value, secret_shapes[i]))
			return CONFIG_SECRET_MASK;
	return value;
}

/* A decimal number ("72", "1.5", ".5") at *p: its value, *p moved past it. */
static int duration_number(const char **p, double *ret, bool *ret_integer)
{
	const char *q = *p;
	double v = 0, scale = 0.1;
	bool digits = false;

	for (; isdigit((unsigned char)*q); q++, digits = true)
		if ((v = v * 10 + (*q - '0')) > 1e12)
			return -ERANGE;
	*ret_integer = true;
	if (*q == '.') {
		*ret_integer = false;
		for (q++; isdigit((unsigned char)*q); q++, scale /= 10, digits = true)
			v += (*q - '0') * scale;
	}
	if (!digits)
		return -EINVAL;
	*p = q;
	*ret = v;
	return 0;
}

/* "[D:]H:MM:SS", "M:SS", ":SS" (SS may have decimals) after an optional
 * "N days": the clock forms nvme-stas accepts. */
static int duration_clock(const char *p, double days, double *ret)
{
	double f[4];
	int n = 0;

	if (*p == ':') { /* ":SS" */
		f[n++] = 0;
		p++;
	}
	for (;;) {
		bool integer;
		const char *start = p;

		if (n == 4 || duration_number(&p, &f[n], &integer) < 0)
			return -EINVAL;
		/* Every field but the first has two digits; only seconds have decimals. */
		if (n > 0 && (p - start < 2 || !isdigit((unsigned char)start[1]) ||
			      (integer && p - start != 2)))
			return -EINVAL;
		n++;
		if (*p != ':')
			break;
		if (!integer)
			return -EINVAL;
		p++;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p || n < 2 || (days > 0 && n != 3))
		return -EINVAL;
	/* n fields, the last one seconds: D:HH:MM:SS, H:MM:SS, M:SS */
	*ret = days * 86400;
	for (int i = 0; i < n; i++)
		*ret += f[i] * (n == 4 ? (const double[]){ 86400, 3600, 60, 1 }[i] :
				n == 3 ? (const double[]){ 3600, 60, 1 }[i] :
					 (const double[]){ 60, 1 }[i]);
	return 0;
}

int config_duration_parse(const char *s, int64_t *ret)
{
	static const struct {
		const char *unit;
		int64_t mult;
	} units[] = {
		{ "days", 86400 }, { "day", 86400 },  { "dys", 86400 },	 { "dy", 86400 },
		{ "d", 86400 },	   { "hours", 3600 }, { "hour", 3600 },	 { "hrs", 3600 },
		{ "hr", 3600 },	   { "h", 3600 },     { "minutes", 60 }, { "minute", 60 },
		{ "mins", 60 },	   { "min", 60 },     { "m", 60 },	 { "seconds", 1 },
		{ "second", 1 },   { "secs", 1 },     { "sec", 1 },	 { "s", 1 },
	};
	const char *p = s;
	double total = 0;
	bool any = false, only_days = true, negative = false;

	assert(s);

	while (isspace((unsigned char)*p))
		p++;
	if (strcasecmp(p, "never") == 0 || strcasecmp(p, "infinity") == 0) {
		*ret = CONFIG_DURATION_INFINITY;
		return 0;
	}
	/* nvme-stas: a sign may lead; a negative duration means "never". */
	if (*p == '-' || *p == '+') {
		negative = *p == '-';
		for (p++; isspace((unsigned char)*p);)
			p++;
	}

	while (*p) {
		const char *num = p;
		double v;
		bool integer;
		int64_t mult = 0;
		size_t best = 0;
		int r;

		if (*p != ':') {
			r = duration_number(&p, &v, &integer);
			if (r < 0)
				return r;
		}
		if (*p == ':') {
			/* A clock form, alone or after "N days" (and then H:MM:SS). */
			if ((any && !only_days) || duration_clock(num, total / 86400, &total) < 0)
				return -EINVAL;
			any = true;
			break;
		}
		while (isspace((unsigned char)*p))
			p++;
		/* the longest unit matching a whole word */
		for (size_t i = 0; i < ELEMENTSOF(units); i++) {
			size_t l = strlen(units[i].unit);
			if (l > best && strncasecmp(p, units[i].unit, l) == 0 &&
			    !isalpha((unsigned char)p[l])) {
				best = l;
				mult = units[i].mult;
			}
		}
		if (!best) {
			/* a bare number: seconds, and only on its own */
			if (any || *p)
				return -EINVAL;
			mult = 1;
		}
		p += best;
		only_days = only_days && mult == 86400;
		total += v * (double)mult;
		if (total > (double)INT32_MAX)
			return -ERANGE;
		any = true;
		while (isspace((unsigned char)*p) || *p == ',' || *p == '/')
			p++;
	}
	if (!any)
		return -EINVAL;
	if (total > (double)INT32_MAX)
		return -ERANGE;
	*ret = negative ? CONFIG_DURATION_INFINITY : (int64_t)total;
	return 0;
}

void conf_secret_free(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* ------------------------------------------------------------------ free */

static void section_free(struct config_section *s)
{
	for (size_t i = 0; i < s->n_controllers; i++) {
		struct config_controller *c = &s->controllers[i];
		free(c->host_id);
		conf_secret_free(&c->dhchap_secret);
		conf_secret_free(&c->dhchap_ctrl_secret);
		conf_secret_free(&c->tls_key);
		free(c->traddr_name);
		free(c->source);
	}
	free(s->controllers);
	hashset_free(s->by_nqn);
	free(s->nqn_next);
	for (size_t i = 0; i < s->n_exclude; i++)
		free(s->exclude[i].source);
	free(s->exclude);
}

void config_free(struct stas_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->host.nqn);
	free(cfg->host.id);
	conf_secret_free(&cfg->host.key);
	free(cfg->host.symname);
	free(cfg->host.nqn_spec);
	free(cfg->host.id_spec);
	conf_secret_free(&cfg->host.key_spec);
	free(cfg->host.symname_spec);
	conf_secret_free(&cfg->host.tls_key);
	conf_secret_free(&cfg->host.tls_key_spec);
	section_free(&cfg->discovery.s);
	section_free(&cfg->io.s);
	strv_free(cfg->files);
	strv_free(cfg->warnings);
	free(cfg);
}

struct stas_config *conf_alloc(void)
{
	struct stas_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	conf_opts_unset(&cfg->global.opts);
	conf_opts_unset(&cfg->discovery.s.opts);
	conf_opts_unset(&cfg->io.s.opts);
	cfg->discovery.zeroconf = true;
	cfg->discovery.persistent_connections = true;
	cfg->discovery.zeroconf_persistence_sec = DEFAULT_ZEROCONF_PERSISTENCE;
	cfg->discovery.referral_give_up_sec = DEFAULT_REFERRAL_GIVE_UP;
	cfg->global.audit_interval_sec = DEFAULT_AUDIT_INTERVAL;
	cfg->discovery.pleo = true;
	cfg->discovery.referrals_per_page_max = CONFIG_REFERRALS_PER_PAGE_DEFAULT;
	cfg->discovery.referral_dcs_max = CONFIG_REFERRAL_DCS_DEFAULT;
	cfg->io.disconnect_scope = CONFIG_DISCONNECT_ONLY_STAS;
	cfg->io.disconnect_trtypes = CONFIG_TRTYPE_TCP;
	cfg->io.connect_attempts_on_ncc = 0;
	cfg->host.nqn_spec = strdup(DEFAULT_HOSTNQN_SPEC);
	cfg->host.id_spec = strdup(DEFAULT_HOSTID_SPEC);
	cfg->host.key_spec = strdup(DEFAULT_HOSTKEY_SPEC);
	if (!cfg->host.nqn_spec || !cfg->host.id_spec || !cfg->host.key_spec) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* ------------------------------------------------------------- queries */

const struct config_section *config_section(const struct stas_config *cfg, enum config_role role)
{
	assert(cfg);
	switch (role) {
	case CONFIG_ROLE_DISCOVERY:
		return &cfg->discovery.s;
	case CONFIG_ROLE_IO:
		return &cfg->io.s;
	case _CONFIG_ROLE_MAX:
		break;
	}
	assert(false);
	return NULL;
}

/* The walk both resolvers share; @via: a DC entry whose io-defaults come after @c. */
static int conn_opts_resolve(const struct stas_config *cfg, enum config_role role,
			     const struct config_controller *c, const struct config_controller *via,
			     struct config_path_opts *ret)
{
	const struct config_conn_opts *layers[4];
	struct config_conn_opts o;
	size_t n = 0;
	int32_t *out = (int32_t *)&o;

	assert(cfg);
	assert(ret);

	if (c)
		layers[n++] = &c->opts;
	if (via)
		layers[n++] = &via->io_defaults;
	layers[n++] = &config_section(cfg, role)->opts;
	layers[n++] = &cfg->global.opts;

	conf_opts_unset(&o);
	for (size_t f = 0; f < sizeof(o) / sizeof(int32_t); f++)
		for (size_t i = 0; i < n; i++) {
			int32_t v = ((const int32_t *)layers[i])[f];
			if (v != CONFIG_UNSET) {
				out[f] = v;
				break;
			}
		}

	/* the role's defaults */
	if (o.kato == CONFIG_UNSET && role == CONFIG_ROLE_DISCOVERY)
		o.kato = DEFAULT_DC_KATO;
	conf_opts_set_defaults(&o);

	*ret = (struct config_path_opts){
		.conn = o,
		.hostnqn = c && c->tid.host_nqn[0]     ? c->tid.host_nqn :
			   via && via->tid.host_nqn[0] ? via->tid.host_nqn :
							 cfg->host.nqn,
		.hostid = c && c->host_id     ? c->host_id :
			  via && via->host_id ? via->host_id :
						cfg->host.id,
		.dhchap_secret = c && c->dhchap_secret ? c->dhchap_secret : cfg->host.key,
		.dhchap_ctrl_secret = c ? c->dhchap_ctrl_secret : NULL,
		.tls_key = c && c->tls_key     ? c->tls_key :
			   via && via->tls_key ? via->tls_key :
						 cfg->host.tls_key,
		.tls_key_derivation = cfg->global.tls_key_derivation,
	};
	return 0;
}

int config_conn_opts_resolve(const struct stas_config *cfg, enum config_role role,
			     const struct config_controller *c, struct config_path_opts *ret)
{
	return conn_opts_resolve(cfg, role, c, NULL, ret);
}

int config_conn_opts_resolve_discovered(const struct stas_config *cfg,
					const struct config_controller *c,
					const struct config_controller *dc,
					struct config_path_opts *ret)
{
	return conn_opts_resolve(cfg, CONFIG_ROLE_IO, c, dc, ret);
}

bool config_controller_usable(const struct config_controller *c)
{
	return c && c->resolve_error == 0;
}

bool config_controller_unresolved_match(const struct stas_config *cfg, enum config_role role,
					const struct tid *t)
{
	const struct config_controller *c;

	assert(t);
	if (!cfg)
		return false;
	for (c = config_controller_next(cfg, role, t->subsysnqn, NULL); c;
	     c = config_controller_next(cfg, role, t->subsysnqn, c))
		if (c->traddr_name && c->resolve_error != 0 &&
		    streq(c->tid.transport, t->transport) && streq(c->tid.trsvcid, t->trsvcid) &&
		    (isempty(c->tid.host_traddr) || streq(c->tid.host_traddr, t->host_traddr)) &&
		    (isempty(c->tid.host_iface) || streq(c->tid.host_iface, t->host_iface)))
			return true;
	return false;
}

/* Whether entry @c is the path @t, with @route_wildcard: unset host-traddr/host-iface match any. */
static bool controller_is(const struct stas_config *cfg, const struct config_controller *c,
			  const struct tid *t, bool route_wildcard)
{
	const char *host_nqn = !isempty(c->tid.host_nqn) ? c->tid.host_nqn :
							   strempty(cfg->host.nqn);

	if (!streq(c->tid.transport, t->transport) || !streq(c->tid.traddr, t->traddr) ||
	    !streq(c->tid.trsvcid, t->trsvcid) || !streq(c->tid.subsysnqn, t->subsysnqn))
		return false;
	if (!isempty(t->host_nqn) && !streq(host_nqn, t->host_nqn))
		return false;
	if (route_wildcard)
		return (isempty(c->tid.host_traddr) || streq(c->tid.host_traddr, t->host_traddr)) &&
		       (isempty(c->tid.host_iface) || streq(c->tid.host_iface, t->host_iface));
	return streq(c->tid.host_traddr, t->host_traddr) && streq(c->tid.host_iface, t->host_iface);
}

const struct config_controller *config_controller_next(const struct stas_config *cfg,
						       enum config_role role, const char *nqn,
						       const struct config_controller *prev)
{
	const struct config_section *s;
	size_t i;
	void *v;

	assert(nqn);
	if (!cfg)
		return NULL;
	s = config_section(cfg, role);
	if (!s->nqn_next) {
		/* no index (nothing configured, or a configuration built by hand) */
		for (i = prev ? (size_t)(prev - s->controllers) + 1 : 0; i < s->n_controllers; i++)
			if (streq(s->controllers[i].tid.subsysnqn, nqn))
				return &s->controllers[i];
		return NULL;
	}
	if (prev) {
		i = s->nqn_next[prev - s->controllers];
		return i == SIZE_MAX ? NULL : &s->controllers[i];
	}
	if (!hashset_get(s->by_nqn, nqn, &v))
		return NULL;
	return &s->controllers[(uintptr_t)v - 1];
}

const struct config_controller *config_controller_find(const struct stas_config *cfg,
						       enum config_role role, const struct tid *t)
{
	const struct config_controller *c;

	assert(t);
	if (!cfg)
		return NULL;
	/* the subsystem NQN must be equal: only entries with @t's NQN qualify */
	for (c = config_controller_next(cfg, role, t->subsysnqn, NULL); c;
	     c = config_controller_next(cfg, role, t->subsysnqn, c))
		if (controller_is(cfg, c, t, false))
			return c;
	if (role != CONFIG_ROLE_IO)
		return NULL;
	for (c = config_controller_next(cfg, role, t->subsysnqn, NULL); c;
	     c = config_controller_next(cfg, role, t->subsysnqn, c))
		if (controller_is(cfg, c, t, true))
			return c;
	return NULL;
}

bool config_is_excluded(const struct stas_config *cfg, enum config_role role, const struct tid *t)
{
	const struct config_section *s = config_section(cfg, role);

	for (size_t i = 0; i < s->n_exclude; i++)
		if (tid_match(&s->exclude[i].pattern, t))
			return true;
	return false;
}
