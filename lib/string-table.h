/* SPDX-License-Identifier: Apache-2.0 */
/*
 * string-table.h - one way to name the values of an enum: a table of
 * strings indexed by the enum, and the two conversions generated from it.
 *
 *   static const char *const color_table[_COLOR_MAX] = { [COLOR_RED] = "red", ... };
 *   DEFINE_STRING_TABLE_LOOKUP(color, enum color, _COLOR_MAX)
 *
 * defines color_to_string() (NULL for a value out of range) and
 * color_from_string() (the value, or -EINVAL for an unknown or NULL name).
 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <string.h>

static inline int string_table_lookup(const char *const *table, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

#define DEFINE_STRING_TABLE_LOOKUP(name, type, max)                        \
	const char *name##_to_string(type i)                               \
	{                                                                  \
		return (size_t)i < (size_t)(max) ? name##_table[i] : NULL; \
	}                                                                  \
	int name##_from_string(const char *s)                              \
	{                                                                  \
		return string_table_lookup(name##_table, (max), s);        \
	}
