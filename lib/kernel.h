/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kernel.h - the kernel's NVMe-oF controllers: what is there, connect,
 * disconnect, read a Discovery Log Page, DIM registration.
 *
 * Scans read /sys/class/nvme directly: a handful of small attribute files
 * per controller, filtered by subsystem NQN before anything else is read,
 * so stas-connect@<nqn> touches only its own subsystem's controllers. The
 * sysfs root can be moved with $STAS_SYSFS_ROOT (tests use a fake tree).
 *
 * Connecting writes the options to /dev/nvme-fabrics directly (the device is
 * the kernel's interface; libnvme's connect adds sysfs walks stas does not
 * need). Get Log Page and DIM go through libnvme (one nvme_root_t per
 * process, created on first use, its messages routed to log.h). libnvme's
 * -1/errno convention and its ENVME_CONNECT_* codes are converted here, once,
 * into negative errno values. The precise words of a failure (the
 * kernel's answer, libnvme's ENVME_CONNECT_* text, an NVMe status) go to the
 * caller's struct kernel_error, never to a global a later call could read.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tid.h"
#include "tls-psk.h"

struct nvmf_discovery_log;

#define KCTRL_NAME_MAX 31
/* Longest registry owner name (registry.h's REGISTRY_OWNER_MAX). */
#define KCTRL_OWNER_MAX 255
/* An IPv6 address in text, with room for a scope: INET6_ADDRSTRLEN + IFNAMSIZ. */
#define KCTRL_SRC_ADDR_MAX 63

/* The words for one failed call, filled by the call that failed. */
struct kernel_error {
	char text[256]; /* "" when the errno alone says it */
};

/**
 * kernel_error_message() - @err's text when the failing call left one, else
 * strerror() of negative errno @r. @err may be NULL.
 */
const char *kernel_error_message(const struct kernel_error *err, int r);

/* One controller as sysfs shows it. tid is canonical. */
struct kctrl {
	char name[KCTRL_NAME_MAX + 1]; /* "nvme3" */
	struct tid tid;
	char state[32]; /* "live", "connecting", "resetting", "deleting", "new", "dead" */
	char hostid[40];
	char dctype[8]; /* "ddc", "cdc", "none" or "" (not reported) */
	bool discovery; /* a discovery controller */
	bool fabrics; /* false for pcie (never touched by stas) */
	int kato; /* seconds, -1 when not reported */
	/*
	 * The source address the kernel chose ("src_addr=" in the address
	 * attribute, tcp on kernel >= 6.1), canonical (inet_ntop); "" when
	 * the kernel does not report it. Not part of the path's identity:
	 * see kctrl_path_matches().
	 */
	char src_addr[KCTRL_SRC_ADDR_MAX + 1];
	/*
	 * The registry's owner of this controller (registry.h): "" when
	 * unowned or not looked up. Filled by callers that need it
	 * (reconcile, stasadm), never by the scans (no registry read per
	 * scanned controller). owner_unreadable: the entry could not be read
	 * (treat as someone else's).
	 */
	char owner[KCTRL_OWNER_MAX + 1];
	bool owner_unreadable;
};

/**
 * kctrl_is_usable() - live, or on its way to live (connecting, resetting,
 * new): a path that counts as present.
 */
bool kctrl_is_usable(const struct kctrl *c);

/**
 * kernel_ctrls_scan() - the fabrics controllers now in sysfs, those of
 * subsystem @nqn only when @nqn is non-NULL; @discovery selects discovery
 * (true) or I/O (false) controllers, or both when @any is set.
 * Return: the count, with a newly allocated array in *ret (free()); negative
 * errno on failure. A missing /sys/class/nvme is an empty list.
 */
int kernel_ctrls_scan(const char *nqn, bool any, bool discovery, struct kctrl **ret);

struct hashset;

/**
 * kernel_ctrls_scan_nqns() - the fabrics I/O controllers now in sysfs whose
 * subsystem NQN is in the set @nqns: one attribute (subsysnqn) read for each
 * controller outside the set, none for a DC the kind table knows; only the
 * members are read in full. For a batch of subsystems among many
 * controllers (an event that changed a few subsystems).
 * Return: as kernel_ctrls_scan().
 */
int kernel_ctrls_scan_nqns(const struct hashset *nqns, struct kctrl **ret);

/*
 * A scan for one kind (@nqn NULL, @any false) keeps, for the life of the
 * process, the kind of each controller it classified, keyed by name and
 * sysfs inode number (a recycled name is a new node): later scans read no
 * attribute of a controller of the other kind that they have seen before,
 * only the directory. A controller whose kind decides is always read in
 * full, so nothing but its kind is ever taken from the table.
 */

