/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stas-mdns-watch - the resident part of stas: follow DNS-SD announcements
 * of NVMe discovery controllers (avahi) and hand each reachable one to
 * stas-discover@<dc>.service; retire those no longer advertised after
 * zeroconf-connections-persistence. One sd-event loop, no threads, no
 * polling. See stas-mdns-watch(8).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "conf.h"
#include "kernel.h"
#include "log.h"
#include "macro.h"
#include "stas-mdns-watch.h"
#include "strv.h"
#include "unit-start.h"

static const char *arg_config;
static const char *arg_cache_dir;
static bool arg_check_zeroconf;
static bool arg_tron;

static void help(void)
{
	printf("Usage: stas-mdns-watch [OPTIONS]\n\n"
	       "Follow mDNS/DNS-SD announcements of NVMe-oF discovery controllers\n"
	       "(%s, %s) and hand each reachable one to stas-discover@.service.\n\n"
	       "     --check-zeroconf  exit 0 when zeroconf is enabled in the configuration\n"
	       "                       (or it is invalid), 1 when disabled (ExecCondition=)\n"
	       "     --cache-dir=DIR   the cache (default: $CACHE_DIRECTORY or " CACHEDIR ")\n"
	       "     --config=FILE     the configuration (default: " SYSCONFDIR "/stas/stas.conf)\n"
	       "     --tron            debug messages\n"
	       "  -h --help            this help\n"
	       "     --version         the version\n",
	       MDNS_TYPE_TCP, MDNS_TYPE_UDP);
}

static int parse_argv(int argc, char **argv)
{
	enum {
		OPT_CHECK = 0x100,
		OPT_CACHE_DIR,
		OPT_CONFIG,
		OPT_TRON,
		OPT_VERSION,
	};
	static const struct option options[] = {
		{ "check-zeroconf", no_argument, NULL, OPT_CHECK },
		{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "tron", no_argument, NULL, OPT_TRON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case OPT_VERSION:
			printf("stas-mdns-watch (stas) %s\n", STAS_VERSION);
			return 0;
		case OPT_CHECK:
			arg_check_zeroconf = true;
			break;
		case OPT_CACHE_DIR:
			arg_cache_dir = optarg;
			break;
		case OPT_CONFIG:
			arg_config = optarg;
			break;
		case OPT_TRON:
			arg_tron = true;
			log_set_max_level(LOG_DEBUG);
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(EINVAL, "Unexpected argument '%s'.", argv[optind]);
	return 1;
}

static int load_config(struct stas_config **ret)
{
	_cleanup_strv_free_ char **errors = NULL;
	int r;

	r = config_load(arg_config, ret, &errors);
	if (r < 0) {
		STRV_FOREACH(e, errors)
			log_error("%s", *e);
		return log_error_errno(r, "Invalid configuration %s: %m",
				       arg_config ? arg_config : CONFIG_FILE_DEFAULT);
	}
	log_set_max_level(arg_tron || (*ret)->global.tron ? LOG_DEBUG : LOG_INFO);
	return 0;
}

static void apply_config(struct mdns_watch *w, bool goodbye_on_disable)
{
	if (!w->cfg->discovery.zeroconf) {
		if (w->client || w->client_retry)
			log_info("zeroconf is disabled: browsing stopped.");
		else
			log_info("zeroconf is disabled: not browsing.");
		mdns_browse_stop(w, goodbye_on_disable);
	} else {
		/* Start over: the rules may have changed for every service. */
		mdns_browse_stop(w, false);
		(void)mdns_browse_start(w);
	}
	(void)mdns_expiry_schedule(w);
}

static uint64_t now_monotonic(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int on_sighup(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	struct mdns_watch *w = userdata;
	struct stas_config *cfg = NULL;

	(void)sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading",
			 (unsigned long long)now_monotonic());
	log_info("Reloading the configuration.");
	if (load_config(&cfg) < 0)
		log_error("Keeping the previous configuration.");
	else {
		config_free(w->cfg);
		w->cfg = cfg;
		apply_config(w, true);
	}
	(void)sd_notifyf(false, "READY=1\nSTATUS=%s",
			 w->cfg->discovery.zeroconf ? "Browsing" : "Idle (zeroconf disabled)");
	return 0;
}

static int on_exit_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	(void)sd_notify(false, "STOPPING=1");
	return sd_event_exit(sd_event_source_get_event(src), 0);
}

int main(int argc, char **argv)
{
	struct mdns_watch w = {};
	sigset_t mask;
	int r;

	log_set_ident("stas-mdns-watch");
	log_set_target_auto();

	r = parse_argv(argc, argv);
	if (r <= 0)
		return r < 0 ? 2 : 0;

	if (arg_check_zeroconf) {
		struct stas_config *cfg = NULL;

		/* Invalid: let the service start and say what is wrong. */
		if (load_config(&cfg) < 0)
			return 0;
		r = cfg->discovery.zeroconf ? 0 : 1;
		if (r)
			log_info("zeroconf is disabled in the configuration: not starting.");
		config_free(cfg);
		return r;
	}

	if (load_config(&w.cfg) < 0)
		return 6;
	w.config_path = arg_config;
	w.cache_dir = arg_cache_dir;
	w.unique_nqn = -1;
	if (unit_starter_new(&w.units) < 0) {
		log_oom();
		config_free(w.cfg);
		return 1;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);

	r = sd_event_default(&w.event);
	if (r >= 0)
		r = sd_event_add_signal(w.event, NULL, SIGHUP, on_sighup, &w);
	if (r >= 0)
		r = sd_event_add_signal(w.event, NULL, SIGTERM, on_exit_signal, &w);
	if (r >= 0)
		r = sd_event_add_signal(w.event, NULL, SIGINT, on_exit_signal, &w);
	if (r < 0) {
		log_error_errno(r, "Failed to set up the event loop: %m");
		goto finish;
	}
	mdns_poll_init(&w.poll, w.event);

	apply_config(&w, false);
	(void)sd_notifyf(false, "READY=1\nSTATUS=%s",
			 w.cfg->discovery.zeroconf ? "Browsing" : "Idle (zeroconf disabled)");

	r = sd_event_loop(w.event);
	if (r < 0)
		log_error_errno(r, "Event loop failed: %m");

finish:
	mdns_browse_stop(&w, false);
	sd_event_source_disable_unref(w.expiry_timer);
	sd_event_source_disable_unref(w.sweep_timer);
	sd_event_unref(w.event);
	config_free(w.cfg);
	unit_starter_free(w.units);
	kernel_close();
	return r < 0 ? 1 : 0;
}
