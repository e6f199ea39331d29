/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tid.c - transport IDs: validation, canonical form, parsing from the
 * kernel, config files and cache keys, and filter matching.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "log.h"
#include "macro.h"
#include "tid.h"

static const struct {
	const char *name;
	size_t offset;
	size_t size;
} fields[_TID_FIELD_MAX] = {
	[TID_FIELD_TRANSPORT] = { "transport", offsetof(struct tid, transport),
				  sizeof(((struct tid *)0)->transport) },
	[TID_FIELD_TRADDR] = { "traddr", offsetof(struct tid, traddr),
			       sizeof(((struct tid *)0)->traddr) },
	[TID_FIELD_TRSVCID] = { "trsvcid", offsetof(struct tid, trsvcid),
				sizeof(((struct tid *)0)->trsvcid) },
	[TID_FIELD_SUBSYSNQN] = { "subsysnqn", offsetof(struct tid, subsysnqn),
				  sizeof(((struct tid *)0)->subsysnqn) },
	[TID_FIELD_HOST_TRADDR] = { "host-traddr", offsetof(struct tid, host_traddr),
				    sizeof(((struct tid *)0)->host_traddr) },
	[TID_FIELD_HOST_IFACE] = { "host-iface", offsetof(struct tid, host_iface),
				   sizeof(((struct tid *)0)->host_iface) },
	[TID_FIELD_HOST_NQN] = { "host-nqn", offsetof(struct tid, host_nqn),
				 sizeof(((struct tid *)0)->host_nqn) },
};

static const struct {
	const char *name;
	enum tid_field field;
} field_aliases[] = {
	{ "trtype", TID_FIELD_TRANSPORT },	  { "nqn", TID_FIELD_SUBSYSNQN },
	{ "subsys-nqn", TID_FIELD_SUBSYSNQN },	  { "subsys_nqn", TID_FIELD_SUBSYSNQN },
	{ "host_traddr", TID_FIELD_HOST_TRADDR }, { "host_iface", TID_FIELD_HOST_IFACE },
	{ "hostnqn", TID_FIELD_HOST_NQN },	  { "host_nqn", TID_FIELD_HOST_NQN },
};

static bool char_is_graph(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

static bool str_is_graph(const char *s)
{
	for (; *s; s++)
		if (!char_is_graph((unsigned char)*s))
			return false;
	return true;
}

static bool str_is_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void str_to_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static bool is_unset(const char *s)
{
	return !s || !*s || streq(s, "none");
}

static bool transport_is_ip(const char *transport)
{
	return strcasecmp(transport, "tcp") == 0 || strcasecmp(transport, "rdma") == 0;
}

const char *tid_field_to_string(enum tid_field f)
{
	if ((unsigned)f >= _TID_FIELD_MAX)
		return NULL;
	return fields[f].name;
}

int tid_field_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(fields); i++)
		if (streq(s, fields[i].name))
			return (int)i;
	for (size_t i = 0; i < ELEMENTSOF(field_aliases); i++)
		if (streq(s, field_aliases[i].name))
			return (int)field_aliases[i].field;
	return -EINVAL;
}

char *tid_field_ptr(struct tid *t, enum tid_field f)
{
	assert(t);
	assert((unsigned)f < _TID_FIELD_MAX);
	return (char *)t + fields[f].offset;
}

const char *tid_field_get(const struct tid *t, enum tid_field f)
{
	assert(t);
	assert((unsigned)f < _TID_FIELD_MAX);
	return (const char *)t + fields[f].offset;
}

size_t tid_field_size(enum tid_field f)
{
	assert((unsigned)f < _TID_FIELD_MAX);
	return fields[f].size;
}

bool nqn_is_valid(const char *nqn)
{
	if (!nqn || !str_startswith(nqn, "nqn."))
		return false;
	if (strlen(nqn) > TID_NQN_MAX)
		return false;
	return str_is_graph(nqn);
}

