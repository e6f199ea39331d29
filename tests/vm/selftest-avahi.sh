#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# VM self-test, system mode: avahi-daemon runs; a DC advertised with
# avahi-publish on a multicast-enabled dummy interface is seen (resolved) by
# avahi-browse. Run: tests/vm/run --system tests/vm/selftest-avahi.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

NAME=stas-vm-selftest-dc
IFACE=stasdummy0

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode (tests/vm/run --system)"
command -v avahi-publish >/dev/null && command -v avahi-browse >/dev/null ||
	skip_all "avahi-utils not installed"

for u in dbus.service avahi-daemon.service; do
	systemctl is-active -q "$u" || systemctl start "$u" || true
	check "$u is active" systemctl is-active "$u"
done

# An interface of our own, addresses only inside the VM.
dummy_add "$IFACE" 192.168.251.1/24
check "$IFACE is up with multicast" sh -c "ip link show $IFACE | grep -q 'MULTICAST.*UP'"

vm_bg avahi-publish -s "$NAME" _nvme-disc._tcp 8009 p=tcp

_browse_sees() {
	avahi-browse -rpt _nvme-disc._tcp >"$STAS_VM_RUNDIR/browse" 2>&1 || return 1
	grep -q "^=;$IFACE;IPv4;$NAME;_nvme-disc._tcp;local;.*;192.168.251.1;8009;\"p=tcp\"" \
		"$STAS_VM_RUNDIR/browse"
}
if wait_until 30 _browse_sees; then
	ok "avahi-browse resolves $NAME on $IFACE (192.168.251.1:8009, p=tcp)"
else
	fail "avahi-browse resolves $NAME on $IFACE"
	sed 's/^/#   /' "$STAS_VM_RUNDIR/browse" 2>/dev/null || true
fi
if grep -q "^=;lo;IPv4;$NAME;_nvme-disc._tcp;local;.*;127.0.0.1;8009;" "$STAS_VM_RUNDIR/browse"; then
	ok "also seen on lo (127.0.0.1)"
else
	diag "not seen on lo (avahi may not use lo here):"
	sed 's/^/#   /' "$STAS_VM_RUNDIR/browse"
fi
