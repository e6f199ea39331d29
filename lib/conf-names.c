/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf-names.c - host names as a controller's traddr (see
 * config_names_resolve() in conf.h).
 *
 * The loader keeps the name and leaves the transport ID's traddr empty; a
 * program resolves every name of the configuration at once when it starts
 * (each discovery and each reconcile is a new run, so a name is resolved
 * again every time), with one deadline for all of them: getaddrinfo_a()
 * runs the lookups in glibc's resolver threads and gai_suspend() waits for
 * them, so a dead DNS server costs the deadline, not the resolver's own
 * timeouts times its attempts times the number of names. The address taken
 * is the first one getaddrinfo() orders (RFC 6724), as nvme-cli does, among
 * those of an ip-family the controller's options allow.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "conf-internal.h"
#include "conf.h"
#include "macro.h"
#include "strv.h"
#include "tid.h"

bool conf_hostname_is_valid(const char *s)
{
	size_t len = strlen(s);
	const char *label = s;
	bool other = false;

	if (len > 0 && s[len - 1] == '.')
		len--; /* one trailing dot: a fully qualified name */
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char ch = i < len ? s[i] : '.';

		if (ch == '.') {
			/* a label: 1..63 characters, no '-' at either end */
			size_t l = (size_t)(&s[i] - label);
			if (l == 0 || l > 63 || label[0] == '-' || s[i - 1] == '-')
				return false;
			label = &s[i + 1];
			continue;
		}
		if (ch >= '0' && ch <= '9')
			continue;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-'))
			return false;
		other = true;
	}
	/* all digits and dots is a mistyped IPv4 address, not a name */
	return other;
}

const char *config_resolve_error_to_string(int e)
{
	switch (e) {
	case 0:
		return NULL;
	case -EADDRNOTAVAIL:
		return "host name not resolved (yet)";
	case -ENOENT:
		return "no such host name";
	case -EAGAIN:
		return "temporary failure in name resolution";
	case -ETIMEDOUT:
		return "name resolution timed out";
	case -EAFNOSUPPORT:
		return "the name has no address of the configured ip-family";
	case -ENOMEM:
		return "out of memory";
	default:
		return "name resolution failed";
	}
}

static int gai_errno(int e)
{
	switch (e) {
	case 0:
		return 0;
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		return -ENOENT;
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_INPROGRESS:
		return -ETIMEDOUT;
	default:
		return -EIO;
	}
}

/* One lookup: glibc may still hold it after a deadline, so it is allocated alone. */
struct lookup {
	struct gaicb cb; /* first: a struct gaicb * is a struct lookup * */
	struct addrinfo hints;
	struct config_controller *c;
	unsigned ip_family;
	char name[];
};

/* The first address of @res of an allowed family, into @c's traddr. */
static int take_address(struct config_controller *c, unsigned ip_family, const struct addrinfo *res)
{
	char buf[INET6_ADDRSTRLEN];

	for (const struct addrinfo *a = res; a; a = a->ai_next) {
		const void *addr;

		if (a->ai_family == AF_INET && (ip_family & CONFIG_IP_FAMILY_IPV4))
			addr = &((const struct sockaddr_in *)(const void *)a->ai_addr)->sin_addr;
		else if (a->ai_family == AF_INET6 && (ip_family & CONFIG_IP_FAMILY_IPV6))
			addr = &((const struct sockaddr_in6 *)(const void *)a->ai_addr)->sin6_addr;
		else
			continue;
		if (!inet_ntop(a->ai_family, addr, buf, sizeof(buf)))
			continue;
		if (tid_field_set(&c->tid, TID_FIELD_TRADDR, buf) < 0 ||
		    tid_canonicalize(&c->tid) < 0) {
			c->tid.traddr[0] = '\0';
			continue;
		}
		return 0;
	}
	return -EAFNOSUPPORT;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void lookups_free(struct lookup **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]) {
			if (v[i]->cb.ar_result)
				freeaddrinfo(v[i]->cb.ar_result);
			free(v[i]);
		}
	free(v);
}

/* One problem line per unresolved controller of @cfg. */
static int problems_list(const struct stas_config *cfg, char ***ret)
{
	const struct config_section *sections[] = { &cfg->discovery.s, &cfg->io.s };
	_cleanup_strv_free_ char **l = NULL;

	for (size_t s = 0; s < ELEMENTSOF(sections); s++)
		for (size_t i = 0; i < sections[s]->n_controllers; i++) {
			const struct config_controller *c = &sections[s]->controllers[i];
			char *m;

			if (!c->traddr_name || c->resolve_error == 0)
				continue;
			if (asprintf(&m, "%s: traddr \"%s\": %s; this controller is skipped",
				     strempty(c->source), c->traddr_name,
				     config_resolve_error_to_string(c->resolve_error)) < 0 ||
			    strv_consume(&l, m) < 0)
				return -ENOMEM;
		}
	*ret = TAKE_PTR(l);
	return 0;
}

