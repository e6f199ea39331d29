/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cached-compat.c - nvme-stas's D-Bus API, complete, so that stafctl,
 * stacctl and scripts written for nvme-stas work unchanged:
 * org.nvmexpress.staf (+ .debug) at /org/nvmexpress/staf and
 * org.nvmexpress.stac (+ .debug) at /org/nvmexpress/stac, with the members,
 * signatures, dictionary keys and value words of nvme-stas 2.x
 * (staslib/stafd.idl, stacd.idl). Everything comes from the cache and
 * sysfs. Unlike nvme-stas, no dictionary ever carries a DH-HMAC-CHAP secret
 * (nvme-stas copies a controller's configured options, secrets included,
 * into its controller IDs): the controller IDs here are the seven
 * transport-ID fields and the device, nothing from the configuration.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "cache.h"
#include "conf.h"
#include "dlpe.h"
#include "fileio.h"
#include "hostid.h"
#include "kernel.h"
#include "log.h"
#include "macro.h"
#include "stas-cached.h"
#include "status.h"
#include "tid.h"

/*
 * nvme-stas passes the dictionaries of libnvme's Python binding through:
 * trtype, adrfam and treq in libnvme's words (lib/dlpe.h has the same
 * tables), but subtype spelled by the binding itself ("referral", "nvme",
 * "discovery", else the number), and DC origins in its own words.
 */
static const char *compat_subtype(const struct dlpe *e, char *buf, size_t size)
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

/* config/manual -> "configured", mdns/udev -> "discovered", referral -> "referral". */
static const char *compat_origin(enum cache_origin o)
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

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)
#define _cleanup_json_ _cleanup_(json_object_putp)

/* ---- a small ordered string dictionary, sent as a{ss} or JSON ---------- */

#define KVS_MAX 40

struct kvs {
	size_t n;
	struct {
		const char *k;
		char *v;
	} e[KVS_MAX];
	bool oom;
};

static void kvs_done(struct kvs *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->e[i].v);
	d->n = 0;
}

static void kvs_add(struct kvs *d, const char *k, const char *fmt, ...) _printf_(3, 4);
static void kvs_add(struct kvs *d, const char *k, const char *fmt, ...)
{
	va_list ap;
	char *v;

	assert(d->n < KVS_MAX);
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0) {
		d->oom = true;
		v = NULL;
	}
	va_end(ap);
	if (!v)
		return;
	d->e[d->n].k = k;
	d->e[d->n++].v = v;
}

static int kvs_append(sd_bus_message *m, const struct kvs *d)
{
	int r;

	if (d->oom)
		return -ENOMEM;
	r = sd_bus_message_open_container(m, 'a', "{ss}");
	for (size_t i = 0; r >= 0 && i < d->n; i++)
		r = sd_bus_message_append(m, "{ss}", d->e[i].k, d->e[i].v);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

static json_object *kvs_to_json(const struct kvs *d)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; o && i < d->n; i++)
		json_object_object_add(o, d->e[i].k, json_object_new_string(d->e[i].v));
	return o;
}

/* ---- controller IDs ----------------------------------------------------- */

static bool device_name_is_valid(const char *dev)
{
	if (strncmp(dev, "nvme", 4) != 0 || !dev[4] || strlen(dev) > 16)
		return false;
	for (const char *p = dev + 4; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* One sysfs attribute of controller @dev, "" when absent. */
static void sysfs_attr(struct kvs *d, const char *dev, const char *attr)
{
	_cleanup_free_ char *path = NULL, *v = NULL;
	size_t n = 0;

	if (device_name_is_valid(dev) && asprintf(&path, "/sys/class/nvme/%s/%s", dev, attr) >= 0 &&
	    read_full_file(path, 4096, &v, &n) >= 0) {
		while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == ' '))
			v[--n] = '\0';
		kvs_add(d, attr, "%s", v);
		return;
	}
	kvs_add(d, attr, "%s", "");
}

