/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stas-trigger - what stas's udev rule runs for an event: one RestartUnit
 * (or StartUnit) call to systemd, and nothing else. See stas-trigger(8).
 *
 * It replaces "systemctl --no-block restart UNIT" in the rule because the
 * rule's program sits on every event's path: systemctl loads systemd's
 * whole shared library to send one message, stas-trigger only libc and
 * libsystemd, and as root it talks to systemd on its private socket, as
 * systemctl does, without the bus broker in between. Like systemctl
 * --no-block it returns once the job is queued.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "unit-name.h"
#include "unit-start.h"

static void help(void)
{
	printf("Usage: stas-trigger [OPTIONS] restart|start UNIT\n\n"
	       "Queue a restart (or start) job for UNIT with systemd and return, as\n"
	       "\"systemctl --no-block restart UNIT\" does (see stas-trigger(8)).\n\n"
	       "  -h --help     this help\n"
	       "     --version  the version\n");
}

int main(int argc, char **argv)
{
	enum { OPT_VERSION = 0x100 };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{},
	};
	_cleanup_unit_starter_ struct unit_starter *u = NULL;
	enum unit_start_mode mode;
	const char *verb, *unit;
	int c, r;

	log_set_ident("stas-trigger");
	log_set_target_auto();
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case OPT_VERSION:
			printf("stas-trigger (stas) %s\n", STAS_VERSION);
			return 0;
		default:
			return 2;
		}
	}
	if (argc - optind != 2) {
		log_error("Expected a verb (restart or start) and one unit name; see --help.");
		return 2;
	}
	verb = argv[optind];
	unit = argv[optind + 1];
	if (streq(verb, "restart"))
		mode = UNIT_RESTART;
	else if (streq(verb, "start"))
		mode = UNIT_START;
	else {
		log_error("Unknown verb \"%s\": expected restart or start.", verb);
		return 2;
	}
	if (!unit_name_is_valid_service(unit)) {
		log_error("\"%s\" is not a service unit name.", unit);
		return 2;
	}
	r = unit_starter_new(&u);
	if (r < 0)
		return log_oom(), 1;
	r = unit_starter_start(u, unit, mode);
	if (r == -ENOMEDIUM) {
		log_error(
			"Cannot %s %s: systemd is not reachable (no private socket, no system bus).",
			verb, unit);
		return 1;
	}
	if (r < 0) {
		if (unit_starter_error(u))
			log_error("Cannot %s %s: %s", verb, unit, unit_starter_error(u));
		else
			log_error_errno(r, "Cannot %s %s: %m", verb, unit);
		return 1;
	}
	return 0;
}
