/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.h - nvme-cli 3's controller ownership registry, spoken without
 * libnvme 3 (libnvme/design/REGISTRY.md in linux-nvme/nvme-cli).
 *
 * Every orchestrator on a host (initramfs/NBFT, an admin's nvme connect-all,
 * nvme-discoverd, nvme-stas, stas) records which live NVMe-oF controller it
 * owns in /run/nvme/registry/nvmeN/, one plain-text file per attribute:
 *
 *	owner	the orchestrator's name followed by "\n" ("stas\n")
 *	seqnum	/sys/kernel/uevent_seqnum read right after the connect, in
 *		decimal, followed by "\n"
 *
 * Absence (no directory, no owner file, an empty owner file) means unowned.
 * Directories are 0755 and files 0644 (world-readable, root-writable). An
 * entry appears and disappears atomically: it is built in a hidden temporary
 * directory beside the others and renamed into place; a removed entry is
 * first renamed to a hidden name, then purged. Other tools skip names that
 * start with '.'.
 *
 * The registry is cooperative, not enforcement: it lets stas avoid tearing
 * down (or discovering through) a controller another orchestrator depends on,
 * and lets them avoid stas's. Which controllers stas may act on also depends
 * on stas's own record (the cache); this module gives the registry's answer.
 *
 * Every function takes @root, the directory that stands for "/" (NULL or "/"
 * for the real one): the registry is @root/run/nvme/registry, the uevent
 * counter @root/sys/kernel/uevent_seqnum and device nodes @root/dev/nvmeN, so
 * tests run against a fake tree, as kmod's testsuite does.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define REGISTRY_DIR "/run/nvme/registry"
#define REGISTRY_UEVENT_SEQNUM "/sys/kernel/uevent_seqnum"
#define REGISTRY_OWNER_STAS "stas"
/* The paths the boot firmware named (NBFT): never disconnected by stas. */
#define REGISTRY_OWNER_NBFT "nbft"
/* Longest owner name stas writes or reports; longer stored names are malformed. */
#define REGISTRY_OWNER_MAX 255

/* The environment variable that moves "/" for stas's callers (tests). */
#define REGISTRY_ROOT_ENV "STAS_NVME_ROOT"

/**
 * registry_root() - the @root stas's programs pass to this module and to
 * exclusions.h: $STAS_NVME_ROOT when set and not empty (a test's fake
 * tree holding run/nvme/registry, sys/kernel/uevent_seqnum, dev/nvmeN and
 * etc/nvme/exclusions.conf*), else NULL (the real "/").
 */
const char *registry_root(void);

/* One registry entry as read back. */
struct registry_entry {
	char owner[REGISTRY_OWNER_MAX + 1]; /* "" when unowned */
	uint64_t seqnum; /* the connect-time stamp; 0 when absent or unparsable */
};

enum registry_ownership {
	REGISTRY_UNOWNED, /* no entry, no owner file, or an empty one */
	REGISTRY_OWNED_BY_US, /* the owner is exactly the name asked about */
	REGISTRY_OWNED_BY_OTHER, /* any other owner, including a malformed one */
	_REGISTRY_OWNERSHIP_MAX,
};

/**
 * registry_device_is_valid() - whether @device is a controller name the
 * registry can hold: "nvme" followed by 1..10 decimal digits. Anything else
 * ("nvme", "nvme1n1", "../x", "") would not name an entry, or would name a
 * path outside the registry.
 */
bool registry_device_is_valid(const char *device);

/**
 * registry_owner_is_valid() - whether stas may write @owner: 1..
 * REGISTRY_OWNER_MAX bytes of printable ASCII without whitespace or '/'.
 */
bool registry_owner_is_valid(const char *owner);

/**
 * registry_seqnum_parse() - parse a uevent sequence number: decimal digits
 * only (surrounding whitespace, including the kernel's trailing newline, is
 * allowed), no sign, no overflow of 64 bits.
 *
 * Return: 0 and *ret set, or -EINVAL (ret untouched).
 */
int registry_seqnum_parse(const char *s, uint64_t *ret);

/**
 * registry_uevent_seqnum() - read @root/sys/kernel/uevent_seqnum. The real
 * one's fd (@root NULL or "/") is opened once and kept for the process
 * (O_CLOEXEC), each call one pread() at offset 0; a test's fake one is
 * opened afresh every time.
 *
 * Return: 0 and *ret set, -ENOENT when the file does not exist, -EINVAL when
 * its content is not a sequence number, other negative errno from open/read
 * (ret untouched on failure).
 */
int registry_uevent_seqnum(const char *root, uint64_t *ret);

/**
 * registry_entry_get() - read @device's registry entry.
 *
 * The owner file's trailing "\n"/"\r" are dropped, nothing else: "stas " is
 * not "stas". A missing, empty, unreadable or unparsable seqnum file reads
 * as 0 (as the udev rule reads it). An entry that is not a directory, or an
 * owner that is not a regular file (a symlink, a directory, a FIFO), is
 * malformed: the registry holds plain files only, and none is followed.
 *
 * Return: 1 and *ret filled when @device has an owner; 0 and *ret cleared
 * when it is unowned (no entry, no owner file, an empty owner file);
 * -EINVAL for an invalid @device; -EBADMSG when the owner is malformed (longer
 * than REGISTRY_OWNER_MAX, control characters or NUL, larger than 4 KiB) or
 * the entry is not made of plain files (symlink, wrong file type); other
 * negative errno from open/read. *ret is untouched on failure.
 */
