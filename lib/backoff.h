/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backoff.h - the retry schedule of everything stas wants connected, and
 * the sleep between two attempts.
 *
 * A helper that could not connect what it wants (a discovery controller, an
 * I/O path) does not exit and let systemd restart it after a fixed delay: it
 * retries in-process, its unit staying "activating", with a capped
 * exponential backoff - 2, 4, 8, 16, 32, 60, 60, ... seconds - and
 * re-evaluates before each attempt whether the thing is still wanted
 * (configuration and cache re-read). systemd 252 has no RestartSteps=, and a
 * process that waits can be interrupted by "systemctl stop" or a udev
 * restart at once. stas-units(7) documents the schedule.
 *
 * The wait blocks SIGTERM, SIGINT and SIGHUP and sleeps in sigtimedwait(),
 * so a stop request ends it at once and the caller exits cleanly; no
 * polling. Outside the wait the signals keep their disposition (a stop
 * during an attempt ends the process at once; the units count SIGTERM as a
 * clean exit, SuccessExitStatus=).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define BACKOFF_FIRST_SEC 2u
#define BACKOFF_MAX_SEC 60u

/**
 * backoff_delay_sec() - seconds to wait after failed attempt number
 * @attempt (1 for the first failure): BACKOFF_FIRST_SEC doubled per attempt,
 * capped at BACKOFF_MAX_SEC. @attempt 0 is treated as 1.
 * Return: the delay in seconds, from BACKOFF_FIRST_SEC to BACKOFF_MAX_SEC.
 */
unsigned backoff_delay_sec(unsigned attempt);

/**
 * backoff_parse_env() - the schedule's first delay and cap from
 * $STAS_BACKOFF ("FIRST,MAX" in seconds, both from 1 to 3600, FIRST <= MAX),
 * for tests that cannot wait a minute. Unset or invalid: the defaults.
 * @ret_first, @ret_max: always set.
 * Return: 1 when $STAS_BACKOFF was used, 0 for the defaults, -EINVAL when it
 * is set but invalid (the defaults are then set).
 */
int backoff_parse_env(unsigned *ret_first, unsigned *ret_max);

/**
 * backoff_delay_sec_custom() - as backoff_delay_sec() with @first and @max.
 * Return: min(@first * 2^(@attempt-1), @max), without overflow.
 */
unsigned backoff_delay_sec_custom(unsigned attempt, unsigned first, unsigned max);

/**
 * backoff_wait() - sleep @sec seconds unless SIGTERM, SIGINT or SIGHUP
 * arrives first (or is pending, blocked by the caller). The three signals
 * are blocked during the wait and the caller's signal mask is restored
 * after it; the signal that ended the wait is consumed. Single-threaded
 * processes only.
 * Return: 0 when the time elapsed, the signal number (> 0) when a stop was
 * requested, negative errno on failure.
 */
int backoff_wait(unsigned sec);

/**
 * backoff_give_up() - the give-up policy for a discovery controller stas may
 * abandon (a referral that never answered): give up once it has failed
 * without a success for at least @limit_usec since @first_failure_usec.
 * @first_failure_usec 0 means "not failing"; @limit_usec 0 means "never give
 * up". A clock that went backwards counts as no time elapsed.
 * Return: true when it is time to give up.
 */
bool backoff_give_up(uint64_t first_failure_usec, uint64_t now_usec, uint64_t limit_usec);
