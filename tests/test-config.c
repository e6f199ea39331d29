/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-config - stas.conf loading: a full valid file, one test per error
 * class (each checking the line number), drop-in merge, option layering,
 * secrets never printed, defaults.
 */
#include <errno.h>
#include <ftw.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "macro.h"
#include "nvme-opts.h"
#include "tid.h"

#include "tap.h"

#define SECRET1 "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:"
#define SECRET2 "DHHC-1:01:SbLnsCM7TjS6ZEw5LNqJv/CtGn6kSYhyt8FyX9EAZfVoQuTd:"
#define SECRET3 "DHHC-1:02:lRlCCcxr2tDGtS6mF4RwDdmZsb1ob6QOhTTBOMCFgGA6NBqF:"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:0c9a7f6e-2d2b-4b0f-9f3a-2f1d2a3b4c5d"
#define HOSTID "0c9a7f6e-2d2b-4b0f-9f3a-2f1d2a3b4c5d"

static char tmpdir[] = "/tmp/test-config.XXXXXX";

static char *tmp_path(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
		abort();
	return p;
}

static char *put(const char *name, const char *content)
{
	char *p = tmp_path(name);
	FILE *f = fopen(p, "we");

	if (!f || fputs(content, f) < 0 || fclose(f) != 0)
		abort();
	return p;
}

/* Whether @errors has a message starting "<path>:<line>: " containing @needle. */
static bool has_error(char **errors, const char *path, unsigned line, const char *needle)
{
	char prefix[512];

	snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	STRV_FOREACH(e, errors)
		if (str_startswith(*e, prefix) && strstr(*e, needle))
			return true;
	return false;
}

static size_t strv_len(char **l)
{
	size_t n = 0;
	STRV_FOREACH(e, l)
		n++;
	return n;
}

static void show_errors(char **errors)
{
	STRV_FOREACH(e, errors)
		diag("  %s", *e);
}

/* Load @content as file @name; expect -EINVAL with one error at @line. */
static void expect_error(const char *what, const char *name, const char *content, unsigned line,
			 const char *needle)
{
	_cleanup_free_ char *p = put(name, content);
	_cleanup_strv_free_ char **errors = NULL;
	struct stas_config *cfg = NULL;
	int r;

	r = config_load(p, &cfg, &errors);
	is_int(r, -EINVAL, "%s: rejected", what);
	ok(cfg == NULL, "%s: no config returned", what);
	if (!ok(has_error(errors, p, line, needle), "%s: error at line %u mentions \"%s\"", what,
		line, needle))
		show_errors(errors);
	config_free(cfg);
}

static void test_full(void)
{
	_cleanup_free_ char *nqnfile = put("hostnqn", HOSTNQN "\n");
	_cleanup_free_ char *keyfile = put("ctrlkey", "  " SECRET3 "  \n");
	_cleanup_free_ char *text = NULL, *p = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	const struct config_controller *c;
	struct config_path_opts po;
	char buf[TID_FORMAT_MAX];
	int r;

	if (asprintf(&text,
		     "host = {\n"
		     "  nqn = \"file://%s\";\n"
		     "  id = \"" HOSTID "\";\n"
		     "  key = \"" SECRET1 "\";\n"
		     "  symname = \"my host\";\n"
		     "};\n"
		     "global = {\n"
		     "  tron = true;\n"
		     "  audit-interval = \"0\";\n"
		     "  hdr-digest = true;\n"
		     "  data-digest = false;\n"
		     "  kato = 60;\n"
		     "  queue-size = 256;\n"
		     "  nr-io-queues = 8;\n"
		     "  nr-write-queues = 2;\n"
		     "  nr-poll-queues = 1;\n"
		     "  reconnect-delay = 5;\n"
		     "  ctrl-loss-tmo = -1;\n"
		     "  disable-sqflow = true;\n"
		     "  ignore-iface = true;\n"
		     "  ip-family = \"ipv6\";\n"
		     "};\n"
		     "discovery = {\n"
		     "  zeroconf = \"Disabled\";\n"
		     "  persistent-connections = \"ENABLED\";\n"
		     "  referrals-per-page-max = 10;\n"
		     "  referral-dcs-max = 0;\n"
		     "  zeroconf-connections-persistence = \"3 days 5 hours\";\n"
		     "  referral-give-up = \"2h\";\n"
		     "  pleo = false;\n"
		     "  kato = 20;\n"
		     "  hdr-digest = false;\n"
		     "  data-digest = true;\n"
		     "  queue-size = 32;\n"
		     "  reconnect-delay = 7;\n"
		     "  ctrl-loss-tmo = 100;\n"
		     "  disable-sqflow = false;\n"
		     "  ignore-iface = false;\n"
		     "  ip-family = \"ipv4+ipv6\";\n"
		     "  controllers = (\n"
		     "    { transport = \"TCP\"; traddr = \"192.168.1.10\"; },\n"
		     "    { transport = \"tcp\"; traddr = \"FD00::0001\"; trsvcid = 8010;\n"
		     "      nqn = \"nqn.2014-08.com.example:dc\"; host-traddr = \"fd00::2\";\n"
		     "      host-iface = \"eth1\"; host-nqn = \"nqn.2014-08.com.example:host2\";\n"
		     "      host-id = \"11111111-2222-3333-4444-555555555555\";\n"
		     "      dhchap-secret = \"" SECRET2 "\"; dhchap-ctrl-secret = \"file://%s\";\n"
		     "      kato = 0; hdr-digest = true; data-digest = false; queue-size = 16;\n"
		     "      reconnect-delay = 1; ctrl-loss-tmo = 0; disable-sqflow = true; }\n"
		     "  );\n"
		     "  exclude = ( { host-iface = \"eth9\"; }, { traddr = \"10.0.0.0/8\"; } );\n"
		     "};\n"
		     "io = {\n"
		     "  kato = 120;\n"
		     "  nr-io-queues = 4;\n"
		     "  disconnect-scope = \"all-connections-matching-disconnect-trtypes\";\n"
		     "  disconnect-trtypes = [ \"tcp\", \"rdma\", \"fc\" ];\n"
		     "  connect-attempts-on-ncc = 3;\n"
		     "  controllers = (\n"
		     "    { transport = \"tcp\"; traddr = \"10.1.1.1\";\n"
		     "      nqn = \"nqn.2014-08.com.example:subsys1\";\n"
		     "      nr-io-queues = 2; nr-write-queues = 0; nr-poll-queues = 3; }\n"
		     "  );\n"
		     "  exclude = ( { transport = \"rdma\"; nqn = \"nqn.2014-08.com.example:bad\"; } );\n"
		     "};\n",
		     nqnfile, keyfile) < 0)
		abort();
	p = put("full.conf", text);

	r = config_load(p, &cfg, &errors);
	if (!is_int(r, 0, "full file loads"))
		show_errors(errors);
	if (!cfg)
		return;

	is_str(cfg->host.nqn, HOSTNQN, "host.nqn read from file://");
	is_str(cfg->host.id, HOSTID, "host.id inline");
	is_str(cfg->host.key, SECRET1, "host.key inline");
	is_str(cfg->host.symname, "my host", "host.symname");
	ok(cfg->global.tron, "global.tron");
	is_int(cfg->global.opts.hdr_digest, 1, "global.hdr-digest");
	is_int(cfg->global.opts.data_digest, 0, "global.data-digest");
	is_int(cfg->global.opts.kato, 60, "global.kato");
	is_int(cfg->global.opts.queue_size, 256, "global.queue-size");
	is_int(cfg->global.opts.nr_io_queues, 8, "global.nr-io-queues");
	is_int(cfg->global.opts.nr_write_queues, 2, "global.nr-write-queues");
	is_int(cfg->global.opts.nr_poll_queues, 1, "global.nr-poll-queues");
	is_int(cfg->global.opts.reconnect_delay, 5, "global.reconnect-delay");
	is_int(cfg->global.opts.ctrl_loss_tmo, -1, "global.ctrl-loss-tmo");
	is_int(cfg->global.opts.disable_sqflow, 1, "global.disable-sqflow");
	is_int(cfg->global.opts.ignore_iface, 1, "global.ignore-iface");
	is_int(cfg->global.opts.ip_family, CONFIG_IP_FAMILY_IPV6, "global.ip-family");
	is_int(cfg->global.audit_interval_sec, 0, "global.audit-interval 0: disabled");

	ok(!cfg->discovery.zeroconf, "discovery.zeroconf");
	ok(cfg->discovery.persistent_connections, "discovery.persistent-connections \"ENABLED\"");
	is_int(cfg->discovery.referrals_per_page_max, 10, "discovery.referrals-per-page-max");
	is_int(cfg->discovery.referral_dcs_max, 0, "discovery.referral-dcs-max");
	is_int(cfg->discovery.zeroconf_persistence_sec, 3 * 86400 + 5 * 3600,
	       "discovery.zeroconf-connections-persistence");
	is_int(cfg->discovery.referral_give_up_sec, 7200, "discovery.referral-give-up");
	ok(!cfg->discovery.pleo, "discovery.pleo");
	is_int(cfg->discovery.s.opts.kato, 20, "discovery.kato");
	is_int(cfg->discovery.s.opts.data_digest, 1, "discovery.data-digest");
	is_int(cfg->discovery.s.opts.ip_family, CONFIG_IP_FAMILY_BOTH, "discovery.ip-family");
	is_int(cfg->discovery.s.n_controllers, 2, "2 discovery controllers");
	is_int(cfg->discovery.s.n_exclude, 2, "2 discovery excludes");

	c = &cfg->discovery.s.controllers[0];
	is_str(c->tid.transport, "tcp", "DC 1 transport canonical");
	is_str(c->tid.traddr, "192.168.1.10", "DC 1 traddr canonical");
	is_str(c->tid.trsvcid, "8009", "DC 1 default trsvcid 8009");
	is_str(c->tid.subsysnqn, NVME_DISC_SUBSYS_NQN, "DC 1 default NQN");
	ok(strstr(c->source, "full.conf:41") != NULL, "DC 1 source %s", c->source);
	c = &cfg->discovery.s.controllers[1];
	diag("DC 2: %s", tid_format(&c->tid, buf, sizeof(buf)));
	is_str(c->tid.traddr, "fd00::1", "DC 2 traddr canonical");
	is_str(c->tid.trsvcid, "8010", "DC 2 trsvcid from an integer");
	is_str(c->tid.subsysnqn, "nqn.2014-08.com.example:dc", "DC 2 nqn");
	is_str(c->tid.host_traddr, "fd00::2", "DC 2 host-traddr");
	is_str(c->tid.host_iface, "eth1", "DC 2 host-iface");
	is_str(c->tid.host_nqn, "nqn.2014-08.com.example:host2", "DC 2 host-nqn");
	is_str(c->host_id, "11111111-2222-3333-4444-555555555555", "DC 2 host-id");
	is_str(c->dhchap_secret, SECRET2, "DC 2 dhchap-secret");
	is_str(c->dhchap_ctrl_secret, SECRET3, "DC 2 dhchap-ctrl-secret from file://");
	is_int(c->opts.kato, 0, "DC 2 kato override");
	is_int(c->opts.queue_size, 16, "DC 2 queue-size override");
	is_int(c->opts.ctrl_loss_tmo, 0, "DC 2 ctrl-loss-tmo override");
	is_str(cfg->discovery.s.exclude[0].pattern.host_iface, "eth9", "exclude 1 host-iface");
	is_str(cfg->discovery.s.exclude[1].pattern.traddr, "10.0.0.0/8", "exclude 2 CIDR");

	is_int(cfg->io.disconnect_scope, CONFIG_DISCONNECT_ALL_MATCHING_TRTYPES,
	       "io.disconnect-scope");
	is_int(cfg->io.disconnect_trtypes,
	       CONFIG_TRTYPE_TCP | CONFIG_TRTYPE_RDMA | CONFIG_TRTYPE_FC, "io.disconnect-trtypes");
	is_int(cfg->io.connect_attempts_on_ncc, 3, "io.connect-attempts-on-ncc");
	is_int(cfg->io.s.n_controllers, 1, "1 I/O controller");
	c = &cfg->io.s.controllers[0];
	is_str(c->tid.trsvcid, "4420", "IOC default trsvcid 4420");
	is_int(c->opts.nr_write_queues, 0, "IOC nr-write-queues");
	is_int(cfg->io.s.n_exclude, 1, "1 I/O exclude");

	/* layering */
	config_conn_opts_resolve(cfg, CONFIG_ROLE_DISCOVERY, &cfg->discovery.s.controllers[0], &po);
	is_int(po.conn.kato, 20, "DC 1: kato from section");
	is_int(po.conn.queue_size, 32, "DC 1: queue-size from section");
	is_int(po.conn.nr_io_queues, 8, "DC 1: nr-io-queues from global");
	is_int(po.conn.hdr_digest, 0, "DC 1: hdr-digest from section");
	is_int(po.conn.ip_family, CONFIG_IP_FAMILY_BOTH, "DC 1: ip-family from section");
	is_int(po.conn.ignore_iface, 0, "DC 1: ignore-iface from section");
	is_str(po.hostnqn, HOSTNQN, "DC 1: host NQN");
	is_str(po.dhchap_secret, SECRET1, "DC 1: host key as secret");
	ok(po.dhchap_ctrl_secret == NULL, "DC 1: no ctrl secret");
	config_conn_opts_resolve(cfg, CONFIG_ROLE_DISCOVERY, &cfg->discovery.s.controllers[1], &po);
	is_int(po.conn.kato, 0, "DC 2: kato from controller");
	is_int(po.conn.hdr_digest, 1, "DC 2: hdr-digest from controller");
	is_str(po.hostnqn, "nqn.2014-08.com.example:host2", "DC 2: host NQN from controller");
	is_str(po.hostid, "11111111-2222-3333-4444-555555555555", "DC 2: host ID from controller");
	is_str(po.dhchap_secret, SECRET2, "DC 2: own secret");
	is_str(po.dhchap_ctrl_secret, SECRET3, "DC 2: own ctrl secret");
	config_conn_opts_resolve(cfg, CONFIG_ROLE_IO, NULL, &po);
	is_int(po.conn.kato, 120, "IOC from DLP: kato from io section");
	is_int(po.conn.nr_io_queues, 4, "IOC from DLP: nr-io-queues from io section");
	is_int(po.conn.ip_family, CONFIG_IP_FAMILY_IPV6, "IOC from DLP: ip-family from global");
	is_int(po.conn.ctrl_loss_tmo, -1, "IOC from DLP: ctrl-loss-tmo from global");

	{
		struct tid t = {};
		strcpy(t.transport, "tcp");
		strcpy(t.traddr, "10.20.30.40");
		strcpy(t.trsvcid, "4420");
		ok(config_is_excluded(cfg, CONFIG_ROLE_DISCOVERY, &t),
		   "10.20.30.40 excluded by CIDR");
		ok(!config_is_excluded(cfg, CONFIG_ROLE_IO, &t), "but not for I/O controllers");
		strcpy(t.traddr, "192.168.1.1");
		ok(!config_is_excluded(cfg, CONFIG_ROLE_DISCOVERY, &t), "192.168.1.1 not excluded");
		strcpy(t.host_iface, "eth9");
		ok(config_is_excluded(cfg, CONFIG_ROLE_DISCOVERY, &t), "anything on eth9 excluded");
	}

	/* secrets never printed */
	{
		_cleanup_free_ char *out = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&out, &size);
		is_int(config_dump(cfg, f), 0, "dump");
		fclose(f);
		ok(out && !strstr(out, "DHHC-1") && !strstr(out, "lRlCC") && !strstr(out, "ia6zG"),
		   "no secret in dump output");
		ok(out && strstr(out, CONFIG_SECRET_MASK), "secrets shown as " CONFIG_SECRET_MASK);
		ok(out && strstr(out, "fd00::1"), "dump shows controllers");
		/* the dump is itself a valid configuration, apart from the masks */
		{
			_cleanup_strv_free_ char **errs = NULL;
			struct stas_config *again = NULL;
			r = config_load_string(out, "dump", &again, &errs);
			is_int(r, -EINVAL, "dump reloads only with masked secrets rejected");
			ok(strv_len(errs) == 3, "exactly the 3 masked secrets are rejected");
			show_errors(errs);
			config_free(again);
		}
	}
}

