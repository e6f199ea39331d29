#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Guest half of tests/bench/bootpath (run it through that wrapper): the boot
# path on a fabric of N subsystems (default 45) behind two nvmet ports whose
# discovery controllers refer to each other (a referral loop), in one VM boot:
#
#   nvme-cli   nvme connect-all -t tcp -a 127.0.0.1 -s 8009 (nvme-cli 2.3,
#              discovery.conf's job at boot)
#   stas       what stas-discover-all.service runs at boot, in its order:
#              stas-connect --all (from the cache of the previous boot),
#              then stas-discover --all --no-systemd
#   stas-cold  the same two commands on an empty cache (the first boot)
#
# ROUNDS rounds (default 3), interleaved, everything disconnected between
# runs (as at boot). For every run: its wall time and the sum of the
# kernel's own connect times, the duration of every nvmf_dev_write() call
# (the write to /dev/nvme-fabrics) taken with ftrace's function_graph
# tracer. Then, per round, the stas boot path once more under strace -f -c
# (not timed): its syscalls. Prints "BENCH key value" lines.
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/../vm/connect-lib.sh"

N=${STAS_BENCH_N:-45}
ROUNDS=${STAS_BENCH_ROUNDS:-3}
P=nqn.2024-01.io.stas:boot
bench() { printf 'BENCH %s\n' "$*"; }
command -v strace >/dev/null || skip_all "strace not installed"

nvmet_port_add 1 127.0.0.1 8009
nvmet_port_add 2 127.0.0.1 8010
for i in $(seq 1 "$N"); do
	nvmet_subsys_add "$P-$i" 1 1
	nvmet_link $((i % 2 + 1)) "$P-$i"
done
nvmet_referral_add 1 to-2 127.0.0.1 8010
nvmet_referral_add 2 to-1 127.0.0.1 8009
vm_on_exit nvmet_cleanup
printf 'discovery: { controllers = ( { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = "8009"; } ); };\n' >"$CONF"

# The kernel's connect times: function_graph on nvmf_dev_write alone.
T=/sys/kernel/tracing
[ -d "$T/events" ] || mount -t tracefs nodev "$T" 2>/dev/null || T=/sys/kernel/debug/tracing
ktrace=0
if [ -w "$T/set_ftrace_filter" ] && echo nvmf_dev_write >"$T/set_ftrace_filter" 2>/dev/null &&
	echo function_graph >"$T/current_tracer" 2>/dev/null; then
	echo 8192 >"$T/buffer_size_kb" 2>/dev/null || true
	# A call that sleeps is split into "nvmf_dev_write() {" and "}": the
	# tail option names the function on the closing line, with the duration.
	echo 1 >"$T/options/funcgraph-tail" 2>/dev/null || true
	echo 1 >"$T/tracing_on"
	ktrace=1
	bench kernel-method ftrace-function_graph-nvmf_dev_write
else
	diag "no ftrace here: no kernel connect times"
	bench kernel-method none
fi
ktrace_clear() { [ "$ktrace" = 0 ] || : >"$T/trace"; }
# ktrace_sum: milliseconds spent in nvmf_dev_write since ktrace_clear, and the call count.
ktrace_sum() {
	[ "$ktrace" = 1 ] || {
		echo "n/a 0"
		return
	}
	awk '/nvmf_dev_write/ && match($0, /[0-9]+(\.[0-9]+)? us/) {
		s += substr($0, RSTART, RLENGTH - 3); n++ }
		END { printf "%.0f %d\n", s / 1000, n }' "$T/trace"
}

# Everything down, as at boot: I/O controllers and discovery controllers.
all_down() {
	local c
	for c in $(nvme_ctrls all); do
		echo 1 >"/sys/class/nvme/$c/delete_controller" 2>/dev/null || true
	done
	wait_for_ctrls_count 0 60 all
	# At boot /run is empty: no registry entries (fast mode has no udev to
	# run the remove rule, so the deleted controllers' entries would stay
	# and every registration would first purge a stale one).
	rm -rf /run/nvme/registry
}

