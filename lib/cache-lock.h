/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache-lock.h - who may write the cache at the same time.
 *
 * Every program that opens the cache for writing (cache_open() with
 * CACHE_RDWR) holds a shared advisory lock, flock(2) LOCK_SH, on the cache
 * directory for as long as the cache is open: the helpers, stas-mdns-watch,
 * stasadm's writing verbs. Shared locks never conflict with each other, so
 * writers run side by side exactly as before (LMDB serialises their
 * transactions).
 *
 * An operation that replaces the whole cache (stasadm import) must run with
 * no writer alive: a helper that read the old cache before the replacement
 * would commit records derived from it into the new one, and the
 * connections it makes meanwhile would not be recorded in what was
 * imported. It takes the lock exclusively, without waiting: while any
 * writer has the cache open it is refused (-EBUSY), and a writer starting
 * while it runs waits in cache_open() until it is done.
 *
 * The lock is on the directory itself (no extra file that could be planted
 * or go stale; it survives cache_set_aside()). An administrator can hold it
 * from a shell: flock -s /var/cache/stas CMD (or -x to keep writers out).
 * Read-only opens take no lock: readers see a consistent snapshot anyway.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* How long cache_open() waits for an exclusive holder (an import) to finish. */
#define CACHE_LOCK_WAIT_USEC (60ULL * 1000000ULL)

/**
 * cache_lock_dir() - take the advisory lock on the cache directory @dir.
 * @dir: the cache directory (must exist).
 * @exclusive: LOCK_EX (an import) rather than LOCK_SH (a writer).
 * @wait_usec: how long to wait for a conflicting holder; 0: do not wait.
 * @ret_fd: the descriptor that holds the lock (O_CLOEXEC); closing it
 *	releases the lock. Untouched on failure.
 *
 * Return: 0; -EBUSY when a conflicting lock is still held after @wait_usec;
 * -ENOTDIR, other negative errno from open(2)/flock(2).
 */
int cache_lock_dir(const char *dir, bool exclusive, uint64_t wait_usec, int *ret_fd);

/**
 * cache_lock_holders() - the processes holding a lock on the cache
 * directory @dir, from /proc/locks, as "name (pid N), name (pid M)" into
 * @buf (truncated to @size). For a message that tells the administrator
 * what to stop; best effort.
 *
 * Return: the number of holders found (0: none or unknown), negative errno
 * when @dir or /proc/locks cannot be read.
 */
int cache_lock_holders(const char *dir, char *buf, size_t size);
