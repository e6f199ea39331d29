/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-discover-policy - when stas-discover registers with a DC (TP8010
 * DIM): only DDCs and CDCs, once per association - on its own connection,
 * after a kernel reconnect (rediscover), or on a connection the cache does
 * not record as the registered one.
 */
#include <stddef.h>

#include "../helpers/stas-discover/discover-policy.h"

#include "tap.h"

int main(void)
{
	static const struct {
		const char *dctype;
		bool here, reconnected;
		const char *recorded, *device;
		bool want;
		const char *why;
	} t[] = {
		{ "ddc", true, false, NULL, "nvme1", true, "a DDC stas connected now" },
		{ "cdc", true, false, "nvme1", "nvme1", true, "a CDC stas connected now" },
		{ "ddc", false, false, "nvme1", "nvme1", false,
		  "an AEN on the connection registered when made: not again" },
		{ "ddc", false, true, "nvme1", "nvme1", true,
		  "rediscover (the kernel reconnected it): again" },
		{ "cdc", false, true, NULL, "nvme4", true, "rediscover, no record: register" },
		{ "ddc", false, false, "nvme2", "nvme1", true,
		  "the record names another connection: register on this one" },
		{ "ddc", false, false, "", "nvme1", true, "no recorded connection: register" },
		{ "ddc", false, false, NULL, "nvme1", true, "no record: register" },
		{ "none", true, true, NULL, "nvme1", false, "not a DDC/CDC: never" },
		{ "", true, false, NULL, "nvme1", false, "dctype unknown: never" },
		{ NULL, true, true, NULL, "nvme1", false, "dctype absent: never" },
		{ "DDC", true, false, NULL, "nvme1", false, "dctype is the kernel's lower case" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ok(dim_register_wanted(t[i].dctype, t[i].here, t[i].reconnected, t[i].recorded,
				       t[i].device) == t[i].want,
		   "%s", t[i].why);
	return tap_done();
}
