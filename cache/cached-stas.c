/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cached-stas.c - org.nvmexpress.stas at /org/nvmexpress/stas: stas's own
 * typed interface over the cache (stas-dbus(7)). Dictionaries use the keys
 * of "stasadm --json"; DLP entries and paths are arrays of structs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "cache.h"
#include "cached-notify.h"
#include "dlpe.h"
#include "hostid.h"
#include "macro.h"
#include "stas-cached.h"
#include "status.h"
#include "tid.h"

#define ENTRY_SIG "(usssssssqqqqy)"
#define PATH_SIG "(ssssssssubisst)"

static int append_tid(sd_bus_message *m, const struct tid *t)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "{ss}");
	for (int f = 0; r >= 0 && f < _TID_FIELD_MAX; f++)
		r = sd_bus_message_append(m, "{ss}", tid_field_to_string(f), tid_field_get(t, f));
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

static int append_sv_tid(sd_bus_message *m, const char *key, const struct tid *t)
{
	int r;

	r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append_basic(m, 's', key);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "a{ss}");
	if (r >= 0)
		r = append_tid(m, t);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

/* One DC as a{sv}, with the keys and values of stasadm's JSON. */
static int append_dc(sd_bus_message *m, const struct cache_dc *dc)
{
	char key[TID_KEY_MAX];
	int r;

	if (tid_key(&dc->tid, key, sizeof(key)) < 0)
		key[0] = '\0';
	r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}", "key", "s", key);
	if (r >= 0)
		r = append_sv_tid(m, "tid", &dc->tid);
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}", "origin", "s",
					  cache_origin_to_string(dc->origin), "dctype", "s",
					  cache_dctype_to_string(dc->dctype), "state", "s",
					  status_dc_state(dc), "persistent", "b",
					  (int)dc->persistent, "kato", "u", dc->kato, "device", "s",
					  dc->device, "instance-key", "s", dc->instance_key,
					  "genctr", "t", dc->genctr, "entries", "u", dc->n_entries);
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}", "last-read-usec",
					  "t", dc->last_read_usec, "stale", "b", (int)dc->stale,
					  "last-errno", "i", dc->last_errno, "last-error", "s",
					  dc->last_error, "last-error-usec", "t",
					  dc->last_error_usec, "mdns-advertised", "b",
					  (int)dc->mdns_advertised, "mdns-last-advertised-usec",
					  "t", dc->mdns_last_advertised_usec, "referral-depth", "y",
					  dc->referral_depth);
	if (r >= 0 && !isempty(dc->referrer.transport))
		r = append_sv_tid(m, "referrer", &dc->referrer);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

static int reply_new(sd_bus_message *m, sd_bus_message **ret)
{
	return sd_bus_message_new_method_return(m, ret);
}