bool transport_is_valid(const char *transport)
{
	if (!transport)
		return false;
	return streq(transport, "tcp") || streq(transport, "rdma") || streq(transport, "fc") ||
	       streq(transport, "loop");
}

bool ifname_is_valid(const char *name)
{
	size_t l;

	if (!name)
		return false;
	l = strlen(name);
	if (l < 1 || l > TID_IFACE_MAX)
		return false;
	if (streq(name, ".") || streq(name, ".."))
		return false;
	/* '%' too: the kernel expands "eth%d" templates, no real name has one. */
	for (const char *p = name; *p; p++)
		if (!char_is_graph((unsigned char)*p) || *p == '/' || *p == ':' || *p == '%')
			return false;
	return true;
}

struct ip {
	int family;
	unsigned char bytes[16];
	char scope[TID_IFACE_MAX + 1];
};

/* An IPv4 or IPv6 literal, the latter with an optional "%scope". */
static int ip_parse(const char *s, struct ip *ret)
{
	char addr[INET6_ADDRSTRLEN];
	struct ip ip = {};
	const char *pct;
	size_t l;

	pct = strchr(s, '%');
	l = pct ? (size_t)(pct - s) : strlen(s);
	if (l == 0 || l >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, l);
	addr[l] = '\0';

	if (inet_pton(AF_INET, addr, ip.bytes) == 1)
		ip.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, ip.bytes) == 1)
		ip.family = AF_INET6;
	else
		return -EINVAL;

	if (pct) {
		/* A scope names the interface of a (link-local) IPv6 address. */
		if (ip.family != AF_INET6 || !ifname_is_valid(pct + 1))
			return -EINVAL;
		strcpy(ip.scope, pct + 1);
	}

	*ret = ip;
	return 0;
}

static int ip_format(const struct ip *ip, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	int n;

	if (!inet_ntop(ip->family, ip->bytes, addr, sizeof(addr)))
		return -EINVAL;
	n = snprintf(buf, size, "%s%s%s", addr, ip->scope[0] ? "%" : "", ip->scope);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Rewrite the IP literal in @buf (of @size) in inet_ntop() form. */
static int ip_normalize(char *buf, size_t size)
{
	struct ip ip;
	int r;

	r = ip_parse(buf, &ip);
	if (r < 0)
		return r;
	return ip_format(&ip, buf, size);
}

/* "addr/prefix": parsed into @ret_ip (no scope) and @ret_prefix. */
static int cidr_parse(const char *s, struct ip *ret_ip, unsigned *ret_prefix)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash, *p;
	unsigned prefix = 0;
	struct ip ip;
	size_t l;

	slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	l = (size_t)(slash - s);
	if (l == 0 || l >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, l);
	addr[l] = '\0';
	if (strchr(addr, '%'))
		return -EINVAL;
	if (ip_parse(addr, &ip) < 0)
		return -EINVAL;

	p = slash + 1;
	if (!str_is_digits(p) || strlen(p) > 3)
		return -EINVAL;
	for (; *p; p++)
		prefix = prefix * 10 + (unsigned)(*p - '0');
	if (prefix > (ip.family == AF_INET ? 32u : 128u))
		return -EINVAL;

	*ret_ip = ip;
	*ret_prefix = prefix;
	return 0;
}

static bool cidr_contains(const struct ip *net, unsigned prefix, const struct ip *ip)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (net->family != ip->family)
		return false;
	if (memcmp(net->bytes, ip->bytes, full) != 0)
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((net->bytes[full] & mask) != (ip->bytes[full] & mask))
			return false;
	}
	return true;
}

/*
 * trsvcid for tcp/rdma: decimal 1..65535, leading zeros stripped into
 * @ret (at least 6 bytes) when given.
 */
