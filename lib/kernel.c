/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvme/fabrics.h>
#include <nvme/ioctl.h>
#include <nvme/log.h>
#include <nvme/tree.h>
#include <nvme/util.h>

#include "dlpe.h"
#include "fileio.h"
#include "hashset.h"
#include "kernel.h"
#include "log.h"
#include "macro.h"
#include "strv.h"
#include "tls-psk.h"

static nvme_root_t root;

static const char *sysfs_root(void)
{
	const char *e = getenv("STAS_SYSFS_ROOT");
	return e ? e : "/sys";
}

static const char *fabrics_dev(void)
{
	const char *e = getenv("STAS_NVME_FABRICS");
	return e ? e : "/dev/nvme-fabrics";
}

bool kctrl_is_usable(const struct kctrl *c)
{
	return streq(c->state, "live") || streq(c->state, "connecting") ||
	       streq(c->state, "resetting") || streq(c->state, "new");
}

/* Read a small sysfs attribute of the directory @dfd, trailing newline
 * stripped; "" when absent. openat(): no path to build per attribute. */
static int attr_read(int dfd, const char *attr, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	fd = openat(dfd, attr, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		buf[0] = '\0';
		return errno == ENOENT ? 0 : negative_errno();
	}
	n = read(fd, buf, size - 1);
	if (n < 0) {
		buf[0] = '\0';
		/* Some attributes (e.g. of a deleting controller) fail to read. */
		return negative_errno();
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static bool ctrl_name_is_valid(const char *name)
{
	const char *p = str_startswith(name, "nvme");

	if (!p || !*p || strlen(name) > KCTRL_NAME_MAX)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/*
 * Fill @ret from the controller's directory. When @nqn is given and the
 * controller belongs to another subsystem, returns 0 early without reading
 * more (the caller skips it: ret->name stays empty).
 */
static int ctrl_read_dir(int dir, const char *name, const char *nqn, const char *subsysnqn,
			 struct kctrl *ret)
{
	char buf[512], addr[512];
	struct kctrl c = {};
	int r;

	if (subsysnqn) {
		if (strscpy_checked(buf, sizeof(buf), subsysnqn) < 0)
			return -EINVAL;
	} else {
		r = attr_read(dir, "subsysnqn", buf, sizeof(buf));
		if (r < 0)
			return r;
	}
	if (nqn && !streq(buf, nqn))
		return 0;
	if (strscpy_checked(c.tid.subsysnqn, sizeof(c.tid.subsysnqn), buf) < 0)
		return -EINVAL;

	(void)attr_read(dir, "transport", buf, sizeof(buf));
	c.fabrics = !isempty(buf) && !streq(buf, "pcie");
	if (!c.fabrics || strscpy_checked(c.tid.transport, sizeof(c.tid.transport), buf) < 0) {
		c.fabrics = false;
		(void)strscpy_checked(c.name, sizeof(c.name), name);
		*ret = c;
		return 0;
	}
	(void)attr_read(dir, "state", c.state, sizeof(c.state));
	(void)attr_read(dir, "hostnqn", buf, sizeof(buf));
	(void)strscpy_checked(c.tid.host_nqn, sizeof(c.tid.host_nqn), buf);
	(void)attr_read(dir, "hostid", c.hostid, sizeof(c.hostid));
	(void)attr_read(dir, "dctype", c.dctype, sizeof(c.dctype));
	(void)attr_read(dir, "cntrltype", buf, sizeof(buf));
	c.discovery = streq(buf, "discovery") || streq(c.tid.subsysnqn, NVME_DISC_SUBSYS_NQN);
	c.kato = -1;
	if (attr_read(dir, "kato", buf, sizeof(buf)) == 0 && !isempty(buf))
		c.kato = atoi(buf);

	r = attr_read(dir, "address", addr, sizeof(addr));
	if (r < 0)
		return r;
	r = tid_parse_sysfs_address(addr, &c.tid);
	if (r < 0)
		return r;
	/* Not every kernel reports it; a malformed one counts as unknown. */
	(void)kernel_parse_src_addr(addr, c.src_addr, sizeof(c.src_addr));
	/* A tid that does not canonicalise (odd transport) is kept as read. */
	(void)tid_canonicalize(&c.tid);
	(void)strscpy_checked(c.name, sizeof(c.name), name);
	*ret = c;
	return 0;
}

int kernel_ctrl_read(const char *name, struct kctrl *ret)
{
	_cleanup_close_ int fd = -1;
	struct kctrl c = {};
	char dir[512];
	int r;

	if (!ctrl_name_is_valid(name))
		return -EINVAL;
	(void)snprintf(dir, sizeof(dir), "%s/class/nvme/%s", sysfs_root(), name);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	r = ctrl_read_dir(fd, name, NULL, NULL, &c);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

int kernel_ctrl_attr(const char *name, const char *attr, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	char path[512];

	if (!ctrl_name_is_valid(name) || strchr(attr, '/') || size == 0)
		return -EINVAL;
	(void)snprintf(path, sizeof(path), "%s/class/nvme/%s", sysfs_root(), name);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	return attr_read(fd, attr, buf, size); /* trailing blanks (firmware padding) go too */
}

/*
 * Whether controller @name (in the directory @dfd) is a discovery
 * controller, as ctrl_read_dir() decides it, from as little as one
 * attribute read: a scan for one kind skips the other kind's controllers
 * without opening their directories (a DC lookup among a boot's worth of
 * I/O controllers read all ten attributes of each). cntrltype is "io" or
 * "discovery" when the target reports it (NVMe 1.4); otherwise the
 * well-known discovery NQN decides.
 */
static bool ctrl_is_discovery(int dfd, const char *name)
{
	char path[300], buf[512];

	(void)snprintf(path, sizeof(path), "%s/cntrltype", name);
	if (attr_read(dfd, path, buf, sizeof(buf)) == 0) {
		if (streq(buf, "io"))
			return false;
		if (streq(buf, "discovery"))
			return true;
	}
	(void)snprintf(path, sizeof(path), "%s/subsysnqn", name);
	return attr_read(dfd, path, buf, sizeof(buf)) == 0 && streq(buf, NVME_DISC_SUBSYS_NQN);
}

/*
 * The kind (discovery or I/O) of every controller a scan for one kind has
 * looked at, kept for the life of the process so that a later scan reads
 * no attribute of a controller it has classified before: the boot path
 * looks up each DC among a boot's worth of I/O controllers, and every
 * lookup re-read each one's cntrltype. A controller never changes kind; a
 * new controller that gets a recycled name is a new sysfs node with a new
 * inode number (kernfs numbers them cyclically, with a generation), so an
 * entry is keyed by name and inode. The table holds what the latest scan
 * saw (others are dropped), and is tied to the sysfs root it was read from.
 */
struct kind_entry {
	char name[KCTRL_NAME_MAX + 1];
	ino_t ino;
	bool discovery;
};

static struct kind_entry *kinds;
static size_t n_kinds;
static char *kinds_root;

void kernel_ctrls_forget(void)
{
	free(kinds);
	kinds = NULL;
	n_kinds = 0;
	free(kinds_root);
	kinds_root = NULL;
}

static const struct kind_entry *kind_find(const char *name, ino_t ino)
{
	for (size_t i = 0; i < n_kinds; i++)
		if (kinds[i].ino == ino && streq(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

/* Whether @name (inode @ino, in the directory @dfd) is a DC, from the table or sysfs. */
static bool ctrl_kind(int dfd, const char *name, ino_t ino, struct kind_entry **seen,
		      size_t *n_seen, size_t *alloc_seen)
{
	const struct kind_entry *k = kind_find(name, ino);
	struct kind_entry e = { .ino = ino };

	e.discovery = k ? k->discovery : ctrl_is_discovery(dfd, name);
	/* A table that cannot grow only costs reads later. */
	if (ino != 0 && strscpy_checked(e.name, sizeof(e.name), name) >= 0 &&
	    GREEDY_REALLOC(*seen, *alloc_seen, *n_seen) >= 0)
		(*seen)[(*n_seen)++] = e;
	return e.discovery;
}

/*
 * The scans. With @nqns (an I/O scan for a set of subsystems), a controller
 * outside the set costs one attribute read (subsysnqn, reused for the
 * members) and a DC the kind table knows none; otherwise a scan for one kind
 * classifies each controller through the kind table first.
 */
static int ctrls_scan(const char *nqn, const struct hashset *nqns, bool any, bool discovery,
		      struct kctrl **ret)
{
	_cleanup_free_ struct kctrl *v = NULL;
	_cleanup_free_ struct kind_entry *seen = NULL;
	DIR *d;
	struct dirent *de;
	char dir[512];
	size_t n = 0, alloc = 0, n_seen = 0, alloc_seen = 0;
	bool by_kind = !any && !nqn && !nqns, kinds_valid;

	(void)snprintf(dir, sizeof(dir), "%s/class/nvme", sysfs_root());
	if (by_kind && (!kinds_root || !streq(kinds_root, sysfs_root())))
		kernel_ctrls_forget();
	kinds_valid = kinds_root && streq(kinds_root, sysfs_root());
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			return negative_errno();
		*ret = NULL;
		return 0;
	}
	while ((de = readdir(d))) {
		_cleanup_close_ int cfd = -1;
		char path[300], set_nqn[512];
		const struct kind_entry *k;
		struct kctrl c = {};

		if (!ctrl_name_is_valid(de->d_name))
			continue;
		if (nqns) {
			k = kinds_valid ? kind_find(de->d_name, de->d_ino) : NULL;
			if (k && k->discovery)
				continue;
			(void)snprintf(path, sizeof(path), "%s/subsysnqn", de->d_name);
			if (attr_read(dirfd(d), path, set_nqn, sizeof(set_nqn)) < 0 ||
			    !hashset_contains(nqns, set_nqn))
				continue;
		} else if (by_kind && ctrl_kind(dirfd(d), de->d_name, de->d_ino, &seen, &n_seen,
						&alloc_seen) != discovery)
			continue;
		/* A controller may vanish while we look: skip it. */
		cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0)
			continue;
		if (ctrl_read_dir(cfd, de->d_name, nqn, nqns ? set_nqn : NULL, &c) < 0 ||
		    isempty(c.name) || !c.fabrics)
			continue;
		if (!any && c.discovery != discovery)
			continue;
		if (GREEDY_REALLOC(v, alloc, n) < 0) {
			closedir(d);
			return -ENOMEM;
		}
		v[n++] = c;
	}
	closedir(d);
	if (by_kind) {
		free(kinds);
		kinds = TAKE_PTR(seen);
		n_kinds = n_seen;
		if (!kinds_root)
			kinds_root = strdup(sysfs_root());
		if (!kinds_root)
			kernel_ctrls_forget();
	}
	*ret = TAKE_PTR(v);
	return (int)n;
}

int kernel_ctrls_scan(const char *nqn, bool any, bool discovery, struct kctrl **ret)
{
	return ctrls_scan(nqn, NULL, any, discovery, ret);
}

int kernel_ctrls_scan_nqns(const struct hashset *nqns, struct kctrl **ret)
{
	return ctrls_scan(NULL, nqns, false, false, ret);
}

const struct kctrl *kctrl_find(const struct kctrl *v, size_t n, const struct tid *t)
{
	for (size_t i = 0; i < n; i++)
		if (kctrl_is_usable(&v[i]) && tid_equal(&v[i].tid, t))
			return &v[i];
	return NULL;
}

static bool scope_is_valid(const char *s)
{
	if (!*s || strlen(s) >= IFNAMSIZ)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || *s == ',')
			return false;
	return true;
}

/* An IP address by value: @family and 16 bytes; the scope (after '%') ignored. */
static int ip_parse_value(const char *s, int *ret_family, unsigned char ret_addr[16])
{
	char buf[KCTRL_SRC_ADDR_MAX + 1];
	unsigned char a[16] = {};
	size_t n = strcspn(s, "%");

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1) {
		*ret_family = AF_INET;
	} else if (inet_pton(AF_INET6, buf, a) == 1) {
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
		/* An IPv4-mapped address is that IPv4 address. */
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			memmove(a, a + 12, 4);
			memset(a + 4, 0, 12);
			*ret_family = AF_INET;
		} else
			*ret_family = AF_INET6;
	} else
		return -EINVAL;
	memcpy(ret_addr, a, 16);
	return 0;
}

int kernel_parse_src_addr(const char *address, char *buf, size_t size)
{
	char value[KCTRL_SRC_ADDR_MAX + 1], out[KCTRL_SRC_ADDR_MAX + 1];
	unsigned char a[16];
	const char *p = address, *scope;
	size_t n;
	int family;

	for (;;) {
		p = strstr(p, "src_addr=");
		if (!p)
			return -ENOENT;
		if (p == address || p[-1] == ',')
			break;
		p++;
	}
	p += strlen("src_addr=");
	n = strcspn(p, ",\n ");
	if (n == 0 || n >= sizeof(value))
		return -EINVAL;
	memcpy(value, p, n);
	value[n] = '\0';
	if (ip_parse_value(value, &family, a) < 0)
		return -EINVAL;
	if (!inet_ntop(family, a, out, sizeof(out)))
		return -EINVAL;
	scope = strchr(value, '%');
	if (scope && family == AF_INET6 && strlen(out) + strlen(scope) < sizeof(out) &&
	    scope_is_valid(scope + 1))
		strcat(out, scope);
	if (strlen(out) >= size)
		return -ENOBUFS;
	strcpy(buf, out);
	return 0;
}

static struct kernel_ifaddr *ifaddrs_cache;
static size_t n_ifaddrs_cache;
static bool ifaddrs_cached;

int kernel_iface_addrs(const struct kernel_ifaddr **ret)
{
	struct ifaddrs *list = NULL;
	struct kernel_ifaddr *v = NULL;
	size_t n = 0, alloc = 0;

	if (ifaddrs_cached) {
		*ret = ifaddrs_cache;
		return (int)n_ifaddrs_cache;
	}
	if (getifaddrs(&list) < 0)
		return negative_errno();
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		struct kernel_ifaddr x = {};

		if (!i->ifa_addr || !i->ifa_name || strlen(i->ifa_name) >= sizeof(x.iface))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			memcpy(x.addr,
			       &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr,
			       4);
		else if (i->ifa_addr->sa_family == AF_INET6)
			memcpy(x.addr,
			       &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr,
			       16);
		else
			continue;
		x.family = i->ifa_addr->sa_family;
		strcpy(x.iface, i->ifa_name);
		if (GREEDY_REALLOC(v, alloc, n) < 0) {
			free(v);
			freeifaddrs(list);
			return -ENOMEM;
		}
		v[n++] = x;
	}
	freeifaddrs(list);
	ifaddrs_cache = v;
	n_ifaddrs_cache = n;
	ifaddrs_cached = true;
	log_debug("Read %zu interface addresses.", n);
	*ret = ifaddrs_cache;
	return (int)n;
}

static bool ip_equal(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	int fx, fy;

	if (ip_parse_value(a, &fx, x) < 0 || ip_parse_value(b, &fy, y) < 0)
		return false;
	return fx == fy && memcmp(x, y, 16) == 0;
}

static bool addr_of_iface(const char *addr, const char *iface, const struct kernel_ifaddr *ifa,
			  size_t n_ifa)
{
	unsigned char a[16];
	int family;

	if (ip_parse_value(addr, &family, a) < 0)
		return false;
	for (size_t i = 0; i < n_ifa; i++) {
		unsigned char b[16] = {};
		int fb = ifa[i].family;

		memcpy(b, ifa[i].addr, 16);
		if (fb == AF_INET)
			memset(b + 4, 0, 12);
		if (streq(ifa[i].iface, iface) && fb == family && memcmp(a, b, 16) == 0)
			return true;
	}
	return false;
}

bool kctrl_path_matches(const struct kctrl *k, const struct tid *want,
			const struct kernel_ifaddr *ifa, size_t n_ifa)
{
	const struct tid *t = &k->tid;

	if (tid_equal(t, want))
		return true;
	if (!streq(t->transport, "tcp") || !streq(want->transport, "tcp") ||
	    !streq(t->traddr, want->traddr) || !streq(t->trsvcid, want->trsvcid) ||
	    !streq(t->subsysnqn, want->subsysnqn) || !streq(t->host_nqn, want->host_nqn))
		return false;
	if (!isempty(want->host_traddr) && !streq(t->host_traddr, want->host_traddr)) {
		if (!isempty(t->host_traddr) || isempty(k->src_addr) ||
		    !ip_equal(k->src_addr, want->host_traddr))
			return false;
	}
	if (!isempty(want->host_iface) && !streq(t->host_iface, want->host_iface)) {
		if (!isempty(t->host_iface) || isempty(k->src_addr) ||
		    !addr_of_iface(k->src_addr, want->host_iface, ifa, n_ifa))
			return false;
	}
	return true;
}

bool kernel_fabrics_available(void)
{
	return access(fabrics_dev(), F_OK) == 0;
}

/*
 * The connect options /dev/nvme-fabrics offers, as ",name,name,...,": read
 * once per process (a batch of connects used to read the device again for
 * every optional option of every connect) and kept with the device path they
 * came from. A failed read is not kept: the module may be loaded later.
 */
static struct {
	char path[256];
	char tokens[4096];
	bool valid;
} fabrics_options;

/* Read the option tokens /dev/nvme-fabrics (@dev) offers into @buf, NUL-terminated. */
static int fabrics_read(const char *dev, char buf[static 4096])
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	n = read(fd, buf, 4096 - 1);
	if (n < 0)
		return negative_errno();
	buf[n] = '\0';
	return 0;
}

