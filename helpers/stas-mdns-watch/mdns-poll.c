/* SPDX-License-Identifier: Apache-2.0 */
/*
 * avahi-client's main-loop abstraction (AvahiPoll) implemented on sd-event:
 * a watch is an I/O event source, a timeout a one-shot CLOCK_MONOTONIC
 * timer. avahi gives absolute CLOCK_REALTIME times (gettimeofday()); they
 * are turned into a delay at once, so a jump of the wall clock does not
 * stall avahi. Nothing here polls: with no event, the loop sleeps.
 *
 * avahi may free a watch or timeout from inside its own callback; sd-event
 * allows unref'ing a source during its dispatch, so each callback touches
 * nothing after calling into avahi.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "stas-mdns-watch.h"

struct AvahiWatch {
	sd_event_source *source;
	AvahiWatchCallback callback;
	void *userdata;
	AvahiWatchEvent happened;
};

struct AvahiTimeout {
	sd_event *event;
	sd_event_source *source;
	AvahiTimeoutCallback callback;
	void *userdata;
};

/* poll(2) and epoll(7) share the bit values on Linux; convert anyway. */
static uint32_t events_to_epoll(AvahiWatchEvent e)
{
	return (e & AVAHI_WATCH_IN ? EPOLLIN : 0) | (e & AVAHI_WATCH_OUT ? EPOLLOUT : 0) |
	       (e & AVAHI_WATCH_ERR ? EPOLLERR : 0) | (e & AVAHI_WATCH_HUP ? EPOLLHUP : 0);
}

static AvahiWatchEvent events_from_epoll(uint32_t e)
{
	return (AvahiWatchEvent)((e & EPOLLIN ? AVAHI_WATCH_IN : 0) |
				 (e & EPOLLOUT ? AVAHI_WATCH_OUT : 0) |
				 (e & EPOLLERR ? AVAHI_WATCH_ERR : 0) |
				 (e & EPOLLHUP ? AVAHI_WATCH_HUP : 0));
}

static int watch_dispatch(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	AvahiWatch *w = userdata;

	w->happened = events_from_epoll(revents);
	w->callback(w, fd, w->happened, w->userdata);
	/* w may be freed now */
	return 0;
}

static AvahiWatch *watch_new(const AvahiPoll *api, int fd, AvahiWatchEvent event,
			     AvahiWatchCallback callback, void *userdata)
{
	AvahiWatch *w;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->callback = callback;
	w->userdata = userdata;
	r = sd_event_add_io(api->userdata, &w->source, fd, events_to_epoll(event), watch_dispatch,
			    w);
	if (r < 0) {
		log_debug_errno(r, "avahi watch on fd %d: %m", fd);
		free(w);
		return NULL;
	}
	if (event == 0)
		(void)sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
	return w;
}

static void watch_update(AvahiWatch *w, AvahiWatchEvent event)
{
	if (event == 0) {
		(void)sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
		return;
	}
	(void)sd_event_source_set_io_events(w->source, events_to_epoll(event));
	(void)sd_event_source_set_enabled(w->source, SD_EVENT_ON);
}

static AvahiWatchEvent watch_get_events(AvahiWatch *w)
{
	return w->happened;
}

static void watch_free(AvahiWatch *w)
{
	sd_event_source_disable_unref(w->source);
	free(w);
}

static int timeout_dispatch(sd_event_source *src, uint64_t usec, void *userdata)
{
	AvahiTimeout *t = userdata;

	/* One-shot: disabled until avahi updates it (sd-event does that for ONESHOT). */
	t->callback(t, t->userdata);
	return 0;
}

/* The CLOCK_MONOTONIC time matching the CLOCK_REALTIME instant @tv. */
static uint64_t monotonic_from_timeval(sd_event *e, const struct timeval *tv)
{
	uint64_t now_mono = 0;
	struct timeval now;
	int64_t delta;

	(void)sd_event_now(e, CLOCK_MONOTONIC, &now_mono);
	(void)gettimeofday(&now, NULL);
	delta = ((int64_t)tv->tv_sec - now.tv_sec) * 1000000 + ((int64_t)tv->tv_usec - now.tv_usec);
	return delta <= 0 ? now_mono : now_mono + (uint64_t)delta;
}

static void timeout_update(AvahiTimeout *t, const struct timeval *tv)
{
	if (!tv) {
		(void)sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
		return;
	}
	(void)sd_event_source_set_time(t->source, monotonic_from_timeval(t->event, tv));
	(void)sd_event_source_set_enabled(t->source, SD_EVENT_ONESHOT);
}

static AvahiTimeout *timeout_new(const AvahiPoll *api, const struct timeval *tv,
				 AvahiTimeoutCallback callback, void *userdata)
{
	AvahiTimeout *t;
	int r;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->event = api->userdata;
	t->callback = callback;
	t->userdata = userdata;
	r = sd_event_add_time(t->event, &t->source, CLOCK_MONOTONIC, 0, 0, timeout_dispatch, t);
	if (r < 0) {
		log_debug_errno(r, "avahi timeout: %m");
		free(t);
		return NULL;
	}
	timeout_update(t, tv);
	return t;
}

static void timeout_free(AvahiTimeout *t)
{
	sd_event_source_disable_unref(t->source);
	free(t);
}

void mdns_poll_init(AvahiPoll *api, sd_event *event)
{
	*api = (AvahiPoll){
		.userdata = event,
		.watch_new = watch_new,
		.watch_update = watch_update,
		.watch_get_events = watch_get_events,
		.watch_free = watch_free,
		.timeout_new = timeout_new,
		.timeout_update = timeout_update,
		.timeout_free = timeout_free,
	};
}
