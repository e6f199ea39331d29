/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm-config - "stasadm config check|show|import": validate the
 * configuration, show the effective one (text or JSON), and translate
 * nvme-stas's and nvme-cli's files (stasadm-import.c).
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

#include "stasadm.h"

static void help(void)
{
	printf("Usage: stasadm config check [FILE]\n"
	       "       stasadm config show [--json]\n"
	       "       stasadm config import [-o OUT] [--force] [--as=KIND] FILES...\n\n"
	       "check   Validate FILE (default: the configuration) and its FILE.d/ drop-ins;\n"
	       "        print every problem as FILE:LINE: message.\n"
	       "show    The effective configuration after defaults; secrets are masked.\n"
	       "        Host names given as traddr are resolved (name, address or error).\n"
	       "import  Translate nvme-stas stafd.conf, stacd.conf, sys.conf and nvme-cli\n"
	       "        discovery.conf, config.json and nvme-fabrics.conf (+ .conf.d/) into\n"
	       "        stas.conf syntax (stdout, or -o OUT).\n\n"
	       "Options:\n"
	       "  -h --help          Show this help\n"
	       "  -o --output=OUT    import: write OUT (mode 0600) instead of stdout\n"
	       "     --force         import: replace an existing OUT\n"
	       "     --as=KIND       import: treat every FILE as stafd, stacd, sys, discovery,\n"
	       "                     json (config.json) or fabrics (nvme-fabrics.conf)\n"
	       "     --json          show: JSON\n"
	       "     --config=FILE   The configuration (default: " CONFIG_FILE_DEFAULT ")\n"
	       "\nExit status: 0 ok; 1 problems found (import: some settings not translated);\n"
	       "2 usage error. See stasadm(8), stas.conf(5).\n");
}

void print_config_errors(char **errors)
{
	STRV_FOREACH(e, errors)
		fprintf(stderr, "%s\n", *e);
}

/* config_load() with every problem printed (@count: and how many); 0, or 1 on failure. */
static int load(const char *path, bool count, struct stas_config **ret)
{
	_cleanup_strv_free_ char **errors = NULL;
	int r;

	r = config_load(path, ret, &errors);
	if (r == -ENOMEM)
		return log_error_errno(r, "Failed to load the configuration: %m"), 1;
	if (r < 0) {
		size_t n = strv_length(errors);

		print_config_errors(errors);
		if (count)
			fprintf(stderr, "%zu error%s.\n", n, n == 1 ? "" : "s");
		return 1;
	}
	STRV_FOREACH(w, (*ret)->warnings)
		fprintf(stderr, "warning: %s\n", *w);
	return 0;
}

static int do_check(const char *path)
{
	_cleanup_config_free_ struct stas_config *cfg = NULL;

	if (load(path, true, &cfg))
		return 1;
	if (!cfg->files || !cfg->files[0])
		printf("%s: not present, defaults in effect: OK\n", path ?: CONFIG_FILE_DEFAULT);
	STRV_FOREACH(f, cfg->files)
		printf("%s: OK\n", *f);
	return 0;
}

static int do_show(const char *path)
{
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	int r;

	if (load(path, false, &cfg))
		return 1;
	/* host names as traddr: show the address each has now, or why none */
	if (config_names_resolve(cfg, 0, NULL) < 0)
		return log_oom(), 1;
	if (arg_json) {
		json_object *j;

		r = config_to_json(cfg, &j);
		if (r < 0)
			return log_error_errno(r, "Failed to format the configuration: %m"), 1;
		printf("%s\n",
		       json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
		return 0;
	}
	printf("# Effective configuration from:");
	if (!cfg->files || !cfg->files[0])
		printf(" (defaults only)");
	STRV_FOREACH(f, cfg->files)
		printf(" %s", *f);
	printf("\n# Options left out are the kernel's defaults. Secrets are masked.\n");
	r = config_dump(cfg, stdout);
	if (r < 0)
		return log_error_errno(r, "Failed to write the configuration: %m"), 1;
	return 0;
}

/* ------------------------------------------------------------------ verb */

int verb_config(int argc, char **argv)
{
	enum { OPT_FORCE = _OPT_COMMON_MAX, OPT_AS };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "as", required_argument, NULL, OPT_AS },
		COMMON_LONG_OPTIONS,
		{},
	};
	const char *output = NULL, *sub;
	int forced = -1;
	bool force = false;
	int c;

	while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case 'o':
			output = optarg;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_AS:
			forced = import_kind_from_string(optarg);
			if (forced < 0) {
				log_error(
					"--as takes stafd, stacd, sys, discovery, json or fabrics, not '%s'.",
					optarg);
				return EXIT_USAGE;
			}
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
	sub = argv[optind++];

	if ((output || force || forced >= 0) && !streq(sub, "import")) {
		log_error("-o, --force and --as only apply to 'stasadm config import'.");
		return EXIT_USAGE;
	}

	if (streq(sub, "check")) {
		const char *path = arg_config;
		if (optind < argc)
			path = argv[optind++];
		if (optind < argc) {
			log_error("Unexpected argument '%s'.", argv[optind]);
			return EXIT_USAGE;
		}
		return do_check(path);
	}
	if (streq(sub, "show")) {
		if (optind < argc) {
			log_error("Unexpected argument '%s'.", argv[optind]);
			return EXIT_USAGE;
		}
		return do_show(arg_config);
	}
	if (streq(sub, "import"))
		return config_import(argv + optind, output, force, forced);

	log_error("Unknown config command '%s'; see 'stasadm config --help'.", sub);
	return EXIT_USAGE;
}
