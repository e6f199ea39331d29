/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostid.h - host identity: the host NQN and host ID, read from and written
 * to the same files nvme-cli, libnvme and nvme-stas use (/etc/nvme/hostnqn,
 * /etc/nvme/hostid), validated, and generated the same way they do:
 *   hostnqn: "nqn.2014-08.org.nvmexpress:uuid:<uuid>" where <uuid> is the
 *            DMI product UUID when the platform has a usable one
 *            (/sys/class/dmi/id/product_uuid), otherwise a random v4 UUID;
 *   hostid:  the UUID inside the host NQN when it has one, else random v4.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define HOSTNQN_PATH "/etc/nvme/hostnqn"
#define HOSTID_PATH "/etc/nvme/hostid"
#define UUID_STR_LEN 36

/** hostnqn_is_valid() - "nqn." prefix, <= 223 bytes, printable, no spaces. */
bool hostnqn_is_valid(const char *nqn);

/** uuid_is_valid() - 8-4-4-4-12 hex digits (either case). */
bool uuid_is_valid(const char *s);

/**
 * hostid_read_file() - read the first line of @path (trailing whitespace
 * stripped) into *ret (newly allocated).
 * Return: 0, -ENOENT when missing, -ENODATA when empty, other -errno.
 */
int hostid_read_file(const char *path, char **ret);

/**
 * hostnqn_generate() / hostid_generate() - a new value as described above.
 * @hostnqn (may be NULL) is the NQN to derive the host ID from.
 * Return: 0 and a newly allocated *ret, or negative errno.
 */
int hostnqn_generate(char **ret);
int hostid_generate(const char *hostnqn, char **ret);

/**
 * hostnqn_generate_from() - hostnqn_generate() reading the DMI product UUID
 * from @dmi_path instead of /sys/class/dmi/id/product_uuid (NULL: none), so
 * tests can offer one. A missing, unreadable, malformed or placeholder UUID
 * (all zeros, all 'f', 03000200-0400-0500-0006-000700080009) is ignored and
 * a random v4 UUID used instead. UUIDs are written lower-case.
 * Return: 0 and a newly allocated *ret, or negative errno.
 */
int hostnqn_generate_from(const char *dmi_path, char **ret);

/**
 * hostid_write_file() - atomically write @value + "\n" to @path (mode 0644,
 * creating the parent directory). Refuses with -EEXIST when the file exists
 * and is non-empty, unless @force.
 */
int hostid_write_file(const char *path, const char *value, bool force);