static int method_list_dcs(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_free_ struct cache_dc *dcs = NULL;
	struct context *ctx = userdata;
	struct cache *c;
	size_t n = 0;
	int r;

	r = context_cache(ctx, error, &c);
	if (r < 0)
		return r;
	r = status_dc_list(c, &dcs, &n);
	if (r < 0)
		return cached_error_cache(error, r);
	r = reply_new(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "a{sv}");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = append_dc(reply, &dcs[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int entry_cb(const struct cache_dc *dc, const struct dlpe *e, uint32_t index, void *ud)
{
	int r;

	r = sd_bus_message_append(ud, ENTRY_SIG, index, dlpe_subtype_to_string(e->subtype),
				  e->transport, dlpe_adrfam_to_string(e->adrfam), e->traddr,
				  e->trsvcid, e->subnqn, dlpe_treq_to_string(e->treq), e->portid,
				  e->cntlid, e->asqsz, e->eflags, e->tsas_sectype);
	return MIN(r, 0); /* >0 would stop the iteration */
}

static int method_get_dc(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct context *ctx = userdata;
	struct cache_dc dc;
	struct cache *c;
	const char *key;
	struct tid t;
	int r;

	r = sd_bus_message_read(m, "s", &key);
	if (r < 0)
		return r;
	if (cached_check_args(error, &key, 1) < 0)
		return -EINVAL;
	if (tid_from_key(key, &t) < 0 || tid_canonicalize(&t) < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "Not a DC key (transport/traddr/trsvcid/subsysnqn/"
					 "host-traddr/host-iface/host-nqn, as ListDCs() gives).");
	r = context_cache(ctx, error, &c);
	if (r < 0)
		return r;
	r = c ? cache_dc_get(c, &t, &dc) : 0;
	if (r < 0)
		return cached_error_cache(error, r);
	if (r == 0)
		return sd_bus_error_setf(error, CACHED_ERROR_NO_SUCH_DC, "No DC %s in the cache.",
					 key);
	r = reply_new(m, &reply);
	if (r >= 0)
		r = append_dc(reply, &dc);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', ENTRY_SIG);
	if (r >= 0) {
		r = cache_entries_foreach_dc(c, &t, entry_cb, reply);
		if (r == -ENOENT) /* purged between the two reads */
			return sd_bus_error_setf(error, CACHED_ERROR_NO_SUCH_DC,
						 "No DC %s in the cache.", key);
		if (r < 0 && r != -ENOMEM && r != -ENXIO)
			return cached_error_cache(error, r);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

struct subsys_row {
	char *nqn;
	unsigned entries, paths;
};

struct subsys_rows {
	struct subsys_row *v;
	size_t n, alloc;
};

static int subsys_row_cb(const char *nqn, unsigned n, void *ud)
{
	struct subsys_rows *l = ud;

	if (GREEDY_REALLOC(l->v, l->alloc, l->n) < 0)
		return -ENOMEM;
	l->v[l->n] = (struct subsys_row){ .nqn = strdup(nqn), .entries = n };
	if (!l->v[l->n].nqn)
		return -ENOMEM;
	l->n++;
	return 0;
}

static int subsys_path_cb(const struct cache_path *p, void *ud)
{
	struct subsys_rows *l = ud;

	for (size_t i = 0; i < l->n; i++)
		if (streq(l->v[i].nqn, p->tid.subsysnqn)) {
			l->v[i].paths++;
			return 0;
		}
	/* a subsystem no DC lists any more, with path records left */
	if (subsys_row_cb(p->tid.subsysnqn, 0, l) < 0)
		return -ENOMEM;
	l->v[l->n - 1].paths = 1;
	return 0;
}

static int subsys_cmp(const void *a, const void *b)
{
	return strcmp(((const struct subsys_row *)a)->nqn, ((const struct subsys_row *)b)->nqn);
}

static void subsys_rows_done(struct subsys_rows *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].nqn);
	free(l->v);
}

static int method_list_subsystems(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(subsys_rows_done) struct subsys_rows l = {};
	struct context *ctx = userdata;
	struct cache *c;
	int r;

	r = context_cache(ctx, error, &c);
	if (r < 0)
		return r;
	if (c) {
		r = cache_nqns_foreach(c, subsys_row_cb, &l);
		if (r >= 0)
			r = cache_path_foreach(c, NULL, subsys_path_cb, &l);
		if (r < 0)
			return r == -ENOMEM ? r : cached_error_cache(error, r);
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), subsys_cmp);
	r = reply_new(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(suu)");
	for (size_t i = 0; r >= 0 && i < l.n; i++)
		r = sd_bus_message_append(reply, "(suu)", l.v[i].nqn, l.v[i].entries, l.v[i].paths);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int path_cb(const struct cache_path *p, void *ud)
{
	const struct tid *t = &p->tid;

	int r;

	r = sd_bus_message_append(ud, PATH_SIG, t->transport, t->traddr, t->trsvcid, t->host_traddr,
				  t->host_iface, t->host_nqn, cache_path_owner_to_string(p->owner),
				  cache_path_state_to_string(p->state), p->attempts, (int)p->ncc,
				  p->last_errno, p->last_error, p->device, p->updated_usec);
	return MIN(r, 0); /* >0 would stop the iteration */
}

static int method_get_subsystem_paths(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct context *ctx = userdata;
	struct cache *c;
	const char *nqn;
	int r;

	r = sd_bus_message_read(m, "s", &nqn);
	if (r < 0)
		return r;
	if (cached_check_args(error, &nqn, 1) < 0)
		return -EINVAL;
	if (!nqn_is_valid(nqn))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "Not a valid subsystem NQN.");
	r = context_cache(ctx, error, &c);
	if (r < 0)
		return r;
	r = reply_new(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', PATH_SIG);
	if (r >= 0 && c) {
		r = cache_path_foreach(c, nqn, path_cb, reply);
		if (r < 0 && r != -ENOMEM && r != -ENXIO)
			return cached_error_cache(error, r);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

/* {key: variant(a{sv})} and open the inner dictionary. */
static int open_sv_dict(sd_bus_message *m, const char *key)
{
	int r;

	r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append_basic(m, 's', key);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "a{sv}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	return r;
}

static int close_sv_dict(sd_bus_message *m)
{
	int r;

	r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

/* The content of "stasadm status --json"; JSON nulls are left out. */
static int append_status(sd_bus_message *m, const struct status *st)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sv}");

	if (r >= 0)
		r = open_sv_dict(m, "host");
	if (r >= 0 && st->hostnqn)
		r = sd_bus_message_append(m, "{sv}", "hostnqn", "s", st->hostnqn);
	if (r >= 0 && st->hostid)
		r = sd_bus_message_append(m, "{sv}", "hostid", "s", st->hostid);
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}{sv}", "hostnqn-source", "s", st->hostnqn_source,
					  "hostid-source", "s", st->hostid_source);
	if (r >= 0)
		r = close_sv_dict(m);

	if (r >= 0)
		r = open_sv_dict(m, "config");
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}{sv}{sv}", "path", "s", st->config_path, "exists",
					  "b", (int)st->config_exists, "valid", "b",
					  (int)st->config_valid);
	if (r >= 0 && st->config_errors) {
		r = sd_bus_message_open_container(m, 'e', "sv");
		if (r >= 0)
			r = sd_bus_message_append(m, "s", "errors");
		if (r >= 0)
			r = sd_bus_message_open_container(m, 'v', "as");
		if (r >= 0)
			r = sd_bus_message_append_strv(m, st->config_errors);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	if (r >= 0)
		r = close_sv_dict(m);

	if (r >= 0)
		r = open_sv_dict(m, "cache");
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}", "directory", "s", st->cache_dir,
					  "exists", "b", (int)st->cache_exists, "file-size", "x",
					  (int64_t)st->stats.file_size, "schema", "x",
					  (int64_t)st->stats.schema);
	if (r >= 0)
		r = close_sv_dict(m);

	if (r >= 0)
		r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", "dcs");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "aa{sv}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "a{sv}");
	for (size_t i = 0; r >= 0 && i < st->n_dcs; i++)
		r = append_dc(m, &st->dcs[i]);
	for (int k = 0; r >= 0 && k < 3; k++)
		r = sd_bus_message_close_container(m);

	if (r >= 0)
		r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", "subsystems");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "aa{sv}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "a{sv}");
	for (size_t i = 0; r >= 0 && i < st->n_subsystems; i++) {
		const struct status_subsys *s = &st->subsystems[i];
		r = sd_bus_message_open_container(m, 'a', "{sv}");
		if (r >= 0)
			r = sd_bus_message_append(m, "{sv}{sv}", "nqn", "s", s->nqn, "wanted", "x",
						  (int64_t)s->wanted);
		if (r >= 0 && s->live >= 0)
			r = sd_bus_message_append(m, "{sv}", "live", "x", (int64_t)s->live);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	for (int k = 0; r >= 0 && k < 3; k++)
		r = sd_bus_message_close_container(m);

	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

static int method_get_status(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_status_ struct status *st = NULL;
	struct context *ctx = userdata;
	struct cache *c = NULL;
	int r;

	/* A cache that cannot be opened is part of the status, not an error. */
	(void)context_cache(ctx, NULL, &c);
	r = status_collect(c, ctx->cache_dir, ctx->config_path, &st);
	if (r < 0)
		return r;
	r = reply_new(m, &reply);
	if (r >= 0)
		r = append_status(reply, st);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

/* ---- properties -------------------------------------------------------- */

static int prop_host_file(sd_bus_message *reply, const char *path)
{
	_cleanup_free_ char *v = NULL;

	(void)hostid_read_file(path, &v);
	return sd_bus_message_append(reply, "s", strempty(v));
}

static int prop_get(sd_bus *bus, const char *path, const char *interface, const char *property,
		    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct context *ctx = userdata;
	struct cache_stats st = {};
	struct cache *c = NULL;
	int r;

	if (streq(property, "HostNQN"))
		return prop_host_file(reply, HOSTNQN_PATH);
	if (streq(property, "HostID"))
		return prop_host_file(reply, HOSTID_PATH);
	if (streq(property, "ConfigFile"))
		return sd_bus_message_append(reply, "s",
					     ctx->config_path ?: SYSCONFDIR "/stas/stas.conf");
	if (streq(property, "CacheDirectory"))
		return sd_bus_message_append(reply, "s", ctx->cache_dir ?: cache_default_dir());
	if (streq(property, "Version"))
		return sd_bus_message_append(reply, "s", STAS_VERSION);

	r = context_cache(ctx, error, &c);
	if (r < 0)
		return r;
	if (c) {
		r = cache_stats(c, &st);
		if (r < 0)
			return cached_error_cache(error, r);
	}
	if (streq(property, "CacheSchema"))
		return sd_bus_message_append(reply, "u", st.schema);
	if (streq(property, "CacheSize"))
		return sd_bus_message_append(reply, "t", st.file_size);
	if (streq(property, "DCCount"))
		return sd_bus_message_append(reply, "t", st.n_dcs);
	if (streq(property, "EntryCount"))
		return sd_bus_message_append(reply, "t", st.n_entries);
	if (streq(property, "SubsystemCount"))
		return sd_bus_message_append(reply, "t", st.n_nqns);
	if (streq(property, "PathCount"))
		return sd_bus_message_append(reply, "t", st.n_paths);
	return -ENOENT;
}

#define PROP_CONST(name, sig) SD_BUS_PROPERTY(name, sig, prop_get, 0, SD_BUS_VTABLE_PROPERTY_CONST)
#define PROP_CHANGING(name, sig) \
	SD_BUS_PROPERTY(name, sig, prop_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION)

const sd_bus_vtable stas_vtable[] = {
	SD_BUS_VTABLE_START(0),
	PROP_CONST("Version", "s"),
	PROP_CHANGING("HostNQN", "s"),
	PROP_CHANGING("HostID", "s"),
	PROP_CONST("ConfigFile", "s"),
	PROP_CONST("CacheDirectory", "s"),
	PROP_CHANGING("CacheSchema", "u"),
	PROP_CHANGING("CacheSize", "t"),
	PROP_CHANGING("DCCount", "t"),
	PROP_CHANGING("EntryCount", "t"),
	PROP_CHANGING("SubsystemCount", "t"),
	PROP_CHANGING("PathCount", "t"),
	SD_BUS_METHOD_WITH_NAMES("ListDCs", "", , "aa{sv}", SD_BUS_PARAM(dcs), method_list_dcs,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("GetDC", "s", SD_BUS_PARAM(key), "a{sv}a" ENTRY_SIG,
				 SD_BUS_PARAM(dc) SD_BUS_PARAM(entries), method_get_dc,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ListSubsystems", "", , "a(suu)", SD_BUS_PARAM(subsystems),
				 method_list_subsystems, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("GetSubsystemPaths", "s", SD_BUS_PARAM(nqn), "a" PATH_SIG,
				 SD_BUS_PARAM(paths), method_get_subsystem_paths,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("GetStatus", "", , "a{sv}", SD_BUS_PARAM(status),
				 method_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Notify", "asas", SD_BUS_PARAM(dc_keys) SD_BUS_PARAM(nqns), "", ,
				 method_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("LogPagesChanged", "s", SD_BUS_PARAM(dc_key), 0),
	SD_BUS_SIGNAL_WITH_NAMES("DCRemoved", "s", SD_BUS_PARAM(dc_key), 0),
	SD_BUS_SIGNAL_WITH_NAMES("PathsChanged", "s", SD_BUS_PARAM(nqn), 0),
	SD_BUS_VTABLE_END,
};
