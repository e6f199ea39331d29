/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm-host.c - "stasadm hostnqn" and "stasadm hostid": show, check or
 * generate the host identity files nvme-cli, libnvme and stas share.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostid.h"
#include "log.h"
#include "macro.h"
#include "nbft.h"
#include "stasadm.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put)

/* What differs between the two verbs. */
struct host_kind {
	const char *verb; /* also the JSON key */
	const char *what;
	const char *default_path;
	bool (*is_valid)(const char *s);
	bool derives; /* hostid: generated from the host NQN */
};

static const struct host_kind kind_hostnqn = {
	.verb = "hostnqn",
	.what = "host NQN",
	.default_path = HOSTNQN_PATH,
	.is_valid = hostnqn_is_valid,
};

static const struct host_kind kind_hostid = {
	.verb = "hostid",
	.what = "host ID",
	.default_path = HOSTID_PATH,
	.is_valid = uuid_is_valid,
	.derives = true,
};

static void help(const struct host_kind *k)
{
	printf("Usage: stasadm %1$s [show|check|generate] [OPTIONS]\n\n"
	       "Show, check or generate the %2$s (default file: %3$s).\n\n"
	       "  show                 Print the %2$s (the default)\n"
	       "  check                Check that the file holds a valid %2$s\n"
	       "  generate             Write a new %2$s to the file\n\n"
	       "Options:\n"
	       "  -h --help            Show this help\n"
	       "  -f --file=FILE       Use FILE instead of %3$s\n"
	       "     --force           generate: replace a non-empty file\n"
	       "     --json            Print JSON: {\"%1$s\": \"...\"}\n",
	       k->verb, k->what, k->default_path);
	if (k->derives)
		printf("     --hostnqn-file=FILE  generate: take the UUID of the host NQN in FILE\n"
		       "                       (default: %s); a random one when it has none\n",
		       HOSTNQN_PATH);
	printf("\nSee stasadm(8).\n");
}

