/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exclusion list (see exclusions.h). The reading and matching rules
 * follow nvme-cli 3's libnvme (exclusion.c, tid.c, net-util.c) rule by rule;
 * where they differ it is only on input nvme-cli cannot read sensibly either
 * (over-long lines, NUL bytes, non-regular files), and always toward "this
 * line or file counts for nothing".
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exclusions.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"

enum field {
	F_TRANSPORT,
	F_TRADDR,
	F_TRSVCID,
	F_NQN,
	F_HOST_TRADDR,
	F_HOST_IFACE,
	F_HOSTNQN,
	F_HOSTID,
	_F_MAX,
};

/* nvme connect's option names: the only spellings an entry may use. */
static const char *const field_key[_F_MAX] = {
	[F_TRANSPORT] = "transport",	 [F_TRADDR] = "traddr",
	[F_TRSVCID] = "trsvcid",	 [F_NQN] = "nqn",
	[F_HOST_TRADDR] = "host-traddr", [F_HOST_IFACE] = "host-iface",
	[F_HOSTNQN] = "hostnqn",	 [F_HOSTID] = "hostid",
};

/* A parsed entry: pointers into @buf (its own copy), NULL for absent fields. */
struct entry {
	char buf[EXCLUSIONS_LINE_MAX + 1];
	const char *f[_F_MAX];
	const char *bad; /* after a failed parse: the offending key, token or value */
	/* canonical numeric addresses of tcp/rdma entries (a scope is kept verbatim) */
	char canon[2][EXCLUSIONS_LINE_MAX + 1];
};

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';
	return s;
}

/* Parse @s as a numeric IPv4 or IPv6 address (IPv6 with an optional "%scope"). */
static int parse_numeric(const char *s, int *ret_family, unsigned char ret_addr[16])
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *pct;
	size_t n;

	if (inet_pton(AF_INET, s, ret_addr) == 1) {
		*ret_family = AF_INET;
		return 0;
	}
	pct = strchr(s, '%');
	n = pct ? (size_t)(pct - s) : strlen(s);
	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET6, host, ret_addr) != 1)
		return -EINVAL;
	*ret_family = AF_INET6;
	return 0;
}

static bool ipaddrs_equal(const char *a, const char *b)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned char x[16], y[16];
	int fx, fy;

	if (parse_numeric(a, &fx, x) < 0 || parse_numeric(b, &fy, y) < 0)
		return false;
	if (fx == fy)
		return memcmp(x, y, fx == AF_INET ? 4 : 16) == 0;
	if (fx == AF_INET) /* b is IPv6: equal only as ::ffff:a */
		return memcmp(y, v4mapped, 12) == 0 && memcmp(y + 12, x, 4) == 0;
	return memcmp(x, v4mapped, 12) == 0 && memcmp(x + 12, y, 4) == 0;
}

bool exclusions_address_equal(const char *a, const char *b, const char *transport)
{
	if (!a || !b)
		return false;
	if (transport && streq(transport, "fc"))
		return strcasecmp(a, b) == 0;
	return ipaddrs_equal(a, b) || streq(a, b);
}

/*
 * Canonical form of a numeric address in an entry (nvme-cli canonicalises
 * tcp/rdma entry addresses when it parses them): inet_ntop() of the address,
 * an IPv6 scope kept verbatim, an IPv4 one dropped. -EINVAL for a host name
 * or anything else not numeric.
 */
static int canon_ip(const char *in, char *out, size_t size)
{
	char host[INET6_ADDRSTRLEN + 1], buf[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	const char *pct = strchr(in, '%');
	size_t n = pct ? (size_t)(pct - in) : strlen(in);

	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, in, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, addr) == 1) {
		if (!inet_ntop(AF_INET, addr, buf, sizeof(buf)))
			return -EINVAL;
		pct = NULL;
	} else if (inet_pton(AF_INET6, host, addr) == 1) {
		if (!inet_ntop(AF_INET6, addr, buf, sizeof(buf)))
			return -EINVAL;
	} else
		return -EINVAL;
	if ((size_t)snprintf(out, size, "%s%s", buf, pct ? pct : "") >= size)
		return -EINVAL;
	return 0;
}

