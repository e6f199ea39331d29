/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool to_journal;
static const char *ident = "stas";

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

void log_set_ident(const char *s)
{
	ident = s;
}

/* True when stderr is the journal stream systemd set up for this service. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_set_target_auto(void)
{
	const char *e = getenv("STAS_LOG_TARGET");

	if (e && streq(e, "console"))
		to_journal = false;
	else if (e && streq(e, "journal"))
		to_journal = true;
	else
		to_journal = stderr_is_journal();
}

int log_internalv(int level, int error, const char *file, int line, const char *func,
		  const char *format, va_list ap)
{
	char buf[2048];
	int saved = errno;

	if (error < 0)
		error = -error;
	errno = error;
	(void)vsnprintf(buf, sizeof(buf), format, ap);

	if (to_journal) {
		/* Our own CODE_* fields: the caller's location, not this file's. */
		if (error)
			(void)sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%i", level,
					      "SYSLOG_IDENTIFIER=%s", ident, "CODE_FILE=%s", file,
					      "CODE_LINE=%i", line, "CODE_FUNC=%s", func,
					      "ERRNO=%i", error, NULL);
		else
			(void)sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%i", level,
					      "SYSLOG_IDENTIFIER=%s", ident, "CODE_FILE=%s", file,
					      "CODE_LINE=%i", line, "CODE_FUNC=%s", func, NULL);
	} else {
		if (max_level >= LOG_DEBUG)
			(void)fprintf(stderr, "%s: %s (%s:%d)\n", ident, buf, file, line);
		else
			(void)fprintf(stderr, "%s: %s\n", ident, buf);
	}
	errno = saved;
	return -error;
}

int log_internal(int level, int error, const char *file, int line, const char *func,
		 const char *format, ...)
{
	va_list ap;
	int r;

	va_start(ap, format);
	r = log_internalv(level, error, file, line, func, format, ap);
	va_end(ap);
	return r;
}

/*
 * libnvme writes whole or partial lines to its FILE*; collect them and emit
 * each complete line as one log record.
 */
static char nvme_line[1024];
static size_t nvme_line_len;

static void nvme_line_flush(void)
{
	if (nvme_line_len == 0)
		return;
	nvme_line[nvme_line_len] = '\0';
	log_debug("libnvme: %s", nvme_line);
	nvme_line_len = 0;
}

static ssize_t nvme_stream_write(void *cookie, const char *buf, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n' || nvme_line_len >= sizeof(nvme_line) - 1)
			nvme_line_flush();
		if (buf[i] != '\n')
			nvme_line[nvme_line_len++] = buf[i];
	}
	return (ssize_t)size;
}

static int nvme_stream_close(void *cookie)
{
	nvme_line_flush();
	return 0;
}

FILE *log_nvme_stream(void)
{
	static FILE *f;

	if (!f) {
		cookie_io_functions_t io = {
			.write = nvme_stream_write,
			.close = nvme_stream_close,
		};
		f = fopencookie(NULL, "w", io);
		if (f)
			setvbuf(f, NULL, _IONBF, 0);
	}
	return f;
}
