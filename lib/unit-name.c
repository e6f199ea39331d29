/* SPDX-License-Identifier: Apache-2.0 */
/*
 * unit-name.c - systemd's unit-name escaping (reimplemented from the rules
 * systemd-escape follows) and the stas-discover@ instance encoding.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "sha256.h"
#include "tid.h"
#include "unit-name.h"

#define DC_KEY_PREFIX "key-"
#define DC_KEY_HEX 16

/* Bytes systemd keeps as they are in an instance (plus '.' not in front). */
static bool char_is_plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == ':' || c == '_' || c == '.';
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -EINVAL;
}

char *unit_name_escape(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char *buf, *t;

	assert(s);

	/* Worst case every byte becomes "\xNN". */
	buf = malloc(strlen(s) * 4 + 1);
	if (!buf)
		return NULL;

	t = buf;
	for (const char *f = s; *f; f++) {
		unsigned char c = (unsigned char)*f;

		if (c == '/')
			*t++ = '-';
		else if (char_is_plain((char)c) && !(c == '.' && f == s))
			*t++ = (char)c;
		else {
			*t++ = '\\';
			*t++ = 'x';
			*t++ = hex[c >> 4];
			*t++ = hex[c & 15];
		}
	}
	*t = '\0';
	return buf;
}

/*
 * Simplify @path as systemd does before path escaping: drop empty and "."
 * components (so duplicate, leading and trailing '/' go), refuse "..".
 * Returns the components joined by '/' without a leading '/' ("" for the
 * root) in *ret. Return: 0, -EINVAL for "..", "." alone, -ENOMEM.
 */
