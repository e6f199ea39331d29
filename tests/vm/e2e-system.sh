#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The real flow, system mode, with stas installed (units, udev rule) and
# nothing run by hand but systemctl start stas.target:
#  - boot: stas-discover-all.service discovers the configured DC and
#    connects its two subsystems (in-process);
#  - a subsystem is linked to the port: the DC's discovery-log-change AEN
#    makes udev restart stas-discover@<ctrl>.service, which connects it in
#    the same process (one unit start per event: no stas-connect@ unit);
#  - a subsystem is unlinked: the same chain disconnects it;
#  - a third change still gets through (every AEN, not only the first);
#  - no stas unit failed, nvme-cli's own autoconnect rule did not fire.
# Run: make install DESTDIR=D && tests/vm/run --system --install-dir D tests/vm/e2e-system.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode (tests/vm/run --system)"
[ -x /usr/libexec/stas/stas-discover ] || skip_all "stas is not installed in the guest (--install-dir)"
STASADM=/usr/sbin/stasadm

V=nqn.2026-11.io.stas.e2e
nvmet_port_add 1 127.0.0.1 8009
for v in a b; do
	nvmet_subsys_add "$V:$v"
	nvmet_link 1 "$V:$v"
done
mkdir -p /etc/stas
cat >/etc/stas/stas.conf <<'CONF'
discovery: {
  controllers = ( { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = 8009; } );
};
CONF
check "config is valid" "$STASADM" config check
check "nvme-cli's autoconnect rule is shadowed (stas's tmpfiles, /run/udev/rules.d)" \
	test "$(readlink /run/udev/rules.d/70-nvmf-autoconnect.rules)" = /dev/null
check "stas's udev rule is installed" test -f /usr/lib/udev/rules.d/70-stas-autoconnect.rules -o -f /lib/udev/rules.d/70-stas-autoconnect.rules
# An AddressSanitizer build (make check's) under the units as shipped: LSan's
# exit-time leak check needs ptrace, which the units' SystemCallFilter denies,
# and then spins forever. Keep the sandbox; turn off only the leak check here
# (the unit tests and the fast-mode VM tests run with it).
vm_units_no_lsan
udevadm control --reload
systemctl daemon-reload

# No controller of NQN at all, in any state: deleted, not merely reconnecting
# (an unlinked subsystem leaves the host's controller in "connecting").
gone() { ! grep -qxF "$1" /sys/class/nvme/nvme*/subsysnqn 2>/dev/null; }

t0=$(date +%s)
systemctl start stas.target || true
if wait_until 90 has_live "$V:a" && wait_until 30 has_live "$V:b"; then
	ok "boot: both subsystems connected by the units ($(($(date +%s) - t0)) s)"
else
	fail "boot: both subsystems connected by the units"
fi
check "stas-discover-all.service succeeded" systemctl is-active stas-discover-all.service
dc=$(find_ctrl nqn.2014-08.org.nvmexpress.discovery 127.0.0.1 8009) || bail "no persistent DC"
diag "persistent DC: $dc (kato $(ctrl_attr "$dc" kato 2>/dev/null || echo ?))"
udevadm settle --timeout=20 || true

# stas-connect@ units systemd started since mark M (a finished oneshot is
# unloaded: ask the journal).
mark() { journalctl -b -o cat _PID=1 | wc -l; }
connect_units_since() { journalctl -b -o cat _PID=1 | tail -n +"$(($1 + 1))" | grep -c 'stas: connect' || true; }

t0=$(date +%s)
m=$(mark)
nvmet_subsys_add "$V:c"
nvmet_link 1 "$V:c"
if wait_until 90 has_live "$V:c"; then
	ok "AEN: the new subsystem is connected by udev -> stas-discover@$dc ($(($(date +%s) - t0)) s)"
else
	fail "AEN: the new subsystem is connected"