static int fabrics_options_load(void)
{
	const char *dev = fabrics_dev();
	char buf[4096], *tok, *save = NULL;
	size_t len = 0;
	int r;

	if (fabrics_options.valid && streq(fabrics_options.path, dev))
		return 0;
	fabrics_options.valid = false;
	r = fabrics_read(dev, buf);
	if (r < 0)
		return r;
	/* "instance=%d,cntlid=%d,transport=%s,...,dhchap_secret=%s,..." */
	fabrics_options.tokens[len++] = ',';
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
		size_t l = strcspn(tok, "=");

		if (l == 0 || len + l + 2 > sizeof(fabrics_options.tokens))
			continue;
		memcpy(fabrics_options.tokens + len, tok, l);
		len += l;
		fabrics_options.tokens[len++] = ',';
	}
	fabrics_options.tokens[len] = '\0';
	if (strscpy_checked(fabrics_options.path, sizeof(fabrics_options.path), dev) < 0)
		return 0; /* usable now, read again next time */
	fabrics_options.valid = true;
	return 0;
}

int kernel_fabrics_has_option(const char *opt)
{
	char want[64];
	int r;

	r = fabrics_options_load();
	if (r < 0)
		return r;
	if (isempty(opt) || strpbrk(opt, ",=\n") ||
	    snprintf(want, sizeof(want), ",%s,", opt) >= (int)sizeof(want))
		return 0;
	return strstr(fabrics_options.tokens, want) ? 1 : 0;
}

