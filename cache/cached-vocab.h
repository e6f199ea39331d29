/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cached-vocab.h - the words nvme-stas's D-Bus API uses for Discovery Log
 * Page entry fields and DC origins, in ONE place.
 *
 * nvme-stas passes the dictionaries of libnvme's Python binding through:
 * trtype, adrfam and treq spelled by libnvme's nvmf_trtype_str(),
 * nvmf_adrfam_str() and nvmf_treq_str() ("tcp", "ipv4", "not specified"),
 * subtype by the binding itself ("referral", "nvme", "discovery", else the
 * number), numbers in decimal. stas's own interface uses lib/dlpe.h's words.
 *
 * TODO(merge): lib/dlpe.c is getting this table (issue 9); switch the
 * functions below to it then.
 */
#pragma once

#include <stdint.h>

#include "cache.h"
#include "dlpe.h"

/* The value of DLP entry key @key ("trtype", "subtype", ...) as nvme-stas
 * shows it. @buf (>= 16 bytes) holds numbers. */
const char *vocab_dlpe_trtype(const struct dlpe *e);
const char *vocab_dlpe_adrfam(const struct dlpe *e);
const char *vocab_dlpe_subtype(const struct dlpe *e, char *buf, size_t size);
const char *vocab_dlpe_treq(const struct dlpe *e);

/* nvme-stas's origins: config/manual -> "configured", mdns/udev ->
 * "discovered", referral -> "referral". */
const char *vocab_origin(enum cache_origin o);