static void print_value(const struct host_kind *k, const char *path, const char *value,
			const char *error)
{
	_cleanup_(json_object_putp) struct json_object *o = NULL;

	if (!arg_json) {
		if (value)
			printf("%s\n", value);
		return;
	}

	o = json_object_new_object();
	if (!o) {
		log_oom();
		return;
	}
	json_object_object_add(o, k->verb, value ? json_object_new_string(value) : NULL);
	if (path)
		json_object_object_add(o, "file", json_object_new_string(path));
	if (error) {
		json_object_object_add(o, "valid", json_object_new_boolean(false));
		json_object_object_add(o, "error", json_object_new_string(error));
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Read and validate; on failure log the reason and, for check, report it. */
static int read_valid(const struct host_kind *k, const char *path, bool report, char **ret)
{
	_cleanup_free_ char *v = NULL, *msg = NULL;
	int r;

	r = hostid_read_file(path, &v);
	if (r < 0) {
		if (r == -ENODATA)
			log_error("%s is empty: no %s configured.", path, k->what);
		else
			log_error_errno(r, "Failed to read the %s from %s: %m", k->what, path);
		if (report && asprintf(&msg, "%s", strerror(-r)) >= 0)
			print_value(k, path, NULL, msg);
		return r;
	}
	if (!k->is_valid(v)) {
		log_error("%s: '%s' is not a valid %s.", path, v, k->what);
		if (report)
			print_value(k, path, v, "invalid");
		return -EINVAL;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

static int do_show(const struct host_kind *k, const char *path)
{
	_cleanup_free_ char *v = NULL;

	if (read_valid(k, path, false, &v) < 0)
		return EXIT_FAILURE;
	print_value(k, NULL, v, NULL);
	return 0;
}

static int do_check(const struct host_kind *k, const char *path, const char *hostnqn_path)
{
	_cleanup_free_ char *v = NULL, *nqn = NULL, *derived = NULL;

	if (read_valid(k, path, true, &v) < 0)
		return EXIT_FAILURE;

	/* nvme-cli warns when the two disagree; so do we, without failing. */
	if (k->derives && hostid_read_file(hostnqn_path, &nqn) >= 0 && strstr(nqn, ":uuid:") &&
	    hostid_generate(nqn, &derived) >= 0 && strcasecmp(derived, v) != 0)
		log_warning("%s: host ID %s differs from the UUID in the host NQN %s.", path, v,
			    nqn);

	if (arg_json) {
		_cleanup_(json_object_putp) struct json_object *o = json_object_new_object();

		if (!o) {
			log_oom();
			return EXIT_FAILURE;
		}
		json_object_object_add(o, k->verb, json_object_new_string(v));
		json_object_object_add(o, "file", json_object_new_string(path));
		json_object_object_add(o, "valid", json_object_new_boolean(true));
		printf("%s\n",
		       json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	} else
		printf("%s: valid %s %s\n", path, k->what, v);
	return 0;
}

/*
 * The boot firmware's identity (NBFT, as dracut's nvmf module uses it): the
 * host NQN of the first table (in name order) that has a valid one, or, for
 * the host ID, the host ID of the first table whose host NQN is @nqn (any
 * table when @nqn is NULL). Return: 1 and *ret, 0 none, -ENOMEM.
 */
static int nbft_identity(const struct host_kind *k, const char *nqn, char **ret)
{
	_cleanup_nbft_list_ struct nbft **v = NULL;
	int r;

	r = nbft_load_all(&v, NULL);
	if (r <= 0)
		return r;
	for (struct nbft **t = v; *t; t++) {
		const char *x = k->derives ? (*t)->host_id : (*t)->host_nqn;

		if (k->derives && nqn && !streq(nqn, (*t)->host_nqn))
			continue;
		if (isempty(x) || !k->is_valid(x))
			continue;
		*ret = strdup(x);
		if (!*ret)
			return -ENOMEM;
		log_info("Taking the %s from the boot firmware's table %s.", k->what, (*t)->path);
		return 1;
	}
	return 0;
}

static int do_generate(const struct host_kind *k, const char *path, const char *hostnqn_path,
		       bool force)
{
	_cleanup_free_ char *v = NULL, *nqn = NULL;
	int r;

	if (k->derives) {
		_cleanup_free_ char *cur = NULL;

		/* the host ID of the firmware's table for this host NQN */
		if (hostid_read_file(hostnqn_path, &cur) >= 0 && hostnqn_is_valid(cur))
			r = nbft_identity(k, cur, &v);
		else
			r = nbft_identity(k, NULL, &v);
	} else
		r = nbft_identity(k, NULL, &v);
	if (r < 0)
		return log_oom(), EXIT_FAILURE;

	if (r > 0)
		r = 0; /* from the NBFT */
	else if (k->derives) {
		r = hostid_read_file(hostnqn_path, &nqn);
		if (r < 0)
			log_debug_errno(r, "No host NQN in %s (%m), the host ID will be random.",
					hostnqn_path);
		else if (!hostnqn_is_valid(nqn)) {
			log_warning("%s: '%s' is not a valid host NQN, ignoring.", hostnqn_path,
				    nqn);
			free(nqn);
			nqn = NULL;
		}
		r = hostid_generate(nqn, &v);
	} else
		r = hostnqn_generate(&v);
	if (r < 0) {
		log_error_errno(r, "Failed to generate a %s: %m", k->what);
		return EXIT_FAILURE;
	}

	r = hostid_write_file(path, v, force);
	if (r == -EEXIST) {
		log_error("%s already holds a %s; use --force to replace it.", path, k->what);
		return EXIT_FAILURE;
	}
	if (r < 0) {
		log_error_errno(r, "Failed to write %s: %m", path);
		return EXIT_FAILURE;
	}
	print_value(k, NULL, v, NULL);
	return 0;
}

static int host_verb(const struct host_kind *k, int argc, char **argv)
{
	enum { OPT_FORCE = _OPT_COMMON_MAX, OPT_HOSTNQN_FILE };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "file", required_argument, NULL, 'f' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "hostnqn-file", required_argument, NULL, OPT_HOSTNQN_FILE },
		COMMON_LONG_OPTIONS,
		{},
	};
	const char *path = k->default_path, *hostnqn_path = HOSTNQN_PATH, *sub = "show";
	bool force = false;
	int c;

	while ((c = getopt_long(argc, argv, "hf:", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help(k);
			return 0;
		case 'f':
			path = optarg;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_HOSTNQN_FILE:
			if (!k->derives) {
				log_error("--hostnqn-file is an option of 'stasadm hostid' only.");
				return EXIT_USAGE;
			}
			hostnqn_path = optarg;
			break;
		default: /* '?' too: common_option() refuses it */
			if (!common_option(c, optarg))
				return EXIT_USAGE;
		}
	}

	if (optind < argc)
		sub = argv[optind++];
	if (optind < argc) {
		log_error("Unexpected argument '%s'; see 'stasadm %s --help'.", argv[optind],
			  k->verb);
		return EXIT_USAGE;
	}
	if (isempty(path)) {
		log_error("--file needs a file name.");
		return EXIT_USAGE;
	}
	if (force && !streq(sub, "generate")) {
		log_error("--force only applies to 'stasadm %s generate'.", k->verb);
		return EXIT_USAGE;
	}

	if (streq(sub, "show"))
		return do_show(k, path);
	if (streq(sub, "check"))
		return do_check(k, path, hostnqn_path);
	if (streq(sub, "generate"))
		return do_generate(k, path, hostnqn_path, force);

	log_error("Unknown command '%s'; see 'stasadm %s --help'.", sub, k->verb);
	return EXIT_USAGE;
}

int verb_hostnqn(int argc, char **argv)
{
	return host_verb(&kind_hostnqn, argc, argv);
}

int verb_hostid(int argc, char **argv)
{
	return host_verb(&kind_hostid, argc, argv);
}
