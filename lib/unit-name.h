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
 *   stas-connect@<nqn>.service     - plain escaping of the subsystem NQN;
 *   stas-discover@<dc>.service     - either a kernel controller name
 *     ("nvme3"), or the path-escaped short form of a DC's TID:
 *     "tcp/192.168.1.10/8009[/host-iface=eth0][/host-traddr=..][/nqn=..]"
 *     or, when the resulting unit name would exceed 255 bytes, "key-<hex>"
 *     where <hex> is a stable hash of the tid_key(); the cache stores the
 *     key so the instance can be resolved back.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "tid.h"

#define UNIT_NAME_MAX 255

/**
 * unit_name_escape() - systemd plain escaping of @s.
 * Return: a newly allocated string, NULL on OOM.
 */
char *unit_name_escape(const char *s);

/**
 * unit_name_path_escape() - systemd path escaping (systemd-escape --path).
 * Return: a newly allocated string, NULL on OOM or for a path that
 * systemd refuses ("..", a component that is "." or "..").
 */
char *unit_name_path_escape(const char *path);

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
 * ("stas-connect", escaped-nqn, ".service"). Return: a newly allocated
 * string, NULL on OOM; -ENAMETOOLONG is reported via errno (NULL returned)
 * when the name exceeds UNIT_NAME_MAX.
 */
char *unit_name_build(const char *prefix, const char *instance, const char *suffix);

/**
 * unit_name_is_valid_instance() - whether @s only has characters systemd
 * allows in an instance ([A-Za-z0-9:_.\\-@]) and is non-empty.
 */
bool unit_name_is_valid_instance(const char *s);

/**
 * dc_instance_format() - the stas-discover@ instance for a discovery
 * controller @dc (canonical TID). Sets *ret_is_key when the long-ID fallback
 * "key-<hex>" was used.
 * Return: 0 and newly allocated *ret, or negative errno.
 */
int dc_instance_format(const struct tid *dc, char **ret, bool *ret_is_key);

/**
 * dc_instance_parse() - parse a stas-discover@ instance (already unescaped
 * form is NOT expected: pass the instance exactly as systemd gives it in %i).
 * Fills @ret for the TID form; for "nvmeN" sets *ret_ctrl (newly allocated
 * "nvmeN") and leaves @ret zeroed; for "key-<hex>" sets *ret_key (newly
 * allocated) for the caller to resolve through the cache.
 * Return: 0, or -EINVAL for an invalid instance.
 */
int dc_instance_parse(const char *instance, struct tid *ret, char **ret_ctrl, char **ret_key);
