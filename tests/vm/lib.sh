# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/vm/lib.sh: helpers for guest scenarios run by tests/vm/run.
# Source it from a guest script (bash):
#
#   #!/bin/bash
#   set -euo pipefail
#   . "$(dirname "$0")/lib.sh"
#
# It refuses to run outside the VM (exit 77), installs an EXIT trap that
# runs the registered cleanups (vm_on_exit) and turns the TAP-ish results
# (ok/fail/skip) into the scenario's exit status: 1 if anything failed or the
# script died, 77 if everything was skipped, else 0.
#
# Contents:
#   TAP-ish     ok, fail, skip, skip_all, check, diag, bail, vm_on_exit, vm_bg
#   live paths  live_io, has_live
#   waiting     wait_until, wait_for_ctrl_state, wait_for_ctrls_count
#   kernel      nvme_ctrls, ctrl_attr, find_ctrl
#   nvmet       nvmet_subsys_add/_del, nvmet_ns_add/_del, nvmet_port_add/_del,
#               nvmet_link/_unlink, nvmet_referral_add/_del,
#               nvmet_host_allow/_disallow, nvmet_cleanup
#   udev        udevd_start, udev_monitor_start, udev_rule_record_start,
#               wait_for_udev_event
#   network     netns_add, netns_exec, dummy_add, veth_add, link_del

if [ "${STAS_VM:-}" != 1 ]; then
	echo "1..0 # SKIP $(basename "$0") runs inside the VM only: tests/vm/run $0" >&2
	exit 77
fi

NVMET=/sys/kernel/config/nvmet
NVME_DISC_NQN=nqn.2014-08.org.nvmexpress.discovery
STAS_VM_RESULTS=${STAS_VM_RESULTS:-/stas-vm}
STAS_VM_RUNDIR=${STAS_VM_RUNDIR:-/run/stas-vm}
[ -d "$STAS_VM_RUNDIR" ] || mkdir -p "$STAS_VM_RUNDIR"

# --- TAP-ish results and exit handling ---------------------------------------
_vm_n=0 _vm_failed=0 _vm_passed=0 _vm_skipped=0
_vm_exit_cmds=()

diag() { printf '# %s\n' "$*"; }
ok() {
	_vm_n=$((_vm_n + 1)) _vm_passed=$((_vm_passed + 1))
	printf 'ok %d - %s\n' "$_vm_n" "$*"
}
fail() {
	_vm_n=$((_vm_n + 1)) _vm_failed=$((_vm_failed + 1))
	printf 'not ok %d - %s\n' "$_vm_n" "$*"
}
skip() {
	_vm_n=$((_vm_n + 1)) _vm_skipped=$((_vm_skipped + 1))
	printf 'ok %d # SKIP %s\n' "$_vm_n" "$*"
}
# skip_all REASON: the whole scenario is skipped (exit 77).
skip_all() {
	printf '# SKIP %s\n' "$*"
	_vm_skip_all=1
	exit 77
}
# need_612_build TOOL...: the 6.12 scenarios' preamble - skip unless the
# guest runs kernel 6.12 or later, stas is built in $top_builddir (the Debian
# 13 build) and each TOOL is installed; sets B, DISCOVER, CONNECT, STASADM.
need_612_build() {
	case $(uname -r) in
	6.1[2-9].* | 6.[2-9][0-9].* | [7-9].*) ;;
	*) skip_all "needs kernel 6.12 (tests/vm/run --kernel 6.12), not $(uname -r)" ;;
	esac
	B=${top_builddir:?top_builddir is not set (the Debian 13 build)}
	DISCOVER=$B/helpers/stas-discover/stas-discover
	CONNECT=$B/helpers/stas-connect/stas-connect
	STASADM=$B/stasadm/stasadm
	[ -x "$DISCOVER" ] && [ -x "$CONNECT" ] || skip_all "stas is not built in $B"
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || skip_all "$t not installed in the guest"
	done
}
# bail MSG: a fatal failure; stops the scenario.
bail() {
	fail "$*"
	exit 1
}
# check DESC CMD...: ok when CMD succeeds, fail (with its output) otherwise.
check() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		ok "$desc"
	else
		fail "$desc (exit $rc: $*)"
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/#   /'
	fi
	return 0
}
# vm_on_exit CMD...: run CMD at exit (last registered runs first).
vm_on_exit() {
	local q
	q=$(printf '%q ' "$@")
	_vm_exit_cmds+=("$q")
}
# vm_bg CMD...: run CMD in the background, killed at exit; sets VM_BG_PID.
vm_bg() {
	"$@" &
	VM_BG_PID=$!
	vm_on_exit kill "$VM_BG_PID"
}