int registry_entry_get(const char *root, const char *device, struct registry_entry *ret);

/**
 * registry_ownership() - who owns @device, as seen by orchestrator @owner.
 * This is the primitive behind "may stas act on this controller": a
 * controller owned by another orchestrator is neither disconnected (whatever
 * the disconnect scope) nor read through (its Discovery Log Page, its AENs).
 * Whether an unowned controller is stas's to act on is the caller's policy
 * (stas's cache records what it connected).
 *
 * The comparison is byte-exact on the stored owner with its trailing newline
 * dropped, as nvme-cli compares it; a malformed owner (see
 * registry_entry_get()) is REGISTRY_OWNED_BY_OTHER - it is not ours.
 *
 * Return: an enum registry_ownership value, or a negative errno when the
 * entry cannot be read (callers must then not act: nvme-cli never
 * disconnects on a read error either), -EINVAL for an invalid @device or
 * @owner.
 */
int registry_ownership(const char *root, const char *device, const char *owner);

/**
 * registry_register() - record @owner as the owner of @device, stamped with
 * the current uevent sequence number. Call it right after the kernel created
 * the controller (the connect write returned instance N), so the stamp is
 * newer than the controller's add event and older than its remove event.
 *
 * The entry is built in a hidden directory of its own in the registry
 * directory (".nvmeN.tmp.<pid>.<counter>", made by mkdir(), which never
 * reuses a name; mkdtemp() when that name is taken; 0755, owner and seqnum
 * files 0644, each ending in "\n") and renamed into place. Any entry
 * already there is stale by definition - the kernel just handed out this
 * instance number, so the controller it described is gone - whatever its
 * owner or stamp: it is renamed aside and purged first (a non-directory in
 * its place is unlinked; an empty directory, which has no owner, is simply
 * replaced by the rename; symlinks are never followed). The registry
 * directory and its parents are created (0755) when missing. An unreadable
 * uevent counter leaves the entry without a seqnum file, as libnvme does:
 * the removal guard then relies on the device node alone.
 *
 * Cost (the boot path registers every controller it connects): 10 syscalls
 * on tmpfs when nothing is in the way and the umask takes nothing off 0755
 * (mkdir, lstat, one pread of the kept uevent_seqnum fd, open/write/close
 * of each file, rename). The files and directories are fsync()ed only when
 * the registry is not on tmpfs or ramfs (one statfs() per process and root
 * decides; then the directory is opened and its fd used): on tmpfs a sync
 * is a no-op, and what readers rely on - an entry appears whole or not at
 * all - is the rename's atomicity, which needs no sync. The modes are set
 * explicitly (fchmod) only when the new directory's mode shows that the
 * umask took bits off.
 *
 * Return: 0 on success with *ret_seqnum (optional) set to the stamp written
 * (0 when none); -EINVAL for an invalid @device or @owner; -ENOTDIR when a
 * path component of the registry is not a directory; other negative errno
 * (no partial entry is left visible; a stale entry may be gone).
 */
int registry_register(const char *root, const char *device, const char *owner,
		      uint64_t *ret_seqnum);

/**
 * registry_unregister() - remove @device's entry when, and only when, it is
 * owned by @owner. Call it while the controller still exists - just before
 * the disconnect write - because the kernel cannot recycle the instance
 * number of a live controller, so the entry is this controller's; if the
 * disconnect then fails, call registry_register() again.
 *
 * The owner is checked, the entry renamed to a hidden name (it vanishes in
 * one step), checked again (it may have been replaced in between) and then
 * purged; if the second check fails the entry is put back unless a new one
 * took its place.
 *
 * Return: 1 when the entry was removed; 0 when there was none (or it was
 * unowned: nothing of ours to remove); -EPERM when another orchestrator (or
 * a malformed owner) owns it - it is left untouched; -EINVAL for an invalid
 * @device or @owner; other negative errno.
 */
int registry_unregister(const char *root, const char *device, const char *owner);

/**
 * registry_remove_event() - the kernel's remove event for @device, with
 * sequence number @event_seqnum, as libnvme's 70-nvmf-registry.rules handles
 * it: the entry is removed only when @root/dev/@device does not exist (a
 * recycled, live instance has its node again) and @event_seqnum is greater
 * than the entry's stamp (a stale remove event was emitted before the new
 * controller's add, so its number is lower). A missing or unparsable stamp
 * counts as 0, leaving the device-node check alone. Unlike the rule's
 * "rm -rf", the removal is atomic (rename aside, then purge).
 *
 * A failure to look at the device node other than "it does not exist" keeps
 * the entry (the rule's "[ -e ]" would have removed it; keeping an entry is
 * the safe side).
 *
 * Return: 1 when the entry was removed; 0 when it was kept or there was
 * none; -EINVAL for an invalid @device; other negative errno.
 */
int registry_remove_event(const char *root, const char *device, uint64_t event_seqnum);
