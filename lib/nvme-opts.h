/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvme-opts.h - nvme-cli's fabrics options, mapped once onto stas.
 *
 * nvme discover / connect / connect-all (nvme-cli 2.3's fabrics.c, and the
 * lines of /etc/nvme/discovery.conf, which connect-all parses with the same
 * options) name a controller and its connection with long options and
 * single letters: -t/--transport, -a/--traddr, -k/--keep-alive-tmo... stas
 * accepts the same spellings on its command lines (stas-discover, stasadm
 * ls/show/paths/purge) and translates them in `stasadm config import`. This
 * table is the one place that says which letter is which option, and which
 * transport-ID field or stas.conf key each one becomes; nvme-stas's INI
 * controller keys are stas.conf's own and are looked up here by key.
 *
 * Letters follow nvme-cli 2.3 except where its own letters collide: -S is
 * --dhchap-secret there and also discover's --quiet (here --quiet has no
 * letter); -d is --disable-sqflow in its common options and connect-all's
 * --device (here -d is --device, as stas has always read it; what -d meant
 * in a discovery.conf line is for the importer to settle). Options a later
 * nvme-cli added (tls, keyring, tls-key, concat) have long names only.
 */
#pragma once

#include <stdbool.h>

#include "tid.h"

enum nvme_opt_type {
	NVME_OPT_STRING,
	NVME_OPT_INT,
	NVME_OPT_BOOL,
	NVME_OPT_SECRET, /* a string never echoed */
	_NVME_OPT_TYPE_MAX,
};

/**
 * struct nvme_opt - one nvme-cli option.
 * @name:    the long option, without "--".
 * @letter:  the short option, 0 when it has none.
 * @flag:    takes no value (a switch).
 * @field:   the transport-ID field it sets (enum tid_field), or -1.
 * @key:     the stas.conf controller key it becomes, NULL when stas has none.
 * @type:    how its value is read.
 * @io_only: an option of I/O controllers only (nvme-cli applies it to the
 *           controllers a discovery controller leads to, stas.conf does not
 *           take it on a discovery controller).
 * @why:     when @key is NULL: why stas does not take it, for messages.
 */
struct nvme_opt {
	const char *name;
	char letter;
	bool flag;
	int field;
	const char *key;
	enum nvme_opt_type type;
	bool io_only;
	const char *why;
};

/* getopt spellings of the seven transport-ID options, for programs that take them. */
#define NVME_OPTS_TID_SHORT "t:a:s:w:f:n:q:"
#define NVME_OPTS_TID_LONG                                                                         \
	{ "transport", required_argument, NULL, 't' }, { "traddr", required_argument, NULL, 'a' }, \
		{ "trsvcid", required_argument, NULL, 's' },                                       \
		{ "host-traddr", required_argument, NULL, 'w' },                                   \
		{ "host-iface", required_argument, NULL, 'f' },                                    \
		{ "nqn", required_argument, NULL, 'n' },                                           \
	{                                                                                          \
		"hostnqn", required_argument, NULL, 'q'                                            \
	}

/** nvme_opt_from_name() - the option whose long name is @name, or NULL. */
const struct nvme_opt *nvme_opt_from_name(const char *name);

/** nvme_opt_from_letter() - the option whose short letter is @letter, or NULL. */
const struct nvme_opt *nvme_opt_from_letter(int letter);

/**
 * nvme_opt_from_key() - the option that becomes stas.conf key @key (e.g.
 * "kato" for --keep-alive-tmo), or NULL.
 */
const struct nvme_opt *nvme_opt_from_key(const char *key);

/**
 * nvme_opt_tid_set() - when @letter is a transport-ID option, set that
 * field of @t from @value with tid_field_set() (not canonicalised).
 *
 * Return: 1 when set; 0 when @letter is no transport-ID option (@t
 * untouched); -EINVAL or -ENAMETOOLONG for a bad value (@t untouched).
 */
int nvme_opt_tid_set(struct tid *t, int letter, const char *value);
