#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The demo scenario (guest side of tests/demo), system mode, stas installed
# and NO stas configuration: a kernel NVMe/TCP target on a dummy interface
# offers three subsystems behind a discovery controller, which is announced
# with avahi-publish. stas-mdns-watch sees it, its stas-discover@ unit
# reads the page and connects the volumes; then the target adds one
# subsystem and withdraws another, and stas follows through the DC's AEN.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$STAS_VM_MODE" = system ] || skip_all "the demo needs system mode (tests/vm/run --system)"
[ -x /usr/libexec/stas/stas-mdns-watch ] || skip_all "stas is not installed in the guest (--install-dir)"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
live() { # NQN has a live I/O controller
	local c
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/subsysnqn" ] || continue
		[ "$(cat "$c/subsysnqn")" = "$1" ] && [ "$(cat "$c/state")" = live ] && return 0
	done
	return 1
}
gone() { ! grep -qxF "$1" /sys/class/nvme/nvme*/subsysnqn 2>/dev/null; }
n_live_io() { nvme_ctrls io | while read -r c; do [ "$(ctrl_attr "$c" state)" = live ] && echo "$c"; done | wc -l; }

# An AddressSanitizer build (make check's): no leak check inside the sandboxed units.
vm_units_no_lsan

V=nqn.2026-11.io.stas.demo
A=192.168.253.1
say "The storage side: a kernel NVMe/TCP target on $A (a dummy interface), DC on port 8009 with vol1..vol3"
dummy_add demo0 "$A/24"
# At exit, before the interface goes: no controller may be left reconnecting
# through it, or the guest's shutdown waits for them.
vm_on_exit nvme disconnect-all
vm_on_exit systemctl stop stas-mdns-watch.service
nvmet_port_add 1 "$A" 8009
for v in vol1 vol2 vol3; do
	nvmet_subsys_add "$V:$v"
	nvmet_link 1 "$V:$v"
done

say "The host side: stas installed, nothing configured"
run grep -v '^ *#' /etc/stas/stas.conf | grep -v '^ *$' || true
run systemctl enable --now stas-mdns-watch.service
t0=$(date +%s)

say "The storage array announces its discovery controller (mDNS/DNS-SD, TP8009)"
# Not through run(): $! must be avahi-publish itself, or it outlives the demo
# and holds the console open.
printf '$ %s\n' "avahi-publish -s demo-array _nvme-disc._tcp 8009 p=tcp &"
avahi-publish -s demo-array _nvme-disc._tcp 8009 p=tcp &
vm_on_exit kill $!

for v in vol1 vol2 vol3; do wait_until 90 live "$V:$v" || true; done
check "3 volumes connected by themselves ($(($(date +%s) - t0)) s after the announcement)" \
	test "$(n_live_io)" = 3
say "What stas did"
journalctl -b --no-pager -o cat -t stas-mdns-watch -t stas-discover -t stas-connect |
	grep -E 'announced|Handed|entries|done: connect' | sed 's/^/  /'
say "stasadm status"
run stasadm status
say "The kernel's view"
run nvme list-subsys

say "Fabric change on the target: vol4 appears, vol2 is withdrawn"
nvmet_subsys_add "$V:vol4"
nvmet_link 1 "$V:vol4"
nvmet_unlink 1 "$V:vol2"
t0=$(date +%s)
wait_until 90 live "$V:vol4" || true
wait_until 60 gone "$V:vol2" || true
check "vol4 connected, following the DC's log-change event ($(($(date +%s) - t0)) s)" live "$V:vol4"
check "vol2 disconnected" gone "$V:vol2"
run nvme list-subsys

if [ -x /usr/libexec/stas/stas-cached ] && command -v busctl >/dev/null; then
	say "The cache over D-Bus, as an unprivileged user (stas-cached)"
	out=$(run setpriv --reuid=nobody --regid=nogroup --clear-groups \
		busctl call org.nvmexpress.staf /org/nvmexpress/staf org.nvmexpress.staf list_controllers b true 2>&1)
	echo "$out"
	check "stas-cached answered an unprivileged user with the DC" grep -q '"8009"' <<<"$out"
fi
failed=$(systemctl list-units --failed --plain --no-legend 'stas*' | awk '{print $1}' | xargs)
check "no stas unit failed${failed:+ ($failed)}" test -z "$failed"
