/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm-import - "stasadm config import": nvme-stas's INI files
 * (stafd.conf, stacd.conf, sys.conf) and nvme-cli's discovery.conf
 * translated into one stas.conf. Every value is checked with the same
 * loader the programs use before it goes into the output; whatever cannot
 * be translated is reported on stderr with its file and line, never dropped
 * silently. nvme-cli's option names and letters come from lib/nvme-opts.
 *
 * Two faults of nvme-stas's own parser are not copied: a controller token
 * with a second '=' (a base64 secret's padding) is kept whole, split at its
 * first '=' only; and an inline comment ('#' after a blank) is removed from
 * the value - nvme-stas kept it inside - with a note on stderr.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "nvme-opts.h"
#include "tid.h"

#include "stasadm-import.h"
#include "stasadm.h"

#define IMPORT_FILE_MAX (1024 * 1024)

void erase_freep(char **p)
{
	if (*p)
		explicit_bzero(*p, strlen(*p));
	free(*p);
}

static const char *const kind_names[_KIND_MAX] = { "stafd",	"stacd",       "sys",
						   "discovery", "config.json", "nvme-fabrics" };
static const char *const sec_names[_SEC_MAX] = { "host", "global", "discovery", "io" };

void import_free(struct import *im)
{
	for (size_t i = 0; i < im->n_items; i++) {
		free(im->items[i].key);
		erase_freep(&im->items[i].value);
		free(im->items[i].src);
	}
	free(im->items);
	for (size_t i = 0; i < im->n_entries; i++) {
		erase_freep(&im->entries[i].body);
		free(im->entries[i].src);
	}
	free(im->entries);
}

void import_report(struct import *im, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (line)
		fprintf(stderr, "%s:%u: %s", file, line, im ? "" : "note: ");
	else
		fprintf(stderr, "%s: %s", file, im ? "" : "note: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (im)
		im->problems++;
}

char *import_quote(const char *s)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Strip the error's "NAME:LINE: " prefix (it names the probe, not the source). */
static const char *error_text(const char *e)
{
	const char *p = strstr(e, ": ");
	return p ? p + 2 : e;
}

/* Validate a probe configuration; report its first error against @file:@line. */
static bool probe(struct import *im, const char *text, const char *file, unsigned line,
		  const char *what, struct stas_config **ret)
{
	_cleanup_strv_free_ char **errors = NULL;
	struct stas_config *cfg = NULL;
	int r;

	/* a file:// secret missing here is the final check's warning, not a problem */
	r = config_load_string_flags(text, "import", CONFIG_LOAD_MISSING_SECRET_FILES_WARN, &cfg,
				     &errors);
	if (r == -ENOMEM) {
		log_oom();
		im->problems++;
		return false;
	}
	if (r < 0) {
		STRV_FOREACH(e, errors)
			untranslated(im, file, line, "%s not translated: %s", what, error_text(*e));
		return false;
	}
	if (ret)
		*ret = cfg;
	else
		config_free(cfg);
	return true;
}

int import_add_item(struct import *im, int sec, const char *key, const char *value,
		    const char *file, unsigned line)
{
	_cleanup_erase_free_ char *text = NULL, *v = NULL;
	_cleanup_free_ char *what = NULL, *src = NULL;
	struct item *it = NULL;

	if (asprintf(&text, "%s = { %s = %s; };\n", sec_names[sec], key, value) < 0 ||
	    asprintf(&what, "'%s'", key) < 0 ||
	    (line ? asprintf(&src, "%s:%u", file, line) : asprintf(&src, "%s", file)) < 0 ||
	    !(v = strdup(value)))
		return log_oom();
	if (!probe(im, text, file, line, what, NULL))
		return 0;

	/* a later value of the same setting replaces the earlier one */
	for (size_t i = 0; i < im->n_items && !it; i++)
		if (im->items[i].sec == sec && streq(im->items[i].key, key))
			it = &im->items[i];
	if (it) {
		note(file, line, "%s.%s overrides the value from %s", sec_names[sec], key, it->src);
		erase_freep(&it->value);
		free(it->src);
	} else {
		_cleanup_free_ char *k = strdup(key);
		struct item *n;

		if (!k || !(n = realloc(im->items, (im->n_items + 1) * sizeof(*n))))
			return log_oom();
		im->items = n;
		it = &n[im->n_items++];
		*it = (struct item){ .sec = sec, .key = TAKE_PTR(k) };
	}
	it->value = TAKE_PTR(v);
	it->src = TAKE_PTR(src);
	return 0;
}

int import_add_string_item(struct import *im, int sec, const char *key, const char *value,
			   const char *file, unsigned line)
{
	_cleanup_free_ char *q = import_quote(value);
	if (!q)
		return log_oom();
	return import_add_item(im, sec, key, q, file, line);
}

int import_add_entry(struct import *im, int sec, bool exclude, const char *body, const char *file,
		     unsigned line)
{
	_cleanup_erase_free_ char *text = NULL, *b = NULL;
	_cleanup_free_ char *src = NULL;
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	const struct config_section *cs;
	struct entry *n;
	struct tid tid = {};

	if (asprintf(&text, "%s = { %s = ( { %s } ); };\n", sec_names[sec],
		     exclude ? "exclude" : "controllers", body) < 0)
		return log_oom();
	if (!probe(im, text, file, line, exclude ? "exclude" : "controller", &cfg))
		return 0;
	cs = config_section(cfg, sec == SEC_DISC ? CONFIG_ROLE_DISCOVERY : CONFIG_ROLE_IO);
	if (exclude && cs->n_exclude == 1)
		tid = cs->exclude[0].pattern;
	else if (!exclude && cs->n_controllers == 1)
		tid = cs->controllers[0].tid;

	for (size_t i = 0; i < im->n_entries; i++)
		if (im->entries[i].sec == sec && im->entries[i].exclude == exclude &&
		    tid_equal(&im->entries[i].tid, &tid)) {
			untranslated(im, file, line, "%s not translated: the same as %s",
				     exclude ? "exclude" : "controller", im->entries[i].src);
			return 0;
		}

	if ((line ? asprintf(&src, "%s:%u", file, line) : asprintf(&src, "%s", file)) < 0 ||
	    !(b = strdup(body)) || !(n = realloc(im->entries, (im->n_entries + 1) * sizeof(*n))))
		return log_oom();
	im->entries = n;
	n[im->n_entries++] = (struct entry){ .sec = sec,
					     .exclude = exclude,
					     .body = TAKE_PTR(b),
					     .src = TAKE_PTR(src),
					     .tid = tid };
	return 0;
}

/* "true"/"false" (any case) as libconfig; NULL otherwise. */
static const char *ini_bool(const char *v)
{
	if (strcasecmp(v, "true") == 0)
		return "true";
	if (strcasecmp(v, "false") == 0)
		return "false";
	return NULL;
}

/* An integer as nvme-stas's int() takes it; NULL otherwise (static buffer). */
static const char *ini_int(const char *v)
{
	static char buf[32];
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end)
		return NULL;
	snprintf(buf, sizeof(buf), "%lld", n);
	return buf;
}

/* A connection option (a boolean or an integer) a controller entry or a [Global] may carry. */
static const struct nvme_opt *conn_opt_from_key(const char *key)
{
	const struct nvme_opt *o = nvme_opt_from_key(key);

	return o && (o->type == NVME_OPT_BOOL || o->type == NVME_OPT_INT) ? o : NULL;
}

/* Value in libconfig syntax for @type, or NULL (reported) when not convertible. */
static char *convert(struct import *im, enum nvme_opt_type type, const char *key, const char *v,
		     const char *file, unsigned line)
{
	const char *c;

	switch (type) {
	case NVME_OPT_BOOL:
	case NVME_OPT_INT:
		c = type == NVME_OPT_BOOL ? ini_bool(v) : ini_int(v);
		if (!c) {
			untranslated(
				im, file, line,
				"'%s = %s' not translated: not %s (nvme-stas would use the default)",
				key, config_value_mask(key, v),
				type == NVME_OPT_BOOL ? "true or false" : "an integer");
			return NULL;
		}
		return strdup(c);
	case NVME_OPT_STRING:
	case NVME_OPT_SECRET:
		return import_quote(v);
	case _NVME_OPT_TYPE_MAX:
		break;
	}
	return NULL;
}

/* A "controller = k=v;k=v..." value, as nvme-stas's _parse_controller() meant it. */
static int import_controller(struct import *im, int sec, bool exclude, const char *value,
			     const char *file, unsigned line)
{
	_cleanup_free_ char *copy = strdup(value), *body = NULL;
	size_t body_size = 0;
	FILE *f;
	char *save = NULL;
	bool any = false, tcp = false, trsvcid = false;

	if (!copy)
		return log_oom();
	f = open_memstream(&body, &body_size);
	if (!f)
		return log_oom();

	for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *k = tok, *v, *e;
		const struct nvme_opt *o;
		_cleanup_free_ char *cv = NULL;

		while (isspace((unsigned char)*k))
			k++;
		if (!*k)
			continue;
		/* split at the first '=' only: secrets end in base64 '=' padding */
		v = strchr(k, '=');
		if (!v) {
			untranslated(im, file, line, "'%s' not translated: not key=value",
				     config_value_mask(NULL, k));
			continue;
		}
		*v++ = '\0';
		for (e = v - 1; e > k && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		while (isspace((unsigned char)*v))
			v++;
		for (e = v + strlen(v); e > v && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		for (char *p = k; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (streq(k, "subsysnqn"))
			k = (char *)"nqn";

		if (exclude && streq(k, "host-traddr")) {
			untranslated(
				im, file, line,
				"'host-traddr=%s' not translated: it does not apply to exclude (nvme-stas ignored it)",
				config_value_mask(k, v));
			continue;
		}
		o = nvme_opt_from_key(k);
		if (o && (o->field >= 0 || (!exclude && o->type == NVME_OPT_SECRET)))
			cv = import_quote(v);
		else if (!exclude && (o = conn_opt_from_key(k))) {
			cv = convert(im, o->type, k, v, file, line);
			if (!cv)
				continue;
		} else {
			/* an option it cannot translate: its value is never shown */
			untranslated(im, file, line,
				     "'%s' not translated: unknown %s key (value not shown)",
				     config_value_mask(NULL, k),
				     exclude ? "exclude" : "controller");
			continue;
		}
		if (!cv) {
			fclose(f);
			return log_oom();
		}
		fprintf(f, "%s%s = %s;", any ? " " : "", k, cv);
		explicit_bzero(cv, strlen(cv));
		any = true;
		if (streq(k, "transport") && strcasecmp(v, "tcp") == 0)
			tcp = true;
		if (streq(k, "trsvcid"))
			trsvcid = true;
	}
	/*
	 * nvme-stas gives a tcp controller without trsvcid port 8009 (its
	 * default for every controller, stacd's I/O controllers included);
	 * stas's own default for an I/O controller is 4420, so say it.
	 */
	if (!exclude && sec == SEC_IO && tcp && !trsvcid) {
		fprintf(f, " trsvcid = \"8009\";");
		note(file, line,
		     "I/O controller without trsvcid: nvme-stas's default 8009 written (stas "
		     "alone would use 4420)");
	}
	if (fclose(f) != 0)
		return log_oom();
	if (!any) {
		untranslated(im, file, line, "%s not translated: nothing in it",
			     exclude ? "exclude" : "controller");
		return 0;
	}
	return import_add_entry(im, sec, exclude, body, file, line);
}

/* One INI setting of nvme-stas. */
struct ini {
	char *section;
	char *key; /* lower case */
	char *value; /* NULL: a key without '=' */
	unsigned line;
};

static void ini_free(struct ini *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].section);
		free(v[i].key);
		if (v[i].value)
			explicit_bzero(v[i].value, strlen(v[i].value));
		free(v[i].value);
	}
	free(v);
}