_vm_exit() {
	local rc=$? i
	trap - EXIT
	set +e
	for ((i = ${#_vm_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_vm_exit_cmds[$i]}" >/dev/null 2>&1
	done
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		diag "scenario exited $rc (passed $_vm_passed, failed $_vm_failed)"
		exit "$rc"
	fi
	if [ "$_vm_failed" -gt 0 ]; then
		diag "$_vm_failed of $_vm_n checks failed"
		exit 1
	fi
	if [ "$rc" = 77 ] || { [ "$_vm_passed" = 0 ] && [ "$_vm_skipped" -gt 0 ]; }; then
		exit 77
	fi
	diag "all $_vm_n checks passed"
	exit 0
}
trap _vm_exit EXIT

# --- Waiting ---------------------------------------------------------------------
# vm_sleep SECS: sleep without forking (read -t on a FIFO nobody writes).
_vm_sleep_fd=
vm_sleep() {
	if [ -z "$_vm_sleep_fd" ]; then
		local fifo=$STAS_VM_RUNDIR/sleep.fifo.$$
		mkfifo "$fifo"
		exec {_vm_sleep_fd}<>"$fifo"
		rm -f "$fifo"
	fi
	read -r -t "$1" -u "$_vm_sleep_fd" _ || true
}

# live_io NQN: how many controllers of subsystem NQN are live
live_io() {
	local n=0 c
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/subsysnqn" ] || continue
		[ "$(cat "$c/subsysnqn")" = "$1" ] && [ "$(cat "$c/state")" = live ] && n=$((n + 1))
	done
	echo "$n"
}
# has_live NQN: at least one live controller of NQN
has_live() { [ "$(live_io "$1")" -ge 1 ]; }

# wait_until TIMEOUT CMD...: poll CMD every 0.2 s until it succeeds; 1 on timeout.
wait_until() {
	local timeout=$1 end
	shift
	end=$((${EPOCHREALTIME/[.,]/} / 1000 + timeout * 1000))
	while ! "$@" >/dev/null 2>&1; do
		[ "$((${EPOCHREALTIME/[.,]/} / 1000))" -lt "$end" ] || return 1
		vm_sleep 0.2
	done
}

# --- Kernel controllers ----------------------------------------------------------
# ctrl_attr CTRL ATTR: print /sys/class/nvme/CTRL/ATTR.
ctrl_attr() {
	local v
	{ read -r v <"/sys/class/nvme/$1/$2"; } 2>/dev/null || return 1
	printf '%s\n' "$v"
}

# nvme_ctrls [all|io|disc]: print controller names (nvme0 ...).
nvme_ctrls() {
	local kind=${1:-all} c nqn
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c" ] || continue
		{ read -r nqn <"$c/subsysnqn"; } 2>/dev/null || continue
		case $kind in
		io) [ "$nqn" != "$NVME_DISC_NQN" ] || continue ;;
		disc) [ "$nqn" = "$NVME_DISC_NQN" ] || continue ;;
		esac
		echo "${c##*/}"
	done
}

# find_ctrl SUBSYSNQN [TRADDR [TRSVCID]]: print the first matching controller.
find_ctrl() {
	local nqn=$1 traddr=${2:-} trsvcid=${3:-} c addr
	for c in $(nvme_ctrls all); do
		[ "$(ctrl_attr "$c" subsysnqn)" = "$nqn" ] || continue
		addr=$(ctrl_attr "$c" address)
		if [ -n "$traddr" ]; then
			[[ ,$addr, == *",traddr=$traddr,"* ]] || continue
		fi
		if [ -n "$trsvcid" ]; then
			[[ ,$addr, == *",trsvcid=$trsvcid,"* ]] || continue
		fi
		echo "$c"
		return 0
	done
	return 1
}

_ctrl_state_is() {
	local v
	{ read -r v <"/sys/class/nvme/$1/state"; } 2>/dev/null && [ "$v" = "$2" ]
}
# wait_for_ctrl_state CTRL STATE TIMEOUT
wait_for_ctrl_state() {
	wait_until "$3" _ctrl_state_is "$1" "$2"
}

_ctrls_count_is() {
	local -a c
	mapfile -t c < <(nvme_ctrls "$2")
	[ "${#c[@]}" -eq "$1" ]
}
# wait_for_ctrls_count N TIMEOUT [all|io|disc]
wait_for_ctrls_count() {
	wait_until "$2" _ctrls_count_is "$1" "${3:-all}"
}

# --- nvmet (kernel target over configfs) ------------------------------------------
_nvmet_init() {
	[ -d "$NVMET" ] && [ -d "$STAS_VM_RUNDIR/nvmet" ] && return 0
	if [ ! -d "$NVMET" ]; then
		[ -d /sys/kernel/config/nvmet ] || modprobe nvmet 2>/dev/null || true
		mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
	fi
	[ -d "$NVMET" ] || bail "no $NVMET (nvmet not loaded?)"
	[ -d "$STAS_VM_RUNDIR/nvmet" ] || mkdir -p "$STAS_VM_RUNDIR/nvmet"
}

# nvmet_ns_add NQN NSID [SIZE]: a namespace backed by a file on tmpfs.
nvmet_ns_add() {
	local nqn=$1 nsid=$2 size=${3:-1M} ns file
	_nvmet_init
	ns=$NVMET/subsystems/$nqn/namespaces/$nsid
	file=$STAS_VM_RUNDIR/nvmet/$nqn-$nsid.img
	truncate -s "$size" "$file"
	mkdir "$ns" # configfs: mkdir makes the object
	printf '%s' "$file" >"$ns/device_path"
	echo 1 >"$ns/buffered_io" # tmpfs has no O_DIRECT
	echo 1 >"$ns/enable"
}

nvmet_ns_del() {
	local nqn=$1 nsid=$2 ns
	ns=$NVMET/subsystems/$nqn/namespaces/$nsid
	[ -d "$ns" ] || return 0
	echo 0 >"$ns/enable"
	rmdir "$ns"
	rm -f "$STAS_VM_RUNDIR/nvmet/$nqn-$nsid.img"
}

# nvmet_subsys_add NQN [ALLOW_ANY=1] [NAMESPACES=1]
nvmet_subsys_add() {
	local nqn=$1 allow=${2:-1} nns=${3:-1} i
	_nvmet_init
	mkdir "$NVMET/subsystems/$nqn"
	echo "$allow" >"$NVMET/subsystems/$nqn/attr_allow_any_host"
	for ((i = 1; i <= nns; i++)); do
		nvmet_ns_add "$nqn" "$i"
	done
}

# nvmet_subsys_del NQN: unlink it from every port, drop namespaces and hosts.
nvmet_subsys_del() {
	local nqn=$1 s p ns h
	s=$NVMET/subsystems/$nqn
	[ -d "$s" ] || return 0
	for p in "$NVMET"/ports/*/subsystems/"$nqn"; do
		[ -L "$p" ] && rm -f "$p"
	done
	for h in "$s"/allowed_hosts/*; do
		[ -L "$h" ] && rm -f "$h"
	done
	for ns in "$s"/namespaces/*; do
		[ -d "$ns" ] && nvmet_ns_del "$nqn" "${ns##*/}"
	done
	rmdir "$s"
}

