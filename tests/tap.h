/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tap.h - a minimal TAP producer for unit tests (automake's tap-driver.sh
 * reads it). Header-only so each test links lib/ and the module under test
 * and nothing else.
 *
 *	ok(cond, "name %d", i);  is_int(got, want, "name");  is_str(got, want, "name");
 *	return tap_done();        -- prints the plan; exit status 1 on any failure
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#define is_int(got, want, ...)                                                               \
	({                                                                                   \
		long long _g_ = (got), _w_ = (want);                                         \
		int _r_ = ok(_g_ == _w_, __VA_ARGS__);                                       \
		if (!_r_)                                                                    \
			diag("  got %lld, want %lld (%s:%d)", _g_, _w_, __FILE__, __LINE__); \
		_r_;                                                                         \
	})

#define is_str(got, want, ...)                                                              \
	({                                                                                  \
		const char *_g_ = (got), *_w_ = (want);                                     \
		int _r_ = ok(_g_ && _w_ ? strcmp(_g_, _w_) == 0 : _g_ == _w_, __VA_ARGS__); \
		if (!_r_)                                                                   \
			diag("  got \"%s\", want \"%s\" (%s:%d)", _g_ ? _g_ : "(null)",     \
			     _w_ ? _w_ : "(null)", __FILE__, __LINE__);                     \
		_r_;                                                                        \
	})

static inline void tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