/**
 * kernel_ctrls_forget() - drop what the scans know about controller kinds:
 * the next scan classifies every controller from sysfs again. For callers
 * that know the kernel changed in a way the table could miss (the kernel
 * reports a controller the last scan did not show), and for tests.
 */
void kernel_ctrls_forget(void);

/**
 * kernel_ctrl_read() - one controller by name ("nvme3").
 * Return: 0, -ENOENT when absent, -EINVAL for a malformed name.
 */
int kernel_ctrl_read(const char *name, struct kctrl *ret);

/**
 * kernel_ctrl_attr() - read one sysfs attribute of controller @name
 * (/sys/class/nvme/@name/@attr, e.g. "model", "serial", "firmware_rev"),
 * trailing newline and blanks stripped, truncated to @size - 1 bytes.
 * For views only: the scans never read it. @attr must not contain '/'.
 * Return: 0 with @buf set ("" when the kernel does not expose it), -EINVAL
 * for a bad name, or negative errno (-ENOENT when the controller is gone).
 */
int kernel_ctrl_attr(const char *name, const char *attr, char *buf, size_t size);

/**
 * kctrl_find() - the first usable controller in @v matching @t exactly
 * (tid_equal). NULL when none.
 */
const struct kctrl *kctrl_find(const struct kctrl *v, size_t n, const struct tid *t);

/* One address of a network interface (kernel_iface_addrs()). */
struct kernel_ifaddr {
	char iface[16]; /* IFNAMSIZ */
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network byte order; IPv4 in the first 4 bytes */
};

/**
 * kernel_iface_addrs() - the host's interface addresses (IPv4 and IPv6),
 * read with getifaddrs() on the first call and kept for the life of the
 * process (a run's decisions all see one view of the interfaces).
 * Return: the count with the process-wide array in *ret (do not free), or
 * negative errno (ret untouched). A later call after a failure tries again.
 */
int kernel_iface_addrs(const struct kernel_ifaddr **ret);

/**
 * kctrl_path_matches() - whether kernel controller @k serves wanted path
 * @want (both canonical), taking the kernel's src_addr into account:
 *
 *  - the same TID (tid_equal()) always matches;
 *  - otherwise transport, traddr, trsvcid, subsystem NQN and host NQN
 *    must be equal, the transport must be tcp, and each host-side field
 *    @want sets must be met: host-traddr A by @k's host_traddr A, or,
 *    when @k has none, by its src_addr A (compared by value); host-iface X
 *    by @k's host_iface X, or, when @k has none, by a src_addr that is one
 *    of X's addresses in @ifa. A host-side field @want leaves empty accepts
 *    whatever @k has (as libnvme matches a candidate that does not ask).
 *    Without a src_addr (kernels before 6.1, other transports) only the
 *    fields @k itself was created with can meet @want's.
 *
 * @ifa/@n_ifa: the interface addresses (kernel_iface_addrs()); may be
 * NULL/0 when @want has no host_iface.
 */
bool kctrl_path_matches(const struct kctrl *k, const struct tid *want,
			const struct kernel_ifaddr *ifa, size_t n_ifa);

/**
 * kernel_parse_src_addr() - the value of "src_addr=" in a sysfs address
 * attribute (@address), canonicalised (inet_ntop, scope kept) into @buf.
 * Return: 0 and @buf set, -ENOENT when @address has no src_addr, -EINVAL
 * when its value is not an IP address, -ENOBUFS when @size is too small
 * (@buf untouched on failure).
 */
int kernel_parse_src_addr(const char *address, char *buf, size_t size);

/* Connection options, with libnvme's defaults where 0. */
struct kconn_opts {
	int kato; /* keep-alive timeout, s (0: kernel default) */
	int queue_size;
	int nr_io_queues;
	int nr_write_queues;
	int nr_poll_queues;
	int reconnect_delay;
	int ctrl_loss_tmo; /* -1: forever; 0: kernel default when ctrl_loss_tmo_set is false */
	bool ctrl_loss_tmo_set;
	bool hdr_digest;
	bool data_digest;
	bool disable_sqflow;
	const char *hostid; /* NULL: none */
	const char *dhchap_secret; /* host key, NULL: none; never logged */
	const char *dhchap_ctrl_secret; /* controller key, NULL: none; never logged */
	bool tls; /* tcp only: TLS 1.3, PSK from the kernel's .nvme keyring, tlshd handshakes */
	/*
	 * With @tls: a configured PSK (interchange format; never logged) that
	 * kernel_connect() derives and inserts into .nvme first (tls-psk.h),
	 * then names with "tls_key=" - NULL: the kernel looks up a key in
	 * .nvme by the version-0 identity itself.
	 */
	const char *tls_key;
	enum tls_psk_derivation tls_key_derivation;
	int32_t tls_key_serial; /* kernel_connect_options(): > 0 adds "tls_key=" */
};