static int path_simplify_relative(const char *path, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;
	const char *p = path;

	buf = malloc(strlen(path) + 1);
	if (!buf)
		return -ENOMEM;

	while (*p) {
		size_t l;

		p += strspn(p, "/");
		l = strcspn(p, "/");
		if (l == 0)
			break;
		if (l == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (!(l == 1 && p[0] == '.')) {
			if (n > 0)
				buf[n++] = '/';
			memcpy(buf + n, p, l);
			n += l;
		}
		p += l;
	}
	buf[n] = '\0';

	/* "." or "./." has no component left, but is not the root either. */
	if (n == 0 && path[0] != '\0' && path[0] != '/')
		return -EINVAL;
	*ret = TAKE_PTR(buf);
	return 0;
}

int unit_name_path_escape(const char *path, char **ret)
{
	_cleanup_free_ char *p = NULL;
	char *s;
	int r;

	assert(path);
	assert(ret);

	r = path_simplify_relative(path, &p);
	if (r < 0)
		return r;
	s = p[0] == '\0' ? strdup("-") : unit_name_escape(p);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int unit_name_unescape(const char *s, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	char *t;

	assert(s);
	assert(ret);

	buf = malloc(strlen(s) + 1);
	if (!buf)
		return -ENOMEM;

	t = buf;
	for (const char *f = s; *f; f++) {
		if (*f == '-')
			*t++ = '/';
		else if (*f == '\\') {
			int a, b;

			if (f[1] != 'x')
				return -EINVAL;
			a = unhex(f[2]);
			if (a < 0)
				return -EINVAL;
			b = unhex(f[3]);
			if (b < 0)
				return -EINVAL;
			/* systemd would silently truncate at "\x00"; we refuse it. */
			if (a == 0 && b == 0)
				return -EINVAL;
			*t++ = (char)((a << 4) | b);
			f += 3;
		} else
			*t++ = *f;
	}
	*t = '\0';

	*ret = TAKE_PTR(buf);
	return 0;
}

/* An absolute path with no empty, "." or ".." component, no trailing '/'. */
static bool path_is_normalized_absolute(const char *p)
{
	if (p[0] != '/')
		return false;
	if (streq(p, "/"))
		return true;
	for (p++;;) {
		size_t l = strcspn(p, "/");

		if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += l;
		if (*p == '\0')
			return true;
		p++;
	}
}

int unit_name_path_unescape(const char *s, char **ret)
{
	_cleanup_free_ char *w = NULL;
	char *p;
	int r;

	assert(s);
	assert(ret);

	if (s[0] == '\0')
		return -EINVAL;
	if (streq(s, "-")) {
		p = strdup("/");
		if (!p)
			return -ENOMEM;
		*ret = p;
		return 0;
	}

	r = unit_name_unescape(s, &w);
	if (r < 0)
		return r;

	if (asprintf(&p, "/%s", w) < 0)
		return -ENOMEM;
	if (!path_is_normalized_absolute(p) || streq(p, "/")) {
		free(p);
		return -EINVAL;
	}
	*ret = p;
	return 0;
}

int unit_name_build(const char *prefix, const char *instance, const char *suffix, char **ret)
{
	char *s;

	assert(prefix);
	assert(instance);
	assert(suffix);
	assert(ret);

	if (strlen(prefix) + 1 + strlen(instance) + strlen(suffix) > UNIT_NAME_MAX)
		return -ENAMETOOLONG;
	if (asprintf(&s, "%s@%s%s", prefix, instance, suffix) < 0)
		return -ENOMEM;
	*ret = s;
	return 0;
}

void nqn_key_format(const char *nqn, char ret[NQN_KEY_MAX])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t d[SHA256_DIGEST_SIZE];
	char *p = ret + STRLEN(NQN_KEY_PREFIX);

	assert(nqn);

	sha256(nqn, strlen(nqn), d);
	memcpy(ret, NQN_KEY_PREFIX, STRLEN(NQN_KEY_PREFIX));
	for (size_t i = 0; i < NQN_KEY_HEX / 2; i++) {
		*p++ = hex[d[i] >> 4];
		*p++ = hex[d[i] & 15];
	}
	*p = '\0';
}

int unit_name_connect(const char *nqn, char **ret, bool *ret_is_key)
{
	_cleanup_free_ char *esc = NULL;
	char key[NQN_KEY_MAX];
	int r;

	assert(nqn);
	assert(ret);

	esc = unit_name_escape(nqn);
	if (!esc)
		return -ENOMEM;
	r = unit_name_build(UNIT_PREFIX_CONNECT, esc, UNIT_SUFFIX_SERVICE, ret);
	if (r != -ENAMETOOLONG) {
		if (r >= 0 && ret_is_key)
			*ret_is_key = false;
		return r;
	}
	/* Too long to be an instance: the short key, resolved by stas-connect. */
	nqn_key_format(nqn, key);
	r = unit_name_build(UNIT_PREFIX_CONNECT, key, UNIT_SUFFIX_SERVICE, ret);
	if (r >= 0 && ret_is_key)
		*ret_is_key = true;
	return r;
}

int connect_instance_parse(const char *arg, char ret_key[NQN_KEY_MAX])
{
	const char *h;

	assert(arg);

	if (!str_startswith(arg, "key-") && !str_startswith(arg, "key/"))
		return 0;
	h = arg + STRLEN(NQN_KEY_PREFIX);
	if (strlen(h) != NQN_KEY_HEX || strspn(h, "0123456789abcdef") != NQN_KEY_HEX)
		return 0;
	memcpy(ret_key, NQN_KEY_PREFIX, STRLEN(NQN_KEY_PREFIX));
	memcpy(ret_key + STRLEN(NQN_KEY_PREFIX), h, NQN_KEY_HEX + 1);
	return 1;
}

bool unit_name_is_valid_instance(const char *s)
{
	if (isempty(s))
		return false;
	for (; *s; s++)
		if (!char_is_plain(*s) && *s != '\\' && *s != '-' && *s != '@')
			return false;
	return true;
}

bool unit_name_is_valid_service(const char *s)
{
	_cleanup_free_ char *stem = NULL;
	size_t n = s ? strlen(s) : 0, suffix = STRLEN(UNIT_SUFFIX_SERVICE);

	if (n <= suffix || n > UNIT_NAME_MAX || !streq(s + n - suffix, UNIT_SUFFIX_SERVICE))
		return false;
	stem = strndup(s, n - suffix);
	return stem && unit_name_is_valid_instance(stem);
}

/*
 * Whether @v can be one component of the path form and come back unchanged
 * after path simplification and splitting.
 */
static bool component_ok(const char *v)
{
	return !isempty(v) && !strchr(v, '/') && !streq(v, ".") && !streq(v, "..");
}

/* The path form in *ret; -EINVAL when @dc's fields cannot be one. */
static int dc_path_format(const struct tid *dc, char **ret)
{
	static const struct {
		enum tid_field field;
		const char *name;
	} opts[] = {
		{ TID_FIELD_HOST_IFACE, "host-iface" },
		{ TID_FIELD_HOST_TRADDR, "host-traddr" },
		{ TID_FIELD_SUBSYSNQN, "nqn" },
		{ TID_FIELD_HOST_NQN, "hostnqn" },
	};
	_cleanup_free_ char *path = NULL;
	size_t size = 0;
	FILE *f;
	bool bad = false;

	f = open_memstream(&path, &size);
	if (!f)
		return -ENOMEM;

	if (!component_ok(dc->transport) || !component_ok(dc->traddr))
		bad = true;
	fprintf(f, "%s/%s", dc->transport, dc->traddr);
	/* fc and loop have no service ID; "=" would make it look like an option. */
	if (dc->trsvcid[0] != '\0') {
		if (!component_ok(dc->trsvcid) || strchr(dc->trsvcid, '='))
			bad = true;
		fprintf(f, "/%s", dc->trsvcid);
	}
	for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
		const char *v = tid_field_get(dc, opts[i].field);

		if (isempty(v))
			continue;
		if (opts[i].field == TID_FIELD_SUBSYSNQN && streq(v, NVME_DISC_SUBSYS_NQN))
			continue;
		if (strchr(v, '/'))
			bad = true;
		fprintf(f, "/%s=%s", opts[i].name, v);
	}

	if (fclose(f) != 0)
		return -ENOMEM;
	if (bad)
		return -EINVAL;
	*ret = TAKE_PTR(path);
	return 0;
}

