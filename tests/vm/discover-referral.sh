#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Referrals (fast mode): port 1 (127.0.0.1:8009) refers to port 2
# (127.0.0.1:8010), which has subsystems of its own; stas-discover follows the
# referral (in-process, no systemd) and caches both pages; port 2 refers back
# to port 1 (a loop A->B->A) and the run terminates; a removed referral is
# retired from the cache.
# Run: tests/vm/run tests/vm/discover-referral.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

B=${top_builddir:?top_builddir is not set}
DISCOVER=$B/helpers/stas-discover/stas-discover
STASADM=$B/stasadm/stasadm
[ -x "$DISCOVER" ] || skip_all "stas-discover is not built"

C=/tmp/stas-cache CONF=/tmp/stas.conf
: >"$CONF"
sd() { timeout 120 "$DISCOVER" --config "$CONF" --cache-dir "$C" --no-systemd --no-connect "$@"; }
adm() { "$STASADM" --config "$CONF" --cache-dir "$C" "$@"; }

P=nqn.2024-01.io.stas:ref
nvmet_port_add 1 127.0.0.1 8009
nvmet_port_add 2 127.0.0.1 8010
nvmet_subsys_add "$P-a" 1 0
nvmet_link 1 "$P-a"
for s in b1 b2; do
	nvmet_subsys_add "$P-$s" 1 0
	nvmet_link 2 "$P-$s"
done
nvmet_referral_add 1 to-b 127.0.0.1 8010

out=$(sd --json -t tcp -a 127.0.0.1 -s 8009) && rc=0 || rc=$?
check "discover A exits 0" test "$rc" = 0
check "two DCs were read (A, then the referral B)" test "$(jq length <<<"$out")" = 2
check "B was found by referral" \
	test "$(jq -r '.[1].origin' <<<"$out")" = referral
check "B's subsystems are in the cache" \
	test "$(adm show --json tcp-127.0.0.1-8010 | jq -c '[.["log-page"][] | select(.subtype == "nvme subsystem") | .subsysnqn] | sort')" = "[\"$P-b1\",\"$P-b2\"]"
check "B records its referrer and depth 1" \
	test "$(adm show --json tcp-127.0.0.1-8010 | jq -c '[.origin, .["referral-depth"]]')" = '["referral",1]'

# A loop: B refers back to A.
nvmet_referral_add 2 to-a 127.0.0.1 8009
out=$(sd --json -t tcp -a 127.0.0.1 -s 8010) && rc=0 || rc=$?
check "a referral loop A->B->A terminates, exit 0" test "$rc" = 0
check "B's rerun does not restart A (already known)" test "$(jq length <<<"$out")" = 1
out=$(sd --json --all) && rc=0 || rc=$?
check "--all over the loop terminates, exit 0" test "$rc" = 0
check "--all reads each DC once" test "$(jq length <<<"$out")" = 2

# The referral goes away: B is retired (A referred it).
nvmet_referral_del 2 to-a
nvmet_referral_del 1 to-b
out=$(sd --json -t tcp -a 127.0.0.1 -s 8009) && rc=0 || rc=$?
check "A reread after the referral was removed" test "$rc" = 0
check "B is gone from the cache" sh -c "! $STASADM --cache-dir $C show tcp-127.0.0.1-8010 >/dev/null 2>&1"
check "no discovery controller left for B" \
	sh -c "! grep -lq 'trsvcid=8010' /sys/class/nvme/nvme*/address 2>/dev/null"
check "cache verifies clean" adm verify
