#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Guest half of tests/bench/mdns (system mode, stas installed; run it
# through that wrapper). Figures, no pass/fail, as "BENCH key value" lines:
#  - stas-mdns-watch: time from avahi-publish to the first I/O controller
#    live; VmRSS/VmHWM with 1 and with 50 advertised DCs; CPU time and
#    wakeups (context switches) over 60 s idle with 50 DCs;
#  - nvme-stas 2.4.1 (stafd + stacd, Debian 13's package run with Debian
#    12's Python modules) doing the same job in the same VM run, when
#    $STAS_PEER_DIR (the unpacked package) is given: the same time, and its
#    daemons' RSS.
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode"
[ -x /usr/libexec/stas/stas-mdns-watch ] || skip_all "stas is not installed in the guest"
N=${STAS_BENCH_DCS:-50}
IF=benchmd0
A=192.168.254.1
V=nqn.2026-11.io.stas.bench
bench() { printf 'BENCH %s %s\n' "$1" "$2"; }
now_ms() { echo $((${EPOCHREALTIME/[.,]/} / 1000)); }
live() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/subsysnqn" ] || continue
		[ "$(cat "$c/subsysnqn")" = "$1" ] && [ "$(cat "$c/state")" = live ] && return 0
	done
	return 1
}
n_live_io() {
	local c n=0
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/subsysnqn" ] || continue
		[[ $(cat "$c/subsysnqn") == "$V"* ]] && [ "$(cat "$c/state")" = live ] && n=$((n + 1))
	done
	echo "$n"
}
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
pss_kb() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ctxsw() { awk '$1 ~ /ctxt_switches/ { n += $2 } END { print n }' "/proc/$1/status"; }
disconnect_all() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/delete_controller" ] && echo 1 >"$c/delete_controller" 2>/dev/null || true
	done
	wait_until 30 sh -c '! ls /sys/class/nvme/ | grep -q nvme' || true
}

# Target: N discovery ports on the dummy interface, one subsystem each.
dummy_add "$IF" "$A/24"
vm_on_exit nvme disconnect-all
vm_on_exit systemctl stop stas-mdns-watch.service
for i in $(seq 1 "$N"); do
	nvmet_port_add "$i" "$A" $((8008 + i))
	nvmet_subsys_add "$V:$i"
	nvmet_link "$i" "$V:$i"
done
# Both orchestrators: IPv4 only, nothing on lo (avahi in this VM also
# announces on the loopback interface, which a real network would not).
mkdir -p /etc/stas
cat >/etc/stas/stas.conf <<'CONF'
global: { ip-family = "ipv4"; };
discovery: { exclude = ( { host-iface = "lo"; } ); };
CONF
if ldd /usr/libexec/stas/stas-mdns-watch | grep -q libasan; then
	diag "warning: an AddressSanitizer build; memory figures are inflated"
	for u in stas-discover@.service stas-connect@.service stas-mdns-watch.service; do
		mkdir -p "/etc/systemd/system/$u.d"
		printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' >"/etc/systemd/system/$u.d/asan.conf"
	done
fi
systemctl daemon-reload
systemctl is-active -q avahi-daemon || systemctl start avahi-daemon

# --- stas ---------------------------------------------------------------
systemctl start stas-mdns-watch.service
pid=$(systemctl show -p MainPID --value stas-mdns-watch.service)
bench stas-rss-start-kb "$(status_kb "$pid" VmRSS)"
t0=$(now_ms)
pubs=()
avahi-publish -s bench-dc-1 _nvme-disc._tcp 8009 p=tcp >/dev/null 2>&1 &
pubs+=($!)
vm_on_exit kill $!
if wait_until 120 live "$V:1"; then
	bench stas-publish-to-live-ms $(($(now_ms) - t0))
else
	fail "stas: the first DC's subsystem did not come up"
fi
vm_sleep 5
bench stas-rss-1dc-kb "$(status_kb "$pid" VmRSS)"
bench stas-hwm-1dc-kb "$(status_kb "$pid" VmHWM)"
bench stas-rssanon-1dc-kb "$(status_kb "$pid" RssAnon)"
bench stas-pss-1dc-kb "$(pss_kb "$pid")"
for i in $(seq 2 "$N"); do
	avahi-publish -s "bench-dc-$i" _nvme-disc._tcp $((8008 + i)) p=tcp >/dev/null 2>&1 &
	pubs+=($!)
	vm_on_exit kill $!