connect_all() { nvme connect-all -t tcp -a 127.0.0.1 -s 8009; }
boot_path() { sc --all && "$DISCOVER" --config "$CONF" --cache-dir "$C" --no-systemd --all; }
# floor_connects: the kernel connects of stas's boot path (the very strings,
# in the same order) and nothing else - bash's builtin printf, no process, no
# page read, no cache, no registry: open, write, close per connect. What any
# orchestrator's boot path costs at the least on this VM, beyond the kernel's
# own connect time: the work each new controller sets off (namespace scans,
# uevents) meets the next connect either way.
floor_connects() {
	local s
	while IFS= read -r s; do
		printf '%s' "$s" >/dev/nvme-fabrics || true
	done <"$STAS_VM_RUNDIR/connect-strings"
}

# run NAME CMD...: time CMD from a clean kernel, with its kernel connect sum.
run() {
	local name=$1 t0 t1 k
	shift
	all_down
	ktrace_clear
	t0=$(now_ms)
	"$@" >/dev/null 2>"$STAS_VM_RUNDIR/$name.err" || diag "$name: exit $?"
	t1=$(now_ms)
	k=$(ktrace_sum)
	bench "$name-ms $((t1 - t0))"
	bench "$name-kernel-ms ${k% *}"
	bench "$name-kernel-calls ${k#* }"
	if [ "$(io_set | wc -l)" = "$N" ]; then
		ok "$name: $N live I/O controllers"
	else
		fail "$name: $N live I/O controllers (have $(io_set | wc -l))"
		sed 's/^/#   /' "$STAS_VM_RUNDIR/$name.err" | tail -5
	fi
}

# trace_boot_path NAME SUFFIX STRACE-OPTION...: the stas boot path's two
# commands, each under strace -f with the options, from a clean kernel; the
# traces in $STAS_VM_RUNDIR/NAME/{connect,discover}SUFFIX.
trace_boot_path() {
	local name=$1 sfx=$2 d=$STAS_VM_RUNDIR/$1
	shift 2
	mkdir -p "$d"
	all_down
	strace -f "$@" -o "$d/connect$sfx" -- "$CONNECT" --config "$CONF" --cache-dir "$C" \
		--all >/dev/null 2>&1 || diag "$name: stas-connect exit $?"
	strace -f "$@" -o "$d/discover$sfx" -- "$DISCOVER" --config "$CONF" --cache-dir "$C" \
		--no-systemd --all >/dev/null 2>&1 || diag "$name: stas-discover exit $?"
}

# strace_run NAME: the boot path under strace -f -c; BENCH lines: the total
# syscalls of both commands and per syscall.
strace_run() {
	local name=$1 d=$STAS_VM_RUNDIR/$1
	trace_boot_path "$name" "" -c
	# calls is the 4th column of every row (errors, when any, is the 5th).
	awk -v n="$name" '$NF != "total" && $NF != "syscall" && $1 !~ /^-/ && NF >= 5 {
			c[$NF] += $4; t += $4 }
		END { print "BENCH " n "-syscalls " t
			for (s in c) print "BENCH " n "-sys-" s " " c[s] }' "$d/connect" "$d/discover"
}

