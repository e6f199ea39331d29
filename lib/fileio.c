/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

int read_full_stream(FILE *f, size_t max_size, char **ret, size_t *ret_size)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, alloc = 0;

	for (;;) {
		if (len + 1 >= alloc) {
			size_t n = alloc ? alloc * 2 : 4096;
			char *p;
			if (alloc > max_size + 1)
				return -EFBIG;
			p = realloc(buf, n);
			if (!p)
				return -ENOMEM;
			buf = p;
			alloc = n;
		}
		size_t k = fread(buf + len, 1, alloc - len - 1, f);
		len += k;
		if (len > max_size)
			return -EFBIG;
		if (k == 0) {
			if (ferror(f))
				return -EIO;
			break;
		}
	}
	buf[len] = '\0';
	if (ret_size)
		*ret_size = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");

	if (!f)
		return negative_errno();
	return read_full_stream(f, max_size, ret, ret_size);
}

int read_regular_file(const char *path, size_t max_size, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = -1;
	_cleanup_fclose_ FILE *f = NULL;
	struct stat st;
	int flags;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	if ((uintmax_t)st.st_size > max_size)
		return -EFBIG;
	/* A regular file: reads never block; back to ordinary reads anyway. */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return negative_errno();
	f = fdopen(fd, "re");
	if (!f)
		return negative_errno();
	TAKE_FD(fd);
	/* the size may still grow while we read: read_full_stream() bounds it */
	return read_full_stream(f, max_size, ret, ret_size);
}

int mkdir_p(const char *path, mode_t mode)
{
	int r = mkdir_parents(path, mode);
	if (r < 0)
		return r;
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return negative_errno();
	return 0;
}

int mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST) {
			int r = negative_errno();
			*p = '/';
			return r;
		}
		*p = '/';
	}
	return 0;
}

static int fsync_parent_dir(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_close_ int fd = -1;
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (fsync(fd) < 0)
		return negative_errno();
	return 0;
}

/* Removes the temporary file unless it was renamed into place (path set to NULL). */
static void unlink_tmpp(char **p)
{
	if (*p)
		(void)unlink(*p);
	free(*p);
}

static int write_all(int fd, const char *p, size_t size)
{
	while (size > 0) {
		ssize_t k = write(fd, p, size);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		p += k;
		size -= (size_t)k;
	}
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode)
{
	_cleanup_(unlink_tmpp) char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	/* An unpredictable name created with O_EXCL (mkostemp), and the final
	 * mode set before any byte is written: nobody who can write the
	 * directory can pre-create the file or read what goes into it. */
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = negative_errno();
		free(TAKE_PTR(tmp));
		return r;
	}
	if (fchmod(fd, mode) < 0)
		return negative_errno();
	r = write_all(fd, data, size);
	if (r < 0)
		return r;
	if (fsync(fd) < 0 || rename(tmp, path) < 0)
		return negative_errno();
	free(TAKE_PTR(tmp));
	(void)fsync_parent_dir(path);
	return 0;
}
