/* SPDX-License-Identifier: Apache-2.0 */
/*
 * unit-name.h - systemd unit-name escaping, and the unit instances stas uses.
 *
 * Implements systemd's escaping rules (as systemd-escape and
 * systemd-escape --path do) so that any byte string becomes a valid unit
 * instance and can be recovered exactly:
 *   - plain escaping: '/' -> '-', a leading '.' and every byte outside
 *     [A-Za-z0-9:_.] -> "\xNN" (lower-case hex);
 *   - path escaping: the path is simplified (duplicate and trailing '/'
 *     removed, leading '/' dropped), "/" becomes "-", then as above.
 *
 * Instances stas builds:
 *   stas-connect@<nqn>.service     - plain escaping of the subsystem NQN,
 *     or, when the resulting unit name would exceed 255 bytes (a long NQN
 *     with characters that escape to "\xNN"), "key-<hex>" where <hex> is
 *     the first 16 bytes of SHA-256(NQN) in lower-case hex (32 digits).
 *     systemd hands the unit's %I (unescaped) to stas-connect as
 *     "key/<hex>"; stas-connect resolves it against the NQNs the cache and
 *     the configuration know (connect_instance_parse());
 *   stas-discover@<dc>.service     - either a kernel controller name
 *     ("nvme3"), or the path-escaped short form of a DC's TID:
 *     "tcp/192.168.1.10/8009[/host-iface=eth0][/host-traddr=..][/nqn=..]"
 *     or, when the resulting unit name would exceed 255 bytes, "key-<hex>"
 *     where <hex> is the FNV-1a 64 hash of the tid_key(); the cache stores the
 *     key so the instance can be resolved back. (FNV-1a, not the SHA-256
 *     stas uses elsewhere: these names are persisted and documented, and a
 *     new hash would rename existing units; see sha256.h.)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "tid.h"

#define UNIT_NAME_MAX 255

/* The units stas hands work to, and the suffix of each. */
#define UNIT_PREFIX_DISCOVER "stas-discover"
#define UNIT_PREFIX_CONNECT "stas-connect"
#define UNIT_SUFFIX_SERVICE ".service"

/**
 * unit_name_escape() - systemd plain escaping of @s.
 * Return: a newly allocated string, NULL on OOM.
 */
char *unit_name_escape(const char *s);

/**
 * unit_name_path_escape() - systemd path escaping (systemd-escape --path).
 * Return: 0 and a newly allocated string in *ret; -EINVAL for a path that
 * systemd refuses ("..", a component that is "." or ".."); -ENOMEM.
 */
int unit_name_path_escape(const char *path, char **ret);

/**
 * unit_name_unescape() - inverse of unit_name_escape().
 * Return: 0 and a newly allocated *ret, -EINVAL for a malformed escape,
 * -ENOMEM.
 */
int unit_name_unescape(const char *s, char **ret);

/**
 * unit_name_path_unescape() - inverse of unit_name_path_escape(): the result
 * starts with '/'. Return as unit_name_unescape().
 */
int unit_name_path_unescape(const char *s, char **ret);

/**
 * unit_name_build() - "<prefix>@<instance><suffix>", e.g.
 * (UNIT_PREFIX_CONNECT, escaped-nqn, UNIT_SUFFIX_SERVICE).
 * Return: 0 and a newly allocated name in *ret; -ENAMETOOLONG when the name
 * would exceed UNIT_NAME_MAX; -ENOMEM.
 */
int unit_name_build(const char *prefix, const char *instance, const char *suffix, char **ret);

/* "key-" and 32 lower-case hex digits, and its NUL. */
#define NQN_KEY_PREFIX "key-"
#define NQN_KEY_HEX 32
#define NQN_KEY_MAX (sizeof(NQN_KEY_PREFIX) - 1 + NQN_KEY_HEX + 1)

/**
 * nqn_key_format() - the short key of subsystem @nqn used as a
 * stas-connect@ instance when the escaped NQN does not fit a unit name:
 * "key-" and the first 16 bytes of SHA-256(@nqn) in lower-case hex. Stable
 * across hosts and releases (persisted in unit names, documented in
 * stas-connect(8)).
 */
void nqn_key_format(const char *nqn, char ret[NQN_KEY_MAX]);

/**
 * unit_name_connect() - "stas-connect@<escaped nqn>.service", the unit that
 * reconciles the connections to subsystem @nqn; "stas-connect@key-<hex>.service"
 * (nqn_key_format()) when the escaped NQN would make the name longer than
 * UNIT_NAME_MAX, so every NQN has a unit. *@ret_is_key (may be NULL) says
 * which form was used.
 * Return: 0 and a newly allocated name in *ret; -ENOMEM.
 */
int unit_name_connect(const char *nqn, char **ret, bool *ret_is_key);

/**
 * connect_instance_parse() - recognise a key instance of stas-connect@:
 * "key-<hex>" or, as systemd's %I gives it (unescaped, '-' -> '/'),
 * "key/<hex>", with exactly NQN_KEY_HEX lower-case hex digits.
 * Return: 1 and the key in its "key-<hex>" form in @ret_key; 0 when @arg is
 * not a key instance (an NQN, to be validated by the caller); @ret_key
 * untouched then.
 */
int connect_instance_parse(const char *arg, char ret_key[NQN_KEY_MAX]);

/**
 * unit_name_is_valid_instance() - whether @s only has characters systemd
 * allows in an instance ([A-Za-z0-9:_.\\-@]) and is non-empty.
 */
bool unit_name_is_valid_instance(const char *s);

/**
 * unit_name_is_valid_service() - whether @s is a service unit name made of
 * what an instance allows: a non-empty stem of those characters, then
 * ".service", at most UNIT_NAME_MAX bytes in all.
 */
bool unit_name_is_valid_service(const char *s);

/**
 * dc_instance_format() - the stas-discover@ instance for a discovery
 * controller @dc (canonical TID). Sets *ret_is_key when the long-ID fallback
 * "key-<hex>" was used.
 * Return: 0 and newly allocated *ret, or negative errno.
 */
int dc_instance_format(const struct tid *dc, char **ret, bool *ret_is_key);

/**
 * unit_name_dc_instance() - the stas-discover@ instance every stas program
 * uses for DC @dc: dc_instance_format() with the host NQN left out when it is
 * @host_nqn (the configured one, which stas-discover fills back in), so unit
 * names stay short and one DC has one name. @host_nqn may be NULL.
 * Return: as dc_instance_format().
 */
int unit_name_dc_instance(const struct tid *dc, const char *host_nqn, char **ret, bool *ret_is_key);

/**
 * unit_name_dc() - the full unit name "stas-discover@<instance>.service" of
 * DC @dc, instance as unit_name_dc_instance().
 * Return: 0 and a newly allocated name in *ret_unit (*ret_is_key set when
 * non-NULL), or negative errno.
 */
int unit_name_dc(const struct tid *dc, const char *host_nqn, char **ret_unit, bool *ret_is_key);

/**
 * dc_instance_parse() - parse a stas-discover@ instance (already unescaped
 * form is NOT expected: pass the instance exactly as systemd gives it in %i).
 * Fills @ret for the TID form; for "nvmeN" sets *ret_ctrl (newly allocated
 * "nvmeN") and leaves @ret zeroed; for "key-<hex>" sets *ret_key (newly
 * allocated) for the caller to resolve through the cache.
 * Return: 0, or -EINVAL for an invalid instance.
 */
int dc_instance_parse(const char *instance, struct tid *ret, char **ret_ctrl, char **ret_key);
