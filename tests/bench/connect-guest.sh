#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Guest half of tests/bench/connect (run it through that wrapper): connect N
# subsystems (default 100) behind one discovery controller with
#   nvme connect-all                            (nvme-cli 2.3, the baseline)
#   stas-discover + stas-connect --all
#   stas-discover + N per-NQN stas-connect instances in parallel
#   stas-discover + stas-connect --all --jobs J
# in the same VM run against the same target, then time a no-op reconcile
# with N live controllers. Prints "BENCH key value" lines (milliseconds) and
# leaves a copy of the controllers' sysfs attributes, the cache and the
# config in the results share, for counting instructions on the host.
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/../vm/connect-lib.sh"

N=${STAS_BENCH_N:-100}
J=${STAS_BENCH_JOBS:-8}
ROUNDS=${STAS_BENCH_ROUNDS:-1}
P=nqn.2024-01.io.stas:bench
bench() { printf 'BENCH %s %s\n' "$1" "$2"; }

nvmet_port_add 1 127.0.0.1 8009
for i in $(seq 1 "$N"); do
	nvmet_subsys_add "$P-$i" 1 1
	nvmet_link 1 "$P-$i"
done
vm_on_exit nvmet_cleanup
nqns=$(for i in $(seq 1 "$N"); do echo "$P-$i"; done)

# timed NAME WANT CMD...: run CMD, print its wall time, check WANT live I/O controllers.
timed() {
	local name=$1 want=$2 t0 t1
	shift 2
	t0=$(now_ms)
	"$@" >/dev/null 2>"$STAS_VM_RUNDIR/$name.err" || fail "$name: exit $?"
	t1=$(now_ms)
	bench "$name" $((t1 - t0))
	if [ "$(io_set | wc -l)" = "$want" ]; then
		ok "$name: $want live I/O controllers"
	else
		fail "$name: $want live I/O controllers (have $(io_set | wc -l))"
		sed 's/^/#   /' "$STAS_VM_RUNDIR/$name.err" | tail -5
	fi
}

connect_all() { nvme connect-all -t tcp -a 127.0.0.1 -s 8009; }
stas_all() { sc --all; }
stas_jobs() { sc --all --jobs "$J"; }
stas_parallel() {
	local n pids=() rc=0
	for n in $nqns; do
		sc "$n" &
		pids+=($!)
	done
	for n in "${pids[@]}"; do wait "$n" || rc=1; done
	return $rc
}
discover() { sd -t tcp -a 127.0.0.1 -s 8009; }
# The audit's work (stas-audit.service): its condition, then both steps.
audit() {
	sc --audit-due || :
	sc --all
	sd --all --missing
}

bench n "$N"
for r in $(seq 1 "$ROUNDS"); do
	timed "connect-all" "$N" connect_all
	disconnect_io
	rm -rf "$C"
	timed "stas-discover" 0 discover
	timed "stas-connect-all" "$N" stas_all
	disconnect_io
	timed "stas-connect-parallel" "$N" stas_parallel
	disconnect_io
	timed "stas-connect-jobs$J" "$N" stas_jobs
done

# No-op reconciles with N live controllers (stas's), and nvme-cli's rerun.
timed "noop-stas-connect-all" "$N" stas_all
timed "noop-stas-connect-parallel" "$N" stas_parallel
timed "noop-connect-all" "$N" connect_all
timed "noop-audit" "$N" audit

# For instruction counts on the host: the controllers as sysfs shows them,
# the cache and a config naming this host NQN.
F=$STAS_VM_RESULTS/bench-fixture
rm -rf "$F"
mkdir -p "$F/sys/class/nvme"
for c in $(nvme_ctrls all); do
	mkdir "$F/sys/class/nvme/$c"
	for a in subsysnqn transport address state hostnqn hostid cntrltype dctype kato; do
		[ -r "/sys/class/nvme/$c/$a" ] && cat "/sys/class/nvme/$c/$a" >"$F/sys/class/nvme/$c/$a" 2>/dev/null || true
	done
done
cp -a "$C" "$F/cache"
printf 'host = { nqn = "%s"; };\n' "$(cat /etc/nvme/hostnqn)" >"$F/stas.conf"
ok "fixture for instruction counts saved"
