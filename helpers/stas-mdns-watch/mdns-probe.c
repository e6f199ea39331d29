/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Before a tcp DC is handed to stas-discover, one non-blocking TCP connect
 * to its address tells whether anything answers there. The kernel holds one
 * host-wide mutex across every fabrics connect, and a connect to a dead
 * address keeps it for seconds (SYN retries, the ICResp timeout), stalling
 * every other connect on the host: a cheap probe here avoids that. While the
 * address does not answer, the probe is repeated with capped exponential
 * backoff (mdns_backoff_usec()); the first failure is logged, the rest at
 * debug level only. The probe goes out through the DC's host-iface, as the
 * kernel's connect will (SO_BINDTODEVICE; without CAP_NET_RAW the probe
 * falls back to the routing table).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "stas-mdns-watch.h"

void mdns_probe_cancel(struct mdns_service *s)
{
	s->probe_io = sd_event_source_disable_unref(s->probe_io);
	s->probe_timer = sd_event_source_disable_unref(s->probe_timer);
	if (s->fd >= 0)
		(void)close(s->fd);
	s->fd = -1;
	s->probe = PROBE_NONE;
}

static void probe_done(struct mdns_service *s, int error);

static int probe_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
	mdns_probe_start(userdata);
	return 0;
}

static int probe_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
	probe_done(userdata, ETIMEDOUT);
	return 0;
}

static int probe_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	int error = 0;
	socklen_t len = sizeof(error);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
		error = errno;
	if (error == 0 && (revents & (EPOLLERR | EPOLLHUP)))
		error = ECONNREFUSED;
	probe_done(userdata, error);
	return 0;
}

/* Fill @sa for @dc's traddr:trsvcid (with the link-local scope). */
static int probe_sockaddr(const struct tid *dc, struct sockaddr_storage *sa, socklen_t *len)
{
	char addr[TID_TRADDR_MAX + 1];
	unsigned port = (unsigned)strtoul(dc->trsvcid, NULL, 10);
	char *pct;

	memset(sa, 0, sizeof(*sa));
	strcpy(addr, dc->traddr);
	pct = strchr(addr, '%');
	if (pct)
		*pct++ = '\0';
	if (tid_adrfam(dc) == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &in->sin_addr) != 1)
			return -EINVAL;
		*len = sizeof(*in);
		return AF_INET;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t)port);
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) != 1)
		return -EINVAL;
	if (pct) {
		in6->sin6_scope_id = if_nametoindex(pct);
		if (in6->sin6_scope_id == 0)
			return -ENODEV;
	}
	*len = sizeof(*in6);
	return AF_INET6;
}

void mdns_probe_start(struct mdns_service *s)
{
	struct sockaddr_storage sa;
	socklen_t len;
	uint64_t now;
	int family, r;

	mdns_probe_cancel(s);
	s->probe = PROBE_RUNNING;

	family = probe_sockaddr(&s->dc, &sa, &len);
	if (family < 0) {
		probe_done(s, -family);
		return;
	}
	s->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (s->fd < 0) {
		probe_done(s, errno);
		return;
	}
	if (!isempty(s->dc.host_iface) &&
	    setsockopt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, s->dc.host_iface,
		       (socklen_t)strlen(s->dc.host_iface)) < 0)
		log_debug("Probe of %s cannot bind to %s (%m), using the routing table.",
			  s->dc.traddr, s->dc.host_iface);
	if (connect(s->fd, (struct sockaddr *)&sa, len) == 0) {
		probe_done(s, 0);
		return;
	}
	if (errno != EINPROGRESS) {
		probe_done(s, errno);
		return;
	}
	r = sd_event_add_io(s->w->event, &s->probe_io, s->fd, EPOLLOUT, probe_io, s);
	if (r >= 0) {
		(void)sd_event_now(s->w->event, CLOCK_MONOTONIC, &now);
		r = sd_event_add_time(s->w->event, &s->probe_timer, CLOCK_MONOTONIC,
				      now + MDNS_PROBE_TIMEOUT_USEC, 0, probe_timeout, s);
	}
	if (r < 0)
		probe_done(s, -r);
}

static void probe_done(struct mdns_service *s, int error)
{
	char buf[TID_FORMAT_MAX];
	uint64_t now, delay;
	int r;

	s->probe_io = sd_event_source_disable_unref(s->probe_io);
	s->probe_timer = sd_event_source_disable_unref(s->probe_timer);
	if (s->fd >= 0)
		(void)close(s->fd);
	s->fd = -1;

	tid_format(&s->dc, buf, sizeof(buf));
	if (error == 0) {
		if (s->attempts > 0)
			log_info("Discovery controller %s answers now (after %u failed probes).",
				 buf, s->attempts);
		s->attempts = 0;
		s->probe = PROBE_DONE;
		(void)mdns_dc_announce(s->w, &s->dc);
		return;
	}

	s->attempts++;
	delay = mdns_backoff_usec(s->attempts);
	log_full_errno(s->attempts == 1 ? LOG_NOTICE : LOG_DEBUG, error,
		       "Discovery controller %s (service '%s' on %s) does not answer: %m; "
		       "not handing it over, probing again in %llu s.",
		       buf, s->name, s->ifname, (unsigned long long)(delay / 1000000));
	s->probe = PROBE_WAITING;
	(void)sd_event_now(s->w->event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(s->w->event, &s->probe_timer, CLOCK_MONOTONIC, now + delay, 1000000,
			      probe_retry, s);
	if (r < 0)
		log_error_errno(r, "Failed to schedule the next probe of %s: %m", buf);
}
