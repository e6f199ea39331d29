/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exclusions.h - nvme-cli 3's host-wide exclusion list, read with nvme-cli's
 * semantics (libnvme/design/EXCLUSIONS.md in linux-nvme/nvme-cli): the
 * administrator's "no orchestrator may auto-connect this" switch.
 *
 * Files: @root/etc/nvme/exclusions.conf, then every
 * @root/etc/nvme/exclusions.conf.d/<name>.conf (<name> not empty), in
 * alphabetical order. Each is INI:
 *
 *	# comment
 *	[exclusions]
 *	exclusion = transport=tcp;traddr=192.0.2.10;trsvcid=4420;nqn=nqn.x:vol1
 *	exclusion = host-iface=eth3
 *
 * Lines are trimmed; blank lines and lines starting with '#' are comments. A
 * "[name]" header (text after ']' ignored) opens a section; only
 * "exclusion = ..." lines inside [exclusions] count; other keys and other
 * sections are ignored (reserved for future use); an unterminated header
 * ("[exclusions") leaves every section, so the entries after it are ignored
 * (the fail-safe direction). An entry is a ';'-separated list of key=value
 * fields with nvme connect's option names: transport, traddr, trsvcid, nqn,
 * host-traddr, host-iface, hostnqn, hostid. Keys and values are trimmed;
 * empty fields (";;") are skipped; a repeated key keeps its last value.
 *
 * Matching: a connection is excluded when it matches any entry of any file.
 * Only the fields present in an entry are compared; a field the connection
 * has no value for does not match; an entry with an unknown key, a field
 * without '=' or with an empty value, or no field at all matches nothing.
 * An entry with transport tcp or rdma whose traddr/host-traddr is not a
 * numeric IP address, or with transport fc whose address is not
 * "nn-0x<hex>:pn-0x<hex>" (a ',' is taken for ':'), is invalid and matches
 * nothing. Addresses compare by value (inet_pton: IPv6 spellings, an IPv6
 * scope ignored, an IPv4 address equal to its ::ffff: mapped form) or
 * byte-exact; when the connection's transport is fc, case-insensitively.
 * The other fields compare byte-exact (as nvme-cli does: "TCP" is not
 * "tcp").
 *
 * The files are re-read on every call (an edit takes effect on the next
 * decision). A file that cannot be read (missing, unreadable, not a regular
 * file, larger than EXCLUSIONS_FILE_MAX) is skipped and the decision fails
 * open: not excluded. Malformed lines are skipped with a debug-level reason.
 * Lines longer than EXCLUSIONS_LINE_MAX bytes or containing a NUL byte are
 * malformed (nvme-cli would cut them into 4 KiB pieces and read each).
 */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include "macro.h"
#include "tid.h"

#define EXCLUSIONS_CONF "/etc/nvme/exclusions.conf"
#define EXCLUSIONS_CONF_D "/etc/nvme/exclusions.conf.d"
#define EXCLUSIONS_FILE_MAX (1024 * 1024)
#define EXCLUSIONS_LINE_MAX 4095

/* The connection asked about: its TID plus the host ID, which struct tid lacks. */
struct exclusions_target {
	const struct tid *tid; /* canonical (tid_canonicalize()); "" = no value */
	const char *hostid; /* NULL or "" = no value */
};

/* Where the matching entry is, for "excluded by /etc/nvme/exclusions.conf:3". */
struct exclusions_match {
	char path[PATH_MAX]; /* as opened, including @root */
	unsigned line; /* 1-based */
	char entry[EXCLUSIONS_LINE_MAX + 1]; /* the entry's value, trimmed */
};

/**
 * exclusions_match() - whether the administrator excluded @target.
 * @root: the directory standing for "/" (NULL or "/" for the real one).
 * @target: the connection; @target->tid must not be NULL.
 * @ret_match: optional; filled with the first matching entry's file, line
 * and text (files in the order above, lines in file order).
 *
 * Never fails: what cannot be read or parsed is skipped (fail open) with a
 * debug message.
 *
 * Return: 1 when excluded (*ret_match filled), 0 when not (*ret_match
 * untouched).
 */
int exclusions_match(const char *root, const struct exclusions_target *target,
		     struct exclusions_match *ret_match);

/**
 * exclusions_problem_fn - called by exclusions_check() for each line or file
 * that counts for nothing: @path as opened, @line 1-based (0 for the whole
 * file), @reason a short human-readable text (valid during the call).
 */
typedef void (*exclusions_problem_fn)(const char *path, unsigned line, const char *reason,
				      void *userdata);

/**
 * exclusions_check() - read every list as exclusions_match() does and report
 * what it skips: unreadable files, malformed lines and section headers, keys
 * other than "exclusion" outside other sections, entries outside
 * [exclusions], and entries that match nothing (unknown key, empty value,
 * no field, an address not valid for the entry's transport). Content of other
 * sections is not reported (reserved for future use). For "stasadm status"
 * and "config check": the admin learns why an entry has no effect.
 *
 * Return: the number of problems reported (0: every line counts), or
 * -ENOMEM.
 */
int exclusions_check(const char *root, exclusions_problem_fn fn, void *userdata);

/**
 * exclusions_match_text() - exclusions_match() for one list already in
 * memory: @size bytes of @text (NUL bytes allowed; they make their line
 * malformed), reported under @name. For tests, fuzzing and checking a list
 * before installing it.
 *
 * Return: 1 when excluded (*ret_match filled), 0 when not.
 */
int exclusions_match_text(const char *name, const char *text, size_t size,
			  const struct exclusions_target *target,
			  struct exclusions_match *ret_match);

/**
 * exclusions_entry_matches() - match one entry value ("transport=tcp;...")
 * against @target, by the rules above.
 *
 * Return: 1 match, 0 no match, -EINVAL when the entry is invalid (matches
 * nothing; *ret_reason, when given, points to a static text saying why).
 */
int exclusions_entry_matches(const char *entry, const struct exclusions_target *target,
			     const char **ret_reason);

/**
 * exclusions_address_equal() - the address comparison of entry value @a and
 * connection value @b for a connection of @transport: case-insensitive for
 * "fc"; otherwise equal numeric IP addresses (IPv4, IPv6 with an optional
 * "%scope", which is ignored; an IPv4 address equals its IPv4-mapped IPv6
 * form) or byte-equal strings.
 */
bool exclusions_address_equal(const char *a, const char *b, const char *transport);

/*
 * A snapshot of every list, read once: a run that decides about many
 * connections (one reconcile, one page's referrals) reads the files once
 * and matches each connection against what it read, with the same rules
 * and the same fail-open handling as exclusions_match(). Take a new one
 * for each run: an edit takes effect on the next run.
 */
struct exclusions;

/**
 * exclusions_load() - read @root's lists now (see exclusions_match() for
 * which files and how unreadable ones count).
 * Return: 0 and *ret (free with exclusions_free()), or -ENOMEM.
 */
int exclusions_load(const char *root, struct exclusions **ret);

/**
 * exclusions_loaded_match() - exclusions_match() against the snapshot @x.
 * @x NULL matches nothing.
 * Return: 1 when excluded (*ret_match filled), 0 when not.
 */
int exclusions_loaded_match(const struct exclusions *x, const struct exclusions_target *target,
			    struct exclusions_match *ret_match);

/** exclusions_loaded_count() - how many files the snapshot holds. */
size_t exclusions_loaded_count(const struct exclusions *x);

/** exclusions_free() - accepts NULL. Return: NULL. */
struct exclusions *exclusions_free(struct exclusions *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct exclusions *, exclusions_free)
#define _cleanup_exclusions_ _cleanup_(exclusions_freep)
