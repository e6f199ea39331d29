/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stas-cached - the read-only D-Bus service over the stas cache.
 *
 * Started by D-Bus activation (stas-cached.service, Type=dbus), it owns
 * org.nvmexpress.stas and, unless --no-compat, nvme-stas's names
 * org.nvmexpress.staf and org.nvmexpress.stac, answers from the cache, and
 * exits after --idle-timeout without a call. Exiting follows systemd's
 * hostnamed: first release the names (so the bus queues new callers and
 * activates us again), keep answering what was already sent to us, and
 * leave once the bus confirmed every release.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "cache.h"
#include "cached-notify.h"
#include "hostid.h"
#include "log.h"
#include "macro.h"
#include "stas-cached.h"

#define IDLE_USEC_DEFAULT (30 * 1000000ULL)

static const char *arg_cache_dir;
static const char *arg_config;
static uint64_t arg_idle_usec = IDLE_USEC_DEFAULT;
static bool arg_compat = true;

int cached_error_cache(sd_bus_error *error, int r)
{
	return sd_bus_error_set_errnof(error, r, "Cannot read the stas cache: %s",
				       r == -EACCES  ? "permission denied" :
				       r == -EBADMSG ? "the cache is corrupt" :
				       r == -EPROTO  ? "written by a newer stas" :
						       strerror(-r));
}

int cached_check_args(sd_bus_error *error, const char *const *args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strnlen(args[i], CACHED_ARG_MAX + 1) > CACHED_ARG_MAX)
			return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
						 "Argument %zu is longer than %d bytes.", i + 1,
						 CACHED_ARG_MAX);
	return 0;
}

int context_cache(struct context *ctx, sd_bus_error *error, struct cache **ret)
{
	int r;

	if (!ctx->cache) {
		r = cache_open(ctx->cache_dir, CACHE_RDONLY, &ctx->cache);
		if (r == -ENOENT) {
			*ret = NULL;
			return 0;
		}
		if (r < 0) {
			log_warning_errno(r, "Failed to open the cache in %s: %m",
					  ctx->cache_dir ?: cache_default_dir());
			return cached_error_cache(error, r);
		}
	}
	*ret = ctx->cache;
	return 1;
}

static void context_done(struct context *ctx)
{
	for (size_t i = 0; i < ELEMENTSOF(ctx->slots); i++)
		sd_bus_slot_unref(ctx->slots[i]);
	sd_bus_flush_close_unref(ctx->bus);
	sd_event_unref(ctx->event);
	cache_free(ctx->cache);
	free(ctx->hostnqn);
	fps_free(ctx->fps, ctx->n_fps);
}

static int name_released(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct context *ctx = userdata;

	if (sd_bus_message_is_method_error(m, NULL))
		log_debug("Releasing a name failed: %s", sd_bus_message_get_error(m)->message);
	if (--ctx->names_releasing == 0)
		(void)sd_event_exit(ctx->event, 0);
	return 0;
}

/* Idle: give the names back; the bus starts us again for the next caller. */
static int release_names_and_exit(struct context *ctx)
{
	const char *names[] = { CACHED_BUS_NAME, STAF_BUS_NAME, STAC_BUS_NAME };
	int r;

	(void)sd_notify(false, "STOPPING=1");
	for (size_t i = 0; i < (ctx->compat ? 3 : 1); i++) {
		r = sd_bus_release_name_async(ctx->bus, NULL, names[i], name_released, ctx);
		if (r < 0) {
			log_debug_errno(r, "Failed to release %s: %m", names[i]);
			continue;
		}
		ctx->names_releasing++;
	}
	if (ctx->names_releasing == 0)
		return sd_event_exit(ctx->event, 0);
	return 0;
}

static int run_loop(struct context *ctx)
{
	int r, code = 0;

	for (;;) {
		r = sd_event_get_state(ctx->event);
		if (r < 0)
			return r;
		if (r == SD_EVENT_FINISHED)
			break;
		r = sd_event_run(ctx->event,
				 ctx->exiting || ctx->idle_usec == 0 ? UINT64_MAX : ctx->idle_usec);
		if (r < 0)
			return log_error_errno(r, "Event loop failed: %m");
		if (r == 0 && !ctx->exiting && ctx->idle_usec > 0) {
			log_debug("Idle, exiting.");
			ctx->exiting = true;
			r = release_names_and_exit(ctx);
			if (r < 0)
				return r;
		}
	}
	r = sd_event_get_exit_code(ctx->event, &code);
	return r < 0 ? r : code;
}

static int request_name(struct context *ctx, const char *name)
{
	int r;

	/* No queueing, no replacing: if nvme-stas's stafd/stacd (or a second
	 * stas-cached) owns the name, refuse to start. */
	r = sd_bus_request_name(ctx->bus, name, 0);
	if (r == -EEXIST)
		return log_error_errno(r,
				       "%s is already owned by another process (stafd or stacd "
				       "running?); refusing to start.",
				       name);
	if (r < 0)
		return log_error_errno(r, "Failed to own %s: %m", name);
	return 0;
}

