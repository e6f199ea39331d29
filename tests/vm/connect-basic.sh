#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# stas-connect against the kernel target (fast mode), nvme-cli as the oracle:
#  - after stas-discover, `stas-connect --all` leaves exactly the live I/O
#    controllers `nvme connect-all` leaves on the same fresh target;
#  - a rerun changes nothing: same instance numbers, no connect or
#    disconnect issued, no cache write;
#  - unlink a subsystem, rediscover, reconcile: its stas-owned path is
#    disconnected, while a controller connected by hand with nvme-cli (to a
#    subsystem that is in no page) stays;
#  - an exclude rule keeps a subsystem unconnected (and drops stas's path);
#  - a wrong option in the config is reported before any kernel call.
# Run: tests/vm/run tests/vm/connect-basic.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/connect-lib.sh"

P=nqn.2024-01.io.stas:conn
HAND=nqn.2024-01.io.stas:by-hand
nvmet_port_add 1 127.0.0.1 8009
for i in 1 2 3 4; do
	nvmet_subsys_add "$P-$i"
	nvmet_link 1 "$P-$i"
done
# A subsystem on another port, in no discovery log page the host reads.
nvmet_port_add 2 127.0.0.1 4420
nvmet_subsys_add "$HAND"
nvmet_link 2 "$HAND"
vm_on_exit nvmet_cleanup

# --- the oracle: nvme connect-all on the fresh target -----------------------------
nvme connect-all -t tcp -a 127.0.0.1 -s 8009 >/dev/null 2>&1 || fail "nvme connect-all exited $?"
wait_for_ctrls_count 4 30 io || true
want=$(io_set)
check "nvme connect-all connected 4 subsystems" test "$(wc -l <<<"$want")" = 4
nvme disconnect-all >/dev/null 2>&1 || true
wait_for_ctrls_count 0 30 all || bail "controllers left after disconnect-all"

# --- stas: discover, then reconcile everything ------------------------------------
sd -t tcp -a 127.0.0.1 -s 8009 >/dev/null 2>/tmp/sd.err || {
	sed 's/^/#   /' /tmp/sd.err
	bail "stas-discover failed"
}
out=$(sc --all --json 2>/tmp/sc.err) && rc=0 || rc=$?
check "stas-connect --all exits 0" test "$rc" = 0 || sed 's/^/#   /' /tmp/sc.err
check "4 connects issued" test "$(jq -c '[.counts.connect, .["kernel-calls"], .failed]' <<<"$out")" = "[4,4,0]"
same_sets "stas-connect --all leaves exactly connect-all's set" "$want" "$(io_set)"
adm_paths=$("$STASADM" --cache-dir "$C" --config "$CONF" paths --json 2>/dev/null || true)
if [ -n "$adm_paths" ]; then
	check "the cache records 4 stas-owned connected paths" \
		test "$(jq '[.. | objects | select(.owner? == "stas" and .state? == "connected")] | length' <<<"$adm_paths")" = 4
fi

# --- rerun: nothing changes --------------------------------------------------------
names=$(io_names)
out=$(sc --all --json 2>/tmp/sc.err) && rc=0 || rc=$?
check "rerun exits 0" test "$rc" = 0
check "rerun: no kernel call, no cache write, 4 kept" \
	test "$(jq -c '[.["kernel-calls"], .["cache-writes"], .counts.keep, .counts.connect]' <<<"$out")" = "[0,0,4,0]"
same_sets "rerun: instance numbers unchanged" "$names" "$(io_names)"
out=$(sc --json "$P-2")
check "a per-NQN rerun is a no-op too" \
	test "$(jq -c '[.["kernel-calls"], .["cache-writes"], .counts.keep]' <<<"$out")" = "[0,0,1]"

# --- a controller made by hand stays; an unlinked subsystem's stas path goes ------------
nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$HAND" >/dev/null 2>&1 || fail "nvme connect (by hand) failed"
wait_until 20 find_ctrl "$HAND" || fail "hand-made controller is there"
hand=$(find_ctrl "$HAND" || true)
out=$(sc --json "$HAND") && rc=0 || rc=$?
check "stas-connect on the hand-made subsystem: nothing to do, exit 0" test "$rc" = 0
check "... it leaves the hand-made controller alone (skip: not stas's)" \
	test "$(jq -c '[.["kernel-calls"], .counts.skip]' <<<"$out")" = "[0,1]"

gone=$(find_ctrl "$P-2")
nvmet_unlink 1 "$P-2"
sd -t tcp -a 127.0.0.1 -s 8009 >/dev/null 2>&1 || fail "rediscover failed"
out=$(sc --all --json 2>/tmp/sc.err) && rc=0 || rc=$?
check "reconcile after the unlink exits 0" test "$rc" = 0 || sed 's/^/#   /' /tmp/sc.err
check "one disconnect issued" test "$(jq -c '[.counts.disconnect, .["kernel-calls"]]' <<<"$out")" = "[1,1]"
wait_until 20 sh -c "! test -e /sys/class/nvme/$gone" || true
check "the stas-owned path to $P-2 ($gone) is gone" test ! -e "/sys/class/nvme/$gone"
check "the hand-made controller ($hand) stays" test -n "$hand" -a -e "/sys/class/nvme/$hand"
same_sets "the other three subsystems are untouched" "$(grep -v -e " $P-2\$" <<<"$names")" \
	"$(io_names | grep -v -e "$HAND")"
out=$(sc --all --json)
check "and the next run is a no-op" test "$(jq -c '[.["kernel-calls"], .["cache-writes"]]' <<<"$out")" = "[0,0]"

# --- exclude ------------------------------------------------------------------------
n3=$(find_ctrl "$P-3")
cat >"$CONF" <<EOF
io = { exclude = ( { nqn = "$P-3"; } ); };
EOF
out=$(sc --all --json) && rc=0 || rc=$?
check "with an exclude rule: exit 0" test "$rc" = 0
check "the excluded subsystem's stas path is disconnected" \
	test "$(jq -c '[.counts.disconnect, .["kernel-calls"]]' <<<"$out")" = "[1,1]"
reasons=$(jq -r '.subsystems[].actions[] | select(.action == "disconnect") | .reason' <<<"$out")
check "... because it is excluded" grep -q excluded <<<"$reasons"
wait_until 20 sh -c "! test -e /sys/class/nvme/$n3" || true
not_connected() { ! find_ctrl "$1" >/dev/null; }
check "$P-3 is not connected" not_connected "$P-3"
out=$(sc --all --json)
check "excluded: stays unconnected on the next run (no kernel call)" \
	test "$(jq -c '[.["kernel-calls"], .counts.connect]' <<<"$out")" = "[0,0]"
reasons=$(jq -r '.subsystems[].actions[] | select(.action == "skip") | .reason' <<<"$out")
check "the reason says excluded" grep -q excluded <<<"$reasons"

# --- a wrong option: reported with file:line, before any kernel call -----------------
disconnect_io
cat >"$CONF" <<EOF
io = {
  kato = "thirty";
};
EOF
err=$(sc --all 2>&1) && rc=0 || rc=$?
check "a config error exits 6" test "$rc" = 6
check "the error names the file and line" grep -q "$CONF:2" <<<"$err"
diag "$(head -1 <<<"$err")"
check "no controller was connected" test -z "$(nvme_ctrls io)"
: >"$CONF"
