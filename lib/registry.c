/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ownership registry (see registry.h). Every access is relative to an
 * open directory fd and never follows a symlink inside the registry: the
 * registry holds directories of plain files, anything else is treated as
 * malformed (read) or stale (replaced, removed without following it).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "registry.h"

/* An attribute file larger than this is not something a registry writer made. */
#define ATTR_SIZE_MAX 4096
/* Entries are flat; a deeper tree is hostile and is purged only this deep. */
#define PURGE_DEPTH_MAX 16

static inline void closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

const char *registry_root(void)
{
	const char *e = getenv(REGISTRY_ROOT_ENV);
	return isempty(e) ? NULL : e;
}

bool registry_device_is_valid(const char *device)
{
	const char *p;
	size_t n;

	if (!device)
		return false;
	p = str_startswith(device, "nvme");
	if (!p)
		return false;
	n = strlen(p);
	if (n < 1 || n > 10)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

bool registry_owner_is_valid(const char *owner)
{
	size_t n;

	if (!owner)
		return false;
	n = strlen(owner);
	if (n < 1 || n > REGISTRY_OWNER_MAX)
		return false;
	for (const char *p = owner; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '/')
			return false;
	return true;
}

int registry_seqnum_parse(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	const char *p = s;
	bool digits = false;

	if (!s)
		return -EINVAL;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
		digits = true;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (!digits || *p)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* @root + @suffix ("/run/..."), with a NULL, "" or "/" root meaning the real one. */
static char *root_path(const char *root, const char *suffix)
{
	size_t n = root ? strlen(root) : 0;
	char *p;

	while (n > 0 && root[n - 1] == '/')
		n--;
	if (asprintf(&p, "%.*s%s", (int)n, n ? root : "", suffix) < 0)
		return NULL;
	return p;
}

/*
 * Read a small regular file at @dir_fd/@name (NUL-terminated, length in
 * *ret_len). A symlink or non-regular file is -EBADMSG, as is a file larger
 * than ATTR_SIZE_MAX. O_NONBLOCK: a FIFO planted there must not hang us.
 */
static int read_small_file(int dir_fd, const char *name, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EBADMSG : negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	buf = malloc(ATTR_SIZE_MAX + 2);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k = read(fd, buf + len, ATTR_SIZE_MAX + 1 - len);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > ATTR_SIZE_MAX)
			return -EBADMSG;
	}
	buf[len] = '\0';
	*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

/*
 * Open the entry @name inside the registry directory. A symlink or a
 * non-directory is -EBADMSG (not an entry any registry writer makes).
 */
static int entry_open(int reg_fd, const char *name)
{
	int fd = openat(reg_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return (errno == ELOOP || errno == ENOTDIR) ? -EBADMSG : negative_errno();
	return fd;
}

/*
 * Read the entry @name of the open registry directory. Return: 1 owned, 0
 * unowned (ret cleared), negative errno (ret untouched), as
 * registry_entry_get().
 */
static int entry_read(int reg_fd, const char *name, struct registry_entry *ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *owner = NULL, *seq = NULL;
	struct registry_entry e = {};
	size_t len = 0, seqlen = 0;
	int r;

	fd = entry_open(reg_fd, name);
	if (fd == -ENOENT) {
		*ret = e;
		return 0;
	}
	if (fd < 0)
		return fd;

	r = read_small_file(fd, "owner", &owner, &len);
	if (r == -ENOENT || (r == 0 && len == 0)) {
		/* "Absence means unowned": no owner file, or an empty one. */
		*ret = e;
		return 0;
	}
	if (r < 0)
		return r;
	while (len > 0 && (owner[len - 1] == '\n' || owner[len - 1] == '\r'))
		len--;
	if (len > REGISTRY_OWNER_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)owner[i] < ' ' || owner[i] == 0x7f)
			return -EBADMSG;
	memcpy(e.owner, owner, len);
	e.owner[len] = '\0';

	/* The stamp is best-effort everywhere: whatever cannot be read is 0. */
	if (read_small_file(fd, "seqnum", &seq, &seqlen) == 0 &&
	    registry_seqnum_parse(seq, &e.seqnum) < 0)
		e.seqnum = 0;

	*ret = e;
	return 1;
}

/* Open @root/run/nvme/registry; -ENOENT when it does not exist. */
static int registry_open(const char *root, char **ret_path)
{
	_cleanup_free_ char *path = root_path(root, REGISTRY_DIR);
	int fd;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (ret_path)
		*ret_path = TAKE_PTR(path);
	return fd;
}

/*
 * Open @root/run/nvme/registry, creating it and its missing parents with
 * mode 0755 (set explicitly: a tight umask must not make it unreadable).
 */
static int registry_open_create(const char *root, char **ret_path)
{
	_cleanup_free_ char *base = NULL;
	_cleanup_close_ int fd = -1;
	static const char *const parts[] = { "run", "nvme", "registry" };
	int r;

	/* The common case, once the first entry exists: one open, no mkdir walk. */
	r = registry_open(root, ret_path);
	if (r != -ENOENT)
		return r;
	base = root_path(root, "/");
	if (!base)
		return -ENOMEM;
	fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
		int next;

		if (mkdirat(fd, parts[i], 0755) == 0) {
			if (fchmodat(fd, parts[i], 0755, 0) < 0)
				return negative_errno();
		} else if (errno != EEXIST)
			return negative_errno();
		next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (next < 0)
			return negative_errno();
		closep(&fd);
		fd = next;
	}
	if (ret_path) {
		*ret_path = root_path(root, REGISTRY_DIR);
		if (!*ret_path)
			return -ENOMEM;
	}
	return TAKE_FD(fd);
}