static int context_init(struct context *ctx)
{
	sigset_t ss;
	int r;

	r = sd_event_default(&ctx->event);
	if (r < 0)
		return log_error_errno(r, "Failed to allocate the event loop: %m");
	(void)sd_event_set_watchdog(ctx->event, true);
	(void)sigemptyset(&ss);
	(void)sigaddset(&ss, SIGTERM);
	(void)sigaddset(&ss, SIGINT);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
		return log_error_errno(errno, "Failed to block signals: %m");
	r = sd_event_add_signal(ctx->event, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(ctx->event, NULL, SIGINT, NULL, NULL);
	if (r < 0)
		return log_error_errno(r, "Failed to handle signals: %m");

	r = sd_bus_open_system(&ctx->bus);
	if (r < 0)
		return log_error_errno(r, "Failed to connect to the system bus: %m");
	r = sd_bus_attach_event(ctx->bus, ctx->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "Failed to attach the bus to the event loop: %m");

	r = sd_bus_add_object_vtable(ctx->bus, &ctx->slots[0], CACHED_OBJECT_PATH, CACHED_INTERFACE,
				     stas_vtable, ctx);
	if (r >= 0 && ctx->compat) {
		r = sd_bus_add_object_vtable(ctx->bus, &ctx->slots[1], STAF_OBJECT_PATH,
					     STAF_INTERFACE, staf_vtable, ctx);
		if (r >= 0)
			r = sd_bus_add_object_vtable(ctx->bus, &ctx->slots[2], STAF_OBJECT_PATH,
						     STAF_DEBUG_INTERFACE, staf_debug_vtable, ctx);
		if (r >= 0)
			r = sd_bus_add_object_vtable(ctx->bus, &ctx->slots[3], STAC_OBJECT_PATH,
						     STAC_INTERFACE, stac_vtable, ctx);
		if (r >= 0)
			r = sd_bus_add_object_vtable(ctx->bus, &ctx->slots[4], STAC_OBJECT_PATH,
						     STAC_DEBUG_INTERFACE, stac_debug_vtable, ctx);
	}
	if (r < 0)
		return log_error_errno(r, "Failed to register the D-Bus objects: %m");

	/* The state the first Notify() is compared against. */
	r = fps_take(ctx, &ctx->fps, &ctx->n_fps);
	if (r < 0)
		log_warning_errno(r, "Failed to read the cache, continuing: %m");

	r = request_name(ctx, CACHED_BUS_NAME);
	if (r >= 0 && ctx->compat)
		r = request_name(ctx, STAF_BUS_NAME);
	if (r >= 0 && ctx->compat)
		r = request_name(ctx, STAC_BUS_NAME);
	return r;
}

static void help(void)
{
	printf("Usage: stas-cached [OPTIONS]\n\n"
	       "The read-only D-Bus service over the stas cache (see stas-cached(8)).\n\n"
	       "  -h --help              show this help\n"
	       "     --version           show the version\n"
	       "     --cache-dir=DIR     the cache (default: $CACHE_DIRECTORY or " CACHEDIR ")\n"
	       "     --config=FILE       the configuration (default: " SYSCONFDIR
	       "/stas/stas.conf)\n"
	       "     --idle-timeout=SEC  exit after SEC seconds without a call (default 30;\n"
	       "                         0: never)\n"
	       "     --no-compat         do not own nvme-stas's org.nvmexpress.staf/.stac\n"
	       "  -d --debug             log at debug level\n");
}

static int parse_argv(int argc, char **argv)
{
	enum { OPT_VERSION = 0x100, OPT_CACHE_DIR, OPT_CONFIG, OPT_IDLE, OPT_NO_COMPAT };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "no-compat", no_argument, NULL, OPT_NO_COMPAT },
		{ "debug", no_argument, NULL, 'd' },
		{},
	};
	int o;

	while ((o = getopt_long(argc, argv, "hd", options, NULL)) >= 0)
		switch (o) {
		case 'h':
			help();
			return 0;
		case OPT_VERSION:
			printf("stas-cached " STAS_VERSION "\n");
			return 0;
		case OPT_CACHE_DIR:
			arg_cache_dir = optarg;
			break;
		case OPT_CONFIG:
			arg_config = optarg;
			break;
		case OPT_IDLE: {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || v > 86400) {
				log_error("Invalid --idle-timeout: %s (seconds, 0..86400)", optarg);
				return -EINVAL;
			}
			arg_idle_usec = v * 1000000ULL;
			break;
		}
		case OPT_NO_COMPAT:
			arg_compat = false;
			break;
		case 'd':
			log_set_max_level(LOG_DEBUG);
			break;
		default:
			return -EINVAL;
		}
	if (optind < argc) {
		log_error("stas-cached takes no arguments.");
		return -EINVAL;
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct context ctx = {};
	int r;

	log_set_ident("stas-cached");
	log_set_target_auto();
	r = parse_argv(argc, argv);
	if (r <= 0)
		return r < 0 ? 2 : 0;

	ctx.cache_dir = arg_cache_dir;
	ctx.config_path = arg_config;
	ctx.idle_usec = arg_idle_usec;
	ctx.compat = arg_compat;
	(void)hostid_read_file(HOSTNQN_PATH, &ctx.hostnqn);

	r = context_init(&ctx);
	if (r >= 0) {
		log_debug("Serving%s.", ctx.compat ? " (with nvme-stas's names)" : "");
		r = run_loop(&ctx);
	}
	context_done(&ctx);
	return r < 0 ? 1 : 0;
}
