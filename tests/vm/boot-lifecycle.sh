#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# stas from first boot to shutdown, system mode, stas installed, one boot:
#  - nvme-cli's autoconnect rule is shadowed by stas's /run link alone (the
#    test bed's own /etc shadow is removed), and never fires;
#  - first boot: stas-hostnqn/stas-hostid create /etc/nvme/hostnqn and hostid
#    with libnvme's derivation (oracle: `nvme gen-hostnqn`, libnvme 1.3, on a
#    faked raw SMBIOS entry and on a faked product_uuid), and stas connects
#    with that identity; an existing identity is kept;
#  - the boot path (stas.target): ordering, modules, both DCs' subsystems;
#  - events: an AEN connects a new subsystem; an I/O controller deleted by
#    hand is reconnected through the remove rule;
#  - `systemctl reload stas.target` with a DC added and another removed: their
#    subsystems follow;
#  - `systemctl poweroff` with 10 live stas I/O controllers, an ext4 mounted
#    (_netdev) on one of them and a manually connected controller: a unit
#    ordered after stas's teardown (this script, --observe) checks that stas's
#    controllers are gone, the manual one is not, the file system was
#    unmounted first, nothing of stas restarted, and writes the status.
# Run: make install DESTDIR=D && tests/vm/run --system --install-dir D tests/vm/boot-lifecycle.sh
set -euo pipefail

OBSERVE_ENV=/run/stas-vm-observe.env

# --- The shutdown observer (ExecStop of stas-vm-observe.service) -------------
# Runs late in the shutdown, after stas-shutdown.service stopped; prints TAP
# on the console and writes the scenario's status into the results share.
observe() {
	local n=0 failed=0 c nqn state left='' stas_left='' manual='' j now t_req
	set +e +o pipefail # every check reports; none ends the observer
	tap() {
		n=$((n + 1))
		if [ "$1" = 0 ]; then echo "ok $n - $2"; else
			echo "not ok $n - $2"
			failed=1
		fi
	}
	# shellcheck source=/dev/null
	. "$OBSERVE_ENV"
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/subsysnqn" ] || continue
		nqn=$(cat "$c/subsysnqn") state=$(cat "$c/state")
		left+=" ${c##*/}($nqn,$state)"
		case $nqn in
		"$MANUAL") [ "$state" != live ] || manual=${c##*/} ;;
		"$V":* | "$DISC") stas_left+=" ${c##*/}" ;;
		esac
	done
	echo "# shutdown: controllers left after stas-shutdown.service:${left:- none}"
	[ -z "$stas_left" ]
	tap $? "shutdown: stas's controllers (I/O and persistent DCs) are disconnected${stas_left:+ (left:$stas_left)}"
	[ -n "$manual" ]
	tap $? "shutdown: the manually connected controller is untouched (${manual:-gone})"
	j=$(journalctl -b -o short-monotonic --no-pager 2>/dev/null)
	local l_umount l_disc l_req l_start
	l_req=$(grep -nE 'stas-vm-test(\[[0-9]+\])?: poweroff requested' <<<"$j" | head -1 | cut -d: -f1)
	l_umount=$(grep -nE 'Unmounted (mnt-stasvol\.mount|/mnt/stasvol)' <<<"$j" | head -1 | cut -d: -f1)
	l_disc=$(grep -n 'stas-connect\[[0-9]*\]: Disconnected nvme' <<<"$j" | head -1 | cut -d: -f1)
	[ -n "$l_umount" ] && [ -n "$l_disc" ] && [ "$l_umount" -lt "$l_disc" ]
	tap $? "shutdown: the _netdev file system was unmounted before stas disconnected (journal lines ${l_umount:-?} < ${l_disc:-?})"
	l_start=$(tail -n +"${l_req:-1}" <<<"$j" | grep -c 'Starting stas: connect' || true)
	[ -n "$l_req" ] && [ "$l_start" = 0 ]
	tap $? "shutdown: no stas-connect@ unit started after the poweroff request ($l_start)"
	tail -n +"${l_req:-1}" <<<"$j" | grep -E 'stas-vm-test|stasvol|stas-connect\[|stas-shutdown|remote-fs' | cut -c1-200 | sed 's/^/# /'
	tail -n +"${l_req:-1}" <<<"$j" | grep -E "(systemctl --no-block|stas-trigger) restart stas-connect@|stas-connect@.*(destructive|refus)" |
		head -4 | cut -c1-200 | sed 's/^/# refused restart: /' || true
	read -r now _ </proc/uptime
	t_req=$(cat /run/stas-vm-poweroff-at 2>/dev/null || echo 0)
	local t_stop t_down
	t_stop=$(systemctl show -P ActiveExitTimestampMonotonic stas-shutdown.service)
	t_down=$(systemctl show -P InactiveEnterTimestampMonotonic stas-shutdown.service)
	echo "# shutdown: stas-shutdown.service's teardown took $(awk -v a="$t_stop" -v b="$t_down" 'BEGIN { printf "%.2f", (b - a) / 1e6 }') s; the observer ran $(awk -v a="$t_req" -v b="$now" 'BEGIN { printf "%.2f", b - a }') s after the poweroff request"
	if [ "$failed" != 0 ]; then
		printf '%s\n' "$j" >/stas-vm/journal.txt
	fi
	echo "$failed" >/stas-vm/status.tmp && mv /stas-vm/status.tmp /stas-vm/status
	sync
}
if [ "${1:-}" = --observe ]; then
	observe
	exit 0
