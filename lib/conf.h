/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf.h - the stas configuration: /etc/stas/stas.conf plus the drop-ins
 * /etc/stas/stas.conf.d/<*>.conf (libconfig syntax), see stas.conf(5).
 *
 * The files are read once into a struct stas_config that every program uses
 * directly. Loading is strict: every setting is checked against one schema
 * table (name, type, range, where it may appear), and every problem - a
 * syntax error, an unknown key, a wrong type, an out-of-range value, a
 * controller without transport or traddr, a duplicate controller, an
 * unreadable file:// value - becomes one "FILE:LINE: message" string. All
 * problems are collected, loading does not stop at the first one, and
 * nothing is silently dropped.
 *
 * Drop-ins are read after the main file in lexical order: a scalar set in a
 * later file overrides the earlier value; controller and exclude lists are
 * appended to (duplicates across files are errors too).
 *
 * Connection options are layered: a controller entry's own value, else its
 * section's (discovery or io), else the global one, else the built-in
 * default of the role (kato 30 s for discovery controllers) or, for most
 * options, "unset": leave it to the kernel. config_conn_opts_resolve() does
 * that walk; programs must not do it themselves.
 *
 * Secrets (host key, DH-HMAC-CHAP secrets) are held in memory, never
 * printed: config_to_libconfig() and config_dump() write "<secret>", and
 * config_free() wipes them.
 */
#pragma once

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"
#include "tid.h"
#include "tls-psk.h"

struct hashset;
struct json_object;

#define CONFIG_FILE_DEFAULT SYSCONFDIR "/stas/stas.conf"
/* Drop-ins for a main file F live in "F.d/" (so /etc/stas/stas.conf.d/). */
#define CONFIG_DROPIN_SUFFIX ".d"

/* An integer option not set anywhere: the kernel's (libnvme's) default. */
#define CONFIG_UNSET INT32_MIN

/* What the secret stand-in looks like in every output. */
#define CONFIG_SECRET_MASK "<secret>"

/* discovery.referrals-per-page-max / referral-dcs-max defaults (issue 13 5a). */
#define CONFIG_REFERRALS_PER_PAGE_DEFAULT 64
#define CONFIG_REFERRAL_DCS_DEFAULT 256
#define CONFIG_REFERRALS_LIMIT 65536

/*
 * Why discovery.persistent-connections = false is refused (the loader's
 * message, and the importer's for nvme-stas's setting).
 */
#define CONFIG_PERSISTENT_FALSE_REFUSED                                                        \
	"'persistent-connections = false' is not supported: in nvme-stas it disconnects the "  \
	"discovery controllers when stafd stops; stas has no resident discovery daemon to "    \
	"stop, keeps its discovery controllers connected so that their log-page-change "       \
	"events arrive, and disconnects them at shutdown (stas-shutdown.service). Remove the " \
	"setting (true is the only value); for a single connect-read-disconnect run use "      \
	"'stas-discover --oneshot'"

/* How long config_names_resolve() waits for all host names together. */
#define CONFIG_RESOLVE_TIMEOUT_MS 3000

/* zeroconf-connections-persistence = -1 / "never": keep forever. */
#define CONFIG_DURATION_INFINITY INT64_C(-1)

enum config_role {
	CONFIG_ROLE_DISCOVERY, /* discovery controllers (DCs) */
	CONFIG_ROLE_IO, /* I/O controllers (IOCs) */
	_CONFIG_ROLE_MAX,
};

/* ip-family: a bitmask. */
enum {
	CONFIG_IP_FAMILY_IPV4 = 1 << 0,
	CONFIG_IP_FAMILY_IPV6 = 1 << 1,
	CONFIG_IP_FAMILY_BOTH = CONFIG_IP_FAMILY_IPV4 | CONFIG_IP_FAMILY_IPV6,
};

/* disconnect-trtypes: a bitmask. */
enum {
	CONFIG_TRTYPE_TCP = 1 << 0,
	CONFIG_TRTYPE_RDMA = 1 << 1,
	CONFIG_TRTYPE_FC = 1 << 2,
};

enum config_disconnect_scope {
	CONFIG_DISCONNECT_ONLY_STAS, /* "only-stas-connections" (default) */
	CONFIG_DISCONNECT_ALL_MATCHING_TRTYPES, /* "all-connections-matching-disconnect-trtypes" */
	CONFIG_DISCONNECT_NONE, /* "no-disconnect" */
	_CONFIG_DISCONNECT_MAX,
};

