/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cache-lock.h"
#include "log.h"
#include "macro.h"

/* Polling, not a blocking flock(): a bounded wait needs no signal or thread. */
#define CACHE_LOCK_POLL_USEC 20000ULL

int cache_lock_dir(const char *dir, bool exclusive, uint64_t wait_usec, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t waited = 0;

	/* Followed like cache_open() follows it: a symlinked cache directory is fine. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	for (;;) {
		if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return negative_errno();
		if (waited >= wait_usec) {
			log_debug("cache: %s is locked by another process%s", dir,
				  exclusive ? "" : " (an import?)");
			return -EBUSY;
		}
		(void)usleep(CACHE_LOCK_POLL_USEC);
		waited += CACHE_LOCK_POLL_USEC;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int cache_lock_holders(const char *dir, char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = NULL;
	char line[256];
	struct stat st;
	size_t k = 0;
	int n = 0;

	if (size > 0)
		buf[0] = '\0';
	if (stat(dir, &st) < 0)
		return negative_errno();
	f = fopen("/proc/locks", "re");
	if (!f)
		return negative_errno();
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		uint64_t ino;
		int pid;
		char comm[64] = "?", path[64];

		/* "1: FLOCK  ADVISORY  READ 1234 fe:00:5678 0 EOF"; "->" lines are waiters */
		if (sscanf(line, "%*d: FLOCK %*s %*s %d %x:%x:%" SCNu64, &pid, &maj, &min, &ino) !=
		    4)
			continue;
		if (makedev(maj, min) != st.st_dev || ino != (uint64_t)st.st_ino || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		_cleanup_fclose_ FILE *c = fopen(path, "re");
		if (c && fgets(comm, sizeof(comm), c))
			comm[strcspn(comm, "\n")] = '\0';
		if (k < size) {
			int w = snprintf(buf + k, size - k, "%s%s (pid %d)", n ? ", " : "", comm,
					 pid);
			k = w < 0 ? size : MIN(size, k + (size_t)w);
		}
		n++;
	}
	return n;
}