static const char *host_nqn_of(const struct context *ctx, const struct tid *t)
{
	return isempty(t->host_nqn) ? strempty(ctx->hostnqn) : t->host_nqn;
}

/* nvme-stas's controller_id_dict(): the TID fields and the device. */
static void kvs_cid(struct kvs *d, const struct context *ctx, const struct tid *t,
		    const char *device)
{
	kvs_add(d, "transport", "%s", t->transport);
	kvs_add(d, "traddr", "%s", t->traddr);
	kvs_add(d, "trsvcid", "%s", t->trsvcid);
	kvs_add(d, "subsysnqn", "%s", t->subsysnqn);
	kvs_add(d, "host-traddr", "%s", t->host_traddr);
	kvs_add(d, "host-iface", "%s", t->host_iface);
	kvs_add(d, "host-nqn", "%s", host_nqn_of(ctx, t));
	kvs_add(d, "device", "%s", device);
}

int compat_append_cid(sd_bus_message *m, const struct context *ctx, const struct tid *t,
		      const char *device)
{
	_cleanup_(kvs_done) struct kvs d = {};

	kvs_cid(&d, ctx, t, device);
	return kvs_append(m, &d);
}

/* The kernel's view of @device: udev attributes and whether it is live. */
static void kvs_kernel(struct kvs *d, const char *device)
{
	struct kctrl k;
	bool live = false;

	if (device_name_is_valid(device) && kernel_ctrl_read(device, &k) >= 0)
		live = streq(k.state, "live");
	sysfs_attr(d, device, "hostid");
	sysfs_attr(d, device, "hostnqn");
	sysfs_attr(d, device, "model");
	sysfs_attr(d, device, "serial");
	sysfs_attr(d, device, "dctype");
	sysfs_attr(d, device, "cntrltype");
	kvs_add(d, "connected", "%s", live ? "True" : "False");
}

/* list_controllers(True) of stafd: Dc.details(). */
static void kvs_dc_details(struct kvs *d, const struct context *ctx, const struct cache_dc *dc)
{
	kvs_cid(d, ctx, &dc->tid, dc->device);
	kvs_add(d, "origin", "%s", compat_origin(dc->origin));
	kvs_kernel(d, dc->device);
}

/* controller_info() of stafd: the ID, the origin and what the cache knows. */
static void kvs_dc_info(struct kvs *d, const struct context *ctx, const struct cache_dc *dc)
{
	kvs_cid(d, ctx, &dc->tid, dc->device);
	kvs_add(d, "origin", "%s", compat_origin(dc->origin));
	kvs_add(d, "dctype", "%s", cache_dctype_to_string(dc->dctype));
	kvs_add(d, "persistent", "%s", dc->persistent ? "True" : "False");
	kvs_add(d, "state", "%s", status_dc_state(dc));
	kvs_add(d, "genctr", "%" PRIu64, dc->genctr);
	kvs_add(d, "log pages", "%" PRIu32, dc->n_entries);
	kvs_add(d, "last read usec", "%" PRIu64, dc->last_read_usec);
	kvs_add(d, "last error", "%s", dc->last_error);
}

/* One DLP entry with libnvme's Python binding's keys and words. */
static void kvs_dlpe(struct kvs *d, const struct dlpe *e)
{
	char sub[16];

	kvs_add(d, "trtype", "%s", dlpe_trtype_to_string(e->trtype));
	kvs_add(d, "adrfam", "%s", dlpe_adrfam_to_string(e->adrfam));
	kvs_add(d, "traddr", "%s", e->traddr);
	kvs_add(d, "trsvcid", "%s", e->trsvcid);
	kvs_add(d, "subnqn", "%s", e->subnqn);
	kvs_add(d, "subtype", "%s", compat_subtype(e, sub, sizeof(sub)));
	kvs_add(d, "treq", "%s", dlpe_treq_to_string(e->treq));
	kvs_add(d, "portid", "%u", e->portid);
	kvs_add(d, "cntlid", "%u", e->cntlid);
	kvs_add(d, "asqsz", "%u", e->asqsz);
	kvs_add(d, "eflags", "%u", e->eflags);
}