/* Remove @name in @dir_fd and everything below it, never following a symlink. */
static int purge_at(int dir_fd, const char *name, int depth)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	int fd, r = 0;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT ? negative_errno() : 0;
	if (depth >= PURGE_DEPTH_MAX)
		return -ELOOP;

	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	d = fdopendir(fd);
	if (!d) {
		r = negative_errno();
		(void)close(fd);
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		int k;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		k = purge_at(dirfd(d), de->d_name, depth + 1);
		if (k < 0 && r == 0)
			r = k;
	}
	if (errno != 0 && r == 0)
		r = negative_errno();
	if (r < 0)
		return r;
	if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return negative_errno();
	return 0;
}

/*
 * Take the entry @device out of sight in one step: rename it to a fresh
 * hidden name in the registry (reserved with mkdtemp(), which rename()
 * replaces since it is an empty directory). A non-directory in its place is
 * not an entry anyone can read: it is unlinked directly.
 *
 * Return: 1 and *ret_name (the hidden name) when an entry was taken aside,
 * or with *ret_name NULL when a non-directory was unlinked; 0 when there was
 * none; negative errno.
 */
static int entry_take_aside(int reg_fd, const char *reg_path, const char *device, char **ret_name)
{
	_cleanup_free_ char *tmpl = NULL;
	struct stat st;
	const char *base;

	if (fstatat(reg_fd, device, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(reg_fd, device, 0) < 0)
			return errno == ENOENT ? 0 : negative_errno();
		*ret_name = NULL;
		return 1;
	}

	if (asprintf(&tmpl, "%s/.%s.old.XXXXXX", reg_path, device) < 0)
		return -ENOMEM;
	if (!mkdtemp(tmpl))
		return negative_errno();
	base = strrchr(tmpl, '/') + 1;
	if (renameat(reg_fd, device, reg_fd, base) < 0) {
		int r = negative_errno();

		(void)unlinkat(reg_fd, base, AT_REMOVEDIR);
		return r == -ENOENT ? 0 : r;
	}
	*ret_name = strdup(base);
	if (!*ret_name) {
		(void)purge_at(reg_fd, base, 0);
		return -ENOMEM;
	}
	return 1;
}

/* Put an entry taken aside back, unless a new entry took its place (then purge it). */
static void entry_restore(int reg_fd, const char *aside, const char *device)
{
	if (renameat2(reg_fd, aside, reg_fd, device, RENAME_NOREPLACE) < 0) {
		log_debug_errno(errno, "registry: %s: not restored (%m), dropping the stale copy",
				device);
		(void)purge_at(reg_fd, aside, 0);
	}
}

