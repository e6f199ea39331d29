/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm-import-fabrics - nvme-cli 3's /etc/nvme/nvme-fabrics.conf and its
 * drop-ins nvme-fabrics.conf.d/<*>.conf (libnvme's design/CONFIG.md) into
 * stas.conf.
 *
 * The format: INI, "#" comments (also after a value), systemd booleans,
 * sections [Host] (one per file), [Discovery Controller Defaults],
 * [I/O Controller Defaults] (one each, repeats merge), and the repeatable
 * [Discovery Controller] and [Subsystem], each with "controller =" lines
 * (one path each: transport=...;traddr=...;... plus per-path options).
 * Keys are nvme connect's option names (keep-alive-tmo, ctrl-loss-tmo, ...);
 * kxchap-secret / kxchap-ctrl-secret are DH-HMAC-CHAP's secrets.
 *
 * Precedence there: controller line > endpoint section > [Host] > the
 * type's defaults > kernel. stas's layers are controller entry > section
 * (discovery / io) > global, with the host identity apart. So:
 *  - the main file's *Defaults become the discovery and io sections;
 *  - [Host] options, and a drop-in's own *Defaults (an overlay for that
 *    file's connections only), are folded into each entry of their file;
 *  - a file's [I/O Controller Defaults] (and [Host] options) also become
 *    the io-defaults of that file's discovery controllers: CONFIG.md says an
 *    orchestrator applies them to the I/O controllers it discovers there;
 *  - a drop-in's [Host] identity (one persona per drop-in) goes into each of
 *    its entries as host-nqn / host-id; the main file's becomes host.*.
 * What stas cannot express is reported: TLS keys, an empty value (reset to
 * the kernel default) under a level that set it, the drop-in's discovery
 * defaults for referral DCs found through its DCs.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "nvme-opts.h"
#include "strv.h"

#include "stasadm-import.h"

#define FABRICS_FILE_MAX (1024 * 1024)

/* One "key = value" with where it was. */
struct kv {
	char *key;
	char *value; /* "" for an empty assignment */
	unsigned line;
};

struct kvs {
	struct kv *v;
	size_t n;
};

enum sect {
	S_HOST,
	S_DC_DEFAULTS,
	S_IO_DEFAULTS,
	S_DC,
	S_SUBSYSTEM,
	S_UNKNOWN,
};

struct section {
	enum sect type;
	unsigned line;
	struct kvs kv; /* everything but controller = */
	struct kvs controllers;
};

struct fabrics_file {
	const char *path;
	struct section *s;
	size_t n;
};

static void kvs_free(struct kvs *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].key);
		erase_freep(&k->v[i].value);
	}
	free(k->v);
	*k = (struct kvs){};
}

static void file_free(struct fabrics_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		kvs_free(&f->s[i].kv);
		kvs_free(&f->s[i].controllers);
	}
	free(f->s);
}

