#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Guest half of tests/bench/latency (run it through that wrapper), system
# mode: one orchestrator per boot, chosen by STAS_BENCH_LATENCY_MODE:
#   stas      stas installed (--install-dir), the DC in /etc/stas/stas.conf,
#             stas.target started; nvme-cli's rule shadowed by stas
#   stas-bare the same with the sandbox of stas-discover@ and stas-connect@
#             taken off (a runtime drop-in: no mount namespace, no seccomp,
#             no device policy; capabilities kept): what the sandbox item 7
#             asks for costs on the event path. A measurement, not a setup
#             anyone should run.
#   nvme-cli  nothing installed: Debian 12's 70-nvmf-autoconnect.rules and
#             nvmf-connect@ units, the DC connected with
#             `nvme connect-all --persistent`
#   nvme-stas nvme-stas 2.4.1's stafd + stacd ($STAS_PEER_DIR), the DC in
#             stafd.conf; nvme-cli's rule masked (one orchestrator)
# One base subsystem, then N (default 5) subsystems linked to the DC's port
# one at a time: for each, the time from the link to its I/O controller live
# on the host (given up after 30 s: "lost"), and the kernel's own connect
# time inside it (nvmf_dev_write(), ftrace function_graph). The next link
# waits until the previous event's work is over (2 s after live). Prints
# "BENCH key value" lines.
# stas only: where each event's time goes (event<i>-steps: ms after the link
# of the kernel's uevent on the DC, udev done with it, systemd starting
# stas-discover@, its page read, its connect logged, live), from
# `udevadm monitor` and the journal; then (STAS_BENCH_LATENCY_SANDBOX=1; off
# by default: ~80 unit starts, noise on a loaded host) what systemd's start of a unit costs with stas's [Service]
# sandbox, without it, and without each directive (systemd-run --wait
# /bin/true, median of 3), and what udev's RUN pays for systemctl and for
# stas-trigger (the rule's program).
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode"
MODE=${STAS_BENCH_LATENCY_MODE:-stas}
N=${STAS_BENCH_LATENCY_N:-5}
LOST_S=${STAS_BENCH_LATENCY_TIMEOUT:-30}
V=nqn.2026-11.io.stas.latency
bench() { printf 'BENCH %s\n' "$*"; }
now_ms() { echo $((${EPOCHREALTIME/[.,]/} / 1000)); }
# live NQN: a live controller of NQN (builtins only: no fork per poll)
live() {
	local c v s
	for c in /sys/class/nvme/nvme*; do
		{ read -r v <"$c/subsysnqn" && read -r s <"$c/state"; } 2>/dev/null || continue
		[ "$v" = "$1" ] && [ "$s" = live ] && return 0
	done
	return 1
}
# wait_live NQN SECS: poll every 20 ms (a read timeout on a pipe nobody
# writes: a sleep without a fork)
exec {pause_fd}<> <(:)
wait_live() {
	local end=$(($(now_ms) + $2 * 1000))
	while [ "$(now_ms)" -lt "$end" ]; do
		live "$1" && return 0
		read -rt 0.02 -u "$pause_fd" || true
	done
	return 1
}

T=/sys/kernel/tracing
[ -d "$T/events" ] || mount -t tracefs nodev "$T" 2>/dev/null || T=/sys/kernel/debug/tracing
ktrace=0
if [ -w "$T/set_ftrace_filter" ] && echo nvmf_dev_write >"$T/set_ftrace_filter" 2>/dev/null &&
	echo function_graph >"$T/current_tracer" 2>/dev/null; then
	echo 1 >"$T/options/funcgraph-tail" 2>/dev/null || true
	echo 1 >"$T/tracing_on"
	ktrace=1
fi
ktrace_clear() { [ "$ktrace" = 0 ] || : >"$T/trace"; }
ktrace_ms() {
	[ "$ktrace" = 1 ] || {
		echo n/a
		return
	}
	awk '/nvmf_dev_write/ && match($0, /[0-9]+(\.[0-9]+)? us/) {
		s += substr($0, RSTART, RLENGTH - 3) } END { printf "%.0f\n", s / 1000 }' "$T/trace"
}