int kernel_fabrics_options(char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	char buf[4096], *tok, *save = NULL;
	int r;

	/* read afresh, not from the cache above: a view of the kernel now */
	r = fabrics_read(fabrics_dev(), buf);
	if (r < 0)
		return r;
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
		tok[strcspn(tok, "=")] = '\0';
		if (!isempty(tok) && strv_extend(&l, tok) < 0)
			return -ENOMEM;
	}
	if (!l && !(l = calloc(1, sizeof(char *))))
		return -ENOMEM;
	*ret = TAKE_PTR(l);
	return 0;
}

static nvme_root_t root_get(void)
{
	if (!root) {
		FILE *f = log_nvme_stream();
		root = nvme_create_root(f ? f : stderr,
					log_get_max_level() >= LOG_DEBUG ? LOG_DEBUG : LOG_NOTICE);
	}
	return root;
}

void kernel_close(void)
{
	if (root) {
		nvme_free_tree(root);
		root = NULL;
	}
}

/* Fill @err (when non-NULL) with printf-style words; always returns @r. */
_printf_(3, 4) static int error_set(struct kernel_error *err, int r, const char *format, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, format);
		(void)vsnprintf(err->text, sizeof(err->text), format, ap);
		va_end(ap);
	}
	return r;
}

static void error_clear(struct kernel_error *err)
{
	if (err)
		err->text[0] = '\0';
}

