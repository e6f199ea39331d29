/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/registry against a fake root (run/, sys/kernel/uevent_seqnum, dev/),
 * rule by rule from nvme-cli's libnvme/design/REGISTRY.md ("REGISTRY.md:
 * <rule>" in each message) and libnvme's 70-nvmf-registry.rules, plus
 * hostile trees: symlinks, wrong file types, junk, huge files, a FIFO.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "registry.h"
#include "tap.h"

static char root[64] = "/tmp/test-registry.XXXXXX";

/* @s printable for a TAP message: control bytes as C escapes (rotating buffers). */
static const char *esc(const char *s)
{
	static char buf[4][1024];
	static int k;
	char *b = buf[k++ % 4];
	size_t n = 0;

	for (; *s && n + 5 < sizeof(buf[0]); s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			n += (size_t)sprintf(b + n, "\\n");
		else if (c == '\r')
			n += (size_t)sprintf(b + n, "\\r");
		else if (c < ' ' || c >= 0x7f)
			n += (size_t)sprintf(b + n, "\\x%02x", c);
		else
			b[n++] = (char)c;
	}
	b[n] = '\0';
	return b;
}

static char *path(const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", root, rel) < 0)
		abort();
	return p;
}

static void put(const char *rel, const char *content)
{
	_cleanup_free_ char *p = path(rel);

	if (mkdir_parents(p, 0755) < 0 || write_file_atomic(p, content, strlen(content), 0644) < 0)
		abort();
}

static void put_bytes(const char *rel, const char *data, size_t n)
{
	_cleanup_free_ char *p = path(rel);

	if (mkdir_parents(p, 0755) < 0 || write_file_atomic(p, data, n, 0644) < 0)
		abort();
}

static char *get(const char *rel)
{
	_cleanup_free_ char *p = path(rel);
	char *s = NULL;

	if (read_full_file(p, 1 << 20, &s, NULL) < 0)
		return NULL;
	return s;
}

static bool exists(const char *rel)
{
	_cleanup_free_ char *p = path(rel);
	struct stat st;

	return lstat(p, &st) == 0;
}

