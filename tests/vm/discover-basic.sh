#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# stas-discover against the kernel target (fast mode):
#  - a DC on 127.0.0.1:8009 with 3 subsystems: the cache holds exactly the
#    entries `nvme discover -o json` reports (nvme-cli as the oracle);
#  - the DC stays connected (persistent) and a rerun reuses that connection;
#  - link a 4th subsystem and rerun: only the new NQN is reported as changed;
#  - an unreachable DC: exit 1, a clear message; a DC that goes away keeps
#    its last good page in the cache, marked stale with the error.
# Run: tests/vm/run tests/vm/discover-basic.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

B=${top_builddir:?top_builddir is not set}
DISCOVER=$B/helpers/stas-discover/stas-discover
STASADM=$B/stasadm/stasadm
[ -x "$DISCOVER" ] || skip_all "stas-discover is not built"
command -v nvme >/dev/null || skip_all "nvme-cli not installed"

C=/tmp/stas-cache CONF=/tmp/stas.conf
: >"$CONF"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
sd() { "$DISCOVER" --config "$CONF" --cache-dir "$C" --no-systemd --no-connect "$@"; }
adm() { "$STASADM" --config "$CONF" --cache-dir "$C" "$@"; }

P=nqn.2024-01.io.stas:disc
nvmet_port_add 1 127.0.0.1 8009
for i in 1 2 3; do
	nvmet_subsys_add "$P-$i" 1 0
	nvmet_link 1 "$P-$i"
done

# --- 3 subsystems, nvme-cli as the oracle ---------------------------------------
out=$(sd --json -t tcp -a 127.0.0.1 -s 8009 2>/tmp/err) && rc=0 || rc=$?
check "stas-discover exits 0" test "$rc" = 0 || sed 's/^/#   /' /tmp/err
diag "$(jq -c '.[0] | {entries, genctr, changed}' <<<"$out")"
check "summary: 4 entries (3 subsystems + current DC), changed" \
	test "$(jq -c '.[0] | [.entries, .changed]' <<<"$out")" = '[4,true]'
check "summary: the 3 NQNs added" \
	test "$(jq -c '.[0]["nqns-added"] | sort' <<<"$out")" = "[\"$P-1\",\"$P-2\",\"$P-3\"]"

want=$(nvme discover -t tcp -a 127.0.0.1 -s 8009 -o json |
	jq -c '[.records[] | {subnqn, traddr, trsvcid: (.trsvcid | tostring | gsub(" "; "")),
		subtype}] | sort')
got=$(adm show --json tcp-127.0.0.1-8009 |
	jq -c '[.["log-page"][] | {subnqn: .subsysnqn, traddr, trsvcid, subtype}] | sort')
if [ "$want" = "$got" ]; then
	ok "cache entries equal nvme discover's"
else
	fail "cache entries equal nvme discover's"
	diag "nvme: $want"
	diag "stas: $got"
fi

dev=$(adm show --json tcp-127.0.0.1-8009 | jq -r '.device // empty')
check "the DC connection is kept (persistent): $dev" test -n "$dev" -a -e "/sys/class/nvme/$dev"
check "it is a discovery controller with kato 30" \
	test "$(ctrl_attr "$dev" subsysnqn)" = nqn.2014-08.org.nvmexpress.discovery
out=$(sd --json -t tcp -a 127.0.0.1 -s 8009)
check "rerun reuses $dev and finds the page unchanged" \
	test "$(jq -c '.[0] | [.device, .changed]' <<<"$out")" = "[\"$dev\",false]"
check "no second discovery controller" wait_for_ctrls_count 1 5 disc

# --- a 4th subsystem: only it is reported ----------------------------------------
nvmet_subsys_add "$P-4" 1 0
nvmet_link 1 "$P-4"
out=$(sd --json tcp-127.0.0.1-8009)
check "instance form works and the page changed" test "$(jq -r '.[0].changed' <<<"$out")" = true
check "only the 4th NQN is added" test "$(jq -c '.[0]["nqns-added"]' <<<"$out")" = "[\"$P-4\"]"
check "nothing removed or changed" \
	test "$(jq -c '.[0] | [.["nqns-removed"], .["nqns-changed"]]' <<<"$out")" = '[[],[]]'
check "by kernel name ($dev) too" sh -c "$(declare -f sd); DISCOVER=$DISCOVER CONF=$CONF C=$C; sd $dev"

# --- in-process reconcile plan (dry run) -------------------------------------------
nvmet_unlink 1 "$P-2"
plan=$("$DISCOVER" --config "$CONF" --cache-dir "$C" --dry-run tcp-127.0.0.1-8009 2>&1) || true
diag "plan: $(tr '\n' ';' <<<"$plan")"
if grep -q "$P-1" <<<"$plan"; then fail "dry run plans nothing for the unchanged subsystems"; else ok "dry run plans nothing for the unchanged subsystems"; fi

# --- unreachable ----------------------------------------------------------------------
err=$(sd -t tcp -a 127.0.0.1 -s 8999 2>&1) && rc=0 || rc=$?
check "unreachable DC: exit 1" test "$rc" = 1
check "unreachable DC: a clear message" grep -q "Failed to connect to discovery controller" <<<"$err"
diag "$err"
check "unreachable DC is recorded with its error" \
	sh -c "$(declare -f adm); STASADM=$STASADM CONF=$CONF C=$C; adm show --json tcp-127.0.0.1-8999 | jq -e '.stale and (.[\"last-error\"] | length > 0)'"

# --- a known DC goes away: the last good page stays, marked stale -----------------------
n_before=$(adm show --json tcp-127.0.0.1-8009 | jq '.["log-page"] | length')
for i in 1 3 4; do nvmet_unlink 1 "$P-$i"; done
nvmet_port_del 1
wait_until 20 sh -c "test \"\$(cat /sys/class/nvme/$dev/state)\" != live" || true
sd -t tcp -a 127.0.0.1 -s 8009 2>/tmp/err && rc=0 || rc=$?
check "vanished DC: exit 1" test "$rc" = 1
diag "$(cat /tmp/err)"
check "vanished DC: the message says the DC is unreachable" grep -q "not reachable" /tmp/err
j=$(adm show --json tcp-127.0.0.1-8009)
check "vanished DC: marked stale" test "$(jq -r '.stale' <<<"$j")" = true
check "vanished DC: last good page kept ($n_before entries)" \
	test "$(jq '.["log-page"] | length' <<<"$j")" = "$n_before"
check "cache verifies clean" adm verify