static int port_parse(const char *s, char *ret, size_t size)
{
	unsigned v = 0;

	if (!str_is_digits(s))
		return -EINVAL;
	while (*s == '0')
		s++;
	if (strlen(s) > 5)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		v = v * 10 + (unsigned)(*p - '0');
	if (v < 1 || v > 65535)
		return -EINVAL;
	if (ret && (size_t)snprintf(ret, size, "%u", v) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Whether @value is acceptable for field @f, given @transport (maybe ""). */
static int field_validate(enum tid_field f, const char *value, const char *transport)
{
	switch (f) {
	case TID_FIELD_TRANSPORT: {
		char lower[TID_TRANSPORT_MAX + 1];
		if (strscpy_checked(lower, sizeof(lower), value) < 0)
			return -EINVAL;
		str_to_lower(lower);
		return transport_is_valid(lower) ? 0 : -EINVAL;
	}
	case TID_FIELD_TRADDR:
	case TID_FIELD_HOST_TRADDR: {
		struct ip ip;
		if (!str_is_graph(value))
			return -EINVAL;
		if (transport_is_ip(transport))
			return ip_parse(value, &ip);
		return 0;
	}
	case TID_FIELD_TRSVCID:
		if (!str_is_graph(value))
			return -EINVAL;
		if (transport_is_ip(transport))
			return port_parse(value, NULL, 0);
		return 0;
	case TID_FIELD_SUBSYSNQN:
	case TID_FIELD_HOST_NQN:
		return nqn_is_valid(value) ? 0 : -EINVAL;
	case TID_FIELD_HOST_IFACE:
		return ifname_is_valid(value) ? 0 : -EINVAL;
	case _TID_FIELD_MAX:
		break;
	}
	assert(false);
	return -EINVAL;
}

int tid_field_set(struct tid *t, enum tid_field f, const char *value)
{
	int r;

	assert(t);
	assert((unsigned)f < _TID_FIELD_MAX);

	if (is_unset(value)) {
		tid_field_ptr(t, f)[0] = '\0';
		return 0;
	}
	if (strlen(value) >= tid_field_size(f))
		return -ENAMETOOLONG;
	r = field_validate(f, value, f == TID_FIELD_TRANSPORT ? "" : t->transport);
	if (r < 0)
		return r;
	return strscpy_checked(tid_field_ptr(t, f), tid_field_size(f), value);
}

/*
 * Each field of @t NUL-terminated within its buffer. "none" is not special
 * here: it means "unset" only where the kernel or a user wrote it
 * (tid_field_set(), tid_parse_sysfs_address()); clearing it
 * here made canonicalisation non-idempotent (fc "NONE" -> "none" -> "") and
 * let a network entry's literal "none" pass as an unset field.
 */
static int tid_sanitize(struct tid *t)
{
	for (unsigned f = 0; f < _TID_FIELD_MAX; f++) {
		char *p = tid_field_ptr(t, f);
		if (strnlen(p, tid_field_size(f)) >= tid_field_size(f))
			return -EINVAL;
	}
	return 0;
}

/* One FC name after its "nn-"/"pn-": "0x" (optional) and 16 hex digits. */
static const char *fc_name_parse(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (unsigned i = 0; i < 16; i++, s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return NULL;
		v = v << 4 | (uint64_t)d;
	}
	*ret = v;
	return s;
}

int fc_addr_canonicalize(char *buf, size_t size)
{
	char out[TID_FC_ADDR_MAX + 1];
	uint64_t nn, pn;
	const char *p = buf;

	assert(buf);

	if (strncasecmp(p, "nn-", 3) != 0 || !(p = fc_name_parse(p + 3, &nn)) || *p != ':')
		return -EINVAL;
	p++;
	if (strncasecmp(p, "pn-", 3) != 0 || !(p = fc_name_parse(p + 3, &pn)) || *p != '\0')
		return -EINVAL;
	(void)snprintf(out, sizeof(out), "nn-0x%016" PRIx64 ":pn-0x%016" PRIx64, nn, pn);
	return strscpy_checked(buf, size, out) < 0 ? -EINVAL : 0;
}

/* traddr or host_traddr of a TID (@pattern: or a CIDR prefix, or empty). */
static int addr_canonicalize(char *buf, size_t size, const char *transport, bool pattern)
{
	if (!buf[0])
		return 0;
	if (!str_is_graph(buf))
		return -EINVAL;

	if (pattern && strchr(buf, '/')) {
		struct ip ip;
		unsigned prefix;
		char addr[INET6_ADDRSTRLEN];
		int n;

		if (cidr_parse(buf, &ip, &prefix) < 0)
			return -EINVAL;
		if (!inet_ntop(ip.family, ip.bytes, addr, sizeof(addr)))
			return -EINVAL;
		n = snprintf(buf, size, "%s/%u", addr, prefix);
		return n < 0 || (size_t)n >= size ? -EINVAL : 0;
	}

	if (transport_is_ip(transport))
		return ip_normalize(buf, size) < 0 ? -EINVAL : 0;

	/* A pattern without transport: normalise what is an IP literal. */
	if (pattern && !transport[0] && ip_normalize(buf, size) == 0)
		return 0;

	/*
	 * fc: the kernel's form. A pattern may be partial, so one that is no
	 * FC address is only lower-cased (matching is case-insensitive).
	 */
	if (streq(transport, "fc") || (pattern && !transport[0])) {
		if (fc_addr_canonicalize(buf, size) == 0)
			return 0;
		if (!pattern)
			return -EINVAL;
	}

	/* loop (and patterns): case-insensitive, kept loose. */
	str_to_lower(buf);
	return 0;
}

static int tid_canonicalize_full(struct tid *t, bool pattern)
{
	struct tid c = *t;
	bool ip;

	assert(t);

	if (tid_sanitize(&c) < 0)
		return -EINVAL;

	str_to_lower(c.transport);
	if (c.transport[0] ? !transport_is_valid(c.transport) : !pattern)
		return -EINVAL;
	ip = transport_is_ip(c.transport);

	if (!c.traddr[0] && !pattern && !streq(c.transport, "loop"))
		return -EINVAL;
	if (addr_canonicalize(c.traddr, sizeof(c.traddr), c.transport, pattern) < 0)
		return -EINVAL;
	if (addr_canonicalize(c.host_traddr, sizeof(c.host_traddr), c.transport, pattern) < 0)
		return -EINVAL;

	if (c.trsvcid[0]) {
		if (ip || (pattern && !c.transport[0] && str_is_digits(c.trsvcid))) {
			if (port_parse(c.trsvcid, c.trsvcid, sizeof(c.trsvcid)) < 0)
				return -EINVAL;
		} else if (!str_is_graph(c.trsvcid))
			return -EINVAL;
	}

	if (c.host_iface[0] && !ifname_is_valid(c.host_iface))
		return -EINVAL;
	if (c.subsysnqn[0] && !nqn_is_valid(c.subsysnqn))
		return -EINVAL;
	if (c.host_nqn[0] && !nqn_is_valid(c.host_nqn))
		return -EINVAL;

	*t = c;
	return 0;
}

int tid_canonicalize(struct tid *t)
{
	return tid_canonicalize_full(t, false);
}

int tid_pattern_canonicalize(struct tid *pattern)
{
	return tid_canonicalize_full(pattern, true);
}

void tid_set_default_trsvcid(struct tid *t, bool discovery)
{
	assert(t);

	if (t->trsvcid[0])
		return;
	if (strcasecmp(t->transport, "tcp") == 0)
		strcpy(t->trsvcid, discovery ? TID_TRSVCID_DISC : TID_TRSVCID_IO);
	else if (strcasecmp(t->transport, "rdma") == 0)
		strcpy(t->trsvcid, TID_TRSVCID_IO);
}

int tid_parse_sysfs_address(const char *address, struct tid *ret)
{
	static const enum tid_field address_fields[] = {
		TID_FIELD_TRADDR,
		TID_FIELD_TRSVCID,
		TID_FIELD_HOST_TRADDR,
		TID_FIELD_HOST_IFACE,
	};
	_cleanup_free_ char *copy = NULL;
	char *p, *token, *end;
	struct tid t;

	assert(address);
	assert(ret);

	copy = strdup(address);
	if (!copy)
		return -ENOMEM;
	end = copy + strlen(copy);
	while (end > copy && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';

	t = *ret;
	for (size_t i = 0; i < ELEMENTSOF(address_fields); i++)
		tid_field_ptr(&t, address_fields[i])[0] = '\0';

	for (p = copy; p; p = end) {
		const char *value;
		char *eq;
		int f;

		token = p;
		end = strchr(p, ',');
		if (end)
			*end++ = '\0';
		if (!*token)
			continue; /* tolerate ",," and a trailing ',' */

		eq = strchr(token, '=');
		if (!eq || eq == token) {
			log_debug("Malformed token \"%s\" in controller address.", token);
			return -EINVAL;
		}
		*eq = '\0';
		value = eq + 1;

		if (streq(token, "traddr"))
			f = TID_FIELD_TRADDR;
		else if (streq(token, "trsvcid"))
			f = TID_FIELD_TRSVCID;
		else if (streq(token, "host_traddr"))
			f = TID_FIELD_HOST_TRADDR;
		else if (streq(token, "host_iface"))
			f = TID_FIELD_HOST_IFACE;
		else
			continue; /* src_addr, and whatever later kernels add */

		if (is_unset(value)) {
			tid_field_ptr(&t, f)[0] = '\0';
			continue;
		}
		if (!str_is_graph(value) || strlen(value) >= tid_field_size(f))
			return -EINVAL;
		if (f == TID_FIELD_HOST_IFACE && !ifname_is_valid(value))
			return -EINVAL;
		strcpy(tid_field_ptr(&t, f), value);
	}

	*ret = t;
	return 0;
}

bool tid_equal(const struct tid *a, const struct tid *b)
{
	assert(a);
	assert(b);

	for (unsigned f = 0; f < _TID_FIELD_MAX; f++)
		if (!streq(tid_field_get(a, f), tid_field_get(b, f)))
			return false;
	return true;
}

static bool addr_match(const char *pattern, const char *value)
{
	struct ip p, v;

	if (strchr(pattern, '/')) {
		unsigned prefix;

		if (cidr_parse(pattern, &p, &prefix) < 0)
			return false;
		if (ip_parse(value, &v) < 0)
			return false;
		return cidr_contains(&p, prefix, &v);
	}

	if (ip_parse(pattern, &p) == 0) {
		if (ip_parse(value, &v) < 0)
			return false;
		return p.family == v.family && memcmp(p.bytes, v.bytes, sizeof(p.bytes)) == 0 &&
		       (!p.scope[0] || streq(p.scope, v.scope));
	}

	/* FC: either spelling nvme-fc accepts, any case. */
	{
		char pf[TID_FC_ADDR_MAX + 1], vf[TID_FC_ADDR_MAX + 1];

		if (strscpy_checked(pf, sizeof(pf), pattern) == 0 &&
		    strscpy_checked(vf, sizeof(vf), value) == 0 &&
		    fc_addr_canonicalize(pf, sizeof(pf)) == 0 &&
		    fc_addr_canonicalize(vf, sizeof(vf)) == 0)
			return streq(pf, vf);
	}

	return strcasecmp(pattern, value) == 0;
}

bool tid_match(const struct tid *pattern, const struct tid *t)
{
	assert(pattern);
	assert(t);

	for (unsigned f = 0; f < _TID_FIELD_MAX; f++) {
		const char *p = tid_field_get(pattern, f), *v = tid_field_get(t, f);
		char pp[8], vp[8];

		if (is_unset(p))
			continue;

		switch ((enum tid_field)f) {
		case TID_FIELD_TRANSPORT:
			if (strcasecmp(p, v) != 0)
				return false;
			break;
		case TID_FIELD_TRADDR:
		case TID_FIELD_HOST_TRADDR:
			if (!addr_match(p, v))
				return false;
			break;
		case TID_FIELD_TRSVCID:
			if (port_parse(p, pp, sizeof(pp)) == 0 &&
			    port_parse(v, vp, sizeof(vp)) == 0) {
				if (!streq(pp, vp))
					return false;
			} else if (!streq(p, v))
				return false;
			break;
		case TID_FIELD_SUBSYSNQN:
		case TID_FIELD_HOST_IFACE:
		case TID_FIELD_HOST_NQN:
			if (!streq(p, v))
				return false;
			break;
		case _TID_FIELD_MAX:
			assert(false);
		}
	}
	return true;
}

static bool key_char_plain(unsigned char c)
{
	return char_is_graph(c) && c != '/' && c != '%';
}

int tid_key(const struct tid *t, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	char key[TID_KEY_MAX];
	size_t n = 0;

	assert(t);
	assert(buf || size == 0);

	for (unsigned f = 0; f < _TID_FIELD_MAX; f++) {
		const char *s = tid_field_get(t, f);
		size_t l = strnlen(s, tid_field_size(f));

		if (f > 0)
			key[n++] = '/';
		for (size_t i = 0; i < l; i++) {
			unsigned char c = (unsigned char)s[i];

			if (key_char_plain(c))
				key[n++] = (char)c;
			else {
				key[n++] = '%';
				key[n++] = hex[c >> 4];
				key[n++] = hex[c & 0xf];
			}
		}
	}
	/* Worst case 3 * (sum of field sizes) + 6 < TID_KEY_MAX. */
	assert(n < sizeof(key));
	key[n] = '\0';

	if (n >= size)
		return -ENOBUFS;
	memcpy(buf, key, n + 1);
	return (int)n;
}

static int hex_digit(char c)
{
	/* Upper case only: tid_key() writes exactly one spelling. */
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tid_from_key(const char *key, struct tid *ret)
{
	struct tid t = {};
	unsigned f = 0;
	size_t n = 0;
	char *dst;

	assert(key);
	assert(ret);

	dst = tid_field_ptr(&t, f);
	for (const char *p = key;; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\0' || c == '/') {
			dst[n] = '\0';
			if (c == '\0')
				break;
			if (++f >= _TID_FIELD_MAX)
				return -EINVAL;
			dst = tid_field_ptr(&t, f);
			n = 0;
			continue;
		}

		if (c == '%') {
			int hi, lo;

			if ((hi = hex_digit(p[1])) < 0 || (lo = hex_digit(p[2])) < 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			/* Only what tid_key() encodes: one key per TID. */
			if (c == '\0' || key_char_plain(c))
				return -EINVAL;
			p += 2;
		} else if (!key_char_plain(c))
			return -EINVAL;

		if (n + 1 >= tid_field_size(f))
			return -EINVAL;
		dst[n++] = (char)c;
	}
	if (f != _TID_FIELD_MAX - 1)
		return -EINVAL;

	*ret = t;
	return 0;
}

const char *tid_format(const struct tid *t, char *buf, size_t size)
{
	assert(t);

	if (!buf || size == 0)
		return buf;

	(void)snprintf(buf, size, "(%s, %s, %s, %s%s%s%s%s%s%s)", t->transport, t->traddr,
		       t->trsvcid, t->subsysnqn, t->host_traddr[0] ? ", host-traddr=" : "",
		       t->host_traddr, t->host_iface[0] ? ", host-iface=" : "", t->host_iface,
		       t->host_nqn[0] ? ", host-nqn=" : "", t->host_nqn);
	return buf;
}

int tid_adrfam(const struct tid *t)
{
	struct ip ip;

	assert(t);

	if (ip_parse(t->traddr, &ip) < 0)
		return 0;
	return ip.family;
}