const char *kernel_error_message(const struct kernel_error *err, int r)
{
	return err && err->text[0] ? err->text : strerror(abs(r));
}

/* Convert libnvme's errno (>= 1000 for its own codes) to a negative errno. */
static int nvme_errno_convert(int e, struct kernel_error *err)
{
	(void)error_set(err, 0, "%s",
			e >= ENVME_CONNECT_RESOLVE ? nvme_errno_to_string(e) : strerror(e));
	switch (e) {
	case ENVME_CONNECT_ALREADY:
		return -EALREADY;
	case ENVME_CONNECT_INVAL:
	case ENVME_CONNECT_TARG:
	case ENVME_CONNECT_AARG:
	case ENVME_CONNECT_INVAL_TR:
	case ENVME_CONNECT_ADDRFAM:
	case ENVME_CONNECT_TRADDR:
	case ENVME_CONNECT_RESOLVE:
		return -EINVAL;
	case ENVME_CONNECT_ADDRINUSE:
		return -EADDRINUSE;
	case ENVME_CONNECT_NODEV:
		return -ENODEV;
	case ENVME_CONNECT_OPNOTSUPP:
		return -EOPNOTSUPP;
	case ENVME_CONNECT_CONNREFUSED:
		return -ECONNREFUSED;
	case ENVME_CONNECT_OPEN:
	case ENVME_CONNECT_WRITE:
	case ENVME_CONNECT_READ:
	case ENVME_CONNECT_PARSE:
	case ENVME_CONNECT_LOOKUP_SUBSYS_NAME:
	case ENVME_CONNECT_LOOKUP_SUBSYS:
		return -EIO;
	default:
		return e > 0 && e < ENVME_CONNECT_RESOLVE ? -e : -EIO;
	}
}