static void test_errors(void)
{
	_cleanup_free_ char *unreadable = tmp_path("no-such-secret");

	expect_error("unknown key", "e1.conf", "global = {\n  kato = 10;\n  frobnicate = 1;\n};\n",
		     3, "unknown key 'frobnicate'");
	expect_error("unknown section", "e1b.conf", "\nbogus = { };\n", 2, "unknown key 'bogus'");
	expect_error("key in the wrong place", "e1c.conf", "global = {\n  zeroconf = true;\n};\n",
		     2, "not allowed in section 'global'");
	expect_error("wrong type", "e2.conf", "io = {\n\n  kato = \"ten\";\n};\n", 3,
		     "must be an integer");
	expect_error("wrong type bool", "e2b.conf", "global = { hdr-digest = 1; };\n", 1,
		     "must be a boolean");
	expect_error("out of range kato", "e3.conf", "global = {\n  kato = 70000;\n};\n", 2,
		     "out of range");
	expect_error("out of range queue-size", "e3b.conf", "io = {\n  queue-size = 8;\n};\n", 2,
		     "out of range 16..1024");
	expect_error("ncc 1", "e3c.conf", "io = {\n  connect-attempts-on-ncc = 1;\n};\n", 2,
		     "out of range");
	expect_error(
		"controller without traddr", "e4.conf",
		"discovery = {\n  controllers = (\n    { transport = \"tcp\"; trsvcid = \"8009\"; }\n  );\n};\n",
		3, "without 'traddr'");
	expect_error(
		"controller without transport", "e5.conf",
		"discovery = {\n  controllers = (\n    { traddr = \"1.2.3.4\"; },\n    { traddr = \"1.2.3.5\"; transport = \"tcp\"; }\n  );\n};\n",
		3, "without 'transport'");
	expect_error(
		"I/O controller without nqn", "e5b.conf",
		"io = {\n  controllers = (\n    { transport = \"tcp\"; traddr = \"1.2.3.4\"; }\n  );\n};\n",
		3, "without 'nqn'");
	expect_error("duplicate controllers", "e6.conf",
		     "discovery = {\n  controllers = (\n"
		     "    { transport = \"tcp\"; traddr = \"1.2.3.4\"; },\n"
		     "    { transport = \"TCP\"; traddr = \"1.2.3.4\"; trsvcid = \"8009\";\n"
		     "      nqn = \"" NVME_DISC_SUBSYS_NQN "\"; }\n  );\n};\n",
		     4, "duplicate controller");
	expect_error("bad NQN", "e7.conf",
		     "io = {\n  controllers = (\n    { transport = \"tcp\"; traddr = \"1.2.3.4\";\n"
		     "      nqn = \"not-an-nqn\"; }\n  );\n};\n",
		     4, "'nqn' = \"not-an-nqn\" is not valid");
	expect_error("bad host NQN", "e7b.conf", "host = {\n  nqn = \"nqn\";\n};\n", 2,
		     "not a valid NQN");
	expect_error(
		"bad traddr", "e7c.conf",
		"discovery = { controllers = ( { transport = \"tcp\"; traddr = \"1.2.3.400\"; } ); };\n",
		1, "'traddr' = \"1.2.3.400\" is not valid");
	expect_error("bad ip-family", "e8.conf", "global = {\n  ip-family = \"ipv5\";\n};\n", 2,
		     "not one of \"ipv4\"");
	expect_error("bad disconnect-scope", "e8b.conf",
		     "io = {\n  disconnect-scope = \"all\";\n};\n", 2, "not one of");
	expect_error("bad trtype", "e8c.conf",
		     "io = {\n  disconnect-trtypes = [ \"tcp\", \"ib\" ];\n};\n", 2,
		     "unknown transport \"ib\"");
	expect_error("bad audit-interval", "e8e.conf",
		     "global = {\n  audit-interval = \"often\";\n};\n", 2, "not a duration");
	expect_error("audit-interval is global", "e8f.conf",
		     "discovery = {\n  audit-interval = 60;\n};\n", 2, "audit-interval");
	expect_error("bad duration", "e8d.conf",
		     "discovery = {\n  zeroconf-connections-persistence = \"soon\";\n};\n", 2,
		     "not a duration");
	{
		_cleanup_free_ char *text = NULL;
		if (asprintf(&text,
			     "io = {\n  controllers = (\n    { transport = \"tcp\"; traddr = \"1.2.3.4\";\n"
			     "      nqn = \"nqn.2014-08.com.example:s\";\n"
			     "      dhchap-secret = \"file://%s\"; }\n  );\n};\n",
			     unreadable) < 0)
			abort();
		expect_error("unreadable file:// secret", "e9.conf", text, 5, "cannot read");
	}
	expect_error("malformed secret", "e9b.conf", "host = {\n  key = \"secret\";\n};\n", 2,
		     "not a DH-HMAC-CHAP secret");
	{
		_cleanup_free_ char *text = NULL;
		if (asprintf(&text, "host = {\n  id = \"file://%s\";\n};\n", unreadable) < 0)
			abort();
		expect_error("unreadable file:// host id", "e9c.conf", text, 2, "cannot read");
	}
	expect_error("syntax error", "e10.conf", "global = {\n  kato = 10;\n  tron = ;\n};\n", 3,
		     "syntax error");

	/* all errors are collected, not just the first */
	{
		_cleanup_free_ char *p =
			put("many.conf",
			    "global = {\n  kato = \"x\";\n  bogus = 1;\n  queue-size = 2;\n};\n"
			    "io = { controllers = ( { traddr = \"1.1.1.1\"; } ); };\n");
		_cleanup_strv_free_ char **errors = NULL;
		struct stas_config *cfg = NULL;
		is_int(config_load(p, &cfg, &errors), -EINVAL, "several errors: rejected");
		ok(has_error(errors, p, 2, "integer") && has_error(errors, p, 3, "bogus") &&
			   has_error(errors, p, 4, "range") &&
			   has_error(errors, p, 6, "transport") && has_error(errors, p, 6, "nqn"),
		   "several errors: every one reported with its line");
		is_int(strv_len(errors), 5, "several errors: five messages");
	}

	/* an explicit missing path is an error */
	{
		_cleanup_free_ char *p = tmp_path("missing.conf");
		_cleanup_strv_free_ char **errors = NULL;
		struct stas_config *cfg = NULL;
		is_int(config_load(p, &cfg, &errors), -ENOENT, "explicit missing file: -ENOENT");
		ok(errors && errors[0] && strstr(errors[0], "missing.conf"),
		   "and a message naming it");
	}
}

