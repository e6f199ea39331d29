#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# NBFT (boot from SAN) on Debian 13's kernel (6.12), against stas built in the
# Debian 13 root (tests/vm/trixie-build), in one fast-mode boot. The host made
# an NBFT with tests/nbft-gen and QEMU put it among the guest's ACPI tables
# (tests/vm/run --acpitable): host NQN/ID $STAS_NBFT_HOSTNQN/$STAS_NBFT_HOSTID,
# one HFI 127.0.0.1, DC 1 nvme+tcp://127.0.0.1:8009/ and subsystem
# $STAS_NBFT_NQN at 127.0.0.1:4420 (found through DC 1). The target:
# port 1 127.0.0.1:8009 exposes only "other" (so the DC's log page lists
# "other" and not the boot subsystem), port 2 127.0.0.1:4420 both.
#  - the guest sees /sys/firmware/acpi/tables/NBFT; stasadm status shows it;
#  - first boot: no /etc/nvme/hostnqn, hostid: stasadm generate (what
#    stas-hostnqn/hostid.service run) takes the NBFT identity;
#  - boot path (stas-connect --all, stas-discover --all): the boot subsystem
#    connected with the NBFT host NQN/ID (sysfs), registry owner nbft; the
#    NBFT DC's "other" connected by the normal policy (owner stas);
#  - disconnect-scope all-connections-matching-disconnect-trtypes: a hand-made
#    tcp connection stas does not want is disconnected (the scope is live),
#    the boot path is not - with its registry entry, and without one
#    (stas-connect NQN alone: reconcile's NBFT predicate); --shutdown
#    disconnects "other" and leaves the boot path.
# Run: NBFT=$(mktemp); build/tests/nbft-gen -o $NBFT ... (see nbft-612.test);
#      tests/vm/run --kernel 6.12 --acpitable $NBFT tests/vm/nbft-612.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_612_build jq
HNQN=${STAS_NBFT_HOSTNQN:?} HID=${STAS_NBFT_HOSTID:?} BOOT=${STAS_NBFT_NQN:?}
OTHER=nqn.2024-01.io.stas:nbft-other
C=/tmp/stas-nbft-cache
CONF=/tmp/stas-nbft.conf
REG=/run/nvme/registry
export RUNTIME_DIRECTORY=$STAS_VM_RUNDIR/stas
mkdir -p "$RUNTIME_DIRECTORY"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
owner_of() { cat "$REG/$1/owner" 2>/dev/null || true; }
# ctrl_at NQN TRSVCID: the live I/O controller of NQN at 127.0.0.1:TRSVCID.
ctrl_at() {
	local c
	for c in $(nvme_ctrls io); do
		[ "$(ctrl_attr "$c" subsysnqn)" = "$1" ] || continue
		[ "$(ctrl_attr "$c" state)" = live ] || continue
		case $(ctrl_attr "$c" address) in *"trsvcid=$2"*) echo "$c" && return 0 ;; esac
	done
	return 1
}
sc() { timeout -k 5 120 "$CONNECT" --config "$CONF" --cache-dir "$C" "$@" >/tmp/sc.out 2>/tmp/sc.err; }
show_sc() { sed 's/^/#   /' /tmp/sc.out /tmp/sc.err; }

# 1. the table
T=/sys/firmware/acpi/tables/NBFT
check "the guest sees $T" test -r "$T"
[ -r "$T" ] || bail "no NBFT in the guest (QEMU -acpitable)"
"$STASADM" --cache-dir "$C" --config "$CONF" status --json >/tmp/st.json 2>/tmp/st.err || true
check "stasadm status --json shows the NBFT host NQN and the boot subsystem" \
	jq -e --arg h "$HNQN" --arg n "$BOOT" \
	'.nbft[0].hostnqn == $h and .nbft[0].subsystems[0].tid.subsysnqn == $n and .nbft[0].dcs[0].tid.trsvcid == "8009"' /tmp/st.json
diag "parser: $(jq -r '.nbft[0].parser' /tmp/st.json)"

# 2. first boot: the identity from the firmware
rm -f /etc/nvme/hostnqn /etc/nvme/hostid
"$STASADM" hostnqn generate >/dev/null 2>&1 || true
"$STASADM" hostid generate >/dev/null 2>&1 || true
check "first boot: /etc/nvme/hostnqn is the NBFT host NQN" test "$(cat /etc/nvme/hostnqn)" = "$HNQN"
check "first boot: /etc/nvme/hostid is the NBFT host ID" test "$(cat /etc/nvme/hostid)" = "$HID"

