/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile.h - make the kernel's I/O controller paths of one subsystem NQN
 * match what the cache and the configuration want. All of stas's connect
 * policy lives here, once: stas-connect@<nqn> calls it, and so does
 * stas-discover when it runs without systemd.
 *
 * Three steps, each usable on its own:
 *
 *  1. Gathering (reconcile_wants_gather(), reconcile_records_gather(), and
 *     kernel_ctrls_scan() from kernel.h): the paths the cache's Discovery
 *     Log Page entries and the configured I/O controllers name for the NQN,
 *     each with its resolved connection options; the path records stas
 *     keeps; the kernel's controllers of that NQN.
 *
 *  2. Planning (reconcile_plan_build()): a pure function of those inputs
 *     and a policy, no I/O. It filters (exclude, ip-family, ignore-iface,
 *     TLS, NCC), dedupes, and decides per path: connect, keep, disconnect,
 *     skip (with a reason), or forget (drop a record of a path that is gone
 *     and no longer wanted). It also says which path records must be
 *     written, so that a run where nothing changed writes nothing.
 *
 *  3. Executing (reconcile_plan_execute(), or reconcile_nqns() for many
 *     plans at once): connects first (make before break), then disconnects.
 *     Before the first connect every connect's path is recorded as
 *     owner=stas, state=connecting, in one commit, so a process killed
 *     mid-batch leaves every controller it made recognised as its own;
 *     after the kernel calls one more commit records every outcome:
 *     connected (with the device) or failed (attempts, last error). Two
 *     durable commits per batch, not two per connect. SIGTERM/SIGINT/SIGHUP
 *     are blocked during the execution and looked for before each connect:
 *     a stop request ends the batch early with its outcomes recorded.
 *
 * reconcile_nqn() does all three under a per-NQN lock (a one-byte OFD
 * write lock, at an offset derived from a hash of the NQN, on the one lock
 * file "connect.lock" in $RUNTIME_DIRECTORY, /run/stas or the cache
 * directory), so instances for the same NQN run one after the other and
 * different NQNs in parallel. reconcile_nqns() does the same for many NQNs
 * as one batch: their locks (one open, one fcntl per NQN), one scan of the
 * kernel's controllers, one execution (the boot path's --all).
 *
 * Ownership: a controller is stas's when its path record says owner=stas
 * or nvme-cli's registry (registry.h, /run/nvme/registry) says owner stas.
 * A live controller of a wanted path without either is recorded as
 * owner=other. Which stale controllers are disconnected follows
 * io.disconnect-scope: only-stas-connections (default), all-connections-
 * matching-disconnect-trtypes, or no-disconnect - but a controller the
 * registry gives to another orchestrator is never disconnected. Discovery
 * controllers and PCIe controllers are never touched.
 *
 * Registry: every controller stas connects is registered owner "stas"
 * right after the connect; stas's entry is removed just before it
 * disconnects. A kept controller that the cache says stas made but that
 * has no registry entry (a /run wiped, an entry removed by hand) is
 * registered again, and one the registry gives to someone else is
 * recorded owner=other: after a reconcile the two agree.
 *
 * Exclusions: every wanted path is checked against the host's exclusion
 * list (/etc/nvme/exclusions.conf and exclusions.conf.d/<name>.conf), read once
 * per reconcile_nqn() run or reconcile_nqns() batch, besides stas's own
 * io.exclude rules.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "conf.h"
#include "exclusions.h"
#include "kernel.h"
#include "tid.h"

enum reconcile_action {
	RECONCILE_CONNECT, /* wanted, not present: connect it */
	RECONCILE_KEEP, /* wanted and present */
	RECONCILE_DISCONNECT, /* present, not wanted, disconnect policy allows */
	RECONCILE_SKIP, /* left alone; see the reason */
	RECONCILE_FORGET, /* no controller, not wanted: drop the path record */
	_RECONCILE_ACTION_MAX,
};

/* Where a wanted path comes from (a bit mask). */
enum {
	RECONCILE_SOURCE_DLP = 1 << 0, /* a Discovery Log Page entry in the cache */
	RECONCILE_SOURCE_CONFIG = 1 << 1, /* an io.controllers entry */
};

#define RECONCILE_SOURCE_MAX 383
#define RECONCILE_REASON_MAX 191