static bool ishex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* "nn-0x<1..16 hex>:pn-0x<1..16 hex>", nothing more (nvme-cli's WWN shape check). */
static bool fc_wwn_is_valid(const char *s)
{
	const char *prefix[2] = { "nn-0x", ":pn-0x" };

	for (int i = 0; i < 2; i++) {
		size_t n = 0;

		s = str_startswith(s, prefix[i]);
		if (!s)
			return false;
		while (ishex(s[n]) && n < 16)
			n++;
		if (n == 0)
			return false;
		s += n;
	}
	return *s == '\0';
}

static int entry_parse(const char *value, struct entry *e, const char **ret_reason)
{
	char *save = NULL, *tok;
	const char *transport;
	bool any = false;

	if (strscpy_checked(e->buf, sizeof(e->buf), value) < 0) {
		*ret_reason = "entry too long";
		return -EINVAL;
	}
	memset(e->f, 0, sizeof(e->f));
	e->bad = NULL;

	/* strtok_r() skips empty fields (";;", a trailing ';'), as nvme-cli's parser does. */
	for (tok = strtok_r(e->buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '='), *key, *val;
		int f;

		if (!eq) {
			if (*(tok = trim(tok))) {
				*ret_reason = "a field without '='";
				e->bad = tok;
				return -EINVAL;
			}
			continue;
		}
		*eq = '\0';
		key = trim(tok);
		val = trim(eq + 1);
		if (!*val) {
			*ret_reason = "a field with an empty value";
			e->bad = key;
			return -EINVAL;
		}
		for (f = 0; f < _F_MAX; f++)
			if (streq(key, field_key[f]))
				break;
		if (f == _F_MAX) {
			e->bad = key;
			*ret_reason =
				"an unknown key (valid: transport, traddr, trsvcid, nqn, host-traddr, "
				"host-iface, hostnqn, hostid)";
			return -EINVAL;
		}
		e->f[f] = val; /* a repeated key: the last one wins */
		any = true;
	}
	if (!any) {
		*ret_reason = "no field";
		return -EINVAL;
	}

	/* Addresses must fit the entry's own transport, if it names one. */
	transport = e->f[F_TRANSPORT];
	if (transport && streq(transport, "fc")) {
		static const int addr_fields[] = { F_TRADDR, F_HOST_TRADDR };

		for (size_t i = 0; i < ELEMENTSOF(addr_fields); i++) {
			char *a = (char *)e->f[addr_fields[i]], *comma;

			if (!a)
				continue;
			comma = strchr(a, ',');
			if (comma) /* some DCs report "nn-0x..,pn-0x.." */
				*comma = ':';
			if (!fc_wwn_is_valid(a)) {
				e->bad = a;
				*ret_reason = "an fc address not of the form nn-0x<hex>:pn-0x<hex>";
				return -EINVAL;
			}
		}
	} else if (transport && (streq(transport, "tcp") || streq(transport, "rdma"))) {
		for (int i = 0, f = F_TRADDR; i < 2; i++, f = F_HOST_TRADDR) {
			if (!e->f[f])
				continue;
			if (canon_ip(e->f[f], e->canon[i], sizeof(e->canon[i])) < 0) {
				e->bad = e->f[f];
				*ret_reason = "a tcp/rdma address that is not a numeric IP address";
				return -EINVAL;
			}
			e->f[f] = e->canon[i];
		}
	}
	return 0;
}

static const char *nonempty(const char *s)
{
	return isempty(s) ? NULL : s;
}

static bool entry_match(const struct entry *e, const struct exclusions_target *target)
{
	const struct tid *t = target->tid;
	const char *conn[_F_MAX] = {
		[F_TRANSPORT] = nonempty(t->transport),
		[F_TRADDR] = nonempty(t->traddr),
		[F_TRSVCID] = nonempty(t->trsvcid),
		[F_NQN] = nonempty(t->subsysnqn),
		[F_HOST_TRADDR] = nonempty(t->host_traddr),
		[F_HOST_IFACE] = nonempty(t->host_iface),
		[F_HOSTNQN] = nonempty(t->host_nqn),
		[F_HOSTID] = nonempty(target->hostid),
	};

	for (int f = 0; f < _F_MAX; f++) {
		if (!e->f[f])
			continue; /* not in the entry: not checked */
		if (!conn[f])
			return false; /* in the entry, no value on the connection */
		if (f == F_TRADDR || f == F_HOST_TRADDR) {
			if (!exclusions_address_equal(e->f[f], conn[f], conn[F_TRANSPORT]))
				return false;
		} else if (!streq(e->f[f], conn[f]))
			return false;
	}
	return true;
}

int exclusions_entry_matches(const char *entry, const struct exclusions_target *target,
			     const char **ret_reason)
{
	_cleanup_free_ struct entry *e = malloc(sizeof(*e));
	const char *reason = NULL;

	if (!e)
		return -ENOMEM;
	if (!entry || entry_parse(entry, e, &reason) < 0) {
		if (ret_reason)
			*ret_reason = reason ? reason : "no entry";
		return -EINVAL;
	}
	return entry_match(e, target);
}

/* One pass over the lists: matching (@target set) or checking (@target NULL). */
struct loaded_file {
	char *path;
	char *buf;
	size_t size;
};

struct exclusions {
	struct loaded_file *files;
	size_t n, alloc;
};

struct scan {
	struct exclusions *collect; /* loading: keep each file's text instead of scanning it */
	const struct exclusions_target *target;
	struct entry *e;
	struct exclusions_match *ret_match;
	exclusions_problem_fn problem_fn;
	void *userdata;
	unsigned n_problems;
};

/* A line or file that counts for nothing: debug log, and the checker's callback. */
_printf_(4, 5) static void problem(struct scan *sc, const char *path, unsigned line,
				   const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	sc->n_problems++;
	if (line > 0)
		log_debug("exclusions: %s:%u: %s", path, line, reason);
	else
		log_debug("exclusions: %s: %s", path, reason);
	if (sc->problem_fn)
		sc->problem_fn(path, line, reason, sc->userdata);
}

/* Read the regular file @path, at most EXCLUSIONS_FILE_MAX bytes. */
static int conf_read(const char *path, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = -1;
	_cleanup_fclose_ FILE *f = NULL;
	struct stat st;

	/* O_NONBLOCK: a FIFO in the drop-in directory must not hang the decision. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EBADF; /* a FIFO, socket or device: not a list */
	if (st.st_size > EXCLUSIONS_FILE_MAX)
		return -EFBIG;
	f = fdopen(fd, "r");
	if (!f)
		return negative_errno();
	TAKE_FD(fd);
	/* Bounded again while reading: the file may grow after the fstat(). */
	return read_full_stream(f, EXCLUSIONS_FILE_MAX, ret, ret_size);
}

enum section {
	SECTION_NONE, /* before any header, or after a malformed one */
	SECTION_EXCLUSIONS,
	SECTION_OTHER, /* reserved for future use: its content is nobody's business */
};

/*
 * Scan one list's text (@buf is modified, @buf[size] must be writable).
 * Return: 1 and *ret_match filled on the first matching entry, else 0.
 */
static int text_scan(struct scan *sc, const char *path, char *buf, size_t size)
{
	enum section section = SECTION_NONE;
	unsigned lineno = 0;

	for (char *p = buf, *end = buf + size; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *s, *eq, *key, *val;
		const char *reason = NULL;

		lineno++;
		s = p;
		p += n + (nl ? 1 : 0);
		if (memchr(s, '\0', n)) {
			problem(sc, path, lineno, "ignored: a NUL byte in the line");
			continue;
		}
		if (n > EXCLUSIONS_LINE_MAX) {
			problem(sc, path, lineno, "ignored: longer than %d bytes",
				EXCLUSIONS_LINE_MAX);
			continue;
		}
		s[n] = '\0';
		s = trim(s);
		if (!*s || *s == '#')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (!close) {
				problem(sc, path, lineno,
					"malformed section header (no ']'): the entries after it are "
					"ignored up to the next header");
				section = SECTION_NONE;
				continue;
			}
			*close = '\0';
			section = streq(trim(s + 1), "exclusions") ? SECTION_EXCLUSIONS :
								     SECTION_OTHER;
			continue;
		}
		if (section == SECTION_OTHER)
			continue; /* "readers ignore their content" */
		eq = strchr(s, '=');
		if (!eq) {
			problem(sc, path, lineno, "ignored: not \"key = value\"");
			continue;
		}
		*eq = '\0';
		key = trim(s);
		if (!streq(key, "exclusion")) {
			if (printable(key))
				problem(sc, path, lineno,
					"ignored: key \"%.64s\" is not \"exclusion\"", key);
			else
				problem(sc, path, lineno,
					"ignored: a key with control or non-ASCII bytes");
			continue;
		}
		if (section != SECTION_EXCLUSIONS) {
			problem(sc, path, lineno,
				"ignored: entry outside the [exclusions] section");
			continue;
		}
		val = trim(eq + 1);
		if (entry_parse(val, sc->e, &reason) < 0) {
			if (sc->e->bad && printable(sc->e->bad))
				problem(sc, path, lineno, "entry matches nothing: \"%.64s\": %s",
					sc->e->bad, reason);
			else
				problem(sc, path, lineno, "entry matches nothing: %s", reason);
			continue;
		}
		if (!sc->target || !entry_match(sc->e, sc->target))
			continue;
		if (sc->ret_match) {
			if (strscpy_checked(sc->ret_match->path, sizeof(sc->ret_match->path),
					    path) < 0)
				sc->ret_match->path[0] = '\0';
			sc->ret_match->line = lineno;
			(void)strscpy_checked(sc->ret_match->entry, sizeof(sc->ret_match->entry),
					      val);
		}
		return 1;
	}
	return 0;
}