/*
 * The seven strings of nvme-stas's methods as a pattern: validated field by
 * field (empty = unset), canonical (IP forms, case).
 */
static int cid_parse(sd_bus_message *m, sd_bus_error *error, struct tid *ret)
{
	const char *a[_TID_FIELD_MAX];
	struct tid p = {};
	int r;

	r = sd_bus_message_read(m, "sssssss", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6]);
	if (r < 0)
		return r;
	r = cached_check_args(error, a, _TID_FIELD_MAX);
	if (r < 0)
		return -EINVAL;
	for (int f = 0; f < _TID_FIELD_MAX; f++) {
		r = tid_field_set(&p, f, a[f]);
		if (r < 0)
			return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s: %s",
						 tid_field_to_string(f),
						 r == -ENAMETOOLONG ? "too long" : "malformed");
	}
	if (tid_pattern_canonicalize(&p) < 0)
		return sd_bus_error_setf(
			error, SD_BUS_ERROR_INVALID_ARGS,
			"Invalid controller ID (transport, traddr, trsvcid, ...).");
	*ret = p;
	return 0;
}

/*
 * Whether controller @t answers to pattern @p: the default trsvcid of the
 * transport stands for an empty one, an empty host NQN for this host's, and
 * for a DC (@discovery) the well-known discovery NQN (what stafctl sends
 * by default) for any NQN the DC has. A pattern without transport or
 * address matches nothing. Return: 2 exact, 1 match, 0 no.
 */
static int cid_match(const struct context *ctx, const struct tid *pattern, const struct tid *t,
		     bool discovery)
{
	struct tid p = *pattern, c = *t;
	bool exact_nqn;

	if (isempty(p.transport) || isempty(p.traddr))
		return 0;
	tid_set_default_trsvcid(&p, discovery);
	tid_set_default_trsvcid(&c, discovery);
	if (isempty(c.host_nqn) && ctx->hostnqn)
		(void)snprintf(c.host_nqn, sizeof(c.host_nqn), "%s", ctx->hostnqn);
	exact_nqn = streq(p.subsysnqn, c.subsysnqn);
	if (discovery && (isempty(p.subsysnqn) || streq(p.subsysnqn, NVME_DISC_SUBSYS_NQN)))
		p.subsysnqn[0] = '\0';
	if (!tid_match(&p, &c))
		return 0;
	return exact_nqn ? 2 : 1;
}

/* The DC @p names (the best match), from the cache. Return: 1 found, 0 not, <0. */
static int dc_find(struct context *ctx, const struct tid *p, sd_bus_error *error,
		   struct cache_dc *ret)
{
	_cleanup_free_ struct cache_dc *dcs = NULL;
	struct cache *c;
	size_t n = 0;
	int r, best = 0;

	r = context_cache(ctx, error, &c);
	if (r < 0)
		return r;
	r = status_dc_list(c, &dcs, &n);
	if (r < 0)
		return cached_error_cache(error, r);
	for (size_t i = 0; i < n && best < 2; i++) {
		int q = cid_match(ctx, p, &dcs[i].tid, true);
		if (q > best) {
			best = q;
			*ret = dcs[i];
		}
	}
	return best > 0;
}

/* ---- org.nvmexpress.staf ------------------------------------------------ */

static int staf_list_controllers(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_free_ struct cache_dc *dcs = NULL;
	struct context *ctx = userdata;
	struct cache *c;
	size_t n = 0;
	int detailed, r;

	r = sd_bus_message_read(m, "b", &detailed);
	if (r < 0)
		return r;
	r = context_cache(ctx, error, &c);
	if (r < 0)
		return r;
	r = status_dc_list(c, &dcs, &n);
	if (r < 0)
		return cached_error_cache(error, r);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "a{ss}");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		_cleanup_(kvs_done) struct kvs d = {};

		if (detailed)
			kvs_dc_details(&d, ctx, &dcs[i]);
		else
			kvs_cid(&d, ctx, &dcs[i].tid, dcs[i].device);
		r = kvs_append(reply, &d);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int page_append_cb(const struct cache_dc *dc, const struct dlpe *e, uint32_t index, void *ud)
{
	_cleanup_(kvs_done) struct kvs d = {};

	kvs_dlpe(&d, e);
	return MIN(kvs_append(ud, &d), 0); /* >0 would stop the iteration */
}

