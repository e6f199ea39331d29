#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# stas-discover against a hostile discovery controller (tests/hostile-dc,
# fast mode, one boot). Each scenario serves a crafted log page that also
# carries legitimate entries for real kernel nvmet subsystems on
# 127.0.0.1:4420, and asserts: no crash (no signal death, no sanitizer
# report), bounded time and memory (each run in its own cgroup, peak from
# memory.peak), `stasadm verify` clean, the legitimate entries connected, and
# one clear log line per problem.
#
# Run: tests/vm/run tests/vm/hostile-dc.sh [SCENARIO...]   (default: all)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

B=${top_builddir:?top_builddir is not set}
DISCOVER=$B/helpers/stas-discover/stas-discover
STASADM=$B/stasadm/stasadm
HDC=$B/tests/hostile-dc/hostile-dc
[ -x "$DISCOVER" ] || skip_all "stas-discover is not built"
[ -x "$HDC" ] || skip_all "tests/hostile-dc/hostile-dc is not built (make check builds it)"
command -v nvme >/dev/null || skip_all "nvme-cli not installed"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
# ASan keeps up to 256 MiB of freed memory in quarantine: with it, the peak
# would measure the allocator's churn, not what the program holds.
ASAN_OPTIONS+=:quarantine_size_mb=16
R=$STAS_VM_RUNDIR/hostile
mkdir -p "$R"
CONF=$R/stas.conf
: >"$CONF"

# Limits every scenario is held to (generous for ASan builds under TCG).
MEM_MAX_MB=${STAS_HOSTILE_MEM_MB:-384} # the cgroup's memory.max: a runaway is killed here
MEM_OK_MB=${STAS_HOSTILE_MEM_OK_MB:-192} # "bounded memory" means a peak below this
TIME_OK=${STAS_HOSTILE_TIME_OK:-45}      # seconds, for a page of a few entries

# --- the I/O side: real kernel subsystems -----------------------------------------------
P=nqn.2024-01.io.stas:hostile
L1=$P-legit-1 L2=$P-legit-2
# A long NQN of characters valid in NQNs that unit names must escape ('-').
long_nqn() {
	local s="nqn.2024-01.io.stas:$1"
	while [ "${#s}" -lt "$2" ]; do s+="-a-b"; done
	printf '%s' "${s:0:$2}"
}
LN1=$(long_nqn l1- 222)
LN2=$(long_nqn l2- 222)
nvmet_port_add 1 127.0.0.1 4420
for n in "$L1" "$L2" "$LN1" "$LN2"; do
	nvmet_subsys_add "$n" 1 0
	nvmet_link 1 "$n"
done

# --- cgroup v2 for memory figures --------------------------------------------------------
CG=/sys/fs/cgroup
echo +memory >"$CG/cgroup.subtree_control" 2>/dev/null || true
[ -e "$CG/cgroup.subtree_control" ] && grep -qw memory "$CG/cgroup.subtree_control" ||
	bail "no memory controller in cgroup v2"

# measure NAME TIMEOUT CMD...: run CMD in its own cgroup, bounded by TIMEOUT
# seconds and MEM_MAX_MB; sets M_RC, M_SECS (ms precision), M_PEAK_MB, and
# leaves stdout/stderr in $R/NAME.out/.err.
measure() {
	local name=$1 limit=$2 cg t0 t1
	shift 2
	cg=$CG/hostile-$name
	mkdir "$cg"
	echo $((MEM_MAX_MB * 1024 * 1024)) >"$cg/memory.max"
	echo 0 >"$cg/memory.swap.max" 2>/dev/null || true
	t0=${EPOCHREALTIME/[.,]/}
	M_RC=0
	bash -c 'echo $$ >"$1/cgroup.procs"; shift; exec timeout -k 5 "$@"' _ "$cg" \
		"$limit" "$@" >"$R/$name.out" 2>"$R/$name.err" || M_RC=$?
	t1=${EPOCHREALTIME/[.,]/}
	M_SECS=$(((t1 - t0) / 1000))
	M_SECS=$((M_SECS / 1000)).$(printf '%03d' $((M_SECS % 1000)))
	M_PEAK_MB=?
	if [ -r "$cg/memory.peak" ]; then
		M_PEAK_MB=$(($(cat "$cg/memory.peak") / 1024 / 1024))
	fi
	M_OOM=$(sed -n 's/^oom_kill //p' "$cg/memory.events" 2>/dev/null || echo 0)
	rmdir "$cg" 2>/dev/null || true
	diag "$name: exit $M_RC after ${M_SECS}s, peak ${M_PEAK_MB} MiB, oom kills ${M_OOM:-0}, $(wc -l <"$R/$name.err") stderr lines"
}

