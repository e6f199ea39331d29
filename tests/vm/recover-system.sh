#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Recovery without a command, system mode, stas installed, one boot
# (issue 12 item 1):
#  - an outage longer than ctrl-loss-tmo: the target's interface goes down
#    until the kernel deletes the I/O controllers and the persistent DC; stas's
#    units retry with backoff (2, 4, 8 ... s), and when the interface is back
#    stas reconnects the DC and every path without a command;
#  - kill -9 of a stas-connect@ and a stas-discover@ unit's process during
#    the outage: systemd restarts them, and afterwards `stasadm verify` is
#    clean and nothing is lost;
#  - a referral DC that never answers is given up on after
#    discovery.referral-give-up, with one log line, and not restarted;
#  - the audit: stas-audit.timer is active; stas-audit.service runs only when
#    global.audit-interval has passed, and never when it is 0.
# Run: make install DESTDIR=D && tests/vm/run --system --install-dir D tests/vm/recover-system.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode (tests/vm/run --system)"
[ -x /usr/libexec/stas/stas-connect ] || skip_all "stas is not installed in the guest (--install-dir)"
STASADM=/usr/sbin/stasadm
V=nqn.2026-12.io.stas.recover
DISC=$NVME_DISC_NQN
A=10.99.0.1
vm_units_no_lsan

# The target listens on a dummy interface's address (local traffic goes through
# lo). The outage: netem drops every packet on lo, so keep-alives time out and
# reconnects fail (SYN retries cut to one, ~3 s), while the log page stays the
# same (no AEN, nothing withdrawn: only recovery brings the paths back).
modprobe dummy 2>/dev/null || true
dummy_add stasout0 "$A/24"
sysctl -qw net.ipv4.tcp_syn_retries=1
modprobe sch_netem 2>/dev/null || true
outage_start() { tc qdisc add dev lo root netem loss 100%; }
outage_end() { tc qdisc del dev lo root; }
nvmet_port_add 1 "$A" 8009
for i in 1 2; do nvmet_subsys_add "$V:r$i" && nvmet_link 1 "$V:r$i"; done
# A referral to a port nothing listens on: never answers.
nvmet_referral_add 1 dead 127.0.0.1 8099
vm_on_exit nvmet_cleanup
mkdir -p /etc/stas
cat >/etc/stas/stas.conf <<EOF
global = { audit-interval = 0; };
discovery = {
  kato = 5; reconnect-delay = 1; ctrl-loss-tmo = 3;
  referral-give-up = 5;
  controllers = ( { transport = "tcp"; traddr = "$A"; trsvcid = 8009; } );
};
io = { kato = 5; reconnect-delay = 1; ctrl-loss-tmo = 3; };
EOF
check "config is valid" "$STASADM" config check

live() { local c; c=$(find_ctrl "$1" "${2:-}") && [ "$(ctrl_attr "$c" state)" = live ]; }
all_live() { live "$V:r1" && live "$V:r2" && live "$DISC" "$A"; }
none_left() { ! find_ctrl "$V:r1" >/dev/null && ! find_ctrl "$V:r2" >/dev/null && ! find_ctrl "$DISC" "$A" >/dev/null; }
jr() { journalctl -b --no-pager -o cat "$@" 2>/dev/null; }

systemctl start stas.target || true
if wait_until 120 all_live; then ok "boot: the DC (persistent) and both subsystems are live"; else
	fail "boot: the DC and both subsystems are live"
	bail "nothing to recover"
fi
check "stas-audit.timer is active (stas.target wants it)" systemctl is-active -q stas-audit.timer

# --- Give-up: the referral that never answers ------------------------------------
if wait_until 90 sh -c "journalctl -b --no-pager -o cat | grep -qF 'Giving up on referral discovery controller (tcp, 127.0.0.1, 8099,'"; then
	ok "give-up: the never-answering referral is given up on after referral-give-up"
else
	fail "give-up: the never-answering referral is given up on"
	jr | grep -E '8099' | tail -8 | sed 's/^/#   /'
fi
check "give-up: said once" test "$(jr | grep -c 'Giving up on referral')" = 1
ref=$(systemctl list-units --all --plain --no-legend 'stas-discover@*' | awk '{print $1}' | grep 8099 | head -1 || true)
diag "referral unit: ${ref:-none}"
check "give-up: its unit ended with status 3 and is not restarted" \
	sh -c "[ -n '$ref' ] && [ \"\$(systemctl show -P ExecMainStatus '$ref')\" = 3 ] && [ \"\$(systemctl show -P NRestarts '$ref')\" = 0 ] && [ \"\$(systemctl show -P ActiveState '$ref')\" = failed ]"