fi

. "$(dirname "$0")/lib.sh"

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode (tests/vm/run --system)"
[ -x /usr/libexec/stas/stas-connect ] || skip_all "stas is not installed in the guest (--install-dir)"
STASADM=/usr/sbin/stasadm
CONNECT=/usr/libexec/stas/stas-connect
V=nqn.2026-12.io.stas.boot
MANUAL=nqn.2026-12.io.stas.manual:m
DISC=$NVME_DISC_NQN
units=/lib/systemd/system
[ -e $units/stas.target ] || units=/usr/lib/systemd/system

# An AddressSanitizer build (make check's) inside the units: LSan's exit-time
# leak check needs ptrace, which the sandbox denies (see e2e-system.sh).
vm_units_no_lsan

# --- Units and rules as installed ---------------------------------------------
out=$(systemd-analyze verify --man=no $units/stas*.service $units/stas.target 2>&1 || true)
[ -z "$out" ]
ok_rc=$?
if [ "$ok_rc" = 0 ]; then ok "systemd-analyze verify: every stas unit is clean"; else
	fail "systemd-analyze verify: every stas unit is clean"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi
# The test bed shadows nvme-cli's rule from /etc; stas's own shadow must do.
rm -f /etc/udev/rules.d/70-nvmf-autoconnect.rules
check "nvme-cli's 70-nvmf-autoconnect.rules is installed (the shadow matters)" \
	sh -c 'test -e /usr/lib/udev/rules.d/70-nvmf-autoconnect.rules || test -e /lib/udev/rules.d/70-nvmf-autoconnect.rules'
check "stas's tmpfiles shadow it from /run/udev/rules.d" \
	test "$(readlink /run/udev/rules.d/70-nvmf-autoconnect.rules)" = /dev/null
udevadm control --reload
systemctl daemon-reload

# --- Host identity: libnvme's derivation ----------------------------------------
# The VM's SMBIOS UUID is all zeros: libnvme 1.3 (Debian 12's nvme-cli) makes
# ...:uuid:00000000-... of it; stas, like libnvme >= 1.4, does not.
h0=$("$STASADM" hostnqn generate -f "$STAS_VM_RUNDIR/hostnqn0" 2>&1 || true)
diag "VM as it is: nvme gen-hostnqn says $(nvme gen-hostnqn 2>&1), stas $h0"
check "stas does not take the VM's all-zero SMBIOS UUID" \
	sh -c "[ -n '$h0' ] && [ '${h0##*:uuid:}' != 00000000-0000-0000-0000-000000000000 ]"

# A raw SMBIOS type-1 entry with a real UUID (first three fields little-endian).
ent=/sys/firmware/dmi/entries
mount -t tmpfs -o size=1m stas-dmi "$ent"
mkdir "$ent/1-0"
echo 1 >"$ent/1-0/type"
printf '\001\033\001\000\001\002\003\004\104\105\114\114\102\000\020\065\200\122\264\300\117\116\113\062\006\005\006\000' >"$ent/1-0/raw"
rm -f /etc/nvme/hostnqn /etc/nvme/hostid
want=$(nvme gen-hostnqn)
systemctl start stas-hostnqn.service stas-hostid.service || true
check "raw SMBIOS entry: stas-hostnqn.service wrote what nvme gen-hostnqn gives ($want)" \
	test "$(cat /etc/nvme/hostnqn 2>&1)" = "$want"