/* Append @key = @value to @k (repeated keys kept: controller = lines). */
static int kvs_add(struct kvs *k, const char *key, const char *value, unsigned line)
{
	struct kv *n = realloc(k->v, (k->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	k->v = n;
	n[k->n] = (struct kv){ .key = strdup(key), .value = strdup(value), .line = line };
	if (!n[k->n].key || !n[k->n].value) {
		free(n[k->n].key);
		free(n[k->n].value);
		return -ENOMEM;
	}
	k->n++;
	return 0;
}

/* Set @key in @k (a later value of the same key replaces the earlier one). */
static int kvs_set(struct kvs *k, const char *key, const char *value, unsigned line)
{
	for (size_t i = 0; i < k->n; i++)
		if (streq(k->v[i].key, key)) {
			char *v = strdup(value);
			if (!v)
				return -ENOMEM;
			erase_freep(&k->v[i].value);
			k->v[i].value = v;
			k->v[i].line = line;
			return 0;
		}
	return kvs_add(k, key, value, line);
}

static const struct kv *kvs_get(const struct kvs *k, const char *key)
{
	for (size_t i = 0; i < k->n; i++)
		if (streq(k->v[i].key, key))
			return &k->v[i];
	return NULL;
}

static enum sect sect_from_name(const char *n)
{
	if (streq(n, "Host"))
		return S_HOST;
	if (streq(n, "Discovery Controller Defaults"))
		return S_DC_DEFAULTS;
	if (streq(n, "I/O Controller Defaults"))
		return S_IO_DEFAULTS;
	if (streq(n, "Discovery Controller"))
		return S_DC;
	if (streq(n, "Subsystem"))
		return S_SUBSYSTEM;
	return S_UNKNOWN;
}

/* Parse @text into @ret's sections; problems reported. */
static int parse(struct import *im, const char *path, char *text, struct fabrics_file *ret)
{
	struct section *cur = NULL;
	unsigned line = 0;
	bool host_seen = false;

	ret->path = path;
	for (char *l = text, *next; l; l = next) {
		char *s, *eq, *key, *val;
		int r;

		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		line++;
		s = import_strip(l);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			struct section *n;
			enum sect t;

			if (!e) {
				untranslated(im, path, line, "malformed section header");
				cur = NULL;
				continue;
			}
			*e = '\0';
			t = sect_from_name(s + 1);
			if (t == S_UNKNOWN) {
				untranslated(
					im, path, line,
					"[%s] not translated: not a section of nvme-fabrics.conf",
					config_value_mask(NULL, s + 1));
				cur = NULL;
				continue;
			}
			if (t == S_HOST && host_seen) {
				untranslated(im, path, line,
					     "a second [Host] in one file: an error in nvme-cli 3 "
					     "(one persona per file); not translated");
				cur = NULL;
				continue;
			}
			host_seen |= t == S_HOST;
			/* the *Defaults sections are singletons: a repeat merges */
			cur = NULL;
			if (t == S_DC_DEFAULTS || t == S_IO_DEFAULTS || t == S_HOST)
				for (size_t i = 0; i < ret->n; i++)
					if (ret->s[i].type == t)
						cur = &ret->s[i];
			if (cur) {
				note(path, line, "[%s] repeated: merged with the one at line %u",
				     s + 1, cur->line);
				continue;
			}
			n = realloc(ret->s, (ret->n + 1) * sizeof(*n));
			if (!n)
				return log_oom();
			ret->s = n;
			cur = &n[ret->n++];
			*cur = (struct section){ .type = t, .line = line };
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			s[strcspn(s, " \t")] = '\0';
			untranslated(im, path, line, "'%s' not translated: not key = value",
				     config_value_mask(NULL, s));
			continue;
		}
		*eq = '\0';
		key = import_strip(s);
		val = eq + 1;
		/* an inline comment: '#' after a blank */
		for (char *p = val; *p; p++)
			if (*p == '#' && p > val && isspace((unsigned char)p[-1])) {
				*p = '\0';
				break;
			}
		val = import_strip(val);
		if (!cur) {
			untranslated(im, path, line, "'%s' not translated: outside a known section",
				     config_value_mask(NULL, key));
			continue;
		}
		if (streq(key, "controller") && (cur->type == S_DC || cur->type == S_SUBSYSTEM))
			r = kvs_add(&cur->controllers, key, val, line);
		else
			r = kvs_set(&cur->kv, key, val, line);
		explicit_bzero(val, strlen(val));
		if (r < 0)
			return log_oom();
	}
	return 0;
}

/* systemd's parse_boolean(): 1 yes y true t on / 0 no n false f off, any case. */
static int parse_boolean(const char *v)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

/* Key names nvme-fabrics.conf uses that nvme connect spells otherwise. */
static const char *connect_name(const char *key)
{
	if (streq(key, "kxchap-secret"))
		return "dhchap-secret";
	if (streq(key, "kxchap-ctrl-secret"))
		return "dhchap-ctrl-secret";
	return key;
}

/*
 * Emit the connection option @kv as "key = value;" into @f for an entry of
 * @role (SEC_DISC/SEC_IO); @io_defaults: into a DC's io-defaults (I/O
 * options only). Return: true when written; false when not applicable
 * (silently) or not translated (reported, once, when @report).
 */
static bool emit_opt(struct import *im, const char *path, const struct kv *kv, int role,
		     bool io_defaults, bool report, FILE *f)
{
	const struct nvme_opt *o = nvme_opt_from_name(connect_name(kv->key));
	long long n;
	char *end;
	int b;

	if (!o || !o->key || o->field >= 0) {
		if (report)
			untranslated(im, path, kv->line,
				     "'%s' not translated: %s (value not shown)",
				     config_value_mask(NULL, kv->key),
				     o && o->why ? o->why :
						   "not an nvme-fabrics.conf option stas knows");
		return false;
	}
	if (o->type == NVME_OPT_SECRET || streq(o->key, "host-id")) {
		_cleanup_erase_free_ char *q = NULL;
		if (io_defaults)
			return false;
		q = import_quote(kv->value);
		if (!q)
			return false;
		fprintf(f, " %s = %s;", o->key, q);
		return true;
	}
	/* nr-*-queues mean nothing to a discovery controller */
	if (o->io_only && role == SEC_DISC && !io_defaults)
		return false;
	if (isempty(kv->value)) {
		/* "key =": the kernel's default; unset in stas unless an outer layer set it */
		return false;
	}
	if (o->type == NVME_OPT_BOOL) {
		b = parse_boolean(kv->value);
		if (b < 0) {
			if (report)
				untranslated(im, path, kv->line,
					     "'%s = %s' not translated: not a boolean", kv->key,
					     config_value_mask(kv->key, kv->value));
			return false;
		}
		fprintf(f, " %s = %s;", o->key, b ? "true" : "false");
		return true;
	}
	errno = 0;
	n = strtoll(kv->value, &end, 10);
	if (errno || end == kv->value || *end) {
		if (report)
			untranslated(im, path, kv->line, "'%s = %s' not translated: not an integer",
				     kv->key, config_value_mask(kv->key, kv->value));
		return false;
	}
	fprintf(f, " %s = %lld;", o->key, n);
	return true;
}

/* Keys of an endpoint section that are no connection options. */
static bool endpoint_key(const char *k)
{
	return streq(k, "nqn") || streq(k, "controller");
}

/* Whether @key is set in any of @layers[0..n) (an outer layer). */
static const struct kv *layers_get(const struct kvs *const *layers, size_t n, const char *key)
{
	const struct kv *v = NULL;

	for (size_t i = 0; i < n; i++)
		if (layers[i] && kvs_get(layers[i], key))
			v = kvs_get(layers[i], key);
	return v;
}

/*
 * One entry: the controller line @ctrl of endpoint @ep (type @role) with the
 * layers @layers[0..n) (lowest first, each overridden by the next), the
 * persona @persona (drop-in [Host]: host-nqn/host-id; NULL: main file), and
 * for a DC @iodef (the file's I/O defaults + [Host] options).
 */
static int emit_entry(struct import *im, const char *path, int role, const struct section *ep,
		      const struct kv *ctrl, const struct kvs *const *layers, size_t n,
		      const struct kvs *persona, const struct kvs *const *iodef, size_t n_iodef)
{
	_cleanup_erase_free_ char *body = NULL, *copy = NULL, *io = NULL;
	size_t size = 0, io_size = 0;
	struct kvs merged = {}, line_opts = {};
	const struct kv *nqn = kvs_get(&ep->kv, "nqn");
	char *save = NULL;
	FILE *f, *fio;
	bool any_io = false;
	int r = 0;

	copy = strdup(ctrl->value);
	if (!copy)
		return log_oom();
	f = open_memstream(&body, &size);
	if (!f)
		return log_oom();
	/* the path: key=value;key=value (split at the first '=' only) */
	for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '='), *k, *v;
		_cleanup_free_ char *q = NULL;

		if (!eq) {
			if (!isempty(import_strip(tok)))
				untranslated(im, path, ctrl->line,
					     "'%s' not translated: not key=value",
					     config_value_mask(NULL, import_strip(tok)));
			continue;
		}
		*eq = '\0';
		k = import_strip(tok);
		v = import_strip(eq + 1);
		if (streq(k, "transport") || streq(k, "traddr") || streq(k, "trsvcid") ||
		    streq(k, "host-traddr") || streq(k, "host-iface")) {
			q = import_quote(v);
			if (!q) {
				fclose(f);
				return log_oom();
			}
			fprintf(f, " %s = %s;", k, q);
			continue;
		}
		if (streq(k, "nqn")) {
			untranslated(im, path, ctrl->line,
				     "'nqn' on a controller line not translated: the section's nqn "
				     "names the endpoint");
			continue;
		}
		if (streq(k, "kxchap-secret") || streq(k, "kxchap-ctrl-secret") ||
		    str_startswith(k, "tls") || streq(k, "concat") || streq(k, "keyring")) {
			untranslated(
				im, path, ctrl->line,
				"'%s' on a controller line not translated: security parameters "
				"belong to the section (CONFIG.md); value not shown",
				k);
			continue;
		}
		{
			const struct nvme_opt *o = nvme_opt_from_name(connect_name(k));
			if (!o || !o->key || o->field >= 0) {
				untranslated(
					im, path, ctrl->line,
					"'%s' on a controller line not translated: %s (value not "
					"shown)",
					config_value_mask(NULL, k),
					o && o->why ? o->why :
						      "not an nvme connect option stas knows");
				continue;
			}
		}
		if (kvs_add(&line_opts, k, v, ctrl->line) < 0) {
			fclose(f);
			kvs_free(&line_opts);
			return log_oom();
		}
	}
	if (nqn && !isempty(nqn->value)) {
		_cleanup_free_ char *q = import_quote(nqn->value);
		if (!q) {
			fclose(f);
			kvs_free(&line_opts);
			return log_oom();
		}
		fprintf(f, " nqn = %s;", q);
	}
	if (persona) {
		static const char *const ids[][2] = { { "hostnqn", "host-nqn" },
						      { "hostid", "host-id" } };
		for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
			const struct kv *v = kvs_get(persona, ids[i][0]);
			_cleanup_free_ char *q = NULL;
			if (!v || isempty(v->value))
				continue;
			q = import_quote(v->value);
			if (!q) {
				fclose(f);
				kvs_free(&line_opts);
				return log_oom();
			}
			fprintf(f, " %s = %s;", ids[i][1], q);
		}
	}

	/* merge: outer layers, then the section, then the line */
	for (size_t i = 0; i < n && r >= 0; i++)
		for (size_t j = 0; layers[i] && j < layers[i]->n && r >= 0; j++)
			r = kvs_set(&merged, layers[i]->v[j].key, layers[i]->v[j].value,
				    layers[i]->v[j].line);
	for (size_t j = 0; j < ep->kv.n && r >= 0; j++)
		if (!endpoint_key(ep->kv.v[j].key))
			r = kvs_set(&merged, ep->kv.v[j].key, ep->kv.v[j].value, ep->kv.v[j].line);
	for (size_t j = 0; j < line_opts.n && r >= 0; j++)
		r = kvs_set(&merged, line_opts.v[j].key, line_opts.v[j].value, line_opts.v[j].line);
	kvs_free(&line_opts);
	if (r < 0) {
		fclose(f);
		kvs_free(&merged);
		return log_oom();
	}
	for (size_t j = 0; j < merged.n; j++) {
		const struct kv *kv = &merged.v[j];

		if (streq(kv->key, "hostnqn") || streq(kv->key, "hostid") ||
		    streq(kv->key, "hostsymname"))
			continue; /* the persona's, handled above or in host.* */
		/* an empty value under a layer that set it: stas cannot unset per entry */
		if (isempty(kv->value) && layers_get(layers, n, kv->key) &&
		    !isempty(layers_get(layers, n, kv->key)->value)) {
			untranslated(im, path, kv->line,
				     "'%s =' (the kernel's default) not translated: stas cannot "
				     "unset a value an outer section set; write the value instead",
				     kv->key);
			continue;
		}
		(void)emit_opt(im, path, kv, role, false, false, f);
	}
	kvs_free(&merged);

	/* a DC: the I/O controllers discovered through it get the file's I/O defaults */
	if (role == SEC_DISC && n_iodef) {
		fio = open_memstream(&io, &io_size);
		if (!fio) {
			fclose(f);
			return log_oom();
		}
		for (size_t i = 0; i < n_iodef; i++)
			for (size_t j = 0; iodef[i] && j < iodef[i]->n; j++) {
				const struct kv *kv = &iodef[i]->v[j];
				if (layers_get(iodef + i + 1, n_iodef - i - 1, kv->key))
					continue; /* a later layer overrides it */
				any_io |= emit_opt(im, path, kv, SEC_IO, true, false, fio);
			}
		if (fclose(fio) != 0) {
			fclose(f);
			return log_oom();
		}
		if (any_io)
			fprintf(f, " io-defaults = {%s };", io);
	}
	if (fclose(f) != 0)
		return log_oom();
	return import_add_entry(im, role, false, body[0] == ' ' ? body + 1 : body, path,
				ctrl->line);
}

