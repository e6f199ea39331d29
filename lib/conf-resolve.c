/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf-resolve.c - values the configuration names rather than holds:
 * "file://PATH" settings (secrets, host NQN/ID/key/symname) are read here,
 * and the host identity is resolved from the configured or default files.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-internal.h"
#include "conf.h"
#include "fileio.h"
#include "hostid.h"
#include "macro.h"
#include "strv.h"
#include "tls-psk.h"

static const char *const host_names[_H_MAX] = { "nqn", "id", "key", "symname", "tls-key" };

/* ------------------------------------------------------------- file values */

/*
 * The value of a "file://PATH" setting: the first line of PATH, trimmed;
 * @first_word: only its first whitespace-separated word (as nvme-stas does
 * for NQNs, IDs and keys). Return: 0, -ENODATA when empty, -errno.
 */
static int read_file_value(const char *path, bool first_word, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	char *b, *e;
	int r;

	r = read_regular_file(path, FILE_VALUE_MAX, &buf, NULL);
	if (r < 0)
		return r;
	b = buf;
	while (isspace((unsigned char)*b))
		b++;
	e = b + strcspn(b, first_word ? " \t\r\n" : "\r\n");
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if (e == b) {
		explicit_bzero(buf, strlen(buf));
		return -ENODATA;
	}
	*ret = strndup(b, (size_t)(e - b));
	explicit_bzero(buf, strlen(buf));
	return *ret ? 0 : -ENOMEM;
}

/* A file:// value for a controller or the host; NULL on error (reported). */
char *conf_resolve_value(struct loader *l, const char *src, const char *name, const char *spec,
			 bool first_word, bool secret, bool quiet_missing)
{
	const char *path = str_startswith(spec, "file://");
	char *v = NULL;
	int r;

	if (!path) {
		v = strdup(spec);
		if (!v)
			l->oom = true;
		return v;
	}
	if (path[0] != '/') {
		conf_error_src(l, src, "'%s': \"%s\" is not an absolute file:// path", name,
			       secret ? CONFIG_SECRET_MASK : config_value_mask(name, spec));
		return NULL;
	}
	r = read_file_value(path, first_word, &v);
	if (r == -ENOMEM)
		l->oom = true;
	else if (r == -ENOENT && secret && !quiet_missing &&
		 (l->flags & CONFIG_LOAD_MISSING_SECRET_FILES_WARN)) {
		/* nvme-stas: a missing key file is a warning, the secret stays unset */
		char *msg;
		if (asprintf(&msg,
			     "%s: '%s': %s does not exist here; the secret stays unset "
			     "until it does",
			     src, name, path) < 0 ||
		    strv_consume_unique(&l->cfg->warnings, msg) < 0)
			l->oom = true;
	} else if (r < 0 && !quiet_missing)
		conf_error_src(l, src, "'%s': cannot read %s: %s", name, path,
			       r == -ENODATA ? "file is empty" :
			       r == -EBADFD  ? "not a regular file (a FIFO, socket or device)" :
					       strerror(-r));
	if (r >= 0 && secret)
		conf_check_secret_mode(l, path, "is a secret file");
	return r < 0 ? NULL : v;
}

void conf_resolve_host(struct loader *l)
{
	struct config_host *h = &l->cfg->host;
	char **spec[_H_MAX] = { &h->nqn_spec, &h->id_spec, &h->key_spec, &h->symname_spec,
				&h->tls_key_spec };
	char **val[_H_MAX] = { &h->nqn, &h->id, &h->key, &h->symname, &h->tls_key };

	for (int i = 0; i < _H_MAX; i++) {
		const char *src = l->host_src[i];
		bool secret = i == H_KEY || i == H_TLS_KEY;
		struct tls_psk_configured psk;
		int r = 0;
		char *v;

		if (!*spec[i] || (i >= H_KEY && isempty(*spec[i])))
			continue; /* no key / symname */
		if (src && isempty(*spec[i])) {
			conf_error_src(l, src, "'%s' must not be empty", host_names[i]);
			continue;
		}
		/* a default file that is missing or unreadable just leaves it unset */
		v = conf_resolve_value(l, src ?: "", host_names[i], *spec[i], i != H_SYMNAME,
				       secret, !src);
		if (!v)
			continue;
		if (i == H_TLS_KEY) {
			r = tls_psk_parse(v, &psk);
			tls_psk_configured_wipe(&psk);
		}
		if (r < 0) {
			conf_error_src(l, src ?: "", "'host.tls-key' is %s",
				       tls_psk_parse_strerror(r));
			conf_secret_free(&v);
			continue;
		}
		if ((i == H_NQN && !nqn_is_valid(v)) || (i == H_ID && !uuid_is_valid(v)) ||
		    (i == H_KEY && !config_secret_is_valid(v)) ||
		    (i == H_SYMNAME &&
		     (strlen(v) > SYMNAME_MAX || !config_string_is_printable(v)))) {
			static const char *const what[_H_MAX] = {
				"not a valid NQN (\"nqn.\", at most 223 bytes)",
				"not a UUID",
				"not a DH-HMAC-CHAP secret (\"DHHC-1:NN:<base64>:\")",
				"longer than 256 bytes or not printable UTF-8 text",
				NULL,
			};
			if (src)
				conf_error_src(l, src, "'host.%s' is %s", host_names[i], what[i]);
			else
				conf_error_src(l, *spec[i] + STRLEN("file://"), "host %s is %s",
					       host_names[i], what[i]);
			if (secret)
				conf_secret_free(&v);
			free(v);
			continue;
		}
		if (secret)
			conf_secret_free(val[i]);
		else
			free(*val[i]);
		*val[i] = v;
	}
}
