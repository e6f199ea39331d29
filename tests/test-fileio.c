/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-fileio - write_file_atomic(): the content and mode land whole, no
 * temporary file is left behind, and a file planted where a predictable
 * temporary name would be never receives the data (issue 13, item 8).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

#include "tap.h"

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/test-fileio.XXXXXX";
	_cleanup_free_ char *path = NULL, *planted = NULL, *got = NULL;
	_cleanup_close_ int spy = -1;
	char buf[64] = {};
	struct stat st;
	size_t size;

	if (!mkdtemp(dir))
		abort();
	if (asprintf(&path, "%s/secret.conf", dir) < 0)
		abort();

	is_int(write_file_atomic(path, "old\n", 4, 0644), 0, "first write");
	/* A local user who can write the directory plants the names a
	 * predictable scheme would use, and keeps them open to read. */
	if (asprintf(&planted, "%s.tmp.%ld", path, (long)getpid()) < 0)
		abort();
	spy = open(planted, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	ok(spy >= 0, "planted %s", planted);
	is_int(write_file_atomic(path, "key=DHHC-1:00:secret:\n", 22, 0600), 0,
	       "write over the planted name");
	is_int((int)pread(spy, buf, sizeof(buf) - 1, 0), 0, "the planted file received nothing");
	is_int(read_full_file(path, 4096, &got, &size), 0, "read back");
	is_str(got, "key=DHHC-1:00:secret:\n", "the new content, whole");
	if (stat(path, &st) < 0)
		abort();
	ok((st.st_mode & 07777) == 0600, "mode 0600 (got %o)", (unsigned)(st.st_mode & 07777));
	is_int(count_entries(dir), 2, "no temporary file left (the file and the planted one)");

	/* A failure (here: renaming a file over a directory) leaves what was
	 * there and no temporary file, even for root. */
	(void)unlink(planted);
	{
		_cleanup_free_ char *sub = NULL;

		if (asprintf(&sub, "%s/adir", dir) < 0 || mkdir(sub, 0700) < 0)
			abort();
		is_int(write_file_atomic(sub, "x", 1, 0644), -EISDIR,
		       "rename over a directory fails");
		ok(stat(sub, &st) == 0 && S_ISDIR(st.st_mode), "the directory is still there");
		is_int(count_entries(dir), 2, "no temporary file left after the failure");
		(void)rmdir(sub);
	}
	free(got);
	got = NULL;
	is_int(read_full_file(path, 4096, &got, &size), 0, "read back after the failure");
	is_str(got, "key=DHHC-1:00:secret:\n", "other files untouched");

	(void)unlink(path);
	(void)rmdir(dir);
	return tap_done();
}