/* Scan one file; a file that cannot be read counts for nothing (fail open). */
static int conf_scan(struct scan *sc, const char *path)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	int r;

	r = conf_read(path, &buf, &size);
	if (r == -ENOENT)
		return 0;
	if (r == -EBADF) {
		problem(sc, path, 0, "not a regular file, ignored");
		return 0;
	}
	if (r < 0) {
		errno = -r;
		problem(sc, path, 0, "cannot be read, ignored (nothing excluded by it): %m");
		return 0;
	}
	if (sc->collect) {
		struct exclusions *x = sc->collect;
		char *p;

		if (GREEDY_REALLOC(x->files, x->alloc, x->n) < 0)
			return -ENOMEM;
		p = strdup(path);
		if (!p)
			return -ENOMEM;
		x->files[x->n++] =
			(struct loaded_file){ .path = p, .buf = TAKE_PTR(buf), .size = size };
		return 0;
	}
	return text_scan(sc, path, buf, size);
}

int exclusions_match_text(const char *name, const char *text, size_t size,
			  const struct exclusions_target *target,
			  struct exclusions_match *ret_match)
{
	_cleanup_free_ struct entry *e = NULL;
	_cleanup_free_ char *buf = NULL;
	struct scan sc = { .target = target, .ret_match = ret_match };