static void test_dropins(void)
{
	_cleanup_free_ char *main_conf = put("merge.conf",
					     "global = { kato = 10; tron = false; };\n"
					     "discovery = { controllers = ( { transport = \"tcp\"; "
					     "traddr = \"10.0.0.1\"; } ); };\n");
	_cleanup_free_ char *dir = tmp_path("merge.conf.d");
	_cleanup_free_ char *d1 = NULL, *d2 = NULL, *d3 = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	int r;

	if (mkdir(dir, 0755) < 0)
		abort();
	d2 = put("merge.conf.d/20-b.conf", "global = { kato = 30; };\n"
					   "discovery = { controllers = ( { transport = \"tcp\"; "
					   "traddr = \"10.0.0.3\"; } ); };\n");
	d1 = put("merge.conf.d/10-a.conf", "global = { kato = 20; tron = true; };\n"
					   "discovery = { controllers = ( { transport = \"tcp\"; "
					   "traddr = \"10.0.0.2\"; } ); };\n");
	d3 = put("merge.conf.d/30-c.conf.disabled", "this is not read\n");

	r = config_load(main_conf, &cfg, &errors);
	if (!is_int(r, 0, "main file + drop-ins load"))
		show_errors(errors);
	if (!cfg)
		return;
	is_int(cfg->global.opts.kato, 30, "last drop-in wins for a scalar");
	ok(cfg->global.tron, "an earlier drop-in's scalar stays when not overridden");
	is_int(cfg->discovery.s.n_controllers, 3, "controller lists are appended");
	if (cfg->discovery.s.n_controllers == 3) {
		is_str(cfg->discovery.s.controllers[0].tid.traddr, "10.0.0.1", "main file first");
		is_str(cfg->discovery.s.controllers[1].tid.traddr, "10.0.0.2", "then 10-a.conf");
		is_str(cfg->discovery.s.controllers[2].tid.traddr, "10.0.0.3", "then 20-b.conf");
	}
	is_int(strv_len(cfg->files), 3, "three files read");

	/* a duplicate across files */
	{
		_cleanup_free_ char *d4 =
			put("merge.conf.d/40-d.conf",
			    "\ndiscovery = { controllers = ( { transport = \"tcp\"; "
			    "traddr = \"10.0.0.1\"; } ); };\n");
		_cleanup_strv_free_ char **errs = NULL;
		struct stas_config *c2 = NULL;
		is_int(config_load(main_conf, &c2, &errs), -EINVAL,
		       "duplicate across files rejected");
		ok(has_error(errs, d4, 2, "first defined at") && errs[0] &&
			   strstr(errs[0], "merge.conf:2"),
		   "duplicate across files names both places");
		show_errors(errs);
		config_free(c2);
		(void)unlink(d4);
	}
	(void)d3;
}

static void test_defaults(void)
{
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	struct config_path_opts po;
	_cleanup_free_ char *empty = put("empty.conf", "# nothing\n");

	if (!is_int(config_load(empty, &cfg, &errors), 0, "an empty file loads"))
		show_errors(errors);
	if (!cfg)
		return;
	ok(!cfg->global.tron, "default tron false");
	ok(cfg->discovery.zeroconf, "default zeroconf enabled");
	ok(cfg->discovery.persistent_connections, "default persistent-connections true");
	ok(cfg->discovery.pleo, "default pleo enabled");
	is_int(cfg->discovery.zeroconf_persistence_sec, 72 * 3600, "default persistence 72h");
	is_int(cfg->discovery.referral_give_up_sec, 3600, "default referral-give-up 1 h");
	is_int(cfg->global.audit_interval_sec, 900, "default audit-interval 15 min");
	is_int(cfg->io.disconnect_scope, CONFIG_DISCONNECT_ONLY_STAS, "default disconnect-scope");
	is_int(cfg->io.disconnect_trtypes, CONFIG_TRTYPE_TCP, "default disconnect-trtypes tcp");
	is_int(cfg->io.connect_attempts_on_ncc, 0, "default connect-attempts-on-ncc 0");
	is_str(cfg->host.nqn_spec, "file:///etc/nvme/hostnqn", "default host nqn source");
	is_str(cfg->host.id_spec, "file:///etc/nvme/hostid", "default host id source");
	is_str(cfg->host.key_spec, "file:///etc/nvme/hostkey", "default host key source");
	config_conn_opts_resolve(cfg, CONFIG_ROLE_DISCOVERY, NULL, &po);
	is_int(po.conn.kato, 30, "default DC kato 30");
	is_int(po.conn.ip_family, CONFIG_IP_FAMILY_BOTH, "default ip-family both");
	is_int(po.conn.hdr_digest, 0, "default hdr-digest false");
	is_int(po.conn.ignore_iface, 0, "default ignore-iface false");
	config_conn_opts_resolve(cfg, CONFIG_ROLE_IO, NULL, &po);
	is_int(po.conn.kato, CONFIG_UNSET, "default IOC kato: the kernel's");
	is_int(po.conn.queue_size, CONFIG_UNSET, "default queue-size: the kernel's");
	is_int(po.conn.ctrl_loss_tmo, CONFIG_UNSET, "default ctrl-loss-tmo: the kernel's");

	{
		_cleanup_config_free_ struct stas_config *d = NULL;
		is_int(config_new_default(&d), 0, "config_new_default");
		ok(d && d->discovery.zeroconf && d->discovery.s.n_controllers == 0,
		   "config_new_default has the defaults");
	}
}

static void test_duration(void)
{
	static const struct {
		const char *s;
		int64_t want;
	} good[] = {
		{ "0", 0 },
		{ "3600", 3600 },
		{ "-1", -1 },
		{ "never", -1 },
		{ "72h", 72 * 3600 },
		{ "72hours", 72 * 3600 },
		{ "72 hours", 72 * 3600 },
		{ "30m", 1800 },
		{ "1h30m", 5400 },
		{ "3 days 5 hours", 3 * 86400 + 5 * 3600 },
		{ "1d, 2h", 93600 },
		{ "45s", 45 },
		{ "2 mins 3 secs", 123 },
		/* nvme-stas's timeparse forms */
		{ "1.5h", 5400 },
		{ "1.5 hours", 5400 },
		{ "1.2 minutes", 72 },
		{ "1.5", 1 },
		{ "1:24", 84 },
		{ ":22", 22 },
		{ "1:30:00", 5400 },
		{ "1:02:03:04", 86400 + 2 * 3600 + 3 * 60 + 4 },
		{ "2 days 1:30:00", 2 * 86400 + 5400 },
		{ "1 minute, 24 secs", 84 },
		{ "1m24s", 84 },
		{ "1d/2h", 93600 },
		{ "+ 1 minute", 60 },
		{ "-5", -1 },
		{ "- 1 minute", -1 },
		{ "-1", -1 },
		{ "1.", 1 },
	};
	static const char *const bad[] = {
		"",	 "soon",  "1x",		"h",	       "99999999999",	"1:2",
		"1:2:3", "1::00", "1h 1:00:00", "2 days 1:00", "1:00:00:00:00", "1.5:00",
		"1 2",	 "--1",	  ":",

		"."
	};
	int64_t v;

	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		v = -2;
		is_int(config_duration_parse(good[i].s, &v), 0, "duration \"%s\" parses",
		       good[i].s);
		is_int(v, good[i].want, "duration \"%s\" value", good[i].s);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		ok(config_duration_parse(bad[i], &v) < 0, "duration \"%s\" rejected", bad[i]);
}

