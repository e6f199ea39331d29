#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# stas-connect with 100 subsystems behind one discovery controller (fast
# mode): `stas-connect --all` leaves exactly the 100 live I/O controllers
# `nvme connect-all` leaves on the same fresh target, and a rerun issues no
# connect, no disconnect and no cache write.
# Run: tests/vm/run tests/vm/connect-scale.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/connect-lib.sh"

N=${STAS_SCALE_N:-100}
P=nqn.2024-01.io.stas:scale
nvmet_port_add 1 127.0.0.1 8009
for i in $(seq 1 "$N"); do
	nvmet_subsys_add "$P-$i" 1 0
	nvmet_link 1 "$P-$i"
done
vm_on_exit nvmet_cleanup

nvme connect-all -t tcp -a 127.0.0.1 -s 8009 >/dev/null 2>&1 || fail "nvme connect-all exited $?"
wait_for_ctrls_count "$N" 120 io || true
want=$(io_set)
check "nvme connect-all connected $N subsystems" test "$(wc -l <<<"$want")" = "$N"
nvme disconnect-all >/dev/null 2>&1 || true
wait_for_ctrls_count 0 120 all || bail "controllers left after disconnect-all"

sd -t tcp -a 127.0.0.1 -s 8009 >/dev/null 2>/tmp/sd.err || {
	sed 's/^/#   /' /tmp/sd.err
	bail "stas-discover failed"
}
out=$(sc --all --json 2>/tmp/sc.err) && rc=0 || rc=$?
check "stas-connect --all exits 0" test "$rc" = 0 || sed 's/^/#   /' /tmp/sc.err
check "$N connects, none failed" \
	test "$(jq -c '[.counts.connect, .failed, (.subsystems | length)]' <<<"$out")" = "[$N,0,$N]"
same_sets "the same $N live controllers as connect-all" "$want" "$(io_set)"

names=$(io_names)
out=$(sc --all --json) && rc=0 || rc=$?
check "rerun exits 0" test "$rc" = 0
check "rerun: $N kept, no kernel call, no cache write" \
	test "$(jq -c '[.counts.keep, .["kernel-calls"], .["cache-writes"]]' <<<"$out")" = "[$N,0,0]"
same_sets "rerun: instance numbers unchanged" "$names" "$(io_names)"

# Parallel per-NQN instances on a fully connected system: all no-ops.
pids=()
for i in $(seq 1 "$N"); do
	sc --json "$P-$i" >"$STAS_VM_RUNDIR/par-$i.json" 2>&1 &
	pids+=($!)
done
rcs=0
for p in "${pids[@]}"; do wait "$p" || rcs=$((rcs + 1)); done
check "$N parallel per-NQN instances all exit 0" test "$rcs" = 0
calls=$(cat "$STAS_VM_RUNDIR"/par-*.json | jq -s '[.[]["kernel-calls"]] | add')
check "... and issue no kernel call" test "$calls" = 0
same_sets "... instance numbers unchanged" "$names" "$(io_names)"