char *import_strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]);)
		*--e = '\0';
	return s;
}

/* Remove an inline " # comment" (with a note). */
static void strip_inline_comment(char *v, const char *file, unsigned line)
{
	for (char *p = v; *p; p++)
		if (*p == '#' && p > v && isspace((unsigned char)p[-1])) {
			note(file, line,
			     "inline comment \"%s\" removed (nvme-stas kept it in the value)",
			     config_value_mask(NULL, import_strip(p)));
			*p = '\0';
			for (char *e = v + strlen(v); e > v && isspace((unsigned char)e[-1]);)
				*--e = '\0';
			return;
		}
}

/* Parse nvme-stas INI text as configparser does (plus the fixes above). */
static int ini_parse(struct import *im, const char *file, char *text, struct ini **ret,
		     size_t *ret_n)
{
	struct ini *v = NULL;
	size_t n = 0;
	_cleanup_free_ char *section = NULL;
	unsigned line = 0;

	for (char *l = text, *next; l; l = next) {
		char *s, *eq, *key, *val;
		struct ini *nv;
		bool cont;

		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		line++;
		cont = isspace((unsigned char)l[0]);
		s = import_strip(l);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[' && !cont) {
			char *e = strchr(s, ']');
			if (!e) {
				untranslated(im, file, line,
					     "'%s' not translated: malformed section header",
					     config_value_mask(NULL, s));
				continue;
			}
			*e = '\0';
			free(section);
			section = strdup(s + 1);
			if (!section)
				return log_oom();
			continue;
		}
		if (!section) {
			/* the key only: what follows '=' may be a secret */
			s[strcspn(s, "=")] = '\0';
			untranslated(im, file, line, "'%s' not translated: outside any [section]",
				     config_value_mask(NULL, import_strip(s)));
			continue;
		}
		if (cont && n > 0 && streq(v[n - 1].section, section) && v[n - 1].value) {
			/* configparser continuation line: one more value of the key */
			key = strdup(v[n - 1].key);
			val = strdup(s);
		} else {
			eq = strchr(s, '=');
			if (eq)
				*eq = '\0';
			key = strdup(import_strip(s));
			val = eq ? strdup(import_strip(eq + 1)) : NULL;
			if (eq && !val) {
				free(key);
				return log_oom();
			}
		}
		if (!key)
			return log_oom();
		for (char *p = key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (val)
			strip_inline_comment(val, file, line);
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(key);
			free(val);
			ini_free(v, n);
			return log_oom();
		}
		v = nv;
		v[n++] = (struct ini){
			.section = strdup(section), .key = key, .value = val, .line = line
		};
		if (!v[n - 1].section) {
			ini_free(v, n);
			return log_oom();
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static enum kind ini_kind(const struct ini *v, size_t n, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	for (size_t i = 0; i < n; i++) {
		if (streq(v[i].section, "Host"))
			return KIND_SYS;
		if (streq(v[i].section, "Service Discovery") ||
		    streq(v[i].section, "Discovery controller connection management") ||
		    (streq(v[i].section, "Global") && streq(v[i].key, "pleo")))
			return KIND_STAFD;
		if (streq(v[i].section, "I/O controller connection management") ||
		    (streq(v[i].section, "Global") &&
		     (str_startswith(v[i].key, "nr-") || streq(v[i].key, "sticky-connections"))))
			return KIND_STACD;
	}
	if (strstr(base, "stafd"))
		return KIND_STAFD;
	if (strstr(base, "stacd"))
		return KIND_STACD;
	if (strstr(base, "sys"))
		return KIND_SYS;
	return _KIND_MAX;
}

/*
 * nvme-stas's persistent-connections (in [Global] up to 2.4.1, then in
 * [Discovery controller connection management]): true is what stas does;
 * false (disconnect the DCs when stafd stops) has no stas equivalent and is
 * reported, never turned into something else.
 */
static int import_persistent(struct import *im, const char *v, const char *file, unsigned line,
			     bool legacy)
{
	const char *b = ini_bool(v);

	if (!b) {
		untranslated(im, file, line,
			     "'persistent-connections = %s' not translated: not true or false",
			     config_value_mask(NULL, v));
		return 0;
	}
	if (streq(b, "true")) {
		note(file, line,
		     "persistent-connections = true%s: what stas always does, nothing to translate",
		     legacy ? " (the [Global] spelling of nvme-stas 2.4.1 and older)" : "");
		return 0;
	}
	untranslated(im, file, line, "%s", CONFIG_PERSISTENT_FALSE_REFUSED);
	return 0;
}

static int import_ini_setting(struct import *im, enum kind kind, const struct ini *s,
			      const char *file)
{
	const char *sec = s->section, *k = s->key, *v = s->value;
	int role = kind == KIND_STAFD ? SEC_DISC : SEC_IO;
	const struct nvme_opt *o;
	_cleanup_free_ char *cv = NULL;
	unsigned line = s->line;

	if (!v) {
		untranslated(im, file, line, "'%s' not translated: no value", k);
		return 0;
	}
	if (isempty(v) && !streq(k, "symname")) {
		note(file, line, "'%s' is empty: nvme-stas's default applies, nothing to translate",
		     k);
		return 0;
	}

	if (kind == KIND_SYS) {
		static const char *const defaults[] = { "nqn", "file:///etc/nvme/hostnqn",
							"id",  "file:///etc/nvme/hostid",
							"key", "file:///etc/nvme/hostkey" };
		if (!streq(sec, "Host") ||
		    !(streq(k, "nqn") || streq(k, "id") || streq(k, "key") || streq(k, "symname")))
			goto unknown;
		for (size_t i = 0; i < ELEMENTSOF(defaults); i += 2)
			if (streq(k, defaults[i]) && streq(v, defaults[i + 1])) {
				note(file, line,
				     "host.%s = %s is the default, nothing to translate", k, v);
				return 0;
			}
		if (isempty(v)) {
			note(file, line, "'symname' is empty: nothing to translate");
			return 0;
		}
		return import_add_string_item(im, SEC_HOST, k, v, file, line);
	}

	if (streq(k, "persistent-connections") &&
	    (streq(sec, "Global") || streq(sec, "Discovery controller connection management")))
		return import_persistent(im, v, file, line, streq(sec, "Global"));
	if (streq(sec, "Global")) {
		if (streq(k, "tron")) {
			/* tron of either daemon turns stas's tracing on */
			cv = convert(im, NVME_OPT_BOOL, k, v, file, line);
			if (!cv)
				return 0;
			if (streq(cv, "false")) {
				for (size_t i = 0; i < im->n_items; i++)
					if (im->items[i].sec == SEC_GLOBAL &&
					    streq(im->items[i].key, "tron")) {
						note(file, line,
						     "tron = false ignored: %s turned it on",
						     im->items[i].src);
						return 0;
					}
			}
			return import_add_item(im, SEC_GLOBAL, k, cv, file, line);
		}
		if ((o = conn_opt_from_key(k)) || streq(k, "ignore-iface")) {
			if (o && streq(o->key, "tls")) {
				untranslated(im, file, line,
					     "'%s' in [Global] not translated: stas sets tls per "
					     "controller",
					     k);
				return 0;
			}
			if (kind == KIND_STAFD && o && o->io_only) {
				untranslated(
					im, file, line,
					"'%s = %s' not translated: not an option of discovery controllers",
					k, config_value_mask(k, v));
				return 0;
			}
			cv = convert(im, o ? o->type : NVME_OPT_BOOL, k, v, file, line);
			return cv ? import_add_item(im, role, k, cv, file, line) : 0;
		}
		if (streq(k, "ip-family"))
			return import_add_string_item(im, role, k, v, file, line);
		if (streq(k, "pleo") && kind == KIND_STAFD)
			return import_add_string_item(im, SEC_DISC, k, v, file, line);
		if (streq(k, "sticky-connections") && kind == KIND_STACD) {
			const char *scope =
				strcasecmp(v, "enabled") == 0  ? "no-disconnect" :
				strcasecmp(v, "disabled") == 0 ? "only-stas-connections" :
								 NULL;
			if (!scope)
				goto unknown;
			note(file, line,
			     "sticky-connections = %s translated to io.disconnect-scope = \"%s\"",
			     v, scope);
			return import_add_string_item(im, SEC_IO, "disconnect-scope", scope, file,
						      line);
		}
		if (streq(k, "udev-rule")) {
			untranslated(
				im, file, line,
				"'udev-rule = %s' not translated: stas always replaces nvme-cli's autoconnect udev rule",
				config_value_mask(k, v));
			return 0;
		}
		if (streq(k, "duplicate-connect")) {
			untranslated(
				im, file, line,
				"'duplicate-connect = %s' not translated: stas never makes duplicate connections",
				config_value_mask(k, v));
			return 0;
		}
		goto unknown;
	}
	if (streq(sec, "Service Discovery") && kind == KIND_STAFD) {
		if (streq(k, "zeroconf"))
			return import_add_string_item(im, SEC_DISC, k, v, file, line);
		goto unknown;
	}
	if (streq(sec, "Discovery controller connection management") && kind == KIND_STAFD) {
		if (streq(k, "zeroconf-connections-persistence"))
			return import_add_string_item(im, SEC_DISC, k, v, file, line);
		goto unknown;
	}
	if (streq(sec, "I/O controller connection management") && kind == KIND_STACD) {
		if (streq(k, "disconnect-scope"))
			return import_add_string_item(im, SEC_IO, k, v, file, line);
		if (streq(k, "disconnect-trtypes"))
			/* "tcp+rdma": the loader takes nvme-stas's form as it is */
			return import_add_string_item(im, SEC_IO, k, v, file, line);
		if (streq(k, "connect-attempts-on-ncc")) {
			const char *n = ini_int(v);
			if (n && streq(n, "1")) {
				note(file, line,
				     "connect-attempts-on-ncc = 1 raised to 2 (as nvme-stas does)");
				n = "2";
			}
			if (!n) {
				untranslated(im, file, line,
					     "'%s = %s' not translated: not an integer", k,
					     config_value_mask(k, v));
				return 0;
			}
			return import_add_item(im, SEC_IO, k, n, file, line);
		}
		goto unknown;
	}
	if (streq(sec, "Controllers")) {
		if (streq(k, "controller"))
			return import_controller(im, role, false, v, file, line);
		if (streq(k, "exclude") || streq(k, "blacklist"))
			return import_controller(im, role, true, v, file, line);
		goto unknown;
	}

unknown:
	/* an option it cannot translate: its value is never shown */
	untranslated(im, file, line,
		     "'%s' in [%s] not translated: not an option of nvme-stas %s.conf (value not "
		     "shown)",
		     config_value_mask(NULL, k), config_value_mask(NULL, sec), kind_names[kind]);
	return 0;
}

static int import_discovery_line(struct import *im, char *l, const char *file, unsigned line)
{
	_cleanup_erase_free_ char *body = NULL, *iodef = NULL;
	size_t body_size = 0, iodef_size = 0;
	char *save = NULL, *tok;
	bool any = false, any_io = false, persistent = false;
	FILE *f = open_memstream(&body, &body_size), *fio;

	if (!f)
		return log_oom();
	/* options connect-all applied to the I/O controllers it connected through this DC */
	fio = open_memstream(&iodef, &iodef_size);
	if (!fio) {
		fclose(f);
		return log_oom();
	}
	tok = strtok_r(l, " \t", &save);
	while (tok) {
		const struct nvme_opt *o = NULL;
		const char *val = NULL, *name = tok;
		char *eq;

		if (str_startswith(tok, "--")) {
			name = tok + 2;
			eq = strchr(name, '=');
			if (eq) {
				*eq = '\0';
				val = eq + 1;
			}
			o = nvme_opt_from_name(name);
		} else if (tok[0] == '-' && tok[1] == 'd' && !tok[2]) {
			/* nvme-cli 2.3 read discovery.conf with -d as --disable-sqflow */
			o = nvme_opt_from_name("disable-sqflow");
			note(file, line, "-d read as --disable-sqflow (nvme-cli 2.3's meaning)");
		} else if (tok[0] == '-' && tok[1]) {
			o = nvme_opt_from_letter(tok[1]);
			if (o && tok[2])
				val = tok + 2; /* -ttcp */
			else if (o && tok[2] == '\0' && o->flag)
				val = NULL;
			if (o && val && *val == '=')
				val++;
		} else {
			/* a stray word: it may be the value of a misspelled option */
			untranslated(im, file, line, "'%s' not translated: not an option",
				     config_value_mask(NULL, tok));
			tok = strtok_r(NULL, " \t", &save);
			continue;
		}
		if (!o) {
			/*
			 * An option it cannot translate: its value (after '=', glued
			 * to a letter, or the next word) is never shown.
			 */
			bool value_follows = tok[1] == '-' ? !val : tok[2] == '\0';

			if (tok[1] != '-')
				tok[2] = '\0'; /* "-xVALUE": the letter only */
			untranslated(im, file, line,
				     "'%s' not translated: unknown nvme discover option (value not "
				     "shown)",
				     config_value_mask(NULL, tok));
			tok = strtok_r(NULL, " \t", &save);
			if (value_follows && tok && tok[0] != '-')
				tok = strtok_r(NULL, " \t", &save);
			continue;
		}
		if (!o->flag && !val) {
			val = strtok_r(NULL, " \t", &save);
			if (!val) {
				untranslated(im, file, line, "'%s' not translated: no value", tok);
				break;
			}
		}
		if (o->key == NULL && streq(o->name, "persistent")) {
			persistent = true;
			note(file, line,
			     "--persistent: what stas does with every discovery "
			     "controller, nothing to translate");
		} else if (!o->key)
			untranslated(im, file, line, "'--%s%s%s' not translated: %s", o->name,
				     val ? "=" : "",
				     val ? (o->type == NVME_OPT_SECRET ?
						    CONFIG_SECRET_MASK :
						    config_value_mask(o->name, val)) :
					   "",
				     o->why);
		else {
			_cleanup_free_ char *cv = NULL;
			bool conn = o->field < 0 &&
				    (o->type == NVME_OPT_INT || o->type == NVME_OPT_BOOL);

			if (o->flag)
				cv = strdup("true");
			else
				cv = convert(im, o->type, o->name, val, file, line);
			if (cv && !o->io_only) {
				fprintf(f, "%s%s = %s;", any ? " " : "", o->key, cv);
				any = true;
			}
			/* the I/O controllers connected through this DC got it too */
			if (cv && conn) {
				fprintf(fio, "%s%s = %s;", any_io ? " " : "", o->key, cv);
				any_io = true;
			}
			/* a DC's tls-key is also its I/O controllers' (conf.c); a DH-HMAC-CHAP secret is not */
			if (cv && o->type == NVME_OPT_SECRET && !streq(o->key, "tls-key"))
				untranslated(
					im, file, line,
					"'--%s' applies to this discovery controller only: nvme-cli "
					"also used it for the I/O controllers it connected through "
					"it; set host.key or an io.controllers entry's %s for them",
					o->name, o->key);
			if (cv)
				explicit_bzero(cv, strlen(cv));
		}
		tok = strtok_r(NULL, " \t", &save);
	}
	if (fclose(fio) != 0) {
		fclose(f);
		return log_oom();
	}
	if (any_io)
		fprintf(f, " io-defaults = { %s };", iodef);
	if (!persistent && any)
		note(file, line,
		     "no --persistent: connect-all disconnected this discovery controller after "
		     "reading it; stas keeps it connected so that its log page changes arrive");
	if (fclose(f) != 0)
		return log_oom();
	if (!any) {
		untranslated(im, file, line, "line not translated: no controller options in it");
		return 0;
	}
	return import_add_entry(im, SEC_DISC, false, body, file, line);
}

static int import_discovery_conf(struct import *im, const char *file, char *text)
{
	unsigned line = 0;
	char *p = text;

	while (p && *p) {
		char *nl = strchr(p, '\n'), *s;
		int r;

		if (nl)
			*nl = '\0';
		line++;
		s = import_strip(p);
		if (*s && *s != '#') {
			strip_inline_comment(s, file, line);
			r = import_discovery_line(im, s, file, line);
			if (r < 0)
				return r;
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

static bool looks_like_discovery_conf(const char *text)
{
	const char *p = text;

	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#') {
			p = strchrnul(p, '\n');
			continue;
		}
		return *p == '-';
	}
	return false;
}

static bool looks_like_json(const char *text)
{
	const char *p = text;

	while (isspace((unsigned char)*p))
		p++;
	return *p == '[' && p[1] != '\0' && strchr("{\n\r\t ]", p[1]) != NULL;
}

/* nvme-cli 3's INI sections, or nvme-stas's [Host] with nvme-cli's key names. */
static bool looks_like_fabrics_conf(const char *text, const char *path)
{
	static const char *const markers[] = { "[Discovery Controller]", "[Subsystem]",
					       "[Discovery Controller Defaults]",
					       "[I/O Controller Defaults]" };
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	for (size_t i = 0; i < ELEMENTSOF(markers); i++)
		if (strstr(text, markers[i]))
			return true;
	if (strstr(text, "[Host]") && (strstr(text, "hostnqn") || strstr(text, "hostsymname")))
		return true;
	return str_startswith(base, "nvme-fabrics") != NULL;
}

static int import_file(struct import *im, const char *path, enum kind forced)
{
	_cleanup_erase_free_ char *text = NULL;
	struct ini *v = NULL;
	size_t n = 0;
	enum kind kind = forced;
	int r;

	r = read_full_file(path, IMPORT_FILE_MAX, &text, NULL);
	if (r < 0)
		return log_error_errno(r, "Failed to read %s: %m", path);

	if (kind == _KIND_MAX)
		kind = looks_like_discovery_conf(text)	   ? KIND_DISCOVERY :
		       looks_like_json(text)		   ? KIND_JSON :
		       looks_like_fabrics_conf(text, path) ? KIND_FABRICS :
							     _KIND_MAX;
	if (kind == KIND_DISCOVERY) {
		fprintf(stderr, "%s: importing as nvme-cli discovery.conf\n", path);
		return import_discovery_conf(im, path, text);
	}
	if (kind == KIND_JSON) {
		fprintf(stderr, "%s: importing as nvme-cli config.json\n", path);
		return import_config_json(im, path, text);
	}
	if (kind == KIND_FABRICS) {
		fprintf(stderr, "%s: importing as nvme-cli nvme-fabrics.conf\n", path);
		return import_fabrics_conf(im, path, text, true);
	}

	r = ini_parse(im, path, text, &v, &n);
	if (r < 0)
		return r;
	if (kind == _KIND_MAX)
		kind = ini_kind(v, n, path);
	if (kind == _KIND_MAX) {
		ini_free(v, n);
		log_error("%s: cannot tell whether this is a stafd.conf, stacd.conf or sys.conf; "
			  "use --as=stafd|stacd|sys.",
			  path);
		return -EINVAL;
	}
	fprintf(stderr, "%s: importing as nvme-stas %s.conf\n", path, kind_names[kind]);
	for (size_t i = 0; i < n && r >= 0; i++)
		r = import_ini_setting(im, kind, &v[i], path);
	ini_free(v, n);
	return r;
}

static char *import_format(const struct import *im, char **files)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	fprintf(f, "# stas.conf - generated by 'stasadm config import' from:\n");
	STRV_FOREACH(p, files)
		fprintf(f, "#   %s\n", *p);
	fprintf(f, "# See stas.conf(5). Options not listed keep their defaults.\n");

	for (int sec = 0; sec < _SEC_MAX; sec++) {
		bool header = false;

		for (size_t i = 0; i < im->n_items; i++) {
			const struct item *it = &im->items[i];
			if (it->sec != sec)
				continue;
			if (!header)
				fprintf(f, "\n%s = {\n", sec_names[sec]);
			header = true;
			fprintf(f, "  # from %s\n  %s = %s;\n", it->src, it->key, it->value);
		}
		for (int ex = 0; ex <= 1; ex++) {
			bool list = false;
			for (size_t i = 0; i < im->n_entries; i++) {
				const struct entry *e = &im->entries[i];
				if (e->sec != sec || e->exclude != ex)
					continue;
				if (!header)
					fprintf(f, "\n%s = {\n", sec_names[sec]);
				header = true;
				if (!list)
					fprintf(f, "  %s = (\n", ex ? "exclude" : "controllers");
				else
					fprintf(f, ",\n");
				list = true;
				fprintf(f, "    # from %s\n    { %s }", e->src, e->body);
			}
			if (list)
				fprintf(f, "\n  );\n");
		}
		if (header)
			fprintf(f, "};\n");
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int import_kind_from_string(const char *s)
{
	if (streq(s, "json"))
		return KIND_JSON;
	if (streq(s, "fabrics") || streq(s, "nvme-fabrics.conf"))
		return KIND_FABRICS;
	for (int k = 0; k < _KIND_MAX; k++)
		if (streq(s, kind_names[k]))
			return k;
	return -EINVAL;
}

int config_import(char **files, const char *output, bool force, int kind)
{
	enum kind forced = kind >= 0 && kind < _KIND_MAX ? (enum kind)kind : _KIND_MAX;
	_cleanup_(import_free) struct import im = {};
	_cleanup_erase_free_ char *text = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	struct stas_config *cfg = NULL;
	int r;

	if (!files || !*files) {
		log_error("config import needs at least one file; see 'stasadm config --help'.");
		return EXIT_USAGE;
	}
	if (output && !force && access(output, F_OK) == 0) {
		log_error("%s exists; use --force to replace it.", output);
		return 1;
	}

	STRV_FOREACH(p, files) {
		r = import_file(&im, *p, forced);
		if (r < 0)
			return 1;
	}

	text = import_format(&im, files);
	if (!text)
		return log_oom(), 1;

	/* the whole result must pass "config check" (a missing file:// secret: a warning) */
	r = config_load_string_flags(text, output ?: "<output>",
				     CONFIG_LOAD_MISSING_SECRET_FILES_WARN, &cfg, &errors);
	if (r < 0) {
		print_config_errors(errors);
		log_error("The translated configuration does not validate; nothing written.");
		return 1;
	}
	/* nvme-stas warns about a missing key file too; "config check" will refuse it */
	STRV_FOREACH(w, cfg->warnings)
		fprintf(stderr, "warning: %s\n", *w);
	config_free(cfg);

	if (output) {
		r = write_file_atomic(output, text, strlen(text), 0600);
		if (r < 0)
			return log_error_errno(r, "Failed to write %s: %m", output), 1;
		fprintf(stderr, "Wrote %s.\n", output);
	} else
		fputs(text, stdout);

	if (im.problems)
		fprintf(stderr, "%u setting%s not translated (see above).\n", im.problems,
			im.problems == 1 ? "" : "s");
	return im.problems ? 1 : 0;
}
