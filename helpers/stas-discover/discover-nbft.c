/* SPDX-License-Identifier: Apache-2.0 */
/*
 * discover-nbft.c - the boot firmware's discovery controllers (NBFT
 * Discovery descriptors) as configured controllers: each keeps the table's
 * host NQN (in its transport ID, with the HFI's address as host-traddr) and
 * host ID, and takes every other option from the discovery section. The
 * I/O controllers their log pages list are connected by the normal policy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "macro.h"
#include "nbft.h"
#include "stas-discover.h"

static void opts_unset(struct config_conn_opts *o)
{
	int32_t *f = (int32_t *)o;

	/* every field is an int32_t: CONFIG_UNSET is "not set at this level" */
	for (size_t i = 0; i < sizeof(*o) / sizeof(int32_t); i++)
		f[i] = CONFIG_UNSET;
}

static int dc_add(struct discover *d, const struct nbft *t, const struct nbft_dc *dc, size_t *alloc)
{
	struct config_controller c = { .tid = dc->tid };

	if (nbft_dc_find(d, &dc->tid))
		return 0; /* named by two tables */
	opts_unset(&c.opts);
	opts_unset(&c.io_defaults);
	if (!isempty(t->host_id) && !(c.host_id = strdup(t->host_id)))
		return -ENOMEM;
	if (asprintf(&c.source, "%s discovery descriptor %u", t->path, dc->index) < 0) {
		free(c.host_id);
		return -ENOMEM;
	}
	if (GREEDY_REALLOC(d->nbft_dcs, *alloc, d->n_nbft_dcs) < 0) {
		free(c.host_id);
		free(c.source);
		return -ENOMEM;
	}
	log_debug("NBFT discovery controller from %s.", c.source);
	d->nbft_dcs[d->n_nbft_dcs++] = c;
	return 1;
}

int nbft_dcs_load(struct discover *d)
{
	_cleanup_strv_free_ char **errors = NULL;
	struct nbft **v = NULL;
	size_t alloc = 0;
	int r;

	if (d->nbft_loaded)
		return (int)d->n_nbft_dcs;
	d->nbft_loaded = true;
	r = nbft_load_all(&v, &errors);
	if (r < 0)
		return r;
	STRV_FOREACH(e, errors)
		log_error("Ignoring NBFT table %s.", *e);
	r = 0;
	for (struct nbft **t = v; r >= 0 && t && *t; t++)
		for (size_t i = 0; r >= 0 && i < (*t)->n_dcs; i++)
			r = dc_add(d, *t, &(*t)->dcs[i], &alloc);
	nbft_list_free(v);
	return r < 0 ? r : (int)d->n_nbft_dcs;
}

const struct config_controller *nbft_dc_find(struct discover *d, const struct tid *t)
{
	if (!d->nbft_loaded && nbft_dcs_load(d) < 0)
		return NULL;
	for (size_t i = 0; i < d->n_nbft_dcs; i++)
		if (tid_equal(&d->nbft_dcs[i].tid, t))
			return &d->nbft_dcs[i];
	return NULL;
}

void nbft_dcs_free(struct discover *d)
{
	for (size_t i = 0; i < d->n_nbft_dcs; i++) {
		free(d->nbft_dcs[i].host_id);
		free(d->nbft_dcs[i].source);
	}
	free(d->nbft_dcs);
	d->nbft_dcs = NULL;
	d->n_nbft_dcs = 0;
}
