/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostid.c - host NQN and host ID: read, validate, generate, write.
 */
#include <assert.h>
#include <ctype.h>
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
#define DMI_PRODUCT_UUID_PATH "/sys/class/dmi/id/product_uuid"
#define HOSTID_FILE_MAX 4096

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
 * one host NQN, so such values are not used (as libnvme refuses them).
 */
static bool dmi_uuid_is_bogus(const char *u)
{
	if (strspn(u, "0-") == strlen(u) || strspn(u, "fF-") == strlen(u))
		return true;
	return strcasecmp(u, "03000200-0400-0500-0006-000700080009") == 0;
}

static int uuid_from_dmi(const char *dmi_path, char ret[static UUID_STR_LEN + 1])
{
	_cleanup_free_ char *u = NULL;
	int r;

	r = hostid_read_file(dmi_path, &u);
	if (r < 0)
		return r;
	if (!uuid_is_valid(u))
		return log_debug_errno(EINVAL, "%s: '%s' is not a UUID", dmi_path, u);
	if (dmi_uuid_is_bogus(u))
		return log_debug_errno(EINVAL, "%s: '%s' is a placeholder, ignoring", dmi_path, u);
	uuid_lowercase(u);
	memcpy(ret, u, UUID_STR_LEN + 1);
	return 0;
}

int hostnqn_generate_from(const char *dmi_path, char **ret)
{
	char uuid[UUID_STR_LEN + 1];
	char *s;
	int r;

	assert(ret);

	r = dmi_path ? uuid_from_dmi(dmi_path, uuid) : -ENOENT;
	if (r < 0) {
		log_debug_errno(r, "No usable DMI product UUID, using a random one: %m");
		r = uuid_random(uuid);
		if (r < 0)
			return log_debug_errno(r, "Failed to get random bytes: %m");
	}

	if (asprintf(&s, HOSTNQN_UUID_PREFIX "%s", uuid) < 0)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int hostnqn_generate(char **ret)
{
	return hostnqn_generate_from(DMI_PRODUCT_UUID_PATH, ret);
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
