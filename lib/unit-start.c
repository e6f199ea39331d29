/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "log.h"
#include "macro.h"
#include "unit-start.h"

struct unit_starter {
	sd_bus *bus;
	char error[256]; /* the last failed call's bus error, for the caller's message */
};

int unit_starter_new(struct unit_starter **ret_u)
{
	struct unit_starter *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	*ret_u = u;
	return 0;
}

struct unit_starter *unit_starter_free(struct unit_starter *u)
{
	if (u) {
		sd_bus_flush_close_unref(u->bus);
		free(u);
	}
	return NULL;
}

/*
 * systemd's own socket, as systemctl uses it as root: a direct connection
 * to the manager, without the bus broker's hop (and without waiting for a
 * broker that is not up yet early at boot). Only root may use it.
 */
static int bus_open_private(sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	if (geteuid() != 0 || access(SYSTEMD_PRIVATE_SOCKET, F_OK) < 0)
		return -ENOENT;
	r = sd_bus_new(&bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(bus, "unix:path=" SYSTEMD_PRIVATE_SOCKET);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

static int bus_get(struct unit_starter *u, sd_bus **ret)
{
	int r;

	if (!u->bus) {
		if (getenv("STAS_NO_SYSTEMD"))
			return -ENOMEDIUM;
		r = bus_open_private(&u->bus);
		if (r < 0) {
			if (r != -ENOENT)
				log_debug_errno(
					r, "systemd's private socket: %m; trying the system bus");
			r = sd_bus_open_system(&u->bus);
			if (r < 0) {
				log_debug_errno(r, "No system bus: %m");
				return -ENOMEDIUM;
			}
		}
	}
	*ret = u->bus;
	return 0;
}

int unit_starter_start(struct unit_starter *u, const char *unit, enum unit_start_mode mode)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *method = NULL;
	sd_bus *bus;
	int r;

	switch (mode) {
	case UNIT_START:
		method = "StartUnit";
		break;
	case UNIT_RESTART:
		method = "RestartUnit";
		break;
	case UNIT_STOP:
		method = "StopUnit";
		break;
	case _UNIT_START_MODE_MAX:
		break;
	}
	if (!method)
		return -EINVAL;

	u->error[0] = '\0';
	r = bus_get(u, &bus);
	if (r < 0)
		return r;
	r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			       "org.freedesktop.systemd1.Manager", method, &error, &reply, "ss",
			       unit, "replace");
	if (r < 0 && mode == UNIT_STOP &&
	    sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit"))
		return 0;
	if (r < 0) {
		if (sd_bus_error_has_name(&error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
		    sd_bus_error_has_name(&error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
			r = -ENOMEDIUM;
		(void)snprintf(u->error, sizeof(u->error), "%s",
			       error.message ? error.message : "");
		return log_debug_errno(r, "%s(%s) failed: %s", method, unit,
				       error.message ? error.message : "");
	}
	return 0;
}

const char *unit_starter_error(const struct unit_starter *u)
{
	return u && u->error[0] ? u->error : NULL;
}
