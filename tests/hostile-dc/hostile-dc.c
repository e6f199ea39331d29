/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostile-dc: a small user-space NVMe/TCP discovery controller for the VM
 * tests. The kernel's nvme-tcp host connects to it over loopback like to any
 * discovery controller (ICReq/ICResp, Fabrics Connect on the admin queue,
 * Property Get/Set for the enable handshake, Identify Controller, Set/Get
 * Features, Keep Alive, Asynchronous Event Requests, Get Log Page 0x70), and
 * it serves crafted discovery log pages: the scenarios of issue 13.
 *
 * With --dhchap-key it requires DH-HMAC-CHAP (NVMe base specification 2.0
 * section 8.13, TP8006), which the kernel's nvmet never asks of a discovery
 * controller: the Connect response sets AUTHREQ.ATR, the host runs the
 * exchange with Authentication Send/Receive (Negotiate, Challenge, Reply,
 * Success1 or Failure1, and Success2 when the host also authenticates this
 * controller with the --dhchap-ctrl-key it was given), and every other
 * command before that ends gets Authentication Required. SHA-256 and the
 * NULL DH group only; the arithmetic is in dhchap.c.
 *
 * One process, one poll() loop, no threads. The log page is never stored:
 * every byte of it is computed from its offset, so a header claiming four
 * million entries costs nothing here and the host gets what it asks for.
 *
 * Usage: hostile-dc --scenario NAME [OPTIONS]  (see usage()).
 * Signals: SIGUSR1 starts an AEN storm (--aen-count AENs, one per AER the
 * host posts, each with a new genctr); SIGUSR2 changes the page once (a new
 * genctr, and the next --late-nqn entry in scenario normal) and sends one
 * discovery-log-change AEN the well-behaved way (masked until the host reads
 * the log page with RAE clear); SIGTERM/SIGINT stop it.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nvme/types.h>

#include "dhchap.h"

/* NVMe/TCP PDU types and flags (NVMe/TCP transport specification 1.0). */
enum {
	PDU_ICREQ = 0x00,
	PDU_ICRESP = 0x01,
	PDU_H2C_TERM = 0x02,
	PDU_C2H_TERM = 0x03,
	PDU_CMD = 0x04,
	PDU_RSP = 0x05,
	PDU_H2C_DATA = 0x06,
	PDU_C2H_DATA = 0x07,
	PDU_R2T = 0x09,
};
#define PDU_F_HDGST 0x01
#define PDU_F_DDGST 0x02
#define PDU_F_DATA_LAST 0x04

#define HDR_LEN 8
#define ICREQ_LEN 128
#define CMD_HLEN (HDR_LEN + 64)
#define RSP_LEN (HDR_LEN + 16)
#define C2H_HLEN 24
#define TERM_HLEN 24
/* What the host may put in one capsule on the admin queue (8 KiB in Linux). */
#define PDU_MAX (CMD_HLEN + 4 + 16384 + 4)

/* Admin and fabrics opcodes this target knows. */
enum {
	OP_GET_LOG_PAGE = 0x02,
	OP_IDENTIFY = 0x06,
	OP_SET_FEATURES = 0x09,
	OP_GET_FEATURES = 0x0a,
	OP_AER = 0x0c,
	OP_KEEP_ALIVE = 0x18,
	OP_FABRICS = 0x7f,
};
enum {
	FCT_PROP_SET = 0x00,
	FCT_CONNECT = 0x01,
	FCT_PROP_GET = 0x04,
	FCT_AUTH_SEND = 0x05,
	FCT_AUTH_RECV = 0x06,
};

/* Status field values (SCT << 8 | SC), DNR added where the host must not retry. */
#define SC_SUCCESS 0x000
#define SC_INVALID_OPCODE 0x001
#define SC_INVALID_FIELD 0x002
#define SC_CMD_SEQ_ERROR 0x00c
#define SC_AER_LIMIT 0x105
#define SC_INVALID_LOG_PAGE 0x109
#define SC_CONNECT_INVALID_PARAM 0x182
#define SC_AUTH_REQUIRED 0x191
#define SC_DNR 0x4000

/* Controller registers reached through Property Get/Set. */
#define REG_CAP 0x00
#define REG_VS 0x08
#define REG_CC 0x14
#define REG_CSTS 0x1c

#define LID_DISCOVERY 0x70
#define FEAT_ASYNC_EVENT 0x0b
#define FEAT_KATO 0x0f
#define FEAT_NUM_QUEUES 0x07
#define AEN_DISC_CHANGE 0x0070f002u /* log page 0x70, notice 0xf0, type notice */
#define AER_MAX 4 /* AERL + 1 */
#define MDTS 5 /* 2^5 pages of 4 KiB: 128 KiB per command */
#define ENTRY_SIZE 1024
#define DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"

/* DH-HMAC-CHAP (include/linux/nvme.h names them the same way). */
#define CONNECT_AUTHREQ_ATR (1u << 17) /* Connect result: authentication required */
#define AUTH_SECP_DHCHAP 0xe9 /* Security Protocol: NVMe in-band authentication */
#define AUTH_ID_DHCHAP 0x01 /* protocol descriptor: DH-HMAC-CHAP */
#define AUTH_HASH_SHA256 0x01
#define AUTH_DHGROUP_NULL 0x00
enum {
	AUTH_TYPE_COMMON = 0x00, /* Negotiate, Failure1/2 */
	AUTH_TYPE_DHCHAP = 0x01,
};
enum {
	AUTH_MSG_NEGOTIATE = 0x00,
	AUTH_MSG_CHALLENGE = 0x01,
	AUTH_MSG_REPLY = 0x02,
	AUTH_MSG_SUCCESS1 = 0x03,
	AUTH_MSG_SUCCESS2 = 0x04,
	AUTH_MSG_FAILURE2 = 0xf0,
	AUTH_MSG_FAILURE1 = 0xf1,
};
/* Failure reason code explanations (the reason code is always 01, "failed"). */
enum {
	AUTH_FAIL_FAILED = 0x01,
	AUTH_FAIL_CONCAT_MISMATCH = 0x03,
	AUTH_FAIL_HASH_UNUSABLE = 0x04,
	AUTH_FAIL_DHGROUP_UNUSABLE = 0x05,
	AUTH_FAIL_INCORRECT_PAYLOAD = 0x06,
	AUTH_FAIL_INCORRECT_MESSAGE = 0x07,
};
#define AUTH_NEG_HLEN 8 /* Negotiate header; 64-byte protocol descriptors follow */
#define AUTH_DESC_LEN 64
#define AUTH_HDR_LEN 16 /* Challenge, Reply, Success1, Success2 */

/* Where a connection is in the exchange: what the host must send or fetch next. */
enum auth_step {
	AUTH_NONE, /* no exchange running: not required, or done */
	AUTH_NEGOTIATE, /* Send: AUTH_Negotiate */
	AUTH_CHALLENGE, /* Receive: DH-HMAC-CHAP_Challenge */
	AUTH_REPLY, /* Send: DH-HMAC-CHAP_Reply */
	AUTH_SUCCESS1, /* Receive: DH-HMAC-CHAP_Success1 */
	AUTH_SUCCESS2, /* Send: DH-HMAC-CHAP_Success2 (bidirectional) */
	AUTH_FAILURE1, /* Receive: AUTH_Failure1 */
};

enum scenario {
	SC_NORMAL,
	SC_NUMREC,
	SC_REFERRALS,
	SC_GARBAGE,
	SC_GENCTR,
	SC_DEAD,
	SC_TORN,
	SC_MANY,
};