# Assertions on the last measure().
no_crash() {
	# 124: stopped at the time limit (in_time reports that); > 128: a signal;
	# ASan turns SIGSEGV/SIGBUS and a failed huge allocation into exit 1
	# with a report.
	{ [ "$M_RC" -lt 128 ] || [ "$M_RC" = 124 ]; } && [ "${M_OOM:-0}" = 0 ] &&
		! grep -qE 'Sanitizer|runtime error:|SEGV|stack-overflow' "$R/$1.err"
}
in_time() { awk -v s="$M_SECS" -v l="$1" 'BEGIN { exit !(s < l) }'; }
in_memory() { [ "$M_PEAK_MB" != '?' ] && [ "$M_PEAK_MB" -lt "$MEM_OK_MB" ]; }
refused_cleanly() {
	no_crash "$1" && [ "$(grep -c "$2" "$R/$1.err")" -ge 1 ] && [ "$(wc -l <"$R/$1.err")" -le 3 ]
}
lines_matching() { grep -cE "$2" "$R/$1.err" || true; }

# DC PORT: start a hostile DC (killed at exit and by hdc_stop).
HDC_PID=
hdc_start() {
	local port=$1
	shift
	rm -f "$R/hdc.ready"
	"$HDC" --port "$port" --ready "$R/hdc.ready" "$@" 2>"$R/hdc-$port.log" &
	HDC_PID=$!
	vm_on_exit kill "$HDC_PID"
	wait_until 10 test -s "$R/hdc.ready" || bail "hostile-dc did not start: $(cat "$R/hdc-$port.log")"
}
hdc_stop() {
	[ -n "$HDC_PID" ] || return 0
	kill "$HDC_PID" 2>/dev/null || true
	wait "$HDC_PID" 2>/dev/null || true
	HDC_PID=
}
# hdc_reads PORT: log page reads the DC served (from its closing lines).
hdc_reads() {
	sed -n 's/.*stopped: .* \([0-9]*\) log page reads.*/\1/p' "$R/hdc-$1.log" | tail -n1
}

# Disconnect every controller so each scenario starts from nothing.
reset_host() {
	nvme disconnect-all >/dev/null 2>&1 || true
	wait_for_ctrls_count 0 20 all || diag "controllers left: $(nvme_ctrls all | tr '\n' ' ')"
}