check "raw SMBIOS entry: the UUID is byte-swapped as libnvme does" \
	test "$want" = nqn.2014-08.org.nvmexpress:uuid:4c4c4544-0042-3510-8052-b4c04f4e4b32
check "raw SMBIOS entry: stas-hostid.service wrote the host NQN's UUID" \
	test "$(cat /etc/nvme/hostid 2>&1)" = 4c4c4544-0042-3510-8052-b4c04f4e4b32
umount "$ent"

# An existing identity is never replaced.
systemctl start stas-hostnqn.service || true
check "an existing host NQN is kept" test "$(cat /etc/nvme/hostnqn)" = "$want"

# The DMI product_uuid attribute, as the kernel shows it.
dmi=$(readlink -f /sys/class/dmi/id)
mount -t tmpfs -o size=1m stas-dmi-id "$dmi"
echo 5f1e7a52-2f6b-4d0e-9c1a-3b7e2a9d4c61 >"$dmi/product_uuid"
rm -f /etc/nvme/hostnqn
: >/etc/nvme/hostid # empty counts as missing
want=$(nvme gen-hostnqn)
vm_on_exit umount "$dmi"

# --- The fabric ------------------------------------------------------------------
# port 1 (DC1, configured): s1..s6; port 3 (DC3, configured, removed by the
# reload): s7; port 2 (DC2, added by the reload): s8..s10; an AEN adds s11
# on port 1; port 5: a subsystem no DC lists, connected by hand.
nvmet_port_add 1 127.0.0.1 8009
nvmet_port_add 2 127.0.0.1 8010
nvmet_port_add 3 127.0.0.1 8011
nvmet_port_add 5 127.0.0.1 4421
nvmet_subsys_add "$V:s1" 1 0
nvmet_ns_add "$V:s1" 1 32M
nvmet_link 1 "$V:s1"
for i in 2 3 4 5 6; do nvmet_subsys_add "$V:s$i" && nvmet_link 1 "$V:s$i"; done
nvmet_subsys_add "$V:s7" && nvmet_link 3 "$V:s7"
for i in 8 9 10; do nvmet_subsys_add "$V:s$i" && nvmet_link 2 "$V:s$i"; done
nvmet_subsys_add "$MANUAL" && nvmet_link 5 "$MANUAL"
mkdir -p /etc/stas
conf() { # the configured DCs' ports
	{
		echo 'discovery: { controllers = ('
		local sep=''
		for p in "$@"; do
			printf '%s { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = %s; }\n' "$sep" "$p"
			sep=,
		done
		echo '); };'
	} >/etc/stas/stas.conf
}
conf 8009 8011
check "config is valid" "$STASADM" config check

all_live() { local q; for q in "$@"; do has_live "$q" || return 1; done; }
gone() { ! grep -qxF "$1" /sys/class/nvme/nvme*/subsysnqn 2>/dev/null; }
S() { local i; for i in "$@"; do echo "$V:s$i"; done; }

# --- First boot: identity, then the boot path ----------------------------------
t0=$(date +%s)
systemctl start stas.target || true
if wait_until 120 all_live $(S 1 2 3 4 5 6 7); then
	ok "boot: both configured DCs' subsystems (7) are connected ($(($(date +%s) - t0)) s)"
else
	fail "boot: both configured DCs' subsystems are connected"
fi
check "first boot: stas-hostnqn.service wrote what nvme gen-hostnqn gives ($want)" \
	test "$(cat /etc/nvme/hostnqn 2>&1)" = "$want"
check "first boot: the empty /etc/nvme/hostid was filled" \
	test "$(cat /etc/nvme/hostid 2>&1)" = 5f1e7a52-2f6b-4d0e-9c1a-3b7e2a9d4c61
