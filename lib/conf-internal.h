/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf-internal.h - what the parts of the configuration code share, not a
 * contract for anyone else: the schema table (conf-load.c, also walked by
 * conf-dump.c), the loader state and its error list, and the helpers each
 * part provides to the others. conf.h is the public interface.
 */
#pragma once

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "macro.h"

#define FILE_VALUE_MAX (64 * 1024)
/* A configuration file larger than this is refused unread (1 MiB is generous). */
#define CONFIG_FILE_MAX ((size_t)1024 * 1024)
#define SYMNAME_MAX 256
#define DEFAULT_HOSTNQN_SPEC "file:///etc/nvme/hostnqn"
#define DEFAULT_HOSTID_SPEC "file:///etc/nvme/hostid"
#define DEFAULT_HOSTKEY_SPEC "file:///etc/nvme/hostkey"
#define DEFAULT_ZEROCONF_PERSISTENCE (72 * 3600)
#define DEFAULT_AUDIT_INTERVAL (15 * 60)
#define DEFAULT_REFERRAL_GIVE_UP 3600
/* T_DURATION's .field: which setting */
enum { DUR_ZEROCONF_PERSISTENCE, DUR_AUDIT_INTERVAL, DUR_REFERRAL_GIVE_UP };
#define DEFAULT_DC_KATO 30

/* Where a key may appear. */
enum {
	W_HOST = 1 << 0,
	W_GLOBAL = 1 << 1,
	W_DISC = 1 << 2,
	W_IO = 1 << 3,
	W_DCTRL = 1 << 4, /* discovery.controllers entry */
	W_ICTRL = 1 << 5, /* io.controllers entry */
	W_EXCL = 1 << 6, /* discovery.exclude / io.exclude entry */
	W_ROOT = 1 << 7,
	W_IODEF = 1 << 8, /* a discovery controller entry's io-defaults group */
};
#define W_SECTIONS (W_GLOBAL | W_DISC | W_IO)
#define W_CTRL (W_DCTRL | W_ICTRL)

enum opt_type {
	T_SECTION, /* a top-level group */
	T_BOOL,
	T_INT, /* conn option, range min..max */
	T_CONN_BOOL, /* conn option, boolean */
	T_IP_FAMILY, /* conn option, enum string */
	T_TRON,
	T_SWITCH, /* true/false or "enabled"/"disabled" */
	T_DURATION,
	T_SCOPE,
	T_TRTYPES,
	T_NCC,
	T_HOST, /* host.nqn/id/key/symname: string, maybe file:// */
	T_TID, /* a transport ID field */
	T_HOST_ID, /* controller host-id */
	T_SECRET, /* controller dhchap-secret / dhchap-ctrl-secret / tls-key */
	T_TLS_DERIVATION, /* global tls-key-derivation */
	T_CONTROLLERS,
	T_EXCLUDE,
	T_IO_DEFAULTS, /* a DC entry's options for the I/O controllers in its log page */
	T_LIMIT, /* an unsigned count outside the connection options, min..max; off: index */
};

struct opt {
	const char *name;
	enum opt_type type;
	unsigned where;
	int64_t min, max;
	size_t off; /* T_INT, T_CONN_BOOL, T_IP_FAMILY: in config_conn_opts; T_SWITCH: index */
	int field; /* T_TID: enum tid_field; T_HOST: index; T_SECRET: SECRET_*;
		    * T_DURATION: DUR_* */
};

#define CONN(f) offsetof(struct config_conn_opts, f)

enum { SW_ZEROCONF, SW_PERSISTENT, SW_PLEO };
enum { LIM_REFERRALS_PER_PAGE, LIM_REFERRAL_DCS };
enum { H_NQN, H_ID, H_KEY, H_SYMNAME, H_TLS_KEY, _H_MAX };
/* T_SECRET's .field */
enum { SECRET_DHCHAP, SECRET_DHCHAP_CTRL, SECRET_TLS_KEY };

/* conf-load.c: every key, its type, range and where it may appear. */
extern const struct opt config_schema[];
extern const size_t config_schema_n;

/* Loader state across all files of one load. */
struct loader {
	struct stas_config *cfg;
	char **errors; /* strv */
	bool oom;
	const char *name; /* file name for string input */
	/* host settings: where each was set (NULL: default) */
	char *host_src[_H_MAX];
	/* the file being read holds a secret inline (not file://) */
	bool inline_secret;
	unsigned flags; /* CONFIG_LOAD_* */
};

/* conf.c */
void conf_opts_unset(struct config_conn_opts *o);
/* The built-in defaults of the options every role shares (booleans false, ip-family both). */
void conf_opts_set_defaults(struct config_conn_opts *o);
/* Wipe and free *@p; set it NULL. */
void conf_secret_free(char **p);
/* A configuration with every default and no host identity read; NULL: out of memory. */
struct stas_config *conf_alloc(void);

/* conf-load.c: add "SRC: message" to @l's problems. */
_printf_(3, 4) void conf_error_src(struct loader *l, const char *src, const char *fmt, ...);

/*
 * conf-load.c: warn (once per load) when @path, holding a secret (@what:
 * "holds inline secrets" or "is a secret file"), can be read by others or
 * by a group other than root.
 */
void conf_check_secret_mode(struct loader *l, const char *path, const char *what);

/* conf-names.c: whether @s is a host name (RFC 1123 labels, not all digits and dots). */
bool conf_hostname_is_valid(const char *s);

/* conf-resolve.c */
/*
 * The value of setting @name given as @spec: @spec itself, or the contents
 * of the file a "file://PATH" @spec names (@first_word: its first word
 * only). NULL on error, reported at @src unless @quiet_missing; @secret:
 * never echo @spec.
 */
char *conf_resolve_value(struct loader *l, const char *src, const char *name, const char *spec,
			 bool first_word, bool secret, bool quiet_missing);
/* Read the host identity (host.nqn/id/key/symname) from what was configured. */
void conf_resolve_host(struct loader *l);
