#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# VM self-test, system mode: systemd reaches multi-user.target with udevd
# running; a persistent discovery controller (kato 30) gets the
# discovery-log-change AEN when a 4th subsystem is linked to its port, and a
# udev rule installed here records the change uevent (NVME_AEN=0x70f002).
# Run: tests/vm/run --system tests/vm/selftest-aen.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=1 ADDR=127.0.0.1 SVC=8009
NQN=nqn.2024-01.io.stas:vm-aen
REC=$STAS_VM_RUNDIR/aen-events

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode (tests/vm/run --system)"
command -v nvme >/dev/null || skip_all "nvme-cli not installed"

check "multi-user.target is active" systemctl is-active multi-user.target
check "systemd-udevd is active" systemctl is-active systemd-udevd.service
diag "system state: $(systemctl is-system-running 2>&1 || true)"

# The rule under test: record the DLP-change AEN uevent.
cat >/etc/udev/rules.d/90-stas-vm-aen.rules <<EOF
ACTION=="change", SUBSYSTEM=="nvme", ENV{NVME_AEN}=="0x70f002", RUN+="/bin/sh -c 'echo %k \$env{NVME_AEN} \$env{NVME_TRADDR} \$env{NVME_TRSVCID} >>$REC'"
EOF
udevadm control --reload
# And the kernel's own view of the same uevents, for the diagnosis.
udev_monitor_start

nvmet_port_add "$PORT" "$ADDR" "$SVC"
for i in 1 2 3; do
	nvmet_subsys_add "$NQN-$i"
	nvmet_link "$PORT" "$NQN-$i"
done

nvme connect -t tcp -n "$NVME_DISC_NQN" -a "$ADDR" -s "$SVC" --keep-alive-tmo 30 ||
	bail "nvme connect to the discovery controller failed"
dc=$(find_ctrl "$NVME_DISC_NQN" "$ADDR" "$SVC") || bail "no discovery controller in sysfs"
if wait_for_ctrl_state "$dc" live 20; then
	ok "persistent DC $dc is live"
else
	bail "persistent DC $dc is live (state $(ctrl_attr "$dc" state))"
fi
# Let the connect's own uevents pass before the change we look for.
udevadm settle --timeout=10 || true

nvmet_subsys_add "$NQN-4"
nvmet_link "$PORT" "$NQN-4"

if wait_for_udev_event 20 ACTION=change NVME_AEN=0x70f002; then
	ok "kernel sent the change uevent with NVME_AEN=0x70f002"
else
	fail "kernel sent the change uevent with NVME_AEN=0x70f002"
	sed 's/^/#   /' "$UDEV_EVENTS_FILE"
fi
_rec_has_aen() { grep -q "^$dc 0x70f002 $ADDR $SVC\$" "$REC"; }
if wait_until 20 _rec_has_aen; then
	ok "udev rule recorded the AEN on $dc"
else
	fail "udev rule recorded the AEN on $dc"
	[ ! -e "$REC" ] || sed 's/^/#   /' "$REC"
fi
