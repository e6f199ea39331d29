/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strv.h - NULL-terminated lists of malloc()ed strings ("string vectors"),
 * the one container every program uses for lists of NQNs, file names and
 * error messages. A NULL list is the empty list everywhere. strv_free() and
 * the _cleanup_strv_free_ attribute live in macro.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/** strv_length() - number of strings in @l (0 for NULL). */
size_t strv_length(char *const *l);

/** strv_contains() - whether @l holds a string equal to @s. */
bool strv_contains(char *const *l, const char *s);

/**
 * strv_consume() - append @s to *@l, taking ownership of @s in every case
 * (it is freed on failure). @s may not be NULL.
 * Return: 1, or -ENOMEM with *@l unchanged.
 */
int strv_consume(char ***l, char *s);

/**
 * strv_extend() - append a copy of @s to *@l.
 * Return: 1, or -ENOMEM with *@l unchanged.
 */
int strv_extend(char ***l, const char *s);

/**
 * strv_extend_unique() - append a copy of @s unless *@l already holds it.
 * Return: 1 when appended, 0 when already there, -ENOMEM with *@l unchanged.
 */
int strv_extend_unique(char ***l, const char *s);

/**
 * strv_consume_unique() - strv_consume() unless *@l already holds @s, in
 * which case @s is freed. Return: as strv_extend_unique().
 */
int strv_consume_unique(char ***l, char *s);