	if (!target || !target->tid || !text)
		return 0;
	if (size > EXCLUSIONS_FILE_MAX) {
		log_debug("exclusions: %s: larger than %d bytes, ignored", strempty(name),
			  EXCLUSIONS_FILE_MAX);
		return 0;
	}
	e = malloc(sizeof(*e));
	buf = malloc(size + 1);
	if (!e || !buf) {
		log_debug("exclusions: out of memory, not excluding");
		return 0;
	}
	memcpy(buf, text, size);
	buf[size] = '\0';
	sc.e = e;
	return text_scan(&sc, strempty(name), buf, size);
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline void closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

/* The drop-ins' names, sorted: "<name>.conf" with a non-empty <name>. */
static int dropins_list(const char *dir, char ***ret)
{
	_cleanup_(closedirp) DIR *d = NULL;
	_cleanup_strv_free_ char **l = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *de;

	d = opendir(dir);
	if (!d)
		return negative_errno();
	while ((errno = 0, de = readdir(d))) {
		const char *dot = strrchr(de->d_name, '.');

		if (!dot || !streq(dot, ".conf") || dot == de->d_name)
			continue;
		if (GREEDY_REALLOC(l, alloc, n + 2) < 0)
			return -ENOMEM;
		l[n] = strdup(de->d_name);
		if (!l[n])
			return -ENOMEM;
		l[++n] = NULL;
	}
	if (errno != 0)
		return negative_errno();
	if (n > 0)
		qsort(l, n, sizeof(*l), strcmp_ptr);
	*ret = TAKE_PTR(l);
	return (int)n;
}

static char *root_path(const char *root, const char *suffix)
{
	size_t n = root ? strlen(root) : 0;
	char *p;

	while (n > 0 && root[n - 1] == '/')
		n--;
	if (asprintf(&p, "%.*s%s", (int)n, n ? root : "", suffix) < 0)
		return NULL;
	return p;
}

/* Scan the main list, then every drop-in in order: 1 on the first match (matching mode). */
static int scan_all(const char *root, struct scan *sc)
{
	_cleanup_free_ char *main_path = NULL, *dir = NULL;
	_cleanup_strv_free_ char **names = NULL;
	int r;

	main_path = root_path(root, EXCLUSIONS_CONF);
	dir = root_path(root, EXCLUSIONS_CONF_D);
	if (!main_path || !dir)
		return -ENOMEM;

	r = conf_scan(sc, main_path);
	if (r != 0)
		return r;

	r = dropins_list(dir, &names);
	if (r == -ENOENT)
		return 0;
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		errno = -r;
		problem(sc, dir, 0, "cannot be listed, ignored: %m");
		return 0;
	}
	STRV_FOREACH(name, names) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, *name) < 0)
			return -ENOMEM;
		r = conf_scan(sc, path);
		if (r != 0)
			return r;
	}
	return 0;
}

