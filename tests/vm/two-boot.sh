#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Two boots of one host sharing a disk that holds /var/cache/stas (system
# mode, stas installed, tests/vm/run --disk): run it as two-boot.sh boot1,
# then two-boot.sh boot2 with the same disk image (tests/vm/two-boot.test).
#
# The configured discovery controller is tests/hostile-dc (scenario normal:
# a well-behaved user-space DC) on 127.0.0.1:8009, listing subsystems that
# live on the kernel target's port 127.0.0.1:4420 - so the DC can be withheld
# while the I/O port stays up, as when a fabric's discovery service is down
# or slow at boot.
#  boot1: stas.target discovers the DC and connects s1..s3; the cache
#         verifies clean; then an orderly `systemctl poweroff` (stas's
#         shutdown teardown disconnects its controllers, the disk is
#         unmounted).
#  boot2: the kernel target has s1..s4 (s4 added while the host was down) but
#         the DC is not running: stas.target connects s1..s3 from the cache
#         alone, `stasadm verify` is clean, nothing waits on the DC; then the
#         DC starts, listing s1..s4: discovery catches up by itself (the DC is
#         retried; the test waits for the outcome, whatever the retry
#         schedule) and s4 is connected.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

phase=${1:-}
[ "$phase" = boot1 ] || [ "$phase" = boot2 ] || bail "usage: two-boot.sh boot1|boot2"
[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode (tests/vm/run --system)"
[ -x /usr/libexec/stas/stas-connect ] || skip_all "stas is not installed in the guest (--install-dir)"
HDC=${top_builddir:?top_builddir is not set}/tests/hostile-dc/hostile-dc
[ -x "$HDC" ] || skip_all "tests/hostile-dc/hostile-dc is not built (make check builds it)"
mountpoint -q /var/cache/stas || bail "$phase: no persistent disk on /var/cache/stas (tests/vm/run --disk IMG)"
STASADM=/usr/sbin/stasadm
V=nqn.2026-12.io.stas.twoboot
DISC=$NVME_DISC_NQN
DC_PORT=8009
R=$STAS_VM_RUNDIR/twoboot
mkdir -p "$R"

# An AddressSanitizer build under the shipped units: LSan needs ptrace, which
# the units' SystemCallFilter denies (see e2e-system.sh).
vm_units_no_lsan

# One host: the same identity in both boots (the rest of / is new each boot).
echo nqn.2014-08.org.nvmexpress:uuid:6a3f0c52-8d1e-4b7a-9e2f-0c4d5b6a7e81 >/etc/nvme/hostnqn
echo 6a3f0c52-8d1e-4b7a-9e2f-0c4d5b6a7e81 >/etc/nvme/hostid
mkdir -p /etc/stas
cat >/etc/stas/stas.conf <<EOF
discovery: { controllers = ( { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = $DC_PORT; } ); };
EOF

# The kernel target: the I/O port only.
nvmet_port_add 1 127.0.0.1 4420
subsystems="s1 s2 s3"
[ "$phase" = boot1 ] || subsystems+=" s4"
for i in $subsystems; do
	nvmet_subsys_add "$V:$i" 1 0
	nvmet_link 1 "$V:$i"
done

all_live() {
	local i
	for i in "$@"; do has_live "$V:$i" || return 1; done
}
dc_live() {
	local c
	c=$(find_ctrl "$DISC" 127.0.0.1 "$DC_PORT") && [ "$(ctrl_attr "$c" state)" = live ]
}
no_failed_stas_units() {
	local f
	f=$(systemctl list-units --failed --plain --no-legend 'stas*' | awk '{print $1}' | xargs)
	[ -z "$f" ] || {
		echo "failed: $f"
		return 1
	}
}
ms_since() { echo $(((${EPOCHREALTIME/[.,]/} - $1) / 1000)); }
dc_start() { # the DC, listing the given subsystems
	local a=() i
	for i in "$@"; do a+=(-n "$V:$i"); done
	rm -f "$R/hdc.ready"
	vm_bg "$HDC" --scenario normal --port "$DC_PORT" --ready "$R/hdc.ready" \
		--io-addr 127.0.0.1 --io-port 4420 "${a[@]}" 2>>"$R/hdc.log"
	wait_until 10 test -e "$R/hdc.ready" || bail "$phase: hostile-dc did not start: $(cat "$R/hdc.log")"
}
cache_diag() {
	"$STASADM" ls 2>&1 | sed "s/^/# $phase: stasadm ls: /" || true
}

if [ "$phase" = boot1 ]; then
	# --- Boot 1: an empty cache on a new disk; discover and connect --------------
	out=$("$STASADM" stats --json 2>&1 || true)
	check "boot 1: the cache on the new disk is empty" \
		test "$(jq -c '[.dcs, .entries]' <<<"$out" 2>&1)" = '[0,0]'
	dc_start s1 s2 s3
	t0=${EPOCHREALTIME/[.,]/}
	systemctl start stas.target || true
	if wait_until 120 all_live s1 s2 s3; then
		ok "boot 1: stas.target discovered the DC and connected s1 s2 s3 ($(ms_since "$t0") ms)"
	else
		fail "boot 1: stas.target discovered the DC and connected s1 s2 s3"
	fi
	check "boot 1: the persistent discovery connection to the DC is live" wait_until 30 dc_live
	check "boot 1: the cache verifies clean" "$STASADM" verify
	check "boot 1: no stas unit failed" no_failed_stas_units
	cache_diag
	# Results now: an orderly poweroff follows (stas's teardown, the disk
	# unmounted), and this unit is stopped by it.
	rc=0
	[ "$_vm_failed" = 0 ] || rc=1
	diag "boot 1: $_vm_passed passed, $_vm_failed failed; systemctl poweroff"
	echo "$rc" >"$STAS_VM_RESULTS/status.tmp" && mv "$STAS_VM_RESULTS/status.tmp" "$STAS_VM_RESULTS/status"
	sync
	trap - EXIT
	systemctl --no-block poweroff
	while :; do vm_sleep 60; done
fi

# --- Boot 2: the DC is down; the cache brings the volumes back ------------------------
out=$("$STASADM" stats --json 2>&1 || true)
check "boot 2: boot 1's cache is on the disk (1 DC, 3 entries)" \
	test "$(jq -c '[.dcs, .entries]' <<<"$out" 2>&1)" = '[1,3]'
check "boot 2: the cache verifies clean before stas starts" "$STASADM" verify
cache_diag
check "boot 2: nothing listens on the DC's port" \
	sh -c "! nvme discover -t tcp -a 127.0.0.1 -s $DC_PORT >/dev/null 2>&1"
t0=${EPOCHREALTIME/[.,]/}
systemctl start stas.target || true
t_start=$(ms_since "$t0")
if wait_until 90 all_live s1 s2 s3; then
	ok "boot 2, DC down: s1 s2 s3 came back from the cache ($(ms_since "$t0") ms; systemctl start returned after $t_start ms)"
else
	fail "boot 2, DC down: s1 s2 s3 came back from the cache"
fi
check "boot 2: stas-discover-all.service finished (the boot does not wait on the DC)" \
	systemctl is-active stas-discover-all.service
check "boot 2: s4, unknown to the cache, is not connected yet" sh -c "[ $(live_io "$V:s4") = 0 ]"
check "boot 2: the cache verifies clean with the DC down" "$STASADM" verify
journalctl -b -o cat -u stas-discover-all.service --no-pager 2>/dev/null | tail -n 6 |
	sed 's/^/# boot 2: stas-discover-all: /' || true

# The DC comes up, listing s4 too.
dc_start s1 s2 s3 s4
t1=${EPOCHREALTIME/[.,]/}
if wait_until 240 has_live "$V:s4"; then
	ok "boot 2: the DC appeared, discovery caught up and s4 (added meanwhile) is connected ($(ms_since "$t1") ms after the DC started)"
else
	fail "boot 2: the DC appeared, discovery caught up and s4 (added meanwhile) is connected"
	journalctl -b -o short-monotonic --no-pager 2>/dev/null | grep -E 'stas-discover|stas-connect' |
		tail -n 20 | cut -c1-200 | sed 's/^/#   /' || true
fi
check "boot 2: the persistent discovery connection to the DC is live" wait_until 30 dc_live
check "boot 2: s1..s4 live, one controller each" \
	sh -c "[ $(live_io "$V:s1")$(live_io "$V:s2")$(live_io "$V:s3")$(live_io "$V:s4") = 1111 ]"
check "boot 2: the cache verifies clean" "$STASADM" verify
check "boot 2: the cache has the DC's new page (1 DC, 4 entries)" \
	sh -c "[ \"\$($STASADM stats --json | jq -c '[.dcs, .entries]')\" = '[1,4]' ]"
check "boot 2: no stas unit failed" no_failed_stas_units
cache_diag
