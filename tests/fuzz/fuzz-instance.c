/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A unit instance (from systemd's %i, ultimately from whoever started the
 * unit). Properties: parsing never crashes; an accepted transport-ID
 * instance formats back to exactly itself (one DC, one unit name); unescape
 * then escape is the identity on accepted escaped strings.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "unit-name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = fuzz_strndup(data, size), *ctrl = NULL, *key = NULL;
	_cleanup_free_ char *back = NULL, *plain = NULL, *again = NULL;
	struct tid t;
	bool is_key;

	if (!s)
		return 0;
	if (dc_instance_parse(s, &t, &ctrl, &key) == 0 && !ctrl && !key) {
		if (dc_instance_format(&t, &back, &is_key) < 0 || is_key || strcmp(back, s) != 0)
			abort();
	}
	if (unit_name_unescape(s, &plain) == 0) {
		again = unit_name_escape(plain);
		/* escaping is canonical: a different spelling of the same bytes is fine,
		 * but it must unescape to the same bytes */
		if (again) {
			_cleanup_free_ char *plain2 = NULL;
			if (unit_name_unescape(again, &plain2) < 0 || strcmp(plain, plain2) != 0)
				abort();
		}
	}
	return 0;
}