int registry_uevent_seqnum(const char *root, uint64_t *ret)
{
	/* The kernel's own counter never goes away: its fd is kept for the process. */
	static int kernel_fd = -1;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	bool real = !root || strspn(root, "/") == strlen(root);
	char buf[64];
	ssize_t k;

	if (!real || kernel_fd < 0) {
		path = root_path(root, REGISTRY_UEVENT_SEQNUM);
		if (!path)
			return -ENOMEM;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return negative_errno();
		if (real)
			kernel_fd = TAKE_FD(fd);
	}
	/*
	 * One read, from the start: sysfs hands an attribute over whole in the
	 * first read (and generates it afresh for a read at offset 0), as a
	 * regular file of this size does; a value that fills the buffer is too
	 * long to be a sequence number.
	 */
	do
		k = pread(real ? kernel_fd : fd, buf, sizeof(buf) - 1, 0);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return negative_errno();
	if ((size_t)k == sizeof(buf) - 1)
		return -EINVAL;
	buf[k] = '\0';
	return registry_seqnum_parse(buf, ret);
}

int registry_entry_get(const char *root, const char *device, struct registry_entry *ret)
{
	_cleanup_close_ int reg_fd = -1;

	if (!registry_device_is_valid(device))
		return -EINVAL;
	reg_fd = registry_open(root, NULL);
	if (reg_fd == -ENOENT) {
		*ret = (struct registry_entry){};
		return 0;
	}
	if (reg_fd < 0)
		return reg_fd;
	return entry_read(reg_fd, device, ret);
}

static int ownership_of(int reg_fd, const char *name, const char *owner)
{
	struct registry_entry e;
	int r;

	r = entry_read(reg_fd, name, &e);
	if (r == -EBADMSG)
		return REGISTRY_OWNED_BY_OTHER;
	if (r < 0)
		return r;
	if (r == 0)
		return REGISTRY_UNOWNED;
	return streq(e.owner, owner) ? REGISTRY_OWNED_BY_US : REGISTRY_OWNED_BY_OTHER;
}

int registry_ownership(const char *root, const char *device, const char *owner)
{
	_cleanup_close_ int reg_fd = -1;

	if (!registry_device_is_valid(device) || !registry_owner_is_valid(owner))
		return -EINVAL;
	reg_fd = registry_open(root, NULL);
	if (reg_fd == -ENOENT)
		return REGISTRY_UNOWNED;
	if (reg_fd < 0)
		return reg_fd;
	return ownership_of(reg_fd, device, owner);
}

/*
 * Whether the registry at @reg_path needs fsync() to make an entry durable:
 * not on tmpfs or ramfs (/run on every systemd host), where fsync is a no-op
 * that still costs a syscall per call. Asked once per process and root with
 * statfs(); an unanswerable statfs keeps the syncs. (Durability past a
 * crash of the host hardly matters for this registry - its entries describe
 * controllers that do not survive a reboot, and /run is cleared at boot -
 * but a registry on a disk keeps the syncs it always had.)
 */
static bool registry_durable(const char *root, const char *reg_path)
{
	static char *cached_root;
	static bool cached, durable = true;
	const char *key = root ? root : "";
	struct statfs sf;

	if (cached && cached_root && streq(cached_root, key))
		return durable;
	durable = !(statfs(reg_path, &sf) == 0 &&
		    ((unsigned long)sf.f_type == (unsigned long)TMPFS_MAGIC ||
		     (unsigned long)sf.f_type == (unsigned long)RAMFS_MAGIC));
	free(cached_root);
	cached_root = strdup(key);
	cached = cached_root != NULL;
	return durable;
}

/*
 * Write one attribute file of a new entry: 0644, "value\n", synced when
 * @sync; @fix_mode when the umask takes bits off 0644. @dir_fd may be
 * AT_FDCWD with @name a path.
 */
