/* SPDX-License-Identifier: Apache-2.0 */
/*
 * discover-policy.h - stas-discover's decisions that depend on nothing but
 * their arguments, kept apart so tests/test-discover-policy can check them.
 */
#pragma once

#include <stdbool.h>

/**
 * dim_register_wanted() - whether to register (TP8010 DIM) with the DC of
 * this session now. Only a DDC or CDC (@dctype "ddc", "cdc") takes a
 * registration, and it holds for one association: register on a connection
 * stas made in this run (@connected_here), after the kernel reconnected it
 * (@reconnected: NVME_EVENT=rediscover, the old association's registration
 * is gone), or when the cache does not record this connection as the one
 * stas registered on (@recorded_device, the DC record's device, NULL or ""
 * for none, differs from @device).
 * Return: true to register.
 */
bool dim_register_wanted(const char *dctype, bool connected_here, bool reconnected,
			 const char *recorded_device, const char *device);
