/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm-import.h - what the importers of "stasadm config import" share:
 * the translation being built (settings and controller/exclude entries,
 * each probed with the real loader before it is kept), and the report of
 * what could not be translated. stasadm-import.c holds nvme-stas's INI
 * files and nvme-cli's discovery.conf; stasadm-import-json.c nvme-cli's
 * /etc/nvme/config.json; stasadm-import-fabrics.c nvme-cli 3's
 * nvme-fabrics.conf (+ .conf.d/).
 *
 * Secrets: an importer never prints a value it could not translate, and
 * every value it names goes through config_value_mask().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "tid.h"

enum kind {
	KIND_STAFD,
	KIND_STACD,
	KIND_SYS,
	KIND_DISCOVERY,
	KIND_JSON, /* nvme-cli /etc/nvme/config.json */
	KIND_FABRICS, /* nvme-cli 3 /etc/nvme/nvme-fabrics.conf (+ .conf.d/) */
	_KIND_MAX,
};

enum { SEC_HOST, SEC_GLOBAL, SEC_DISC, SEC_IO, _SEC_MAX };

/* One output setting: "key = value;" (value already in libconfig syntax). */
struct item {
	int sec;
	char *key;
	char *value;
	char *src; /* FILE:LINE */
};

/* One controller or exclude group body. */
struct entry {
	int sec;
	bool exclude;
	char *body; /* "transport = "tcp"; ..." */
	char *src;
	struct tid tid; /* canonical, for duplicate checks */
};

struct import {
	struct item *items;
	size_t n_items;
	struct entry *entries;
	size_t n_entries;
	unsigned problems;
};

void import_free(struct import *im);
/* @s without leading and trailing white space (in place). */
char *import_strip(char *s);

/* Text that may hold a secret is wiped before it is freed. */
void erase_freep(char **p);
#define _cleanup_erase_free_ _cleanup_(erase_freep)

/*
 * "FILE:LINE: [note: ]message" on stderr (no ":LINE" when @line is 0);
 * @im non-NULL: a setting not translated, counted in @im->problems.
 */
_printf_(4, 5) void import_report(struct import *im, const char *file, unsigned line,
				  const char *fmt, ...);
#define untranslated(im, file, line, ...) import_report(im, file, line, __VA_ARGS__)
#define note(file, line, ...) import_report(NULL, file, line, __VA_ARGS__)

/* @s as a libconfig string literal (NULL: out of memory). */
char *import_quote(const char *s);

/*
 * Add "sec.key = value" (@value in libconfig syntax) after probing it with
 * the loader; a problem is reported at @file:@line and the setting dropped.
 * A later value of the same setting replaces an earlier one (with a note).
 * Return: 0, or -ENOMEM.
 */
int import_add_item(struct import *im, int sec, const char *key, const char *value,
		    const char *file, unsigned line);
/* import_add_item() of the string @value. */
int import_add_string_item(struct import *im, int sec, const char *key, const char *value,
			   const char *file, unsigned line);
/*
 * Add a controller (or exclude, @exclude) group with the body @body
 * ("transport = \"tcp\"; ...") to section @sec after probing it; a
 * duplicate of an earlier entry is reported and dropped. Return: 0, -ENOMEM.
 */
int import_add_entry(struct import *im, int sec, bool exclude, const char *body, const char *file,
		     unsigned line);

/* stasadm-import-json.c: nvme-cli's config.json text @text (read from @file). */
int import_config_json(struct import *im, const char *file, const char *text);

/*
 * stasadm-import-fabrics.c: nvme-cli 3's nvme-fabrics.conf @file, text
 * @text, and (@main) its drop-in directory "@file.d/".
 */
int import_fabrics_conf(struct import *im, const char *file, char *text, bool main);