/* config_controller_find(): which fields identify a configured controller (see conf.h). */
static void test_controller_find(void)
{
#define IONQN "nqn.2014-08.com.example:io"
#define OTHERNQN "nqn.2014-08.com.example:other-host"
	static const char text[] =
		"host = { nqn = \"" HOSTNQN "\"; };\n"
		"discovery = { controllers = (\n"
		"  { transport = \"tcp\"; traddr = \"10.0.0.1\"; },\n"
		"  { transport = \"tcp\"; traddr = \"10.0.0.2\"; host-iface = \"eth0\"; },\n"
		"  { transport = \"tcp\"; traddr = \"10.0.0.3\"; host-nqn = \"" OTHERNQN "\"; }\n"
		"); };\n"
		"io = { controllers = (\n"
		"  { transport = \"tcp\"; traddr = \"10.0.1.1\"; nqn = \"" IONQN
		"\"; kato = 1; },\n"
		"  { transport = \"tcp\"; traddr = \"10.0.1.1\"; nqn = \"" IONQN "\";\n"
		"    host-iface = \"eth1\"; kato = 2; },\n"
		"  { transport = \"tcp\"; traddr = \"10.0.1.2\"; nqn = \"" IONQN "\";\n"
		"    host-traddr = \"10.0.9.9\"; kato = 3; }\n"
		"); };\n";
	/* the path looked up; want: index of the entry found in its section, -1 none */
	static const struct {
		enum config_role role;
		const char *transport, *traddr, *trsvcid, *nqn, *host_traddr, *host_iface,
			*host_nqn;
		int want;
		const char *what;
	} cases[] = {
		{ CONFIG_ROLE_DISCOVERY, "tcp", "10.0.0.1", "8009", NVME_DISC_SUBSYS_NQN, "", "",
		  HOSTNQN, 0, "DC: unset host-nqn is the host's NQN" },
		{ CONFIG_ROLE_DISCOVERY, "tcp", "10.0.0.1", "8009", NVME_DISC_SUBSYS_NQN, "", "",
		  "", 0, "DC: a path without host NQN" },
		{ CONFIG_ROLE_DISCOVERY, "tcp", "10.0.0.1", "8009", NVME_DISC_SUBSYS_NQN, "", "",
		  OTHERNQN, -1, "DC: another host NQN is another DC" },
		{ CONFIG_ROLE_DISCOVERY, "tcp", "10.0.0.1", "4420", NVME_DISC_SUBSYS_NQN, "", "",
		  HOSTNQN, -1, "DC: trsvcid must match (default 8009)" },
		{ CONFIG_ROLE_DISCOVERY, "tcp", "10.0.0.1", "8009", IONQN, "", "", HOSTNQN, -1,
		  "DC: subsystem NQN must match (default well-known)" },
		{ CONFIG_ROLE_DISCOVERY, "tcp", "10.0.0.1", "8009", NVME_DISC_SUBSYS_NQN, "",
		  "eth0", HOSTNQN, -1, "DC: unset host-iface is not a wildcard" },
		{ CONFIG_ROLE_DISCOVERY, "tcp", "10.0.0.2", "8009", NVME_DISC_SUBSYS_NQN, "",
		  "eth0", HOSTNQN, 1, "DC: host-iface equal" },
		{ CONFIG_ROLE_DISCOVERY, "tcp", "10.0.0.2", "8009", NVME_DISC_SUBSYS_NQN, "", "",
		  HOSTNQN, -1, "DC: a configured host-iface must be there" },
		{ CONFIG_ROLE_DISCOVERY, "tcp", "10.0.0.3", "8009", NVME_DISC_SUBSYS_NQN, "", "",
		  OTHERNQN, 2, "DC: explicit host-nqn" },
		{ CONFIG_ROLE_DISCOVERY, "tcp", "10.0.0.3", "8009", NVME_DISC_SUBSYS_NQN, "", "",
		  HOSTNQN, -1, "DC: explicit host-nqn is not the host's" },
		{ CONFIG_ROLE_DISCOVERY, "rdma", "10.0.0.1", "8009", NVME_DISC_SUBSYS_NQN, "", "",
		  HOSTNQN, -1, "DC: transport must match" },
		{ CONFIG_ROLE_IO, "tcp", "10.0.0.1", "8009", NVME_DISC_SUBSYS_NQN, "", "", HOSTNQN,
		  -1, "a DC is not an I/O controller" },
		{ CONFIG_ROLE_IO, "tcp", "10.0.1.1", "4420", IONQN, "", "", HOSTNQN, 0,
		  "IOC: exact" },
		{ CONFIG_ROLE_IO, "tcp", "10.0.1.1", "4420", IONQN, "", "eth1", HOSTNQN, 1,
		  "IOC: the exact route is preferred to an earlier wildcard" },
		{ CONFIG_ROLE_IO, "tcp", "10.0.1.1", "4420", IONQN, "10.0.8.8", "eth7", HOSTNQN, 0,
		  "IOC: unset route fields match any route" },
		{ CONFIG_ROLE_IO, "tcp", "10.0.1.1", "4420", IONQN, "", "", OTHERNQN, -1,
		  "IOC: another host NQN" },
		{ CONFIG_ROLE_IO, "tcp", "10.0.1.1", "4420", "nqn.2014-08.com.example:x", "", "",
		  HOSTNQN, -1, "IOC: another subsystem" },
		{ CONFIG_ROLE_IO, "tcp", "10.0.1.2", "4420", IONQN, "10.0.9.9", "eth3", HOSTNQN, 2,
		  "IOC: configured host-traddr equal, host-iface unset" },
		{ CONFIG_ROLE_IO, "tcp", "10.0.1.2", "4420", IONQN, "10.0.9.8", "", HOSTNQN, -1,
		  "IOC: a configured host-traddr must be equal" },
		{ CONFIG_ROLE_IO, "tcp", "10.0.1.2", "4421", IONQN, "10.0.9.9", "", HOSTNQN, -1,
		  "IOC: trsvcid must match (default 4420)" },
	};
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	_cleanup_strv_free_ char **errors = NULL;

	if (!is_int(config_load_string(text, "find", &cfg, &errors), 0, "find config loads")) {
		show_errors(errors);
		return;
	}
	ok(!config_controller_find(NULL, CONFIG_ROLE_IO, &cfg->io.s.controllers[0].tid),
	   "no configuration, no controller");
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const struct config_section *s = config_section(cfg, cases[i].role);
		const struct config_controller *c;
		struct tid t = {};

		(void)tid_field_set(&t, TID_FIELD_TRANSPORT, cases[i].transport);
		(void)tid_field_set(&t, TID_FIELD_TRADDR, cases[i].traddr);
		(void)tid_field_set(&t, TID_FIELD_TRSVCID, cases[i].trsvcid);
		(void)tid_field_set(&t, TID_FIELD_SUBSYSNQN, cases[i].nqn);
		(void)tid_field_set(&t, TID_FIELD_HOST_TRADDR, cases[i].host_traddr);
		(void)tid_field_set(&t, TID_FIELD_HOST_IFACE, cases[i].host_iface);
		(void)tid_field_set(&t, TID_FIELD_HOST_NQN, cases[i].host_nqn);
		if (!is_int(tid_canonicalize(&t), 0, "%s: canonical path", cases[i].what))
			continue;
		c = config_controller_find(cfg, cases[i].role, &t);
		is_int(c ? (int)(c - s->controllers) : -1, cases[i].want, "%s", cases[i].what);
	}
#undef IONQN
#undef OTHERNQN
}