nvmet_port_add 1 127.0.0.1 8009
nvmet_subsys_add "$V:base"
nvmet_link 1 "$V:base"
vm_on_exit nvme disconnect-all

case $MODE in
stas | stas-bare)
	[ -x /usr/libexec/stas/stas-discover ] || skip_all "stas is not installed in the guest"
	if [ "$MODE" = stas-bare ]; then
		for u in stas-discover@ stas-connect@; do
			mkdir -p "/run/systemd/system/$u.service.d"
			printf '%s\n' '[Service]' ProtectSystem=no ProtectHome=no PrivateTmp=no \
				ProtectKernelModules=no ProtectKernelLogs=no ProtectControlGroups=no \
				ProtectClock=no ProtectHostname=no RestrictNamespaces=no RestrictRealtime=no \
				RestrictSUIDSGID=no LockPersonality=no MemoryDenyWriteExecute=no \
				SystemCallArchitectures= SystemCallFilter= RestrictAddressFamilies= \
				DevicePolicy=auto DeviceAllow= >"/run/systemd/system/$u.service.d/bare.conf"
		done
	fi
	mkdir -p /etc/stas
	printf 'discovery: { controllers = ( { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = 8009; } ); };\n' \
		>/etc/stas/stas.conf
	if ldd /usr/libexec/stas/stas-discover | grep -q libasan; then
		diag "warning: an AddressSanitizer build; figures are inflated"
		vm_units_no_lsan
	fi
	udevadm control --reload
	systemctl daemon-reload
	systemctl start stas.target || true
	;;
nvme-cli)
	[ ! -e /usr/libexec/stas/stas-discover ] || skip_all "stas is installed: not nvme-cli's run"
	rm -f /run/udev/rules.d/70-nvmf-autoconnect.rules /etc/udev/rules.d/70-nvmf-autoconnect.rules
	udevadm control --reload
	nvme connect-all -t tcp -a 127.0.0.1 -s 8009 --persistent >/dev/null 2>&1 || true
	;;
