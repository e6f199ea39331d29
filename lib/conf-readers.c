/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf-readers.c - where each stas.conf option takes effect.
 *
 * Every option the schema accepts must be read by something, or it is
 * "accepted and ignored" - the fault issue 14 found in ip-family,
 * ignore-iface and host.symname. config_readers[] names, for each option
 * (config_schema_keys()), the source file and the field or function there
 * that reads it. tests/test-config walks the schema and fails when a key
 * has no row, when a row names a key the schema does not have, or when the
 * symbol does not occur in the file: adding an option without a reader (or
 * removing the reader) breaks the build's tests. stas.conf(5) and
 * doc/options.md carry the same table for people.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf-internal.h"
#include "conf.h"
#include "macro.h"
#include "strv.h"

#define CONNOPTS "lib/conn-opts.c"
#define RECONCILE "lib/reconcile.c"
#define DISCOVER "helpers/stas-discover/stas-discover.c"
#define SESSION "helpers/stas-discover/discover-session.c"
#define TRIGGER "helpers/stas-discover/discover-trigger.c"
#define MDNS_BROWSE "helpers/stas-mdns-watch/mdns-browse.c"
#define CONF "lib/conf.c"

/* A connection option at level @lvl ("global.", ...): read when connect options are built. */
#define CONN_OPT(lvl, name, field)                   \
	{                                            \
		lvl name, CONNOPTS, "p->conn." field \
	}
#define CONN_OPTS_DC(lvl)                                                         \
	CONN_OPT(lvl, "kato", "kato"), CONN_OPT(lvl, "queue-size", "queue_size"), \
		CONN_OPT(lvl, "reconnect-delay", "reconnect_delay"),              \
		CONN_OPT(lvl, "ctrl-loss-tmo", "ctrl_loss_tmo"),                  \
		CONN_OPT(lvl, "hdr-digest", "hdr_digest"),                        \
		CONN_OPT(lvl, "data-digest", "data_digest"),                      \
		CONN_OPT(lvl, "disable-sqflow", "disable_sqflow")
#define CONN_OPTS_IO(lvl)                                                 \
	CONN_OPTS_DC(lvl), CONN_OPT(lvl, "nr-io-queues", "nr_io_queues"), \
		CONN_OPT(lvl, "nr-write-queues", "nr_write_queues"),      \
		CONN_OPT(lvl, "nr-poll-queues", "nr_poll_queues")
/* The transport ID fields of a controller entry of a section. */
#define TID_KEYS(lvl, file, symbol)                                                      \
	{ lvl "transport", file, symbol }, { lvl "traddr", file, symbol },               \
		{ lvl "traddr", "lib/conf-names.c", "getaddrinfo_a" },                   \
		{ lvl "trsvcid", file, symbol }, { lvl "nqn", file, symbol },            \
		{ lvl "host-traddr", file, symbol }, { lvl "host-iface", file, symbol }, \
		{ lvl "host-nqn", file, symbol }, { lvl "host-id", CONF, "c->host_id" }, \
		{ lvl "dhchap-secret", CONF, "c->dhchap_secret" },                       \
		{ lvl "dhchap-ctrl-secret", CONF, "c->dhchap_ctrl_secret" },             \
		{ lvl "dhchap-secret", CONNOPTS, "p->dhchap_secret" },                   \
	{                                                                                \
		lvl "dhchap-ctrl-secret", CONNOPTS, "p->dhchap_ctrl_secret"              \
	}
#define IODEF(name)                                                   \
	{                                                             \
		"discovery.controllers.io-defaults." name, RECONCILE, \
			"config_conn_opts_resolve_discovered"         \
	}
#define EXCLUDE_KEYS(file, symbol)                                                    \
	{ "exclude.transport", file, symbol }, { "exclude.traddr", file, symbol },    \
		{ "exclude.trsvcid", file, symbol }, { "exclude.nqn", file, symbol }, \
		{ "exclude.host-iface", file, symbol },                               \
	{                                                                             \
		"exclude.host-nqn", file, symbol                                      \
	}