/* The nvme-cli option table: letters as nvme-cli 2.3's fabrics.c, fields and keys. */
static void test_nvme_opts(void)
{
	static const struct {
		char letter;
		const char *name, *key;
		int field;
	} cases[] = {
		{ 't', "transport", "transport", TID_FIELD_TRANSPORT },
		{ 'a', "traddr", "traddr", TID_FIELD_TRADDR },
		{ 's', "trsvcid", "trsvcid", TID_FIELD_TRSVCID },
		{ 'w', "host-traddr", "host-traddr", TID_FIELD_HOST_TRADDR },
		{ 'f', "host-iface", "host-iface", TID_FIELD_HOST_IFACE },
		{ 'q', "hostnqn", "host-nqn", TID_FIELD_HOST_NQN },
		{ 'n', "nqn", "nqn", TID_FIELD_SUBSYSNQN },
		{ 'I', "hostid", "host-id", -1 },
		{ 'S', "dhchap-secret", "dhchap-secret", -1 },
		{ 'C', "dhchap-ctrl-secret", "dhchap-ctrl-secret", -1 },
		{ 'k', "keep-alive-tmo", "kato", -1 },
		{ 'l', "ctrl-loss-tmo", "ctrl-loss-tmo", -1 },
		{ 'c', "reconnect-delay", "reconnect-delay", -1 },
		{ 'i', "nr-io-queues", "nr-io-queues", -1 },
		{ 'W', "nr-write-queues", "nr-write-queues", -1 },
		{ 'P', "nr-poll-queues", "nr-poll-queues", -1 },
		{ 'Q', "queue-size", "queue-size", -1 },
		{ 'g', "hdr-digest", "hdr-digest", -1 },
		{ 'G', "data-digest", "data-digest", -1 },
		{ 'D', "duplicate-connect", NULL, -1 },
		{ 'p', "persistent", NULL, -1 },
		{ 'T', "tos", NULL, -1 },
	};
	struct tid t = {}, before;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const struct nvme_opt *o = nvme_opt_from_letter(cases[i].letter);

		if (!ok(o != NULL, "-%c known", cases[i].letter))
			continue;
		is_str(o->name, cases[i].name, "-%c is --%s", cases[i].letter, cases[i].name);
		ok(nvme_opt_from_name(cases[i].name) == o, "--%s found by name", cases[i].name);
		is_int(o->field, cases[i].field, "--%s: transport-ID field", cases[i].name);
		is_str(o->key, cases[i].key, "--%s: stas.conf key", cases[i].name);
		if (cases[i].key)
			ok(nvme_opt_from_key(cases[i].key) == o, "key %s found", cases[i].key);
		ok(!!o->why == !cases[i].key, "--%s: a reason exactly when untranslatable",
		   cases[i].name);
	}
	ok(nvme_opt_from_key("nr-io-queues")->io_only, "nr-io-queues: I/O controllers only");
	ok(!nvme_opt_from_key("kato")->io_only, "kato: any controller");
	ok(nvme_opt_from_key("dhchap-secret")->type == NVME_OPT_SECRET, "secrets are typed");
	ok(!nvme_opt_from_letter('x') && !nvme_opt_from_letter(0) && !nvme_opt_from_name("bogus") &&
		   !nvme_opt_from_key(NULL),
	   "unknown letter, name, key: NULL");

	is_int(nvme_opt_tid_set(&t, 't', "tcp"), 1, "-t sets");
	is_int(nvme_opt_tid_set(&t, 'a', "192.168.1.2"), 1, "-a sets");
	is_int(nvme_opt_tid_set(&t, 'q', HOSTNQN), 1, "-q sets");
	is_str(t.transport, "tcp", "  ... transport");
	is_str(t.traddr, "192.168.1.2", "  ... traddr");
	is_str(t.host_nqn, HOSTNQN, "  ... host NQN");
	before = t;
	is_int(nvme_opt_tid_set(&t, 'k', "5"), 0, "-k is no transport-ID option");
	is_int(nvme_opt_tid_set(&t, 'n', "not-an-nqn"), -EINVAL, "-n with a bad NQN");
	is_int(nvme_opt_tid_set(&t, 'f', "abcdefghijklmnopq"), -ENAMETOOLONG, "-f too long");
	ok(memcmp(&t, &before, sizeof(t)) == 0, "  ... untouched");
}

/* Load @path expecting -EINVAL (or @want) and an error for @path containing @needle. */
static void expect_file_refused(const char *what, const char *path, int want, const char *needle)
{
	_cleanup_strv_free_ char **errors = NULL;
	struct stas_config *cfg = NULL;
	bool found = false;
	int r;

	r = config_load(path, &cfg, &errors);
	is_int(r, want, "%s: rejected", what);
	STRV_FOREACH(e, errors)
		if (str_startswith(*e, path) && strstr(*e, needle))
			found = true;
	if (!ok(found, "%s: error names the file and says \"%s\"", what, needle))
		show_errors(errors);
	config_free(cfg);
}

/*
 * Issue 13, item 6: files libconfig must never see directly. Before the fix
 * a FIFO hung, a directory (through @include) exited the process, @include
 * resolved against the working directory and a long comment took seconds.
 */
static void test_hostile_files(void)
{
	_cleanup_free_ char *fifo = tmp_path("fifo.conf"), *dir = tmp_path("dir.conf");
	_cleanup_free_ char *inc = NULL, *inc_dir = NULL, *big = NULL, *nul = NULL;
	_cleanup_free_ char *quoted = NULL, *longc = NULL, *sym = NULL, *symf = NULL;
	_cleanup_free_ char *text = NULL, *path = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	struct stas_config *cfg = NULL;
	static const char nul_text[] = "global = { tron = true; };\n\0@include \"x\"\n";
	size_t n = 900 * 1024;
	FILE *f;
	int r;

	if (mkfifo(fifo, 0600) < 0 || mkdir(dir, 0700) < 0)
		abort();
	/* a FIFO with no writer: refused at once, never blocks */
	expect_file_refused("a FIFO as the configuration", fifo, -EINVAL, "not a regular file");
	expect_file_refused("a directory as the configuration", dir, -EINVAL, "is a directory");

	inc = put("inc.conf", "global = { tron = true; };\n\n@include \"fifo.conf\"\n");
	expect_error("@include of a FIFO", "inc2.conf",
		     "# a comment\nglobal = { tron = true; };\n  @include \"fifo.conf\"\n", 3,
		     "'@include' and other '@' directives are not supported");
	inc_dir = put("incdir.conf", "");
	expect_error("@include of a directory", "inc3.conf", "@include \"dir.conf\"\n", 1,
		     "not supported");
	/* '@' in strings and comments is no directive */
	quoted = put("quoted.conf", "# @include \"x\"\n/* @include \"x\"\n */\n"
				    "host = { symname = \"a \\\" @include \\\"x\\\"\"; };\n"
				    "// @include \"x\"\n");
	r = config_load(quoted, &cfg, &errors);
	if (!is_int(r, 0, "'@' inside comments and strings is accepted"))
		show_errors(errors);
	if (cfg)
		is_str(cfg->host.symname, "a \" @include \"x\"", "  ... the string is intact");
	config_free(TAKE_PTR(cfg));
	strv_free(TAKE_PTR(errors));

	nul = tmp_path("nul.conf");
	f = fopen(nul, "we");
	if (!f || fwrite(nul_text, 1, sizeof(nul_text) - 1, f) != sizeof(nul_text) - 1 ||
	    fclose(f) != 0)
		abort();
	expect_file_refused("a NUL byte", nul, -EINVAL, "NUL byte");

	/* over 1 MiB: refused unread */
	big = tmp_path("big.conf");
	f = fopen(big, "we");
	if (!f || fseek(f, 2 * 1024 * 1024, SEEK_SET) < 0 || fputc('\n', f) == EOF ||
	    fclose(f) != 0)
		abort();
	expect_file_refused("a 2 MiB file", big, -EINVAL, "larger than 1 MiB");

	/* a 900 KiB comment loads, and fast (libconfig reading a FILE* took seconds) */
	text = malloc(n + 64);
	if (!text)
		abort();
	text[0] = '#';
	memset(text + 1, 'x', n);
	strcpy(text + 1 + n, "\nglobal = { tron = true; };\n");
	longc = put("longcomment.conf", text);
	{
		clock_t a, b;
		double secs;

		a = clock();
		r = config_load(longc, &cfg, &errors);
		b = clock();
		/* CPU time: other processes on a loaded machine do not count */
		secs = (double)(b - a) / CLOCKS_PER_SEC;
		is_int(r, 0, "a 900 KiB comment loads");
		ok(cfg && cfg->global.tron, "  ... and the setting after it applies");
		ok(secs < 0.5, "  ... in %.3f s of CPU (< 0.5 s; reading a FILE* took over 1 s)",
		   secs);
		config_free(TAKE_PTR(cfg));
		strv_free(TAKE_PTR(errors));
	}

	/* non-UTF-8 and control characters where text reaches output or the wire */
	expect_error("symname with invalid UTF-8", "sym1.conf",
		     "host = {\n  symname = \"lab\xff\xfe host\";\n};\n", 2, "not printable UTF-8");
	expect_error("symname with an escape character", "sym2.conf",
		     "host = {\n  symname = \"lab\\x1b[2J\";\n};\n", 2, "not printable UTF-8");
	expect_error("a C1 control in UTF-8", "sym3.conf",
		     "host = {\n  symname = \"lab\xc2\x85\";\n};\n", 2, "not printable UTF-8");
	expect_error("disconnect-scope with invalid UTF-8", "scope.conf",
		     "io = {\n  disconnect-scope = \"\xc0\xaf\";\n};\n", 2, "not printable UTF-8");
	symf = put("symname.txt", "lab\x1b]0;owned\x07\n");
	if (asprintf(&path, "host = {\n  symname = \"file://%s\";\n};\n", symf) < 0)
		abort();
	expect_error("symname read from a file with controls", "sym4.conf", path, 2,
		     "not printable UTF-8");
	sym = put("sym5.conf",
		  "host = { symname = \"Baie-Saint-Paul \xc3\xa9t\xc3\xa9 \xe2\x9c\x93\"; };\n");
	r = config_load(sym, &cfg, &errors);
	if (!is_int(r, 0, "printable UTF-8 in symname is accepted"))
		show_errors(errors);
	config_free(TAKE_PTR(cfg));

	ok(config_string_is_printable("") && config_string_is_printable("a\xf0\x9f\x98\x80"),
	   "printable: empty, 4-byte sequence");
	ok(!config_string_is_printable("\xe0\x80\xaf") &&
		   !config_string_is_printable("\xed\xa0\x80") &&
		   !config_string_is_printable("\xf4\x90\x80\x80") &&
		   !config_string_is_printable("a\x7f") &&
		   !config_string_is_printable("\xe2\x82") && !config_string_is_printable("\t"),
	   "not printable: overlong, surrogate, > U+10FFFF, DEL, truncated, TAB");
}