# strace_full NAME: the same two commands under a full strace -f -y (not
# timed), once. From it:
#  - "NAME-steady" and "NAME-steady-lock": the syscalls of stas-connect
#    --all's batch from its first connect write to its last, the connect
#    writes excluded, over the connects after the first - what one more
#    connect costs, the process's fixed costs left out - and the per-subsystem
#    lock calls taken before the batch, per connect;
#  - $STAS_VM_RUNDIR/connect-strings: every string both commands wrote to
#    /dev/nvme-fabrics, in order, for the floor run;
#  - with STAS_BENCH_DETAIL=1, every syscall by name and by what it touches
#    (its path, or the path of its fd, folded into a class: sysfs attribute,
#    registry, lock file, cache, ...), so the per-connect cost has a source.
strace_full() {
	local name=$1 d=$STAS_VM_RUNDIR/$1
	trace_boot_path "$name" .full -y -qq -s 4096
	# A syscall line starts one call (an "<... resumed>" line ends one begun
	# on an earlier line); "+++ exited" and "--- SIG" lines are not calls.
	awk -v n="$name" '
		{ sub(/^[0-9]+ +/, "") }
		/^\+\+\+|^---|^<\.\.\. / { next }
		{ m++ }
		/^write\([0-9]+<\/dev\/nvme-fabrics>/ { if (!first) first = m; last = m; k++ }
		/^fcntl\([0-9]+<[^>]*\.lock>, F_OFD_SETLKW/ && !first { locks++ }
		END {
			if (k < 2) { print "BENCH " n "-steady n/a"; exit }
			printf "BENCH %s-steady %.1f\n", n, (last - first + 1 - k) / (k - 1)
			printf "BENCH %s-steady-lock %.1f\n", n, locks / k
		}' "$d/connect.full"
	sed -n 's/^[0-9]* *write([0-9]*<\/dev\/nvme-fabrics>, "\(.*\)", [0-9]*) = .*/\1/p' \
		"$d/connect.full" "$d/discover.full" >"$STAS_VM_RUNDIR/connect-strings"
	[ "${STAS_BENCH_DETAIL:-0}" = 1 ] || return 0
	for f in connect discover; do
		awk -v n="$name-$f" '
		function cls(p) {
			if (p ~ /^\/sys\/class\/nvme\/nvme[0-9]+\//) { sub(/^\/sys\/class\/nvme\/nvme[0-9]+\//, "", p); return "sysfs-ctrl-attr:" p }
			if (p ~ /^\/sys\/devices\/.*\/nvme[0-9]+\//) { sub(/^.*\/nvme[0-9]+\//, "", p); return "sysfs-ctrl-attr:" p }
			if (p ~ /^(nvme[0-9]+\/)?cntrltype$/) return "sysfs-ctrl-attr:cntrltype"
			if (p ~ /^\/sys\/class\/nvme$|^\/sys\/devices\/virtual\/nvme/) return "sysfs-class-nvme"
			if (p ~ /^\/run\/nvme\/registry/) return "registry"
			if (p ~ /\.lock$/) return "lock-file"
			if (p ~ /^\/dev\/nvme-fabrics/) return "nvme-fabrics"
			if (p ~ /^\/dev\/nvme[0-9]+$/) return "dev-nvmeN"
			if (p ~ /\.so(\.[0-9]+)*$|^\/etc\/ld\.so/) return "dynamic-loader"
			if (p ~ /^\/etc\/nvme/) return "etc-nvme"
			if (p ~ /uevent_seqnum/) return "uevent-seqnum"
			if (p ~ /^\/var\/cache\/stas|stas-vm.*cache|\/cache\//) return "cache"
			if (p ~ /^\/proc/) return "proc:" p
			if (p ~ /^\/run\/stas/) return "run-stas"
			if (p ~ /^socket:|^UNIX/) return "socket"
			return "other:" p
		}
		{
			sub(/^[0-9]+ +/, "")
			if ($0 ~ /^\+\+\+|^---|resumed>/ && $0 !~ /^<\.\.\./) next
			if ($0 ~ /^<\.\.\. /) { s = $2 } else { s = $0; sub(/\(.*/, "", s) }
			what = "-"; fdp = ""; str = ""
			if (match($0, /^[a-z_0-9]+\([0-9]+<[^>]*>/)) { fdp = substr($0, RSTART, RLENGTH); sub(/^[^<]*</, "", fdp); sub(/>$/, "", fdp) }
			if (match($0, /"[^"]*"/)) str = substr($0, RSTART + 1, RLENGTH - 2)
			if (fdp != "" && str != "" && str !~ /^\// && s ~ /at2?$/) what = cls(fdp "/" str)
			else if (str ~ /^\//) what = cls(str)
			else if (fdp != "") what = cls(fdp)
			if (s == "write" && what == "nvme-fabrics") s = "write(connect)"
			c[s " " what]++
		}
		END { for (k in c) print "BENCH-DETAIL " n " " c[k] " " k }' "$d/$f.full" | sort -k4,4nr
	done
}

bench n "$N"
# Warm-up (not counted): the binaries' pages over 9p, and stas's cache of
# the fabric for the first boot-path round.
run warmup-nvme-cli connect_all
rm -rf "$C"
run warmup-stas boot_path
# The full trace of the warm boot path: the steady per-connect cost, and the
# connect strings the floor run writes.
strace_full r1-detail
bench "connect-strings $(wc -l <"$STAS_VM_RUNDIR/connect-strings")"

for r in $(seq 1 "$ROUNDS"); do
	run "r$r-nvme-cli" connect_all
	run "r$r-stas" boot_path
	run "r$r-floor" floor_connects
	cp -a "$C" "$STAS_VM_RUNDIR/cache-warm"
	rm -rf "$C"
	run "r$r-stas-cold" boot_path
	rm -rf "$C"
	cp -a "$STAS_VM_RUNDIR/cache-warm" "$C"
	rm -rf "$STAS_VM_RUNDIR/cache-warm"
	strace_run "r$r-strace" boot_path
done
all_down