/**
 * struct config_conn_opts - connection options. Every field may be
 * CONFIG_UNSET in a layer (global, section, controller). Booleans are 0/1.
 *
 * @kato:            keep-alive timeout, seconds, 0..3600 (DC default 30).
 * @queue_size:      I/O queue depth, 16..1024.
 * @nr_io_queues:    1..1024. @nr_write_queues, @nr_poll_queues: 0..1024.
 * @reconnect_delay: seconds, 1..3600.
 * @ctrl_loss_tmo:   seconds, -1 (forever) or 0..2^31-1.
 * @hdr_digest, @data_digest, @disable_sqflow: booleans (default false).
 * @ignore_iface:    ignore a controller's host-iface (default false; not
 *                   per controller).
 * @ip_family:       CONFIG_IP_FAMILY_* (default both; not per controller).
 * @tls:             boolean: connect over TLS (tcp; per controller and
 *                   io-defaults only; default false).
 */
struct config_conn_opts {
	int32_t kato;
	int32_t queue_size;
	int32_t nr_io_queues;
	int32_t nr_write_queues;
	int32_t nr_poll_queues;
	int32_t reconnect_delay;
	int32_t ctrl_loss_tmo;
	int32_t hdr_digest;
	int32_t data_digest;
	int32_t disable_sqflow;
	int32_t ignore_iface;
	int32_t ip_family;
	int32_t tls;
};

/**
 * struct config_controller - one "controllers" entry.
 * @tid:        canonical transport ID (subsysnqn from key "nqn"; for a DC it
 *              defaults to the well-known discovery NQN; trsvcid defaults to
 *              8009 for a tcp DC and 4420 otherwise for tcp/rdma).
 * @host_id:    host ID override (UUID) or NULL.
 * @dhchap_secret, @dhchap_ctrl_secret: DH-HMAC-CHAP secrets or NULL (the
 *              values, file:// already read).
 * @tls_key:    the configured TLS PSK in interchange format, or NULL (the
 *              value, file:// already read; checked by tls_psk_parse()).
 * @opts:       per-controller overrides (ignore_iface, ip_family unset).
 * @io_defaults: discovery controller entries only ("io-defaults"): options
 *              for the I/O controllers found in this DC's log page, between
 *              an io.controllers entry of their own and the io section
 *              (what nvme-cli's connect-all does with a discovery.conf
 *              line's options). All CONFIG_UNSET otherwise.
 * @traddr_name: the host name configured as traddr (tcp/rdma), or NULL
 *              when traddr is an address. While it is set, @tid.traddr is
 *              empty until config_names_resolve() put the name's address
 *              there; @resolve_error tells how that went.
 * @resolve_error: 0 when @tid is usable (an address, or a resolved name);
 *              -EADDRNOTAVAIL not resolved yet, -ENOENT no such name,
 *              -EAGAIN temporary failure, -ETIMEDOUT no answer in time,
 *              -EAFNOSUPPORT no address of an allowed ip-family.
 *              A controller with an error is skipped by every program
 *              (an error for that controller only).
 * @source:     "FILE:LINE" where the entry starts, for messages.
 */
struct config_controller {
	struct tid tid;
	char *host_id;
	char *dhchap_secret;
	char *dhchap_ctrl_secret;
	char *tls_key;
	struct config_conn_opts opts;
	struct config_conn_opts io_defaults;
	char *traddr_name;
	int resolve_error;
	char *source;
};

/**
 * struct config_exclude - one "exclude" entry: a tid_match() pattern (unset
 * fields are wildcards, traddr may be a CIDR prefix; never host-traddr).
 */
struct config_exclude {
	struct tid pattern;
	char *source;
};

/**
 * struct config_section - what the discovery and io sections share.
 * @opts: connection overrides for every controller of this role.
 */
struct config_section {
	struct config_conn_opts opts;
	struct config_controller *controllers;
	size_t n_controllers;
	struct config_exclude *exclude;
	size_t n_exclude;
	/*
	 * Built at load, for lookups by subsystem NQN in O(1): @by_nqn maps an
	 * NQN to 1 + the index of its first controller, @nqn_next[i] is the
	 * index of the next controller with controller i's NQN (SIZE_MAX: none).
	 * Use config_controller_next(), not these.
	 */
	struct hashset *by_nqn;
	size_t *nqn_next;
};

/**
 * struct config_host - host identity; @nqn, @id and @key are the values
 * (read from the file when the setting is "file://PATH"), NULL when the
 * default file does not exist. The *_spec fields are what was configured
 * (default "file:///etc/nvme/hostnqn", ".../hostid", ".../hostkey").
 */