/* Issue 13, item 7: the one masking function every message uses. */
static void test_value_mask(void)
{
	is_str(config_value_mask("hostkey", "x"), CONFIG_SECRET_MASK, "key named like hostkey");
	is_str(config_value_mask("tls-key", "x"), CONFIG_SECRET_MASK, "tls-key");
	is_str(config_value_mask("Host-PSK", "x"), CONFIG_SECRET_MASK, "a PSK, any case");
	is_str(config_value_mask("dhchap-ctrl-secret", "x"), CONFIG_SECRET_MASK, "a secret");
	is_str(config_value_mask(NULL, "--x=" SECRET1), CONFIG_SECRET_MASK, "DHHC-1 inside a word");
	is_str(config_value_mask("traddr", "nvmetlskey-1:01:abc:"), CONFIG_SECRET_MASK,
	       "NVMeTLSkey-1, any case");
	is_str(config_value_mask("traddr", "10.0.0.1"), "10.0.0.1", "an address is shown");
	ok(config_value_mask(NULL, NULL) == NULL, "NULL stays NULL");
}

/* Issue 13, item 11: lookups by NQN through the index, in configuration order. */
static void test_controller_next(void)
{
	_cleanup_free_ char *p = put(
		"next.conf",
		"io = { controllers = (\n"
		"  { transport = \"tcp\"; traddr = \"10.0.0.1\"; nqn = \"nqn.2014-08.com.example:a\"; },\n"
		"  { transport = \"tcp\"; traddr = \"10.0.0.2\"; nqn = \"nqn.2014-08.com.example:b\"; },\n"
		"  { transport = \"tcp\"; traddr = \"10.0.0.3\"; nqn = \"nqn.2014-08.com.example:a\"; },\n"
		"  { transport = \"tcp\"; traddr = \"10.0.0.4\"; nqn = \"nqn.2014-08.com.example:a\"; }\n"
		"); };\n");
	_cleanup_strv_free_ char **errors = NULL;
	struct stas_config *cfg = NULL;
	const struct config_controller *c;
	char order[64] = "";

	if (!is_int(config_load(p, &cfg, &errors), 0, "controllers sharing NQNs load")) {
		show_errors(errors);
		return;
	}
	for (c = config_controller_next(cfg, CONFIG_ROLE_IO, "nqn.2014-08.com.example:a", NULL); c;
	     c = config_controller_next(cfg, CONFIG_ROLE_IO, "nqn.2014-08.com.example:a", c))
		strcat(order, c->tid.traddr + strlen(c->tid.traddr) - 1);
	is_str(order, "134", "NQN a: entries 1, 3, 4 in order");
	c = config_controller_next(cfg, CONFIG_ROLE_IO, "nqn.2014-08.com.example:b", NULL);
	ok(c && streq(c->tid.traddr, "10.0.0.2") &&
		   !config_controller_next(cfg, CONFIG_ROLE_IO, "nqn.2014-08.com.example:b", c),
	   "NQN b: one entry");
	ok(!config_controller_next(cfg, CONFIG_ROLE_IO, "nqn.2014-08.com.example:c", NULL),
	   "an unknown NQN: none");
	ok(!config_controller_next(cfg, CONFIG_ROLE_DISCOVERY, "nqn.2014-08.com.example:a", NULL),
	   "the other role: none");
	ok(!config_controller_next(NULL, CONFIG_ROLE_IO, "nqn.2014-08.com.example:a", NULL),
	   "no configuration: none");
	config_free(cfg);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Whether @symbol occurs in the source file @file (relative to $top_srcdir). */
static bool source_has(const char *file, const char *symbol)
{
	const char *top = getenv("top_srcdir") ?: "..";
	_cleanup_free_ char *path = NULL, *text = NULL;
	FILE *f;
	size_t size = 0, n;
	char buf[65536];
	bool found;

	if (asprintf(&path, "%s/%s", top, file) < 0)
		abort();
	f = fopen(path, "re");
	if (!f)
		return false;
	FILE *m = open_memstream(&text, &size);
	if (!m)
		abort();
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(f);
	fclose(m);
	found = text && strstr(text, symbol);
	return found;
}

/*
 * The schema walk: every option the loader accepts has a reader (a row in
 * config_readers[] whose symbol occurs in its file), and every row names
 * an option that exists. Adding an option without a reader fails here.
 */
/* Every option of nvme-cli 2.16's "nvme discover" (fabrics.c, NVMF_ARGS + discover's own). */
static void test_nvme_cli_216_discover(void)
{
	static const char *const names[] = {
		"transport",
		"nqn",
		"traddr",
		"trsvcid",
		"host-traddr",
		"host-iface",
		"hostnqn",
		"hostid",
		"dhchap-secret",
		"keyring",
		"tls-key",
		"tls-key-identity",
		"nr-io-queues",
		"nr-write-queues",
		"nr-poll-queues",
		"queue-size",
		"keep-alive-tmo",
		"reconnect-delay",
		"ctrl-loss-tmo",
		"fast_io_fail_tmo",
		"tos",
		"tls_key",
		"duplicate-connect",
		"disable-sqflow",
		"hdr-digest",
		"data-digest",
		"tls",
		"concat",
		"device",
		"output-format",
		"raw",
		"persistent",
		"quiet",
		"config",
		"verbose",
		"dump-config",
		"force",
		"nbft",
		"no-nbft",
		"nbft-path",
		"context",
	};
	static const char letters[] = "tnaswfqISiWPQkclFTDgGdorpJvO";
	unsigned unknown = 0;

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		const struct nvme_opt *o = nvme_opt_from_name(names[i]);
		if (!o || (!o->key && isempty(o->why))) {
			diag("nvme discover --%s: %s", names[i],
			     o ? "neither translated nor refused with a reason" : "unknown");
			unknown++;
		}
	}
	is_int(unknown, 0, "every option of nvme-cli 2.16's discover is known (%zu)",
	       ELEMENTSOF(names));
	for (const char *l = letters; *l; l++)
		if (!nvme_opt_from_letter(*l)) {
			diag("nvme discover -%c: unknown", *l);
			unknown++;
		}
	is_int(unknown, 0, "and every short letter");
}

static void test_readers(void)
{
	_cleanup_strv_free_ char **keys = NULL;
	unsigned missing = 0, bad = 0, stale = 0;
	size_t n = 0;

	is_int(config_schema_keys(&keys), 0, "schema keys listed");
	STRV_FOREACH(k, keys) {
		bool found = false;

		n++;
		for (size_t i = 0; i < config_readers_n; i++)
			if (streq(config_readers[i].key, *k))
				found = true;
		if (!found) {
			diag("option %s has no reader in lib/conf-readers.c", *k);
			missing++;
		}
	}
	ok(n >= 90, "the schema has %zu option places", n);
	for (size_t i = 0; i < config_readers_n; i++) {
		const struct config_reader *r = &config_readers[i];
		bool known = false;

		STRV_FOREACH(k, keys)
			if (streq(*k, r->key))
				known = true;
		if (!known) {
			diag("reader row for %s: no such option", r->key);
			stale++;
		}
		if (!source_has(r->file, r->symbol)) {
			diag("reader row for %s: \"%s\" does not occur in %s", r->key, r->symbol,
			     r->file);
			bad++;
		}
	}
	is_int(missing, 0, "every option has a reader");
	is_int(stale, 0, "every reader row names an option");
	is_int(bad, 0, "every reader's symbol occurs in its file");
	/* the check can fail: a made-up symbol is not found */
	ok(!source_has("lib/conf-readers.c", "no_such_symbol_"
					     "anywhere"),
	   "a symbol that is not there is not found");
}

static void test_referral_caps(void)
{
	_cleanup_config_free_ struct stas_config *cfg = NULL;

	is_int(config_new_default(&cfg), 0, "defaults");
	is_int(cfg->discovery.referrals_per_page_max, CONFIG_REFERRALS_PER_PAGE_DEFAULT,
	       "referrals-per-page-max default 64");
	is_int(cfg->discovery.referral_dcs_max, CONFIG_REFERRAL_DCS_DEFAULT,
	       "referral-dcs-max default 256");
	expect_error("referrals-per-page-max out of range", "caps1.conf",
		     "discovery = {\n  referrals-per-page-max = 70000;\n};\n", 2, "out of range");
	expect_error("referral-dcs-max negative", "caps2.conf",
		     "discovery = {\n\n  referral-dcs-max = -1;\n};\n", 3, "out of range");
	expect_error("referral-dcs-max a string", "caps3.conf",
		     "discovery = {\n  referral-dcs-max = \"many\";\n};\n", 2,
		     "must be an integer");
	expect_error("referral caps only in discovery", "caps4.conf",
		     "io = {\n  referral-dcs-max = 3;\n};\n", 2, "not allowed");
}

static void test_persistent_refused(void)
{
	expect_error("persistent-connections = false", "pers1.conf",
		     "discovery = {\n  persistent-connections = false;\n};\n", 2,
		     "disconnects the discovery controllers when stafd stops");
	expect_error("persistent-connections = \"disabled\"", "pers2.conf",
		     "discovery = {\n  persistent-connections = \"disabled\";\n};\n", 2,
		     "not supported");
}

