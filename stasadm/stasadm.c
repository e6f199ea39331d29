/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm - inspect and administer stas: host identity, configuration,
 * the shared cache.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "stasadm.h"

bool arg_json;
const char *arg_cache_dir;
const char *arg_config;

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct verb verbs[] = {
	{ "status", verb_status, "One view of host identity, config, cache, DCs and subsystems" },
	{ "hostnqn", verb_hostnqn, "Show, check or generate the host NQN (/etc/nvme/hostnqn)" },
	{ "hostid", verb_hostid, "Show, check or generate the host ID (/etc/nvme/hostid)" },
	{ "config", verb_config, "check [FILE] | show | import FILES...: configuration" },
	{ "ls", verb_cache_ls, "List discovery controllers in the cache" },
	{ "show", verb_cache_show, "Show one discovery controller and its log page entries" },
	{ "adlp", verb_cache_adlp, "Every discovery controller's log page (stafctl adlp)" },
	{ "paths", verb_cache_paths, "List I/O controller paths [for one subsystem NQN]" },
	{ "stats", verb_cache_stats, "Cache statistics" },
	{ "verify", verb_cache_verify, "Check the cache's structure, indexes and schema" },
	{ "purge", verb_cache_purge, "Remove a discovery controller (or --all) from the cache" },
	{ "export", verb_cache_export, "Write a checksummed dump of the cache [-o FILE]" },
	{ "import", verb_cache_import, "Replace the cache with an export file [--dry-run]" },
	{ "registry", verb_registry, "list | remove DEV SEQNUM: nvme-cli's ownership registry" },
};

static void help(void)
{
	printf("Usage: stasadm [OPTIONS] VERB [ARGS...]\n\n"
	       "Administer stas, the NVMe over Fabrics storage appliance services.\n\n"
	       "Verbs:\n");
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		printf("  %-9s %s\n", verbs[i].name, verbs[i].help);
	printf("\nOptions:\n"
	       "  -h --help            Show this help\n"
	       "     --version         Show the version\n"
	       "     --json            Machine-readable output where a verb lists things\n"
	       "     --cache-dir=DIR   The cache (default: $CACHE_DIRECTORY or " CACHEDIR ")\n"
	       "     --config=FILE     The configuration (default: " SYSCONFDIR "/stas/stas.conf)\n"
	       "     --tron            Trace: debug messages\n"
	       "\nSee stasadm(8).\n");
}

bool common_option(int opt, const char *value)
{
	switch (opt) {
	case OPT_JSON:
		arg_json = true;
		return true;
	case OPT_CACHE_DIR:
		arg_cache_dir = value;
		return true;
	case OPT_CONFIG:
		arg_config = value;
		return true;
	default:
		return false;
	}
}

int main(int argc, char **argv)
{
	enum { OPT_VERSION = _OPT_COMMON_MAX, OPT_TRON };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "tron", no_argument, NULL, OPT_TRON },
		COMMON_LONG_OPTIONS,
		{},
	};
	int c;

	log_set_ident("stasadm");
	log_set_target_auto();

	/* '+': stop at the verb; the verb parses the rest. */
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case OPT_VERSION:
			printf("stasadm (stas) %s\n", STAS_VERSION);
			return 0;
		case OPT_TRON:
			log_set_max_level(LOG_DEBUG);
			break;
		default: /* '?' too: common_option() refuses it */
			if (!common_option(c, optarg))
				return EXIT_USAGE;
		}
	}

	if (optind >= argc) {
		help();
		return EXIT_USAGE;
	}

	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (streq(argv[optind], verbs[i].name)) {
			char **vargv = argv + optind;
			int vargc = argc - optind;
			optind = 0;
			return verbs[i].run(vargc, vargv);
		}

	log_error("Unknown verb '%s'; see 'stasadm --help'.", argv[optind]);
	return EXIT_USAGE;
}