c1=$(find_ctrl "$V:s1") || bail "no controller of $V:s1"
check "stas connected with that host NQN" test "$(cat /sys/class/nvme/$c1/hostnqn)" = "$want"
check "stas-discover-all.service is active" systemctl is-active stas-discover-all.service
check "stas-shutdown.service is active (waiting for the shutdown)" systemctl is-active stas-shutdown.service
check "modprobe@nvme_fabrics.service ran" \
	sh -c '[ "$(systemctl show -P ExecMainExitTimestampMonotonic modprobe@nvme_fabrics.service)" -gt 0 ]'
before=$(systemctl show -P Before stas-discover-all.service)
after=$(systemctl show -P After stas-discover-all.service)
check "boot path: before remote-fs-pre.target" grep -qw remote-fs-pre.target <<<"$before"
check "boot path: after network-online.target, the modules and the identity" \
	sh -c "for u in network-online.target modprobe@nvme_fabrics.service modprobe@nvme_tcp.service stas-hostnqn.service stas-hostid.service; do echo '$after' | grep -qw \"\$u\" || exit 1; done"
check "boot path: stas-connect --all (from the cache) runs before stas-discover --all" \
	sh -c "systemctl show -P ExecStart stas-discover-all.service | tr ';' '\n' | grep -o 'stas-[a-z]* --all' | tr '\n' ' ' | grep -q '^stas-connect --all stas-discover --all'"
dc1=$(find_ctrl "$DISC" 127.0.0.1 8009) || bail "no persistent DC on 8009"
udevadm settle --timeout=30 || true
check "udev recorded the subsystem NQN and type of $c1 for its remove event" \
	sh -c "udevadm info /dev/$c1 | grep -qxF 'E: STAS_SUBSYSNQN=$V:s1' && udevadm info /dev/$c1 | grep -qxF 'E: STAS_CNTRLTYPE=io'"

# --- Events -----------------------------------------------------------------------
t0=$(date +%s)
nvmet_subsys_add "$V:s11"
nvmet_link 1 "$V:s11"
if wait_until 90 has_live "$V:s11"; then
	ok "AEN: the new subsystem is connected by stas's rule ($(($(date +%s) - t0)) s)"
else
	fail "AEN: the new subsystem is connected"
fi

c2=$(find_ctrl "$V:s2") || bail "no controller of $V:s2"
t0=$(date +%s)
nvme disconnect -d "$c2" >/dev/null
if wait_until 90 has_live "$V:s2"; then
	ok "remove: an I/O controller deleted by hand is reconnected by stas-connect@ ($(($(date +%s) - t0)) s)"
else
	fail "remove: an I/O controller deleted by hand is reconnected"
fi

nvme connect -t tcp -a 127.0.0.1 -s 4421 -n "$MANUAL" >/dev/null
wait_until 30 has_live "$MANUAL" || fail "the manual controller is live"
plan=$STAS_VM_RUNDIR/shutdown-plan
"$CONNECT" --shutdown --dry-run >"$plan" 2>&1 || true
diag "stas-connect --shutdown --dry-run:"
sed 's/^/#   /' "$plan"
check "--shutdown --dry-run: stas's 8 I/O controllers and 2 DCs, not the manual one" \
	sh -c "[ \$(grep -c '^disconnect nvme' '$plan') = 10 ] && ! grep -qF '$MANUAL' '$plan'"

# --- Reload: DC3 out, DC2 in ------------------------------------------------------
conf 8009 8010
t0=$(date +%s)
check "systemctl reload stas.target" systemctl reload stas.target
diag "right after systemctl reload returned: s8-s10 live $(live_io "$V:s8")$(live_io "$V:s9")$(live_io "$V:s10"), s7 $(live_io "$V:s7")"
if wait_until 30 all_live $(S 8 9 10) && wait_until 30 gone "$V:s7"; then
	ok "reload: the added DC's subsystems are connected, the removed DC's disconnected ($(($(date +%s) - t0)) s)"
else
	fail "reload: the subsystems follow the DCs (s8-s10 live: $(live_io "$V:s8")$(live_io "$V:s9")$(live_io "$V:s10"), s7: $(live_io "$V:s7"))"
fi
check "reload: the removed DC's persistent connection is gone" \
	sh -c "! grep -q 'trsvcid=8011' /sys/class/nvme/nvme*/address"
