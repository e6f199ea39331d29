#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# stas as a good neighbour (issue 14), against the kernel target on loopback
# (fast mode, with a udevd started for the remove events):
#  - every controller stas connects (I/O and discovery) gets a registry entry
#    owner "stas" stamped with the uevent counter; stas's disconnect removes
#    it, and so does the kernel's removal of a controller (stas's udev rule
#    line, run by a real udevd, with libnvme's guard);
#  - a controller connected by hand with `nvme connect` and registered to
#    another owner is never disconnected: --all, per-NQN and --shutdown, with
#    disconnect-scope all-connections-matching-disconnect-trtypes (which
#    would disconnect it without the entry: checked too);
#  - a DC registered to another owner is not read;
#  - an /etc/nvme/exclusions.conf entry added at run time keeps stas from
#    connecting that subsystem on the next run (the plan names file:line);
#    removing it lets stas connect it;
#  - a path nvme-cli connected without host-iface is not connected a second
#    time when stas's wanted path says host-iface=lo (src_addr is on lo).
# Run: tests/vm/run tests/vm/neighbours.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/connect-lib.sh"

P=nqn.2024-01.io.stas:nb
REG=/run/nvme/registry
nvmet_port_add 1 127.0.0.1 8009
for i in 1 2 3; do
	nvmet_subsys_add "$P-$i"
	nvmet_link 1 "$P-$i"
done
# Port 2: in no page the host reads. $P-3 again (the hand-made path) and $P-4.
nvmet_port_add 2 127.0.0.1 4420
nvmet_subsys_add "$P-4"
nvmet_link 2 "$P-3"
nvmet_link 2 "$P-4"
vm_on_exit nvmet_cleanup

cat >"$CONF" <<EOF
io = {
  disconnect-scope = "all-connections-matching-disconnect-trtypes";
  controllers = (
    { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = "4420"; nqn = "$P-4"; host-iface = "lo"; }
  );
};
EOF

# owner_of NVMEN: the registry owner, "" when none.
owner_of() { cat "$REG/$1/owner" 2>/dev/null || true; }
# ctrl_of NQN TRSVCID: the live I/O controller of NQN at 127.0.0.1:TRSVCID.
ctrl_of() {
	local c
	for c in $(nvme_ctrls io); do
		[ "$(ctrl_attr "$c" subsysnqn)" = "$1" ] || continue
		ctrl_attr "$c" address | grep -q "trsvcid=$2" && { echo "$c"; return 0; }
	done
	return 1
}
# reason_of JSON NQN: the reasons of the plan's items for NQN, one per line.
reasons() { jq -r --arg n "$2" '.subsystems[] | select(.nqn == $n) | .actions[] | "\(.action) \(.controller // "-") \(.reason // "")"' <<<"$1"; }

# udevd with stas's registry line, as the installed rule has it, from the build tree.
rule=$B/rules.d/70-stas-autoconnect.rules
[ -f "$rule" ] || bail "$rule is not built"
line=$(grep -m1 'stasadm registry remove' "$rule") || bail "no registry line in $rule"
mkdir -p /etc/udev/rules.d
{
	printf 'ACTION=="remove", SUBSYSTEM=="nvme", KERNEL=="nvme[0-9]*", ENV{NVME_TRTYPE}=="?*", ENV{NVME_TRTYPE}!="pcie", GOTO="t_reg"\nGOTO="t_end"\nLABEL="t_reg"\n'
	printf 'ENV{ASAN_OPTIONS}="detect_leaks=0"\n'
	sed "s|/usr/sbin/stasadm|$STASADM|" <<<"$line"
	printf 'LABEL="t_end"\n'
} >/etc/udev/rules.d/70-stas-registry-test.rules
vm_on_exit rm -f /etc/udev/rules.d/70-stas-registry-test.rules
udevd_start
udevadm control --reload

