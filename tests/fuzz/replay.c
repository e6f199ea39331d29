/* SPDX-License-Identifier: Apache-2.0 */
/* Replays a fuzz target's corpus as a TAP test (see fuzz.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "fuzz.h"
#include "log.h"
#include "macro.h"
#include "../tap.h"

static int replay_one(const char *path)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	int r;

	r = read_full_file(path, 1 << 24, &buf, &size);
	if (r < 0)
		return r;
	(void)LLVMFuzzerTestOneInput((const uint8_t *)buf, size);
	return 0;
}

int main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	char dir[4096];
	struct dirent **list = NULL;
	int n;

	log_set_max_level(LOG_EMERG); /* the inputs are meant to be bad */
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			ok(replay_one(argv[i]) == 0, "%s", argv[i]);
		return tap_done();
	}
	/* strip the "fuzz-" program prefix to find the corpus */
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top ? top : ".",
		 str_startswith(name, "fuzz-") ? name + 5 : name);
	n = scandir(dir, &list, NULL, alphasort);
	if (n < 0)
		tap_skip_all("no corpus");
	for (int i = 0; i < n; i++) {
		char path[8192];

		if (list[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
			ok(replay_one(path) == 0, "replay %s", list[i]->d_name);
		}
		free(list[i]);
	}
	free(list);
	return tap_done();
}