static int names_resolve(struct stas_config *cfg, unsigned timeout_ms);

int config_names_resolve(struct stas_config *cfg, unsigned timeout_ms, char ***ret_problems)
{
	int r = names_resolve(cfg, timeout_ms);

	if (r < 0 || !ret_problems)
		return r;
	if (problems_list(cfg, ret_problems) < 0)
		return -ENOMEM;
	return r;
}

static int names_resolve(struct stas_config *cfg, unsigned timeout_ms)
{
	struct config_section *sections[] = { &cfg->discovery.s, &cfg->io.s };
	enum config_role roles[] = { CONFIG_ROLE_DISCOVERY, CONFIG_ROLE_IO };
	struct lookup **v = NULL;
	size_t n = 0, total = 0, pending;
	int64_t deadline;
	unsigned failed = 0;

	if (!timeout_ms)
		timeout_ms = CONFIG_RESOLVE_TIMEOUT_MS;
	for (size_t s = 0; s < ELEMENTSOF(sections); s++)
		for (size_t i = 0; i < sections[s]->n_controllers; i++)
			total += sections[s]->controllers[i].traddr_name != NULL;
	if (!total)
		return 0;
	v = calloc(total, sizeof(*v));
	if (!v)
		return -ENOMEM;

	for (size_t s = 0; s < ELEMENTSOF(sections); s++)
		for (size_t i = 0; i < sections[s]->n_controllers; i++) {
			struct config_controller *c = &sections[s]->controllers[i];
			struct config_path_opts po;
			size_t len;
			struct lookup *lk;

			if (!c->traddr_name)
				continue;
			len = strlen(c->traddr_name);
			lk = calloc(1, sizeof(*lk) + len + 1);
			if (!lk) {
				lookups_free(v, n);
				return -ENOMEM;
			}
			memcpy(lk->name, c->traddr_name, len + 1);
			(void)config_conn_opts_resolve(cfg, roles[s], c, &po);
			lk->ip_family = (unsigned)po.conn.ip_family;
			lk->hints.ai_family = lk->ip_family == CONFIG_IP_FAMILY_IPV4 ? AF_INET :
					      lk->ip_family == CONFIG_IP_FAMILY_IPV6 ? AF_INET6 :
										       AF_UNSPEC;
			lk->hints.ai_socktype = SOCK_STREAM;
			lk->cb.ar_name = lk->name;
			lk->cb.ar_request = &lk->hints;
			lk->c = c;
			c->tid.traddr[0] = '\0';
			c->resolve_error = -EADDRNOTAVAIL;
			v[n++] = lk;
		}

	if (getaddrinfo_a(GAI_NOWAIT, (struct gaicb **)v, (int)n, NULL) != 0) {
		/* nothing was queued: no thread holds a request */
		for (size_t i = 0; i < n; i++)
			v[i]->c->resolve_error = -EAGAIN;
		lookups_free(v, n);
		return (int)n;
	}

	deadline = now_ms() + timeout_ms;
	for (;;) {
		int64_t left = deadline - now_ms();
		struct timespec ts;

		pending = 0;
		for (size_t i = 0; i < n; i++)
			pending += gai_error(&v[i]->cb) == EAI_INPROGRESS;
		if (!pending || left <= 0)
			break;
		ts = (struct timespec){ .tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000 };
		(void)gai_suspend((const struct gaicb *const *)v, (int)n, &ts);
	}

	for (size_t i = 0; i < n; i++) {
		struct lookup *lk = v[i];
		int e = gai_error(&lk->cb);

		if (e == EAI_INPROGRESS) {
			lk->c->resolve_error = -ETIMEDOUT;
			failed++;
			if (gai_cancel(&lk->cb) != EAI_CANCELED)
				v[i] = NULL; /* still in a resolver thread: abandoned to it */
			continue;
		}
		lk->c->resolve_error = e ? gai_errno(e) :
					   take_address(lk->c, lk->ip_family, lk->cb.ar_result);
		if (lk->c->resolve_error)
			failed++;
	}
	lookups_free(v, n);
	return (int)failed;
}
