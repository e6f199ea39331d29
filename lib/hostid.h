/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostid.h - host identity: the host NQN and host ID, read from and written
 * to the same files nvme-cli, libnvme and nvme-stas use (/etc/nvme/hostnqn,
 * /etc/nvme/hostid), validated, and generated the way libnvme's
 * nvmf_hostnqn_generate() does (libnvme 1.3 to 1.16 agree on the order):
 *   hostnqn: "nqn.2014-08.org.nvmexpress:uuid:<uuid>" where <uuid> is the
 *            system UUID from the first source that has one:
 *            1. /sys/class/dmi/id/product_uuid (the kernel already put the
 *               SMBIOS byte order right), taken as it is;
 *            2. the raw SMBIOS type-1 entry under /sys/firmware/dmi/entries
 *               (bytes 8..23; the first three fields little-endian, as
 *               SMBIOS 2.6+ says, so they are swapped; an entry shorter than
 *               24 bytes or all zeros is skipped, as libnvme >= 1.4 does);
 *            3. /proc/device-tree/ibm,partition-uuid (IBM Power LPARs);
 *            4. a random v4 UUID.
 *            One deliberate difference: a value that is not a UUID, or a
 *            firmware placeholder (all zeros, all 'f',
 *            03000200-0400-0500-0006-000700080009) is never used, so hosts
 *            with such firmware do not share a host NQN; libnvme takes some
 *            of them.
 *   hostid:  the UUID inside the host NQN when it has one, else random v4
 *            (libnvme >= 1.10 derives both from the same system UUID).
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

/* Where the system UUID is looked for; a NULL member skips that source. */
struct hostid_sources {
	const char *product_uuid; /* /sys/class/dmi/id/product_uuid */
	const char *dmi_entries; /* /sys/firmware/dmi/entries (directory) */
	const char *device_tree; /* /proc/device-tree/ibm,partition-uuid */
};

/* The real system's paths. */
extern const struct hostid_sources hostid_sources_system;

enum hostid_source {
	HOSTID_SOURCE_PRODUCT_UUID,
	HOSTID_SOURCE_DMI_ENTRIES,
	HOSTID_SOURCE_DEVICE_TREE,
	HOSTID_SOURCE_RANDOM,
	_HOSTID_SOURCE_MAX,
};

/** hostid_source_to_string() - "product_uuid", "dmi-entries", "device-tree", "random"; NULL out of range. */
const char *hostid_source_to_string(enum hostid_source s);

/**
 * hostid_system_uuid() - the system UUID from the first of @src's firmware
 * sources (1 to 3 above) that has a usable one.
 * Return: 0, with the UUID in @ret_uuid and where it came from in
 * *@ret_source (may be NULL); -ENOENT when no source has one, -ENOMEM (outputs
 * untouched).
 */
int hostid_system_uuid(const struct hostid_sources *src, char ret_uuid[static UUID_STR_LEN + 1],
		       enum hostid_source *ret_source);

/**
 * hostnqn_generate() / hostid_generate() - a new value as described above.
 * @hostnqn (may be NULL) is the NQN to derive the host ID from.
 * Return: 0 and a newly allocated *ret, or negative errno.
 */
int hostnqn_generate(char **ret);
int hostid_generate(const char *hostnqn, char **ret);

/**
 * hostnqn_generate_from() - hostnqn_generate() reading the system UUID from
 * @src (tests offer their own files) instead of hostid_sources_system; a
 * random v4 UUID when none of them has one. *@ret_source (may be NULL) says
 * which source gave the UUID.
 * Return: 0 and a newly allocated *ret, or negative errno.
 */
int hostnqn_generate_from(const struct hostid_sources *src, char **ret,
			  enum hostid_source *ret_source);

/**
 * hostid_write_file() - atomically write @value + "\n" to @path (mode 0644,
 * creating the parent directory). Refuses with -EEXIST when the file exists
 * and is non-empty, unless @force.
 */
int hostid_write_file(const char *path, const char *value, bool force);