# nvme-cli's path to $P-4, made without host-iface (stas wants it with host-iface=lo).
nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$P-4" >/dev/null 2>&1 || fail "nvme connect $P-4"
wait_until 20 ctrl_of "$P-4" 4420 >/dev/null || bail "$P-4 is not connected"
c4=$(ctrl_of "$P-4" 4420)
diag "$c4 address: $(ctrl_attr "$c4" address)"

# --- 1. stas connects: every controller registered -------------------------------------
sd -t tcp -a 127.0.0.1 -s 8009 >/dev/null 2>/tmp/sd.err || {
	sed 's/^/#   /' /tmp/sd.err
	bail "stas-discover failed"
}
dc=$(nvme_ctrls disc | head -1)
if [ -n "$dc" ]; then
	check "the persistent DC connection stas made ($dc) is registered owner stas" \
		test "$(owner_of "$dc")" = stas
fi
out=$(sc --all --json 2>/tmp/sc.err) && rc=0 || rc=$?
check "stas-connect --all exits 0" test "$rc" = 0 || sed 's/^/#   /' /tmp/sc.err
check "3 connects (the page's subsystems; $P-4 is nvme-cli's $c4)" \
	test "$(jq -c '.counts.connect' <<<"$out")" = 3
seq_now=$(cat /sys/kernel/uevent_seqnum)
for i in 1 2 3; do
	c=$(ctrl_of "$P-$i" 8009) || { fail "$P-$i is connected"; continue; }
	s=$(cat "$REG/$c/seqnum" 2>/dev/null || echo 0)
	check "$c ($P-$i): registry owner stas, stamped ($s <= $seq_now)" \
		test "$(owner_of "$c")" = stas -a "$s" -gt 0 -a "$s" -le "$seq_now"
done
regs=$("$STASADM" registry --json 2>/dev/null || echo '[]')
check "stasadm registry lists them" \
	test "$(jq '[.[] | select(.owner == "stas" and .controller.state == "live")] | length' <<<"$regs")" -ge 3

# --- 2. a hand-made controller registered to another owner -------------------------------
nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$P-3" >/dev/null 2>&1 || fail "nvme connect (by hand)"
wait_until 20 ctrl_of "$P-3" 4420 >/dev/null || bail "the hand-made $P-3 controller is not there"
hand=$(ctrl_of "$P-3" 4420)
out=$(sc --dry-run --json "$P-3")
check "without a registry entry, disconnect-scope all-... would disconnect $hand" \
	grep -q "^disconnect $hand " <<<"$(reasons "$out" "$P-3")"
mkdir -p "$REG/$hand"
echo admin >"$REG/$hand/owner"
cat /sys/kernel/uevent_seqnum >"$REG/$hand/seqnum"
out=$(sc --json "$P-3") && rc=0 || rc=$?
check "per-NQN run exits 0" test "$rc" = 0
check "per-NQN: $hand skipped, owned by admin" \
	grep -q "^skip $hand .*owned by admin (registry)" <<<"$(reasons "$out" "$P-3")"
out=$(sc --all --json) && rc=0 || rc=$?
check "--all: no disconnect, $hand still there" \
	test "$rc" = 0 -a "$(jq '.counts.disconnect' <<<"$out")" = 0 -a -e "/sys/class/nvme/$hand"
"$STASADM" --cache-dir "$C" --config "$CONF" paths >/tmp/paths.out 2>&1 || true
check "stasadm paths shows $hand's owner" grep -qE "^$hand +io +live +admin " /tmp/paths.out

# --- 3. a DC owned by someone else is not read --------------------------------------------
if [ -n "$dc" ]; then
	echo discoverd >"$REG/$dc/owner"
	"$DISCOVER" --config "$CONF" --cache-dir "$C" --no-systemd --no-connect "$dc" \
		>/dev/null 2>/tmp/sd.err && rc=0 || rc=$?
	check "stas-discover on discoverd's $dc: exit 0, not read" \
		test "$rc" = 0 -a -n "$(grep 'Not reading discovery controller' /tmp/sd.err)"
	echo stas >"$REG/$dc/owner"
	# /run lost the entry: the next discovery through it puts it back (cache and registry agree).
	rm -rf "${REG:?}/$dc"
	sd -t tcp -a 127.0.0.1 -s 8009 >/dev/null 2>/tmp/sd.err || fail "rediscover through $dc"
	check "a lost registry entry of stas's DC connection $dc is restored" \
		test "$(owner_of "$dc")" = stas