static int staf_get_log_pages(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct context *ctx = userdata;
	struct cache_dc dc;
	struct tid p;
	int r, found;

	r = cid_parse(m, error, &p);
	if (r < 0)
		return r;
	found = dc_find(ctx, &p, error, &dc);
	if (found < 0)
		return found;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "a{ss}");
	if (r >= 0 && found) {
		r = cache_entries_foreach_dc(ctx->cache, &dc.tid, page_append_cb, reply);
		if (r == -ENOENT) /* purged meanwhile: no pages */
			r = 0;
		else if (r < 0 && r != -ENOMEM && r != -ENXIO)
			return cached_error_cache(error, r);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int page_json_cb(const struct cache_dc *dc, const struct dlpe *e, uint32_t index, void *ud)
{
	_cleanup_(kvs_done) struct kvs d = {};
	json_object *o;

	kvs_dlpe(&d, e);
	o = kvs_to_json(&d);
	if (!o || d.oom) {
		json_object_put(o);
		return -ENOMEM;
	}
	json_object_array_add(ud, o);
	return 0;
}

static int staf_get_all_log_pages(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_free_ struct cache_dc *dcs = NULL;
	_cleanup_json_ json_object *all = NULL;
	struct context *ctx = userdata;
	struct cache *c;
	size_t n = 0;
	int detailed, r;

	r = sd_bus_message_read(m, "b", &detailed);
	if (r < 0)
		return r;
	r = context_cache(ctx, error, &c);
	if (r < 0)
		return r;
	r = status_dc_list(c, &dcs, &n);
	if (r < 0)
		return cached_error_cache(error, r);
	all = json_object_new_array();
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		_cleanup_(kvs_done) struct kvs d = {};
		json_object *o = json_object_new_object(), *pages = json_object_new_array();

		if (detailed)
			kvs_dc_details(&d, ctx, &dcs[i]);
		else
			kvs_cid(&d, ctx, &dcs[i].tid, dcs[i].device);
		if (!o || !pages || d.oom) {
			json_object_put(o);
			json_object_put(pages);
			return -ENOMEM;
		}
		json_object_object_add(o, "discovery-controller", kvs_to_json(&d));
		json_object_object_add(o, "log-pages", pages);
		json_object_array_add(all, o);
		r = cache_entries_foreach_dc(c, &dcs[i].tid, page_json_cb, pages);
		if (r < 0 && r != -ENOENT)
			return r == -ENOMEM ? r : cached_error_cache(error, r);
	}
	r = sd_bus_reply_method_return(
		m, "s",
		json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	/* Thousands of entries make a tree of many small objects: give the
	 * memory back instead of keeping it resident until the idle exit. */
	json_object_put(TAKE_PTR(all));
	(void)malloc_trim(0);
	return r;
}

/* ---- org.nvmexpress.stac ------------------------------------------------ */

struct ioc_ctx {
	struct context *ctx;
	struct kctrl *live;
	int n_live;
	bool detailed;
	sd_bus_message *reply;
};

/* The DLP entry behind @p, as Python would print the dict (repr). */
struct dlpe_find {
	const struct tid *path;
	struct dlpe e;
	bool found;
};

static int dlpe_find_cb(const struct cache_dc *dc, const struct dlpe *e, uint32_t index, void *ud)
{
	struct dlpe_find *f = ud;
	struct tid t;

	dlpe_to_tid(e, &dc->tid, &t);
	if (tid_equal(&t, f->path)) {
		f->e = *e;
		f->found = true;
		return 1;
	}
	return 0;
}

static void kvs_dlpe_repr(struct kvs *d, struct cache *c, const struct tid *path)
{
	_cleanup_(kvs_done) struct kvs e = {};
	struct dlpe_find f = { .path = path };
	char buf[2048];
	size_t len = 0;

	if (!c || cache_entries_foreach_nqn(c, path->subsysnqn, dlpe_find_cb, &f) < 0 || !f.found) {
		kvs_add(d, "dlpe", "None");
		return;
	}
	kvs_dlpe(&e, &f.e);
	len += snprintf(buf + len, sizeof(buf) - len, "{");
	for (size_t i = 0; i < e.n && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s'%s': '%s'", i ? ", " : "",
				e.e[i].k, e.e[i].v);
	if (len < sizeof(buf))
		(void)snprintf(buf + len, sizeof(buf) - len, "}");
	kvs_add(d, "dlpe", "%s", buf);
}

/* The device of path @p now: the kernel's, else the record's. */
static const char *ioc_device(const struct ioc_ctx *x, const struct cache_path *p)
{
	const struct kctrl *k = kctrl_find(x->live, (size_t)MAX(x->n_live, 0), &p->tid);

	return k ? k->name : "";
}

static void kvs_ioc(struct kvs *d, const struct ioc_ctx *x, const struct cache_path *p,
		    bool detailed, bool info)
{
	const char *device = ioc_device(x, p);

	kvs_cid(d, x->ctx, &p->tid, device);
	if (!detailed && !info)
		return;
	kvs_add(d, "connect attempts", "%" PRIu32, p->attempts);
	if (info) {
		kvs_add(d, "owner", "%s", cache_path_owner_to_string(p->owner));
		kvs_add(d, "state", "%s", cache_path_state_to_string(p->state));
		kvs_add(d, "last error", "%s", p->last_error);
		return;
	}
	kvs_kernel(d, device);
	kvs_dlpe_repr(d, x->ctx->cache, &p->tid);
	kvs_add(d, "dlpe.eflags.ncc", "%s", p->ncc ? "True" : "False");
}

static int ioc_list_cb(const struct cache_path *p, void *ud)
{
	_cleanup_(kvs_done) struct kvs d = {};
	struct ioc_ctx *x = ud;

	kvs_ioc(&d, x, p, x->detailed, false);
	return MIN(kvs_append(x->reply, &d), 0); /* >0 would stop the iteration */
}

static int stac_list_controllers(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_free_ struct kctrl *live = NULL;
	struct ioc_ctx x = { .ctx = userdata };
	struct cache *c;
	int detailed, r;

	r = sd_bus_message_read(m, "b", &detailed);
	if (r < 0)
		return r;
	r = context_cache(x.ctx, error, &c);
	if (r < 0)
		return r;
	x.n_live = kernel_ctrls_scan(NULL, false, false, &live);
	x.live = live;
	x.detailed = detailed;
	r = sd_bus_message_new_method_return(m, &reply);
	x.reply = reply;
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "a{ss}");
	if (r >= 0 && c) {
		r = cache_path_foreach(c, NULL, ioc_list_cb, &x);
		if (r < 0 && r != -ENOMEM && r != -ENXIO)
			return cached_error_cache(error, r);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

struct ioc_find {
	const struct context *ctx;
	const struct tid *pattern;
	struct cache_path found;
	int best;
};

static int ioc_find_cb(const struct cache_path *p, void *ud)
{
	struct ioc_find *f = ud;
	int q = cid_match(f->ctx, f->pattern, &p->tid, false);

	if (q > f->best) {
		f->best = q;
		f->found = *p;
	}
	return f->best >= 2;
}

/* ---- .debug (both objects) --------------------------------------------- */

static int debug_get_tron(sd_bus *bus, const char *path, const char *interface,
			  const char *property, sd_bus_message *reply, void *userdata,
			  sd_bus_error *error)
{
	return sd_bus_message_append(reply, "b", log_get_max_level() >= LOG_DEBUG);
}

static int debug_set_tron(sd_bus *bus, const char *path, const char *interface,
			  const char *property, sd_bus_message *value, void *userdata,
			  sd_bus_error *error)
{
	return sd_bus_error_set(error, CACHED_ERROR_READ_ONLY,
				"stas-cached is read-only: trace output is set with 'tron' in "
				"stas.conf(5) and applies to the stas helpers.");
}

static const char *level_name(int level)
{
	/* Python logging's names, as nvme-stas reports them. */
	if (level >= LOG_DEBUG)
		return "DEBUG";
	if (level >= LOG_INFO)
		return "INFO";
	if (level >= LOG_WARNING)
		return "WARNING";
	if (level >= LOG_ERR)
		return "ERROR";
	return "CRITICAL";
}

static int debug_get_log_level(sd_bus *bus, const char *path, const char *interface,
			       const char *property, sd_bus_message *reply, void *userdata,
			       sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", level_name(log_get_max_level()));
}

static json_object *json_str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static int debug_process_info(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	static const char *const caps[] = { "host_iface", "dhchap_secret", "dhchap_ctrl_secret",
					    "tls",	  "concat",	   "discovery" };
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	_cleanup_free_ char *hostnqn = NULL, *hostid = NULL;
	_cleanup_json_ json_object *o = json_object_new_object();
	struct context *ctx = userdata;
	json_object *k = json_object_new_object();
	struct cache_stats st = {};
	struct cache *c = NULL;

	if (!o || !k) {
		json_object_put(k);
		return -ENOMEM;
	}
	(void)hostid_read_file(HOSTNQN_PATH, &hostnqn);
	(void)hostid_read_file(HOSTID_PATH, &hostid);
	(void)config_load(ctx->config_path, &cfg, NULL);
	if (context_cache(ctx, NULL, &c) > 0)
		(void)cache_stats(c, &st);

	json_object_object_add(o, "tron",
			       json_object_new_boolean(log_get_max_level() >= LOG_DEBUG));
	json_object_object_add(o, "log-level",
			       json_object_new_string(level_name(log_get_max_level())));
	json_object_object_add(o, "service", json_object_new_string("stas-cached"));
	json_object_object_add(o, "version", json_object_new_string(STAS_VERSION));
	json_object_object_add(o, "hostnqn", json_str_or_null(hostnqn));
	json_object_object_add(o, "hostid", json_str_or_null(hostid));
	/* the host key is a secret: never */
	json_object_object_add(o, "symname", json_str_or_null(cfg ? cfg->host.symname : NULL));
	for (size_t i = 0; i < ELEMENTSOF(caps); i++) {
		int r = kernel_fabrics_has_option(caps[i]);
		json_object_object_add(k, caps[i], r < 0 ? NULL : json_object_new_boolean(r > 0));
	}
	json_object_object_add(o, "kernel", k);
	json_object_object_add(o, "cache-directory",
			       json_object_new_string(ctx->cache_dir ?: cache_default_dir()));
	json_object_object_add(o, "cache-schema", json_object_new_int64(st.schema));
	json_object_object_add(o, "config-file",
			       json_object_new_string(ctx->config_path ?: CONFIG_FILE_DEFAULT));
	json_object_object_add(o, "config-valid", json_object_new_boolean(cfg != NULL));
	return sd_bus_reply_method_return(
		m, "s",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int reply_kvs_json(sd_bus_message *m, const struct kvs *d)
{
	_cleanup_json_ json_object *o = kvs_to_json(d);

	if (!o || d->oom)
		return -ENOMEM;
	return sd_bus_reply_method_return(
		m, "s",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int staf_controller_info(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(kvs_done) struct kvs d = {};
	struct context *ctx = userdata;
	struct cache_dc dc;
	struct tid p;
	int r;

	r = cid_parse(m, error, &p);
	if (r < 0)
		return r;
	r = dc_find(ctx, &p, error, &dc);
	if (r < 0)
		return r;
	if (r == 0)
		return sd_bus_reply_method_return(m, "s", "{}");
	kvs_dc_info(&d, ctx, &dc);
	return reply_kvs_json(m, &d);
}

static int stac_controller_info(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_(kvs_done) struct kvs d = {};
	_cleanup_free_ struct kctrl *live = NULL;
	struct context *ctx = userdata;
	struct ioc_find f = { .ctx = ctx };
	struct ioc_ctx x = { .ctx = ctx };
	struct cache *c;
	struct tid p;
	int r;

	r = cid_parse(m, error, &p);
	if (r < 0)
		return r;
	r = context_cache(ctx, error, &c);
	if (r < 0)
		return r;
	f.pattern = &p;
	if (c && !isempty(p.subsysnqn)) {
		r = cache_path_foreach(c, p.subsysnqn, ioc_find_cb, &f);
		if (r < 0)
			return r == -ENOMEM ? r : cached_error_cache(error, r);
	}
	if (f.best == 0)
		return sd_bus_reply_method_return(m, "s", "{}");
	x.n_live = kernel_ctrls_scan(f.found.tid.subsysnqn, false, false, &live);
	x.live = live;
	kvs_ioc(&d, &x, &f.found, false, true);
	return reply_kvs_json(m, &d);
}

/* ---- vtables: the introspection of stafd.idl and stacd.idl -------------- */

#define CID_IN                  \
	SD_BUS_PARAM(transport) \
	SD_BUS_PARAM(traddr)    \
	SD_BUS_PARAM(trsvcid)   \
	SD_BUS_PARAM(subsysnqn) \
	SD_BUS_PARAM(host_traddr) SD_BUS_PARAM(host_iface) SD_BUS_PARAM(host_nqn)

#define DEBUG_VTABLE(controller_info)                                                        \
	SD_BUS_VTABLE_START(0),                                                              \
		SD_BUS_WRITABLE_PROPERTY("tron", "b", debug_get_tron, debug_set_tron, 0,     \
					 SD_BUS_VTABLE_UNPRIVILEGED |                        \
						 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),       \
		SD_BUS_PROPERTY("log_level", "s", debug_get_log_level, 0,                    \
				SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),                        \
		SD_BUS_METHOD_WITH_NAMES("process_info", "", , "s", SD_BUS_PARAM(info_json), \
					 debug_process_info, SD_BUS_VTABLE_UNPRIVILEGED),    \
		SD_BUS_METHOD_WITH_NAMES("controller_info", "sssssss", CID_IN, "s",          \
					 SD_BUS_PARAM(info_json), controller_info,           \
					 SD_BUS_VTABLE_UNPRIVILEGED),                        \
		SD_BUS_VTABLE_END

const sd_bus_vtable staf_debug_vtable[] = { DEBUG_VTABLE(staf_controller_info) };
const sd_bus_vtable stac_debug_vtable[] = { DEBUG_VTABLE(stac_controller_info) };

const sd_bus_vtable staf_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_NAMES("list_controllers", "b", SD_BUS_PARAM(detailed), "aa{ss}",
				 SD_BUS_PARAM(controller_list), staf_list_controllers,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("get_log_pages", "sssssss", CID_IN, "aa{ss}",
				 SD_BUS_PARAM(log_pages), staf_get_log_pages,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("get_all_log_pages", "b", SD_BUS_PARAM(detailed), "s",
				 SD_BUS_PARAM(log_pages_json), staf_get_all_log_pages,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("log_pages_changed", "ssssssss", CID_IN SD_BUS_PARAM(device), 0),
	SD_BUS_SIGNAL("dc_removed", "", 0),
	SD_BUS_VTABLE_END,
};

const sd_bus_vtable stac_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_NAMES("list_controllers", "b", SD_BUS_PARAM(detailed), "aa{ss}",
				 SD_BUS_PARAM(controller_list), stac_list_controllers,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};
