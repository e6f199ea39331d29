#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# stas installed (units, udev rule), system mode, against the hostile
# discovery controller (tests/hostile-dc):
#  - long NQN: a subsystem NQN of 222 bytes, half of them '-', escapes to a
#    unit instance far beyond systemd's 255-byte unit names; stas-discover@
#    started as udev would: every subsystem on the page gets connected by
#    that one unit (in-process, one batch; no stas-connect@ unit starts),
#    those whose NQN sorts before the long one, the long one, and the one
#    after it;
#  - AEN storm through udev: a storm of discovery-log-change AENs on the
#    persistent DC connection (each one a udev event restarting
#    stas-discover@<ctrl>); afterwards a real change (a new entry) still gets
#    connected, no stas unit is left failed, the cache verifies clean.
# Run: make install DESTDIR=D && tests/vm/run --system --install-dir D tests/vm/hostile-system.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode (tests/vm/run --system)"
[ -x /usr/libexec/stas/stas-discover ] || skip_all "stas is not installed in the guest (--install-dir)"
HDC=${top_builddir:?top_builddir is not set}/tests/hostile-dc/hostile-dc
[ -x "$HDC" ] || skip_all "tests/hostile-dc/hostile-dc is not built (make check builds it)"
STASADM=/usr/sbin/stasadm
R=$STAS_VM_RUNDIR/hostile
mkdir -p "$R"

# An AddressSanitizer build under the shipped units: LSan needs ptrace, which
# the units' SystemCallFilter denies (see e2e-system.sh).
vm_units_no_lsan

P=nqn.2024-01.io.stas:hostile
L1=$P-legit-1 L2=$P-legit-2 L3=$P-late-3 LZ=$P-zz-after-long
LN="$P-long-"
while [ "${#LN}" -lt 222 ]; do LN+="-a"; done
LN=${LN:0:222}
diag "long NQN: ${#LN} bytes; systemd-escape makes it $(systemd-escape "$LN" | wc -c) bytes"
nvmet_port_add 1 127.0.0.1 4420
for n in "$LN" "$L1" "$L2" "$L3" "$LZ"; do
	nvmet_subsys_add "$n" 1 0
	nvmet_link 1 "$n"
done

has_live() {
	local c
	c=$(find_ctrl "$1" 127.0.0.1 4420) && [ "$(ctrl_attr "$c" state)" = live ]
}
no_failed_stas_units() {
	[ -z "$(systemctl list-units --failed --plain --no-legend 'stas*' 2>/dev/null)" ]
}
journal_of() { journalctl -b -o cat -u "$1" 2>/dev/null | tail -n "${2:-8}" | cat -v | sed 's/^/#   journal: /'; }

port=8300
storm=${STAS_HOSTILE_AENS:-50}
"$HDC" --scenario normal --port $port --ready "$R/hdc.ready" --aen-count "$storm" \
	-n "$LN" -n "$L1" -n "$L2" -n "$LZ" -L "$L3" 2>"$R/hdc.log" &
HDC_PID=$!
vm_on_exit kill "$HDC_PID"
wait_until 10 test -s "$R/hdc.ready" || bail "hostile-dc did not start: $(cat "$R/hdc.log")"

# --- long NQN: every subsystem on the page connected by the one stas-discover@ run ----
unit=stas-discover@tcp-127.0.0.1-$port.service
m=$(journalctl -b -o cat _PID=1 | wc -l)
t0=${EPOCHREALTIME/[.,]/}
systemctl start "$unit" || true
check "$unit ran" wait_until 60 sh -c "systemctl show -p ExecMainStatus --value $unit | grep -qx 0"
journal_of "$unit" 10
check "long NQN: the subsystems whose NQN sorts before it connected" \
	eval 'wait_until 60 has_live "$L1" && wait_until 20 has_live "$L2"'
diag "long NQN: $(((${EPOCHREALTIME/[.,]/} - t0) / 1000)) ms"
check "long NQN: the subsystem whose NQN sorts after it connected" wait_until 30 has_live "$LZ"
check "long NQN: the 222-byte NQN connected too" wait_until 10 has_live "$LN"
# Connected by $unit itself, the long NQN among them; no stas-connect@ unit
# (a finished oneshot is unloaded: ask the journal which units ran).
check "long NQN: $unit's own run connected it" \
	sh -c "journalctl -b -o cat -u '$unit' | grep -F 'connect ' | grep -qF -- '$LN'"
n=$(journalctl -b -o cat _PID=1 | tail -n +"$((m + 1))" | grep -c 'stas: connect' || true)
check "long NQN: no stas-connect@ unit started ($n)" test "$n" = 0
check "long NQN: the cache verifies clean" "$STASADM" verify

# --- AEN storm through udev -------------------------------------------------------------
dc=$(find_ctrl nqn.2014-08.org.nvmexpress.discovery 127.0.0.1 $port) || bail "no persistent DC connection"
diag "persistent DC: $dc"
udevadm settle --timeout=30 || true
t0=${EPOCHREALTIME/[.,]/}
kill -USR1 "$HDC_PID"
check "storm: the DC delivered $storm AENs" wait_until 120 grep -q "AEN storm done" "$R/hdc.log"
# Let udev and systemd work through the storm.
udevadm settle --timeout=300 || true
wait_until 180 sh -c "! systemctl is-active -q stas-discover@$dc.service" || true
ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
diag "storm: $storm AENs and their udev events handled in $ms ms; $(journalctl -b -o cat | grep -c "Starting stas-discover@$dc") starts of stas-discover@$dc"
check "storm: the DC controller is still live" wait_for_ctrl_state "$dc" live 10
t0=${EPOCHREALTIME/[.,]/}
kill -USR2 "$HDC_PID"
if wait_until 120 has_live "$L3"; then
	ok "storm: a real change after it still connects the new subsystem ($(((${EPOCHREALTIME/[.,]/} - t0) / 1000)) ms)"
else
	fail "storm: a real change after it still connects the new subsystem"
	journal_of "stas-discover@$dc.service" 20
fi
check "storm: the page's latest generation is stored ($((storm + 2)))" \
	sh -c "$STASADM show --json $dc | jq -e '.genctr == $((storm + 2))'"
check "storm: no stas unit failed" no_failed_stas_units
check "storm: the cache verifies clean" "$STASADM" verify
check "storm: the ordinary subsystems still connected" has_live "$L1"