/* Append ",key=value" (or ",key" for a flag when @value is NULL). */
static int opt_add(char *buf, size_t size, size_t *len, const char *key, const char *value)
{
	int n;

	/* The kernel splits options on ',' and '\n': a value holding one cannot be passed. */
	if (value && strpbrk(value, ",\n"))
		return -EINVAL;
	n = snprintf(buf + *len, size - *len, "%s%s%s%s", *len ? "," : "", key, value ? "=" : "",
		     value ? value : "");
	if (n < 0 || (size_t)n >= size - *len)
		return -E2BIG;
	*len += (size_t)n;
	return 0;
}

static int opt_add_int(char *buf, size_t size, size_t *len, const char *key, int value)
{
	char v[16];

	(void)snprintf(v, sizeof(v), "%d", value);
	return opt_add(buf, size, len, key, v);
}

int kernel_connect_options(const struct tid *t, const struct kconn_opts *o, bool discovery,
			   char *buf, size_t size)
{
	size_t len = 0;
	int r = 0;

	r = r ?: opt_add(buf, size, &len, "nqn", t->subsysnqn);
	r = r ?: opt_add(buf, size, &len, "transport", t->transport);
	if (!isempty(t->traddr))
		r = r ?: opt_add(buf, size, &len, "traddr", t->traddr);
	if (!isempty(t->trsvcid))
		r = r ?: opt_add(buf, size, &len, "trsvcid", t->trsvcid);
	if (!isempty(t->host_traddr))
		r = r ?: opt_add(buf, size, &len, "host_traddr", t->host_traddr);
	if (!isempty(t->host_iface))
		r = r ?: opt_add(buf, size, &len, "host_iface", t->host_iface);
	if (!isempty(t->host_nqn))
		r = r ?: opt_add(buf, size, &len, "hostnqn", t->host_nqn);
	if (o && !isempty(o->hostid))
		r = r ?: opt_add(buf, size, &len, "hostid", o->hostid);
	/* A unique discovery NQN (TP8013) needs the flag; the well-known one implies it. */
	if (discovery && !streq(t->subsysnqn, NVME_DISC_SUBSYS_NQN) &&
	    kernel_fabrics_has_option("discovery") > 0)
		r = r ?: opt_add(buf, size, &len, "discovery", NULL);
	if (o) {
		if (o->kato > 0)
			r = r ?: opt_add_int(buf, size, &len, "keep_alive_tmo", o->kato);
		if (o->reconnect_delay > 0)
			r = r	  ?:
				    opt_add_int(buf, size, &len, "reconnect_delay",
						o->reconnect_delay);
		if (o->ctrl_loss_tmo_set && !streq(t->transport, "loop"))
			r = r ?: opt_add_int(buf, size, &len, "ctrl_loss_tmo", o->ctrl_loss_tmo);
		if (!discovery) {
			if (o->nr_io_queues > 0)
				r = r	  ?:
					    opt_add_int(buf, size, &len, "nr_io_queues",
							o->nr_io_queues);
			if (o->nr_write_queues > 0)
				r = r	  ?:
					    opt_add_int(buf, size, &len, "nr_write_queues",
							o->nr_write_queues);
			if (o->nr_poll_queues > 0)
				r = r	  ?:
					    opt_add_int(buf, size, &len, "nr_poll_queues",
							o->nr_poll_queues);
			if (o->queue_size > 0)
				r = r ?: opt_add_int(buf, size, &len, "queue_size", o->queue_size);
		}
		/*
		 * Secrets go to discovery controllers too: the kernel
		 * authenticates a DC like any controller, and a secret the
		 * administrator configured for a DC must never be dropped
		 * silently (the host would trust an unauthenticated DC's page).
		 */
		if (!isempty(o->dhchap_secret))
			r = r ?: opt_add(buf, size, &len, "dhchap_secret", o->dhchap_secret);
		if (!isempty(o->dhchap_ctrl_secret))
			r = r	  ?:
				    opt_add(buf, size, &len, "dhchap_ctrl_secret",
					    o->dhchap_ctrl_secret);
		if (o->disable_sqflow)
			r = r ?: opt_add(buf, size, &len, "disable_sqflow", NULL);
		if (streq(t->transport, "tcp") && o->hdr_digest)
			r = r ?: opt_add(buf, size, &len, "hdr_digest", NULL);
		if (streq(t->transport, "tcp") && o->data_digest)
			r = r ?: opt_add(buf, size, &len, "data_digest", NULL);
		/*
		 * Only when asked (a TLS-required entry, tlshd running): stas
		 * writes /dev/nvme-fabrics itself, so libnvme 1.3's habit of
		 * adding "tls" to any entry with a treq does not apply.
		 */
		if (streq(t->transport, "tcp") && o->tls)
			r = r ?: opt_add(buf, size, &len, "tls", NULL);
		/*
		 * The key stas inserted has a version-1 identity (as nvme-cli's
		 * connect --tls-key); the kernel's own lookup tries only
		 * version-0 identities (6.12), so it must be named.
		 */
		if (streq(t->transport, "tcp") && o->tls && o->tls_key_serial > 0)
			r = r ?: opt_add_int(buf, size, &len, "tls_key", o->tls_key_serial);
	}
	return r;
}

