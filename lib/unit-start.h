/* SPDX-License-Identifier: Apache-2.0 */
/*
 * unit-start.h - ask systemd to start (or restart) a unit over D-Bus.
 *
 * stas programs hand work to each other as unit starts: stas-discover
 * starts stas-connect@<nqn>.service for each subsystem whose entries
 * changed, and stas-discover@<dc>.service for new referrals. The call goes
 * straight to org.freedesktop.systemd1.Manager on the system bus - never
 * through a shell or systemctl - and does not wait for the job: the units
 * run concurrently and each is idempotent.
 */
#pragma once

#include <stdbool.h>

enum unit_start_mode {
	UNIT_START, /* StartUnit: merged with a run already queued or running */
	UNIT_RESTART, /* RestartUnit: a run that is underway is replaced by a new one */
	_UNIT_START_MODE_MAX,
};

/**
 * unit_start() - queue a start job for @unit (a full, valid unit name).
 * The system bus connection is opened on first use and kept.
 * Return: 0; -ENOMEDIUM when there is no system bus or no systemd on it
 * (callers fall back to doing the work in-process); other negative errno.
 */
int unit_start(const char *unit, enum unit_start_mode mode);

/**
 * unit_start_available() - whether a system bus with systemd is reachable.
 */
bool unit_start_available(void);

/**
 * unit_start_close() - drop the bus connection (before exit; optional).
 */
void unit_start_close(void);
