/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls-psk.c - NVMe/TCP TLS PSKs: interchange format, derivation, keyring
 * insertion. See tls-psk.h.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hkdf.h"
#include "macro.h"
#include "tls-psk.h"

#define PREFIX "NVMeTLSkey-1:"

const char *tls_psk_derivation_to_string(enum tls_psk_derivation d)
{
	switch (d) {
	case TLS_PSK_DERIVATION_RFC8446:
		return "rfc8446";
	case TLS_PSK_DERIVATION_COMPAT:
		return "compat";
	case _TLS_PSK_DERIVATION_MAX:
		break;
	}
	return NULL;
}

int tls_psk_derivation_from_string(const char *s)
{
	for (int d = 0; d < _TLS_PSK_DERIVATION_MAX; d++)
		if (s && strcmp(s, tls_psk_derivation_to_string(d)) == 0)
			return d;
	return -EINVAL;
}

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()), bit by bit: 52 bytes at most. */
static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (RFC 4648 4, padded) of @n chars at @s into @out; its length or -EINVAL. */
static ssize_t b64_decode(const char *s, size_t n, uint8_t *out, size_t size)
{
	size_t len = 0;

	if (n == 0 || n % 4)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 4) {
		int v[4], pad = 0;
		uint32_t w = 0;

		for (int k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == n && k >= 2 &&
			    (k == 3 || s[i + 3] == '=')) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64_value(s[i + k])) < 0)
				return -EINVAL;
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		    (uint32_t)v[3];
		if (len + 3 - pad > size)
			return -EINVAL;
		out[len++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[len++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[len++] = (uint8_t)w;
	}
	return (ssize_t)len;
}

