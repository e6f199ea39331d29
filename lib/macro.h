/* SPDX-License-Identifier: Apache-2.0 */
/*
 * macro.h - small helpers every stas source uses: cleanup attributes that
 * release a resource when its variable goes out of scope, ownership transfer
 * (TAKE_PTR/TAKE_FD), and a few array and string conveniences.
 *
 * Every variable with a cleanup attribute must be initialised at its
 * declaration (to NULL or -1) so an early return never frees garbage.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _pure_ __attribute__((pure))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRLEN(s) (sizeof(s) - 1)

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		(void)close(*fd);
		errno = saved;
	}
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Define a cleanup function for a type with its own destructor. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
	static inline void func##p(type *p)     \
	{                                       \
		if (*p)                         \
			func(*p);               \
	}

/* Hand ownership of a pointer (or fd) to the caller; the variable is cleared. */
#define TAKE_PTR(ptr)                          \
	({                                     \
		__typeof__(ptr) _ptr_ = (ptr); \
		(ptr) = NULL;                  \
		_ptr_;                         \
	})
#define TAKE_FD(fd)              \
	({                       \
		int _fd_ = (fd); \
		(fd) = -1;       \
		_fd_;            \
	})

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static inline bool isempty(const char *s)
{
	return !s || !*s;
}

static inline const char *strempty(const char *s)
{
	return s ? s : "";
}

/* The rest of @s after @prefix, or NULL. (Not "startswith": libnvme's
 * util.h exports a function of that name, and lib/kernel.c includes both.) */
static inline const char *str_startswith(const char *s, const char *prefix)
{
	size_t l = strlen(prefix);
	return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/*
 * Copy a string into a fixed-size buffer. Returns 0, or -ENAMETOOLONG (and
 * leaves dst untouched) when src does not fit.
 */
static inline int strscpy_checked(char *dst, size_t size, const char *src)
{
	size_t l = strlen(src);
	if (l >= size)
		return -ENAMETOOLONG;
	memcpy(dst, src, l + 1);
	return 0;
}

/* Negative errno from a libc call that returned -1 and set errno. */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

typedef char *strv_t;
static inline void strv_free(char **l)
{
	if (!l)
		return;
	for (char **i = l; *i; i++)
		free(*i);
	free(l);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)
#define _cleanup_strv_free_ _cleanup_(strv_freep)
#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

/*
 * Make room for one more element in the array *p of *alloc elements of
 * @size bytes, of which @n are used: doubles the allocation (from 8) when
 * full. Return: 0, or -ENOMEM with *p and *alloc unchanged.
 */
static inline int greedy_realloc(void **p, size_t *alloc, size_t n, size_t size)
{
	size_t na;
	void *q;

	if (n < *alloc)
		return 0;
	na = *alloc ? *alloc * 2 : 8;
	q = reallocarray(*p, na, size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*alloc = na;
	return 0;
}
#define GREEDY_REALLOC(array, alloc, n) \
	greedy_realloc((void **)&(array), &(alloc), (n), sizeof(*(array)))
