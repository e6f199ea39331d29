#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# VM self-test, fast mode: a kernel target with 3 subsystems on
# 127.0.0.1:8009 (TCP); nvme-cli discovers them and connect-all leaves 3 live
# I/O controllers. Run: tests/vm/run tests/vm/selftest-fast.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=1 ADDR=127.0.0.1 SVC=8009
NQNS=(nqn.2024-01.io.stas:vm-self-1 nqn.2024-01.io.stas:vm-self-2 nqn.2024-01.io.stas:vm-self-3)

command -v nvme >/dev/null || skip_all "nvme-cli not installed"
lo_up() { (($(</sys/class/net/lo/flags) & 1)); }
check "lo is up" lo_up
check "/etc/nvme/hostnqn exists" test -s /etc/nvme/hostnqn
check "/tmp, /run, /var/cache are writable" \
	sh -c 'for d in /tmp /run /var/cache; do : >$d/.stas-vm-w && rm $d/.stas-vm-w || exit 1; done'
check "/dev/nvme-fabrics exists" test -c /dev/nvme-fabrics

nvmet_port_add "$PORT" "$ADDR" "$SVC"
for nqn in "${NQNS[@]}"; do
	nvmet_subsys_add "$nqn"
	nvmet_link "$PORT" "$nqn"
done

out=$(nvme discover -t tcp -a "$ADDR" -s "$SVC" 2>&1) || bail "nvme discover failed: $out"
for nqn in "${NQNS[@]}"; do
	if grep -q "subnqn: *$nqn\$" <<<"$out"; then
		ok "discover lists $nqn"
	else
		fail "discover lists $nqn"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
done
check "no discovery controller left behind by discover" wait_for_ctrls_count 0 10 disc

nvme connect-all -t tcp -a "$ADDR" -s "$SVC" || fail "nvme connect-all exited $?"
if wait_for_ctrls_count 3 30 io; then
	ok "connect-all leaves 3 I/O controllers"
else
	fail "connect-all leaves 3 I/O controllers (have: $(nvme_ctrls io | xargs))"
fi
for nqn in "${NQNS[@]}"; do
	if ctrl=$(find_ctrl "$nqn" "$ADDR" "$SVC"); then
		if wait_for_ctrl_state "$ctrl" live 20; then
			ok "$ctrl ($nqn) is live"
		else
			fail "$ctrl ($nqn) is live (state $(ctrl_attr "$ctrl" state))"
		fi
		check "$ctrl is a tcp controller" test "$(ctrl_attr "$ctrl" transport)" = tcp
	else
		fail "a controller for $nqn"
	fi
done
