/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stas-mdns-watch.h - one context for the resident mDNS watcher, and the
 * parts that work on it:
 *   mdns-poll.c     avahi's AvahiPoll API on the sd-event loop
 *   mdns-browse.c   avahi client, browsers, resolvers: the live services
 *   mdns-probe.c    the TCP reachability probe with backoff
 *   mdns-dc.c       the cache side: advertise, goodbye, expiry, retirement
 *   mdns-rules.c    the policy (pure; see mdns-rules.h)
 * Calls go downwards only: browse -> probe -> dc; pending work (expiry,
 * the sweep) is held by timers the context owns.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/watch.h>
#include <systemd/sd-event.h>

#include "cache.h"
#include "conf.h"
#include "mdns-rules.h"
#include "tid.h"
#include "unit-start.h"

/* The DNS-SD types of NVMe discovery controllers (TP8009). */
#define MDNS_TYPE_TCP "_nvme-disc._tcp"
#define MDNS_TYPE_UDP "_nvme-disc._udp"

/* After avahi (re)appears, services not announced again within this are gone. */
#define MDNS_SWEEP_DELAY_USEC (30 * UINT64_C(1000000))

enum probe_state {
	PROBE_NONE, /* not resolved, refused, or not tcp */
	PROBE_RUNNING, /* a connect is in flight */
	PROBE_WAITING, /* unreachable: waiting for the next attempt */
	PROBE_DONE, /* reachable (or no probe needed): handed over */
};

/* One service instance as avahi reports it: per interface and protocol. */
struct mdns_service {
	struct mdns_service *next;
	struct mdns_watch *w;
	AvahiIfIndex ifindex;
	AvahiProtocol protocol;
	char *name, *type, *domain;
	char ifname[TID_IFACE_MAX + 1];
	AvahiServiceResolver *resolver;
	bool accepted; /* resolved and passed every rule: @dc is valid */
	struct tid dc;
	/* the reachability probe */
	enum probe_state probe;
	unsigned attempts;
	int fd;
	sd_event_source *probe_io, *probe_timer;
};

struct mdns_watch {
	sd_event *event;
	const char *config_path;
	const char *cache_dir;
	struct stas_config *cfg;
	struct cache *cache;
	AvahiPoll poll;
	AvahiClient *client;
	AvahiServiceBrowser *browser_tcp, *browser_udp;
	bool client_failed; /* AVAHI_CLIENT_FAILURE: free and make a new one */
	sd_event_source *client_retry; /* avahi_client_new() failed: try again */
	unsigned client_attempts;
	bool avahi_lost_logged;
	struct mdns_service *services;
	struct mdns_policy policy;
	int unique_nqn; /* -1: not known yet */
	sd_event_source *expiry_timer;
	sd_event_source *sweep_timer;
	bool no_systemd; /* for tests: do not start units */
	struct unit_starter *units; /* StartUnit/StopUnit over the system bus */
};

/* mdns-poll.c */
void mdns_poll_init(AvahiPoll *api, sd_event *event);

/* mdns-browse.c */
int mdns_browse_start(struct mdns_watch *w);
void mdns_browse_stop(struct mdns_watch *w, bool goodbye);

/* mdns-probe.c */
void mdns_probe_start(struct mdns_service *s);
void mdns_probe_cancel(struct mdns_service *s);

/* mdns-dc.c */
int mdns_dc_announce(struct mdns_watch *w, const struct tid *dc);
int mdns_dc_goodbye(struct mdns_watch *w, const struct tid *dc);
bool mdns_dc_is_advertised(const struct mdns_watch *w, const struct tid *dc);
int mdns_expiry_schedule(struct mdns_watch *w);
void mdns_sweep_schedule(struct mdns_watch *w);
