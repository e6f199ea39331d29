/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fileio.h - whole-file reads and atomic writes, shared by host identity,
 * configuration, cache export/import.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/**
 * read_full_file() - read all of @path into a newly allocated NUL-terminated
 * buffer *ret (its length, without the NUL, in *ret_size if non-NULL).
 * Refuses files larger than @max_size with -EFBIG.
 * Return: 0 or negative errno (ret untouched).
 */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);

/**
 * read_full_stream() - as read_full_file() for an open FILE* (e.g. stdin).
 */
int read_full_stream(FILE *f, size_t max_size, char **ret, size_t *ret_size);

/**
 * write_file_atomic() - write @size bytes of @data to a temp file beside
 * @path, fsync it, rename it over @path, fsync the directory. Either the old
 * or the new content is there afterwards, never a mix.
 * Return: 0 or negative errno.
 */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);

/**
 * mkdir_parents() - create every missing parent directory of @path (not
 * @path itself) with @mode. Return: 0 or negative errno.
 */
int mkdir_parents(const char *path, mode_t mode);

/**
 * mkdir_p() - create @path and its parents. Return: 0 or negative errno.
 */
int mkdir_p(const char *path, mode_t mode);

/**
 * read_regular_file() - as read_full_file(), for a file that must be a
 * regular file: opened with O_NONBLOCK (a FIFO never blocks the open) and
 * O_NOCTTY, checked with fstat() before a byte is read, and refused when
 * its size already exceeds @max_size (nothing is read then).
 * Return: 0 and *ret (NUL-terminated; its length in *ret_size if non-NULL);
 * -EISDIR for a directory, -EBADFD for any other non-regular file (FIFO,
 * socket, device), -EFBIG when larger than @max_size, or another negative
 * errno. *ret is untouched on failure.
 */
int read_regular_file(const char *path, size_t max_size, char **ret, size_t *ret_size);