static int attr_write(int dir_fd, const char *name, const char *value, bool sync, bool fix_mode)
{
	_cleanup_close_ int fd = -1;
	char line[REGISTRY_OWNER_MAX + 2];
	size_t len, off = 0;

	len = strlen(value);
	if (len > REGISTRY_OWNER_MAX)
		return -EINVAL;
	memcpy(line, value, len);
	line[len++] = '\n';
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return negative_errno();
	if (fix_mode && fchmod(fd, 0644) < 0)
		return negative_errno();
	while (off < len) {
		ssize_t k = write(fd, line + off, len - off);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		off += (size_t)k;
	}
	if (sync && fsync(fd) < 0)
		return negative_errno();
	return 0;
}

/*
 * The process's umask, read once, at its first registration (umask() is
 * the only way to read it, and it writes too: two calls), and again in a
 * forked child. stas's programs never change theirs, so one reading serves
 * every entry of a batch; a program that changes its umask after
 * registering must not rely on this. Not for threaded callers: the umask is
 * 0 for a moment.
 */
static bool umask_known;
static mode_t umask_value;

static void umask_forget(void)
{
	umask_known = false;
}

static mode_t process_umask(void)
{
	static bool atfork;

	if (!umask_known) {
		umask_value = umask(0);
		(void)umask(umask_value);
		if (!atfork)
			atfork = pthread_atfork(NULL, NULL, umask_forget) == 0;
		/* without the fork hook a child could use a stale value: read it each time */
		umask_known = atfork;
	}
	return umask_value;
}

/*
 * Fill the new entry directory @tmp_path (made by this process a moment
 * ago, 0755 less the umask, or 0700 when @made_private: mkdtemp()'s) with
 * seqnum and owner. When the umask takes nothing off 0755 (so nothing off
 * the files' 0644 either) the modes are right as made; anything else (a
 * tight umask, mkdtemp()) and every mode is set explicitly - readers need
 * 0755 and 0644. When no sync is needed the files are made by path, without
 * opening the directory: O_NOFOLLOW and O_EXCL keep the files themselves
 * from following anything, and the directory was made a moment ago in the
 * registry, which only its owner (root) can write - whoever could swap it
 * for something else could write the registry anyway.
 */
static int entry_fill(const char *tmp_path, bool made_private, const char *root, const char *owner,
		      bool sync, uint64_t *ret_seqnum)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *seq_path = NULL, *owner_path = NULL;
	const char *seq_name = "seqnum", *owner_name = "owner";
	uint64_t seqnum = 0;
	bool fix;
	int dfd, r;

	if (sync) {
		fd = open(tmp_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return negative_errno();
		dfd = fd;
	} else {
		if (asprintf(&seq_path, "%s/seqnum", tmp_path) < 0) {
			seq_path = NULL;
			return -ENOMEM;
		}
		if (asprintf(&owner_path, "%s/owner", tmp_path) < 0) {
			owner_path = NULL;
			return -ENOMEM;
		}
		seq_name = seq_path;
		owner_name = owner_path;
		dfd = AT_FDCWD;
	}
	fix = made_private || (process_umask() & 0755) != 0;
	if (fix && (fd >= 0 ? fchmod(fd, 0755) : chmod(tmp_path, 0755)) < 0)
		return negative_errno();

	r = registry_uevent_seqnum(root, &seqnum);
	if (r < 0) {
		log_debug_errno(
			r, "registry: cannot read the uevent seqnum (%m), entry left unstamped");
		seqnum = 0;
	} else {
		char buf[32];

		(void)snprintf(buf, sizeof(buf), "%" PRIu64, seqnum);
		r = attr_write(dfd, seq_name, buf, sync, fix);
		if (r < 0)
			return r;
	}
	r = attr_write(dfd, owner_name, owner, sync, fix);
	if (r < 0)
		return r;
	if (sync && fsync(fd) < 0)
		return negative_errno();
	*ret_seqnum = seqnum;
	return 0;
}

/*
 * Make the hidden directory a new entry is built in, @reg_path/.@device.tmp.*,
 * and return its path. The common case is one mkdir() of a name made of the
 * process ID and a counter (mkdir() fails rather than reuse a name, so two
 * writers never share one); a name taken (a leftover of a crashed process
 * whose ID came back, a forked child) falls back to mkdtemp(), whose
 * directory is 0700 (@ret_private). A missing registry directory is created
 * first.
 */