/* Which option of @opts this kernel's /dev/nvme-fabrics does not offer, if any. */
static const char *connect_option_unsupported(const char *opts)
{
	static const char *const optional[] = {
		"host_iface",	  "discovery",	     "dhchap_secret", "dhchap_ctrl_secret",
		"nr_poll_queues", "nr_write_queues", "tls",	      "tls_key"
	};

	for (size_t i = 0; i < ELEMENTSOF(optional); i++) {
		size_t l = strlen(optional[i]);
		const char *p = strstr(opts, optional[i]);

		if (p && (p == opts || p[-1] == ',') && (p[l] == '=' || p[l] == ',' || !p[l]) &&
		    kernel_fabrics_has_option(optional[i]) == 0)
			return optional[i];
	}
	return NULL;
}

/*
 * Derive the TLS PSK for @t from @o's configured key and insert it into the
 * .nvme keyring: @ret is @o with the key's serial. The configured key is
 * never part of a message.
 */
static int connect_tls_key_insert(const struct tid *t, const struct kconn_opts *o,
				  struct kconn_opts *ret, struct kernel_error *err)
{
	char identity[TLS_PSK_IDENTITY_MAX + 1];
	int32_t serial;
	int r;

	if (isempty(t->host_nqn))
		return error_set(err, -EINVAL,
				 "a configured TLS PSK (tls-key) needs the host NQN (host.nqn), "
				 "and none is set");
	r = tls_psk_insert(o->tls_key, t->host_nqn, t->subsysnqn, o->tls_key_derivation, &serial,
			   identity);
	if (r == -EINVAL || r == -EBADMSG)
		return error_set(err, r, "the configured TLS PSK (tls-key) is %s",
				 tls_psk_parse_strerror(r));
	if (r == -ENOKEY)
		return error_set(err, r,
				 "the kernel has no .nvme keyring for the configured TLS PSK "
				 "(load the nvme-keyring module)");
	if (r < 0)
		return error_set(
			err, r,
			"cannot add the configured TLS PSK to the kernel's .nvme keyring: %s",
			strerror(-r));
	log_debug("Inserted the TLS PSK for %s as key %" PRId32 " in .nvme (identity \"%s\").",
		  t->subsysnqn, serial, identity);
	*ret = *o;
	ret->tls_key_serial = serial;
	return 0;
}

/*
 * Connect by writing the options to /dev/nvme-fabrics and reading back
 * "instance=N,cntlid=M". libnvme's nvmf_add_ctrl() does the same write and
 * then re-reads about fifteen sysfs attributes and walks every subsystem
 * directory to find the new one - work stas does not need (it reads what it
 * uses from sysfs itself) and that grows with the number of subsystems.
 */
int kernel_connect(const struct tid *t, const struct kconn_opts *o, bool discovery,
		   struct kernel_error *err, char ret_name[KCTRL_NAME_MAX + 1])
{
	struct kconn_opts ko;
	_cleanup_close_ int fd = -1;
	char opts[2048], resp[128];
	const char *bad;
	int instance = -1, r;
	ssize_t n;

	error_clear(err);
	if (o && o->tls && !isempty(o->tls_key) && streq(t->transport, "tcp")) {
		r = connect_tls_key_insert(t, o, &ko, err);
		if (r < 0)
			return r;
		o = &ko;
	}
	r = kernel_connect_options(t, o, discovery, opts, sizeof(opts));
	if (r < 0)
		return error_set(err, r, "%s",
				 r == -EINVAL ? "a value contains ',' or a newline" :
						"the options are too long");
	bad = connect_option_unsupported(opts);
	if (bad)
		return error_set(err, -EOPNOTSUPP,
				 "this kernel's nvme-fabrics does not support '%s'", bad);

