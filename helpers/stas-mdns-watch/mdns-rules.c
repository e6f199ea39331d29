/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rules an announcement must pass before stas trusts it. They follow
 * what nvme-stas applies (p= mapping, nqn= only with kernel support,
 * host-iface for tcp only, IPv4-mapped addresses as IPv4), but validate
 * strictly: where nvme-stas silently drops an odd TXT string, stas refuses
 * the whole announcement and says why.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "mdns-rules.h"

#define USEC_PER_SEC UINT64_C(1000000)

static int why_set(char *why, int r, const char *fmt, ...) _printf_(3, 4);
static int why_set(char *why, int r, const char *fmt, ...)
{
	va_list ap;

	if (why) {
		va_start(ap, fmt);
		(void)vsnprintf(why, MDNS_WHY_MAX, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* Whether @s (@n bytes) is valid UTF-8 with no control characters. */
static bool utf8_text_is_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		uint32_t cp;
		size_t len;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* overlong forms, surrogates, beyond Unicode, C1 controls */
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    (cp >= 0x80 && cp < 0xa0))
			return false;
		i += len;
	}
	return true;
}

/* Copy @v (@n bytes) without surrounding blanks into @buf of @size; false if too long. */
static bool value_copy_stripped(const uint8_t *v, size_t n, char *buf, size_t size)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= size)
		return false;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return true;
}

#define TXT_KEYS_MAX 64