static const char *const scenario_names[] = {
	[SC_NORMAL] = "normal",	  [SC_NUMREC] = "numrec", [SC_REFERRALS] = "referrals",
	[SC_GARBAGE] = "garbage", [SC_GENCTR] = "genctr", [SC_DEAD] = "dead",
	[SC_TORN] = "torn",	  [SC_MANY] = "many",
};

#define NQN_MAX 16
#define DEAD_MAX 16
#define GARBAGE_KINDS 9
#define TORN_FILLERS 12

/* --- options ---------------------------------------------------------------- */
static enum scenario arg_scenario = SC_NORMAL;
static const char *arg_listen = "127.0.0.1";
static unsigned arg_port = 8009;
static const char *arg_io_addr = "127.0.0.1";
static const char *arg_io_port = "4420";
static bool arg_io_tls; /* the --nqn entries say: TLS 1.3 required */
static const char *arg_nqn[NQN_MAX];
static unsigned arg_n_nqn;
static const char *arg_late_nqn[NQN_MAX];
static unsigned arg_n_late_nqn;
static char arg_dead_addr[DEAD_MAX][NVMF_TRADDR_SIZE];
static char arg_dead_port[DEAD_MAX][NVMF_TRSVCID_SIZE];
static unsigned arg_n_dead;
static uint64_t arg_count = 65536; /* referrals, or the claimed numrec */
static unsigned arg_aen_count = 1000;
static const char *arg_ready;
static bool arg_verbose;
static bool arg_auth; /* --dhchap-key: DH-HMAC-CHAP required */
static struct dhchap_key arg_host_key; /* what the host must prove it has */
static bool arg_has_ctrl_key;
static struct dhchap_key arg_ctrl_key; /* what this controller proves with */

/* --- page state --------------------------------------------------------------- */
static uint64_t page_genctr = 1;
static unsigned late_shown; /* normal: --late-nqn entries revealed by SIGUSR2 */
static unsigned page_version; /* torn: 0 before the switch, 1 after */
static bool torn_armed; /* torn: a read of the header (offset 0) began */
static bool torn_done;

static volatile sig_atomic_t sig_stop, sig_storm, sig_change;
static unsigned storm_left;

struct stats {
	unsigned long cmds, log_reads, aens;
	unsigned long long log_bytes;
};
static struct stats total;

struct conn {
	int fd;
	unsigned id;
	bool icreq_done;
	bool connected; /* Fabrics Connect done */
	uint16_t cntlid;
	uint16_t sqhd, sqsize;
	uint32_t cc, csts, kato, aen_cfg;
	bool aen_masked; /* a disc-change AEN was sent; log page not yet read with RAE=0 */
	bool aen_pending; /* a change waits for an AER */
	uint16_t aer[AER_MAX];
	unsigned n_aer;
	char subnqn[NVME_NQN_LENGTH + 1];
	char hostnqn[NVME_NQN_LENGTH + 1];
	/* DH-HMAC-CHAP: where the exchange is, and its transaction's values. */
	enum auth_step auth;
	bool authenticated;
	bool auth_bidi; /* the host sent C2: it authenticates this controller */
	uint8_t auth_fail; /* the Failure1 explanation to send */
	uint8_t sc_c;
	uint16_t tid;
	uint32_t s1, s2;
	uint8_t c1[DHCHAP_HASH_LEN], c2[DHCHAP_HASH_LEN];
	uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_cap;
	struct stats st;
	struct conn *next;
};

static struct conn *conns;
static unsigned next_conn_id = 1;
static uint16_t next_cntlid = 1;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;

	fputs("hostile-dc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
#define vlog(...)                           \
	do {                                \
		if (arg_verbose)            \
			logf_(__VA_ARGS__); \
	} while (0)

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}
static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return le16toh(v);
}
static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}
static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

/* --- the log page, computed from the offset ----------------------------------- */

static uint64_t page_numrec(void)
{
	switch (arg_scenario) {
	case SC_NORMAL:
		return arg_n_nqn + late_shown;
	case SC_GENCTR:
		return arg_n_nqn;
	case SC_NUMREC:
		return arg_count;
	case SC_REFERRALS:
		return arg_n_nqn + arg_count;
	case SC_GARBAGE:
		return arg_n_nqn + GARBAGE_KINDS;
	case SC_DEAD:
		return arg_n_nqn + arg_n_dead;
	case SC_TORN:
		return arg_n_nqn + TORN_FILLERS;
	case SC_MANY:
		return arg_n_nqn + arg_count;
	}
	return 0;
}

/* A fixed-size field: @src's bytes, NUL-padded, no terminator when it fills the field. */
static void field_set(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size);

	memset(dst, 0, size);
	memcpy(dst, src, n);
}

/* A subsystem entry: tcp, ipv4/ipv6 by the address, treq not specified (see entry_tls()). */
static void entry_subsys(uint8_t *e, const char *nqn, const char *traddr, const char *trsvcid,
			 uint8_t subtype)
{
	struct nvmf_disc_log_entry *d = (struct nvmf_disc_log_entry *)e;

	memset(e, 0, ENTRY_SIZE);
	d->trtype = NVMF_TRTYPE_TCP;
	d->adrfam = strchr(traddr, ':') ? NVMF_ADDR_FAMILY_IP6 : NVMF_ADDR_FAMILY_IP4;
	d->subtype = subtype;
	d->treq = 0;
	d->portid = htole16(1);
	d->cntlid = htole16(0xffff);
	d->asqsz = htole16(32);
	field_set(d->trsvcid, sizeof(d->trsvcid), trsvcid);
	field_set(d->subnqn, sizeof(d->subnqn), nqn);
	field_set(d->traddr, sizeof(d->traddr), traddr);
}

/* --io-tls: the entry requires a secure channel, TLS 1.3 (TP8011), as nvmet's tls1.3 port. */
static void entry_tls(uint8_t *e)
{
	struct nvmf_disc_log_entry *d = (struct nvmf_disc_log_entry *)e;

	d->treq = NVMF_TREQ_REQUIRED;
	d->tsas.tcp.sectype = NVMF_TCP_SECTYPE_TLS13;
}

/* Malformed entries, one of each kind; stas must skip each with one line. */
static void entry_garbage(uint8_t *e, unsigned kind)
{
	struct nvmf_disc_log_entry *d = (struct nvmf_disc_log_entry *)e;
	char nqn[64];

	snprintf(nqn, sizeof(nqn), "nqn.2024-01.io.stas:garbage-%u", kind);
	entry_subsys(e, nqn, "127.0.0.1", "4420", NVME_NQN_NVME);
	switch (kind) {
	case 0: /* traddr: 256 digits, no NUL */
		memset(d->traddr, '1', sizeof(d->traddr));
		break;
	case 1: /* trsvcid: 32 digits, no NUL */
		memset(d->trsvcid, '4', sizeof(d->trsvcid));
		break;
	case 2: /* subnqn: 256 valid characters, no NUL */
		memcpy(d->subnqn, "nqn.2024-01.io.stas:", 20);
		memset(d->subnqn + 20, 'n', sizeof(d->subnqn) - 20);
		break;
	case 3: /* subnqn with a terminal escape and a newline */
		strcpy(d->subnqn, "nqn.2024-01.io.stas:esc\x1b[2J\x1b]0;pwned\x07\nfake log line");
		break;
	case 4: /* traddr with a newline */
		strcpy(d->traddr, "127.0.0.1\nnvme0: fake");
		break;
	case 5: /* a second option smuggled into the kernel's connect string */
		strcpy(d->traddr, "127.0.0.1,host_traddr=127.0.0.2");
		break;
	case 6: /* trsvcid with a tab and a comma */
		strcpy(d->trsvcid, "4420\t,nr_io_queues=64");
		break;
	case 7: /* an unknown transport */
		d->trtype = 0xee;
		break;
	case 8: /* DEL and a high byte inside the NQN */
		strcpy(d->subnqn, "nqn.2024-01.io.stas:del\x7f\xff");
		break;
	}
}

