/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel side of one discovery controller: find the connection the
 * kernel already has to it (from an earlier run, from udev, from nvme-cli)
 * or make one, register with it (TP8010 DIM) when it is a DDC or CDC, and
 * read its Discovery Log Page.
 *
 * Neighbours (issue 14, nvme-cli's REGISTRY.md and EXCLUSIONS.md): a DC
 * connection another orchestrator owns in the registry is not read (its
 * AENs included: "the DC's ownership extends to everything discovered
 * through it"); a new DC connection is not made when the host's exclusion
 * list matches it, except for a DC named on the command line (a targeted
 * human action); a DC connection stas makes is registered owner "stas",
 * and unregistered before stas drops it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn-opts.h"
#include "discover-policy.h"
#include "exclusions.h"
#include "log.h"
#include "macro.h"
#include "registry.h"
#include "stas-discover.h"

/*
 * The same DC? A DC known by the well-known discovery NQN and a kernel
 * connection made with its unique NQN (TP8013), or the other way round, are
 * one controller when everything else agrees.
 */
static bool dc_tid_same(const struct tid *a, const struct tid *b)
{
	struct tid x = *a, y = *b;

	if (tid_equal(a, b))
		return true;
	if (!streq(a->subsysnqn, NVME_DISC_SUBSYS_NQN) &&
	    !streq(b->subsysnqn, NVME_DISC_SUBSYS_NQN))
		return false;
	x.subsysnqn[0] = y.subsysnqn[0] = '\0';
	return tid_equal(&x, &y);
}

static int dc_find_existing(const struct tid *t, struct kctrl *ret)
{
	_cleanup_free_ struct kctrl *v = NULL;
	int n;

	n = kernel_ctrls_scan(NULL, false, true, &v);
	if (n < 0)
		return n;
	/* An exact match wins over a TP8013 alias. */
	for (int i = 0; i < n; i++)
		if (kctrl_is_usable(&v[i]) && tid_equal(&v[i].tid, t)) {
			*ret = v[i];
			return 1;
		}
	for (int i = 0; i < n; i++)
		if (kctrl_is_usable(&v[i]) && dc_tid_same(&v[i].tid, t)) {
			*ret = v[i];
			return 1;
		}
	return 0;
}

/* 1 (and a log line) when the registry gives @k to another orchestrator. */
static int dc_not_ours_unowned(const struct kctrl *k, bool *ret_unowned)
{
	struct registry_entry e;
	int r;

	r = registry_entry_get(registry_root(), k->name, &e);
	if (ret_unowned)
		*ret_unowned = r == 0;
	if (r == 0 || (r > 0 && streq(e.owner, REGISTRY_OWNER_STAS)))
		return 0;
	if (r < 0)
		log_notice_errno(r,
				 "Not reading discovery controller %s: its registry entry cannot "
				 "be read (%m).",
				 k->name);
	else
		log_info("Not reading discovery controller %s nor acting on its events: the "
			 "registry gives it to %s.",
			 k->name, e.owner);
	return 1;
}

static int dc_not_ours(const struct kctrl *k)
{
	return dc_not_ours_unowned(k, NULL);
}

/*
 * A kept DC connection the cache says stas made (its record names the
 * device, and udev did not hand it over) but that has no registry entry
 * (a wiped /run): register it again, so the registry and the cache agree.
 */
static void dc_registry_repair(struct discover *d, const struct dc_job *job, const struct kctrl *k)
{
	struct cache_dc rec;
	int r;

	if (cache_dc_get(d->cache, &job->tid, &rec) <= 0 || !streq(rec.device, k->name) ||
	    rec.origin == CACHE_ORIGIN_UDEV)
		return;
	r = registry_register(registry_root(), k->name, REGISTRY_OWNER_STAS, NULL);
	if (r < 0)
		log_warning_errno(r, "Failed to register %s as stas's again, ignoring: %m",
				  k->name);
	else
		log_info("Registered %s as stas's again (the registry had lost its entry).",
			 k->name);
}

/* 1 (and a log line) when the host's exclusion list forbids connecting @job. */
static int dc_excluded(struct discover *d, const struct dc_job *job)
{
	struct config_path_opts popts;
	struct exclusions_match m;
	char buf[TID_FORMAT_MAX];

	/* "A Discovery Controller named explicitly on the command line ... is not checked." */
	if (job->origin == CACHE_ORIGIN_MANUAL)
		return 0;
	(void)config_conn_opts_resolve(d->cfg, CONFIG_ROLE_DISCOVERY, job->conf, &popts);
	if (exclusions_match(registry_root(),
			     &(const struct exclusions_target){ .tid = &job->tid,
								.hostid = popts.hostid },
			     &m) <= 0)
		return 0;
	log_info("Not connecting discovery controller %s: excluded by %s:%u (host exclusion "
		 "list).",
		 tid_format(&job->tid, buf, sizeof(buf)), m.path, m.line);
	return 1;
}

int dc_live(const struct tid *t)
{
	struct kctrl k;
	int r;

	r = dc_find_existing(t, &k);
	if (r <= 0)
		return r;
	return streq(k.state, "live");
}

/*
 * A DC configured with tls = true: connected only where TLS can work, as
 * reconcile does for I/O controllers; else one error naming the DC.
 */
static int dc_tls_check(const struct tid *t, const struct kconn_opts *kopts)
{
	char buf[TID_FORMAT_MAX];
	const char *why = NULL;

	if (!kopts->tls)
		return 0;
	if (!streq(t->transport, "tcp"))
		why = "TLS exists only for tcp";
	else if (kernel_fabrics_has_option("tls") <= 0)
		why = "this kernel does not offer it (no \"tls\" in /dev/nvme-fabrics)";
	else if (kernel_tlshd_running() <= 0)
		why = "tlshd (ktls-utils) is not running: the kernel could not do the handshake";
	if (!why)
		return 0;
	return log_error_errno(EOPNOTSUPP,
			       "Not connecting discovery controller %s: tls = true is configured, "
			       "but %s.",
			       tid_format(t, buf, sizeof(buf)), why);
}

int dc_session_open(struct discover *d, const struct dc_job *job, struct kernel_error *err,
		    struct dc_session *ret)
{
	char buf[TID_FORMAT_MAX], name[KCTRL_NAME_MAX + 1];
	struct config_path_opts popts;
	struct kconn_opts kopts;
	struct dc_session s = {};
	int r;

	if (!isempty(job->device)) {
		if (job->device_read)
			s.ctrl = job->device_ctrl;
		else {
			r = kernel_ctrl_read(job->device, &s.ctrl);
			if (r < 0)
				return log_error_errno(r, "Cannot read controller %s: %m",
						       job->device);
		}
		if (!s.ctrl.discovery)
			return log_error_errno(EINVAL, "%s is not a discovery controller.",
					       job->device);
		if (dc_not_ours(&s.ctrl))
			return 1;
		s.persistent = true;
		*ret = s;
		return 0;
	}

	r = dc_find_existing(&job->tid, &s.ctrl);
	if (r < 0)
		return log_error_errno(r, "Cannot scan the kernel's controllers: %m");
	if (r > 0) {
		bool unowned;

		if (dc_not_ours_unowned(&s.ctrl, &unowned))
			return 1;
		if (unowned)
			dc_registry_repair(d, job, &s.ctrl);
		log_debug("Reusing %s for %s.", s.ctrl.name,
			  tid_format(&job->tid, buf, sizeof(buf)));
		/* Not ours to drop: whoever made it decides its lifetime. */
		s.persistent = true;
		*ret = s;
		return 0;
	}

	if (dc_excluded(d, job))
		return 1;
	if (!kernel_fabrics_available())
		return log_error_errno(ENODEV,
				       "/dev/nvme-fabrics is missing: load the nvme-fabrics module "
				       "(and nvme-tcp/nvme-rdma) first.");

	(void)config_conn_opts_resolve(d->cfg, CONFIG_ROLE_DISCOVERY, job->conf, &popts);
	conn_opts_from_config(&popts, &kopts);
	s.persistent = d->cfg->discovery.persistent_connections && !d->oneshot;
	if (!s.persistent)
		kopts.kato = 0;
	r = dc_tls_check(&job->tid, &kopts);
	if (r < 0)
		return r;

	r = kernel_connect(&job->tid, &kopts, true, err, name);
	if (r == -EALREADY) {
		/*
		 * Another run connected it in the meantime: use that one. What
		 * the scans know about controller kinds missed it (kernel.h):
		 * read every controller's kind afresh.
		 */
		kernel_ctrls_forget();
		r = dc_find_existing(&job->tid, &s.ctrl);
		if (r > 0 && dc_not_ours(&s.ctrl))
			return 1;
		if (r > 0) {
			s.persistent = true;
			*ret = s;
			return 0;
		}
		r = -EALREADY;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to connect to discovery controller %s: %s",
				       tid_format(&job->tid, buf, sizeof(buf)),
				       kernel_error_message(err, r));

	/* Right after the connect: the stamp is newer than the controller's add event. */
	r = registry_register(registry_root(), name, REGISTRY_OWNER_STAS, NULL);
	if (r < 0)
		log_warning_errno(r, "Failed to register %s as stas's in %s, ignoring: %m", name,
				  REGISTRY_DIR);
	r = kernel_ctrl_read(name, &s.ctrl);
	if (r < 0)
		return log_error_errno(r, "Connected %s but cannot read it back: %m", name);
	s.connected_here = true;
	log_info("Connected discovery controller %s as %s%s.",
		 tid_format(&job->tid, buf, sizeof(buf)), name,
		 s.persistent ? " (persistent)" : "");
	*ret = s;
	return 0;
}

/* TP8010: a DDC or CDC wants the host registered, once per connection (association). */
static void dc_dim_register(struct discover *d, const struct dc_job *job, struct dc_session *s)
{
	struct kernel_error err;
	struct cache_dc rec;
	uint32_t result = 0;
	int r;

	/*
	 * Registered when this connection was made - unless the kernel
	 * reconnected it since (NVME_EVENT=rediscover: the DC has forgotten
	 * the host, stas-discover runs with --register).
	 */
	if (cache_dc_get(d->cache, &job->tid, &rec) <= 0)
		rec.device[0] = '\0';
	if (!dim_register_wanted(s->ctrl.dctype, s->connected_here, d->dim_register, rec.device,
				 s->ctrl.name))
		return;
	r = kernel_dim_register(s->ctrl.name, true, d->cfg->host.symname, &err, &result);
	if (r < 0)
		log_notice_errno(r, "DIM registration with %s refused (%s), ignoring.",
				 s->ctrl.name, kernel_error_message(&err, r));
	else
		log_info("Registered with %s %s (DIM).", s->ctrl.dctype, s->ctrl.name);
}

int dc_session_read(struct discover *d, const struct dc_job *job, struct dc_session *s,
		    struct kernel_error *err)
{
	bool pleo;
	int r;

	dc_dim_register(d, job, s);

	pleo = d->cfg->discovery.pleo && kernel_discovery_supports_pleo(s->ctrl.name) > 0;
	r = kernel_get_discovery_log(s->ctrl.name, pleo, err, &s->log);
	if (r < 0) {
		struct kctrl now;

		/* A persistent connection whose target went away sits in "connecting". */
		if (kernel_ctrl_read(s->ctrl.name, &now) >= 0 && !streq(now.state, "live"))
			return log_error_errno(
				EHOSTUNREACH,
				"Discovery controller %s is not reachable (%s is %s).",
				tid_format(&job->tid, (char[TID_FORMAT_MAX]){}, TID_FORMAT_MAX),
				now.name, now.state);
		return log_error_errno(r, "Failed to read the discovery log page of %s: %s",
				       s->ctrl.name, kernel_error_message(err, r));
	}
	return 0;
}

void dc_session_close(struct discover *d, struct dc_session *s)
{
	int r;

	free(s->log);
	s->log = NULL;
	if (s->connected_here && !s->persistent) {
		r = registry_unregister(registry_root(), s->ctrl.name, REGISTRY_OWNER_STAS);
		if (r < 0) {
			log_warning_errno(
				r, "Not disconnecting %s: its registry entry %s: %m", s->ctrl.name,
				r == -EPERM ? "names another owner now" : "cannot be updated");
			return;
		}
		r = kernel_disconnect(s->ctrl.name);
		if (r < 0 && r != -ENOENT)
			log_warning_errno(r, "Failed to disconnect %s, ignoring: %m", s->ctrl.name);
	}
}