_adrfam_of() {
	case $1 in
	*:*) echo ipv6 ;;
	*) echo ipv4 ;;
	esac
}

# nvmet_port_add ID TRADDR TRSVCID [ADRFAM] [TRTYPE=tcp]
# The port listens once a subsystem is linked to it.
nvmet_port_add() {
	local id=$1 traddr=$2 trsvcid=$3 adrfam=${4:-} trtype=${5:-tcp} p
	_nvmet_init
	p=$NVMET/ports/$id
	mkdir "$p"
	echo "$trtype" >"$p/addr_trtype"
	echo "${adrfam:-$(_adrfam_of "$traddr")}" >"$p/addr_adrfam"
	echo "$traddr" >"$p/addr_traddr"
	echo "$trsvcid" >"$p/addr_trsvcid"
}

# nvmet_port_del ID: unlink its subsystems, drop its referrals, remove it.
nvmet_port_del() {
	local p=$NVMET/ports/$1 x
	[ -d "$p" ] || return 0
	for x in "$p"/subsystems/*; do
		[ -L "$x" ] && rm -f "$x"
	done
	for x in "$p"/referrals/*; do
		[ -d "$x" ] && nvmet_referral_del "$1" "${x##*/}"
	done
	rmdir "$p"
}

# nvmet_link PORT NQN / nvmet_unlink PORT NQN: expose/hide a subsystem on a
# port. Both change the port's discovery log (genctr + AEN to persistent DCs).
nvmet_link() {
	ln -s "$NVMET/subsystems/$2" "$NVMET/ports/$1/subsystems/$2"
}
nvmet_unlink() {
	rm -f "$NVMET/ports/$1/subsystems/$2"
}

