/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - one logging path for every stas program.
 *
 * Messages go to the systemd journal when the program runs under systemd
 * (stderr is connected to the journal, $JOURNAL_STREAM matches it) and to
 * stderr otherwise. The level is set once by the program (--tron sets
 * LOG_DEBUG, the trace switch). lib/ code only logs at debug level; a program
 * logs once where it decides, with log_error_errno() and friends, which
 * return the negative errno they were given so that
 *
 *	return log_error_errno(r, "Failed to open %s: %m", path);
 *
 * reports and propagates in one line. "%m" expands to strerror of the errno
 * given, not of the global errno.
 *
 * libnvme's own messages are routed here through log_nvme_stream(), a FILE*
 * to give nvme_create_root().
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "macro.h"

/**
 * log_set_max_level() - messages above @level (a syslog LOG_* level) are dropped.
 */
void log_set_max_level(int level);
int log_get_max_level(void);

/**
 * log_set_target_auto() - choose journal or stderr from the environment.
 * Called once by each program's main(); log_open() is implied.
 */
void log_set_target_auto(void);

/**
 * log_set_ident() - the name used in the journal and as stderr prefix.
 */
void log_set_ident(const char *ident);

/**
 * log_internal() - log a message at @level. @error is a positive or negative
 * errno used for "%m" (0 for none).
 *
 * Return: -abs(@error), so callers can return it directly.
 */
int log_internal(int level, int error, const char *file, int line, const char *func,
		 const char *format, ...) _printf_(6, 7);

int log_internalv(int level, int error, const char *file, int line, const char *func,
		  const char *format, va_list ap) _printf_(6, 0);

#define log_full_errno(level, error, ...)                                                       \
	({                                                                                      \
		int _level_ = (level), _e_ = (error);                                           \
		(log_get_max_level() >= _level_) ?                                              \
			log_internal(_level_, _e_, __FILE__, __LINE__, __func__, __VA_ARGS__) : \
			-abs(_e_);                                                              \
	})
#define log_full(level, ...) (void)log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_notice_errno(e, ...) log_full_errno(LOG_NOTICE, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)

/* Out-of-memory: log and return -ENOMEM. */
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")

/**
 * log_nvme_stream() - a FILE* whose lines are forwarded to the log (at debug
 * level unless they start with a libnvme level tag). Give it to
 * nvme_create_root(). Created on first use; NULL if it cannot be made.
 */
FILE *log_nvme_stream(void);
