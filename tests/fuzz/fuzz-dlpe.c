/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Discovery Log Page entry from the network. Properties: the validator
 * never crashes, and an entry it accepts survives a round trip through the
 * raw form unchanged (so what the cache stores is a fixed point); the page
 * header check never accepts a numrec above DLP_ENTRIES_MAX.
 */
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "dlpe.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvmf_disc_log_entry raw, raw2;
	struct dlpe e, e2;

	uint64_t numrec;

	if (dlpe_log_header_check(data, size, &numrec, NULL) == 0 && numrec > DLP_ENTRIES_MAX)
		abort();
	memset(&raw, 0, sizeof(raw));
	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	if (dlpe_from_nvmf(&raw, &e, NULL) < 0)
		return 0;
	dlpe_to_nvmf(&e, &raw2);
	if (dlpe_from_nvmf(&raw2, &e2, NULL) < 0 || !dlpe_equal(&e, &e2))
		abort();
	return 0;
}