# nvmet_referral_add PORT NAME TRADDR TRSVCID [ADRFAM] [TRTYPE=tcp] [PORTID]
nvmet_referral_add() {
	local port=$1 name=$2 traddr=$3 trsvcid=$4 adrfam=${5:-} trtype=${6:-tcp} portid=${7:-} r
	r=$NVMET/ports/$port/referrals/$name
	mkdir "$r"
	echo "$trtype" >"$r/addr_trtype"
	echo "${adrfam:-$(_adrfam_of "$traddr")}" >"$r/addr_adrfam"
	echo "$traddr" >"$r/addr_traddr"
	echo "$trsvcid" >"$r/addr_trsvcid"
	[ -z "$portid" ] || echo "$portid" >"$r/addr_portid"
	echo 1 >"$r/enable"
}
nvmet_referral_del() {
	local r=$NVMET/ports/$1/referrals/$2
	[ -d "$r" ] || return 0
	echo 0 >"$r/enable"
	rmdir "$r"
}

# nvmet_host_allow NQN HOSTNQN: restrict NQN to an allow-list and add HOSTNQN.
nvmet_host_allow() {
	local nqn=$1 host=$2
	_nvmet_init
	[ -d "$NVMET/hosts/$host" ] || mkdir "$NVMET/hosts/$host"
	echo 0 >"$NVMET/subsystems/$nqn/attr_allow_any_host"
	ln -s "$NVMET/hosts/$host" "$NVMET/subsystems/$nqn/allowed_hosts/$host"
}
nvmet_host_disallow() {
	rm -f "$NVMET/subsystems/$1/allowed_hosts/$2"
}

