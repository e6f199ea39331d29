/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/kernel against a fake sysfs tree ($STAS_SYSFS_ROOT) and a fake
 * /dev/nvme-fabrics ($STAS_NVME_FABRICS): controller scans and their NQN
 * filter, path matching, the connect option string, capability detection.
 */
#include <arpa/inet.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hashset.h"
#include "kernel.h"
#include "macro.h"
#include "strv.h"
#include "tap.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"

static char root[] = "/tmp/test-kernel.XXXXXX";

static void put(const char *ctrl, const char *attr, const char *value)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/class/nvme/%s", root, ctrl);
	(void)mkdir_p(path, 0755);
	snprintf(path, sizeof(path), "%s/class/nvme/%s/%s", root, ctrl, attr);
	(void)write_file_atomic(path, value, strlen(value), 0644);
}

static void ctrl(const char *name, const char *transport, const char *nqn, const char *address,
		 const char *state, const char *cntrltype)
{
	put(name, "transport", transport);
	put(name, "subsysnqn", nqn);
	put(name, "address", address);
	put(name, "state", state);
	put(name, "hostnqn", HOSTNQN "\n");
	if (cntrltype)
		put(name, "cntrltype", cntrltype);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rm_rf(const char *p)
{
	(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const struct kctrl *kctrl_find_name(const struct kctrl *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (streq(v[i].name, name))
			return &v[i];
	return NULL;
}

static void test_scan(void)
{
	_cleanup_free_ struct kctrl *v = NULL, *w = NULL, *d = NULL;
	struct tid want = {};
	struct kctrl k;
	int n;

	ctrl("nvme0", "tcp", "nqn.2014-08.org.nvmexpress.discovery",
	     "traddr=127.0.0.1,trsvcid=8009,src_addr=127.0.0.1\n", "live\n", "discovery\n");
	ctrl("nvme1", "tcp", "nqn.2024-01.io.stas:a", "traddr=127.0.0.1,trsvcid=4420\n", "live\n",
	     "io\n");
	ctrl("nvme2", "tcp", "nqn.2024-01.io.stas:a",
	     "traddr=FE80:0::1%lo,trsvcid=04420,host_iface=lo\n", "connecting\n", "io\n");
	ctrl("nvme3", "tcp", "nqn.2024-01.io.stas:b", "traddr=10.0.0.1,trsvcid=4420\n",
	     "deleting\n", NULL);
	ctrl("nvme4", "pcie", "nqn.2024-01.io.stas:a", "0000:00:04.0\n", "live\n", NULL);
	put("nvme-subsys0", "subsysnqn", "nqn.2024-01.io.stas:a"); /* not a controller */

	n = kernel_ctrls_scan("nqn.2024-01.io.stas:a", false, false, &v);
	is_int(n, 2, "scan by NQN: the two fabrics I/O controllers (not pcie, not others)");
	n = kernel_ctrls_scan(NULL, false, true, &d);
	is_int(n, 1, "scan of discovery controllers");
	if (n == 1)
		ok(d[0].discovery && streq(d[0].name, "nvme0"), "nvme0 is the DC");
	n = kernel_ctrls_scan(NULL, true, false, &w);
	is_int(n, 4, "scan of every fabrics controller");

	/* The batch scan: only the set's subsystems, I/O controllers only. */
	{
		_cleanup_hashset_free_ struct hashset *set = NULL;
		_cleanup_free_ struct kctrl *b = NULL, *e = NULL;

		is_int(hashset_new(&set), 0, "a set");
		(void)hashset_put(set, "nqn.2024-01.io.stas:b", NULL, NULL);
		(void)hashset_put(set, "nqn.2014-08.org.nvmexpress.discovery", NULL, NULL);
		n = kernel_ctrls_scan_nqns(set, &b);
		ok(n == 1 && streq(b[0].name, "nvme3") &&
			   streq(b[0].tid.subsysnqn, "nqn.2024-01.io.stas:b") &&
			   streq(b[0].tid.traddr, "10.0.0.1") && streq(b[0].state, "deleting"),
		   "scan by NQN set: nvme3 only, read in full (not the DC, not pcie)");
		(void)hashset_put(set, "nqn.2024-01.io.stas:a", NULL, NULL);
		n = kernel_ctrls_scan_nqns(set, &e);
		ok(n == 3 && kctrl_find_name(e, n, "nvme1") && kctrl_find_name(e, n, "nvme2") &&
			   kctrl_find_name(e, n, "nvme3") && !kctrl_find_name(e, n, "nvme4"),
		   "scan by NQN set: both subsystems' fabrics controllers");
		hashset_free(set);
		set = NULL;
		is_int(hashset_new(&set), 0, "an empty set");
		free(e);
		e = NULL;
		is_int(kernel_ctrls_scan_nqns(set, &e), 0, "scan by an empty NQN set: nothing");
	}

	is_int(kernel_ctrl_read("nvme2", &k), 0, "read nvme2");
	is_str(k.tid.traddr, "fe80::1%lo", "sysfs address canonicalised");
	is_str(k.tid.trsvcid, "4420", "trsvcid canonical");
	is_str(k.tid.host_iface, "lo", "host_iface");
	is_str(k.tid.host_nqn, HOSTNQN, "hostnqn (newline stripped)");
	ok(kctrl_is_usable(&k), "connecting counts as present");
	is_int(kernel_ctrl_read("nvme3", &k), 0, "read nvme3");
	ok(!kctrl_is_usable(&k), "deleting does not");
	is_int(kernel_ctrl_read("nvme9", &k), -ENOENT, "absent controller");
	is_int(kernel_ctrl_read("../etc", &k), -EINVAL, "a name that is not nvmeN is refused");

	strcpy(want.transport, "tcp");
	strcpy(want.traddr, "127.0.0.1");
	strcpy(want.trsvcid, "4420");
	strcpy(want.subsysnqn, "nqn.2024-01.io.stas:a");
	strcpy(want.host_nqn, HOSTNQN);
	ok(kctrl_find(v, 2, &want) && streq(kctrl_find(v, 2, &want)->name, "nvme1"),
	   "kctrl_find matches the exact path");
	strcpy(want.host_iface, "eth0");
	ok(!kctrl_find(v, 2, &want), "a different host-iface is another path");
}

/*
 * The kind table of the scans for one kind (kernel.h): a controller
 * classified once is not read again; a new controller under a recycled
 * name (a new sysfs node) is classified afresh.
 */
static void test_scan_kinds(void)
{
	char a[512], b[512];
	int n;

	kernel_ctrls_forget();
	ctrl("nvme20", "tcp", "nqn.2024-01.io.stas:k", "traddr=10.9.0.1,trsvcid=4420\n", "live\n",
	     "io\n");
	ctrl("nvme21", "tcp", "nqn.2014-08.org.nvmexpress.discovery",
	     "traddr=10.9.0.2,trsvcid=8009\n", "live\n", "discovery\n");
	{
		_cleanup_free_ struct kctrl *d = NULL;
		n = kernel_ctrls_scan(NULL, false, true, &d);
		ok(n >= 1 && kctrl_find_name(d, n, "nvme21") && !kctrl_find_name(d, n, "nvme20"),
		   "kinds: the DC found, the I/O controller not");
	}

	/* The same node claiming another kind: the table answers, sysfs is not read. */
	put("nvme20", "cntrltype", "discovery\n");
	put("nvme20", "subsysnqn", "nqn.2014-08.org.nvmexpress.discovery");
	{
		_cleanup_free_ struct kctrl *d = NULL;
		n = kernel_ctrls_scan(NULL, false, true, &d);
		ok(n >= 0 && !kctrl_find_name(d, n, "nvme20"),
		   "kinds: a classified controller is not read again");
	}
	kernel_ctrls_forget();
	{
		_cleanup_free_ struct kctrl *d = NULL;
		n = kernel_ctrls_scan(NULL, false, true, &d);
		ok(n >= 0 && kctrl_find_name(d, n, "nvme20"),
		   "kinds: after kernel_ctrls_forget() it is read afresh");
	}

	/*
	 * A new controller under a classified name: a new node (made before the
	 * old one goes, so its inode number cannot be the old one's).
	 */
	ctrl("nvme22", "tcp", "nqn.2024-01.io.stas:k", "traddr=10.9.0.3,trsvcid=4420\n", "live\n",
	     "io\n");
	{
		_cleanup_free_ struct kctrl *d = NULL;
		n = kernel_ctrls_scan(NULL, false, true, &d);
		ok(n >= 0 && !kctrl_find_name(d, n, "nvme22"), "kinds: nvme22 classified as I/O");
	}
	ctrl("nvme-new", "tcp", "nqn.2014-08.org.nvmexpress.discovery",
	     "traddr=10.9.0.4,trsvcid=8009\n", "live\n", "discovery\n");
	snprintf(a, sizeof(a), "%s/class/nvme/nvme22", root);
	snprintf(b, sizeof(b), "%s/class/nvme/nvme-new", root);
	rm_rf(a);
	if (rename(b, a) < 0)
		abort();
	{
		_cleanup_free_ struct kctrl *d = NULL;
		n = kernel_ctrls_scan(NULL, false, true, &d);
		ok(n >= 0 && kctrl_find_name(d, n, "nvme22"),
		   "kinds: a recycled name with a new node is classified afresh (now a DC)");
	}
	{
		_cleanup_free_ struct kctrl *v = NULL;
		n = kernel_ctrls_scan(NULL, false, false, &v);
		ok(n >= 0 && !kctrl_find_name(v, n, "nvme22") && !kctrl_find_name(v, n, "nvme20") &&
			   !kctrl_find_name(v, n, "nvme21"),
		   "kinds: the I/O scan does not list the DCs");
	}
	snprintf(a, sizeof(a), "%s/class/nvme/nvme20", root);
	rm_rf(a);
	snprintf(a, sizeof(a), "%s/class/nvme/nvme21", root);
	rm_rf(a);
	snprintf(a, sizeof(a), "%s/class/nvme/nvme22", root);
	rm_rf(a);
	kernel_ctrls_forget();
}

static void test_options(void)
{
	struct kconn_opts o = {
		.kato = 30,
		.nr_io_queues = 4,
		.queue_size = 64,
		.ctrl_loss_tmo = -1,
		.ctrl_loss_tmo_set = true,
		.hdr_digest = true,
		.hostid = "00000000-0000-0000-0000-000000000001",
		.dhchap_secret = "DHHC-1:00:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MVbH5w==:",
	};
	struct tid t = {};
	char buf[2048];

	strcpy(t.transport, "tcp");
	strcpy(t.traddr, "192.168.1.2");
	strcpy(t.trsvcid, "4420");
	strcpy(t.subsysnqn, "nqn.2024-01.io.stas:a");
	strcpy(t.host_iface, "eth0");
	strcpy(t.host_nqn, HOSTNQN);
	is_int(kernel_connect_options(&t, &o, false, buf, sizeof(buf)), 0, "I/O options");
	is_str(buf,
	       "nqn=nqn.2024-01.io.stas:a,transport=tcp,traddr=192.168.1.2,trsvcid=4420,"
	       "host_iface=eth0,hostnqn=" HOSTNQN ",hostid=00000000-0000-0000-0000-000000000001,"
	       "keep_alive_tmo=30,ctrl_loss_tmo=-1,nr_io_queues=4,queue_size=64,"
	       "dhchap_secret=DHHC-1:00:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MVbH5w==:,hdr_digest",
	       "the option string");
	ok(!strstr(buf, "tls"), "no tls unless asked");
	o.tls = true;
	is_int(kernel_connect_options(&t, &o, false, buf, sizeof(buf)), 0, "I/O options with tls");
	ok(strlen(buf) > 4 && streq(buf + strlen(buf) - 4, ",tls"), "tls asked: the tls flag");
	o.tls_key_serial = 0x1234abcd;
	is_int(kernel_connect_options(&t, &o, false, buf, sizeof(buf)), 0, "tls with a key");
	ok(strlen(buf) > 22 && streq(buf + strlen(buf) - 22, ",tls,tls_key=305441741"),
	   "an inserted key is named: tls_key=<serial>");
	o.tls = false;
	is_int(kernel_connect_options(&t, &o, false, buf, sizeof(buf)), 0, "a key without tls");
	ok(!strstr(buf, "tls"), "... no tls_key without tls");
	o.tls = true;
	o.tls_key_serial = 0;
	strcpy(t.transport, "rdma");
	is_int(kernel_connect_options(&t, &o, false, buf, sizeof(buf)), 0, "rdma with tls asked");
	ok(!strstr(buf, "tls"), "tls is for tcp only");
	strcpy(t.transport, "tcp");
	o.tls = false;

	is_int(kernel_connect_options(&t, &o, true, buf, sizeof(buf)), 0, "DC options");
	ok(!strstr(buf, "nr_io_queues") && !strstr(buf, "queue_size"),
	   "no queue counts for a discovery controller");
	ok(strstr(buf, ",dhchap_secret=DHHC-1:00:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MVbH5w==:") !=
		   NULL,
	   "the host secret goes to a discovery controller too (issue 13, defect 1)");
	o.dhchap_ctrl_secret = "DHHC-1:00:Y3RybGN0cmxjdHJsY3RybGN0cmxjdHJsY3RybGN0cmw6+q1S:";
	is_int(kernel_connect_options(&t, &o, true, buf, sizeof(buf)), 0,
	       "DC options with a bidirectional secret");
	ok(strstr(buf,
		  ",dhchap_ctrl_secret=DHHC-1:00:Y3RybGN0cmxjdHJsY3RybGN0cmxjdHJsY3RybGN0cmw6+q1S:") !=
		   NULL,
	   "the controller secret goes to a discovery controller (it authenticates the DC)");
	o.dhchap_ctrl_secret = NULL;

	strcpy(t.subsysnqn, "nqn.2024-01.io.stas:a,transport=rdma");
	is_int(kernel_connect_options(&t, &o, false, buf, sizeof(buf)), -EINVAL,
	       "a ',' inside a value is refused (it would inject an option)");
	strcpy(t.subsysnqn, "nqn.2024-01.io.stas:a");
	is_int(kernel_connect_options(&t, &o, false, buf, 64), -E2BIG, "too small a buffer");
}

static void test_fabrics_options(void)
{
	char dev[512];

	snprintf(dev, sizeof(dev), "%s/nvme-fabrics", root);
	setenv("STAS_NVME_FABRICS", dev, 1);
	ok(!kernel_fabrics_available(), "no /dev/nvme-fabrics");
	ok(kernel_fabrics_has_option("tls") < 0, "cannot tell without the device");
	(void)write_file_atomic(dev,
				"instance=-1,cntlid=-1,transport=%s,traddr=%s,trsvcid=%s,"
				"nqn=%s,queue_size=%d,nr_io_queues=%d,host_iface=%s,"
				"discovery,dhchap_secret=%s\n",
				strlen("instance=-1,cntlid=-1,transport=%s,traddr=%s,trsvcid=%s,"
				       "nqn=%s,queue_size=%d,nr_io_queues=%d,host_iface=%s,"
				       "discovery,dhchap_secret=%s\n"),
				0600);
	ok(kernel_fabrics_available(), "/dev/nvme-fabrics present");
	is_int(kernel_fabrics_has_option("host_iface"), 1, "host_iface offered");
	is_int(kernel_fabrics_has_option("discovery"), 1, "discovery (a flag) offered");
	is_int(kernel_fabrics_has_option("tls"), 0, "tls not offered");
	is_int(kernel_fabrics_has_option("nqn"), 1, "nqn offered");
	is_int(kernel_fabrics_has_option("nq"), 0, "no prefix matches");
	{
		char **opts = NULL;
		is_int(kernel_fabrics_options(&opts), 0, "the option list, read once");
		is_int((int)strv_length(opts), 11, "eleven tokens");
		ok(opts && streq(opts[0], "instance") && streq(opts[9], "discovery") &&
			   streq(opts[10], "dhchap_secret"),
		   "in the kernel's order, names only");
		strv_free(opts);
		opts = NULL;
		(void)unlink(dev);
		is_int(kernel_fabrics_options(&opts), -ENOENT, "no device: -ENOENT");
		ok(opts == NULL, "  ... untouched");
	}
	is_int(kernel_fabrics_has_option("instance"), 1, "the first token");
	is_int(kernel_fabrics_has_option(""), 0, "an empty name is no option");

	/* Read once per process: a later change of the device is not seen... */
	(void)write_file_atomic(dev, "instance=-1,tls\n", strlen("instance=-1,tls\n"), 0600);
	is_int(kernel_fabrics_has_option("host_iface"), 1, "options read once, not per call");
	/* ... unless the device path changes (read again). */
	{
		char dev2[600];

		snprintf(dev2, sizeof(dev2), "%s/nvme-fabrics-2", root);
		(void)write_file_atomic(dev2, "instance=-1,tls\n", strlen("instance=-1,tls\n"),
					0600);
		setenv("STAS_NVME_FABRICS", dev2, 1);
		is_int(kernel_fabrics_has_option("tls"), 1, "another device: read again");
		is_int(kernel_fabrics_has_option("host_iface"), 0, "... its own options");
		setenv("STAS_NVME_FABRICS", dev, 1);
	}
}

static void test_src_addr(void)
{
	static const struct {
		const char *address, *want;
		int r;
	} cases[] = {
		{ "traddr=10.0.0.1,trsvcid=4420,src_addr=192.0.2.5", "192.0.2.5", 0 },
		{ "traddr=10.0.0.1,trsvcid=4420,src_addr=192.0.2.5\n", "192.0.2.5", 0 },
		{ "src_addr=192.0.2.5,traddr=10.0.0.1", "192.0.2.5", 0 },
		{ "traddr=fd00::1,trsvcid=4420,src_addr=FD00:0:0::0005", "fd00::5", 0 },
		{ "traddr=fe80::1%eth0,trsvcid=4420,src_addr=fe80::5%eth0", "fe80::5%eth0", 0 },
		{ "traddr=10.0.0.1,src_addr=::ffff:192.0.2.5", "192.0.2.5", 0 },
		{ "traddr=10.0.0.1,trsvcid=4420", NULL, -ENOENT },
		{ "traddr=10.0.0.1,host_src_addr=192.0.2.5", NULL, -ENOENT },
		{ "traddr=10.0.0.1,src_addr=", NULL, -EINVAL },
		{ "traddr=10.0.0.1,src_addr=eth0", NULL, -EINVAL },
		{ "traddr=10.0.0.1,src_addr=192.0.2.500", NULL, -EINVAL },
	};
	_cleanup_free_ struct kctrl *v = NULL;
	struct kernel_ifaddr ifa[3] = {
		{ .iface = "eth1", .family = AF_INET },
		{ .iface = "eth1", .family = AF_INET6 },
		{ .iface = "eth2", .family = AF_INET },
	};
	const struct kernel_ifaddr *real;
	struct kctrl k = {};
	struct tid want;
	char buf[64];
	int n;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int r;

		strcpy(buf, "untouched");
		r = kernel_parse_src_addr(cases[i].address, buf, sizeof(buf));
		is_int(r, cases[i].r, "src_addr of \"%s\"", cases[i].address);
		if (cases[i].want)
			is_str(buf, cases[i].want, "  canonical");
		else
			is_str(buf, "untouched", "  buffer untouched");
	}
	is_int(kernel_parse_src_addr("src_addr=192.0.2.5", buf, 4), -ENOBUFS, "too small a buffer");

	/* The scan fills it. */
	ctrl("nvme7", "tcp", "nqn.2024-01.io.stas:c",
	     "traddr=10.0.0.1,trsvcid=4420,src_addr=192.0.2.5\n", "live\n", "io\n");
	n = kernel_ctrls_scan("nqn.2024-01.io.stas:c", false, false, &v);
	ok(n == 1 && streq(v[0].src_addr, "192.0.2.5"), "scan: src_addr read from the address");

	/* kctrl_path_matches() */
	inet_pton(AF_INET, "192.0.2.5", ifa[0].addr);
	inet_pton(AF_INET6, "fd00::5", ifa[1].addr);
	inet_pton(AF_INET, "198.51.100.7", ifa[2].addr);
	memset(&want, 0, sizeof(want));
	strcpy(want.transport, "tcp");
	strcpy(want.traddr, "10.0.0.1");
	strcpy(want.trsvcid, "4420");
	strcpy(want.subsysnqn, "nqn.2024-01.io.stas:c");
	strcpy(want.host_nqn, HOSTNQN);
	k.tid = want;
	strcpy(k.name, "nvme7");
	strcpy(k.src_addr, "192.0.2.5");
	ok(kctrl_path_matches(&k, &want, NULL, 0), "the same TID matches");
	strcpy(want.host_iface, "eth1");
	ok(kctrl_path_matches(&k, &want, ifa, 3),
	   "host-iface eth1 wanted, no host-iface on the controller, src_addr on eth1: match");
	ok(!kctrl_path_matches(&k, &want, ifa + 2, 1), "src_addr not on eth1: no match");
	ok(!kctrl_path_matches(&k, &want, NULL, 0), "interfaces unknown: no match");
	strcpy(k.src_addr, "fd00::5");
	ok(kctrl_path_matches(&k, &want, ifa, 3), "an IPv6 src_addr of eth1: match");
	k.src_addr[0] = '\0';
	ok(!kctrl_path_matches(&k, &want, ifa, 3), "no src_addr (kernel < 6.1): no match");
	strcpy(k.src_addr, "192.0.2.5");
	strcpy(k.tid.host_iface, "eth2");
	ok(!kctrl_path_matches(&k, &want, ifa, 3),
	   "a controller bound to eth2 never serves an eth1 path (its src_addr aside)");
	strcpy(k.tid.host_iface, "eth1");
	ok(kctrl_path_matches(&k, &want, ifa, 3), "bound to eth1: the same path");
	want.host_iface[0] = '\0';
	ok(kctrl_path_matches(&k, &want, ifa, 3),
	   "a path that names no host-iface accepts a controller bound to one");
	k.tid.host_iface[0] = '\0';
	strcpy(want.host_traddr, "192.0.2.5");
	ok(kctrl_path_matches(&k, &want, NULL, 0), "host-traddr wanted, met by src_addr");
	strcpy(want.host_traddr, "192.0.2.6");
	ok(!kctrl_path_matches(&k, &want, NULL, 0), "host-traddr wanted, another src_addr");
	strcpy(k.tid.host_traddr, "192.0.2.9");
	strcpy(want.host_traddr, "192.0.2.5");
	ok(!kctrl_path_matches(&k, &want, NULL, 0),
	   "a controller made with another host-traddr: its src_addr does not count");
	k.tid.host_traddr[0] = '\0';
	want.host_traddr[0] = '\0';
	strcpy(want.host_iface, "eth1");
	strcpy(want.trsvcid, "4421");
	ok(!kctrl_path_matches(&k, &want, ifa, 3), "another trsvcid: no match");
	strcpy(want.trsvcid, "4420");
	strcpy(want.host_nqn, "nqn.2014-08.org.nvmexpress:uuid:other");
	ok(!kctrl_path_matches(&k, &want, ifa, 3), "another host NQN: no match");
	strcpy(want.host_nqn, HOSTNQN);
	strcpy(want.transport, "rdma");
	strcpy(k.tid.transport, "rdma");
	ok(!kctrl_path_matches(&k, &want, ifa, 3), "rdma: only the exact TID matches");

	/* The real interfaces, read once per process. */
	n = kernel_iface_addrs(&real);
	ok(n >= 0, "getifaddrs");
	{
		const struct kernel_ifaddr *again;
		bool lo = false;

		ok(kernel_iface_addrs(&again) == n && again == real, "  kept for the process");
		for (int i = 0; i < n; i++)
			if (streq(real[i].iface, "lo") && real[i].family == AF_INET &&
			    real[i].addr[0] == 127)
				lo = true;
		if (n > 0)
			ok(lo, "  lo has 127.x");
	}
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(root))
		return 1;
	setenv("STAS_SYSFS_ROOT", root, 1);
	test_scan();
	test_scan_kinds();
	test_options();
	test_fabrics_options();
	test_src_addr();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	(void)!system(cmd);
	return tap_done();
}