/* clang-format off */
const struct config_reader config_readers[] = {
	{ "host.nqn",     CONF, "cfg->host.nqn" },
	{ "host.id",      CONF, "cfg->host.id" },
	{ "host.key",     CONF, "cfg->host.key" },
	{ "host.symname", SESSION, "host.symname" },
	{ "host.symname", "lib/kernel.c", "nvme_host_set_hostsymname" },
	{ "host.tls-key", CONF, "cfg->host.tls_key" },
	{ "host.tls-key", CONNOPTS, "p->tls_key" },

	{ "global.tron", DISCOVER, "global.tron" },
	{ "global.tron", "helpers/stas-connect/stas-connect.c", "global.tron" },
	{ "global.tron", "helpers/stas-mdns-watch/stas-mdns-watch.c", "global.tron" },
	{ "global.audit-interval", "helpers/stas-connect/stas-connect.c", "audit_interval_sec" },
	{ "global.tls-key-derivation", CONF, "cfg->global.tls_key_derivation" },
	{ "global.tls-key-derivation", CONNOPTS, "p->tls_key_derivation" },
	{ "global.tls-key-derivation", "lib/kernel.c", "tls_psk_insert" },
	CONN_OPTS_IO("global."),
	{ "global.ignore-iface", MDNS_BROWSE, "o.conn.ignore_iface" },
	{ "global.ignore-iface", RECONCILE, "po.conn.ignore_iface" },
	{ "global.ip-family", MDNS_BROWSE, "o.conn.ip_family" },
	{ "global.ip-family", RECONCILE, "po.conn.ip_family" },

	CONN_OPTS_DC("discovery."),
	/* nvme-stas's stafd: mDNS-found DCs are filtered by family, and their interface kept or not */
	{ "discovery.ignore-iface", MDNS_BROWSE, "o.conn.ignore_iface" },
	{ "discovery.ip-family", MDNS_BROWSE, "o.conn.ip_family" },
	{ "discovery.ip-family", "lib/conf-names.c", "po.conn.ip_family" },
	{ "discovery.zeroconf", "helpers/stas-mdns-watch/stas-mdns-watch.c", "discovery.zeroconf" },
	{ "discovery.persistent-connections", SESSION, "persistent_connections" },
	{ "discovery.pleo", SESSION, "discovery.pleo" },
	{ "discovery.zeroconf-connections-persistence", "helpers/stas-mdns-watch/mdns-dc.c",
	  "zeroconf_persistence_sec" },
	{ "discovery.referrals-per-page-max", TRIGGER, "referrals_per_page_max" },
	{ "discovery.referral-dcs-max", TRIGGER, "referral_dcs_max" },
	{ "discovery.referral-give-up", DISCOVER, "referral_give_up_sec" },
	TID_KEYS("discovery.controllers.", DISCOVER, "config_section(d->cfg, CONFIG_ROLE_DISCOVERY)"),
	CONN_OPTS_DC("discovery.controllers."),
	/* a DC entry's options for the I/O controllers of its log page: reconcile layers them */
	IODEF("kato"), IODEF("queue-size"), IODEF("reconnect-delay"), IODEF("ctrl-loss-tmo"),
	IODEF("hdr-digest"), IODEF("data-digest"), IODEF("disable-sqflow"), IODEF("nr-io-queues"),
	IODEF("nr-write-queues"), IODEF("nr-poll-queues"), IODEF("tls"),
	/* TLS: connect with "tls", the configured PSK derived and inserted by lib/kernel.c */
	{ "discovery.controllers.tls", CONNOPTS, "p->conn.tls" },
	{ "discovery.controllers.tls", SESSION, "dc_tls_check" },
	{ "discovery.controllers.tls-key", CONF, "c->tls_key" },
	{ "discovery.controllers.tls-key", CONNOPTS, "p->tls_key" },

	CONN_OPTS_IO("io."),
	{ "io.ignore-iface", RECONCILE, "po.conn.ignore_iface" },
	{ "io.ip-family", RECONCILE, "po.conn.ip_family" },
	{ "io.disconnect-scope", RECONCILE, "cfg->io.disconnect_scope" },
	{ "io.disconnect-trtypes", RECONCILE, "cfg->io.disconnect_trtypes" },
	{ "io.connect-attempts-on-ncc", RECONCILE, "cfg->io.connect_attempts_on_ncc" },
	TID_KEYS("io.controllers.", RECONCILE, "config_controller_next"),
	CONN_OPTS_IO("io.controllers."),
	{ "io.controllers.tls", CONNOPTS, "p->conn.tls" },
	{ "io.controllers.tls", RECONCILE, "it->opts.tls" },
	{ "io.controllers.tls-key", CONF, "c->tls_key" },
	{ "io.controllers.tls-key", CONNOPTS, "p->tls_key" },

	/* discovery.exclude and io.exclude (one key: the schema does not tell them apart) */
	EXCLUDE_KEYS(CONF, "config_is_excluded"),
	{ "exclude.nqn", RECONCILE, "config_is_excluded(po->cfg, CONFIG_ROLE_IO" },
	{ "exclude.traddr", TRIGGER, "config_is_excluded(d->cfg, CONFIG_ROLE_DISCOVERY" },
	{ "exclude.host-iface", "helpers/stas-mdns-watch/mdns-rules.c", "config_is_excluded" },
};
/* clang-format on */
const size_t config_readers_n = ELEMENTSOF(config_readers);

/* The key prefix of a place in the schema ("" for the root's sections). */
static const char *where_prefix(unsigned w)
{
	switch (w) {
	case W_HOST:
		return "host.";
	case W_GLOBAL:
		return "global.";
	case W_DISC:
		return "discovery.";
	case W_IO:
		return "io.";
	case W_DCTRL:
		return "discovery.controllers.";
	case W_ICTRL:
		return "io.controllers.";
	case W_EXCL:
		return "exclude.";
	case W_IODEF:
		return "discovery.controllers.io-defaults.";
	default:
		return NULL;
	}
}

int config_schema_keys(char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;

	for (size_t i = 0; i < config_schema_n; i++) {
		const struct opt *o = &config_schema[i];

		/* containers: their contents are the options */
		if (o->type == T_SECTION || o->type == T_CONTROLLERS || o->type == T_EXCLUDE ||
		    o->type == T_IO_DEFAULTS)
			continue;
		for (unsigned bit = 1; bit <= W_IODEF; bit <<= 1) {
			const char *prefix = where_prefix(bit);
			char *k;

			if (!(o->where & bit) || !prefix)
				continue;
			if (asprintf(&k, "%s%s", prefix, o->name) < 0 || strv_consume(&l, k) < 0)
				return -ENOMEM;
		}
	}
	*ret = TAKE_PTR(l);
	return 0;
}