# sd NAME TIMEOUT PORT [ARGS...]: stas-discover (in-process connects) against
# the hostile DC on PORT with a fresh cache $R/cache-NAME.
sd() {
	local name=$1 limit=$2 port=$3
	shift 3
	C=$R/cache-${SD_CACHE:-$name}
	[ -n "${SD_CACHE:-}" ] || rm -rf "$C"
	measure "$name" "$limit" "$DISCOVER" --config "$CONF" --cache-dir "$C" --no-systemd \
		"$@" -t tcp -a 127.0.0.1 -s "$port"
}
adm() { "$STASADM" --config "$CONF" --cache-dir "$C" "$@"; }
connected() {
	local n
	for n in "$@"; do find_ctrl "$n" 127.0.0.1 4420 >/dev/null || return 1; done
}
CTRL_BYTES=$'[\x01-\x08\x0b-\x1f\x7f]'
no_ctrl_bytes() { ! LC_ALL=C grep -q "$CTRL_BYTES"; }
no_ctrl_in_show() { adm show "tcp-127.0.0.1-$1" | no_ctrl_bytes; }
no_smuggled() { ! cat /sys/class/nvme/*/address 2>/dev/null | grep -q 'host_traddr=127.0.0.2'; }
has_error() { adm show --json "tcp-127.0.0.1-$1" | jq -e '.["last-error"] | length > 0'; }
show_err() { sed -n "1,${2:-12}p" "$R/$1.err" | cat -v | sed 's/^/#   stderr: /'; }

# common NAME: the assertions every scenario makes.
common() {
	local name=$1
	check "$name: no crash (exit $M_RC)" no_crash "$name"
	check "$name: done in bounded time (${M_SECS}s < ${TIME_OK}s)" in_time "$TIME_OK"
	check "$name: bounded memory (peak ${M_PEAK_MB} MiB < ${MEM_OK_MB} MiB)" in_memory
	check "$name: the cache verifies clean" adm verify
}

want() { [ $# -eq 0 ] || [[ " ${SCENARIOS[*]} " == *" $1 "* ]]; }
SCENARIOS=("$@")
if [ ${#SCENARIOS[@]} = 0 ] && [ -n "${STAS_HOSTILE_SCENARIOS:-}" ]; then
	read -r -a SCENARIOS <<<"$STAS_HOSTILE_SCENARIOS"
fi
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(normal garbage longnqn dead torn genctr aen numrec1m numrec4m referrals)
diag "scenarios: ${SCENARIOS[*]}"
port=8100

# --- normal: the baseline --------------------------------------------------------------
if want normal; then
	port=$((port + 1))
	hdc_start $port --scenario normal -n "$L1" -n "$L2"
	out=$(nvme discover -t tcp -a 127.0.0.1 -s $port 2>&1) || true
	check "normal: nvme discover reads the hostile DC's page" grep -q "subnqn: *$L2" <<<"$out"
	sd normal 60 $port
	show_err normal 4
	check "normal: exit 0" test "$M_RC" = 0
	common normal
	check "normal: both subsystems connected" connected "$L1" "$L2"
	check "normal: 2 entries in the cache" \
		test "$(adm show --json tcp-127.0.0.1-$port | jq '.["log-page"] | length')" = 2
	hdc_stop
	reset_host
fi

# --- garbage: no NUL terminators, control bytes, smuggled options ------------------------
if want garbage; then
	port=$((port + 1))
	hdc_start $port --scenario garbage -n "$L1" -n "$L2"
	sd garbage 60 $port
	show_err garbage 14
	check "garbage: exit 0 (the page is used, bad entries skipped)" test "$M_RC" = 0
	common garbage
	check "garbage: the legitimate entries connected" connected "$L1" "$L2"
	n=$(adm show --json tcp-127.0.0.1-$port | jq '.["log-page"] | length')
	check "garbage: only the 2 legitimate entries stored ($n)" test "$n" = 2
	# One line per malformed entry (9 kinds), each naming the problem.
	n=$(lines_matching garbage 'malformed|invalid|[Ss]kipping')
	check "garbage: one log line per malformed entry ($n of 9)" test "$n" = 9
	check "garbage: no raw control byte reaches the log" no_ctrl_bytes <"$R/garbage.err"
	check "garbage: no raw control byte in stasadm show" no_ctrl_in_show $port
	check "garbage: no connection to a smuggled address" no_smuggled
	hdc_stop
	reset_host
fi

# --- longnqn: 222-byte NQNs full of '-' (unit names must escape each) ---------------
if want longnqn; then
	port=$((port + 1))
	hdc_start $port --scenario normal -n "$LN1" -n "$L1" -n "$LN2" -n "$L2"
	sd longnqn 60 $port
	show_err longnqn 6
	check "longnqn: exit 0" test "$M_RC" = 0
	common longnqn
	check "longnqn: the short-NQN subsystems connected" connected "$L1" "$L2"
	check "longnqn: both 222-byte NQNs connected" connected "$LN1" "$LN2"
	hdc_stop
	reset_host
fi

# --- dead: entries pointing at addresses that never answer -------------------------------
if want dead; then
	# 127.0.0.1:9: nothing listens (RST). 10.99.0.2 sits in a namespace whose
	# replies are blackholed: the SYN is never answered.
	netns_add hdc-void
	veth_add hdc-v0 hdc-v1 hdc-void
	ip addr add 10.99.0.1/24 dev hdc-v0
	netns_exec hdc-void ip addr add 10.99.0.2/24 dev hdc-v1
	netns_exec hdc-void ip route add blackhole 10.99.0.1/32
	port=$((port + 1))
	hdc_start $port --scenario dead -n "$L1" -n "$L2" --dead 127.0.0.1:9 --dead 10.99.0.2:4420
	sd dead 120 $port
	show_err dead 8
	check "dead: no crash (exit $M_RC)" no_crash dead
	check "dead: done in bounded time (${M_SECS}s < ${TIME_OK}s)" in_time "$TIME_OK"
	check "dead: bounded memory (peak ${M_PEAK_MB} MiB)" in_memory
	check "dead: the cache verifies clean" adm verify
	check "dead: the legitimate entries connected" connected "$L1" "$L2"
	n=$(lines_matching dead 'dead-0|127\.0\.0\.1.9([^0-9]|$)')
	check "dead: one log line for the refusing address ($n)" test "$n" = 1
	n=$(lines_matching dead 'dead-1|10\.99\.0\.2')
	check "dead: one log line for the blackholed address ($n)" test "$n" = 1
	hdc_stop
	reset_host
fi

# --- torn: the page changes (genctr too) between the chunks of one read -------------------
if want torn; then
	port=$((port + 1))
	hdc_start $port --scenario torn -n "$L1" -n "$L2"
	sd torn 90 $port --no-connect
	show_err torn 6
	check "torn: exit 0" test "$M_RC" = 0
	common torn
	j=$(adm show --json tcp-127.0.0.1-$port)
	check "torn: the stored page is the new one whole (14 entries)" \
		test "$(jq '.["log-page"] | length' <<<"$j")" = 14
	n=$(jq '[.["log-page"][] | select(.subsysnqn | test("torn-a-"))] | length' <<<"$j")
	diag "torn: stored generation $(jq -r .genctr <<<"$j"), $n entries of the old page"
	# stas reads the header again after the entries and re-reads on a change
	# (libnvme 1.3 compared genctr against the first chunk only).
	check "torn: not one entry of the old page kept ($n)" test "$n" = 0
	check "torn: the DC saw the change mid-read" grep -q "changed in the middle" "$R/hdc-$port.log"
	hdc_stop
fi

# --- genctr: a generation counter that changes on every read ---------------------------
if want genctr; then
	port=$((port + 1))
	hdc_start $port --scenario genctr -n "$L1" -n "$L2"
	sd genctr 90 $port --no-connect
	show_err genctr 6
	common genctr
	check "genctr: gives up (exit 1): the page never holds still" test "$M_RC" = 1
	n=$(wc -l <"$R/genctr.err")
	check "genctr: one clear log line ($n lines)" test "$n" -ge 1 -a "$n" -le 2
	check "genctr: the DC is recorded with its error" has_error $port
	hdc_stop
	reset_host
fi

# --- aen: an AEN storm on a persistent DC connection --------------------------------------
if want aen; then
	port=$((port + 1))
	storm=${STAS_HOSTILE_AENS:-500}
	hdc_start $port --scenario normal -n "$L1" -n "$L2" --aen-count "$storm"
	udev_monitor_start "$R/uevents"
	SD_CACHE=aen
	rm -rf "$R/cache-aen"
	sd aen-before 60 $port
	check "aen: first read, exit 0" test "$M_RC" = 0
	dev=$(adm show --json tcp-127.0.0.1-$port | jq -r '.device // empty')
	check "aen: the DC connection is persistent ($dev)" test -n "$dev"
	kill -USR1 "$HDC_PID"
	wait_until 120 grep -q "AEN storm done" "$R/hdc-$port.log" || true
	check "aen: the DC delivered the whole storm ($storm AENs)" grep -q "AEN storm done" "$R/hdc-$port.log"
	n=$(grep -c 'NVME_AEN=0x70f002' "$R/uevents" || true)
	diag "aen: $n NVME_AEN uevents seen by udev monitor"
	check "aen: the DC controller is still live" wait_for_ctrl_state "$dev" live 10
	sd aen 60 $port
	show_err aen 4
	check "aen: reading after the storm, exit 0" test "$M_RC" = 0
	common aen
	check "aen: the page's latest generation stored ($((storm + 1)))" \
		test "$(adm show --json tcp-127.0.0.1-$port | jq -r '.genctr')" = $((storm + 1))
	check "aen: the legitimate entries connected" connected "$L1" "$L2"
	SD_CACHE=
	: >"$R/uevents"
	kill -USR2 "$HDC_PID"
	check "aen: the change event is armed again after stas's read" \
		wait_until 20 grep -q 'NVME_AEN=0x70f002' "$R/uevents"
	hdc_stop
	reset_host
fi

# --- numrec: a header that claims a million / four million entries -------------------------
# Issue 13 item 5b: libnvme 1.3 acts on numrec before stas sees it.
for nr in 1m:1048576 4m:4194304; do
	name=numrec${nr%%:*} count=${nr#*:}
	want "$name" || continue
	port=$((port + 1))
	hdc_start $port --scenario numrec --count "$count" -n "$L1" -n "$L2"
	sd "$name" 40 $port --no-connect
	show_err "$name" 6
	hdc_stop
	reads=$(hdc_reads $port)
	diag "$name: the DC served ${reads:-?} log page reads"
	# Clean = no signal death, no sanitizer report, and stas's own refusal
	# naming the claim; without ASan the 1 GiB calloc() fails quietly instead.
	check "$name: refused cleanly: no crash, one log line naming the claimed $count" \
		refused_cleanly "$name" "$count"
	check "$name: refused in bounded time (${M_SECS}s < ${TIME_OK}s)" in_time "$TIME_OK"
	check "$name: bounded memory (peak ${M_PEAK_MB} MiB)" in_memory
	check "$name: no flood of reads (${reads:-?} log page reads <= 4)" test "${reads:-99999}" -le 4
	check "$name: the cache verifies clean" adm verify
	reset_host
done

# --- referrals: 65,536 referrals on one page -----------------------------------------------
# Referrals: 2,046 of them and the 2 legitimate entries, a 2 MiB page read in
# about 5 s. Today every referral is followed in-process, about 1 s each under
# TCG (a refused connect, two log lines, a cache write), so the run is cut at
# the time limit. Larger pages measure something else first: 8,190 referrals
# are not even stored after 100 s (storing a page grows faster than its
# length), and the issue's 65,536 (STAS_HOSTILE_REFERRALS=65534, the most a
# page may hold for stas) spend about 115 s in libnvme's 16,385 Get Log Page
# commands of 4 KiB alone. A fixed stas must stay within the time limit with
# at most STAS_HOSTILE_REFERRAL_CAP referral DCs. The assertions combine
# "capped" with what they check, so that an uncapped stas fails them however
# fast it happens to be.
if want referrals; then
	nref=${STAS_HOSTILE_REFERRALS:-2046}
	cap=${STAS_HOSTILE_REFERRAL_CAP:-1024}
	rlimit=${STAS_HOSTILE_REFERRALS_TIME:-90}
	port=$((port + 1))
	hdc_start $port --scenario referrals --count "$nref" -n "$L1" -n "$L2"
	sd referrals $((rlimit + 10)) $port
	show_err referrals 6
	hdc_stop
	diag "referrals: the DC served $(hdc_reads $port) log page reads"
	ndc=$(adm ls --json 2>/dev/null | jq 'length' 2>/dev/null || echo '?')
	n=$(lines_matching referrals '[Rr]eferral')
	ncap=$(lines_matching referrals 'following the first [0-9]+ only')
	diag "referrals: $ndc DCs in the cache, $n log lines mention referrals, $(wc -l <"$R/referrals.err") log lines in all"
	check "referrals: no crash (exit $M_RC)" no_crash referrals
	check "referrals: bounded memory (peak ${M_PEAK_MB} MiB)" in_memory
	check "referrals: the cache verifies clean" adm verify
	capped() { [ "$M_RC" != 124 ] && [ "${ndc:-99999}" -le $((cap + 1)) ]; }
	check "referrals: done in ${M_SECS}s (< ${rlimit}s) with the DCs capped ($ndc <= $((cap + 1)))" \
		capped
	check "referrals: capped, and one log line says so ($ncap lines name the limit)" \
		eval 'capped && [ "$ncap" -eq 1 ]'
	check "referrals: capped, and the legitimate entries connected" \
		eval 'capped && connected "$L1" "$L2"'
	reset_host
fi