	fd = open(fabrics_dev(), O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = negative_errno();
		return error_set(err, r, "cannot open %s: %s", fabrics_dev(), strerror(-r));
	}
	n = write(fd, opts, strlen(opts));
	if (n < 0) {
		r = negative_errno();
		/* Not TLS's missing PSK: the Connect response asked for DH-HMAC-CHAP (6.12). */
		if (r == -ENOKEY && !(o && o->tls))
			return error_set(err, r,
					 "the controller requires authentication (DH-HMAC-CHAP) "
					 "and no dhchap-secret is configured for it");
		/* The kernel's answers, in words an administrator can act on. */
		return error_set(err, r, "%s",
				 r == -EALREADY	    ? "already connected" :
				 r == -ECONNREFUSED ? "connection refused" :
				 r == -EADDRINUSE   ? "host NQN already in use" :
				 r == -ENODEV	    ? "invalid interface or transport not loaded" :
				 r == -EINVAL	    ? "invalid arguments or configuration" :
				 r == -EKEYREJECTED ?
						"authentication failed (DH-HMAC-CHAP: the "
						"host or controller key is wrong or missing)" :
						strerror(-r));
	}
	n = read(fd, resp, sizeof(resp) - 1);
	if (n <= 0)
		return -EIO;
	resp[n] = '\0';
	if (sscanf(resp, "instance=%d", &instance) != 1 || instance < 0)
		return -EIO;
	(void)snprintf(ret_name, KCTRL_NAME_MAX + 1, "nvme%d", instance);
	return 0;
}

int kernel_tlshd_running(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int found = 0;

	if (!d)
		return negative_errno();
	while (!found && (de = readdir(d))) {
		char path[64], comm[32];
		_cleanup_close_ int fd = -1;
		ssize_t n;
		size_t l = strlen(de->d_name);

		if (l == 0 || l > 20 || strspn(de->d_name, "0123456789") != l)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone meanwhile */
		n = read(fd, comm, sizeof(comm) - 1);
		if (n <= 0)
			continue;
		comm[n] = '\0';
		found = streq(comm, "tlshd\n");
	}
	closedir(d);
	return found;
}

int kernel_disconnect(const char *name)
{
	_cleanup_close_ int fd = -1;
	char path[512];

	if (!ctrl_name_is_valid(name))
		return -EINVAL;
	(void)snprintf(path, sizeof(path), "%s/class/nvme/%s/delete_controller", sysfs_root(),
		       name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (write(fd, "1", 1) != 1)
		return errno == ENODEV || errno == ENOENT ? -ENOENT : negative_errno();
	return 0;
}

static int ctrl_scan(const char *name, struct kernel_error *err, nvme_ctrl_t *ret)
{
	nvme_root_t r = root_get();
	nvme_ctrl_t c;

	error_clear(err);
	if (!r)
		return -ENOMEM;
	if (!ctrl_name_is_valid(name))
		return -EINVAL;
	errno = 0;
	c = nvme_scan_ctrl(r, name);
	if (!c)
		return nvme_errno_convert(errno ? errno : ENODEV, err);
	*ret = c;
	return 0;
}

/* One Get Log Page (discovery) of @len bytes at @offset into @buf, in 4 KiB commands. */
static int disc_log_read(int fd, bool pleo, uint64_t offset, uint32_t len, void *buf,
			 struct kernel_error *err)
{
	struct nvme_get_log_args args = {
		.lpo = offset,
		.log = buf,
		.args_size = sizeof(args),
		.fd = fd,
		.timeout = NVME_DEFAULT_IOCTL_TIMEOUT,
		.lid = NVME_LOG_LID_DISCOVER,
		.len = len,
		.nsid = NVME_NSID_NONE,
		.csi = NVME_CSI_NVM,
		.lsi = NVME_LOG_LSI_NONE,
		.lsp = pleo ? NVMF_LOG_DISC_LSP_PLEO : NVME_LOG_LSP_NONE,
		.uuidx = NVME_UUID_NONE,
		/* keep the event masked until the whole page is read (acknowledged below) */
		.rae = true,
	};
	uint32_t done = 0;
	int r;

	/*
	 * One ioctl per chunk, not nvme_get_log_page(): from libnvme 1.11 on
	 * (Debian 13 has 1.13) that submits the chunks through io_uring
	 * when the kernel has IORING_OP_URING_CMD, and on kernel 6.12 every
	 * read of a fabrics controller's page failed with ENOMEM that way.
	 * The ioctl path is what libnvme 1.3 took for every chunk anyway.
	 */
	while (done < len) {
		uint32_t n = MIN(len - done, (uint32_t)NVME_LOG_PAGE_PDU_SIZE);

		args.lpo = offset + done;
		args.log = (uint8_t *)buf + done;
		args.len = n;
		errno = 0;
		r = nvme_get_log(&args);
		if (r > 0)
			return error_set(err, -EREMOTEIO,
					 "Get Log Page failed with NVMe status 0x%x", r);
		if (r < 0)
			return nvme_errno_convert(errno ? errno : EIO, err);
		done += n;
	}
	return 0;
}

/*
 * The page, read by stas itself rather than by libnvme's
 * nvmf_get_discovery_wargs(): libnvme 1.3 sizes its buffer and its commands
 * from the DC's numrec before anyone can check it (a header claiming 2^20
 * entries makes it allocate 1 GiB and issue 2^18 commands; 2^22 wraps a
 * 32-bit size and crashes it). Here the 1 KiB header is read and checked
 * (dlpe_log_header_check()) first, on every attempt, and only then the
 * entries; the header is read again after them and the page is used only
 * when genctr and numrec did not move (a bounded number of attempts).
 */
int kernel_get_discovery_log(const char *name, bool pleo, struct kernel_error *err,
			     struct nvmf_discovery_log **ret)
{
	_cleanup_free_ struct nvmf_discovery_log *log = NULL;
	struct nvmf_discovery_log hdr, again;
	_cleanup_close_ int fd = -1;
	char path[64];
	int r;

	/*
	 * The controller's character device, opened here rather than through
	 * libnvme's nvme_scan_ctrl(): with libnvme 1.13 (Debian 13) on kernel
	 * 6.12 that scan failed with ENOMEM for every discovery controller,
	 * and the log page needs nothing but the device.
	 */
	error_clear(err);
	if (!ctrl_name_is_valid(name))
		return -EINVAL;
	(void)snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = negative_errno();
		return error_set(err, r, "cannot open %s: %s", path, strerror(-r));
	}

	for (unsigned attempt = 0;; attempt++) {
		uint64_t numrec, genctr, numrec2, genctr2;
		size_t size;

		if (attempt >= KERNEL_DLP_READ_ATTEMPTS)
			return error_set(err, -EAGAIN,
					 "the log page changed during each of %d reads",
					 KERNEL_DLP_READ_ATTEMPTS);
		r = disc_log_read(fd, pleo, 0, sizeof(hdr), &hdr, err);
		if (r < 0)
			return r;
		r = dlpe_log_header_check(&hdr, sizeof(hdr), &numrec, &genctr);
		if (r < 0 && le64toh(hdr.numrec) > DLP_ENTRIES_MAX)
			return error_set(
				err, r,
				"the log page header claims %llu entries, more than the %d "
				"accepted; not reading it",
				(unsigned long long)le64toh(hdr.numrec), DLP_ENTRIES_MAX);
		if (r < 0)
			return error_set(err, r,
					 "the log page has record format %u, not 0; not reading it",
					 le16toh(hdr.recfmt));
		size = DLP_HEADER_SIZE + (size_t)numrec * DLP_ENTRY_SIZE;
		free(log);
		log = malloc(size);
		if (!log)
			return -ENOMEM;
		memcpy(log, &hdr, sizeof(hdr));
		if (numrec > 0) {
			r = disc_log_read(fd, pleo, DLP_HEADER_SIZE,
					  (uint32_t)(size - DLP_HEADER_SIZE), log->entries, err);
			if (r < 0)
				return r;
		}
		r = disc_log_read(fd, pleo, 0, sizeof(again), &again, err);
		if (r < 0)
			return r;
		if (dlpe_log_header_check(&again, sizeof(again), &numrec2, &genctr2) == 0 &&
		    numrec2 == numrec && genctr2 == genctr)
			break;
		log_debug("%s: the log page changed while it was read, reading it again", name);
	}

	/*
	 * Acknowledge the discovery-log-change event: Linux's nvmet (6.1)
	 * unmasks it only for a read at offset 0 with RAE clear. One 1 KiB
	 * header read does that on every target.
	 */
	if (nvme_get_log_discovery(fd, false, 0, sizeof(hdr), &hdr) != 0)
		log_debug("%s: acknowledging the log page change failed, ignoring: %m", name);
	*ret = TAKE_PTR(log);
	return 0;
}

