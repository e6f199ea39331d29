/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stasadm-registry.h - the live-controller view the other verbs borrow.
 */
#pragma once

#include <json-c/json.h>

#include "kernel.h"

/*
 * The kernel's fabrics controllers (discovery and I/O; of subsystem @nqn
 * only when non-NULL), each with its registry owner.
 * Return: the count with a malloc()ed array in *ret, or negative errno.
 */
int live_ctrls(const char *nqn, struct kctrl **ret);

/* A table: device, type, state, owner, address, src_addr, NQN. */
void live_ctrls_print(const struct kctrl *v, size_t n);

json_object *kctrl_to_json(const struct kctrl *k);