/*
 * One wanted path, as gathering produces it (or a test writes it).
 * @tid:          canonical; the host NQN is set (the kernel always reports one).
 * @opts:         resolved connection options; its strings point into the
 *                stas_config the path was gathered with.
 * @ncc:          the DLP entry has DLPE_EFLAG_NCC.
 * @tls_required: the DLP entry's treq says secure channel "required".
 * @sources:      RECONCILE_SOURCE_* bits.
 * @source:       where it comes from, for messages ("dc tcp/10.0.0.1/8009",
 *                "/etc/stas/stas.conf:12").
 */
struct reconcile_want {
	struct tid tid;
	struct kconn_opts opts;
	bool ncc;
	bool tls_required;
	unsigned sources;
	char source[RECONCILE_SOURCE_MAX + 1];
};

/*
 * The policy the planner applies. Fill it with reconcile_policy_from_config().
 * @cfg:             exclude rules (io role); NULL: none.
 * @ip_family:       CONFIG_IP_FAMILY_* paths to keep.
 * @ignore_iface:    drop host-iface from every wanted path.
 * @tls_supported:   > 0 when /dev/nvme-fabrics offers "tls".
 * @tlshd_running:   > 0 when tlshd (ktls-utils) runs (kernel_tlshd_running()).
 *                   A path whose target requires TLS is connected with "tls"
 *                   (PSK from the kernel's .nvme keyring) when both are > 0,
 *                   else skipped with the reason; an entry where TLS is
 *                   optional ("not required") is connected without TLS.
 * @exclusions:      the host's exclusion list (exclusions.h), read once for
 *                   the run; NULL: none. A wanted path it matches is not
 *                   wanted ("excluded by FILE:LINE").
 * @ifaddrs:         the host's interface addresses (kernel_iface_addrs()),
 *                   for matching a wanted host-iface against a controller's
 *                   src_addr (kctrl_path_matches()); NULL/0: none known.
 *
 * Ownership (issue 14): the kernel controllers passed to the planner carry
 * their registry owner (struct kctrl's owner/owner_unreadable). A
 * controller owned by another orchestrator (or whose entry cannot be read)
 * is never disconnected, whatever the disconnect scope; one owned by "stas"
 * counts as stas's even without a cache record.
 */
struct reconcile_policy {
	const struct stas_config *cfg;
	enum config_disconnect_scope disconnect_scope;
	unsigned disconnect_trtypes; /* CONFIG_TRTYPE_* */
	unsigned connect_attempts_on_ncc; /* 0: never stop */
	unsigned ip_family;
	bool ignore_iface;
	int tls_supported;
	int tlshd_running;
	const struct exclusions *exclusions;
	const struct kernel_ifaddr *ifaddrs;
	size_t n_ifaddrs;
};

/*
 * One decision of a plan. @tid is the path (for a stale controller, the
 * controller's own TID).
 */
struct reconcile_item {
	enum reconcile_action action;
	struct tid tid;
	struct kconn_opts opts; /* CONNECT */
	char ctrl[KCTRL_NAME_MAX + 1]; /* the kernel controller ("nvme3"), "" none */
	/* SKIP, DISCONNECT, FORGET; KEEP "served by nvmeN" when matched through src_addr;
	 * CONNECT "NCC cleared"; "" otherwise */
	char reason[RECONCILE_REASON_MAX + 1];
	bool wanted; /* a wanted path (CONNECT, KEEP, or held back by NCC/TLS) */
	bool ncc;
	unsigned sources;
	char source[RECONCILE_SOURCE_MAX + 1];
	bool have_record;
	struct cache_path record; /* the stored record, when have_record */
	bool record_put; /* store new_record (KEEP, SKIP) */
	bool record_remove; /* remove the stored record (SKIP) */
	bool registry_put; /* KEEP: register @ctrl as stas's (the cache says stas made it) */
	bool excluded; /* SKIP (or stale): the host's exclusion list matched; see reason */
	struct cache_path new_record; /* CONNECT: the intent record (attempts so far) */
	/* filled by reconcile_plan_execute() */
	bool done; /* the action was carried out (or there was nothing to do) */
	int error; /* 0, or the negative errno of the failed kernel call/write */
	char error_text[CACHE_ERRMSG_MAX + 1];
};