/* Report every option of @k that no entry or section can take. */
static void check_options(struct import *im, const char *path, const struct kvs *k, bool host)
{
	for (size_t i = 0; i < k->n; i++) {
		const struct kv *kv = &k->v[i];
		const struct nvme_opt *o;

		if (endpoint_key(kv->key) ||
		    (host && (streq(kv->key, "hostnqn") || streq(kv->key, "hostid") ||
			      streq(kv->key, "hostsymname"))))
			continue;
		o = nvme_opt_from_name(connect_name(kv->key));
		if (!o || !o->key || o->field >= 0)
			untranslated(im, path, kv->line,
				     "'%s' not translated: %s (value not shown)",
				     config_value_mask(NULL, kv->key),
				     o && o->why ? o->why :
						   "not an nvme-fabrics.conf option stas knows");
	}
}

/* The main file's *Defaults as the discovery / io sections. */
static int section_items(struct import *im, const char *path, const struct section *s, int role)
{
	for (size_t i = 0; i < s->kv.n; i++) {
		const struct kv *kv = &s->kv.v[i];
		_cleanup_erase_free_ char *buf = NULL;
		size_t size = 0;
		FILE *f;
		char *k, *v;
		int r;

		if (isempty(kv->value))
			continue; /* the kernel's default: stas's too */
		f = open_memstream(&buf, &size);
		if (!f)
			return log_oom();
		/* secrets and tls are per controller in stas: the entries carry them */
		if (nvme_opt_from_name(connect_name(kv->key)) &&
		    (nvme_opt_from_name(connect_name(kv->key))->type == NVME_OPT_SECRET ||
		     streq(kv->key, "tls"))) {
			fclose(f);
			continue;
		}
		if (!emit_opt(im, path, kv, role, false, false, f)) {
			fclose(f);
			continue;
		}
		if (fclose(f) != 0)
			return log_oom();
		/* " key = value;" -> key, value */
		k = import_strip(buf);
		v = strstr(k, " = ");
		if (!v)
			continue;
		*v = '\0';
		v += 3;
		v[strcspn(v, ";")] = '\0';
		r = import_add_item(im, role, k, v, path, kv->line);
		if (r < 0)
			return r;
	}
	return 0;
}

