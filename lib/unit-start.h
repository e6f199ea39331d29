/* SPDX-License-Identifier: Apache-2.0 */
/*
 * unit-start.h - ask systemd to start (or restart) a unit over D-Bus.
 *
 * stas programs hand work to each other as unit starts: stas-discover
 * starts stas-connect@<nqn>.service for a subsystem whose paths did not all
 * come up, and stas-discover@<dc>.service for new referrals; stas-trigger
 * is the udev rule's start. The call goes straight to
 * org.freedesktop.systemd1.Manager - on systemd's private socket as root,
 * else on the system bus; never through a shell or systemctl - and does not
 * wait for the job: the units run concurrently and each is idempotent.
 *
 * The bus connection is a unit_starter owned by the caller's context; a
 * resident program keeps one and calls unit_starter_start() as often as it
 * likes.
 */
#pragma once

#include "macro.h"

/* systemd's own D-Bus socket (root only), tried before the system bus. */
#define SYSTEMD_PRIVATE_SOCKET "/run/systemd/private"

enum unit_start_mode {
	UNIT_START, /* StartUnit: merged with a run already queued or running */
	UNIT_RESTART, /* RestartUnit: a run that is underway is replaced by a new one */
	UNIT_STOP, /* StopUnit: a unit that is not loaded counts as stopped */
	_UNIT_START_MODE_MAX,
};

struct unit_starter;

/**
 * unit_starter_new() - a starter with no bus connection yet; the connection
 * is opened on the first unit_starter_start().
 * Return: 0 and the starter in *ret_u, or -ENOMEM.
 */
int unit_starter_new(struct unit_starter **ret_u);

/**
 * unit_starter_free() - close the bus connection (flushing it) and free @u.
 * Accepts NULL. Return: NULL.
 */
struct unit_starter *unit_starter_free(struct unit_starter *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct unit_starter *, unit_starter_free)
#define _cleanup_unit_starter_ _cleanup_(unit_starter_freep)

/**
 * unit_starter_start() - queue a start (restart, stop) job for @unit (a
 * full, valid unit name). The connection is opened when @u has none yet; a failed
 * open is tried again on the next call.
 * Return: 0; -ENOMEDIUM when neither systemd's socket nor the system bus (with
 * systemd on it) can be reached, or
 * $STAS_NO_SYSTEMD is set (callers fall back to doing the work in-process);
 * other negative errno.
 */
int unit_starter_start(struct unit_starter *u, const char *unit, enum unit_start_mode mode);

/**
 * unit_starter_error() - the bus error message of the last failed
 * unit_starter_start() call on @u, or NULL (none, or no message).
 */
const char *unit_starter_error(const struct unit_starter *u);
