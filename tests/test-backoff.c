/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-backoff - the retry schedule (2, 4, ... 60 s), its test override,
 * the interruptible wait, and the referral give-up policy.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "backoff.h"
#include "macro.h"

#include "tap.h"

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	static const unsigned want[] = { 2, 2, 4, 8, 16, 32, 60, 60, 60 };
	unsigned first, max;
	double t;
	bool all = true;

	for (unsigned i = 0; i < ELEMENTSOF(want); i++)
		is_int((int)backoff_delay_sec(i), (int)want[i], "attempt %u waits %u s", i,
		       want[i]);
	for (unsigned i = 7; i < 100000; i += 997)
		if (backoff_delay_sec(i) != 60)
			all = false;
	is_int((int)backoff_delay_sec(~0u), 60, "attempt UINT_MAX: the cap, no overflow");
	ok(all, "every later attempt waits the cap");
	is_int((int)backoff_delay_sec_custom(3, 1, 3), 3, "custom: 1, 2, then capped at 3");
	is_int((int)backoff_delay_sec_custom(40, 3000, 3600), 3600, "custom: large first, capped");

	unsetenv("STAS_BACKOFF");
	is_int(backoff_parse_env(&first, &max), 0, "no $STAS_BACKOFF: defaults");
	ok(first == 2 && max == 60, "  ... 2 and 60");
	setenv("STAS_BACKOFF", "1,3", 1);
	is_int(backoff_parse_env(&first, &max), 1, "$STAS_BACKOFF=1,3 used");
	ok(first == 1 && max == 3, "  ... 1 and 3");
	static const char *bad[] = { "",
				     "1",
				     "1,",
				     ",3",
				     "0,3",
				     "4,3",
				     "1,3601",
				     "1,3x",
				     "-1,3",
				     "1, 3",
				     "99999999999999999999,3" };
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		setenv("STAS_BACKOFF", bad[i], 1);
		first = max = 0;
		is_int(backoff_parse_env(&first, &max), -EINVAL, "$STAS_BACKOFF='%s' refused",
		       bad[i]);
		ok(first == 2 && max == 60, "  ... defaults set");
	}
	unsetenv("STAS_BACKOFF");

	/* The wait: elapses, or ends at once on a pending stop signal. */
	t = now_sec();
	is_int(backoff_wait(1), 0, "wait 1 s: elapsed");
	t = now_sec() - t;
	ok(t >= 0.99 && t < 3, "  ... after about a second (%.2f s)", t);
	{
		sigset_t ss;

		sigemptyset(&ss);
		sigaddset(&ss, SIGTERM);
		sigaddset(&ss, SIGHUP);
		sigprocmask(SIG_BLOCK, &ss, NULL);
	}
	raise(SIGTERM); /* blocked here: stays pending until the wait takes it */
	t = now_sec();
	is_int(backoff_wait(60), SIGTERM, "SIGTERM pending: the wait returns it");
	ok(now_sec() - t < 1, "  ... at once");
	raise(SIGHUP);
	is_int(backoff_wait(60), SIGHUP, "SIGHUP ends the wait too");
	is_int(backoff_wait(0), 0, "wait 0: returns at once");

	/* Give-up policy. */
	const uint64_t h = 3600ULL * 1000000;
	ok(!backoff_give_up(0, 10 * h, h), "not failing: never given up");
	ok(!backoff_give_up(5, 10 * h, 0), "limit 0: never given up");
	ok(!backoff_give_up(h, 2 * h - 1, h), "one microsecond short of the limit: kept");
	ok(backoff_give_up(h, 2 * h, h), "at the limit: given up");
	ok(backoff_give_up(h, 9 * h, h), "past the limit: given up");
	ok(!backoff_give_up(5 * h, h, h), "clock went backwards: kept");
	return tap_done();
}