/* fc: both ports in the kernel's form, the host port required. */
static void test_fc(void)
{
	_cleanup_free_ char *p = put(
		"fc.conf",
		"io = { controllers = (\n"
		"  { transport = \"FC\"; traddr = \"NN-10001100AB000001:PN-20001100AB000001\";\n"
		"    host-traddr = \"nn-0x10001100aa000001:pn-0x20001100AA000001\";\n"
		"    nqn = \"nqn.2024-01.io.stas:fc-1\"; } ); };\n");
	_cleanup_strv_free_ char **errors = NULL;
	struct stas_config *cfg = NULL;

	is_int(config_load(p, &cfg, &errors), 0, "fc: an fc controller loads");
	show_errors(errors);
	if (cfg && cfg->io.s.n_controllers == 1) {
		const struct tid *t = &cfg->io.s.controllers[0].tid;

		is_str(t->transport, "fc", "fc: transport lower-cased");
		is_str(t->traddr, "nn-0x10001100ab000001:pn-0x20001100ab000001",
		       "fc: traddr without 0x, upper case: the kernel's form");
		is_str(t->host_traddr, "nn-0x10001100aa000001:pn-0x20001100aa000001",
		       "fc: host-traddr in the kernel's form");
	} else
		ok(false, "fc: one I/O controller");
	config_free(cfg);

	expect_error(
		"fc without host-traddr", "fc1.conf",
		"discovery = { controllers = (\n"
		"  { transport = \"fc\"; traddr = \"nn-0x10001100ab000001:pn-0x20001100ab000001\"; } ); };\n",
		2, "fc controller without 'host-traddr'");
	expect_error("fc traddr not an FC address", "fc2.conf",
		     "discovery = { controllers = (\n"
		     "  { transport = \"fc\"; traddr = \"nn-0x1:pn-0x2\";\n"
		     "    host-traddr = \"nn-0x10001100aa000001:pn-0x20001100aa000001\"; } ); };\n",
		     2, "'traddr' = \"nn-0x1:pn-0x2\" is not an FC address");
	expect_error(
		"fc host-traddr an IP address", "fc3.conf",
		"discovery = { controllers = (\n"
		"  { transport = \"fc\"; traddr = \"nn-0x10001100ab000001:pn-0x20001100ab000001\";\n"
		"    host-traddr = \"192.168.1.1\"; } ); };\n",
		2, "'host-traddr' = \"192.168.1.1\" is not an FC address");
}

static void test_io_defaults(void)
{
	static const char text[] =
		"global = { ctrl-loss-tmo = 50; nr-io-queues = 2; };\n"
		"discovery = { controllers = (\n"
		"  { transport = \"tcp\"; traddr = \"10.0.0.1\";\n"
		"    io-defaults = { ctrl-loss-tmo = 600; nr-io-queues = 4; hdr-digest = true; }; },\n"
		"  { transport = \"tcp\"; traddr = \"10.0.0.2\"; }\n"
		"); };\n"
		"io = { ctrl-loss-tmo = 60; controllers = (\n"
		"  { transport = \"tcp\"; traddr = \"10.0.0.9\"; nqn = \"nqn.2024-01.io.x:a\";\n"
		"    nr-io-queues = 8; }\n"
		"); };\n";
	_cleanup_strv_free_ char **errors = NULL;
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	const struct config_section *ds, *is;
	struct config_path_opts po;
	int r;

	r = config_load_string(text, "iodef", &cfg, &errors);
	if (!is_int(r, 0, "io-defaults: loads"))
		show_errors(errors);
	if (r < 0)
		return;
	ds = config_section(cfg, CONFIG_ROLE_DISCOVERY);
	is = config_section(cfg, CONFIG_ROLE_IO);
	/* an I/O path found in DC 1's page: its io-defaults win over io and global */
	config_conn_opts_resolve_discovered(cfg, NULL, &ds->controllers[0], &po);
	is_int(po.conn.ctrl_loss_tmo, 600, "io-defaults ctrl-loss-tmo over io's");
	is_int(po.conn.nr_io_queues, 4, "io-defaults nr-io-queues over global's");
	is_int(po.conn.hdr_digest, 1, "io-defaults hdr-digest");
	/* the path's own io.controllers entry wins over the DC's io-defaults */
	config_conn_opts_resolve_discovered(cfg, &is->controllers[0], &ds->controllers[0], &po);
	is_int(po.conn.nr_io_queues, 8, "io entry over io-defaults");
	is_int(po.conn.ctrl_loss_tmo, 600, "io-defaults fill what the entry leaves unset");
	/* DC 2 has none: io section, then global */
	config_conn_opts_resolve_discovered(cfg, NULL, &ds->controllers[1], &po);
	is_int(po.conn.ctrl_loss_tmo, 60, "no io-defaults: io section");
	is_int(po.conn.nr_io_queues, 2, "no io-defaults: global");
	/* not the DC's own options: kato of the DC's connection is not touched */
	config_conn_opts_resolve(cfg, CONFIG_ROLE_DISCOVERY, &ds->controllers[0], &po);
	is_int(po.conn.ctrl_loss_tmo, 50, "io-defaults do not apply to the DC itself");
	/* the DC's persona: what it lists is connected under its host NQN and ID */
	{
		struct config_controller dc = ds->controllers[1];
		strcpy(dc.tid.host_nqn, "nqn.2014-08.org.example:persona");
		dc.host_id = (char *)HOSTID;
		config_conn_opts_resolve_discovered(cfg, NULL, &dc, &po);
		is_str(po.hostnqn, "nqn.2014-08.org.example:persona", "the DC's host NQN");
		is_str(po.hostid, HOSTID, "the DC's host ID");
		config_conn_opts_resolve_discovered(cfg, NULL, &ds->controllers[1], &po);
		ok(po.hostid == cfg->host.id, "a DC without a persona: the host's ID");
	}

	expect_error("io-defaults in an I/O controller", "iodef1.conf",
		     "io = { controllers = ( { transport = \"tcp\"; traddr = \"10.0.0.9\";\n"
		     "  nqn = \"nqn.2024-01.io.x:a\"; io-defaults = { kato = 5; }; } ); };\n",
		     2, "not allowed");
	expect_error("io-defaults with a DC-only key", "iodef2.conf",
		     "discovery = { controllers = ( { transport = \"tcp\"; traddr = \"10.0.0.9\";\n"
		     "  io-defaults = {\n  ip-family = \"ipv4\"; }; } ); };\n",
		     3, "not allowed");
}

static void test_host_names(void)
{
	static const char text[] =
		"discovery = { controllers = (\n"
		"  { transport = \"tcp\"; traddr = \"localhost\"; },\n"
		"  { transport = \"tcp\"; traddr = \"no-such-host.invalid\"; },\n"
		"  { transport = \"tcp\"; traddr = \"FE80:0:0::1\"; host-iface = \"lo\"; }\n"
		"); };\n"
		"io = { ip-family = \"ipv4\"; controllers = (\n"
		"  { transport = \"tcp\"; traddr = \"localhost\"; nqn = \"nqn.2024-01.io.x:a\"; }\n"
		"); };\n";
	_cleanup_strv_free_ char **errors = NULL, **problems = NULL;
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	const struct config_section *ds, *is;
	struct timespec t0, t1;
	double secs;
	int r;

	r = config_load_string(text, "names", &cfg, &errors);
	if (!is_int(r, 0, "host names: load"))
		show_errors(errors);
	if (r < 0)
		return;
	ds = config_section(cfg, CONFIG_ROLE_DISCOVERY);
	is = config_section(cfg, CONFIG_ROLE_IO);
	is_str(ds->controllers[0].traddr_name, "localhost", "the name is kept");
	is_str(ds->controllers[0].tid.traddr, "", "no address before resolving");
	ok(!config_controller_usable(&ds->controllers[0]), "not usable before resolving");
	ok(ds->controllers[2].traddr_name == NULL, "an IPv6 literal is no name");
	is_str(ds->controllers[2].tid.traddr, "fe80::1", "the IPv6 literal, canonical");
	ok(config_controller_usable(&ds->controllers[2]), "a literal is usable as it is");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = config_names_resolve(cfg, 2000, &problems);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	is_int(r, 1, "one name left unresolved");
	ok(secs < 3.0, "resolving took %.2f s, within the 2 s deadline (+1 s)", secs);
	ok(streq(ds->controllers[0].tid.traddr, "127.0.0.1") ||
		   streq(ds->controllers[0].tid.traddr, "::1"),
	   "localhost resolved to a loopback address (%s)", ds->controllers[0].tid.traddr);
	ok(config_controller_usable(&ds->controllers[0]), "localhost usable");
	is_str(is->controllers[0].tid.traddr, "127.0.0.1", "io ip-family ipv4: 127.0.0.1");
	ok(!config_controller_usable(&ds->controllers[1]), ".invalid not usable");
	ok(ds->controllers[1].resolve_error == -ENOENT ||
		   ds->controllers[1].resolve_error == -EAGAIN ||
		   ds->controllers[1].resolve_error == -ETIMEDOUT,
	   ".invalid: %s", config_resolve_error_to_string(ds->controllers[1].resolve_error));
	is_str(ds->controllers[1].tid.traddr, "", ".invalid: no address");
	is_int(strv_len(problems), 1, "one problem reported");
	ok(problems && strstr(problems[0], "names:3: traddr \"no-such-host.invalid\""),
	   "the problem names the entry and the name: %s", problems ? problems[0] : "");
	ok(config_controller_find(cfg, CONFIG_ROLE_DISCOVERY, &ds->controllers[0].tid) ==
		   &ds->controllers[0],
	   "the resolved entry is found by its address");

	/* a path the unresolved name may stand for is not to be torn down */
	{
		struct tid t = ds->controllers[1].tid;
		strcpy(t.traddr, "10.9.9.9");
		ok(config_controller_unresolved_match(cfg, CONFIG_ROLE_DISCOVERY, &t),
		   "any address with the unresolved entry's port and NQN may be its path");
		strcpy(t.trsvcid, "4420");
		ok(!config_controller_unresolved_match(cfg, CONFIG_ROLE_DISCOVERY, &t),
		   "  ... not another port");
		t = ds->controllers[0].tid;
		strcpy(t.traddr, "10.9.9.8");
		ok(config_controller_unresolved_match(cfg, CONFIG_ROLE_DISCOVERY, &t),
		   "  ... (same port and NQN as the unresolved one)");
		t = is->controllers[0].tid;
		ok(!config_controller_unresolved_match(cfg, CONFIG_ROLE_IO, &t),
		   "a resolved name holds nothing back");
	}

	/* shown with name and address */
	{
		struct json_object *j = NULL;
		const char *js;
		is_int(config_to_json(cfg, &j), 0, "json");
		js = json_object_to_json_string(j);
		ok(strstr(js, "\"localhost\"") && strstr(js, "\"traddr-address\""),
		   "config show: the name and its address");
		ok(strstr(js, "\"traddr-error\"") != NULL, "config show: why a name has none");
		json_object_put(j);
	}

	expect_error("a mistyped IPv4 address is not a name", "names1.conf",
		     "discovery = { controllers = (\n"
		     "  { transport = \"tcp\"; traddr = \"192.168.1.300\"; }); };\n",
		     2, "not valid");
	expect_error("a name with a bad label", "names2.conf",
		     "discovery = { controllers = (\n"
		     "  { transport = \"tcp\"; traddr = \"-bad.example\"; }); };\n",
		     2, "not valid");
	expect_error("a duplicate by name", "names3.conf",
		     "discovery = { controllers = (\n"
		     "  { transport = \"tcp\"; traddr = \"dc.example\"; },\n"
		     "  { transport = \"tcp\"; traddr = \"dc.example\"; }); };\n",
		     3, "duplicate controller");
}