# 3. the target and the boot path
nvmet_subsys_add "$BOOT"
nvmet_subsys_add "$OTHER"
nvmet_port_add 1 127.0.0.1 8009
nvmet_port_add 2 127.0.0.1 4420
nvmet_link 1 "$OTHER"
nvmet_link 2 "$BOOT"
nvmet_link 2 "$OTHER"
vm_on_exit nvmet_cleanup
cat >"$CONF" <<CONF
io = {
  disconnect-scope = "all-connections-matching-disconnect-trtypes";
};
CONF
t0=$SECONDS
if sc --all; then ok "boot path: stas-connect --all exits 0"; else
	fail "boot path: stas-connect --all exits 0"
	show_sc
fi
if timeout -k 5 120 "$DISCOVER" --config "$CONF" --cache-dir "$C" --no-systemd --all >/tmp/sd.out 2>/tmp/sd.err; then
	ok "boot path: stas-discover --all exits 0"
else
	fail "boot path: stas-discover --all exits 0"
	sed 's/^/#   /' /tmp/sd.out /tmp/sd.err
fi
diag "boot path took $((SECONDS - t0)) s"
b=$(ctrl_at "$BOOT" 4420) || b=''
check "the NBFT subsystem is connected" test -n "$b"
if [ -n "$b" ]; then
	check "with the NBFT host NQN (sysfs hostnqn)" test "$(ctrl_attr "$b" hostnqn)" = "$HNQN"
	check "with the NBFT host ID (sysfs hostid)" test "$(ctrl_attr "$b" hostid)" = "$HID"
	check "with the HFI's address as host_traddr" grep -q "host_traddr=127.0.0.1" "/sys/class/nvme/$b/address"
	check "registry owner nbft ($b)" test "$(owner_of "$b")" = nbft
fi
o=$(ctrl_at "$OTHER" 8009) || o=''
check "the NBFT DC's other subsystem is connected by policy" test -n "$o"
[ -z "$o" ] || check "... registry owner stas ($o)" test "$(owner_of "$o")" = stas
d=''
for c in $(nvme_ctrls discovery); do [ "$(ctrl_attr "$c" hostnqn)" = "$HNQN" ] && d=$c; done
check "the NBFT DC was connected with the NBFT host NQN" test -n "$d"
"$STASADM" --cache-dir "$C" --config "$CONF" --json paths "$BOOT" >/tmp/paths.json 2>/dev/null || true
check "the cache records the boot path owner=other" \
	jq -e '[.. | strings | select(. == "other")] | length > 0' /tmp/paths.json

# 4. disconnect policies
nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$OTHER" >/dev/null 2>&1 || diag "nvme connect (hand-made) failed"
h=$(ctrl_at "$OTHER" 4420) || h=''
[ -n "$h" ] || diag "no hand-made controller"
sc --all || { diag "stas-connect --all (scope all) failed"; show_sc; }
[ -z "$h" ] || check "scope all: a hand-made tcp path stas does not want is disconnected ($h)" \
	wait_until 10 sh -c "! grep -qs live /sys/class/nvme/$h/state || [ \"\$(cat /sys/class/nvme/$h/subsysnqn)\" != '$OTHER' ]"
[ -z "$b" ] || check "scope all: the boot path stays ($b)" test "$(ctrl_attr "$b" state)" = live
rm -rf "${REG:?}/$b"
sc "$BOOT" || { diag "stas-connect $BOOT failed"; show_sc; }
[ -z "$b" ] || check "scope all, no registry entry: the boot path stays (NBFT predicate)" test "$(ctrl_attr "$b" state)" = live
grep -q "nbft" /tmp/sc.out /tmp/sc.err 2>/dev/null && diag "reason: $(grep -h nbft /tmp/sc.out /tmp/sc.err | head -1)"
if sc --shutdown; then ok "stas-connect --shutdown exits 0"; else
	fail "stas-connect --shutdown exits 0"
	show_sc
fi
[ -z "$b" ] || check "--shutdown leaves the boot path ($b)" test "$(ctrl_attr "$b" state)" = live
[ -z "$o" ] || check "--shutdown disconnects stas's own path ($o)" \
	wait_until 10 sh -c "! grep -qs live /sys/class/nvme/$o/state || [ \"\$(cat /sys/class/nvme/$o/subsysnqn)\" != '$OTHER' ]"
true