struct config_host {
	char *nqn;
	char *id;
	char *key; /* secret */
	char *symname;
	char *nqn_spec;
	char *id_spec;
	char *key_spec;
	char *symname_spec;
	char *tls_key; /* secret: the configured TLS PSK of every TLS path without its own */
	char *tls_key_spec; /* no default */
};

struct stas_config {
	struct config_host host;
	struct {
		bool tron;
		struct config_conn_opts opts;
		int64_t audit_interval_sec; /* stas-audit.timer's period; default 15 min, 0: off */
		/* how configured TLS PSKs are derived (default RFC 8446) */
		enum tls_psk_derivation tls_key_derivation;
	} global;
	struct {
		struct config_section s;
		bool zeroconf; /* default true */
		/*
		 * Always true: "false" (nvme-stas: disconnect the DCs when stafd
		 * stops) is refused at load, see stas.conf(5).
		 */
		bool persistent_connections;
		int64_t zeroconf_persistence_sec; /* default 72 h; -1: forever */
		int64_t referral_give_up_sec; /* never-answering referral DC; default 1 h, 0: never */
		bool pleo; /* default true */
		unsigned referrals_per_page_max; /* new referrals followed per page; default 64 */
		unsigned referral_dcs_max; /* referral DCs in the cache; default 256 */
	} discovery;
	struct {
		struct config_section s;
		enum config_disconnect_scope disconnect_scope;
		unsigned disconnect_trtypes; /* default CONFIG_TRTYPE_TCP */
		unsigned connect_attempts_on_ncc; /* 0: never stop; else >= 2 */
	} io;
	char **files; /* the files read, in order (strv) */
	/*
	 * Problems that do not stop loading, "FILE: message" (strv, NULL when
	 * none), each once: inline secrets in a file readable by others (or by
	 * a group other than root), a file:// secret readable so. Programs
	 * print them once after loading.
	 */
	char **warnings;
};

/**
 * struct config_path_opts - the effective options for one path, from
 * config_conn_opts_resolve(). @conn has booleans, @ignore_iface and
 * @ip_family resolved; integer options still CONFIG_UNSET mean "leave the
 * kernel default" (keep what nvmf_default_config() set). The strings point
 * into the stas_config (valid while it lives) and may be NULL.
 */
struct config_path_opts {
	struct config_conn_opts conn;
	const char *hostnqn;
	const char *hostid;
	const char *dhchap_secret;
	const char *dhchap_ctrl_secret;
	const char *tls_key; /* the controller's, else host.tls-key; NULL: none */
	enum tls_psk_derivation tls_key_derivation;
};

/**
 * config_load() - read @path (NULL: CONFIG_FILE_DEFAULT) and its drop-in
 * directory "@path.d/" (*.conf, sorted), validate everything and build the
 * configuration.
 *
 * A missing default file gives the defaults; a missing @path given
 * explicitly is an error. A missing drop-in directory is fine.
 *
 * @ret_errors (may be NULL) receives, on failure, a NULL-terminated list of
 * "FILE:LINE: message" strings (free with strv_free()); every problem found
 * in every file is listed.
 *
 * Return: 0 and *ret (free with config_free()); -EINVAL when any file has
 * problems; -ENOENT when an explicit @path is missing; -ENOMEM. *ret is
 * untouched on failure.
 */
int config_load(const char *path, struct stas_config **ret, char ***ret_errors);

/**
 * config_load_string() - as config_load() for the text @text, named @name
 * in messages, without drop-ins. Used to validate generated configuration.
 */
int config_load_string(const char *text, const char *name, struct stas_config **ret,
		       char ***ret_errors);

enum {
	/*
	 * A file:// secret (host.key, host.tls-key, dhchap-secret, dhchap-ctrl-secret, tls-key) whose
	 * file does not exist is a warning in cfg->warnings, not an error (the
	 * setting is left unset): what nvme-stas does, and what "config import"
	 * needs on a machine that does not hold the peer's key files yet.
	 */
	CONFIG_LOAD_MISSING_SECRET_FILES_WARN = 1 << 0,
};

/** config_load_string_flags() - config_load_string() with CONFIG_LOAD_* @flags. */
int config_load_string_flags(const char *text, const char *name, unsigned flags,
			     struct stas_config **ret, char ***ret_errors);

/**
 * config_new_default() - the configuration with every default, as if no
 * file existed (host identity read from the default files when present).
 * Return: 0 or -ENOMEM.
 */
int config_new_default(struct stas_config **ret);

/** config_free() - wipe the secrets and free; accepts NULL. */
void config_free(struct stas_config *cfg);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct stas_config *, config_free)
#define _cleanup_config_free_ _cleanup_(config_freep)