static int mode_of(const char *rel)
{
	_cleanup_free_ char *p = path(rel);
	struct stat st;

	if (lstat(p, &st) < 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rm_rf(const char *rel)
{
	_cleanup_free_ char *p = path(rel);

	(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Fresh fake root: empty registry tree, uevent counter at @seqnum ("" for none). */
static void reset(const char *seqnum)
{
	rm_rf("run");
	rm_rf("sys");
	rm_rf("dev");
	rm_rf("elsewhere");
	if (*seqnum)
		put("sys/kernel/uevent_seqnum", seqnum);
	else {
		_cleanup_free_ char *p = path("dev");
		(void)mkdir(p, 0755);
	}
}

/* Names in run/nvme/registry other than @visible: leftovers of temp or aside dirs. */
static int hidden_leftovers(void)
{
	_cleanup_free_ char *p = path("run/nvme/registry");
	struct dirent **l = NULL;
	int n, hidden = 0;

	n = scandir(p, &l, NULL, alphasort);
	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		if (l[i]->d_name[0] == '.' && !streq(l[i]->d_name, ".") &&
		    !streq(l[i]->d_name, ".."))
			hidden++;
		free(l[i]);
	}
	free(l);
	return hidden;
}

static void test_names(void)
{
	static const struct {
		const char *s;
		bool valid;
	} dev[] = {
		{ "nvme0", true },
		{ "nvme12", true },
		{ "nvme4294967295", true },
		{ "nvme", false },
		{ "nvme12345678901", false },
		{ "nvme1n1", false },
		{ "nvme-fabrics", false },
		{ "../nvme1", false },
		{ "nvme1/..", false },
		{ "NVME1", false },
		{ "", false },
		{ " nvme1", false },
	};
	static const struct {
		const char *s;
		bool valid;
	} own[] = {
		{ "stas", true },	  { "nbft", true },    { "discoverd", true },
		{ "a-b_c.d", true },	  { "", false },       { "a b", false },
		{ "a/b", false },	  { "stas\n", false }, { "\x01", false },
		{ "caf\xc3\xa9", false },
	};
	char long_owner[REGISTRY_OWNER_MAX + 2];

	for (size_t i = 0; i < ELEMENTSOF(dev); i++)
		ok(registry_device_is_valid(dev[i].s) == dev[i].valid,
		   "REGISTRY.md 'one directory per controller, nvmeN': \"%s\" %s", esc(dev[i].s),
		   dev[i].valid ? "valid" : "refused");
	ok(!registry_device_is_valid(NULL), "device NULL refused");
	for (size_t i = 0; i < ELEMENTSOF(own); i++)
		ok(registry_owner_is_valid(own[i].s) == own[i].valid, "owner \"%s\" %s",
		   esc(own[i].s), own[i].valid ? "valid" : "refused");
	memset(long_owner, 'x', sizeof(long_owner) - 1);
	long_owner[sizeof(long_owner) - 1] = '\0';
	ok(!registry_owner_is_valid(long_owner), "owner of %d bytes refused",
	   REGISTRY_OWNER_MAX + 1);
	long_owner[REGISTRY_OWNER_MAX] = '\0';
	ok(registry_owner_is_valid(long_owner), "owner of %d bytes valid", REGISTRY_OWNER_MAX);
}

static void test_seqnum_parse(void)
{
	static const struct {
		const char *s;
		int r;
		uint64_t v;
	} t[] = {
		{ "123\n", 0, 123 },
		{ "  42 \n", 0, 42 },
		{ "0", 0, 0 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "\n", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+5", -EINVAL, 0 },
		{ "1a", -EINVAL, 0 },
		{ "1 2", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		uint64_t v = 777;
		int r = registry_seqnum_parse(t[i].s, &v);

		ok(r == t[i].r && v == (r == 0 ? t[i].v : 777),
		   "REGISTRY.md 'seqnum: the value of /sys/kernel/uevent_seqnum' (decimal): \"%s\" -> %d",
		   esc(t[i].s), r);
	}
}

static void test_uevent_seqnum(void)
{
	static const struct {
		const char *content; /* NULL: no file */
		int r;
		uint64_t v;
	} t[] = {
		{ "4711\n", 0, 4711 },
		{ NULL, -ENOENT, 0 },
		{ "", -EINVAL, 0 },
		{ "junk\n", -EINVAL, 0 },
		{ "000000000000000000000000000000000000000000000000000000000000000000001\n",
		  -EINVAL, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		uint64_t v = 777;
		int r;

		reset("");
		if (t[i].content)
			put("sys/kernel/uevent_seqnum", t[i].content);
		r = registry_uevent_seqnum(root, &v);
		ok(r == t[i].r && v == (r == 0 ? t[i].v : 777),
		   "REGISTRY.md 'the value of /sys/kernel/uevent_seqnum': \"%s\" -> %d",
		   esc(t[i].content ? t[i].content : "(none)"), r);
	}
}

static void test_private_attributes(void)
{
	struct registry_entry e;

	reset("1\n");
	put("run/nvme/registry/nvme9/owner", "discoverd\n");
	put("run/nvme/registry/nvme9/seqnum", "77\n");
	put("run/nvme/registry/nvme9/note", "boot-path SAN\n");
	put("run/nvme/registry/nvme9/.owner.tmp.abc123", "half");
	is_int(registry_entry_get(root, "nvme9", &e), 1,
	       "REGISTRY.md 'unknown attributes are ignored by everyone else': entry with a private attribute");
	ok(streq(e.owner, "discoverd") && e.seqnum == 77, "  owner and seqnum read as written");
	is_int(registry_ownership(root, "nvme9", "discoverd"), REGISTRY_OWNED_BY_US,
	       "ownership asked as another orchestrator: its own");
}

static void test_register_layout(void)
{
	_cleanup_free_ char *owner = NULL, *seq = NULL;
	struct registry_entry e;
	uint64_t stamp = 0;
	int status = 0;
	pid_t pid;

	reset("4711\n");
	/*
	 * A tight umask must not make the registry unreadable. The registry
	 * reads a process's umask once, so the registering process is a child
	 * that runs with 077 from the start, as a program started so would.
	 */
	pid = fork();
	if (pid == 0) {
		(void)umask(077);
		if (registry_register(root, "nvme3", "stas", &stamp) != 0)
			_exit(1);
		_exit(stamp == 4711 ? 0 : 2);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		   WEXITSTATUS(status) != 1,
	   "REGISTRY.md 'written by libnvme on connect': register nvme3 (umask 077)");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "REGISTRY.md 'seqnum: /sys/kernel/uevent_seqnum captured at connect': stamp returned");
	owner = get("run/nvme/registry/nvme3/owner");
	seq = get("run/nvme/registry/nvme3/seqnum");
	is_str(owner, "stas\n",
	       "REGISTRY.md 'one plain-text file per attribute': owner file is \"stas\\n\"");
	is_str(seq, "4711\n",
	       "REGISTRY.md 'seqnum attribute next to owner': seqnum file is \"4711\\n\"");
	is_int(mode_of("run/nvme/registry/nvme3"), 0755,
	       "REGISTRY.md 'Directories are 0755': entry");
	is_int(mode_of("run/nvme/registry"), 0755,
	       "REGISTRY.md 'root directory created on demand on first write', 0755");
	is_int(mode_of("run/nvme"), 0755, "REGISTRY.md 'Directories are 0755': run/nvme");
	is_int(mode_of("run/nvme/registry/nvme3/owner"), 0644,
	       "REGISTRY.md 'attribute files 0644': owner");
	is_int(mode_of("run/nvme/registry/nvme3/seqnum"), 0644,
	       "REGISTRY.md 'attribute files 0644': seqnum");
	is_int(hidden_leftovers(), 0,
	       "REGISTRY.md 'built in a temporary directory, renamed': no temp dir left");

	is_int(registry_entry_get(root, "nvme3", &e), 1, "entry read back as owned");
	is_str(e.owner, "stas",
	       "REGISTRY.md 'owner: the orchestrator identity string' read without newline");
	is_int(e.seqnum, 4711, "seqnum read back");

	/* A trailing slash on the root changes nothing. */
	{
		_cleanup_free_ char *r2 = NULL;

		if (asprintf(&r2, "%s///", root) < 0)
			abort();
		is_int(registry_ownership(r2, "nvme3", "stas"), REGISTRY_OWNED_BY_US,
		       "root given with a trailing '/'");
	}
}

static void test_register_no_seqnum(void)
{
	struct registry_entry e;
	uint64_t stamp = 99;

	reset("");
	is_int(registry_register(root, "nvme1", "stas", &stamp), 0,
	       "REGISTRY.md 'stamp best-effort': register without /sys/kernel/uevent_seqnum");
	is_int(stamp, 0, "no stamp reported");
	ok(!exists("run/nvme/registry/nvme1/seqnum"),
	   "REGISTRY.md 'An entry with no stamp ... compares as 0': no seqnum file written");
	is_int(registry_entry_get(root, "nvme1", &e), 1, "entry owned");
	is_int(e.seqnum, 0, "missing stamp reads as 0");

	reset("not-a-number\n");
	is_int(registry_register(root, "nvme1", "stas", NULL), 0,
	       "register with a junk uevent_seqnum");
	ok(!exists("run/nvme/registry/nvme1/seqnum"),
	   "junk counter: no stamp written rather than junk");
}

static void test_absence(void)
{
	static const struct {
		const char *what;
		const char *dir; /* entry directory to create, or NULL */
		const char *owner; /* owner file content, or NULL for none */
	} t[] = {
		{ "no registry directory at all", NULL, NULL },
		{ "no entry directory", "run/nvme/registry/nvme0", NULL },
		{ "entry without an owner file", "run/nvme/registry/nvme2", NULL },
		{ "empty owner file", "run/nvme/registry/nvme2", "" },
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct registry_entry e = { .owner = "junk", .seqnum = 5 };

		reset("1\n");
		if (t[i].dir) {
			_cleanup_free_ char *p = path(t[i].dir);
			(void)mkdir_p(p, 0755);
		}
		if (t[i].owner)
			put("run/nvme/registry/nvme2/owner", t[i].owner);
		is_int(registry_entry_get(root, "nvme2", &e), 0,
		       "REGISTRY.md 'Absence means unowned': %s", t[i].what);
		ok(e.owner[0] == '\0' && e.seqnum == 0, "  unowned entry is cleared (%s)",
		   t[i].what);
		is_int(registry_ownership(root, "nvme2", "stas"), REGISTRY_UNOWNED,
		       "REGISTRY.md 'managed by nobody': ownership UNOWNED (%s)", t[i].what);
	}
}

static void test_ownership(void)
{
	static const struct {
		const char *content;
		int want;
		const char *rule;
	} t[] = {
		{ "stas\n", REGISTRY_OWNED_BY_US, "owner stas" },
		{ "stas", REGISTRY_OWNED_BY_US, "owner without trailing newline" },
		{ "stas\r\n", REGISTRY_OWNED_BY_US, "trailing CR/LF stripped as libnvme does" },
		{ "nbft\n", REGISTRY_OWNED_BY_OTHER, "owned by nbft: not ours" },
		{ "discoverd\n", REGISTRY_OWNED_BY_OTHER, "owned by discoverd: not ours" },
		{ "stas \n", REGISTRY_OWNED_BY_OTHER, "byte-exact: \"stas \" is not stas" },
		{ " stas\n", REGISTRY_OWNED_BY_OTHER, "byte-exact: \" stas\" is not stas" },
		{ "STAS\n", REGISTRY_OWNED_BY_OTHER, "byte-exact: STAS is not stas" },
		{ "\n", REGISTRY_OWNED_BY_OTHER,
		  "an owner file holding only a newline is an (empty) owner" },
		{ "st\x01s\n", REGISTRY_OWNED_BY_OTHER, "binary junk owner: not ours" },
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		reset("1\n");
		put("run/nvme/registry/nvme5/owner", t[i].content);
		is_int(registry_ownership(root, "nvme5", "stas"), t[i].want,
		       "REGISTRY.md 'disconnect-all/connect-all check the registry owner': %s",
		       t[i].rule);
	}

	reset("1\n");
	put_bytes("run/nvme/registry/nvme5/owner", "stas\0junk\n", 10);
	is_int(registry_ownership(root, "nvme5", "stas"), REGISTRY_OWNED_BY_OTHER,
	       "owner \"stas\\0junk\" is not stas (no C-string prefix match)");
	is_int(registry_ownership(root, "nvme5", "a b"), -EINVAL,
	       "invalid owner asked about: -EINVAL");
	is_int(registry_ownership(root, "nvme5/..", "stas"), -EINVAL,
	       "invalid device asked about: -EINVAL");
}

static void test_hostile_reads(void)
{
	struct registry_entry e = { .owner = "keep" };
	char big[5000];
	pid_t pid;
	int status = 0;

	/* Owner too long for an owner, and larger than any registry writer makes. */
	reset("1\n");
	memset(big, 'a', sizeof(big));
	put_bytes("run/nvme/registry/nvme1/owner", big, sizeof(big));
	is_int(registry_entry_get(root, "nvme1", &e), -EBADMSG,
	       "hostile: 5000-byte owner file is -EBADMSG");
	is_str(e.owner, "keep", "  ret untouched on failure");
	is_int(registry_ownership(root, "nvme1", "stas"), REGISTRY_OWNED_BY_OTHER,
	       "  and not ours");
	put_bytes("run/nvme/registry/nvme1/owner", big, 300);
	is_int(registry_entry_get(root, "nvme1", &e), -EBADMSG,
	       "hostile: 300-byte owner name is -EBADMSG");

	/* An owner that is a directory, a symlink, a FIFO. */
	reset("1\n");
	{
		_cleanup_free_ char *p = path("run/nvme/registry/nvme1/owner");
		(void)mkdir_p(p, 0755);
	}
	is_int(registry_entry_get(root, "nvme1", &e), -EBADMSG, "hostile: owner is a directory");
	is_int(registry_ownership(root, "nvme1", "stas"), REGISTRY_OWNED_BY_OTHER, "  not ours");

	reset("1\n");
	put("elsewhere/owner", "stas\n");
	{
		_cleanup_free_ char *t = path("elsewhere/owner"),
				    *l = path("run/nvme/registry/nvme1/owner");
		(void)mkdir_parents(l, 0755);
		if (symlink(t, l) < 0)
			abort();
	}
	is_int(registry_entry_get(root, "nvme1", &e), -EBADMSG,
	       "hostile: owner is a symlink (not followed)");
	is_int(registry_ownership(root, "nvme1", "stas"), REGISTRY_OWNED_BY_OTHER,
	       "  a symlinked owner \"stas\" is not taken as ours");

	reset("1\n");
	{
		_cleanup_free_ char *l = path("run/nvme/registry/nvme1/owner");
		(void)mkdir_parents(l, 0755);
		if (mkfifo(l, 0644) < 0)
			abort();
	}
	pid = fork();
	if (pid == 0) {
		alarm(5);
		_exit(registry_entry_get(root, "nvme1", &e) == -EBADMSG ? 0 : 1);
	}
	(void)waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "hostile: owner is a FIFO: -EBADMSG, no hang");

	/* The entry itself a symlink to a directory elsewhere, or a plain file. */
	reset("1\n");
	put("elsewhere/nvme1/owner", "stas\n");
	{
		_cleanup_free_ char *t = path("elsewhere/nvme1"),
				    *l = path("run/nvme/registry/nvme1");
		(void)mkdir_parents(l, 0755);
		if (symlink(t, l) < 0)
			abort();
	}
	is_int(registry_entry_get(root, "nvme1", &e), -EBADMSG,
	       "hostile: entry is a symlink to a directory");
	is_int(registry_ownership(root, "nvme1", "stas"), REGISTRY_OWNED_BY_OTHER, "  not ours");
	is_int(registry_unregister(root, "nvme1", "stas"), -EPERM, "  unregister refuses it");
	ok(exists("elsewhere/nvme1/owner"), "  the symlink's target is untouched");

	reset("1\n");
	put("run/nvme/registry/nvme1", "stas\n");
	is_int(registry_entry_get(root, "nvme1", &e), -EBADMSG, "hostile: entry is a plain file");

	/* Seqnum junk reads as 0, never fails the entry. */
	reset("1\n");
	put("run/nvme/registry/nvme1/owner", "stas\n");
	put_bytes("run/nvme/registry/nvme1/seqnum", "\x7f\x01\x02junk", 7);
	is_int(registry_entry_get(root, "nvme1", &e), 1,
	       "hostile: binary seqnum: entry still read");
	is_int(e.seqnum, 0, "  binary seqnum reads as 0");

	/* Registry path blocked by a file. */
	reset("1\n");
	put("run/nvme/registry", "not a directory\n");
	is_int(registry_register(root, "nvme1", "stas", NULL), -ENOTDIR,
	       "hostile: run/nvme/registry is a file: register fails with -ENOTDIR");
	is_int(registry_entry_get(root, "nvme1", &e), -ENOTDIR, "  and reading says so");
	is_int(registry_ownership(root, "nvme1", "stas"), -ENOTDIR,
	       "  ownership is an error (callers must not act)");
}

static void test_replace_stale(void)
{
	_cleanup_free_ char *owner = NULL, *seq = NULL;

	/* A stale entry of another owner with a private attribute and a junk subdir. */
	reset("900\n");
	put("run/nvme/registry/nvme4/owner", "nbft\n");
	put("run/nvme/registry/nvme4/seqnum", "100\n");
	put("run/nvme/registry/nvme4/note", "boot path\n");
	put("run/nvme/registry/nvme4/sub/deeper/x", "y\n");
	is_int(registry_register(root, "nvme4", "stas", NULL), 0,
	       "REGISTRY.md 'clears any stale entry for a recycled instance number': register over nbft's");
	owner = get("run/nvme/registry/nvme4/owner");
	seq = get("run/nvme/registry/nvme4/seqnum");
	is_str(owner, "stas\n", "  owner replaced");
	is_str(seq, "900\n", "  seqnum replaced by the new stamp");
	ok(!exists("run/nvme/registry/nvme4/note") && !exists("run/nvme/registry/nvme4/sub"),
	   "  the old entry's attributes are gone (whole entry replaced, not merged)");
	is_int(hidden_leftovers(), 0,
	       "REGISTRY.md 'renamed to a hidden sibling and then purged': nothing left");

	/* Our own older entry (an older stamp) is replaced too. */
	reset("901\n");
	put("run/nvme/registry/nvme4/owner", "stas\n");
	put("run/nvme/registry/nvme4/seqnum", "5\n");
	is_int(registry_register(root, "nvme4", "stas", NULL), 0,
	       "stale stas entry with an older stamp replaced");
	free(seq);
	seq = get("run/nvme/registry/nvme4/seqnum");
	is_str(seq, "901\n", "  new stamp");

	/* Hostile things in the entry's place: a file, a symlink to a directory. */
	reset("902\n");
	put("run/nvme/registry/nvme4", "junk\n");
	is_int(registry_register(root, "nvme4", "stas", NULL), 0,
	       "hostile: a file where the entry goes is replaced");
	is_int(registry_ownership(root, "nvme4", "stas"), REGISTRY_OWNED_BY_US, "  now ours");

	reset("903\n");
	put("elsewhere/keep/owner", "precious\n");
	{
		_cleanup_free_ char *t = path("elsewhere/keep"),
				    *l = path("run/nvme/registry/nvme4");
		(void)mkdir_parents(l, 0755);
		if (symlink(t, l) < 0)
			abort();
	}
	is_int(registry_register(root, "nvme4", "stas", NULL), 0,
	       "hostile: a symlink where the entry goes is replaced");
	free(owner);
	owner = get("elsewhere/keep/owner");
	is_str(owner, "precious\n", "  the symlink was not followed: its target is intact");
	{
		_cleanup_free_ char *p = path("run/nvme/registry/nvme4");
		struct stat st;
		ok(lstat(p, &st) == 0 && S_ISDIR(st.st_mode), "  entry is now a real directory");
	}
	is_int(registry_register(root, "nvme4", "a b", NULL), -EINVAL,
	       "invalid owner refused, entry untouched");
	is_int(registry_ownership(root, "nvme4", "stas"), REGISTRY_OWNED_BY_US, "  still ours");
	is_int(registry_register(root, "../etc", "stas", NULL), -EINVAL,
	       "hostile: device \"../etc\" refused");

	/* An empty directory in the entry's place (unowned) is replaced in one rename. */
	reset("904\n");
	{
		_cleanup_free_ char *p = path("run/nvme/registry/nvme4");
		(void)mkdir_p(p, 0755);
	}
	is_int(registry_register(root, "nvme4", "stas", NULL), 0,
	       "an empty directory where the entry goes is replaced");
	is_int(registry_ownership(root, "nvme4", "stas"), REGISTRY_OWNED_BY_US, "  now ours");
	is_int(hidden_leftovers(), 0, "  nothing left behind");

	/*
	 * The temporary names this process would use next are taken (a crashed
	 * process with the same ID left them): mkdir() refuses a taken name, the
	 * leftovers are not touched and not used.
	 */
	reset("905\n");
	for (unsigned i = 0; i < 4096; i++) {
		_cleanup_free_ char *p = NULL, *rel = NULL;

		if (asprintf(&rel, "run/nvme/registry/.nvme4.tmp.%d.%u/owner", (int)getpid(), i) <
		    0)
			abort();
		put(rel, "crashed\n");
	}
	is_int(registry_register(root, "nvme4", "stas", NULL), 0,
	       "temporary names taken by leftovers: registered all the same");
	free(owner);
	owner = get("run/nvme/registry/nvme4/owner");
	is_str(owner, "stas\n", "  the entry is ours, not a leftover renamed into place");
	is_int(mode_of("run/nvme/registry/nvme4"), 0755,
	       "  built in mkdtemp()'s 0700 directory, the entry is 0755 all the same");
	is_int(mode_of("run/nvme/registry/nvme4/owner"), 0644, "  and its owner file 0644");
	is_int(hidden_leftovers(), 4096, "  the leftovers are untouched");
	reset("906\n");
}

static void test_unregister(void)
{
	static const struct {
		const char *owner; /* NULL: no entry */
		int want;
		bool gone;
		const char *rule;
	} t[] = {
		{ "stas\n", 1, true, "our own entry is removed" },
		{ "nbft\n", -EPERM, false, "another owner's entry is left alone" },
		{ "stas \n", -EPERM, false,
		  "an owner that is not byte-exactly ours is left alone" },
		{ "", 0, false, "an unowned entry is not ours to remove" },
		{ NULL, 0, false, "no entry: nothing to do" },
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		reset("1\n");
		if (t[i].owner) {
			put("run/nvme/registry/nvme6/owner", t[i].owner);
			put("run/nvme/registry/nvme6/seqnum", "50\n");
		}
		is_int(registry_unregister(root, "nvme6", "stas"), t[i].want,
		       "REGISTRY.md 'entries removed when the owner disconnects' (only if the owner matches): %s",
		       t[i].rule);
		ok(exists("run/nvme/registry/nvme6") == (t[i].owner && !t[i].gone), "  entry %s",
		   t[i].owner && !t[i].gone ? "kept" : "absent");
		is_int(hidden_leftovers(), 0, "  no hidden leftovers");
	}
	reset("1\n");
	is_int(registry_unregister(root, "nvme6", "stas"), 0, "no registry directory at all: 0");
	is_int(registry_unregister(root, "nvme", "stas"), -EINVAL, "invalid device: -EINVAL");
}

static void test_remove_event(void)
{
	static const struct {
		bool node; /* /dev/nvmeN exists */
		bool dangling; /* /dev/nvmeN is a dangling symlink */
		const char *stamp; /* seqnum file content, NULL for none */
		uint64_t event;
		int want;
		const char *rule;
	} t[] = {
		{ false, false, "100\n", 101, 1,
		  "node absent, SEQNUM newer than the stamp: removed" },
		{ true, false, "100\n", 101, 0,
		  "'[ -e /dev/%k ]': node exists (recycled, live): kept" },
		{ false, false, "100\n", 100, 0, "'SEQNUM -le stamp': equal SEQNUM: kept" },
		{ false, false, "100\n", 99, 0, "stale remove event older than the stamp: kept" },
		{ false, false, NULL, 1, 1,
		  "'no stamp compares as 0': removed on the node check alone" },
		{ false, false, "junk\n", 5, 1, "an unparsable stamp counts as 0: removed" },
		{ false, false, "", 5, 1, "an empty stamp counts as 0: removed" },
		{ true, false, NULL, 5, 0, "no stamp but the node exists: kept" },
		{ false, true, "3\n", 5, 1,
		  "a dangling /dev symlink does not exist ('[ -e ]'): removed" },
		{ false, false, "18446744073709551615\n", UINT64_MAX, 0,
		  "64-bit stamps compare exactly: kept" },
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		reset("1\n");
		put("run/nvme/registry/nvme7/owner", "nbft\n");
		if (t[i].stamp)
			put("run/nvme/registry/nvme7/seqnum", t[i].stamp);
		if (t[i].node)
			put("dev/nvme7", "");
		if (t[i].dangling) {
			_cleanup_free_ char *l = path("dev/nvme7");
			(void)mkdir_parents(l, 0755);
			if (symlink("/nonexistent/nvme7", l) < 0)
				abort();
		}
		is_int(registry_remove_event(root, "nvme7", t[i].event), t[i].want,
		       "REGISTRY.md 'Automatic cleanup' guard: %s", t[i].rule);
		ok(exists("run/nvme/registry/nvme7") == (t[i].want == 0), "  entry %s",
		   t[i].want == 0 ? "kept" : "removed");
		is_int(hidden_leftovers(), 0,
		       "  REGISTRY.md 'removals atomic': no hidden leftovers");
	}

	reset("1\n");
	is_int(registry_remove_event(root, "nvme7", 5), 0, "remove event without an entry: 0");
	is_int(registry_remove_event(root, "nvme7x", 5), -EINVAL,
	       "remove event for an invalid device: -EINVAL");

	/* A hostile entry: a symlink is removed itself, its target untouched. */
	reset("1\n");
	put("elsewhere/nvme7/seqnum", "1000\n");
	{
		_cleanup_free_ char *tgt = path("elsewhere/nvme7"),
				    *l = path("run/nvme/registry/nvme7");
		(void)mkdir_parents(l, 0755);
		if (symlink(tgt, l) < 0)
			abort();
	}
	is_int(registry_remove_event(root, "nvme7", 5), 1,
	       "hostile: symlinked entry removed (stamp not followed)");
	ok(exists("elsewhere/nvme7/seqnum"), "  its target untouched");
}

/* The recycling race of REGISTRY.md: remove of the old nvme4 handled after the new nvme4 registered. */
static void test_recycle_race(void)
{
	uint64_t stamp = 0;

	reset("200\n");
	is_int(registry_register(root, "nvme4", "nbft", NULL), 0,
	       "old nvme4 registered by nbft at seqnum 200");
	/* kernel removes it (remove event 250), recycles the instance; stas connects at 260 */
	put("sys/kernel/uevent_seqnum", "260\n");
	put("dev/nvme4", "");
	is_int(registry_register(root, "nvme4", "stas", &stamp), 0, "new nvme4 registered by stas");
	is_int(stamp, 260, "  stamped 260");
	is_int(registry_remove_event(root, "nvme4", 250), 0,
	       "REGISTRY.md 'dangerous interleaving' step 3: late remove (250) of the old nvme4 keeps the new entry");
	rm_rf("dev/nvme4");
	is_int(registry_remove_event(root, "nvme4", 250), 0,
	       "REGISTRY.md 'seqnum closes the residual window': node gone but 250 <= 260: kept");
	is_int(registry_ownership(root, "nvme4", "stas"), REGISTRY_OWNED_BY_US,
	       "  the live entry is still stas's");
	is_int(registry_remove_event(root, "nvme4", 300), 1,
	       "REGISTRY.md 'genuine removal carries a higher SEQNUM': removed");
}

/* Readers by path (as the udev rule's cat) never see a half-written attribute. */
static void test_atomic_readers(void)
{
	_cleanup_free_ char *owner_path = path("run/nvme/registry/nvme8/owner");
	_cleanup_free_ char *seq_path = path("run/nvme/registry/nvme8/seqnum");
	int bad = 0, seen = 0, status = 0;
	pid_t pid;

	reset("12345\n");
	log_set_max_level(LOG_INFO); /* 400 "replacing a stale entry" lines say nothing */
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 400; i++) {
			if (registry_register(root, "nvme8", i % 2 ? "stas" : "nbft", NULL) < 0)
				_exit(1);
			if (i % 7 == 0 &&
			    registry_unregister(root, "nvme8", i % 2 ? "stas" : "nbft") < 0)
				_exit(1);
		}
		_exit(0);
	}
	for (;;) {
		_cleanup_free_ char *o = NULL, *s = NULL;
		int r;

		r = read_full_file(owner_path, 4096, &o, NULL);
		if (r == 0) {
			seen++;
			if (!streq(o, "stas\n") && !streq(o, "nbft\n"))
				bad++;
		} else if (r != -ENOENT)
			bad++;
		r = read_full_file(seq_path, 4096, &s, NULL);
		if (r == 0 && !streq(s, "12345\n"))
			bad++;
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "writer: 400 registers/unregisters succeeded");
	is_int(bad, 0, "REGISTRY.md 'readers never see a half-written value' (%d complete reads)",
	       seen);
	is_int(hidden_leftovers(), 0, "no temporary or aside directories left behind");
	log_set_max_level(LOG_DEBUG);
}

int main(void)
{
	/* Every debug message is formatted (under ASan/UBSan) and kept in the test log. */
	log_set_max_level(LOG_DEBUG);
	if (!mkdtemp(root))
		abort();

	test_names();
	test_seqnum_parse();
	test_uevent_seqnum();
	test_private_attributes();
	test_register_layout();
	test_register_no_seqnum();
	test_absence();
	test_ownership();
	test_hostile_reads();
	test_replace_stale();
	test_unregister();
	test_remove_event();
	test_recycle_race();
	test_atomic_readers();

	{
		_cleanup_free_ char *p = strdup(root);
		(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}

	/*
	 * The writes again on tmpfs, where registry_register() skips the syncs
	 * and makes the files by path (/run's case; /tmp may be a disk).
	 */
	{
		struct statfs sf;

		if (statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC) {
			strcpy(root, "/dev/shm/test-registry.XXXXXX");
			if (!mkdtemp(root))
				abort();
			diag("again on tmpfs, %s", root);
			test_register_layout();
			test_register_no_seqnum();
			test_replace_stale();
			test_unregister();
			test_recycle_race();
			_cleanup_free_ char *p = strdup(root);
			(void)nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		} else
			diag("no tmpfs at /dev/shm: the no-sync write path untested here");
	}
	return tap_done();
}