static void entry_at(uint64_t i, uint8_t *e)
{
	char nqn[NVME_NQN_LENGTH], addr[64];

	/* The legitimate entries first, in every scenario. */
	if (i < arg_n_nqn) {
		entry_subsys(e, arg_nqn[i], arg_io_addr, arg_io_port, NVME_NQN_NVME);
		if (arg_io_tls)
			entry_tls(e);
		return;
	}
	i -= arg_n_nqn;
	switch (arg_scenario) {
	case SC_NORMAL:
		if (i < late_shown)
			entry_subsys(e, arg_late_nqn[i], arg_io_addr, arg_io_port, NVME_NQN_NVME);
		return;
	case SC_GENCTR:
		return;
	case SC_NUMREC:
		/* What a broken DC sends after its real entries: nothing. */
		memset(e, 0, ENTRY_SIZE);
		return;
	case SC_REFERRALS:
		/* 127.1.0.0/16 and up: loopback, nothing listens there; each a distinct DC. */
		snprintf(addr, sizeof(addr), "127.%u.%u.%u", 1 + (unsigned)(i >> 16) % 254,
			 (unsigned)(i >> 8) & 0xff, (unsigned)i & 0xff);
		entry_subsys(e, DISC_NQN, addr, "8009", NVME_NQN_DISC);
		return;
	case SC_GARBAGE:
		entry_garbage(e, (unsigned)i);
		return;
	case SC_DEAD:
		snprintf(nqn, sizeof(nqn), "nqn.2024-01.io.stas:dead-%llu", (unsigned long long)i);
		entry_subsys(e, nqn, arg_dead_addr[i], arg_dead_port[i], NVME_NQN_NVME);
		return;
	case SC_MANY:
		snprintf(nqn, sizeof(nqn), "nqn.2024-01.io.stas:many-%llu", (unsigned long long)i);
		entry_subsys(e, nqn, arg_io_addr, arg_io_port, NVME_NQN_NVME);
		return;
	case SC_TORN:
		snprintf(nqn, sizeof(nqn), "nqn.2024-01.io.stas:torn-%c-%llu",
			 page_version ? 'b' : 'a', (unsigned long long)i);
		entry_subsys(e, nqn, "127.0.0.1", "4", NVME_NQN_NVME);
		return;
	}
}

/* Bytes [off, off + len) of the page as it is now; zeros past its end. */
static void page_fill(uint64_t off, uint8_t *buf, size_t len)
{
	uint64_t numrec = page_numrec();
	uint8_t e[ENTRY_SIZE];

	memset(buf, 0, len);
	while (len > 0) {
		uint64_t slot = off / ENTRY_SIZE, in = off % ENTRY_SIZE;
		size_t n = ENTRY_SIZE - in;

		if (n > len)
			n = len;
		if (slot == 0) {
			memset(e, 0, sizeof(e));
			put64(e, page_genctr);
			put64(e + 8, numrec);
			put16(e + 16, 0);
		} else if (slot - 1 < numrec) {
			entry_at(slot - 1, e);
		} else {
			return; /* the rest stays zero */
		}
		memcpy(buf, e + in, n);
		buf += n;
		off += n;
		len -= n;
	}
}

/* --- output ------------------------------------------------------------------ */

static int out_reserve(struct conn *c, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 65536;
		uint8_t *p;

		while (cap < c->out_len + n)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	return 0;
}

static uint8_t *out_append(struct conn *c, size_t n)
{
	uint8_t *p;

	if (out_reserve(c, n) < 0) {
		logf_("out of memory");
		exit(1);
	}
	p = c->out + c->out_len;
	memset(p, 0, n);
	c->out_len += n;
	return p;
}

static void hdr_put(uint8_t *p, uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo,
		    uint32_t plen)
{
	p[0] = type;
	p[1] = flags;
	p[2] = hlen;
	p[3] = pdo;
	put32(p + 4, plen);
}

static void send_rsp(struct conn *c, uint16_t cid, uint16_t status, uint64_t result)
{
	uint8_t *p = out_append(c, RSP_LEN);

	hdr_put(p, PDU_RSP, 0, RSP_LEN, 0, RSP_LEN);
	put64(p + 8, result);
	c->sqhd = c->sqsize ? (uint16_t)((c->sqhd + 1) % (c->sqsize + 1u)) : 0;
	put16(p + 16, c->sqhd);
	put16(p + 18, 0); /* sqid: admin */
	put16(p + 20, cid);
	put16(p + 22, (uint16_t)(status << 1));
}

/* Controller-to-host data: one C2HData PDU, then the response capsule. */
static uint8_t *send_c2h(struct conn *c, uint16_t cid, uint32_t len)
{
	uint8_t *p = out_append(c, C2H_HLEN + len);

	hdr_put(p, PDU_C2H_DATA, PDU_F_DATA_LAST, C2H_HLEN, C2H_HLEN, C2H_HLEN + len);
	put16(p + 8, cid);
	put32(p + 12, 0); /* data offset */
	put32(p + 16, len);
	return p + C2H_HLEN;
}

static void send_term(struct conn *c, uint16_t fes)
{
	uint8_t *p = out_append(c, TERM_HLEN);

	hdr_put(p, PDU_C2H_TERM, 0, TERM_HLEN, 0, TERM_HLEN);
	put16(p + 8, fes);
}

/* --- commands ------------------------------------------------------------------ */

static uint64_t reg_cap(void)
{
	/* MQES 127, CQR, TO 15 (7.5 s), CSS NVM, MPSMIN/MPSMAX 4 KiB. */
	return 127ull | (1ull << 16) | (15ull << 24) | (1ull << 37);
}

static void cmd_property(struct conn *c, const uint8_t *sqe, uint16_t cid, bool set)
{
	uint8_t attrib = sqe[40] & 7;
	uint32_t off = get32(sqe + 44);
	uint64_t v = 0;

	if (!c->connected) {
		send_rsp(c, cid, SC_CMD_SEQ_ERROR | SC_DNR, 0);
		return;
	}
	if (set) {
		uint64_t val = get64(sqe + 48);

		if (off != REG_CC || attrib != 0) {
			send_rsp(c, cid, SC_INVALID_FIELD | SC_DNR, 0);
			return;
		}
		c->cc = (uint32_t)val;
		/* CSTS.RDY follows CC.EN; a shutdown request completes at once. */
		c->csts = (c->cc & 1) ? 1 : 0;
		if ((c->cc >> 14) & 3)
			c->csts |= 2u << 2;
		vlog("conn %u: CC=0x%x", c->id, c->cc);
		send_rsp(c, cid, SC_SUCCESS, 0);
		return;
	}
	switch (off) {
	case REG_CAP:
		v = reg_cap();
		break;
	case REG_VS:
		v = 0x00010300; /* 1.3 */
		break;
	case REG_CC:
		v = c->cc;
		break;
	case REG_CSTS:
		v = c->csts;
		break;
	default:
		send_rsp(c, cid, SC_INVALID_FIELD | SC_DNR, 0);
		return;
	}
	if (attrib == 0 && off == REG_CAP)
		v &= 0xffffffff;
	send_rsp(c, cid, SC_SUCCESS, v);
}

