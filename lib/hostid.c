/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostid.c - host NQN and host ID: read, validate, generate, write.
 */
#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "fileio.h"
#include "hostid.h"
#include "log.h"
#include "macro.h"
#include "tid.h"

#define HOSTNQN_UUID_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"
#define HOSTID_FILE_MAX 4096
/* SMBIOS: type 1 is System Information; its UUID is at offset 8. */
#define DMI_SYSTEM_INFORMATION 1
#define DMI_UUID_OFFSET 8
#define DMI_RAW_MAX 65536

bool hostnqn_is_valid(const char *nqn)
{
	/* One rule for every NQN in stas: the host NQN is no different. */
	return nqn && nqn_is_valid(nqn);
}

bool uuid_is_valid(const char *s)
{
	if (!s || strlen(s) != UUID_STR_LEN)
		return false;
	for (size_t i = 0; i < UUID_STR_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

int hostid_read_file(const char *path, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	char *b, *e;
	int r;

	assert(path);
	assert(ret);

	r = read_full_file(path, HOSTID_FILE_MAX, &buf, NULL);
	if (r < 0)
		return log_debug_errno(r, "Failed to read %s: %m", path);

	b = buf + strspn(buf, " \t\r\n");
	e = b + strcspn(b, "\r\n");
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if (e == b)
		return log_debug_errno(ENODATA, "%s is empty", path);
	*e = '\0';
	memmove(buf, b, (size_t)(e - b) + 1);

	*ret = TAKE_PTR(buf);
	return 0;
}

static void uuid_lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int uuid_random(char ret[static UUID_STR_LEN + 1])
{
	uint8_t b[16];
	ssize_t k;

	do
		k = getrandom(b, sizeof(b), 0);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return negative_errno();
	if (k != sizeof(b))
		return -EIO;

	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(ret, UUID_STR_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}

/*
 * Firmware often ships placeholder UUIDs; several hosts would then share
 * one host NQN, so such values are not used.
 */
static bool uuid_is_placeholder(const char *u)
{
	if (strspn(u, "0-") == strlen(u) || strspn(u, "fF-") == strlen(u))
		return true;
	return strcasecmp(u, "03000200-0400-0500-0006-000700080009") == 0;
}

static bool uuid_is_usable(const char *u, const char *what)
{
	if (!uuid_is_valid(u)) {
		log_debug("%s: '%s' is not a UUID, ignoring", what, u);
		return false;
	}
	if (uuid_is_placeholder(u)) {
		log_debug("%s: '%s' is a firmware placeholder, ignoring", what, u);
		return false;
	}
	return true;
}

/* libnvme: the first line, exactly 36 characters and its newline, as it is. */
static int uuid_from_product_uuid(const char *path, char ret[static UUID_STR_LEN + 1])
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = read_full_file(path, HOSTID_FILE_MAX, &buf, NULL);
	if (r < 0)
		return log_debug_errno(r, "Failed to read %s: %m", path);
	if (strcspn(buf, "\n") != UUID_STR_LEN || buf[UUID_STR_LEN] != '\n')
		return log_debug_errno(EINVAL, "%s: not one 36-character line", path);
	buf[UUID_STR_LEN] = '\0';
	if (!uuid_is_usable(buf, path))
		return -EINVAL;
	memcpy(ret, buf, UUID_STR_LEN + 1);
	return 0;
}

/* Whether /sys/firmware/dmi/entries/@name is an SMBIOS type-1 (System Information) entry. */
static bool dmi_entry_is_system(const char *dir, const char *name)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	int type;

	if (asprintf(&path, "%s/%s/type", dir, name) < 0) {
		path = NULL;
		return false;
	}
	if (read_full_file(path, HOSTID_FILE_MAX, &buf, NULL) < 0)
		return false;
	return sscanf(buf, "%d", &type) == 1 && type == DMI_SYSTEM_INFORMATION;
}

/* The UUID of one raw type-1 entry: bytes 8..23, the first three fields swapped. */
static int uuid_from_dmi_raw(const char *path, char ret[static UUID_STR_LEN + 1])
{
	_cleanup_free_ char *raw = NULL;
	const uint8_t *b;
	size_t size, i;
	char u[UUID_STR_LEN + 1];
	int r;

	r = read_full_file(path, DMI_RAW_MAX, &raw, &size);
	if (r < 0)
		return log_debug_errno(r, "Failed to read %s: %m", path);
	if (size < DMI_UUID_OFFSET + 16)
		return log_debug_errno(EINVAL, "%s: %zu bytes, too short for a UUID", path, size);
	b = (const uint8_t *)raw + DMI_UUID_OFFSET;
	for (i = 0; i < 16 && b[i] == 0; i++)
		;
	if (i == 16)
		return log_debug_errno(EINVAL, "%s: the UUID is all zeros", path);

	snprintf(u, sizeof(u),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[3], b[2],
		 b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	if (!uuid_is_usable(u, path))
		return -EINVAL;
	memcpy(ret, u, UUID_STR_LEN + 1);
	return 0;
}

static void dirent_list_free(struct dirent **l, int n)
{
	for (int i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/*
 * libnvme takes the first type-1 entry in readdir() order; there is one on
 * every machine seen so far, and the name order ("1-0" first) makes the
 * choice stable should there ever be more.
 */
static int uuid_from_dmi_entries(const char *dir, char ret[static UUID_STR_LEN + 1])
{
	struct dirent **l = NULL;
	int n, r = -ENOENT;

	n = scandir(dir, &l, NULL, alphasort);
	if (n < 0)
		return log_debug_errno(errno, "Failed to list %s: %m", dir);
	for (int i = 0; i < n && r < 0; i++) {
		_cleanup_free_ char *raw = NULL;

		if (l[i]->d_name[0] == '.' || !dmi_entry_is_system(dir, l[i]->d_name))
			continue;
		if (asprintf(&raw, "%s/%s/raw", dir, l[i]->d_name) < 0) {
			raw = NULL;
			r = -ENOMEM;
			break;
		}
		r = uuid_from_dmi_raw(raw, ret);
	}
	dirent_list_free(l, n);
	return r == -ENOMEM ? r : r < 0 ? -ENOENT : 0;
}

/* A string property: up to the first NUL, at most 36 bytes read, as libnvme. */
static int uuid_from_device_tree(const char *path, char ret[static UUID_STR_LEN + 1])
{
	_cleanup_free_ char *buf = NULL;
	char u[UUID_STR_LEN + 1] = {};
	size_t size;
	int r;

	r = read_full_file(path, HOSTID_FILE_MAX, &buf, &size);
	if (r < 0)
		return log_debug_errno(r, "Failed to read %s: %m", path);
	memcpy(u, buf, MIN(size, (size_t)UUID_STR_LEN));
	if (u[0] == '\0')
		return log_debug_errno(ENODATA, "%s is empty", path);
	if (!uuid_is_usable(u, path))
		return -EINVAL;
	memcpy(ret, u, UUID_STR_LEN + 1);
	return 0;
}

const struct hostid_sources hostid_sources_system = {
	.product_uuid = "/sys/class/dmi/id/product_uuid",
	.dmi_entries = "/sys/firmware/dmi/entries",
	.device_tree = "/proc/device-tree/ibm,partition-uuid",
};

static const char *const hostid_source_names[_HOSTID_SOURCE_MAX] = {
	[HOSTID_SOURCE_PRODUCT_UUID] = "product_uuid",
	[HOSTID_SOURCE_DMI_ENTRIES] = "dmi-entries",
	[HOSTID_SOURCE_DEVICE_TREE] = "device-tree",
	[HOSTID_SOURCE_RANDOM] = "random",
};

const char *hostid_source_to_string(enum hostid_source s)
{
	return (unsigned)s < _HOSTID_SOURCE_MAX ? hostid_source_names[s] : NULL;
}

int hostid_system_uuid(const struct hostid_sources *src, char ret_uuid[static UUID_STR_LEN + 1],
		       enum hostid_source *ret_source)
{
	/* libnvme's order: DMI (the sysfs attribute, then the raw entries), then device tree. */
	const struct {
		const char *path;
		int (*get)(const char *path, char ret[static UUID_STR_LEN + 1]);
	} sources[] = {
		[HOSTID_SOURCE_PRODUCT_UUID] = { src->product_uuid, uuid_from_product_uuid },
		[HOSTID_SOURCE_DMI_ENTRIES] = { src->dmi_entries, uuid_from_dmi_entries },
		[HOSTID_SOURCE_DEVICE_TREE] = { src->device_tree, uuid_from_device_tree },
	};
	char u[UUID_STR_LEN + 1];

	assert(ret_uuid);

	for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
		int r;

		if (!sources[i].path)
			continue;
		r = sources[i].get(sources[i].path, u);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			continue;
		memcpy(ret_uuid, u, UUID_STR_LEN + 1);
		if (ret_source)
			*ret_source = (enum hostid_source)i;
		return 0;
	}
	return -ENOENT;
}

int hostnqn_generate_from(const struct hostid_sources *src, char **ret,
			  enum hostid_source *ret_source)
{
	enum hostid_source from;
	char uuid[UUID_STR_LEN + 1];
	char *s;
	int r;

	assert(src);
	assert(ret);

	r = hostid_system_uuid(src, uuid, &from);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		log_debug("No usable system UUID, using a random one");
		r = uuid_random(uuid);
		if (r < 0)
			return log_debug_errno(r, "Failed to get random bytes: %m");
		from = HOSTID_SOURCE_RANDOM;
	}

	if (asprintf(&s, HOSTNQN_UUID_PREFIX "%s", uuid) < 0)
		return -ENOMEM;
	*ret = s;
	if (ret_source)
		*ret_source = from;
	return 0;
}

int hostnqn_generate(char **ret)
{
	return hostnqn_generate_from(&hostid_sources_system, ret, NULL);
}

int hostid_generate(const char *hostnqn, char **ret)
{
	char uuid[UUID_STR_LEN + 1];
	const char *u = NULL;
	char *s;
	int r;

	assert(ret);

	if (hostnqn) {
		/* Any "...:uuid:<uuid>" NQN, not only the nvmexpress one. */
		u = strstr(hostnqn, ":uuid:");
		if (u)
			u += STRLEN(":uuid:");
	}
	if (u && uuid_is_valid(u)) {
		memcpy(uuid, u, UUID_STR_LEN + 1);
		uuid_lowercase(uuid);
	} else {
		r = uuid_random(uuid);
		if (r < 0)
			return log_debug_errno(r, "Failed to get random bytes: %m");
	}

	s = strdup(uuid);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int hostid_write_file(const char *path, const char *value, bool force)
{
	_cleanup_free_ char *data = NULL;
	struct stat st;
	int r;

	assert(path);
	assert(value);

	if (!force) {
		if (stat(path, &st) >= 0) {
			if (st.st_size > 0)
				return log_debug_errno(EEXIST, "%s exists and is not empty", path);
		} else if (errno != ENOENT)
			return log_debug_errno(errno, "Failed to stat %s: %m", path);
	}

	if (asprintf(&data, "%s\n", value) < 0) {
		data = NULL;
		return -ENOMEM;
	}

	r = mkdir_parents(path, 0755);
	if (r < 0)
		return log_debug_errno(r, "Failed to create the parent directories of %s: %m",
				       path);
	r = write_file_atomic(path, data, strlen(data), 0644);
	if (r < 0)
		return log_debug_errno(r, "Failed to write %s: %m", path);
	return 0;
}