nvme-stas)
	P=${STAS_PEER_DIR:-}
	[ -n "$P" ] && [ -x "$P/usr/sbin/stafd" ] || skip_all "no nvme-stas (STAS_PEER_DIR)"
	mkdir -p /etc/udev/rules.d
	ln -sf /dev/null /etc/udev/rules.d/70-nvmf-autoconnect.rules
	udevadm control --reload
	export PYTHONPATH=$P/usr/lib/python3/dist-packages
	cp "$P"/usr/share/dbus-1/system.d/*.conf /etc/dbus-1/system.d/
	systemctl reload dbus.service || busctl call org.freedesktop.DBus / org.freedesktop.DBus ReloadConfig
	mkdir -p /etc/stas
	printf '[Host]\nnqn=file:///etc/nvme/hostnqn\nid=file:///etc/nvme/hostid\n' >/etc/stas/sys.conf
	printf '[Service Discovery]\nzeroconf=disabled\n[Discovery controller connection management]\npersistent-connections=true\n[Controllers]\ncontroller=transport=tcp;traddr=127.0.0.1;trsvcid=8009\n' \
		>"$STAS_VM_RUNDIR/stafd.conf"
	printf '[Global]\n' >"$STAS_VM_RUNDIR/stacd.conf"
	for d in stafd stacd; do
		/usr/bin/python3 "$P/usr/sbin/$d" -f "$STAS_VM_RUNDIR/$d.conf" >"$STAS_VM_RUNDIR/$d.log" 2>&1 &
		vm_on_exit kill $!
	done
	;;
*) bail "unknown STAS_BENCH_LATENCY_MODE $MODE" ;;
esac

bench mode "$MODE"
if wait_live "$V:base" 180; then
	ok "$MODE: the base subsystem is live"
else
	fail "$MODE: the base subsystem is live"
	[ "$MODE" != nvme-stas ] || tail -20 "$STAS_VM_RUNDIR/stafd.log" "$STAS_VM_RUNDIR/stacd.log" | sed 's/^/#   /'
fi
dc=$(find_ctrl "$NVME_DISC_NQN" 127.0.0.1 8009) || diag "no persistent DC"
diag "persistent DC: ${dc:-none} (kato $(ctrl_attr "${dc:-x}" kato 2>/dev/null || echo ?))"
udevadm settle --timeout=30 || true
vm_sleep 3

# stas: the DC's uevents (udevadm monitor, monotonic seconds) and the
# journal's realtime - monotonic offset, to put every step on one clock.
if [ "${MODE%-bare}" = stas ] && [ -n "${dc:-}" ]; then
	udevadm monitor --kernel --udev --subsystem-match=nvme >"$STAS_VM_RUNDIR/uevents" 2>&1 &
	vm_on_exit kill $!
	vm_sleep 1
fi
# mono_off_us: realtime - monotonic, from the journal's own record of both
mono_off_us() {
	journalctl -b -n 1 -o json --output-fields=__REALTIME_TIMESTAMP 2>/dev/null |
		jq -r '(.__REALTIME_TIMESTAMP | tonumber) - (.__MONOTONIC_TIMESTAMP | tonumber)'
}
# steps T0_MS I LIVE_MS: the stas event's steps as ms after T0_MS (realtime)
steps() {
	local t0=$1 i=$2 off
	off=$(mono_off_us)
	# journal lines since the link: realtime µs, identifier, message
	journalctl -b -o json --since "@$((t0 / 1000 - 1))" \
		--output-fields=MESSAGE,SYSLOG_IDENTIFIER 2>/dev/null |
		jq -r '[.__REALTIME_TIMESTAMP, (.SYSLOG_IDENTIFIER // ""), (.MESSAGE | tostring)] | @tsv' >"$STAS_VM_RUNDIR/j$i"
	# udevadm monitor: "KERNEL[mono.s] change /devices/.../nvme0 (nvme)", first
	# change of the DC after the link (the AEN), and udev's "UDEV[...]" for it
	awk -v t0="$t0" -v off="$off" -v dc="$dc" -v nqn="$V:s$i" -v live="$3" '
		function ms(us) { return int(us / 1000 - t0) }
		function v(x) { return x == "" ? "n/a" : x }
		FNR == NR {
			# "KERNEL[12.34] change ..." but "UDEV  [12.34] change ..."
			sub(/ +\[/, "[")
			$0 = $0
			if ($2 != "change" || !index($3 " ", "/" dc " ")) next
			src = substr($1, 1, index($1, "[") - 1)
			t = substr($1, index($1, "[") + 1)
			sub(/\]$/, "", t)
			t = ms(t * 1000000 + off)
			if (t < 0) next
			if (src == "KERNEL" && k == "") k = t
			if (src == "UDEV" && u == "") u = t
			next
		}
		{
			# journal: realtime µs TAB identifier TAB message
			split($0, f, "\t")
			t = ms(f[1]); id = f[2]; m = f[3]
			if (t < 0) next
			if (id == "systemd" && st == "" && index(m, "Starting stas-discover@" dc ".")) st = t
			if (id == "stas-discover" && rd == "" && index(m, "entries, generation")) rd = t
			if (id == "stas-discover" && cn == "" && index(m, "connect (") && index(m, nqn)) cn = t
			if (id == "systemd" && fin == "" && st != "" && index(m, "Finished stas-discover@" dc ".")) fin = t
			if (id == "systemd" && index(m, "Starting stas-connect@")) units++
		}
		END { printf "uevent=%s udev-done=%s unit-starting=%s page-read=%s connect-logged=%s live=%s unit-done=%s connect-units=%d\n",
			v(k), v(u), v(st), v(rd), v(cn), live, v(fin), units }
	' "$STAS_VM_RUNDIR/uevents" "$STAS_VM_RUNDIR/j$i"
}

delivered=0
for i in $(seq 1 "$N"); do
	nvmet_subsys_add "$V:s$i"
	ktrace_clear
	t0=$(now_ms)
	nvmet_link 1 "$V:s$i"
	if wait_live "$V:s$i" "$LOST_S"; then
		t=$(($(now_ms) - t0))
		delivered=$((delivered + 1))
		bench "event$i-ms $t"
		bench "event$i-kernel-ms $(ktrace_ms)"
		ok "$MODE: subsystem $i live after $t ms"
		vm_sleep 2
		[ "${MODE%-bare}" != stas ] || [ -z "${dc:-}" ] || bench "event$i-steps $(steps "$t0" "$i" "$t")"
	else
		bench "event$i-ms lost"
		bench "event$i-kernel-ms -"
		ok "$MODE: subsystem $i not live after $LOST_S s (lost)"
	fi
done
bench delivered "$delivered/$N"

# What a unit start costs (stas only): systemd-run --wait of /bin/true, with
# stas-discover@'s [Service] settings, with none, and without each one.
run_ms() {
	local a b
	a=$(now_ms)
	systemd-run --wait --quiet --collect "$@" /bin/true >/dev/null 2>&1 || return 1
	b=$(now_ms)
	echo $((b - a))
}
med3() {
	local x y z
	x=$(run_ms "$@") && y=$(run_ms "$@") && z=$(run_ms "$@") || {
		echo fail
		return
	}
	printf '%s\n' "$x" "$y" "$z" | sort -n | sed -n 2p
}
if [ "$MODE" = stas ] && [ "${STAS_BENCH_LATENCY_SANDBOX:-0}" = 1 ]; then
	unit=$(systemctl show -p FragmentPath --value stas-discover@x.service)
	mapfile -t props < <(sed -n '/^\[Service\]/,$p' "$unit" | grep -E '^[A-Z][A-Za-z]+=' |
		grep -vE '^(Type|ExecStart|Restart|RestartSec|SuccessExitStatus|RestartPreventExitStatus)=')
	pargs=()
	for p in "${props[@]}"; do pargs+=(-p "$p"); done
	bench "unit-start-sandbox-ms $(med3 "${pargs[@]}")"
	bench "unit-start-bare-ms $(med3)"
	for d in $(printf '%s\n' "${props[@]}" | cut -d= -f1 | sort -u); do
		pargs=()
		for p in "${props[@]}"; do [ "${p%%=*}" = "$d" ] || pargs+=(-p "$p"); done
		bench "unit-start-without-$d-ms $(med3 "${pargs[@]}")"
	done
	printf '[Service]\nType=oneshot\nExecStart=/bin/true\n' >/run/systemd/system/stas-bench-nothing.service
	systemctl daemon-reload
	a=$(now_ms)
	for _ in 1 2 3; do systemctl --no-block restart stas-bench-nothing.service 2>/dev/null || true; done
	bench "systemctl-no-block-restart-ms $((($(now_ms) - a) / 3))"
	# what udev's RUN pays now: stas-trigger, the rule's program
	a=$(now_ms)
	for _ in 1 2 3; do /usr/libexec/stas/stas-trigger restart stas-bench-nothing.service 2>/dev/null || true; done
	bench "stas-trigger-restart-ms $((($(now_ms) - a) / 3))"
	# stas-discover's own time on an unchanged page, outside the sandbox
	if [ -n "${dc:-}" ]; then
		a=$(now_ms)
		/usr/libexec/stas/stas-discover --no-connect "$dc" >/dev/null 2>&1 || true
		bench "stas-discover-unchanged-page-ms $(($(now_ms) - a))"
	fi
fi
if [ "$MODE" = stas-bare ]; then
	bench "bare-protect-system $(systemctl show -P ProtectSystem stas-discover@x.service)"
	bench "bare-syscall-filter $(systemctl show -P SystemCallFilter stas-discover@x.service | wc -w)"
fi
if [ "${MODE%-bare}" = stas ]; then
	journalctl -b -o short-monotonic -u 'stas-discover@*' -u 'stas-connect@*' --no-pager 2>/dev/null |
		tail -40 | sed 's/^/# journal: /'
fi
