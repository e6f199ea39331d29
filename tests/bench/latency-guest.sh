#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Guest half of tests/bench/latency (run it through that wrapper), system
# mode: one orchestrator per boot, chosen by STAS_BENCH_LATENCY_MODE:
#   stas      stas installed (--install-dir), the DC in /etc/stas/stas.conf,
#             stas.target started; nvme-cli's rule shadowed by stas
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
stas)
	[ -x /usr/libexec/stas/stas-discover ] || skip_all "stas is not installed in the guest"
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
	else
		bench "event$i-ms lost"
		bench "event$i-kernel-ms -"
		ok "$MODE: subsystem $i not live after $LOST_S s (lost)"
	fi
done
bench delivered "$delivered/$N"
if [ "$MODE" = stas ]; then
	journalctl -b -o short-monotonic -u 'stas-discover@*' -u 'stas-connect@*' --no-pager 2>/dev/null |
		tail -40 | sed 's/^/# journal: /'
fi