fi

# --- 4. the host exclusion list, edited at run time ---------------------------------------
mkdir -p /etc/nvme
printf '# maintenance\n[exclusions]\nexclusion = nqn=%s-2\n' "$P" >/etc/nvme/exclusions.conf
vm_on_exit rm -f /etc/nvme/exclusions.conf
c2=$(ctrl_of "$P-2" 8009)
echo 1 >"/sys/class/nvme/$c2/delete_controller"
wait_until 20 sh -c "! test -e /sys/class/nvme/$c2" || fail "$c2 deleted"
# The kernel's removal: the udev rule drops the entry (no device node, newer SEQNUM).
wait_until 20 sh -c "! test -e $REG/$c2" && ok "kernel removal of $c2: the udev rule removed its entry" ||
	fail "kernel removal of $c2: the udev rule removed its entry"
out=$(sc --all --json) && rc=0 || rc=$?
check "next run with $P-2 excluded: exits 0, nothing connected" \
	test "$rc" = 0 -a "$(jq '.counts.connect' <<<"$out")" = 0
check "... the plan names /etc/nvme/exclusions.conf:3" \
	grep -q "^skip - excluded by /etc/nvme/exclusions.conf:3 (host exclusion list)" <<<"$(reasons "$out" "$P-2")"
"$STASADM" --cache-dir "$C" --config "$CONF" status >/tmp/status.out 2>&1 || true
check "stasadm status lists the excluded path and where" \
	grep -q "$P-2.*excluded by /etc/nvme/exclusions.conf:3" /tmp/status.out
: >/etc/nvme/exclusions.conf
out=$(sc --all --json) && rc=0 || rc=$?
check "the entry removed: the next run connects $P-2" \
	test "$rc" = 0 -a "$(jq '.counts.connect' <<<"$out")" = 1
c2=$(ctrl_of "$P-2" 8009) && check "... registered owner stas" test "$(owner_of "$c2")" = stas

# --- 5. src_addr: nvme-cli's path without host-iface serves stas's host-iface=lo path ------
if ctrl_attr "$c4" address | grep -q src_addr=; then
	out=$(sc --json "$P-4") && rc=0 || rc=$?
	check "host-iface=lo wanted, $c4 leaves through lo: kept, no connect" \
		test "$rc" = 0 -a "$(jq -c '[.counts.keep, .counts.connect, .["kernel-calls"]]' <<<"$out")" = "[1,0,0]"
	check "... exactly one controller of $P-4" \
		test "$(for c in $(nvme_ctrls io); do ctrl_attr "$c" subsysnqn; done | grep -cx "$P-4")" = 1
	check "... and the plan says why" grep -q "^keep $c4 served by $c4: its src_addr 127.0.0.1 meets" <<<"$(reasons "$out" "$P-4")"
else
	skip "this kernel reports no src_addr"
fi

# --- 6. every disconnect scope, --shutdown included -----------------------------------------
"$CONNECT" --cache-dir "$C" --shutdown >/dev/null 2>/tmp/sh.err && rc=0 || rc=$?
check "stas-connect --shutdown exits 0" test "$rc" = 0 || sed 's/^/#   /' /tmp/sh.err
check "--shutdown left admin's $hand and nvme-cli's $c4" \
	test -e "/sys/class/nvme/$hand" -a -e "/sys/class/nvme/$c4"
left=0
for i in 1 2; do ctrl_of "$P-$i" 8009 >/dev/null && left=$((left + 1)); done
check "--shutdown disconnected stas's own controllers" test "$left" = 0
check "--shutdown removed stas's entries before disconnecting, admin's stays" \
	test "$(grep -lx stas $REG/*/owner 2>/dev/null | wc -l)" = 0 -a "$(owner_of "$hand")" = admin