static const struct section *find(const struct fabrics_file *f, enum sect t)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->s[i].type == t)
			return &f->s[i];
	return NULL;
}

static int import_one(struct import *im, struct fabrics_file *ff, bool main)
{
	const struct section *host = find(ff, S_HOST), *dcd = find(ff, S_DC_DEFAULTS),
			     *iod = find(ff, S_IO_DEFAULTS);
	const struct kvs *host_kv = host ? &host->kv : NULL;
	const struct kv *v;
	int r;

	if (host) {
		check_options(im, ff->path, host_kv, true);
		if (main) {
			static const char *const ids[][2] = { { "hostnqn", "nqn" },
							      { "hostid", "id" },
							      { "hostsymname", "symname" } };
			for (size_t i = 0; i < ELEMENTSOF(ids); i++)
				if ((v = kvs_get(host_kv, ids[i][0])) && !isempty(v->value)) {
					r = import_add_string_item(im, SEC_HOST, ids[i][1],
								   v->value, ff->path, v->line);
					if (r < 0)
						return r;
				}
			/* the host's secret: stas's host.key (its own secret on every connect) */
			if ((v = kvs_get(host_kv, "kxchap-secret")) ||
			    (v = kvs_get(host_kv, "dhchap-secret"))) {
				r = import_add_string_item(im, SEC_HOST, "key", v->value, ff->path,
							   v->line);
				if (r < 0)
					return r;
			}
		} else {
			if (!(v = kvs_get(host_kv, "hostnqn")) || isempty(v->value))
				untranslated(
					im, ff->path, host->line,
					"a drop-in's [Host] without hostnqn: an error in nvme-cli 3 "
					"(a persona needs a name); its connections use the "
					"host's identity");
			if ((v = kvs_get(host_kv, "hostsymname")) && !isempty(v->value))
				untranslated(
					im, ff->path, v->line,
					"'hostsymname' of a drop-in persona not translated: stas "
					"sends one symbolic name (host.symname)");
		}
	}
	if (main) {
		if (dcd) {
			check_options(im, ff->path, &dcd->kv, false);
			r = section_items(im, ff->path, dcd, SEC_DISC);
			if (r < 0)
				return r;
		}
		if (iod) {
			check_options(im, ff->path, &iod->kv, false);
			r = section_items(im, ff->path, iod, SEC_IO);
			if (r < 0)
				return r;
		}
	} else {
		if (dcd)
			check_options(im, ff->path, &dcd->kv, false);
		if (iod)
			check_options(im, ff->path, &iod->kv, false);
		if (dcd && find(ff, S_DC))
			untranslated(
				im, ff->path, dcd->line,
				"[Discovery Controller Defaults] of a drop-in: applied to its "
				"configured discovery controllers, not to referral discovery "
				"controllers found through them (stas uses the discovery section "
				"for those)");
	}

	for (size_t i = 0; i < ff->n; i++) {
		const struct section *s = &ff->s[i];
		int role = s->type == S_DC ? SEC_DISC : SEC_IO;
		/* host options sit above the type's defaults; the main file's defaults are sections */
		const struct kvs *layers[2] = {
			main ? NULL :
			       (role == SEC_DISC ? (dcd ? &dcd->kv : NULL) :
						   (iod ? &iod->kv : NULL)),
			host_kv,
		};
		const struct kvs *iodef[2] = { main ? NULL : (iod ? &iod->kv : NULL), host_kv };
		const struct kvs *persona = main ? NULL : host_kv;

		if (s->type != S_DC && s->type != S_SUBSYSTEM)
			continue;
		check_options(im, ff->path, &s->kv, false);
		if (s->type == S_SUBSYSTEM &&
		    (!(v = kvs_get(&s->kv, "nqn")) || isempty(v->value))) {
			untranslated(im, ff->path, s->line,
				     "[Subsystem] without nqn not translated (nqn is required)");
			continue;
		}
		if (!s->controllers.n) {
			untranslated(im, ff->path, s->line,
				     "section without a controller = line: nothing to connect");
			continue;
		}
		for (size_t c = 0; c < s->controllers.n; c++) {
			r = emit_entry(im, ff->path, role, s, &s->controllers.v[c], layers,
				       ELEMENTSOF(layers), persona, iodef, ELEMENTSOF(iodef));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int sort_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int import_path(struct import *im, const char *path, char *text, bool main)
{
	struct fabrics_file ff = {};
	int r;

	r = parse(im, path, text, &ff);
	if (r >= 0)
		r = import_one(im, &ff, main);
	file_free(&ff);
	return r;
}

int import_fabrics_conf(struct import *im, const char *file, char *text, bool main)
{
	_cleanup_strv_free_ char **dropins = NULL;
	_cleanup_free_ char *dir = NULL;
	struct dirent *de;
	DIR *d;
	int r;

	r = import_path(im, file, text, main);
	if (r < 0 || !main)
		return r;

	/* the drop-ins: "<file>.d/<*>.conf", in lexical order, one persona each */
	if (asprintf(&dir, "%s.d", file) < 0)
		return log_oom();
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *p;

		if (de->d_name[0] == '.' || len <= 5 || !streq(de->d_name + len - 5, ".conf"))
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0 || strv_consume(&dropins, p) < 0) {
			closedir(d);
			return log_oom();
		}
	}
	closedir(d);
	if (dropins)
		qsort(dropins, strv_length(dropins), sizeof(char *), sort_strings);
	STRV_FOREACH(p, dropins) {
		_cleanup_erase_free_ char *t = NULL;

		r = read_regular_file(*p, FABRICS_FILE_MAX, &t, NULL);
		if (r < 0) {
			untranslated(im, *p, 0, "not read: %s", strerror(-r));
			continue;
		}
		fprintf(stderr, "%s: importing as an nvme-fabrics.conf drop-in\n", *p);
		r = import_path(im, *p, t, false);
		if (r < 0)
			return r;
	}
	return 0;
}