# nvmet_cleanup: disconnect every controller, then remove the whole target
# configuration (ports, subsystems, hosts).
nvmet_cleanup() {
	local x
	nvme disconnect-all >/dev/null 2>&1 || true
	[ -d "$NVMET" ] || return 0
	for x in "$NVMET"/ports/*; do
		[ -d "$x" ] && nvmet_port_del "${x##*/}"
	done
	for x in "$NVMET"/subsystems/*; do
		[ -d "$x" ] && nvmet_subsys_del "${x##*/}"
	done
	for x in "$NVMET"/hosts/*; do
		[ -d "$x" ] && rmdir "$x"
	done
	return 0
}

# --- udev ------------------------------------------------------------------------
# udevd_start: fast mode has no udevd; start one (killed at exit) and settle.
udevd_start() {
	if pgrep -x systemd-udevd >/dev/null; then
		return 0
	fi
	/lib/systemd/systemd-udevd --daemon
	vm_on_exit pkill -x systemd-udevd
	udevadm trigger --action=add >/dev/null 2>&1 || true
	udevadm settle --timeout=30 || true
}

# udev_monitor_start [FILE]: record kernel uevents of SUBSYSTEM=nvme (with
# their properties) into FILE (default $STAS_VM_RUNDIR/uevents). Needs no
# udevd, so it works in fast mode too. Sets UDEV_EVENTS_FILE.
udev_monitor_start() {
	UDEV_EVENTS_FILE=${1:-$STAS_VM_RUNDIR/uevents}
	: >"$UDEV_EVENTS_FILE"
	vm_bg stdbuf -oL udevadm monitor --kernel --property --subsystem-match=nvme \
		>"$UDEV_EVENTS_FILE"
	# Ready once it printed its header.
	wait_until 10 grep -q 'monitor will print' "$UDEV_EVENTS_FILE" ||
		bail "udevadm monitor did not start"
}

# udev_rule_record_start [FILE]: a udev rule (needs udevd) that writes every
# nvme uevent udev processes into FILE, in the same format. Sets
# UDEV_EVENTS_FILE.
udev_rule_record_start() {
	UDEV_EVENTS_FILE=${1:-$STAS_VM_RUNDIR/udev-events}
	: >"$UDEV_EVENTS_FILE"
	local rec=$STAS_VM_RUNDIR/udev-record
	# udev runs RUN programs with the event's properties in the environment.
	{
		echo '#!/bin/sh'
		echo 'ev='
		echo 'for k in ACTION DEVPATH SUBSYSTEM NVME_AEN NVME_EVENT NVME_TRTYPE NVME_TRADDR NVME_TRSVCID NVME_HOST_TRADDR NVME_HOST_IFACE; do'
		echo '	eval "v=\${$k-}"'
		echo '	[ -z "$v" ] || ev="$ev$k=$v'
		echo '"'
		echo 'done'
		printf 'printf "%%s\\n" "$ev" >>%q\n' "$UDEV_EVENTS_FILE"
	} >"$rec"
	chmod +x "$rec"
	mkdir -p /etc/udev/rules.d
	printf 'SUBSYSTEM=="nvme", KERNEL=="nvme[0-9]*", RUN+="%s"\n' "$rec" \
		>/etc/udev/rules.d/99-stas-vm-record.rules
	udevadm control --reload
	vm_on_exit rm -f /etc/udev/rules.d/99-stas-vm-record.rules
}

_udev_event_seen() {
	local file=$1
	shift
	awk -v want="$*" 'BEGIN { RS = ""; n = split(want, w, " ") }
		{
			for (i = 1; i <= n; i++) {
				if (index("\n" $0 "\n", "\n" w[i] "\n") == 0) next
			}
			found = 1; exit
		}
		END { exit !found }' "$file"
}

# wait_for_udev_event TIMEOUT KEY=VALUE...: wait until an event carrying all
# the given properties shows up in $UDEV_EVENTS_FILE.
wait_for_udev_event() {
	local timeout=$1
	shift
	[ -n "${UDEV_EVENTS_FILE:-}" ] || bail "wait_for_udev_event: call udev_monitor_start first"
	wait_until "$timeout" _udev_event_seen "$UDEV_EVENTS_FILE" "$@"
}

# --- Networks inside the VM --------------------------------------------------------
# netns_add NAME: a network namespace with lo up (removed at exit).
netns_add() {
	ip netns add "$1"
	vm_on_exit ip netns del "$1"
	ip -n "$1" link set lo up
}
netns_exec() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# dummy_add NAME [ADDR/PREFIX...]: a dummy interface, multicast on, up.
dummy_add() {
	local name=$1 a
	shift
	ip link add "$name" type dummy
	vm_on_exit ip link del "$name"
	ip link set "$name" multicast on
	for a in "$@"; do
		ip addr add "$a" dev "$name"
	done
	ip link set "$name" up
}

# veth_add NAME PEER [PEER_NETNS]: a veth pair, both ends up, PEER optionally
# moved into a namespace. Give addresses with `ip addr add` / netns_exec.
veth_add() {
	local name=$1 peer=$2 ns=${3:-}
	ip link add "$name" type veth peer name "$peer"
	vm_on_exit ip link del "$name"
	ip link set "$name" multicast on up
	if [ -n "$ns" ]; then
		ip link set "$peer" netns "$ns"
		ip -n "$ns" link set "$peer" multicast on up
	else
		ip link set "$peer" multicast on up
	fi
}

link_del() { ip link del "$1"; }

# vm_units_no_lsan: for an AddressSanitizer build (make check's) installed in
# the guest, turn LeakSanitizer off inside every installed stas unit: its
# exit-time leak check needs ptrace, which the units' SystemCallFilter denies
# (and must keep denying). Leak checking runs everywhere else (unit tests,
# fast-mode VM tests). Covers every stas*.service installed, so a new unit
# cannot be forgotten; reloads systemd.
vm_units_no_lsan() {
	local f u n=0
	ldd /usr/libexec/stas/stas-discover 2>/dev/null | grep -q libasan || return 0
	for f in /lib/systemd/system/stas*.service /usr/lib/systemd/system/stas*.service; do
		[ -e "$f" ] || continue
		u=${f##*/}
		mkdir -p "/etc/systemd/system/$u.d"
		printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' >"/etc/systemd/system/$u.d/asan.conf"
		n=$((n + 1))
	done
	systemctl daemon-reload 2>/dev/null || true
	# stas's udev rule runs stasadm (registry remove) inside udevd's sandbox:
	# the same, through the event's environment.
	mkdir -p /etc/udev/rules.d
	printf 'SUBSYSTEM=="nvme", ENV{ASAN_OPTIONS}="detect_leaks=0"\n' \
		>/etc/udev/rules.d/00-stas-vm-asan.rules
	udevadm control --reload 2>/dev/null || true
	diag "ASan build: leak detection off inside the $n stas units"
}
