/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>

#include "discover-policy.h"
#include "macro.h"

bool dim_register_wanted(const char *dctype, bool connected_here, bool reconnected,
			 const char *recorded_device, const char *device)
{
	if (!streq_ptr(dctype, "ddc") && !streq_ptr(dctype, "cdc"))
		return false;
	if (connected_here || reconnected)
		return true;
	return isempty(recorded_device) || !streq_ptr(recorded_device, device);
}