int dc_instance_format(const struct tid *dc, char **ret, bool *ret_is_key)
{
	_cleanup_free_ char *path = NULL, *escaped = NULL;
	char key[TID_KEY_MAX];
	char *s;
	int r;

	assert(dc);
	assert(ret);

	if (isempty(dc->transport))
		return -EINVAL;

	r = dc_path_format(dc, &path);
	if (r == -ENOMEM)
		return r;
	if (r >= 0) {
		r = unit_name_path_escape(path, &escaped);
		if (r == -ENOMEM)
			return r;
	}
	if (escaped &&
	    STRLEN(UNIT_PREFIX_DISCOVER "@") + strlen(escaped) + STRLEN(UNIT_SUFFIX_SERVICE) <=
		    UNIT_NAME_MAX) {
		*ret = TAKE_PTR(escaped);
		if (ret_is_key)
			*ret_is_key = false;
		return 0;
	}

	r = tid_key(dc, key, sizeof(key));
	if (r < 0)
		return log_debug_errno(r, "Cannot build the key of a DC's TID: %m");
	if (asprintf(&s, DC_KEY_PREFIX "%016" PRIx64, fnv1a_64(key, 0)) < 0)
		return -ENOMEM;
	log_debug("DC %s is named by its key %s", key, s);
	*ret = s;
	if (ret_is_key)
		*ret_is_key = true;
	return 0;
}

int unit_name_dc_instance(const struct tid *dc, const char *host_nqn, char **ret, bool *ret_is_key)
{
	struct tid x = *dc;

	if (!isempty(host_nqn) && streq(x.host_nqn, host_nqn))
		x.host_nqn[0] = '\0';
	return dc_instance_format(&x, ret, ret_is_key);
}

int unit_name_dc(const struct tid *dc, const char *host_nqn, char **ret_unit, bool *ret_is_key)
{
	_cleanup_free_ char *instance = NULL;
	bool is_key = false;
	int r;

	r = unit_name_dc_instance(dc, host_nqn, &instance, &is_key);
	if (r < 0)
		return r;
	r = unit_name_build(UNIT_PREFIX_DISCOVER, instance, UNIT_SUFFIX_SERVICE, ret_unit);
	if (r < 0)
		return r;
	if (ret_is_key)
		*ret_is_key = is_key;
	return 0;
}

static bool is_ctrl_name(const char *s)
{
	const char *d = str_startswith(s, "nvme");

	return d && *d && strspn(d, "0123456789") == strlen(d);
}