/**
 * kernel_tlshd_running() - whether tlshd (ktls-utils), the user-space TLS
 * handshake daemon the kernel asks for NVMe/TCP TLS, is running.
 *
 * Looks for a process named "tlshd" in /proc. Without it the kernel accepts
 * a "tls" connect and then waits for a handshake that never comes.
 *
 * Return: 1 running, 0 not, negative errno when /proc cannot be read.
 */
int kernel_tlshd_running(void);

/**
 * kernel_fabrics_available() - whether /dev/nvme-fabrics exists (the
 * nvme-fabrics module is loaded).
 */
bool kernel_fabrics_available(void);

/**
 * kernel_fabrics_has_option() - whether the kernel's /dev/nvme-fabrics
 * lists connect option @opt ("dhchap_secret", "tls", "discovery", ...).
 * Capabilities are detected this way, never from kernel versions. The
 * device is read once per process (per device path); a failed read is not
 * remembered.
 * Return: 1 yes, 0 no, negative errno when the device cannot be read.
 */
int kernel_fabrics_has_option(const char *opt);

/**
 * kernel_fabrics_options() - every connect option token the kernel's
 * /dev/nvme-fabrics accepts ("transport", "host_iface", "dhchap_secret",
 * "tls", "concat", ...), in the kernel's order, read in one go.
 * Return: 0 and a strv in *ret (free with strv_free()), -ENOENT when the
 * module is not loaded, other negative errno; *ret untouched on failure.
 */
int kernel_fabrics_options(char ***ret);

/**
 * kernel_connect() - create a controller for @t. TLS is never requested
 * (libnvme 1.3 would set it from treq and the 6.1 kernel refuses it).
 * @err: when non-NULL, cleared, then given the detail of a failure.
 * Return: 0 and the new controller's name in @ret_name; -EALREADY when the
 * kernel already has this exact path; other negative errno on failure.
 */
int kernel_connect(const struct tid *t, const struct kconn_opts *o, bool discovery,
		   struct kernel_error *err, char ret_name[KCTRL_NAME_MAX + 1]);

/**
 * kernel_connect_options() - the option string kernel_connect() writes to
 * /dev/nvme-fabrics for @t and @o ("nqn=...,transport=tcp,traddr=...").
 * Return: 0; -EINVAL when a value holds ',' or a newline (the kernel would
 * split it); -E2BIG when @size is too small.
 */
int kernel_connect_options(const struct tid *t, const struct kconn_opts *o, bool discovery,
			   char *buf, size_t size);

/**
 * kernel_disconnect() - delete controller @name (fabrics only).
 * Return: 0, -ENOENT when already gone, negative errno.
 */
int kernel_disconnect(const char *name);

/* Reads of a Discovery Log Page before giving up on a page that keeps changing. */
#define KERNEL_DLP_READ_ATTEMPTS 4

/**
 * kernel_get_discovery_log() - read the whole Discovery Log Page from
 * discovery controller @name: the 1 KiB header first, refused (-EBADMSG)
 * when its numrec exceeds DLP_ENTRIES_MAX before a byte is allocated for
 * the entries (dlpe_log_header_check()), then the entries, then the header
 * again; the page is returned when genctr and numrec did not change
 * (-EAGAIN after KERNEL_DLP_READ_ATTEMPTS reads that all changed). The
 * discovery-log-change event is acknowledged afterwards.
 * @pleo: ask for port-local entries only (NVMF_LOG_DISC_LSP_PLEO).
 * @err: when non-NULL, cleared, then given the detail of a failure.
 * Return: 0 and a malloc()ed log in *ret, or negative errno.
 */
int kernel_get_discovery_log(const char *name, bool pleo, struct kernel_error *err,
			     struct nvmf_discovery_log **ret);

/**
 * kernel_discovery_supports_pleo() - whether discovery controller @name
 * reports Port Local Entries Only support (PLEOS) for the Discovery Log
 * Page in its Supported Log Pages log.
 * Return: 1 yes, 0 no (or the log is not supported), negative errno.
 */
int kernel_discovery_supports_pleo(const char *name);

/**
 * kernel_dim_register() - TP8010 explicit registration (or deregistration)
 * with the discovery controller @name, which must be a DDC or CDC.
 * @symname: the host's symbolic name sent in the registration's entry
 *           (host.symname), or NULL: none (libnvme then sends the host
 *           name it knows, if any).
 * @err: when non-NULL, cleared, then given the detail of a failure.
 * Return: 0, -EOPNOTSUPP when the controller does not support it, negative
 * errno; *ret_result gets the completion's dword 0 when non-NULL.
 */
int kernel_dim_register(const char *name, bool reg, const char *symname, struct kernel_error *err,
			uint32_t *ret_result);

/**
 * kernel_close() - release the libnvme root (before exit; optional).
 */
void kernel_close(void);