static int entry_tmp_make(const char *root, const char *reg_path, const char *device,
			  char **ret_path, bool *ret_private)
{
	static pid_t pid;
	static unsigned counter;
	_cleanup_free_ char *path = NULL;
	bool created = false;

	if (pid == 0)
		pid = getpid();
	for (;;) {
		free(path);
		if (asprintf(&path, "%s/.%s.tmp.%d.%u", reg_path, device, (int)pid, counter++) <
		    0) {
			path = NULL;
			return -ENOMEM;
		}
		if (mkdir(path, 0755) == 0) {
			*ret_private = false;
			break;
		}
		if (errno == ENOENT && !created) {
			_cleanup_close_ int fd = registry_open_create(root, NULL);

			if (fd < 0)
				return fd;
			created = true;
			continue;
		}
		if (errno != EEXIST)
			return negative_errno();
		free(path);
		if (asprintf(&path, "%s/.%s.tmp.XXXXXX", reg_path, device) < 0) {
			path = NULL;
			return -ENOMEM;
		}
		if (!mkdtemp(path))
			return negative_errno();
		*ret_private = true;
		break;
	}
	*ret_path = TAKE_PTR(path);
	return 0;
}

/*
 * Rename the filled entry @tmp (a name in @reg_fd) over whatever is at
 * @device. rename() onto a non-empty directory fails, so any entry in the
 * way is taken aside first; should another writer slip a new one in
 * between, take that aside too (a few times, then give up).
 */
static int entry_replace(int reg_fd, const char *reg_path, const char *tmp, const char *device)
{
	int r = 0;

	for (int attempt = 0;; attempt++) {
		_cleanup_free_ char *aside = NULL;

		r = entry_take_aside(reg_fd, reg_path, device, &aside);
		if (r > 0) {
			log_debug("registry: %s: replacing a stale entry", device);
			if (aside)
				(void)purge_at(reg_fd, aside, 0);
		}
		if (r < 0)
			return r;
		if (renameat(reg_fd, tmp, reg_fd, device) == 0)
			return 0;
		r = negative_errno();
		if ((r != -ENOTEMPTY && r != -EEXIST) || attempt >= 3)
			return r;
	}
}

int registry_register(const char *root, const char *device, const char *owner, uint64_t *ret_seqnum)
{
	_cleanup_free_ char *reg_path = NULL, *tmp_path = NULL, *dev_path = NULL;
	_cleanup_close_ int reg_fd = -1;
	const char *tmp;
	uint64_t seqnum = 0;
	bool sync, made_private = false;
	int r;

	if (!registry_device_is_valid(device) || !registry_owner_is_valid(owner))
		return -EINVAL;
	reg_path = root_path(root, REGISTRY_DIR);
	if (!reg_path || asprintf(&dev_path, "%s/%s", reg_path, device) < 0)
		return -ENOMEM;

	r = entry_tmp_make(root, reg_path, device, &tmp_path, &made_private);
	if (r < 0)
		return log_debug_errno(r, "registry: %s: cannot make the new entry: %m", device);
	tmp = strrchr(tmp_path, '/') + 1;
	sync = registry_durable(root, reg_path);

	r = entry_fill(tmp_path, made_private, root, owner, sync, &seqnum);
	/*
	 * The common case in one step: nothing (or an empty directory, which
	 * holds no owner) is in the way. Anything else - a stale entry, a
	 * non-directory - goes through the registry directory's fd.
	 */
	if (r == 0) {
		if (rename(tmp_path, dev_path) == 0)
			r = 1;
		else if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR &&
			 errno != EISDIR)
			r = negative_errno();
	}
	if (r <= 0 || sync) {
		reg_fd = registry_open(root, NULL);
		if (reg_fd < 0 && r <= 0) {
			(void)purge_at(AT_FDCWD, tmp_path, 0);
			return log_debug_errno(r < 0 ? r : reg_fd,
					       "registry: %s: cannot register: %m", device);
		}
	}
	if (r == 0)
		r = entry_replace(reg_fd, reg_path, tmp, device);
	if (r < 0) {
		(void)purge_at(reg_fd, tmp, 0);
		return log_debug_errno(r, "registry: %s: cannot register: %m", device);
	}
	if (sync && reg_fd >= 0)
		(void)fsync(reg_fd);
	if (ret_seqnum)
		*ret_seqnum = seqnum;
	return 0;
}