static void cmd_connect(struct conn *c, const uint8_t *sqe, uint16_t cid, const uint8_t *data,
			size_t dlen)
{
	const struct nvmf_connect_data *cd = (const void *)data;
	uint16_t qid = get16(sqe + 42), sqsize = get16(sqe + 44);

	if (dlen < sizeof(*cd)) {
		logf_("conn %u: Connect without its 1024 bytes of data (%zu)", c->id, dlen);
		send_rsp(c, cid, SC_INVALID_FIELD | SC_DNR, 0);
		return;
	}
	if (qid != 0) {
		/* A discovery controller has the admin queue only. */
		logf_("conn %u: Connect for I/O queue %u refused", c->id, qid);
		send_rsp(c, cid, SC_CONNECT_INVALID_PARAM | SC_DNR, 0);
		return;
	}
	memcpy(c->subnqn, cd->subsysnqn, NVME_NQN_LENGTH);
	c->subnqn[NVME_NQN_LENGTH] = '\0';
	memcpy(c->hostnqn, cd->hostnqn, NVME_NQN_LENGTH);
	c->hostnqn[NVME_NQN_LENGTH] = '\0';
	c->sqsize = sqsize;
	c->kato = get32(sqe + 48);
	c->cntlid = next_cntlid++;
	if (next_cntlid >= 0xffef)
		next_cntlid = 1;
	c->connected = true;
	c->auth = arg_auth ? AUTH_NEGOTIATE : AUTH_NONE;
	logf_("conn %u: Connect from %s to %s, cntlid %u, sqsize %u, kato %u ms%s", c->id,
	      c->hostnqn, c->subnqn, c->cntlid, sqsize, c->kato,
	      arg_auth ? ", DH-HMAC-CHAP required" : "");
	send_rsp(c, cid, SC_SUCCESS, c->cntlid | (arg_auth ? CONNECT_AUTHREQ_ATR : 0));
}

/* --- DH-HMAC-CHAP, the controller's side ------------------------------------------ */

static const char *auth_fail_name(uint8_t e)
{
	switch (e) {
	case AUTH_FAIL_FAILED:
		return "failed";
	case AUTH_FAIL_CONCAT_MISMATCH:
		return "secure channel concatenation mismatch";
	case AUTH_FAIL_HASH_UNUSABLE:
		return "hash function not usable";
	case AUTH_FAIL_DHGROUP_UNUSABLE:
		return "DH group not usable";
	case AUTH_FAIL_INCORRECT_PAYLOAD:
		return "incorrect payload";
	case AUTH_FAIL_INCORRECT_MESSAGE:
		return "incorrect protocol message";
	}
	return "unknown";
}

/* The exchange failed: the host's next Authentication Receive gets AUTH_Failure1. */
static void auth_fail(struct conn *c, uint8_t why, const char *what)
{
	logf_("conn %u: DH-HMAC-CHAP: %s; AUTH_Failure1 (%s) follows", c->id, what,
	      auth_fail_name(why));
	c->auth = AUTH_FAILURE1;
	c->auth_fail = why;
}