int mdns_txt_parse(const uint8_t *wire, size_t n, struct mdns_txt *ret, char *why)
{
	struct mdns_txt t = {};
	struct {
		const uint8_t *p;
		size_t n;
	} keys[TXT_KEYS_MAX];
	size_t n_keys = 0, off = 0;
	bool have_p = false;

	assert(wire || n == 0);
	assert(ret);

	if (n > MDNS_TXT_MAX)
		return why_set(why, -E2BIG, "TXT record of %zu bytes, more than %d", n,
			       MDNS_TXT_MAX);

	while (off < n) {
		size_t len = wire[off++];
		const uint8_t *s = wire + off, *eq;
		size_t klen;

		if (len > n - off)
			return why_set(why, -EBADMSG, "TXT string runs past the record's end");
		off += len;
		if (len == 0)
			continue;
		if (!utf8_text_is_valid(s, len))
			return why_set(
				why, -EBADMSG,
				"TXT string %zu is not UTF-8 text (or has control characters)",
				n_keys + 1);
		eq = memchr(s, '=', len);
		klen = eq ? (size_t)(eq - s) : len;
		if (klen == 0)
			return why_set(why, -EBADMSG, "TXT string %zu has an empty key",
				       n_keys + 1);
		for (size_t k = 0; k < klen; k++)
			if (s[k] < 0x20 || s[k] > 0x7e)
				return why_set(why, -EBADMSG, "TXT key %zu is not printable ASCII",
					       n_keys + 1);
		for (size_t k = 0; k < n_keys; k++)
			if (keys[k].n == klen &&
			    strncasecmp((const char *)keys[k].p, (const char *)s, klen) == 0)
				return why_set(why, -EBADMSG, "TXT key '%.*s' is duplicated",
					       (int)klen, (const char *)s);
		if (n_keys == TXT_KEYS_MAX)
			return why_set(why, -E2BIG, "more than %d TXT strings", TXT_KEYS_MAX);
		keys[n_keys].p = s;
		keys[n_keys].n = klen;
		n_keys++;

		if (klen == 1 && (s[0] == 'p' || s[0] == 'P')) {
			if (!eq)
				return why_set(why, -EBADMSG, "TXT key p has no value");
			if (!value_copy_stripped(eq + 1, len - 2, t.p, sizeof(t.p)))
				return why_set(why, -EPROTONOSUPPORT, "unknown protocol p=%.*s",
					       (int)MIN(len - 2, (size_t)32), (const char *)eq + 1);
			for (char *c = t.p; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			have_p = true;
		} else if (klen == 3 && strncasecmp((const char *)s, "nqn", 3) == 0) {
			if (!eq)
				return why_set(why, -EBADMSG, "TXT key nqn has no value");
			if (!value_copy_stripped(eq + 1, len - 4, t.nqn, sizeof(t.nqn)))
				return why_set(why, -E2BIG, "nqn= of %zu bytes, more than %d",
					       len - 4, TID_NQN_MAX);
			if (!nqn_is_valid(t.nqn))
				return why_set(why, -EBADMSG, "nqn=%s is not a valid NQN", t.nqn);
		}
	}

	if (!have_p)
		return why_set(why, -ENOENT, "TXT record has no p= (protocol)");
	if (streq(t.p, "tcp"))
		strcpy(t.transport, "tcp");
	else if (streq(t.p, "roce") || streq(t.p, "iwarp") || streq(t.p, "rdma"))
		strcpy(t.transport, "rdma");
	else
		return why_set(why, -EPROTONOSUPPORT, "unknown protocol p=%s", t.p);

	*ret = t;
	return 0;
}

int mdns_address_normalize(const char *addr, const char *ifname, char *ret)
{
	char buf[INET6_ADDRSTRLEN + 1 + TID_IFACE_MAX + 1];
	struct in6_addr a6;
	struct in_addr a4;

	assert(addr);
	assert(ret);

	if (inet_pton(AF_INET, addr, &a4) == 1) {
		if (a4.s_addr == htonl(INADDR_ANY) || IN_MULTICAST(ntohl(a4.s_addr)) ||
		    a4.s_addr == htonl(INADDR_BROADCAST))
			return -EINVAL;
		if (!inet_ntop(AF_INET, &a4, buf, sizeof(buf)))
			return -EINVAL;
		strcpy(ret, buf);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return -EINVAL;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
		if (a4.s_addr == htonl(INADDR_ANY) || IN_MULTICAST(ntohl(a4.s_addr)) ||
		    a4.s_addr == htonl(INADDR_BROADCAST) ||
		    !inet_ntop(AF_INET, &a4, buf, sizeof(buf)))
			return -EINVAL;
		strcpy(ret, buf);
		return AF_INET;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_MULTICAST(&a6))
		return -EINVAL;
	if (!inet_ntop(AF_INET6, &a6, buf, sizeof(buf)))
		return -EINVAL;
	if (IN6_IS_ADDR_LINKLOCAL(&a6)) {
		/* Meaningless without the interface it was seen on. */
		if (isempty(ifname) || !ifname_is_valid(ifname))
			return -EINVAL;
		strcat(buf, "%");
		strcat(buf, ifname);
	}
	strcpy(ret, buf);
	return AF_INET6;
}

int mdns_dc_from_service(const struct mdns_txt *txt, const char *ifname, const char *addr,
			 uint16_t port, const struct mdns_policy *pol, struct tid *ret, char *why)
{
	struct tid t = {};
	int family, r;

	assert(txt && ifname && addr && pol && ret);

	if (!ifname_is_valid(ifname))
		return why_set(why, -EINVAL, "invalid interface name");
	family = mdns_address_normalize(addr, ifname, t.traddr);
	if (family < 0)
		return why_set(why, -EINVAL, "address %.64s is not usable", addr);
	if ((family == AF_INET && !(pol->ip_family & CONFIG_IP_FAMILY_IPV4)) ||
	    (family == AF_INET6 && !(pol->ip_family & CONFIG_IP_FAMILY_IPV6)))
		return why_set(why, -EAFNOSUPPORT, "%s filtered out by ip-family",
			       family == AF_INET ? "IPv4" : "IPv6");
	if (port == 0)
		return why_set(why, -EINVAL, "port 0");
	strcpy(t.transport, txt->transport);
	(void)snprintf(t.trsvcid, sizeof(t.trsvcid), "%u", (unsigned)port);
	strcpy(t.subsysnqn,
	       pol->unique_nqn && !isempty(txt->nqn) ? txt->nqn : NVME_DISC_SUBSYS_NQN);
	if (streq(t.transport, "tcp") && !pol->ignore_iface)
		strcpy(t.host_iface, ifname);
	if (!isempty(pol->host_nqn) &&
	    strscpy_checked(t.host_nqn, sizeof(t.host_nqn), pol->host_nqn) < 0)
		return why_set(why, -EINVAL, "host NQN too long");
	r = tid_canonicalize(&t);
	if (r < 0)
		return why_set(why, r, "not a valid transport ID");
	*ret = t;
	return 0;
}

bool mdns_dc_is_excluded(const struct stas_config *cfg, const struct tid *dc, const char *ifname)
{
	struct tid t = *dc;

	if (config_is_excluded(cfg, CONFIG_ROLE_DISCOVERY, dc))
		return true;
	if (isempty(ifname) || strscpy_checked(t.host_iface, sizeof(t.host_iface), ifname) < 0)
		return false;
	return config_is_excluded(cfg, CONFIG_ROLE_DISCOVERY, &t);
}

int mdns_dc_expiry(const struct cache_dc *dc, int64_t persistence_sec, uint64_t *ret_usec)
{
	uint64_t p;

	assert(dc && ret_usec);

	if (dc->origin != CACHE_ORIGIN_MDNS || dc->mdns_advertised || persistence_sec < 0)
		return 0;
	p = (uint64_t)persistence_sec * USEC_PER_SEC;
	*ret_usec = dc->mdns_last_advertised_usec > UINT64_MAX - p ?
			    UINT64_MAX :
			    dc->mdns_last_advertised_usec + p;
	return 1;
}

uint64_t mdns_backoff_usec(unsigned attempt)
{
	uint64_t d = MDNS_BACKOFF_FIRST_USEC;

	for (unsigned i = 1; i < attempt && d < MDNS_BACKOFF_MAX_USEC; i++)
		d *= 2;
	return MIN(d, MDNS_BACKOFF_MAX_USEC);
}
