/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cached-notify.c - see cached-notify.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "cached-notify.h"
#include "log.h"
#include "macro.h"

static int append_strv(sd_bus_message *m, char *const *l)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "s");
	for (char *const *s = l; r >= 0 && s && *s; s++)
		r = sd_bus_message_append_basic(m, 's', *s);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

int cached_notify_changed(char *const *dc_keys, char *const *nqns)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	if ((!dc_keys || !*dc_keys) && (!nqns || !*nqns))
		return 0;

	r = sd_bus_open_system(&bus);
	if (r < 0) {
		log_debug_errno(r, "No system bus, not notifying stas-cached: %m");
		return 0;
	}
	r = sd_bus_message_new_method_call(bus, &m, CACHED_BUS_NAME, CACHED_OBJECT_PATH,
					   CACHED_INTERFACE, "Notify");
	if (r >= 0)
		r = append_strv(m, dc_keys);
	if (r >= 0)
		r = append_strv(m, nqns);
	/* Wait for the reply, briefly: the service checks that the caller is
	 * root by asking the bus for our credentials, which needs us still
	 * connected; activation of a small C program takes well under this. */
	if (r >= 0)
		r = sd_bus_call(bus, m, CACHED_NOTIFY_TIMEOUT_USEC, &error, NULL);
	if (r < 0) {
		log_debug_errno(r, "Failed to notify stas-cached, ignoring: %s",
				error.message ?: strerror(-r));
		return 0;
	}
	log_debug("Notified stas-cached.");
	return 1;
}