fi
check "stas-discover@$dc ran" wait_until 30 sh -c "journalctl -b -u 'stas-discover@$dc.service' | grep -q 'changed'"
check "stas-discover@$dc connected it itself" \
	wait_until 30 sh -c "journalctl -b -o cat -u 'stas-discover@$dc.service' | grep -q '^connect .*$V:c'"
n=$(connect_units_since "$m")
check "AEN: no stas-connect@ unit started ($n)" test "$n" = 0

t0=$(date +%s)
nvmet_unlink 1 "$V:a"
if wait_until 90 gone "$V:a"; then
	ok "AEN: the withdrawn subsystem's controller is deleted by stas ($(($(date +%s) - t0)) s)"
else
	fail "AEN: the withdrawn subsystem is disconnected"
fi
# Who deleted it: stas-discover@ (reconciling the changed page), or - kernel
# 6.12 - the kernel itself, first: nvmet drops the controllers of an unlinked
# subsystem, the host's reconnect is refused with DNR ("Connect Invalid Data
# Parameter") and the host gives up at once. Either way stas must not bring
# it back.
if wait_until 30 sh -c "journalctl -b --no-pager -t stas-discover | grep -q 'disconnect.*$V:a'"; then
	ok "stas-discover@$dc logged the disconnect"
elif dmesg | grep -q "Connect Invalid Data Parameter, subsysnqn \"$V:a\""; then
	vm_sleep 5
	check "the kernel deleted it first (reconnect refused, DNR); stas did not bring it back" gone "$V:a"
else
	fail "stas-discover@$dc logged the disconnect"
fi
check "the others stay" sh -c "[ $(live_io "$V:b") -ge 1 ] && [ $(live_io "$V:c") -ge 1 ]"

# A third change: a DC with more than three entries still sends its AEN
# (stas acknowledges each page change; see kernel_get_discovery_log()).
t0=$(date +%s)
nvmet_subsys_add "$V:d"
nvmet_link 1 "$V:d"
if wait_until 90 has_live "$V:d"; then
	ok "third AEN: another subsystem is connected ($(($(date +%s) - t0)) s)"
else
	fail "third AEN: another subsystem is connected"
fi

# nvme-cli's host exclusion list, edited at run time, governs the AEN path
# too: a subsystem excluded before its AEN is not connected while another
# one linked in the same change is; with the entry gone, the documented
# reconcile (reload) connects it.
mkdir -p /etc/nvme
printf '[exclusions]\nexclusion = nqn=%s\n' "$V:e" >/etc/nvme/exclusions.conf
nvmet_subsys_add "$V:e"
nvmet_subsys_add "$V:f"
nvmet_link 1 "$V:e"
nvmet_link 1 "$V:f"
if wait_until 90 has_live "$V:f"; then
	sleep 3 # both NQNs were reconciled by the same discover run
	check "exclusions.conf: the excluded subsystem is not connected on the AEN" \
		test "$(live_io "$V:e")" = 0
	check "... and the stas-discover@ run named the exclusion file and line" \
		sh -c "journalctl -b --no-pager -t stas-discover | grep -q 'excluded by /etc/nvme/exclusions.conf:2'"
else
	fail "exclusions.conf: the AEN's other subsystem is connected"
fi
: >/etc/nvme/exclusions.conf
systemctl reload stas.target
if wait_until 90 has_live "$V:e"; then
	ok "exclusions.conf: with the entry removed, a reload connects the subsystem"
else
	fail "exclusions.conf: with the entry removed, a reload connects the subsystem"
fi
rm -f /etc/nvme/exclusions.conf

failed=$(systemctl list-units --failed --plain --no-legend 'stas*' | awk '{print $1}' | xargs)
check "no stas unit failed${failed:+ ($failed)}" test -z "$failed"
check "nvme-cli's nvmf-connect@ units never ran" \
	sh -c "! journalctl -b --no-pager | grep -q 'nvmf-connect@'"
diag "$("$STASADM" status 2>&1)"
journalctl -b --no-pager -o short-monotonic -u 'stas-*' | tail -40 | sed 's/^/  /' | while IFS= read -r l; do diag "$l"; done