int registry_unregister(const char *root, const char *device, const char *owner)
{
	_cleanup_free_ char *reg_path = NULL, *aside = NULL;
	_cleanup_close_ int reg_fd = -1;
	int r;

	if (!registry_device_is_valid(device) || !registry_owner_is_valid(owner))
		return -EINVAL;
	reg_fd = registry_open(root, &reg_path);
	if (reg_fd == -ENOENT)
		return 0;
	if (reg_fd < 0)
		return reg_fd;

	r = ownership_of(reg_fd, device, owner);
	if (r < 0)
		return r;
	if (r == REGISTRY_UNOWNED)
		return 0;
	if (r == REGISTRY_OWNED_BY_OTHER)
		return -EPERM;

	r = entry_take_aside(reg_fd, reg_path, device, &aside);
	if (r <= 0 || !aside)
		return r;
	/* It may have been replaced between the check and the rename: check the copy taken. */
	r = ownership_of(reg_fd, aside, owner);
	if (r != REGISTRY_OWNED_BY_US) {
		entry_restore(reg_fd, aside, device);
		return r < 0 ? r : r == REGISTRY_UNOWNED ? 0 : -EPERM;
	}
	r = purge_at(reg_fd, aside, 0);
	if (r < 0)
		log_debug_errno(r, "registry: %s: hidden copy %s not fully removed: %m", device,
				aside);
	if (registry_durable(root, reg_path))
		(void)fsync(reg_fd);
	return 1;
}

/* The entry's stamp as the udev rule reads it: anything unreadable is 0. */
static uint64_t stamp_of(int reg_fd, const char *name)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *seq = NULL;
	uint64_t v = 0;
	size_t len;

	fd = entry_open(reg_fd, name);
	if (fd < 0)
		return 0;
	if (read_small_file(fd, "seqnum", &seq, &len) < 0 || registry_seqnum_parse(seq, &v) < 0)
		return 0;
	return v;
}

int registry_remove_event(const char *root, const char *device, uint64_t event_seqnum)
{
	_cleanup_free_ char *dev = NULL, *node = NULL, *reg_path = NULL, *aside = NULL;
	_cleanup_close_ int reg_fd = -1;
	struct stat st;
	int r;

	if (!registry_device_is_valid(device))
		return -EINVAL;

	/* Guard 1: a live node means the instance was recycled: the entry is the new one's. */
	if (asprintf(&dev, "/dev/%s", device) < 0)
		return -ENOMEM;
	node = root_path(root, dev);
	if (!node)
		return -ENOMEM;
	if (stat(node, &st) == 0) {
		log_debug("registry: %s: remove event %" PRIu64 " ignored, the device node exists",
			  device, event_seqnum);
		return 0;
	}
	if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
		return log_debug_errno(errno, "registry: %s: cannot check the device node: %m",
				       device);

	reg_fd = registry_open(root, &reg_path);
	if (reg_fd == -ENOENT)
		return 0;
	if (reg_fd < 0)
		return reg_fd;

	/* Guard 2: a stale remove event is older than the live entry's stamp. */
	if (event_seqnum <= stamp_of(reg_fd, device)) {
		log_debug("registry: %s: remove event %" PRIu64
			  " is not newer than the entry's stamp, kept",
			  device, event_seqnum);
		return 0;
	}
	r = entry_take_aside(reg_fd, reg_path, device, &aside);
	if (r <= 0 || !aside)
		return r;
	/* Closes the window between reading the stamp and the rename. */
	if (event_seqnum <= stamp_of(reg_fd, aside)) {
		entry_restore(reg_fd, aside, device);
		return 0;
	}
	r = purge_at(reg_fd, aside, 0);
	if (r < 0)
		log_debug_errno(r, "registry: %s: hidden copy %s not fully removed: %m", device,
				aside);
	if (registry_durable(root, reg_path))
		(void)fsync(reg_fd);
	return 1;
}
