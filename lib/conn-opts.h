/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conn-opts.h - from the configuration's effective options for one path
 * (config_conn_opts_resolve()) to the connect options lib/kernel.h takes.
 * One mapping, used by stas-discover for DCs and by reconcile for IOCs.
 */
#pragma once

#include "conf.h"
#include "kernel.h"

/**
 * conn_opts_from_config() - fill @ret from @p: integer options left
 * CONFIG_UNSET become 0 (the kernel's default), ctrl-loss-tmo is passed
 * only when set, booleans as resolved. The strings in @ret point into @p.
 */
void conn_opts_from_config(const struct config_path_opts *p, struct kconn_opts *ret);