struct reconcile_plan {
	char nqn[TID_NQN_MAX + 1];
	struct reconcile_item *items;
	size_t n_items;
	unsigned n[_RECONCILE_ACTION_MAX]; /* items per action */
	unsigned n_record_writes; /* cache writes the plan needs (puts + removes) */
	/* filled by reconcile_plan_execute() */
	unsigned n_kernel_calls; /* connects + disconnects issued */
	unsigned n_cache_writes;
	unsigned n_failed; /* connects and disconnects that failed */
	unsigned n_registry_writes; /* registry entries written or removed */
	unsigned n_registry_failed; /* registry writes that failed (the controller still counts) */
};

/** reconcile_action_to_string() - "connect", "keep", "disconnect", "skip", "forget". */
const char *reconcile_action_to_string(enum reconcile_action a);

/**
 * reconcile_policy_from_config() - the policy @cfg configures (NULL: the
 * defaults): io.disconnect-scope, io.disconnect-trtypes,
 * io.connect-attempts-on-ncc, and ip-family / ignore-iface as resolved for
 * the io role. tls_supported is left 0; reconcile_nqn() asks the kernel
 * only when a path needs it.
 */
void reconcile_policy_from_config(const struct stas_config *cfg, struct reconcile_policy *ret);

/**
 * reconcile_wants_gather() - the wanted paths of subsystem @nqn: every I/O
 * entry listing it in every DC's page in @c (the path inherits the DC's
 * host-traddr, host-iface and host NQN; an empty host NQN becomes the
 * configured one), plus every io.controllers entry of @cfg with that NQN.
 * Options come from config_conn_opts_resolve() with the configured
 * controller that matches the path (tid_match()), if any; disable-sqflow is
 * also set by the entry's treq. Not filtered or deduplicated: that is the
 * planner's job. @c may be NULL (configuration only).
 *
 * Return: the count with a newly allocated array in *ret (free(); NULL when
 * 0), or negative errno. The array points into @cfg: free it first.
 */
int reconcile_wants_gather(struct cache *c, const struct stas_config *cfg, const char *nqn,
			   struct reconcile_want **ret);

/**
 * reconcile_records_gather() - the path records of @nqn in @c.
 * Return: the count with a newly allocated array in *ret (free()), or
 * negative errno.
 */
int reconcile_records_gather(struct cache *c, const char *nqn, struct cache_path **ret);

/**
 * reconcile_plan_build() - decide, without touching anything, what to do for
 * subsystem @nqn given the wanted paths, the kernel's controllers (those of
 * other NQNs, discovery and non-fabrics controllers are ignored) and the
 * stored path records.
 *
 * Per wanted path (after ignore-iface; duplicates merged: sources OR'ed,
 * NCC only when every source says so, disable-sqflow and TLS OR'ed):
 * unwanted when it has no host NQN, is excluded (io.exclude, or the host
 * exclusion list in @policy: then its existing controller, if any, is left
 * connected), or its address family is filtered; else KEEP when a usable
 * controller serves it (tid_equal() first for every path, then
 * kctrl_path_matches() with @policy's interface addresses), SKIP when TLS
 * is required or NCC attempts are used up, else CONNECT. A page
 * that clears NCC resets the attempt count. Every controller no wanted path
 * claims is stale: DISCONNECT when the disconnect policy allows (and it is
 * not already being deleted, and the registry does not give it to another
 * orchestrator), else SKIP with the reason. Records no item
 * claims are FORGET items.
 *
 * Return: 0 and *ret (free with reconcile_plan_free()), -EINVAL, -ENOMEM.
 */
int reconcile_plan_build(const char *nqn, const struct reconcile_want *wants, size_t n_wants,
			 const struct kctrl *ctrls, size_t n_ctrls,
			 const struct cache_path *records, size_t n_records,
			 const struct reconcile_policy *policy, struct reconcile_plan **ret);

/** reconcile_plan_free() - accepts NULL. Return: NULL. */
struct reconcile_plan *reconcile_plan_free(struct reconcile_plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct reconcile_plan *, reconcile_plan_free)
#define _cleanup_reconcile_plan_ _cleanup_(reconcile_plan_freep)

/**
 * reconcile_plan_execute() - carry out @p: CONNECT items first, then
 * DISCONNECT items, then record writes and FORGET items, updating each
 * item's done/error/ctrl and the plan's counters. A connect that finds
 * the path already there (-EALREADY) counts as present. @c must be
 * writable (nothing is written when the plan needs no write).
 *
 * The intent records of every connect are committed together before the
 * first connect; every outcome and record change together at the end.
 *
 * Return: the number of failed connects/disconnects (0: every wanted path
 * is present), or a negative errno when a cache write failed (no connect is
 * made without its intent record).
 */