static void test_missing_secret_file(void)
{
	static const char text[] =
		"discovery = { controllers = (\n"
		"  { transport = \"tcp\"; traddr = \"10.0.0.1\";\n"
		"    dhchap-secret = \"file:///nonexistent/stas-test/key\"; }); };\n";
	_cleanup_strv_free_ char **errors = NULL;
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	struct stas_config *strict = NULL;
	int r;

	r = config_load_string(text, "sec", &strict, &errors);
	is_int(r, -EINVAL, "a missing secret file is an error normally");
	strv_free(errors);
	errors = NULL;
	r = config_load_string_flags(text, "sec", CONFIG_LOAD_MISSING_SECRET_FILES_WARN, &cfg,
				     &errors);
	is_int(r, 0, "with CONFIG_LOAD_MISSING_SECRET_FILES_WARN it loads");
	ok(cfg && cfg->warnings && strstr(cfg->warnings[0], "does not exist here"), "and warns");
	ok(cfg && !cfg->discovery.s.controllers[0].dhchap_secret, "the secret stays unset");
}

/* TLS: tls = true, tls-key (controller, host), tls-key-derivation; errors name file and line, never the key. */
#define TLSKEY1 "NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"
#define TLSKEY2 \
	"NVMeTLSkey-1:02:MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f+ENbJA==:"
static void test_tls(void)
{
	_cleanup_free_ char *kf = put("tls.key", TLSKEY2 "\n");
	_cleanup_free_ char *text = NULL, *dump = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	_cleanup_config_free_ struct stas_config *cfg = NULL;
	const struct config_section *ds, *is;
	struct config_path_opts po;
	size_t dump_size = 0;
	FILE *f;
	int r;

	chmod(kf, 0600);
	if (asprintf(
		    &text,
		    "host = { tls-key = \"" TLSKEY1 "\"; };\n"
		    "global = { tls-key-derivation = \"compat\"; };\n"
		    "discovery = { controllers = (\n"
		    "  { transport = \"tcp\"; traddr = \"10.0.0.1\"; tls = true;\n"
		    "    io-defaults = { tls = true; }; },\n"
		    "  { transport = \"tcp\"; traddr = \"10.0.0.2\"; tls-key = \"file://%s\"; }\n"
		    "); };\n"
		    "io = { controllers = (\n"
		    "  { transport = \"tcp\"; traddr = \"10.0.0.9\"; nqn = \"nqn.2024-01.io.x:a\";\n"
		    "    tls = true; tls-key = \"file://%s\"; },\n"
		    "  { transport = \"tcp\"; traddr = \"10.0.0.8\"; nqn = \"nqn.2024-01.io.x:b\"; tls = false; }\n"
		    "); };\n",
		    kf, kf) < 0)
		abort();
	r = config_load_string(text, "tls", &cfg, &errors);
	if (!is_int(r, 0, "tls: loads"))
		show_errors(errors);
	if (r < 0)
		return;
	ds = config_section(cfg, CONFIG_ROLE_DISCOVERY);
	is = config_section(cfg, CONFIG_ROLE_IO);
	is_str(cfg->host.tls_key, TLSKEY1, "host.tls-key read");
	is_int(cfg->global.tls_key_derivation, TLS_PSK_DERIVATION_COMPAT, "tls-key-derivation");
	is_str(ds->controllers[1].tls_key, TLSKEY2, "a DC's tls-key from file://");
	config_conn_opts_resolve(cfg, CONFIG_ROLE_DISCOVERY, &ds->controllers[0], &po);
	is_int(po.conn.tls, 1, "DC 1: tls = true");
	ok(po.tls_key == cfg->host.tls_key, "DC 1: no key of its own: host.tls-key");
	is_int(po.tls_key_derivation, TLS_PSK_DERIVATION_COMPAT, "... derivation passed on");
	config_conn_opts_resolve(cfg, CONFIG_ROLE_DISCOVERY, &ds->controllers[1], &po);
	is_int(po.conn.tls, 0, "DC 2: tls defaults to false");
	is_str(po.tls_key, TLSKEY2, "DC 2: its own key");
	config_conn_opts_resolve_discovered(cfg, NULL, &ds->controllers[0], &po);
	is_int(po.conn.tls, 1, "a path in DC 1's page: io-defaults tls");
	config_conn_opts_resolve_discovered(cfg, NULL, &ds->controllers[1], &po);
	is_int(po.conn.tls, 0, "a path in DC 2's page: no tls");
	is_str(po.tls_key, TLSKEY2, "... but DC 2's key for a TLS-required entry");
	config_conn_opts_resolve(cfg, CONFIG_ROLE_IO, &is->controllers[0], &po);
	ok(po.conn.tls == 1 && po.tls_key && streq(po.tls_key, TLSKEY2), "IOC: tls and its key");
	config_conn_opts_resolve(cfg, CONFIG_ROLE_IO, &is->controllers[1], &po);
	ok(po.conn.tls == 0 && po.tls_key == cfg->host.tls_key, "IOC tls = false, host key");

	f = open_memstream(&dump, &dump_size);
	if (f) {
		config_dump(cfg, f);
		fclose(f);
	}
	ok(dump && !strstr(dump, "AAECAwQF") && !strstr(dump, "MDEyMzQ1"), "dump: no PSK");
	ok(dump && strstr(dump, "tls-key = \"" CONFIG_SECRET_MASK "\""), "dump: tls-key masked");
	ok(dump && strstr(dump, "tls-key-derivation = \"compat\""), "dump: derivation");
	ok(dump && strstr(dump, "tls = true"), "dump: tls");

	config_free(TAKE_PTR(cfg));
	r = config_load_string("", "none", &cfg, NULL);
	is_int(r, 0, "empty config");
	if (r == 0) {
		is_int(cfg->global.tls_key_derivation, TLS_PSK_DERIVATION_RFC8446,
		       "default derivation: rfc8446");
		ok(cfg->host.tls_key == NULL, "no host.tls-key by default");
	}

	/* one character changed: CRC error at the line, the key never in the message */
	expect_error(
		"tls-key with a bad CRC", "tls1.conf",
		"io = { controllers = ( { transport = \"tcp\"; traddr = \"10.0.0.9\";\n"
		"  nqn = \"nqn.2024-01.io.x:a\"; tls = true;\n"
		"  tls-key = \"NVMeTLSkey-1:01:BAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:\"; } ); };\n",
		3, "CRC-32");
	expect_error("tls-key not in interchange format", "tls2.conf",
		     "discovery = { controllers = ( { transport = \"tcp\"; traddr = \"10.0.0.9\";\n"
		     "  tls-key = \"" SECRET1 "\"; } ); };\n",
		     2, "interchange format");
	expect_error("host.tls-key malformed", "tls3.conf",
		     "host = {\n tls-key = \"NVMeTLSkey-1:01:AAAA:\"; };\n", 2,
		     "'host.tls-key' is not");
	expect_error("tls not a boolean", "tls4.conf",
		     "io = { controllers = ( { transport = \"tcp\"; traddr = \"10.0.0.9\";\n"
		     "  nqn = \"nqn.2024-01.io.x:a\"; tls = \"yes\"; } ); };\n",
		     2, "boolean");
	expect_error("tls in a section", "tls5.conf", "io = {\n tls = true; };\n", 2,
		     "not allowed");
	expect_error("tls-key-derivation unknown", "tls6.conf",
		     "global = {\n tls-key-derivation = \"rfc5869\"; };\n", 2, "\"compat\"");
	{
		_cleanup_free_ char *p =
			put("tls7.conf",
			    "io = { controllers = ( { transport = \"tcp\"; traddr = "
			    "\"10.0.0.9\"; nqn = \"nqn.2024-01.io.x:a\";\n"
			    "  tls-key = \"NVMeTLSkey-1:01:BAECAwQFBgcICQoLDA0ODxAREhMUFRYXG"
			    "BkaGxwdHh+KfiaR:\"; } ); };\n");
		_cleanup_strv_free_ char **errs = NULL;
		struct stas_config *c2 = NULL;
		bool leak = false;

		(void)config_load(p, &c2, &errs);
		STRV_FOREACH(e, errs)
			leak = leak || strstr(*e, "BAECAwQF");
		ok(errs && !leak, "a bad tls-key's error does not show the key");
		config_free(c2);
	}
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		abort();
	test_full();
	test_errors();
	test_dropins();
	test_defaults();
	test_duration();
	test_controller_find();
	test_nvme_opts();
	test_hostile_files();
	test_value_mask();
	test_controller_next();
	test_readers();
	test_nvme_cli_216_discover();
	test_referral_caps();
	test_persistent_refused();
	test_fc();
	test_io_defaults();
	test_host_names();
	test_missing_secret_file();
	test_tls();
	(void)nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