static bool ids_have(const uint8_t *ids, unsigned n, uint8_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void random_fill(void *p, size_t n)
{
	if (getrandom(p, n, 0) != (ssize_t)n) {
		logf_("getrandom: %s", strerror(errno));
		exit(1);
	}
}

static void auth_negotiate(struct conn *c, const uint8_t *d, uint32_t tl)
{
	bool dhchap = false;
	unsigned napd;

	if (tl < AUTH_NEG_HLEN) {
		auth_fail(c, AUTH_FAIL_INCORRECT_PAYLOAD, "AUTH_Negotiate too short");
		return;
	}
	c->tid = get16(d + 4);
	c->sc_c = d[6];
	napd = d[7];
	if (napd == 0 || tl < AUTH_NEG_HLEN + napd * AUTH_DESC_LEN) {
		auth_fail(c, AUTH_FAIL_INCORRECT_PAYLOAD,
			  "AUTH_Negotiate shorter than its protocol descriptors");
		return;
	}
	if (c->sc_c != 0) {
		auth_fail(c, AUTH_FAIL_CONCAT_MISMATCH,
			  "the host asks for secure channel concatenation");
		return;
	}
	for (unsigned i = 0; i < napd && !dhchap; i++) {
		const uint8_t *desc = d + AUTH_NEG_HLEN + i * AUTH_DESC_LEN;
		unsigned halen = desc[2], dhlen = desc[3];

		if (desc[0] != AUTH_ID_DHCHAP)
			continue;
		dhchap = true;
		if (halen > 30 || dhlen > 30) {
			auth_fail(c, AUTH_FAIL_INCORRECT_PAYLOAD,
				  "bad protocol descriptor lengths");
			return;
		}
		if (!ids_have(desc + 4, halen, AUTH_HASH_SHA256)) {
			auth_fail(c, AUTH_FAIL_HASH_UNUSABLE, "the host does not offer SHA-256");
			return;
		}
		if (!ids_have(desc + 4 + 30, dhlen, AUTH_DHGROUP_NULL)) {
			auth_fail(c, AUTH_FAIL_DHGROUP_UNUSABLE,
				  "the host does not offer the NULL DH group");
			return;
		}
	}
	if (!dhchap) {
		auth_fail(c, AUTH_FAIL_INCORRECT_PAYLOAD, "no DH-HMAC-CHAP protocol descriptor");
		return;
	}
	random_fill(c->c1, sizeof(c->c1));
	do
		random_fill(&c->s1, sizeof(c->s1));
	while (c->s1 == 0);
	c->auth_bidi = false;
	c->auth = AUTH_CHALLENGE;
	logf_("conn %u: DH-HMAC-CHAP: AUTH_Negotiate (T_ID %u): hmac(sha256), NULL DH group", c->id,
	      c->tid);
}

static void auth_reply(struct conn *c, const uint8_t *d, uint32_t tl)
{
	uint8_t want[DHCHAP_HASH_LEN];
	struct dhchap_key tkey;
	unsigned hl;

	if (tl < AUTH_HDR_LEN || d[0] != AUTH_TYPE_DHCHAP || d[1] != AUTH_MSG_REPLY ||
	    get16(d + 4) != c->tid) {
		auth_fail(c, AUTH_FAIL_INCORRECT_MESSAGE, "expected DH-HMAC-CHAP_Reply");
		return;
	}
	hl = d[6];
	if (hl != DHCHAP_HASH_LEN || get16(d + 10) != 0 || tl < AUTH_HDR_LEN + 2 * hl) {
		auth_fail(c, AUTH_FAIL_INCORRECT_PAYLOAD, "DH-HMAC-CHAP_Reply with bad lengths");
		return;
	}
	if (dhchap_key_transform(&arg_host_key, c->hostnqn, &tkey) < 0) {
		auth_fail(c, AUTH_FAIL_FAILED, "the host key cannot be transformed");
		return;
	}
	dhchap_host_response(&tkey, c->c1, c->s1, c->tid, c->sc_c, c->hostnqn, c->subnqn, want);
	explicit_bzero(&tkey, sizeof(tkey));
	if (memcmp(want, d + AUTH_HDR_LEN, DHCHAP_HASH_LEN) != 0) {
		auth_fail(c, AUTH_FAIL_FAILED, "the host's response is wrong (wrong host key)");
		return;
	}
	c->auth_bidi = d[8] != 0;
	if (c->auth_bidi) {
		c->s2 = get32(d + 12);
		memcpy(c->c2, d + AUTH_HDR_LEN + hl, DHCHAP_HASH_LEN);
		if (!arg_has_ctrl_key) {
			auth_fail(c, AUTH_FAIL_FAILED,
				  "the host asks this controller to authenticate, and it has no "
				  "--dhchap-ctrl-key");
			return;
		}
	}
	c->auth = AUTH_SUCCESS1;
	logf_("conn %u: DH-HMAC-CHAP: the host's response is right (%s)", c->id,
	      c->auth_bidi ? "bidirectional: C2 received" : "unidirectional");
}

static void cmd_auth_send(struct conn *c, const uint8_t *sqe, uint16_t cid, const uint8_t *data,
			  size_t dlen)
{
	uint32_t tl = get32(sqe + 44);

	if (sqe[43] != AUTH_SECP_DHCHAP || sqe[41] != 0x01 || sqe[42] != 0x01 || tl < 2 ||
	    tl > dlen) {
		logf_("conn %u: Authentication Send refused (secp 0x%02x, spsp %u/%u, tl %u, "
		      "%zu bytes)",
		      c->id, sqe[43], sqe[41], sqe[42], tl, dlen);
		send_rsp(c, cid, SC_INVALID_FIELD | SC_DNR, 0);
		return;
	}
	/* A Negotiate starts (or restarts: re-authentication) a transaction at any step. */
	if (data[0] == AUTH_TYPE_COMMON && data[1] == AUTH_MSG_NEGOTIATE) {
		auth_negotiate(c, data, tl);
	} else if (data[0] == AUTH_TYPE_COMMON && data[1] == AUTH_MSG_FAILURE2 && tl >= 8) {
		logf_("conn %u: DH-HMAC-CHAP: AUTH_Failure2 from the host (%s): it rejected this "
		      "controller's response (wrong controller key)",
		      c->id, auth_fail_name(data[7]));
		c->auth = AUTH_NEGOTIATE;
	} else if (c->auth == AUTH_REPLY) {
		auth_reply(c, data, tl);
	} else if (c->auth == AUTH_SUCCESS2 && tl >= AUTH_HDR_LEN && data[0] == AUTH_TYPE_DHCHAP &&
		   data[1] == AUTH_MSG_SUCCESS2 && get16(data + 4) == c->tid) {
		c->auth = AUTH_NONE;
		c->authenticated = true;
		logf_("conn %u: DH-HMAC-CHAP: DH-HMAC-CHAP_Success2: the host accepted this "
		      "controller's response; authenticated (bidirectional)",
		      c->id);
	} else {
		auth_fail(c, AUTH_FAIL_INCORRECT_MESSAGE,
			  "unexpected message in Authentication Send");
	}
	send_rsp(c, cid, SC_SUCCESS, 0);
}

static void cmd_auth_recv(struct conn *c, const uint8_t *sqe, uint16_t cid)
{
	uint32_t al = get32(sqe + 44), dlen = get32(sqe + 32); /* SGL length */
	struct dhchap_key tkey = {};
	uint8_t *p;

	if (sqe[43] != AUTH_SECP_DHCHAP || sqe[41] != 0x01 || sqe[42] != 0x01 ||
	    al < AUTH_HDR_LEN + DHCHAP_HASH_LEN || al > dlen) {
		logf_("conn %u: Authentication Receive refused (secp 0x%02x, spsp %u/%u, al %u)",
		      c->id, sqe[43], sqe[41], sqe[42], al);
		send_rsp(c, cid, SC_INVALID_FIELD | SC_DNR, 0);
		return;
	}
	if (c->auth != AUTH_CHALLENGE && c->auth != AUTH_SUCCESS1 && c->auth != AUTH_FAILURE1)
		auth_fail(c, AUTH_FAIL_INCORRECT_MESSAGE, "Authentication Receive out of turn");
	if (c->auth == AUTH_SUCCESS1 && c->auth_bidi &&
	    dhchap_key_transform(&arg_ctrl_key, c->subnqn, &tkey) < 0)
		auth_fail(c, AUTH_FAIL_FAILED, "the controller key cannot be transformed");
	switch (c->auth) {
	case AUTH_CHALLENGE:
		p = send_c2h(c, cid, AUTH_HDR_LEN + DHCHAP_HASH_LEN);
		p[0] = AUTH_TYPE_DHCHAP;
		p[1] = AUTH_MSG_CHALLENGE;
		put16(p + 4, c->tid);
		p[6] = DHCHAP_HASH_LEN;
		p[8] = AUTH_HASH_SHA256;
		p[9] = AUTH_DHGROUP_NULL;
		put16(p + 10, 0); /* no DH value */
		put32(p + 12, c->s1);
		memcpy(p + AUTH_HDR_LEN, c->c1, DHCHAP_HASH_LEN);
		c->auth = AUTH_REPLY;
		vlog("conn %u: DH-HMAC-CHAP: Challenge sent", c->id);
		break;
	case AUTH_SUCCESS1:
		p = send_c2h(c, cid, AUTH_HDR_LEN + DHCHAP_HASH_LEN);
		p[0] = AUTH_TYPE_DHCHAP;
		p[1] = AUTH_MSG_SUCCESS1;
		put16(p + 4, c->tid);
		p[6] = DHCHAP_HASH_LEN;
		if (c->auth_bidi) {
			p[8] = 1; /* rvalid: this controller's response follows */
			dhchap_ctrl_response(&tkey, c->c2, c->s2, c->tid, c->subnqn, c->hostnqn,
					     p + AUTH_HDR_LEN);
			c->auth = AUTH_SUCCESS2;
			logf_("conn %u: DH-HMAC-CHAP: DH-HMAC-CHAP_Success1 sent with this "
			      "controller's response",
			      c->id);
		} else {
			c->auth = AUTH_NONE;
			c->authenticated = true;
			logf_("conn %u: DH-HMAC-CHAP: DH-HMAC-CHAP_Success1 sent; authenticated "
			      "(unidirectional)",
			      c->id);
		}
		break;
	case AUTH_FAILURE1:
		p = send_c2h(c, cid, 8);
		p[0] = AUTH_TYPE_COMMON;
		p[1] = AUTH_MSG_FAILURE1;
		put16(p + 4, c->tid);
		p[6] = 0x01; /* reason code: authentication failed */
		p[7] = c->auth_fail;
		c->auth = AUTH_NEGOTIATE;
		logf_("conn %u: DH-HMAC-CHAP: AUTH_Failure1 sent", c->id);
		break;
	case AUTH_NONE:
	case AUTH_NEGOTIATE:
	case AUTH_REPLY:
	case AUTH_SUCCESS2:
		break; /* not reached: auth_fail() above made these AUTH_FAILURE1 */
	}
	explicit_bzero(&tkey, sizeof(tkey));
	send_rsp(c, cid, SC_SUCCESS, 0);
}

static void cmd_identify(struct conn *c, uint16_t cid, uint32_t cdw10, uint32_t dlen)
{
	struct nvme_id_ctrl id;
	uint8_t cns = cdw10 & 0xff;

	if (cns != NVME_IDENTIFY_CNS_CTRL) {
		vlog("conn %u: Identify CNS %u refused", c->id, cns);
		send_rsp(c, cid, SC_INVALID_FIELD | SC_DNR, 0);
		return;
	}
	memset(&id, 0, sizeof(id));
	memset(id.sn, ' ', sizeof(id.sn));
	memcpy(id.sn, "hostile-1", 9);
	memset(id.mn, ' ', sizeof(id.mn));
	memcpy(id.mn, "stas hostile discovery controller", 33);
	memset(id.fr, ' ', sizeof(id.fr));
	memcpy(id.fr, "1.0", 3);
	id.mdts = MDTS;
	id.cntlid = htole16(c->cntlid);
	id.ver = htole32(0x00010300);
	id.oaes = htole32(1u << 31); /* discovery log page change notices */
	id.cntrltype = 2; /* discovery controller */
	id.aerl = AER_MAX - 1;
	id.lpa = 1 << 2; /* extended data for Get Log Page (NUMDU, LPOU) */
	id.kas = htole16(10); /* 1 s granularity */
	id.sqes = 0x66;
	id.cqes = 0x44;
	id.maxcmd = htole16(128);
	id.sgls = htole32((1u << 0) | (1u << 20)); /* SGLs; offsets in capsules */
	field_set(id.subnqn, sizeof(id.subnqn), c->subnqn[0] ? c->subnqn : DISC_NQN);
	id.ioccsz = htole32(4);
	id.iorcsz = htole32(1);
	id.msdbd = 1;
	if (dlen > sizeof(id))
		dlen = sizeof(id);
	memcpy(send_c2h(c, cid, dlen), &id, dlen);
	send_rsp(c, cid, SC_SUCCESS, 0);
}

static void aen_complete(struct conn *c)
{
	uint16_t cid = c->aer[0];

	memmove(c->aer, c->aer + 1, (c->n_aer - 1) * sizeof(c->aer[0]));
	c->n_aer--;
	c->st.aens++;
	total.aens++;
	send_rsp(c, cid, SC_SUCCESS, AEN_DISC_CHANGE);
}

/* Deliver what waits: a storm ignores the mask, a normal change respects it. */
static void aen_kick(struct conn *c)
{
	while (c->n_aer > 0 && storm_left > 0) {
		storm_left--;
		page_genctr++;
		aen_complete(c);
		if (storm_left == 0)
			logf_("AEN storm done (genctr %llu)", (unsigned long long)page_genctr);
	}
	if (c->n_aer > 0 && c->aen_pending && !c->aen_masked && (c->aen_cfg & (1u << 31))) {
		c->aen_pending = false;
		c->aen_masked = true;
		aen_complete(c);
	}
}

static void cmd_get_log_page(struct conn *c, uint16_t cid, const uint8_t *sqe, uint32_t dlen)
{
	uint32_t cdw10 = get32(sqe + 40), cdw11 = get32(sqe + 44);
	uint64_t lpo = (uint64_t)get32(sqe + 48) | (uint64_t)get32(sqe + 52) << 32;
	uint8_t lid = cdw10 & 0xff;
	bool rae = cdw10 & (1u << 15);
	uint64_t numd = ((uint64_t)(cdw11 & 0xffff) << 16 | cdw10 >> 16) + 1;
	uint64_t len = numd * 4;

	if (lid != LID_DISCOVERY) {
		vlog("conn %u: Get Log Page 0x%02x refused", c->id, lid);
		send_rsp(c, cid, SC_INVALID_LOG_PAGE | SC_DNR, 0);
		return;
	}
	if (len > dlen || len > (4096u << MDTS) || (lpo & 3)) {
		logf_("conn %u: Get Log Page of %llu bytes at %llu with a %u-byte buffer refused",
		      c->id, (unsigned long long)len, (unsigned long long)lpo, dlen);
		send_rsp(c, cid, SC_INVALID_FIELD | SC_DNR, 0);
		return;
	}
	/* Scenario hooks: what changes with this read. */
	if (arg_scenario == SC_GENCTR && lpo == 0)
		page_genctr++;
	if (arg_scenario == SC_TORN && !torn_done) {
		/* Armed by any read of the header (genctr, numrec): libnvme
		 * reads header and entries in one go, stas reads the 1 KiB
		 * header alone first; either way the next chunk is torn. */
		if (lpo == 0 && len >= 16)
			torn_armed = true;
		else if (lpo > 0 && torn_armed) {
			page_version = 1;
			page_genctr++;
			torn_done = true;
			logf_("torn: the page changed in the middle of a read (now genctr %llu)",
			      (unsigned long long)page_genctr);
		}
	}
	page_fill(lpo, send_c2h(c, cid, (uint32_t)len), len);
	c->st.log_reads++;
	c->st.log_bytes += len;
	total.log_reads++;
	total.log_bytes += len;
	if (total.log_reads % 10000 == 0)
		logf_("%lu log page reads so far (%llu bytes, last at offset %llu)",
		      total.log_reads, total.log_bytes, (unsigned long long)lpo);
	vlog("conn %u: Get Log Page 0x70 lpo %llu len %llu rae %d", c->id, (unsigned long long)lpo,
	     (unsigned long long)len, rae);
	send_rsp(c, cid, SC_SUCCESS, 0);
	if (!rae)
		c->aen_masked = false;
	aen_kick(c);
}

static void cmd_features(struct conn *c, uint16_t cid, const uint8_t *sqe, bool set)
{
	uint32_t cdw10 = get32(sqe + 40), cdw11 = get32(sqe + 44);
	uint8_t fid = cdw10 & 0xff;
	uint32_t result = 0;

	switch (fid) {
	case FEAT_KATO:
		if (set)
			c->kato = cdw11;
		result = c->kato;
		break;
	case FEAT_ASYNC_EVENT:
		if (set)
			c->aen_cfg = cdw11 & (1u << 31);
		result = c->aen_cfg;
		break;
	case FEAT_NUM_QUEUES:
		result = 0; /* no I/O queues: 0's based zero each */
		break;
	default:
		vlog("conn %u: %s Features 0x%02x refused", c->id, set ? "Set" : "Get", fid);
		send_rsp(c, cid, SC_INVALID_FIELD | SC_DNR, 0);
		return;
	}
	send_rsp(c, cid, SC_SUCCESS, result);
	aen_kick(c);
}

/* The data length the host's SGL descriptor offers (transport data block). */
static uint32_t sgl_len(const uint8_t *sqe)
{
	return get32(sqe + 32);
}

static int handle_cmd(struct conn *c, const uint8_t *pdu, uint32_t plen)
{
	const uint8_t *sqe = pdu + HDR_LEN;
	uint8_t opcode = sqe[0];
	uint16_t cid = get16(sqe + 2);
	uint8_t pdo = pdu[3];
	const uint8_t *data = NULL;
	size_t dlen = 0;

	if (pdo && pdo < plen) {
		data = pdu + pdo;
		dlen = plen - pdo;
	}
	c->st.cmds++;
	total.cmds++;
	if (opcode == OP_FABRICS && (sqe[4] == FCT_AUTH_SEND || sqe[4] == FCT_AUTH_RECV)) {
		if (!arg_auth || !c->connected) {
			logf_("conn %u: Authentication %s %s", c->id,
			      sqe[4] == FCT_AUTH_SEND ? "Send" : "Receive",
			      arg_auth ? "before Connect" : "refused: no --dhchap-key");
			send_rsp(c, cid, (arg_auth ? SC_CMD_SEQ_ERROR : SC_INVALID_OPCODE) | SC_DNR,
				 0);
		} else if (sqe[4] == FCT_AUTH_SEND) {
			cmd_auth_send(c, sqe, cid, data, dlen);
		} else {
			cmd_auth_recv(c, sqe, cid);
		}
		return 0;
	}
	/* Until the exchange succeeds, only Connect and authentication (NVMe 2.0, 8.13.2). */
	if (arg_auth && c->connected && !c->authenticated) {
		logf_("conn %u: command 0x%02x/0x%02x before DH-HMAC-CHAP completed: Authentication "
		      "Required",
		      c->id, opcode, opcode == OP_FABRICS ? sqe[4] : 0);
		send_rsp(c, cid, SC_AUTH_REQUIRED | SC_DNR, 0);
		return 0;
	}
	if (opcode == OP_FABRICS) {
		switch (sqe[4]) {
		case FCT_CONNECT:
			if (c->connected) {
				send_rsp(c, cid, SC_CMD_SEQ_ERROR | SC_DNR, 0);
				return 0;
			}
			cmd_connect(c, sqe, cid, data, dlen);
			return 0;
		case FCT_PROP_GET:
			cmd_property(c, sqe, cid, false);
			return 0;
		case FCT_PROP_SET:
			cmd_property(c, sqe, cid, true);
			return 0;
		default:
			vlog("conn %u: fabrics command 0x%02x refused", c->id, sqe[4]);
			send_rsp(c, cid, SC_INVALID_OPCODE | SC_DNR, 0);
			return 0;
		}
	}
	if (!c->connected || !(c->csts & 1)) {
		logf_("conn %u: admin command 0x%02x before the controller is ready", c->id,
		      opcode);
		send_rsp(c, cid, SC_CMD_SEQ_ERROR | SC_DNR, 0);
		return 0;
	}
	switch (opcode) {
	case OP_IDENTIFY:
		cmd_identify(c, cid, get32(sqe + 40), sgl_len(sqe));
		return 0;
	case OP_GET_LOG_PAGE:
		cmd_get_log_page(c, cid, sqe, sgl_len(sqe));
		return 0;
	case OP_SET_FEATURES:
		cmd_features(c, cid, sqe, true);
		return 0;
	case OP_GET_FEATURES:
		cmd_features(c, cid, sqe, false);
		return 0;
	case OP_KEEP_ALIVE:
		send_rsp(c, cid, SC_SUCCESS, 0);
		return 0;
	case OP_AER:
		if (c->n_aer >= AER_MAX) {
			send_rsp(c, cid, SC_AER_LIMIT | SC_DNR, 0);
			return 0;
		}
		c->aer[c->n_aer++] = cid;
		aen_kick(c);
		return 0;
	default:
		vlog("conn %u: admin opcode 0x%02x refused", c->id, opcode);
		send_rsp(c, cid, SC_INVALID_OPCODE | SC_DNR, 0);
		return 0;
	}
}

static int handle_icreq(struct conn *c, const uint8_t *pdu, uint32_t plen)
{
	uint8_t *p;

	if (plen != ICREQ_LEN || get16(pdu + 8) != 0) {
		logf_("conn %u: bad ICReq (plen %u, pfv %u)", c->id, plen, get16(pdu + 8));
		return -EPROTO;
	}
	if (pdu[11] & 3)
		vlog("conn %u: host asks for digests; offering none", c->id);
	p = out_append(c, ICREQ_LEN);
	hdr_put(p, PDU_ICRESP, 0, ICREQ_LEN, 0, ICREQ_LEN);
	put16(p + 8, 0); /* pfv 1.0 */
	p[10] = 0; /* cpda */
	p[11] = 0; /* no digests */
	put32(p + 12, 131072); /* maxh2cdata */
	c->icreq_done = true;
	return 0;
}

/* One whole PDU. */
static int handle_pdu(struct conn *c, const uint8_t *pdu, uint32_t plen)
{
	uint8_t type = pdu[0], hlen = pdu[2];

	if (!c->icreq_done) {
		if (type != PDU_ICREQ) {
			logf_("conn %u: PDU 0x%02x before ICReq", c->id, type);
			return -EPROTO;
		}
		return handle_icreq(c, pdu, plen);
	}
	switch (type) {
	case PDU_CMD:
		if (hlen != CMD_HLEN || plen < CMD_HLEN) {
			logf_("conn %u: bad command capsule (hlen %u)", c->id, hlen);
			send_term(c, 1);
			return -EPROTO;
		}
		return handle_cmd(c, pdu, plen);
	case PDU_H2C_TERM:
		logf_("conn %u: the host terminated the connection", c->id);
		return -ECONNRESET;
	default:
		logf_("conn %u: unexpected PDU 0x%02x", c->id, type);
		send_term(c, 1);
		return -EPROTO;
	}
}

/* --- connections ------------------------------------------------------------------ */

static void conn_free(struct conn *c)
{
	struct conn **pp;

	logf_("conn %u closed: %lu commands, %lu log page reads (%llu bytes), %lu AENs%s", c->id,
	      c->st.cmds, c->st.log_reads, c->st.log_bytes, c->st.aens,
	      !arg_auth || !c->connected ? "" :
	      c->authenticated		 ? ", DH-HMAC-CHAP authenticated" :
					   ", never authenticated");
	for (pp = &conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static int conn_read(struct conn *c)
{
	ssize_t n;
	size_t used = 0;

	n = read(c->fd, c->in + c->in_len, PDU_MAX - c->in_len);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	c->in_len += (size_t)n;
	while (c->in_len - used >= HDR_LEN) {
		const uint8_t *p = c->in + used;
		uint32_t plen = get32(p + 4);
		int r;

		if (plen < HDR_LEN || plen > PDU_MAX) {
			logf_("conn %u: PDU length %u refused", c->id, plen);
			return -EPROTO;
		}
		if (c->in_len - used < plen)
			break;
		r = handle_pdu(c, p, plen);
		if (r < 0)
			return r;
		used += plen;
	}
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	return 0;
}

static int conn_write(struct conn *c)
{
	ssize_t n;

	if (c->out_len == 0)
		return 0;
	n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	memmove(c->out, c->out + n, c->out_len - (size_t)n);
	c->out_len -= (size_t)n;
	return 0;
}

static void conn_accept(int lfd)
{
	struct conn *c;
	int fd, one = 1;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	if (c)
		c->in = malloc(PDU_MAX);
	if (!c || !c->in) {
		logf_("out of memory");
		exit(1);
	}
	c->fd = fd;
	c->id = next_conn_id++;
	c->next = conns;
	conns = c;
	vlog("conn %u: accepted", c->id);
}

/* --- main ------------------------------------------------------------------------ */

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_storm = 1;
	else if (sig == SIGUSR2)
		sig_change = 1;
	else
		sig_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hostile-dc --scenario NAME [OPTIONS]\n"
		"A user-space NVMe/TCP discovery controller serving crafted log pages.\n\n"
		"Scenarios:\n"
		"  normal     the --nqn entries; each SIGUSR2 adds the next --late-nqn entry\n"
		"  numrec     the header claims --count entries; the --nqn entries first\n"
		"  referrals  the --nqn entries and --count referrals (127.x.y.z:8009)\n"
		"  garbage    the --nqn entries and %d malformed ones (no NUL, control bytes)\n"
		"  genctr     the --nqn entries; genctr changes on every read at offset 0\n"
		"  dead       the --nqn entries and one per --dead ADDR:PORT\n"
		"  many       the --nqn entries and --count subsystems (many-N at --io-addr)\n"
		"  torn       the --nqn entries and %d fillers that change (with genctr) after\n"
		"             the first chunk of the first multi-chunk read\n\n"
		"Options:\n"
		"  -l, --listen ADDR     address to listen on (127.0.0.1)\n"
		"  -p, --port PORT       port (8009)\n"
		"  -n, --nqn NQN         a legitimate subsystem entry (repeatable, up to %d)\n"
		"  -L, --late-nqn NQN    normal: an entry that appears on SIGUSR2 (repeatable)\n"
		"  -a, --io-addr ADDR    its traddr (127.0.0.1)\n"
		"  -s, --io-port PORT    its trsvcid (4420)\n"
		"  -T, --io-tls          the --nqn entries require TLS 1.3 (treq, tsas)\n"
		"  -c, --count N         referrals, subsystems, or numrec claimed (65536)\n"
		"  -d, --dead ADDR:PORT  an entry pointing at an address that never answers\n"
		"  -A, --aen-count N     AENs in the storm SIGUSR1 starts (1000)\n"
		"  -r, --ready FILE      create FILE once listening\n"
		"  -k, --dhchap-key FILE require DH-HMAC-CHAP (SHA-256, NULL DH group) with\n"
		"                        the host key in FILE (DHHC-1:00: or DHHC-1:01:)\n"
		"  -K, --dhchap-ctrl-key FILE  the controller key in FILE, for a host that\n"
		"                        authenticates this controller (bidirectional)\n"
		"  -v, --verbose         log every command\n",
		GARBAGE_KINDS, TORN_FILLERS, NQN_MAX);
}

/*
 * A DH-HMAC-CHAP secret from @path (a file, so that it shows in no process
 * list); the messages name the option and the file, never the secret.
 */
static int key_load(const char *path, const char *opt, struct dhchap_key *ret_key)
{
	char buf[256];
	size_t n;
	FILE *f;
	int r;

	f = fopen(path, "re");
	if (!f) {
		logf_("%s: cannot open %s: %s", opt, path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	r = dhchap_key_parse(buf, ret_key);
	explicit_bzero(buf, sizeof(buf));
	if (r == -EBADMSG)
		logf_("%s: the secret in %s fails its CRC-32", opt, path);
	else if (r < 0)
		logf_("%s: %s does not hold a DH-HMAC-CHAP secret (DHHC-1:NN:<base64>:)", opt,
		      path);
	return r < 0 ? -1 : 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = { { "scenario", required_argument, NULL, 'S' },
					      { "listen", required_argument, NULL, 'l' },
					      { "port", required_argument, NULL, 'p' },
					      { "nqn", required_argument, NULL, 'n' },
					      { "io-addr", required_argument, NULL, 'a' },
					      { "io-port", required_argument, NULL, 's' },
					      { "io-tls", no_argument, NULL, 'T' },
					      { "count", required_argument, NULL, 'c' },
					      { "dead", required_argument, NULL, 'd' },
					      { "aen-count", required_argument, NULL, 'A' },
					      { "ready", required_argument, NULL, 'r' },
					      { "dhchap-key", required_argument, NULL, 'k' },
					      { "dhchap-ctrl-key", required_argument, NULL, 'K' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	int o;

	while ((o = getopt_long(argc, argv, "S:l:p:n:L:a:s:Tc:d:A:r:k:K:vh", opts, NULL)) != -1) {
		char *end, *colon;
		size_t i;

		switch (o) {
		case 'S':
			for (i = 0; i < sizeof(scenario_names) / sizeof(scenario_names[0]); i++)
				if (strcmp(optarg, scenario_names[i]) == 0)
					break;
			if (i == sizeof(scenario_names) / sizeof(scenario_names[0])) {
				logf_("unknown scenario: %s", optarg);
				return -1;
			}
			arg_scenario = (enum scenario)i;
			break;
		case 'l':
			arg_listen = optarg;
			break;
		case 'p':
			arg_port = (unsigned)strtoul(optarg, &end, 10);
			if (*end || arg_port == 0 || arg_port > 65535) {
				logf_("bad port: %s", optarg);
				return -1;
			}
			break;
		case 'n':
			if (arg_n_nqn == NQN_MAX || strlen(optarg) >= NVME_NQN_LENGTH) {
				logf_("too many or too long --nqn: %s", optarg);
				return -1;
			}
			arg_nqn[arg_n_nqn++] = optarg;
			break;
		case 'L':
			if (arg_n_late_nqn == NQN_MAX || strlen(optarg) >= NVME_NQN_LENGTH) {
				logf_("too many or too long --late-nqn: %s", optarg);
				return -1;
			}
			arg_late_nqn[arg_n_late_nqn++] = optarg;
			break;
		case 'a':
			arg_io_addr = optarg;
			break;
		case 's':
			arg_io_port = optarg;
			break;
		case 'T':
			arg_io_tls = true;
			break;
		case 'c':
			errno = 0;
			arg_count = strtoull(optarg, &end, 10);
			if (errno || *end) {
				logf_("bad count: %s", optarg);
				return -1;
			}
			break;
		case 'd':
			colon = strrchr(optarg, ':');
			if (arg_n_dead == DEAD_MAX || !colon ||
			    (size_t)(colon - optarg) >= NVMF_TRADDR_SIZE ||
			    strlen(colon + 1) >= NVMF_TRSVCID_SIZE) {
				logf_("bad --dead: %s", optarg);
				return -1;
			}
			memcpy(arg_dead_addr[arg_n_dead], optarg, (size_t)(colon - optarg));
			strcpy(arg_dead_port[arg_n_dead], colon + 1);
			arg_n_dead++;
			break;
		case 'A':
			arg_aen_count = (unsigned)strtoul(optarg, &end, 10);
			if (*end) {
				logf_("bad aen count: %s", optarg);
				return -1;
			}
			break;
		case 'r':
			arg_ready = optarg;
			break;
		case 'k':
			if (key_load(optarg, "--dhchap-key", &arg_host_key) < 0)
				return -1;
			arg_auth = true;
			break;
		case 'K':
			if (key_load(optarg, "--dhchap-ctrl-key", &arg_ctrl_key) < 0)
				return -1;
			arg_has_ctrl_key = true;
			break;
		case 'v':
			arg_verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	if (arg_has_ctrl_key && !arg_auth) {
		logf_("--dhchap-ctrl-key needs --dhchap-key");
		return -1;
	}
	return 0;
}

static int listen_on(void)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd, one = 1;

	if (inet_pton(AF_INET, arg_listen, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)arg_port);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, arg_listen, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)arg_port);
		sl = sizeof(*s6);
	} else {
		logf_("bad listen address: %s", arg_listen);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
		logf_("cannot listen on %s:%u: %s", arg_listen, arg_port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, unblocked;
	int lfd;

	if (parse_args(argc, argv) < 0)
		return 2;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Signals are taken only inside ppoll(), so none is missed between the checks. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGTERM);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGUSR1);
	sigdelset(&unblocked, SIGUSR2);

	lfd = listen_on();
	if (lfd < 0)
		return 1;
	logf_("scenario %s on %s:%u, %llu records claimed%s", scenario_names[arg_scenario],
	      arg_listen, arg_port, (unsigned long long)page_numrec(),
	      !arg_auth	       ? "" :
	      arg_has_ctrl_key ? ", DH-HMAC-CHAP required (host and controller keys)" :
				 ", DH-HMAC-CHAP required (host key)");
	if (arg_ready) {
		FILE *f = fopen(arg_ready, "we");

		if (!f) {
			logf_("cannot create %s: %s", arg_ready, strerror(errno));
			return 1;
		}
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}

	while (!sig_stop) {
		struct pollfd pfd[256];
		struct conn *cv[256];
		unsigned n = 1;
		struct conn *c;

		if (sig_storm) {
			sig_storm = 0;
			storm_left = arg_aen_count;
			logf_("AEN storm: %u AENs", storm_left);
		}
		if (sig_change) {
			sig_change = 0;
			page_genctr++;
			if (arg_scenario == SC_NORMAL && late_shown < arg_n_late_nqn)
				late_shown++;
			logf_("page changed (genctr %llu, %llu records)",
			      (unsigned long long)page_genctr, (unsigned long long)page_numrec());
			for (c = conns; c; c = c->next)
				c->aen_pending = true;
		}
		for (c = conns; c; c = c->next)
			aen_kick(c);

		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (c = conns; c && n < 256; c = c->next, n++) {
			pfd[n] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
			if (c->out_len)
				pfd[n].events |= POLLOUT;
			cv[n] = c;
		}
		if (ppoll(pfd, n, NULL, &unblocked) < 0) {
			if (errno == EINTR)
				continue;
			logf_("poll: %s", strerror(errno));
			return 1;
		}
		if (pfd[0].revents & POLLIN)
			conn_accept(lfd);
		for (unsigned i = 1; i < n; i++) {
			int r = 0;

			c = cv[i];
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				r = conn_read(c);
			if (r >= 0 && (pfd[i].revents & POLLOUT || c->out_len))
				r = conn_write(c);
			if (r < 0) {
				if (r != -ECONNRESET)
					logf_("conn %u: %s", c->id, strerror(-r));
				(void)conn_write(c);
				conn_free(c);
			}
		}
	}
	while (conns)
		conn_free(conns);
	logf_("stopped: %lu commands, %lu log page reads (%llu bytes), %lu AENs", total.cmds,
	      total.log_reads, total.log_bytes, total.aens);
	close(lfd);
	return 0;
}