check "reload: the others stay" all_live $(S 1 2 3 4 5 6 11)
# A configuration with errors: the reload is refused and changes nothing.
cp /etc/stas/stas.conf "$STAS_VM_RUNDIR/good.conf"
printf 'discovery: { controllers = ( { transport = "tcp"; traddr = 1; } ); };\n' >/etc/stas/stas.conf
check "reload with a broken configuration: systemctl reload stas-discover-all.service fails" \
	sh -c '! systemctl reload stas-discover-all.service'
check "reload with a broken configuration: nothing changed, the unit stays active" \
	bash -c "systemctl is-active -q stas-discover-all.service && $(declare -f live_io has_live all_live); all_live $(S 1 2 3 4 5 6 8 9 10 11 | xargs)"
cp "$STAS_VM_RUNDIR/good.conf" /etc/stas/stas.conf

# --- One orchestrator ----------------------------------------------------------------
failed=$(systemctl list-units --failed --plain --no-legend 'stas*' | awk '{print $1}' | xargs)
check "no stas unit failed${failed:+ ($failed)}" test -z "$failed"
check "nvme-cli's nvmf-connect@ units never ran" \
	sh -c "! journalctl -b --no-pager | grep -q 'nvmf-connect@'"

# --- Shutdown ------------------------------------------------------------------------
n_stas=0
for i in 1 2 3 4 5 6 8 9 10 11; do n_stas=$((n_stas + $(live_io "$V:s$i"))); done
diag "live stas I/O controllers before the poweroff: $n_stas"
blk=''
for d in /sys/class/nvme-subsystem/*/; do
	[ "$(cat "$d/subsysnqn" 2>/dev/null)" = "$V:s1" ] || continue
	for b in "$d"nvme*n*; do [ -e "$b" ] && blk=${b##*/} && break; done
done
[ -n "$blk" ] || for b in /sys/class/nvme/"$c1"/nvme*n*; do [ -e "$b" ] && blk=${b##*/} && break; done
[ -n "$blk" ] || bail "no block device of $V:s1"
mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=1 "/dev/$blk" >/dev/null 2>&1 || bail "mkfs.ext4 /dev/$blk failed"
cat >/etc/systemd/system/mnt-stasvol.mount <<EOF
[Mount]
What=/dev/$blk
Where=/mnt/stasvol
Type=ext4
Options=_netdev,noinit_itable
EOF
# The results share is 9p, which systemd unmounts with the remote file
# systems; keep it until the observer has written the status.
mkdir -p '/etc/systemd/system/stas\x2dvm.mount.d'
printf '[Unit]\nDefaultDependencies=no\nConflicts=umount.target\nBefore=umount.target\n' \
	>'/etc/systemd/system/stas\x2dvm.mount.d/keep.conf'
cat >/etc/systemd/system/stas-vm-observe.service <<EOF
[Unit]
Description=stas VM test: after stas's shutdown teardown
Before=stas-shutdown.service
RequiresMountsFor=/stas-vm

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/bin/bash $(realpath "$0") --observe
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
TimeoutStopSec=180
EOF
printf 'V=%q\nMANUAL=%q\nDISC=%q\n' "$V" "$MANUAL" "$DISC" >"$OBSERVE_ENV"
systemctl daemon-reload
systemctl start mnt-stasvol.mount stas-vm-observe.service || true
check "ext4 on $blk ($V:s1) is mounted as a remote file system" \
	sh -c "mountpoint -q /mnt/stasvol && systemctl show -P After mnt-stasvol.mount | grep -qw remote-fs-pre.target"
echo "written before the poweroff" >/mnt/stasvol/file
check "the observer is ordered after stas's teardown" \
	sh -c "systemctl show -P Before stas-vm-observe.service | grep -qw stas-shutdown.service"

if [ "$_vm_failed" -gt 0 ]; then
	diag "not powering off: earlier checks failed"
	exit 1
fi
diag "systemctl poweroff with $n_stas stas I/O controllers, 2 stas DCs, /mnt/stasvol mounted, $MANUAL connected by hand"
read -r up _ </proc/uptime
echo "$up" >/run/stas-vm-poweroff-at
logger -t stas-vm-test "poweroff requested"
systemctl --no-block poweroff
# The observer writes the status; this unit is stopped by the shutdown.
trap - EXIT
while :; do vm_sleep 60; done
