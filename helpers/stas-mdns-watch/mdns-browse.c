/* SPDX-License-Identifier: Apache-2.0 */
/*
 * avahi side: one client (AVAHI_CLIENT_NO_FAIL, so it waits for
 * avahi-daemon to appear and survives its restarts without polling), a
 * browser per DNS-SD type on every interface and protocol, and a resolver
 * per service instance that stays alive and reports address and TXT
 * changes. Each resolution goes through mdns-rules; an accepted tcp DC is
 * probed, an rdma one handed over at once.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/strlst.h>

#include "exclusions.h"
#include "kernel.h"
#include "log.h"
#include "macro.h"
#include "registry.h"
#include "stas-mdns-watch.h"

#define CLIENT_RETRY_FIRST_USEC (2 * UINT64_C(1000000))
#define CLIENT_RETRY_MAX_USEC (120 * UINT64_C(1000000))

static struct mdns_service *service_find(struct mdns_watch *w, AvahiIfIndex ifindex,
					 AvahiProtocol protocol, const char *name, const char *type,
					 const char *domain)
{
	for (struct mdns_service *s = w->services; s; s = s->next)
		if (s->ifindex == ifindex && s->protocol == protocol && streq(s->name, name) &&
		    streq(s->type, type) && streq(s->domain, domain))
			return s;
	return NULL;
}

/* The service no longer stands for a DC: say goodbye when it was the last one. */
static void service_release_dc(struct mdns_service *s, bool goodbye)
{
	bool was = s->accepted;

	mdns_probe_cancel(s);
	s->accepted = false;
	if (was && goodbye && !mdns_dc_is_advertised(s->w, &s->dc))
		(void)mdns_dc_goodbye(s->w, &s->dc);
}

static void service_free(struct mdns_service *s, bool goodbye)
{
	struct mdns_service **p;

	for (p = &s->w->services; *p && *p != s; p = &(*p)->next)
		;
	if (*p)
		*p = s->next;
	if (s->resolver)
		avahi_service_resolver_free(s->resolver);
	service_release_dc(s, goodbye);
	free(s->name);
	free(s->type);
	free(s->domain);
	free(s);
}

/* The policy of the moment: the configuration plus what the kernel supports. */
static const struct mdns_policy *policy_get(struct mdns_watch *w)
{
	struct config_path_opts o;

	if (w->unique_nqn < 0) {
		int r = kernel_fabrics_has_option("discovery");

		/* Not known before nvme-fabrics is loaded: ask again next time. */
		if (r >= 0)
			w->unique_nqn = r;
	}
	(void)config_conn_opts_resolve(w->cfg, CONFIG_ROLE_DISCOVERY, NULL, &o);
	w->policy = (struct mdns_policy){
		.ip_family = (unsigned)o.conn.ip_family,
		.ignore_iface = o.conn.ignore_iface > 0,
		.unique_nqn = w->unique_nqn > 0,
		.host_nqn = w->cfg->host.nqn,
	};
	return &w->policy;
}

static void service_resolved(struct mdns_service *s, const char *host, const AvahiAddress *a,
			     uint16_t port, AvahiStringList *txt)
{
	char addr[AVAHI_ADDRESS_STR_MAX], why[MDNS_WHY_MAX] = "", buf[TID_FORMAT_MAX];
	uint8_t wire[MDNS_TXT_MAX + 1];
	struct mdns_txt t;
	struct tid dc;
	size_t n;
	int r;

	avahi_address_snprint(addr, sizeof(addr), a);
	/* One byte more than allowed: a longer record is then seen as oversized. */
	n = avahi_string_list_serialize(txt, wire, sizeof(wire));
	if (avahi_string_list_get_size(txt) > MDNS_TXT_MAX)
		n = MDNS_TXT_MAX + 1;
	r = mdns_txt_parse(wire, n, &t, why);
	if (r < 0) {
		log_warning("Ignoring announcement '%s' (%s) on %s from %s: %s.", s->name, s->type,
			    s->ifname, addr, why);
		service_release_dc(s, true);
		return;
	}
	if (streq(s->type, MDNS_TYPE_UDP) && streq(t.transport, "tcp"))
		log_debug("'%s' is announced as %s with p=tcp.", s->name, s->type);

	r = mdns_dc_from_service(&t, s->ifname, addr, port, policy_get(s->w), &dc, why);
	if (r == -EAFNOSUPPORT) {
		log_debug("Ignoring '%s' on %s at %s: %s.", s->name, s->ifname, addr, why);
		service_release_dc(s, true);
		return;
	}
	if (r < 0) {
		log_warning("Ignoring announcement '%s' (%s) on %s from %s: %s.", s->name, s->type,
			    s->ifname, addr, why);
		service_release_dc(s, true);
		return;
	}
	tid_format(&dc, buf, sizeof(buf));
	if (mdns_dc_is_excluded(s->w->cfg, &dc, s->ifname)) {
		log_info("Ignoring %s ('%s' on %s): excluded by the configuration.", buf, s->name,
			 s->ifname);
		service_release_dc(s, true);
		return;
	}
	/* The host's exclusion list (nvme-cli's), re-read for each announcement. */
	{
		const struct exclusions_target target = { .tid = &dc,
							  .hostid = s->w->cfg->host.id };
		struct exclusions_match m;

		if (exclusions_match(registry_root(), &target, &m) > 0) {
			log_info("Ignoring %s ('%s' on %s): excluded by %s:%u (host exclusion "
				 "list).",
				 buf, s->name, s->ifname, m.path, m.line);
			service_release_dc(s, true);
			return;
		}
	}
	if (s->accepted && tid_equal(&s->dc, &dc) && s->probe != PROBE_NONE)
		return; /* unchanged (a TXT change that does not matter, a re-announcement) */

	/* Deliberately two DCs: each interface is its own path (nvme-stas calls it an error). */
	for (struct mdns_service *o = s->w->services; o; o = o->next)
		if (o != s && o->accepted && streq(o->dc.traddr, dc.traddr) &&
		    !streq(o->ifname, s->ifname))
			log_notice("Address %s is announced on %s and on %s: following both as "
				   "separate paths.",
				   dc.traddr, o->ifname, s->ifname);

	service_release_dc(s, true);
	s->dc = dc;
	s->accepted = true;
	log_info("Discovery controller %s announced as '%s' (%s) on %s by %s.", buf, s->name,
		 s->type, s->ifname, strempty(host));
	if (streq(dc.transport, "tcp"))
		mdns_probe_start(s);
	else {
		s->probe = PROBE_DONE;
		(void)mdns_dc_announce(s->w, &dc);
	}
}

