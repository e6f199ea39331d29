/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cached-vocab.c - see cached-vocab.h.
 */
#include <nvme/fabrics.h>
#include <stdio.h>

#include "cached-vocab.h"

const char *vocab_dlpe_trtype(const struct dlpe *e)
{
	return nvmf_trtype_str(e->trtype);
}

const char *vocab_dlpe_adrfam(const struct dlpe *e)
{
	return nvmf_adrfam_str(e->adrfam);
}

const char *vocab_dlpe_subtype(const struct dlpe *e, char *buf, size_t size)
{
	switch (e->subtype) {
	case DLPE_SUBTYPE_REFERRAL:
		return "referral";
	case DLPE_SUBTYPE_NVME:
		return "nvme";
	case DLPE_SUBTYPE_CURRENT:
		return "discovery";
	default:
		(void)snprintf(buf, size, "%u", e->subtype);
		return buf;
	}
}

const char *vocab_dlpe_treq(const struct dlpe *e)
{
	return nvmf_treq_str(e->treq);
}

const char *vocab_origin(enum cache_origin o)
{
	switch (o) {
	case CACHE_ORIGIN_CONFIG:
	case CACHE_ORIGIN_MANUAL:
		return "configured";
	case CACHE_ORIGIN_MDNS:
	case CACHE_ORIGIN_UDEV:
		return "discovered";
	case CACHE_ORIGIN_REFERRAL:
		return "referral";
	case _CACHE_ORIGIN_MAX:
		break;
	}
	return "unknown";
}