# --- The audit's schedule comes from stas.conf ------------------------------------
audits() { jr -u stas-audit.service | grep -c 'Audit due' || true; }
systemctl start stas-audit.service || true
check "audit-interval = 0: no audit" test "$(audits)" = 0
sed -i 's/audit-interval = 0/audit-interval = 1/' /etc/stas/stas.conf
systemctl start stas-audit.service || true # the first tick only starts the clock
vm_sleep 2
systemctl start stas-audit.service || true
check "audit-interval = 1: an audit ran once the interval had passed" test "$(audits)" = 1
check "the audit succeeded" test "$(systemctl show -P Result stas-audit.service)" = success
check "the audit left everything live" all_live
sed -i 's/audit-interval = 1/audit-interval = 0/' /etc/stas/stas.conf

# --- The outage (longer than ctrl-loss-tmo) -----------------------------------------
dc=$(find_ctrl "$DISC" "$A")
cunit=$(systemd-escape --template=stas-connect@.service "$V:r1")
dunit=stas-discover@$dc.service
t0=$(date +%s)
outage_start || bail "tc netem on lo failed"
vm_on_exit outage_end
if wait_until 120 none_left; then
	ok "outage: the kernel deleted both I/O controllers and the DC after ctrl-loss-tmo ($(($(date +%s) - t0)) s)"
else
	fail "outage: the kernel deleted the controllers"
	for c in $(nvme_ctrls all); do diag "$c $(ctrl_attr "$c" subsysnqn) $(ctrl_attr "$c" state)"; done
fi
t1=$(date +%s)
activating() { [ "$(systemctl show -P ActiveState "$1")" = activating ]; }
check "outage: $cunit retries in-process (activating)" wait_until 30 activating "$cunit"
check "outage: $dunit (the remove rule, the cache's record) retries in-process" wait_until 30 activating "$dunit"
check "outage: the retries back off (2 s, then 4 s)" \
	wait_until 30 sh -c "journalctl -b --no-pager -o cat -u '$cunit' | grep -q 'retrying in 4 s'"
for u in "$cunit" "$dunit"; do
	pid=$(systemctl show -P MainPID "$u")
	if [ "${pid:-0}" -gt 0 ] && kill -9 "$pid"; then
		ok "kill -9 of $u's process ($pid)"
	else fail "kill -9 of $u's process"; fi
done
restarted() { [ "$(systemctl show -P NRestarts "$1")" -ge 1 ] && activating "$1"; }
check "kill -9: $cunit is restarted" wait_until 30 restarted "$cunit"
check "kill -9: $dunit is restarted" wait_until 30 restarted "$dunit"
# A stop ends the wait at once (at most after an attempt underway, ~3 s here).
wait_until 30 sh -c "journalctl -b --no-pager -o cat -u '$cunit' | grep -q 'Attempt 1 .*retrying'" || true
t=${EPOCHREALTIME/[.,]/}
timeout 30 systemctl stop "$cunit" || true
ms=$(((${EPOCHREALTIME/[.,]/} - t) / 1000))
check "systemctl stop during the backoff returns promptly ($ms ms) and the unit is inactive, not failed" \
	sh -c "[ $ms -lt 8000 ] && [ \"\$(systemctl show -P ActiveState '$cunit')\" = inactive ]"
systemctl --no-block start "$cunit"
vm_sleep 3
outage_end
t2=$(date +%s)
if wait_until 120 all_live; then
	ok "recovery: the DC and both paths are live again without a command ($(($(date +%s) - t2)) s after the link came back, $((t2 - t1)) s between the deletion and the link's return)"
else
	fail "recovery: the DC and both paths are live again"
	jr | grep -E 'stas-(connect|discover)' | tail -20 | sed 's/^/#   /'
fi
check "recovery: $cunit finished (inactive)" wait_until 60 sh -c "[ \"\$(systemctl show -P ActiveState '$cunit')\" = inactive ]"
check "recovery: stasadm verify is clean" "$STASADM" verify
check "recovery: nothing lost (both subsystems still wanted, one path each)" \
	sh -c "'$STASADM' status --json | jq -e --arg a '$V:r1' --arg b '$V:r2' '[.subsystems[] | select((.nqn == \$a or .nqn == \$b) and .wanted == 1 and .live == 1)] | length == 2'"
failed=$(systemctl list-units --failed --plain --no-legend 'stas*' | awk '{print $1}' | grep -v 8099 | xargs || true)
check "no stas unit failed but the given-up referral${failed:+ ($failed)}" test -z "$failed"
jr | grep -E 'retrying in|Giving up|is gone|Attempt' | head -12 | sed 's/^/# journal: /'
