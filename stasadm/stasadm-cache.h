/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm-cache.h - what "stasadm status" borrows from the cache verbs.
 */
#pragma once

#include <json-c/json.h>

#include "cache.h"

/* "5s", "3m", "2h", "4d", or "-" for never; @buf of 16 bytes. */
const char *age_format(uint64_t usec, char *buf, size_t size);

/* "tcp 192.168.1.10:8009 [eth0]" for tables; @buf of TID_FORMAT_MAX. */
const char *dc_short(const struct tid *t, char *buf, size_t size);

json_object *dc_to_json(const struct cache_dc *dc);

/*
 * @s for a terminal: non-printable bytes as \xNN, '\\' doubled; truncated to
 * @size (ESC_MAX holds any TID field).
 */
#define ESC_MAX (4 * TID_FORMAT_MAX)
const char *esc(const char *s, char *buf, size_t size);

/* Every TID field by its name. */
json_object *tid_to_json(const struct tid *t);

/*
 * Open the cache given by --cache-dir (or the default) and log why not.
 * Return: 1 opened, 0 no cache yet (RDONLY: treat as empty), negative errno.
 */
int stasadm_cache_open(unsigned flags, struct cache **ret);

void json_print(json_object *o);
