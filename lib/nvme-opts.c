/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "nvme-opts.h"

#define DC_ONLY_OUTPUT "a discover output option"
#define NO_TLS_KEYRING \
	"stas inserts configured PSKs (tls-key) into the kernel's .nvme keyring; another keyring is not supported"
#define NO_TLS_IDENTITY \
	"stas derives the identity from the configured PSK (tls-key); a retained PSK with an identity of its own is not supported"
#define NO_TLS_SERIAL \
	"a keyring serial number does not survive a reboot: configure the PSK itself (tls-key)"
#define NO_NBFT "stas does not read the boot firmware's NBFT; the initramfs connects those"

/* clang-format off */
static const struct nvme_opt table[] = {
	{ "transport",          't', false, TID_FIELD_TRANSPORT,   "transport",          NVME_OPT_STRING },
	{ "traddr",             'a', false, TID_FIELD_TRADDR,      "traddr",             NVME_OPT_STRING },
	{ "trsvcid",            's', false, TID_FIELD_TRSVCID,     "trsvcid",            NVME_OPT_STRING },
	{ "host-traddr",        'w', false, TID_FIELD_HOST_TRADDR, "host-traddr",        NVME_OPT_STRING },
	{ "host-iface",         'f', false, TID_FIELD_HOST_IFACE,  "host-iface",         NVME_OPT_STRING },
	{ "hostnqn",            'q', false, TID_FIELD_HOST_NQN,    "host-nqn",           NVME_OPT_STRING },
	{ "hostid",             'I', false, -1,                    "host-id",            NVME_OPT_STRING },
	{ "nqn",                'n', false, TID_FIELD_SUBSYSNQN,   "nqn",                NVME_OPT_STRING },
	{ "keep-alive-tmo",     'k', false, -1,                    "kato",               NVME_OPT_INT },
	{ "reconnect-delay",    'c', false, -1,                    "reconnect-delay",    NVME_OPT_INT },
	{ "ctrl-loss-tmo",      'l', false, -1,                    "ctrl-loss-tmo",      NVME_OPT_INT },
	{ "queue-size",         'Q', false, -1,                    "queue-size",         NVME_OPT_INT },
	{ "hdr-digest",         'g', true,  -1,                    "hdr-digest",         NVME_OPT_BOOL },
	{ "data-digest",        'G', true,  -1,                    "data-digest",        NVME_OPT_BOOL },
	{ "disable-sqflow",     0,   true,  -1,                    "disable-sqflow",     NVME_OPT_BOOL },
	{ "dhchap-secret",      'S', false, -1,                    "dhchap-secret",      NVME_OPT_SECRET },
	{ "dhchap-ctrl-secret", 'C', false, -1,                    "dhchap-ctrl-secret", NVME_OPT_SECRET },
	{ "nr-io-queues",       'i', false, -1,                    "nr-io-queues",       NVME_OPT_INT, true },
	{ "nr-write-queues",    'W', false, -1,                    "nr-write-queues",    NVME_OPT_INT, true },
	{ "nr-poll-queues",     'P', false, -1,                    "nr-poll-queues",     NVME_OPT_INT, true },
	{ "persistent",         'p', true,  -1, NULL, NVME_OPT_BOOL, false,
	  "see discovery.persistent-connections (stas keeps discovery controllers connected by default)" },
	{ "duplicate-connect",  'D', true,  -1, NULL, NVME_OPT_BOOL, false, "stas never makes duplicate connections" },
	{ "tos",                'T', false, -1, NULL, NVME_OPT_INT, false, "type of service is not supported by stas" },
	{ "tls",                0,   true,  -1,                    "tls",                NVME_OPT_BOOL },
	{ "tls-key",            0,   false, -1,                    "tls-key",            NVME_OPT_SECRET },
	{ "keyring",            0,   false, -1, NULL, NVME_OPT_STRING, false, NO_TLS_KEYRING },
	{ "concat",             0,   true,  -1, NULL, NVME_OPT_BOOL, false,
	  "secure channel concatenation is not supported by stas" },
	{ "tls-key-identity",   0,   false, -1, NULL, NVME_OPT_STRING, false, NO_TLS_IDENTITY },
	{ "tls_key",            0,   false, -1, NULL, NVME_OPT_INT, false, NO_TLS_SERIAL },
	{ "fast_io_fail_tmo",   'F', false, -1, NULL, NVME_OPT_INT, false,
	  "fast_io_fail_tmo is not supported by stas (the kernel's default applies)" },
	{ "force",              0,   true,  -1, NULL, NVME_OPT_BOOL, false,
	  "stas reuses or creates its persistent discovery controller by itself" },
	{ "config",             'J', false, -1, NULL, NVME_OPT_STRING, false,
	  "another input file: import it with 'stasadm config import' itself" },
	{ "dump-config",        'O', true,  -1, NULL, NVME_OPT_BOOL, false, DC_ONLY_OUTPUT },
	{ "nbft",               0,   true,  -1, NULL, NVME_OPT_BOOL, false, NO_NBFT },
	{ "no-nbft",            0,   true,  -1, NULL, NVME_OPT_BOOL, false, NO_NBFT },
	{ "nbft-path",          0,   false, -1, NULL, NVME_OPT_STRING, false, NO_NBFT },
	{ "context",            0,   false, -1, NULL, NVME_OPT_STRING, false,
	  "libnvme's application context; stas marks its controllers owner=stas in the registry" },
	{ "raw",                'r', false, -1, NULL, NVME_OPT_STRING, false, DC_ONLY_OUTPUT },
	{ "device",             'd', false, -1, NULL, NVME_OPT_STRING, false, DC_ONLY_OUTPUT },
	{ "output-format",      'o', false, -1, NULL, NVME_OPT_STRING, false, DC_ONLY_OUTPUT },
	{ "quiet",              0,   true,  -1, NULL, NVME_OPT_BOOL, false, DC_ONLY_OUTPUT },
	{ "verbose",            'v', true,  -1, NULL, NVME_OPT_BOOL, false, DC_ONLY_OUTPUT },
};
/* clang-format on */

const struct nvme_opt *nvme_opt_from_name(const char *name)
{
	for (size_t i = 0; name && i < ELEMENTSOF(table); i++)
		if (streq(table[i].name, name))
			return &table[i];
	return NULL;
}

const struct nvme_opt *nvme_opt_from_letter(int letter)
{
	for (size_t i = 0; letter > 0 && i < ELEMENTSOF(table); i++)
		if (table[i].letter == letter)
			return &table[i];
	return NULL;
}

const struct nvme_opt *nvme_opt_from_key(const char *key)
{
	for (size_t i = 0; key && i < ELEMENTSOF(table); i++)
		if (table[i].key && streq(table[i].key, key))
			return &table[i];
	return NULL;
}

int nvme_opt_tid_set(struct tid *t, int letter, const char *value)
{
	const struct nvme_opt *o = nvme_opt_from_letter(letter);
	int r;

	if (!o || o->field < 0)
		return 0;
	r = tid_field_set(t, o->field, value);
	return r < 0 ? r : 1;
}
