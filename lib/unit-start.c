/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>

#include <systemd/sd-bus.h>

#include "log.h"
#include "macro.h"
#include "unit-start.h"

static sd_bus *bus;
static int bus_error;

static int bus_get(sd_bus **ret)
{
	int r;

	if (bus) {
		*ret = bus;
		return 0;
	}
	if (bus_error)
		return bus_error;
	if (getenv("STAS_NO_SYSTEMD")) {
		bus_error = -ENOMEDIUM;
		return bus_error;
	}
	r = sd_bus_open_system(&bus);
	if (r < 0) {
		log_debug_errno(r, "No system bus: %m");
		bus_error = -ENOMEDIUM;
		return bus_error;
	}
	*ret = bus;
	return 0;
}

bool unit_start_available(void)
{
	sd_bus *b = NULL;
	int r;

	if (bus_get(&b) < 0)
		return false;
	r = sd_bus_get_name_creds(b, "org.freedesktop.systemd1", 0, NULL);
	return r >= 0;
}

int unit_start(const char *unit, enum unit_start_mode mode)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *method;
	sd_bus *b = NULL;
	int r;

	switch (mode) {
	case UNIT_START:
		method = "StartUnit";
		break;
	case UNIT_RESTART:
		method = "RestartUnit";
		break;
	case _UNIT_START_MODE_MAX:
	default:
		return -EINVAL;
	}

	r = bus_get(&b);
	if (r < 0)
		return r;
	r = sd_bus_call_method(b, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			       "org.freedesktop.systemd1.Manager", method, &error, &reply, "ss",
			       unit, "replace");
	if (r < 0) {
		if (sd_bus_error_has_name(&error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
		    sd_bus_error_has_name(&error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
			r = -ENOMEDIUM;
		log_debug_errno(r, "%s(%s) failed: %s", method, unit,
				error.message ? error.message : "");
	}
	sd_bus_error_free(&error);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

void unit_start_close(void)
{
	bus = sd_bus_flush_close_unref(bus);
	bus_error = 0;
}