done
wait_until 600 sh -c "[ \$($(declare -f n_live_io); V=$V n_live_io) -ge $N ]" || true
bench stas-live-io-of-n "$(n_live_io)/$N"
vm_sleep 10
bench stas-rss-${N}dc-kb "$(status_kb "$pid" VmRSS)"
bench stas-hwm-${N}dc-kb "$(status_kb "$pid" VmHWM)"
bench stas-rssanon-${N}dc-kb "$(status_kb "$pid" RssAnon)"
bench stas-pss-${N}dc-kb "$(pss_kb "$pid")"
c0=$(cpu_ticks "$pid") w0=$(ctxsw "$pid")
vm_sleep 60
bench stas-idle60-cpu-ticks $(($(cpu_ticks "$pid") - c0))
bench stas-idle60-wakeups $(($(ctxsw "$pid") - w0))
systemctl stop stas-mdns-watch.service
kill "${pubs[@]}" 2>/dev/null || true
disconnect_all
rm -rf /var/cache/stas/*

# --- nvme-stas (stafd + stacd) -------------------------------------------
P=${STAS_PEER_DIR:-}
if [ -z "$P" ] || [ ! -x "$P/usr/sbin/stafd" ]; then
	diag "no nvme-stas (STAS_PEER_DIR): peer figures skipped"
	exit 0
fi
export PYTHONPATH=$P/usr/lib/python3/dist-packages
cp "$P"/usr/share/dbus-1/system.d/*.conf /etc/dbus-1/system.d/
systemctl reload dbus.service || busctl call org.freedesktop.DBus / org.freedesktop.DBus ReloadConfig
mkdir -p /etc/stas-peer
cat >/etc/stas-peer/sys.conf <<'CONF'
[Host]
nqn=file:///etc/nvme/hostnqn
id=file:///etc/nvme/hostid
CONF
cat >/etc/stas-peer/stafd.conf <<'CONF'
[Global]
ip-family=ipv4
[Service Discovery]
zeroconf=enabled
[Discovery controller connection management]
persistent-connections=true
[Controllers]
exclude=host-iface=lo
CONF
cat >/etc/stas-peer/stacd.conf <<'CONF'
[Global]
ip-family=ipv4
CONF
run_peer() { # NAME CONF
	/usr/bin/python3 "$P/usr/sbin/$1" -f "$2" >"$STAS_VM_RUNDIR/$1.log" 2>&1 &
	vm_on_exit kill $!
	echo $!
}
# nvme-stas reads its system config from /etc/stas/sys.conf; keep ours apart.
mv /etc/stas/stas.conf /etc/stas/stas.conf.bench
cp /etc/stas-peer/sys.conf /etc/stas/sys.conf
fpid=$(run_peer stafd /etc/stas-peer/stafd.conf)
cpid=$(run_peer stacd /etc/stas-peer/stacd.conf)
wait_until 60 busctl status org.nvmexpress.staf || diag "stafd not on the bus: $(tail -5 "$STAS_VM_RUNDIR/stafd.log")"
wait_until 60 busctl status org.nvmexpress.stac || diag "stacd not on the bus: $(tail -5 "$STAS_VM_RUNDIR/stacd.log")"
vm_sleep 3
t0=$(now_ms)
avahi-publish -s bench-peer-1 _nvme-disc._tcp 8009 p=tcp >/dev/null 2>&1 &
vm_on_exit kill $!
if wait_until 180 live "$V:1"; then
	bench nvme-stas-publish-to-live-ms $(($(now_ms) - t0))
else
	fail "nvme-stas: the first DC's subsystem did not come up"
	tail -20 "$STAS_VM_RUNDIR/stafd.log" "$STAS_VM_RUNDIR/stacd.log" | sed 's/^/#   /'
fi
vm_sleep 5
bench nvme-stas-stafd-rss-1dc-kb "$(status_kb "$fpid" VmRSS)"
bench nvme-stas-stacd-rss-1dc-kb "$(status_kb "$cpid" VmRSS)"
bench nvme-stas-stafd-pss-1dc-kb "$(pss_kb "$fpid")"
c0=$(cpu_ticks "$fpid") w0=$(ctxsw "$fpid")
vm_sleep 60
bench nvme-stas-stafd-idle60-cpu-ticks $(($(cpu_ticks "$fpid") - c0))
bench nvme-stas-stafd-idle60-wakeups $(($(ctxsw "$fpid") - w0))