static void resolve_cb(AvahiServiceResolver *r, AvahiIfIndex ifindex, AvahiProtocol protocol,
		       AvahiResolverEvent event, const char *name, const char *type,
		       const char *domain, const char *host, const AvahiAddress *a, uint16_t port,
		       AvahiStringList *txt, AvahiLookupResultFlags flags, void *userdata)
{
	struct mdns_service *s = userdata;

	switch (event) {
	case AVAHI_RESOLVER_FOUND:
		service_resolved(s, host, a, port, txt);
		break;
	case AVAHI_RESOLVER_FAILURE:
		log_warning("Cannot resolve '%s' (%s) on %s: %s.", name, type, s->ifname,
			    avahi_strerror(avahi_client_errno(s->w->client)));
		break;
	}
}

static void service_new(struct mdns_watch *w, AvahiIfIndex ifindex, AvahiProtocol protocol,
			const char *name, const char *type, const char *domain)
{
	struct mdns_service *s;

	if (service_find(w, ifindex, protocol, name, type, domain))
		return;
	s = calloc(1, sizeof(*s));
	if (!s) {
		log_oom();
		return;
	}
	s->w = w;
	s->fd = -1;
	s->ifindex = ifindex;
	s->protocol = protocol;
	s->name = strdup(name);
	s->type = strdup(type);
	s->domain = strdup(domain);
	if (!s->name || !s->type || !s->domain) {
		log_oom();
		service_free(s, false);
		return;
	}
	if (!if_indextoname((unsigned)ifindex, s->ifname))
		(void)snprintf(s->ifname, sizeof(s->ifname), "if%d", ifindex);
	s->next = w->services;
	w->services = s;
	log_debug("Service '%s' (%s) on %s %s.", name, type, s->ifname,
		  protocol == AVAHI_PROTO_INET ? "IPv4" : "IPv6");
	/* Resolve to the address family the service was seen with. */
	s->resolver = avahi_service_resolver_new(w->client, ifindex, protocol, name, type, domain,
						 protocol, 0, resolve_cb, s);
	if (!s->resolver)
		log_warning("Cannot resolve '%s' (%s) on %s: %s.", name, type, s->ifname,
			    avahi_strerror(avahi_client_errno(w->client)));
}

static void browse_cb(AvahiServiceBrowser *b, AvahiIfIndex ifindex, AvahiProtocol protocol,
		      AvahiBrowserEvent event, const char *name, const char *type,
		      const char *domain, AvahiLookupResultFlags flags, void *userdata)
{
	struct mdns_watch *w = userdata;
	struct mdns_service *s;

	switch (event) {
	case AVAHI_BROWSER_NEW:
		service_new(w, ifindex, protocol, name, type, domain);
		break;
	case AVAHI_BROWSER_REMOVE:
		s = service_find(w, ifindex, protocol, name, type, domain);
		if (s) {
			log_info("Service '%s' (%s) on %s withdrawn.", name, type, s->ifname);
			service_free(s, true);
		}
		break;
	case AVAHI_BROWSER_FAILURE:
		log_warning("Browsing %s failed: %s.",
			    b == w->browser_udp ? MDNS_TYPE_UDP : MDNS_TYPE_TCP,
			    avahi_strerror(avahi_client_errno(w->client)));
		break;
	case AVAHI_BROWSER_ALL_FOR_NOW:
	case AVAHI_BROWSER_CACHE_EXHAUSTED:
		break;
	}
}