int exclusions_match(const char *root, const struct exclusions_target *target,
		     struct exclusions_match *ret_match)
{
	_cleanup_free_ struct entry *e = NULL;
	struct scan sc = { .target = target, .ret_match = ret_match };
	int r;

	if (!target || !target->tid)
		return 0;
	e = malloc(sizeof(*e));
	if (!e) {
		log_debug("exclusions: out of memory, not excluding");
		return 0;
	}
	sc.e = e;
	r = scan_all(root, &sc);
	if (r < 0) {
		log_debug_errno(r, "exclusions: %m, not excluding");
		return 0;
	}
	return r;
}

int exclusions_check(const char *root, exclusions_problem_fn fn, void *userdata)
{
	_cleanup_free_ struct entry *e = NULL;
	struct scan sc = { .problem_fn = fn, .userdata = userdata };
	int r;

	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	sc.e = e;
	r = scan_all(root, &sc);
	if (r < 0)
		return r;
	return (int)MIN(sc.n_problems, (unsigned)INT_MAX);
}

int exclusions_load(const char *root, struct exclusions **ret)
{
	_cleanup_exclusions_ struct exclusions *x = NULL;
	struct scan sc = {};
	int r;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	sc.collect = x;
	r = scan_all(root, &sc);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(x);
	return 0;
}

int exclusions_loaded_match(const struct exclusions *x, const struct exclusions_target *target,
			    struct exclusions_match *ret_match)
{
	for (size_t i = 0; x && i < x->n; i++) {
		const struct loaded_file *f = &x->files[i];

		if (exclusions_match_text(f->path, f->buf, f->size, target, ret_match) > 0)
			return 1;
	}
	return 0;
}

size_t exclusions_loaded_count(const struct exclusions *x)
{
	return x ? x->n : 0;
}

struct exclusions *exclusions_free(struct exclusions *x)
{
	if (x) {
		for (size_t i = 0; i < x->n; i++) {
			free(x->files[i].path);
			free(x->files[i].buf);
		}
		free(x->files);
		free(x);
	}
	return NULL;
}
