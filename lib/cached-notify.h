/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cached-notify.h - tell stas-cached that the cache changed, so that it
 * re-reads and signals (LogPagesChanged/DCRemoved/PathsChanged on its own
 * interface, log_pages_changed/dc_removed as org.nvmexpress.staf).
 *
 * The writers (stas-discover, stas-connect) call this after a commit that
 * changed something. It makes one root-only Notify() call to
 * org.nvmexpress.stas on the system bus, waiting at most
 * CACHED_NOTIFY_TIMEOUT_USEC for the reply (the service must be able to ask
 * the bus who called); the bus activates stas-cached when it is not
 * running. Best effort: the cache
 * is the truth, a lost notification only delays a listener, so every
 * failure (no bus, no service installed, access denied) is logged at debug
 * level and ignored.
 */
#pragma once

/* The names stas-cached owns (see stas-dbus(7)). */
#define CACHED_BUS_NAME "org.nvmexpress.stas"
#define CACHED_OBJECT_PATH "/org/nvmexpress/stas"
#define CACHED_INTERFACE "org.nvmexpress.stas"

#define CACHED_NOTIFY_TIMEOUT_USEC (3 * 1000000ULL)

/**
 * cached_notify_changed() - notify stas-cached: @dc_keys are the tid_key()s
 * of the DCs whose log pages changed or that were removed, @nqns the
 * subsystem NQNs whose path records changed. Either list may be NULL
 * (empty); when both are empty nothing is sent.
 *
 * Return: 1 when the service acknowledged it, 0 when there was nothing to
 * send or it failed (the reason is logged at debug level).
 */
int cached_notify_changed(char *const *dc_keys, char *const *nqns);
