#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The demo scenario (guest side of tests/demo): a kernel NVMe/TCP target on
# 127.0.0.1 with three subsystems behind a discovery controller on port 8009,
# and a referral to a second discovery controller on port 8010 with one more;
# stas finds and connects all four, then follows two fabric changes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

B=${top_builddir:?top_builddir is not set}
DISCOVER=$B/helpers/stas-discover/stas-discover
CONNECT=$B/helpers/stas-connect/stas-connect
STASADM=$B/stasadm/stasadm
for p in "$DISCOVER" "$CONNECT" "$STASADM"; do
	[ -x "$p" ] || skip_all "$p is not built"
done

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

V=nqn.2026-11.io.stas.demo
say "A kernel NVMe/TCP target: DC 127.0.0.1:8009 with vol1..vol3, a referral to 127.0.0.1:8010 (vol4)"
nvmet_port_add 1 127.0.0.1 8009
nvmet_port_add 2 127.0.0.1 8010
for v in vol1 vol2 vol3; do
	nvmet_subsys_add "$V:$v"
	nvmet_link 1 "$V:$v"
done
nvmet_subsys_add "$V:vol4"
nvmet_link 2 "$V:vol4"
nvmet_referral_add 1 second-dc 127.0.0.1 8010

say "Configuration: one discovery controller"
mkdir -p /etc/stas
cat >/etc/stas/stas.conf <<'CONF'
discovery: {
  controllers = ( { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = 8009; } );
};
CONF
run cat /etc/stas/stas.conf
run "$STASADM" config check

# No systemd in this VM (fast mode): stas-discover reconciles in-process what
# stas-connect@<nqn>.service units would do on a real host.
say "Boot: stas-discover --all (what stas-discover-all.service runs)"
run "$DISCOVER" --all --no-systemd
run "$CONNECT" --all

say "stasadm status"
run "$STASADM" status

say "The kernel's view"
run nvme list-subsys
n=$(nvme_ctrls io | wc -l)
check "4 I/O controllers live" test "$n" = 4

say "Fabric change: vol5 appears on the first DC, vol2 is withdrawn"
nvmet_subsys_add "$V:vol5"
nvmet_link 1 "$V:vol5"
nvmet_unlink 1 "$V:vol2"
# On a real host the DC's discovery-log-change AEN makes udev restart
# stas-discover@<ctrl>.service; here we run what that unit runs.
dc=$("$STASADM" show --json tcp-127.0.0.1-8009 | jq -r '.device')
run "$DISCOVER" --no-systemd "$dc"

say "The kernel's view after the change"
run nvme list-subsys
check "vol5 connected" find_ctrl "$V:vol5" >/dev/null
check "vol2 disconnected" sh -c "! grep -qx '$V:vol2' /sys/class/nvme/nvme*/subsysnqn"
run "$STASADM" status
