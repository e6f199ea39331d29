#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Issue 13, defect 2 and issue 12 item 9, system mode with stas installed:
# stas-discover reconciles a changed page's subsystems itself (one unit start
# per event), hands a subsystem whose path failed to its stas-connect@ unit,
# and what a changed page calls for survives a failed run. The DC is
# tests/hostile-dc (scenario normal): its entries point at nvmet's port 4420,
# where the 222-byte NQN (with '-': too long to be a unit instance, so its
# unit is named by its key) is not linked at first, so its connect fails.
#  - run 1, that key's stas-connect@ unit masked: a and b are connected by
#    stas-discover itself (no stas-connect@ unit starts); the long NQN's path
#    fails and its hand-over cannot start, so stas-discover exits 1 and the
#    page's triggers stay pending;
#  - run 2, unmasked: the page is unchanged but its triggers pending, so the
#    whole page is reconciled again; the long NQN is handed to its unit
#    (exit 0), which retries with backoff and connects it once it is linked;
#  - a third run finds nothing pending.
# Run: make install DESTDIR=D && tests/vm/run --system --install-dir D tests/vm/discover-retrigger.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode (tests/vm/run --system)"
SD=/usr/libexec/stas/stas-discover
[ -x "$SD" ] || skip_all "stas is not installed in the guest (--install-dir)"
STASADM=/usr/sbin/stasadm
C=/var/cache/stas

HDC=${top_builddir:?top_builddir is not set}/tests/hostile-dc/hostile-dc
[ -x "$HDC" ] || skip_all "tests/hostile-dc/hostile-dc is not built (make check builds it)"
R=$STAS_VM_RUNDIR/retrigger
mkdir -p "$R"

V=nqn.2026-11.io.stas.rt
A="$V:a" B="$V:b"
L="$V:-----$(printf 'x%.0s' $(seq 1 $((222 - ${#V} - 6))))"
nvmet_port_add 1 127.0.0.1 4420
for v in "$A" "$B" "$L"; do
	nvmet_subsys_add "$v"
done
nvmet_link 1 "$A"
nvmet_link 1 "$B"
check "the long NQN is 222 bytes" test "${#L}" = 222
mkdir -p /etc/stas
: >/etc/stas/stas.conf
vm_units_no_lsan
systemctl daemon-reload

port=8309
"$HDC" --scenario normal --port $port --ready "$R/hdc.ready" -n "$A" -n "$B" -n "$L" 2>"$R/hdc.log" &
HDC_PID=$!
vm_on_exit kill "$HDC_PID"
wait_until 10 test -s "$R/hdc.ready" || bail "hostile-dc did not start: $(cat "$R/hdc.log")"

sd() { "$SD" --cache-dir "$C" -t tcp -a 127.0.0.1 -s $port 2>&1; }
# Units systemd started since the mark (a finished oneshot is unloaded: ask the journal).
mark() { journalctl -b -o cat _PID=1 | wc -l; }
started_since() { journalctl -b -o cat _PID=1 | tail -n +"$(($1 + 1))" | grep -c "Start.*stas: connect" || true; }

key="key-$(printf %s "$L" | sha256sum | cut -c1-32)"
unit_l="stas-connect@$key.service"
systemctl mask --runtime "$unit_l"

m=$(mark)
rc=0
sdout=$(sd) || rc=$?
diag "$sdout"
check "first run: exit 1 (a hand-over could not start)" test "$rc" = 1
check "first run: a and b connected by stas-discover itself" eval 'has_live "$A" && has_live "$B"'
check "first run: the connects are in its own output" eval 'grep -qF "stas-discover: connect (tcp, 127.0.0.1, 4420, $A" <<<"$sdout" && grep -qF "stas-discover: connect (tcp, 127.0.0.1, 4420, $B" <<<"$sdout"'
check "first run: the long NQN's connect failed" eval 'grep -F "stas-discover: connect (tcp, 127.0.0.1, 4420, $L" <<<"$sdout" | grep -q failed'
check "first run: its hand-over failure is logged" grep -qF "Failed to start $unit_l" <<<"$sdout"
n=$(started_since "$m")
check "first run: no stas-connect@ unit started ($n)" test "$n" = 0
check "first run: the long NQN not connected" test "$(live_io "$L")" = 0

systemctl unmask --runtime "$unit_l"
rc=0
sdout=$(sd) || rc=$?
diag "$sdout"
check "retry: exit 0 (the failed subsystem is its unit's now)" test "$rc" = 0
check "retry: the page is unchanged" grep -q "unchanged" <<<"$sdout"
check "retry: the pending page is reconciled again" grep -q "starting them again" <<<"$sdout"
check "retry: the long NQN is handed to $unit_l" grep -qF "handed to $unit_l" <<<"$sdout"
check "retry: $unit_l retries with backoff" \
	wait_until 30 sh -c "journalctl -b -o cat -u '$unit_l' | grep -q 'retrying in'"
nvmet_link 1 "$L"
check "retry: $unit_l connects the long NQN once it is linked" wait_until 90 has_live "$L"
check "retry: $unit_l then exits, not failed" \
	wait_until 60 sh -c "! systemctl is-active -q '$unit_l' && ! systemctl is-failed -q '$unit_l'"
check "retry: a and b still connected once each" eval '[ "$(live_io "$A")" = 1 ] && [ "$(live_io "$B")" = 1 ]'

rc=0
sdout=$(sd) || rc=$?
check "third run: exit 0" test "$rc" = 0
not_pending() { ! grep -q 'starting them again' <<<"$sdout"; }
check "third run: nothing pending" not_pending
check "cache verifies clean" "$STASADM" --cache-dir "$C" verify
