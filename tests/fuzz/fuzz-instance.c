/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A unit instance (from systemd's %i, ultimately from whoever started the
 * unit). Properties: parsing never crashes; an accepted transport-ID
 * instance formats back to exactly itself (one DC, one unit name); unescape
 * then escape is the identity on accepted escaped strings; every valid NQN
 * gets a stas-connect@ unit name that fits, and a key instance parses back
 * to the key the NQN formats to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "tid.h"
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
	if (nqn_is_valid(s)) {
		_cleanup_free_ char *unit = NULL;
		char k[NQN_KEY_MAX], k2[NQN_KEY_MAX], inst[NQN_KEY_MAX + 32];

		if (unit_name_connect(s, &unit, &is_key) < 0 || strlen(unit) > UNIT_NAME_MAX)
			abort();
		nqn_key_format(s, k);
		/* the unit's %I: "key-" unescapes to "key/" */
		snprintf(inst, sizeof(inst), "key/%s", k + 4);
		if (is_key && (connect_instance_parse(inst, k2) != 1 || strcmp(k, k2) != 0))
			abort();
		/* an NQN is never taken for a key */
		if (connect_instance_parse(s, k2) != 0)
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
