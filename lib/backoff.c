/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"

unsigned backoff_delay_sec_custom(unsigned attempt, unsigned first, unsigned max)
{
	unsigned d = first;

	if (attempt == 0)
		attempt = 1;
	for (unsigned i = 1; i < attempt && d < max; i++)
		d = d > max / 2 ? max : d * 2;
	return d < max ? d : max;
}

unsigned backoff_delay_sec(unsigned attempt)
{
	return backoff_delay_sec_custom(attempt, BACKOFF_FIRST_SEC, BACKOFF_MAX_SEC);
}

static int parse_sec(const char *s, char stop, const char **ret_end, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != stop || v < 1 || v > 3600)
		return -EINVAL;
	*ret_end = end;
	*ret = (unsigned)v;
	return 0;
}

int backoff_parse_env(unsigned *ret_first, unsigned *ret_max)
{
	const char *e = getenv("STAS_BACKOFF"), *end;
	unsigned first, max;

	*ret_first = BACKOFF_FIRST_SEC;
	*ret_max = BACKOFF_MAX_SEC;
	if (!e)
		return 0;
	if (parse_sec(e, ',', &end, &first) < 0 || parse_sec(end + 1, '\0', &end, &max) < 0 ||
	    first > max)
		return -EINVAL;
	*ret_first = first;
	*ret_max = max;
	return 1;
}

static int wait_blocked(const sigset_t *ss, unsigned sec);

int backoff_wait(unsigned sec)
{
	sigset_t ss, old;
	int r;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &ss, &old) < 0)
		return -errno;
	r = wait_blocked(&ss, sec);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int wait_blocked(const sigset_t *ss, unsigned sec)
{
	struct timespec now, end;
	int r;

	if (clock_gettime(CLOCK_MONOTONIC, &end) < 0)
		return -errno;
	end.tv_sec += sec;
	for (;;) {
		struct timespec left;

		if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
			return -errno;
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			return 0;
		r = sigtimedwait(ss, NULL, &left);
		if (r > 0)
			return r;
		if (errno == EAGAIN)
			return 0;
		if (errno != EINTR)
			return -errno;
		/* another signal (not ours): wait the rest */
	}
}

bool backoff_give_up(uint64_t first_failure_usec, uint64_t now_usec, uint64_t limit_usec)
{
	if (first_failure_usec == 0 || limit_usec == 0 || now_usec < first_failure_usec)
		return false;
	return now_usec - first_failure_usec >= limit_usec;
}
