/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A configuration file. Properties: no crash, no leak; a file that loads
 * can be shown; every refusal comes with at least one error message.
 */
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "fuzz.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = fuzz_strndup(data, size);
	struct stas_config *cfg = NULL;
	char **errors = NULL;
	FILE *f;

	if (!s)
		return 0;
	if (config_load_string(s, "fuzz.conf", &cfg, &errors) == 0) {
		f = fopen("/dev/null", "we");
		if (f) {
			(void)config_dump(cfg, f);
			fclose(f);
		}
		config_free(cfg);
	} else if (!errors || !errors[0]) {
		abort();
	}
	strv_free(errors);
	return 0;
}