static bool is_key_name(const char *s)
{
	const char *h = str_startswith(s, DC_KEY_PREFIX);

	return h && strlen(h) == DC_KEY_HEX && strspn(h, "0123456789abcdef") == DC_KEY_HEX;
}

/* Parse the unescaped path form "/transport/traddr[/trsvcid][/k=v...]". */
static int dc_path_parse(char *path, struct tid *ret)
{
	struct tid t = {};
	bool seen[_TID_FIELD_MAX] = {};
	char *p = path + 1, *c;
	unsigned n = 0;
	int r;

	assert(path[0] == '/');

	while ((c = strsep(&p, "/"))) {
		char *eq = strchr(c, '=');
		int f;

		if (n < 2 || (n == 2 && !eq)) {
			f = n == 0 ? TID_FIELD_TRANSPORT :
			    n == 1 ? TID_FIELD_TRADDR :
				     TID_FIELD_TRSVCID;
		} else {
			if (!eq)
				return log_debug_errno(EINVAL, "DC instance: '%s' is not key=value",
						       c);
			*eq = '\0';
			f = tid_field_from_string(c);
			if (f != TID_FIELD_SUBSYSNQN && f != TID_FIELD_HOST_TRADDR &&
			    f != TID_FIELD_HOST_IFACE && f != TID_FIELD_HOST_NQN)
				return log_debug_errno(EINVAL, "DC instance: unknown key '%s'", c);
			if (seen[f])
				return log_debug_errno(EINVAL, "DC instance: key '%s' repeated", c);
			c = eq + 1;
			if (*c == '\0')
				return log_debug_errno(EINVAL, "DC instance: empty value");
		}
		seen[f] = true;
		r = tid_field_set(&t, (enum tid_field)f, c);
		if (r < 0)
			return log_debug_errno(r, "DC instance: bad %s '%s': %m",
					       tid_field_to_string((enum tid_field)f), c);
		n++;
	}
	if (n < 2)
		return log_debug_errno(EINVAL, "DC instance: no transport address");

	/* A DC's subsystem is the well-known discovery NQN unless named. */
	if (!seen[TID_FIELD_SUBSYSNQN]) {
		r = tid_field_set(&t, TID_FIELD_SUBSYSNQN, NVME_DISC_SUBSYS_NQN);
		if (r < 0)
			return r;
	}

	r = tid_canonicalize(&t);
	if (r < 0)
		return log_debug_errno(r, "DC instance: invalid transport ID: %m");

	*ret = t;
	return 0;
}

int dc_instance_parse(const char *instance, struct tid *ret, char **ret_ctrl, char **ret_key)
{
	_cleanup_free_ char *path = NULL, *again = NULL, *name = NULL;
	struct tid t = {};
	bool is_key;
	int r;

	assert(instance);
	assert(ret);

	if (!unit_name_is_valid_instance(instance))
		return log_debug_errno(EINVAL, "DC instance '%s' has invalid characters", instance);

	if (is_ctrl_name(instance) || is_key_name(instance)) {
		bool ctrl = is_ctrl_name(instance);

		name = strdup(instance);
		if (!name)
			return -ENOMEM;
		memset(ret, 0, sizeof(*ret));
		if (ret_ctrl)
			*ret_ctrl = ctrl ? TAKE_PTR(name) : NULL;
		if (ret_key)
			*ret_key = ctrl ? NULL : TAKE_PTR(name);
		return 0;
	}

	r = unit_name_path_unescape(instance, &path);
	if (r < 0)
		return log_debug_errno(r, "DC instance '%s' is not a path-escaped ID: %m",
				       instance);
	r = dc_path_parse(path, &t);
	if (r < 0)
		return r;

	/*
	 * Only the canonical spelling names a DC, so that one DC can never
	 * have two units running at once.
	 */
	r = dc_instance_format(&t, &again, &is_key);
	if (r < 0)
		return r;
	if (is_key || !streq(again, instance))
		return log_debug_errno(EINVAL, "DC instance '%s' is not canonical (expected '%s')",
				       instance, again);

	*ret = t;
	if (ret_ctrl)
		*ret_ctrl = NULL;
	if (ret_key)
		*ret_key = NULL;
	return 0;
}