static size_t b64_encode(const uint8_t *p, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			w |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			w |= p[i + 2];
		out[o++] = a[(w >> 18) & 63];
		out[o++] = a[(w >> 12) & 63];
		out[o++] = i + 1 < n ? a[(w >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? a[w & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

int tls_psk_parse(const char *s, struct tls_psk_configured *ret)
{
	struct tls_psk_configured c = {};
	uint8_t raw[TLS_PSK_KEY_MAX + 4 + 3];
	const char *b, *end;
	uint32_t crc;
	ssize_t n;
	int r = 0;

	assert(ret);
	if (!s || strncmp(s, PREFIX, STRLEN(PREFIX)) != 0)
		return -EINVAL;
	b = s + STRLEN(PREFIX);
	if (b[0] != '0' || b[1] < '0' || b[1] > '2' || b[2] != ':')
		return -EINVAL;
	c.hmac = (unsigned)(b[1] - '0');
	b += 3;
	end = strchr(b, ':');
	if (!end || end[1] != '\0')
		return -EINVAL;
	n = b64_decode(b, (size_t)(end - b), raw, sizeof(raw));
	if (n < 0 || (n != 32 + 4 && n != 48 + 4) || (c.hmac == 1 && n != 36) ||
	    (c.hmac == 2 && n != 52))
		r = -EINVAL;
	else {
		c.len = (size_t)n - 4;
		crc = (uint32_t)raw[c.len] | (uint32_t)raw[c.len + 1] << 8 |
		      (uint32_t)raw[c.len + 2] << 16 | (uint32_t)raw[c.len + 3] << 24;
		if (crc != crc32_ieee(raw, c.len))
			r = -EBADMSG;
		else {
			memcpy(c.key, raw, c.len);
			*ret = c;
		}
	}
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(&c, sizeof(c));
	return r;
}

const char *tls_psk_parse_strerror(int r)
{
	switch (r) {
	case 0:
		return "valid";
	case -EBADMSG:
		return "not valid: its CRC-32 does not match the key (mistyped?)";
	default:
		/* no sample of the format: messages with one look like a leaked key */
		return "not a TLS PSK in the PSK interchange format (what 'nvme gen-tls-key' "
		       "prints: version 1, HH 00, 01 or 02, a 32- or 48-byte key)";
	}
}

void tls_psk_configured_wipe(struct tls_psk_configured *c)
{
	explicit_bzero(c, sizeof(*c));
}

void tls_psk_wipe(struct tls_psk *p)
{
	explicit_bzero(p, sizeof(*p));
}

/* A growing HKDF info buffer: 2 + 1 + 255 + 1 + 255 bytes at most. */
struct info {
	uint8_t b[600];
	size_t n;
};

static void info_add(struct info *i, const void *p, size_t n)
{
	assert(i->n + n <= sizeof(i->b));
	memcpy(i->b + i->n, p, n);
	i->n += n;
}

static void info_add_byte(struct info *i, uint8_t v)
{
	info_add(i, &v, 1);
}

/*
 * HKDF-Expand-Label's info for output length @len, label "tls13 "@label and
 * context @prefix@ctx (@prefix may be ""), laid out as @d says.
 */
static void info_build(struct info *i, enum tls_psk_derivation d, size_t len, const char *label,
		       const char *prefix, const char *ctx)
{
	i->n = 0;
	switch (d) {
	case TLS_PSK_DERIVATION_RFC8446:
		info_add_byte(i, (uint8_t)(len >> 8));
		info_add_byte(i, (uint8_t)len);
		info_add_byte(i, (uint8_t)(STRLEN("tls13 ") + strlen(label)));
		info_add(i, "tls13 ", STRLEN("tls13 "));
		info_add(i, label, strlen(label));
		info_add_byte(i, (uint8_t)(strlen(prefix) + strlen(ctx)));
		break;
	case TLS_PSK_DERIVATION_COMPAT:
		/* libnvme <= 1.15: the length in host order (little endian on x86/arm64) */
		info_add_byte(i, (uint8_t)len);
		info_add_byte(i, (uint8_t)(len >> 8));
		info_add(i, "tls13 ", STRLEN("tls13 "));
		info_add(i, label, strlen(label));
		break;
	case _TLS_PSK_DERIVATION_MAX:
		assert(false);
	}
	info_add(i, prefix, strlen(prefix));
	info_add(i, ctx, strlen(ctx));
}

/* HKDF-Expand-Label(HKDF-Extract(0, @in), ...) of @len bytes into @out. */
static void expand_label(enum hkdf_hash h, enum tls_psk_derivation d, const uint8_t *in, size_t len,
			 const char *label, const char *prefix, const char *ctx, uint8_t *out)
{
	uint8_t prk[HKDF_HASH_SIZE_MAX];
	struct info i;
	int r;

	hkdf_extract(h, NULL, 0, in, len, prk);
	info_build(&i, d, len, label, prefix, ctx);
	r = hkdf_expand(h, prk, i.b, i.n, out, len);
	assert(r == 0);
	(void)r;
	explicit_bzero(prk, sizeof(prk));
}

static bool nqn_usable(const char *nqn)
{
	size_t n = nqn ? strlen(nqn) : 0;

	return n > 0 && n <= TID_NQN_MAX && !strchr(nqn, ' ');
}

int tls_psk_derive(const struct tls_psk_configured *c, const char *hostnqn, const char *subsysnqn,
		   unsigned version, enum tls_psk_derivation d, struct tls_psk *ret)
{
	uint8_t retained[TLS_PSK_KEY_MAX], mac[HKDF_HASH_SIZE_MAX];
	char digest[2 * HKDF_HASH_SIZE_MAX], cc[16];
	struct tls_psk p = {};
	unsigned cipher;
	enum hkdf_hash h;

	assert(c && ret);
	assert(c->len == 32 || c->len == 48);
	if (version > 1 || !nqn_usable(hostnqn) || !nqn_usable(subsysnqn) ||
	    d >= _TLS_PSK_DERIVATION_MAX)
		return -EINVAL;

	/* the retained PSK: HH's hash, or the configured key as is */
	if (c->hmac == 0)
		memcpy(retained, c->key, c->len);
	else
		expand_label(c->hmac == 1 ? HKDF_SHA256 : HKDF_SHA384, d, c->key, c->len, "HostNQN",
			     "", hostnqn, retained);

	/* the cipher suite's hash: HH's, or by the key's length */
	cipher = c->hmac ? c->hmac : c->len == 32 ? 1 : 2;
	h = cipher == 1 ? HKDF_SHA256 : HKDF_SHA384;
	(void)snprintf(cc, sizeof(cc), "%02u ", cipher);

	if (version == 0) {
		/* RFC 8446's context has one length byte: a long identity cannot be one */
		if (d == TLS_PSK_DERIVATION_RFC8446 &&
		    9 + strlen(hostnqn) + 1 + strlen(subsysnqn) > 255) {
			explicit_bzero(retained, sizeof(retained));
			return -EINVAL;
		}
		(void)snprintf(p.identity, sizeof(p.identity), "NVMe0R%02u %s %s", cipher, hostnqn,
			       subsysnqn);
		expand_label(h, d, retained, c->len, "nvme-tls-psk", "", p.identity, p.key);
	} else {
		struct hkdf_chunk m[] = { { hostnqn, strlen(hostnqn) },
					  { " ", 1 },
					  { subsysnqn, strlen(subsysnqn) },
					  { " ", 1 },
					  { "NVMe-over-Fabrics", STRLEN("NVMe-over-Fabrics") } };

		hmac(h, retained, c->len, m, ELEMENTSOF(m), mac);
		b64_encode(mac, hkdf_hash_size(h), digest);
		(void)snprintf(p.identity, sizeof(p.identity), "NVMe1R%02u %s %s %s", cipher,
			       hostnqn, subsysnqn, digest);
		expand_label(h, d, retained, c->len, "nvme-tls-psk", cc, digest, p.key);
	}
	p.len = c->len;
	*ret = p;
	explicit_bzero(&p, sizeof(p));
	explicit_bzero(retained, sizeof(retained));
	explicit_bzero(mac, sizeof(mac));
	return 0;
}

int tls_psk_keyring_find(const char *proc_keys, const char *name, int32_t *ret_serial)
{
	_cleanup_fclose_ FILE *f = NULL;
	char line[512];
	size_t nl = strlen(name);

	assert(name && ret_serial);
	f = fopen(proc_keys ?: "/proc/keys", "re");
	if (!f)
		return -errno;
	/* "0c3e2a18 I--Q---     1 perm 3f030000     0     0 keyring   .nvme: 1" */
	while (fgets(line, sizeof(line), f)) {
		unsigned long serial;
		char type[32];
		int off = 0;
		const char *desc;

		if (sscanf(line, "%lx %*s %*s %*s %*s %*s %*s %31s %n", &serial, type, &off) != 2 ||
		    off == 0 || strcmp(type, "keyring") != 0)
			continue;
		desc = line + off;
		if (strncmp(desc, name, nl) == 0 &&
		    (desc[nl] == ':' || desc[nl] == '\n' || desc[nl] == '\0') && serial > 0 &&
		    serial <= INT32_MAX) {
			*ret_serial = (int32_t)serial;
			return 0;
		}
	}
	return ferror(f) ? -EIO : -ENOKEY;
}

int tls_psk_insert(const char *configured, const char *hostnqn, const char *subsysnqn,
		   enum tls_psk_derivation d, int32_t *ret_serial, char *ret_identity)
{
	struct tls_psk_configured c;
	struct tls_psk p;
	int32_t keyring;
	long serial;
	int r;

	assert(ret_serial);
	r = tls_psk_parse(configured, &c);
	if (r < 0)
		return r;
	r = tls_psk_derive(&c, hostnqn, subsysnqn, 1, d, &p);
	tls_psk_configured_wipe(&c);
	if (r < 0)
		return r;
	r = tls_psk_keyring_find(NULL, TLS_PSK_KEYRING, &keyring);
	if (r < 0) {
		tls_psk_wipe(&p);
		return r == -ENOENT ? -ENOKEY : r;
	}
	serial = syscall(SYS_add_key, TLS_PSK_KEY_TYPE, p.identity, p.key, p.len, keyring);
	r = serial < 0 ? -errno : 0;
	if (r == 0) {
		*ret_serial = (int32_t)serial;
		if (ret_identity)
			memcpy(ret_identity, p.identity, sizeof(p.identity));
	}
	tls_psk_wipe(&p);
	return r;
}