/** config_section() - the discovery or io section of @cfg. */
const struct config_section *config_section(const struct stas_config *cfg, enum config_role role);

/**
 * config_conn_opts_resolve() - the effective options of a path of @role:
 * @c's own values (when @c is not NULL), else the section's, else the
 * global ones, else the role's defaults. Host NQN/ID: the controller's,
 * else the host's; DH-HMAC-CHAP host secret: the controller's, else the
 * host key; controller secret: the controller's only.
 * Return: 0.
 */
int config_conn_opts_resolve(const struct stas_config *cfg, enum config_role role,
			     const struct config_controller *c, struct config_path_opts *ret);

/**
 * config_conn_opts_resolve_discovered() - the effective options of an I/O
 * path found in the log page of the discovery controller @dc (may be NULL:
 * not configured, e.g. found by mDNS or a referral): @c's own values (the
 * io.controllers entry of the path, may be NULL), else @dc's io-defaults,
 * else the io section's, else the global ones. Host NQN and host ID: @c's,
 * else @dc's (the persona the DC was configured with: nvme-cli's connect-all
 * and nvme-fabrics.conf drop-ins connect what a DC lists under its
 * identity), else the host's. Secrets as config_conn_opts_resolve() for
 * CONFIG_ROLE_IO and @c.
 * Return: 0.
 */
int config_conn_opts_resolve_discovered(const struct stas_config *cfg,
					const struct config_controller *c,
					const struct config_controller *dc,
					struct config_path_opts *ret);

/**
 * config_names_resolve() - resolve every controller whose traddr is a host
 * name (nvme-stas's example has traddr=localhost; nvme-cli resolves names
 * too) to the first address getaddrinfo() gives of an ip-family the
 * controller's options allow, all names at once, waiting at most
 * @timeout_ms in all (0: CONFIG_RESOLVE_TIMEOUT_MS). Programs call it after
 * loading, at each run, so a name is re-resolved on each discovery and
 * reconcile. Each controller's result is in its @resolve_error; a name
 * that does not resolve disables that controller only. A lookup still
 * running at the deadline is cancelled, or, when the resolver cannot
 * cancel it, abandoned (its small request is then left allocated).
 * @ret_problems (may be NULL) receives one "FILE:LINE: traddr \"NAME\":
 * reason" string per controller left unresolved (a strv, NULL when none).
 * Return: the number of controllers left unresolved (>= 0), or -ENOMEM.
 */
int config_names_resolve(struct stas_config *cfg, unsigned timeout_ms, char ***ret_problems);

/**
 * config_resolve_error_to_string() - @resolve_error of a controller as text
 * ("no such host name", ...); NULL for 0.
 */
const char *config_resolve_error_to_string(int resolve_error);

/**
 * config_controller_usable() - whether @c has a usable transport ID: its
 * traddr is an address, or a host name config_names_resolve() resolved.
 */
bool config_controller_usable(const struct config_controller *c);

/**
 * config_controller_unresolved_match() - whether @t could be the path of a
 * configured controller of @role whose host name did not resolve this run
 * (same transport, trsvcid, subsystem NQN and route; any address). A
 * program must not tear such a path down: the name's failure is transient
 * as far as it can tell.
 */
bool config_controller_unresolved_match(const struct stas_config *cfg, enum config_role role,
					const struct tid *t);

/**
 * struct config_reader - one row of config_readers[]: the option @key (see
 * config_schema_keys()) takes effect in @file, where @symbol appears (the
 * field or function that reads it). tests/test-config checks that every
 * schema key has a row and that @symbol occurs in @file, so an option
 * cannot be accepted without a reader.
 */
struct config_reader {
	const char *key;
	const char *file;
	const char *symbol;
};
extern const struct config_reader config_readers[];
extern const size_t config_readers_n;

/**
 * config_schema_keys() - every option the loader accepts, one string per
 * place it may appear: "host.nqn", "global.kato", "discovery.zeroconf",
 * "discovery.controllers.traddr", "io.exclude.nqn",
 * "discovery.controllers.io-defaults.ctrl-loss-tmo", ... (groups and lists
 * themselves left out). Return: 0 and a strv in *ret, or -ENOMEM.
 */
int config_schema_keys(char ***ret);

