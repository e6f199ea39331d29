/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm.h - the verbs of stasadm and the options they share.
 *
 * main() (stasadm.c) parses the global options that may come before the
 * verb, then calls the verb with argv starting at the verb's name. Each verb
 * parses its own options with getopt_long() (optind is reset to 0 first),
 * honours the global arg_* below, and returns an exit status (0 ok, 1 the
 * check found problems or the operation failed, 2 usage error).
 */
#pragma once

#include <stdbool.h>

extern bool arg_json;
extern const char *arg_cache_dir; /* NULL: $CACHE_DIRECTORY or the compiled-in default */
extern const char *arg_config; /* NULL: the default /etc/stas/stas.conf */

#define EXIT_USAGE 2

/* stasadm-host.c */
int verb_hostnqn(int argc, char **argv);
int verb_hostid(int argc, char **argv);

/* stasadm-config.c: "config check|show|import" */
int verb_config(int argc, char **argv);
/* Print config_load()'s "FILE:LINE: message" list on stderr. */
void print_config_errors(char **errors);

/* stasadm-import.c: "config import" */
/*
 * "stafd", "stacd", "sys", "discovery", "json" (config.json) or "fabrics"
 * (nvme-fabrics.conf) (--as=KIND): the kind, or -EINVAL.
 */
int import_kind_from_string(const char *s);
/*
 * Translate @files (every one as @kind, or each detected when @kind < 0)
 * into stas.conf on stdout or in @output (replaced only with @force).
 * Return: the exit status.
 */
int config_import(char **files, const char *output, bool force, int kind);

/* stasadm-cache.c: "ls", "show", "paths", "stats", "verify", "purge",
 * "export", "import" */
int verb_cache_ls(int argc, char **argv);
int verb_cache_show(int argc, char **argv);
int verb_cache_adlp(int argc, char **argv);
int verb_cache_paths(int argc, char **argv);
int verb_cache_stats(int argc, char **argv);
int verb_cache_verify(int argc, char **argv);
int verb_cache_purge(int argc, char **argv);
int verb_cache_export(int argc, char **argv);
int verb_cache_import(int argc, char **argv);

/* stasadm-registry.c: "registry [list] | remove DEVICE SEQNUM" */
int verb_registry(int argc, char **argv);

/* stasadm-status.c */
int verb_status(int argc, char **argv);

/*
 * A verb option may be given with the global ones, after the verb, so every
 * verb accepts these too: --json, --cache-dir=DIR, --config=FILE. Returns
 * true when @opt (a getopt_long return value) was one of them, false for
 * anything else - getopt's '?' included - which is the caller's usage error.
 */
enum {
	OPT_JSON = 0x100,
	OPT_CACHE_DIR,
	OPT_CONFIG,
	_OPT_COMMON_MAX,
};
#define COMMON_LONG_OPTIONS                                              \
	{ "json", no_argument, NULL, OPT_JSON },                         \
		{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR }, \
	{                                                                \
		"config", required_argument, NULL, OPT_CONFIG            \
	}
bool common_option(int opt, const char *optarg_value);