int kernel_discovery_supports_pleo(const char *name)
{
	struct nvme_supported_log_pages log = {};
	_cleanup_close_ int fd = -1;
	char path[64];
	uint32_t lid;

	if (!ctrl_name_is_valid(name))
		return -EINVAL;
	(void)snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	/* A DC that does not support the log answers with an NVMe status (> 0). */
	if (nvme_get_log_supported_log_pages(fd, false, &log) != 0)
		return 0;
	lid = le32toh(log.lid_support[NVME_LOG_LID_DISCOVER]);
	/* bit 0: supported; bits 31:16: log-specific parameters (PLEOS is bit 1 of them) */
	return (lid & 1) && ((lid >> 16) & NVMF_LOG_DISC_LID_PLEOS) ? 1 : 0;
}

int kernel_dim_register(const char *name, bool reg, const char *symname, struct kernel_error *err,
			uint32_t *ret_result)
{
	uint32_t result = 0;
	nvme_subsystem_t s;
	nvme_ctrl_t c = NULL;
	int r;

	r = ctrl_scan(name, err, &c);
	if (r < 0)
		return r;
	if (!c)
		return -ENODEV;
	if (!nvmf_is_registration_supported(c))
		return -EOPNOTSUPP;
	/* libnvme puts the host's symbolic name of the controller's host into the DIM entry */
	s = nvme_ctrl_get_subsystem(c);
	if (symname && s && nvme_subsystem_get_host(s))
		nvme_host_set_hostsymname(nvme_subsystem_get_host(s), symname);
	errno = 0;
	r = nvmf_register_ctrl(c, reg ? NVMF_DIM_TAS_REGISTER : NVMF_DIM_TAS_DEREGISTER, &result);
	if (r != 0) {
		/* > 0 is an NVMe status from the DC: it refused. */
		if (r > 0)
			return error_set(err, -EREMOTEIO, "NVMe status 0x%x", r);
		return nvme_errno_convert(errno ? errno : EIO, err);
	}
	if (ret_result)
		*ret_result = result;
	return 0;
}