/* Forget every service (the daemon went away, or a reload). */
static void services_drop(struct mdns_watch *w, bool goodbye)
{
	while (w->services)
		service_free(w->services, goodbye);
}

static void browsers_free(struct mdns_watch *w)
{
	if (w->browser_tcp)
		avahi_service_browser_free(w->browser_tcp);
	if (w->browser_udp)
		avahi_service_browser_free(w->browser_udp);
	w->browser_tcp = w->browser_udp = NULL;
}

static int browsers_new(struct mdns_watch *w)
{
	w->browser_tcp = avahi_service_browser_new(w->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
						   MDNS_TYPE_TCP, NULL, 0, browse_cb, w);
	w->browser_udp = avahi_service_browser_new(w->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
						   MDNS_TYPE_UDP, NULL, 0, browse_cb, w);
	if (!w->browser_tcp || !w->browser_udp) {
		log_error("Failed to browse for %s and %s: %s.", MDNS_TYPE_TCP, MDNS_TYPE_UDP,
			  avahi_strerror(avahi_client_errno(w->client)));
		browsers_free(w);
		return -EIO;
	}
	log_info("Browsing for %s and %s on every interface.", MDNS_TYPE_TCP, MDNS_TYPE_UDP);
	return 0;
}

static void client_schedule_retry(struct mdns_watch *w);

static void client_cb(AvahiClient *c, AvahiClientState state, void *userdata)
{
	struct mdns_watch *w = userdata;

	w->client = c; /* called from within avahi_client_new() already */
	switch (state) {
	case AVAHI_CLIENT_S_RUNNING:
		w->client_attempts = 0;
		if (w->avahi_lost_logged)
			log_info("avahi-daemon is back.");
		w->avahi_lost_logged = false;
		if (!w->browser_tcp)
			(void)browsers_new(w);
		break;
	case AVAHI_CLIENT_S_REGISTERING:
	case AVAHI_CLIENT_S_COLLISION:
		break;
	case AVAHI_CLIENT_CONNECTING:
		/* The daemon is gone (or not started yet): the client waits for it. */
		if (!w->avahi_lost_logged)
			log_warning("avahi-daemon is not running; waiting for it.");
		w->avahi_lost_logged = true;
		browsers_free(w);
		services_drop(w, false);
		mdns_sweep_schedule(w);
		break;
	case AVAHI_CLIENT_FAILURE:
		log_warning("Lost avahi-daemon (%s); reconnecting.",
			    avahi_strerror(avahi_client_errno(c)));
		w->avahi_lost_logged = true;
		/* Freed by the retry, not from inside its own callback. */
		w->client_failed = true;
		browsers_free(w);
		services_drop(w, false);
		mdns_sweep_schedule(w);
		client_schedule_retry(w);
		break;
	}
}

static int client_retry_cb(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct mdns_watch *w = userdata;

	w->client_retry = sd_event_source_disable_unref(w->client_retry);
	(void)mdns_browse_start(w);
	return 0;
}

static void client_schedule_retry(struct mdns_watch *w)
{
	uint64_t now, d = CLIENT_RETRY_FIRST_USEC;

	for (unsigned i = 0; i < w->client_attempts && d < CLIENT_RETRY_MAX_USEC; i++)
		d *= 2;
	d = MIN(d, CLIENT_RETRY_MAX_USEC);
	w->client_attempts++;
	w->client_retry = sd_event_source_disable_unref(w->client_retry);
	(void)sd_event_now(w->event, CLOCK_MONOTONIC, &now);
	if (sd_event_add_time(w->event, &w->client_retry, CLOCK_MONOTONIC, now + d, 1000000,
			      client_retry_cb, w) < 0)
		log_error("Failed to schedule reconnecting to avahi.");
}

int mdns_browse_start(struct mdns_watch *w)
{
	int error = 0;

	if (w->client && w->client_failed) {
		avahi_client_free(w->client);
		w->client = NULL;
	}
	w->client_failed = false;
	if (w->client)
		return 0;
	w->unique_nqn = -1;
	w->client = avahi_client_new(&w->poll, AVAHI_CLIENT_NO_FAIL, client_cb, w, &error);
	if (!w->client) {
		/* No system bus: NO_FAIL cannot help. */
		if (w->client_attempts == 0)
			log_warning("Cannot create an avahi client: %s; retrying.",
				    avahi_strerror(error));
		client_schedule_retry(w);
		mdns_sweep_schedule(w);
		return -EIO;
	}
	mdns_sweep_schedule(w);
	return 0;
}

void mdns_browse_stop(struct mdns_watch *w, bool goodbye)
{
	w->client_retry = sd_event_source_disable_unref(w->client_retry);
	w->client_attempts = 0;
	browsers_free(w);
	services_drop(w, goodbye);
	if (w->client)
		avahi_client_free(w->client);
	w->client = NULL;
	w->client_failed = false;
}