/**
 * config_controller_find() - the configured controller of @role that is the
 * path @t, or NULL (also when @cfg is NULL). @t is canonical, with trsvcid
 * filled in, as every TID stas builds or stores.
 *
 * Semantics, the same for every caller (stas-discover's DC lookups,
 * reconcile's options for an I/O path):
 * - transport, traddr, trsvcid and nqn always identify the controller and
 *   must be equal (an entry's are always set: nqn defaults to the
 *   well-known discovery NQN for a DC, trsvcid to the transport's default).
 * - host-nqn: an entry without one stands for the host's NQN (host.nqn),
 *   which is what every stored TID carries; a @t without host NQN matches
 *   any entry's.
 * - host-traddr and host-iface choose the route. An entry equal to @t in
 *   them too is preferred. For a discovery controller that is required:
 *   each DC entry is one connection stas makes and keeps in the cache, so
 *   an entry whose route changed is a new DC and the old one is retired.
 *   For an I/O controller, an entry leaving them unset also matches a path
 *   to the same controller over any route (a path found in the log page of
 *   a DC configured with host-iface), so its options apply there too.
 * When several entries qualify, the first in configuration order wins.
 */
const struct config_controller *config_controller_find(const struct stas_config *cfg,
						       enum config_role role, const struct tid *t);

/**
 * config_controller_next() - walk the configured controllers of @role whose
 * subsystem NQN is @nqn, in configuration order: @prev NULL gives the first,
 * a returned entry gives the one after it. Constant time per step however
 * many controllers are configured.
 * Return: the entry, or NULL at the end (also when @cfg is NULL).
 */
const struct config_controller *config_controller_next(const struct stas_config *cfg,
						       enum config_role role, const char *nqn,
						       const struct config_controller *prev);

/**
 * config_is_excluded() - whether @t matches an exclude entry of @role.
 */
bool config_is_excluded(const struct stas_config *cfg, enum config_role role, const struct tid *t);

/**
 * config_to_libconfig() - the effective configuration as a libconfig tree
 * in @ret (initialised by the caller with config_init()): every option
 * with its value after defaults, unset kernel-default options left out,
 * secrets replaced by CONFIG_SECRET_MASK. Return: 0 or -ENOMEM.
 */
int config_to_libconfig(const struct stas_config *cfg, config_t *ret);

/**
 * config_dump() - config_to_libconfig() written to @f in libconfig syntax.
 * Return: 0 or negative errno.
 */
int config_dump(const struct stas_config *cfg, FILE *f);

/**
 * config_to_json() - config_to_libconfig() as a JSON object in *@ret (free
 * with json_object_put()): groups become objects, lists and arrays become
 * arrays. Return: 0, or -ENOMEM.
 */
int config_to_json(const struct stas_config *cfg, struct json_object **ret);

/**
 * config_duration_parse() - a zeroconf-connections-persistence value as
 * nvme-stas reads it (its timeparse): seconds ("3600", "1.5"), "never" /
 * "infinity", a time span of numbers (decimals allowed) with units
 * d/dy(s)/day(s), h/hr(s)/hour(s), m/min(s)/minute(s), s/sec(s)/second(s),
 * separated by blanks, ',' or '/' ("72h", "3 days 5 hours", "1h30m",
 * "1.5 hours"), or a clock "M:SS", "H:MM:SS", "D:HH:MM:SS", ":SS", also
 * after "N days" ("2 days 1:30:00"). A leading sign is allowed; a negative
 * duration means forever, as in nvme-stas. Fractions of a second are
 * dropped.
 * Return: 0 and *ret seconds (-1 forever), or -EINVAL / -ERANGE.
 */
int config_duration_parse(const char *s, int64_t *ret);

/** Enum string conversions; from_string returns the value or -EINVAL. */
const char *config_disconnect_scope_to_string(enum config_disconnect_scope s);
int config_disconnect_scope_from_string(const char *s);
const char *config_ip_family_to_string(unsigned ip_family);
int config_ip_family_from_string(const char *s);

/**
 * config_secret_is_valid() - a DH-HMAC-CHAP secret in NVMe's ASCII
 * representation: "DHHC-1:<2 hex digits>:<base64>:".
 */
bool config_secret_is_valid(const char *s);

/**
 * config_string_is_printable() - whether @s is valid UTF-8 (shortest forms,
 * no surrogates, at most U+10FFFF) without control characters (C0, DEL,
 * C1). Every configured string that can reach output, a log or the wire
 * (host.symname above all) must be.
 */
bool config_string_is_printable(const char *s);

/**
 * config_value_mask() - what a message may show of the value @value of the
 * setting or option @key (@key may be NULL for a word of unknown role):
 * CONFIG_SECRET_MASK when @key names a secret (contains "key", "secret" or
 * "psk", in any case) or when @value holds anything shaped like one
 * ("DHHC-1:" or "NVMeTLSkey-1:", anywhere, in any case); @value otherwise.
 * Every message that echoes a configured or imported value passes it
 * through here.
 */
const char *config_value_mask(const char *key, const char *value);