int reconcile_plan_execute(struct reconcile_plan *p, struct cache *c);

/* The lock file of reconcile_lock(), in the first directory that can hold it. */
#define RECONCILE_LOCK_FILE "connect.lock"

/**
 * reconcile_lock_offset() - the byte of RECONCILE_LOCK_FILE that stands for
 * @nqn: the first 62 bits of its SHA-256. Two NQNs that share an offset
 * share a lock: their runs wait for each other, which is safe (a collision
 * costs parallelism, never correctness, and is astronomically rare).
 */
uint64_t reconcile_lock_offset(const char *nqn);

/**
 * reconcile_lock_many() - take the per-NQN locks of the @n NQNs in @nqns
 * (blocking): one open of RECONCILE_LOCK_FILE in the first of
 * $RUNTIME_DIRECTORY, /run/stas (created when missing) or @fallback_dir,
 * then an exclusive one-byte OFD lock (fcntl F_OFD_SETLKW) at each NQN's
 * reconcile_lock_offset(), in ascending offset order and each offset once,
 * so concurrent takers cannot deadlock. The locks belong to the open file:
 * they are released when the fd is closed, or by the kernel when the
 * process dies, like flock(2) locks.
 *
 * Return: 0 and the fd holding every lock in *ret_fd (close it to unlock),
 * negative errno (*ret_fd untouched, no lock held).
 */
int reconcile_lock_many(const char *const *nqns, size_t n, const char *fallback_dir, int *ret_fd);

/**
 * reconcile_lock() - reconcile_lock_many() for one NQN.
 * Return: 0 and the lock's fd in *ret_fd (close it to unlock), negative errno.
 */
int reconcile_lock(const char *nqn, const char *fallback_dir, int *ret_fd);

/**
 * reconcile_ctrls_fill_owner() - set each fabrics controller's owner and
 * owner_unreadable in @v from the registry (registry_root()).
 */
void reconcile_ctrls_fill_owner(struct kctrl *v, size_t n);

/**
 * reconcile_nqn() - gather, plan and (unless @dry_run) execute for @nqn,
 * all of it under the per-NQN lock (a dry run takes no lock). @c may be read-only when
 * @dry_run. The plan, with results, goes to *ret_plan.
 *
 * Return: as reconcile_plan_execute() (0 for a dry run); on a gathering or
 * locking failure a negative errno and *ret_plan untouched.
 */
int reconcile_nqn(struct cache *c, const struct stas_config *cfg, const char *nqn, bool dry_run,
		  struct reconcile_plan **ret_plan);

/* NQNs per batch of reconcile_nqns(): each holds its lock fd during the batch. */
#define RECONCILE_BATCH_MAX 64

/*
 * One subsystem of reconcile_nqns(): the caller sets @nqn (not NULL); the
 * call sets @plan (free with reconcile_plan_free(); NULL when gathering or
 * locking failed) and @r, as reconcile_nqn() returns: the failed kernel
 * calls, or a negative errno (-EEXIST for a second copy of an NQN).
 */
struct reconcile_result {
	const char *nqn;
	struct reconcile_plan *plan;
	int r;
};

/**
 * reconcile_nqns() - reconcile_nqn() for each of the @n subsystems of @v,
 * in batches of up to RECONCILE_BATCH_MAX NQNs (in NQN order, so
 * concurrent batches take their locks in one order): the batch's per-NQN
 * locks, one scan of the kernel's I/O controllers, one plan per NQN, one
 * execution of all of them (two cache commits, see reconcile_plan_execute()).
 * @c may be read-only when @dry_run.
 * Return: 0 (the outcome of each NQN is in @v), -ENOMEM.
 */
int reconcile_nqns(struct cache *c, const struct stas_config *cfg, struct reconcile_result *v,
		   size_t n, bool dry_run);

/**
 * reconcile_nqns_all() - every NQN to reconcile for --all, sorted and
 * unique: those the cache lists in any DC's page, those of configured I/O
 * controllers, and those with stas-owned path records (so a subsystem that
 * vanished from every page still gets its stas paths disconnected).
 * @c may be NULL.
 * Return: the count with a NULL-terminated strv in *ret, or negative errno.
 */
int reconcile_nqns_all(struct cache *c, const struct stas_config *cfg, char ***ret);
