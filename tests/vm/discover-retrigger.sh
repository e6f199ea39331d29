#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Issue 13, defect 2, system mode with stas installed: the units a changed
# log page calls for survive a failed run.
#  - one subsystem's stas-connect@ unit cannot start (masked): stas-discover
#    still starts every other unit, among them the one of a 222-byte NQN
#    with '-' (too long to be an instance: named by its key; the kernel takes
#    NQNs below 223 bytes), and exits 1 so that systemd retries;
#  - the unit is unmasked; the retry finds the page unchanged but its
#    triggers pending, starts the whole page's units again, and the
#    subsystem gets connected;
#  - a third run finds nothing pending.
# Run: make install DESTDIR=D && tests/vm/run --system --install-dir D tests/vm/discover-retrigger.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode (tests/vm/run --system)"
SD=/usr/libexec/stas/stas-discover
[ -x "$SD" ] || skip_all "stas is not installed in the guest (--install-dir)"
STASADM=/usr/sbin/stasadm
C=/var/cache/stas

V=nqn.2026-11.io.stas.rt
A="$V:a" B="$V:b"
L="$V:-----$(printf 'x%.0s' $(seq 1 $((222 - ${#V} - 6))))"
nvmet_port_add 1 127.0.0.1 8009
for v in "$A" "$B" "$L"; do
	nvmet_subsys_add "$v"
	nvmet_link 1 "$v"
done
check "the long NQN is 222 bytes" test "${#L}" = 222
mkdir -p /etc/stas
: >/etc/stas/stas.conf
vm_units_no_lsan
systemctl daemon-reload

sd() { "$SD" --cache-dir "$C" -t tcp -a 127.0.0.1 -s 8009 2>&1; }

unit_a="stas-connect@$(systemd-escape "$A").service"
key="key-$(printf %s "$L" | sha256sum | cut -c1-32)"
systemctl mask --runtime "$unit_a"

rc=0
out=$(sd) || rc=$?
diag "$out"
check "first run: exit 1 (a unit could not start)" test "$rc" = 1
check "first run: the failure is logged" grep -qF "Failed to start $unit_a" <<<"$out"
check "first run: b connected" wait_until 90 has_live "$B"
check "first run: the 222-byte NQN connected through stas-connect@$key" wait_until 90 has_live "$L"
# ("-- No entries --" would match any pattern: look for systemd's start message)
check "stas-connect@$key ran" sh -c "journalctl -b --no-pager -o cat -u 'stas-connect@$key.service' | grep -qF 'connect key/'"
check "first run: a not connected (its unit was masked)" test "$(live_io "$A")" = 0

systemctl unmask --runtime "$unit_a"
rc=0
out=$(sd) || rc=$?
diag "$out"
check "retry: exit 0" test "$rc" = 0
check "retry: the page is unchanged" grep -q "unchanged" <<<"$out"
check "retry: the pending units are started again" grep -q "starting them again" <<<"$out"
check "retry: a connected" wait_until 90 has_live "$A"

rc=0
out=$(sd) || rc=$?
check "third run: exit 0" test "$rc" = 0
not_pending() { ! grep -q 'starting them again' <<<"$out"; }
check "third run: nothing pending" not_pending
check "cache verifies clean" "$STASADM" --cache-dir "$C" verify
