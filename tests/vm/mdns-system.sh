#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# stas-mdns-watch in system mode with real avahi-daemon, stas installed and
# (at first) no stas configuration at all. A kernel target listens on a
# dummy interface; DCs are announced with avahi-publish.
#  1. a DC published on 8009 -> its subsystems connected, nothing configured;
#  2. a DC whose port does not answer -> no kernel connect until it does;
#  3. malformed announcements -> one log line each, nothing crashes;
#  4. _nvme-disc._udp (p=roce) -> rdma, whose connect fails clearly here;
#  5. avahi-daemon restarted -> announcements still followed;
#  6. a short persistence by reload; unpublish and re-publish before expiry
#     -> nothing purged;
#  7. unpublish -> after the persistence the DC is purged, its persistent
#     discovery connection and its stas-only paths disconnected;
#  8. zeroconf disabled -> reload stops browsing; at start, the unit's
#     condition keeps it from running.
# Run: make install DESTDIR=D && tests/vm/run --system --install-dir D tests/vm/mdns-system.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode (tests/vm/run --system)"
[ -x /usr/libexec/stas/stas-mdns-watch ] || skip_all "stas is not installed in the guest (--install-dir)"
command -v avahi-publish >/dev/null || skip_all "avahi-utils not installed"
STASADM=/usr/sbin/stasadm
IF=stasmd0
A=192.168.252.1
V=nqn.2026-11.io.stas.mdns
W=stas-mdns-watch.service

for u in dbus.service avahi-daemon.service; do
	systemctl is-active -q "$u" || systemctl start "$u" || true
done
check "avahi-daemon is active" systemctl is-active avahi-daemon.service
# make install puts the annotated example (every section empty) in place.
check "no stas configuration (the shipped example, all defaults)" \
	sh -c "! test -e /etc/stas/stas.conf || cmp -s /etc/stas/stas.conf /usr/share/doc/stas/stas.conf.example"
dummy_add "$IF" "$A/24"
# At exit, before the interface goes: no controller may be left reconnecting
# through it, or the guest's shutdown waits for them.
vm_on_exit nvme disconnect-all
vm_on_exit systemctl stop $W

# An AddressSanitizer build: its exit-time leak check needs ptrace, which the
# units' SystemCallFilter denies (see e2e-system.sh).
vm_units_no_lsan
systemctl daemon-reload

nvmet_port_add 1 "$A" 8009
for v in a b; do
	nvmet_subsys_add "$V:$v"
	nvmet_link 1 "$V:$v"
done

live() { # live I/O controllers of NQN >= 1
	local c
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/subsysnqn" ] || continue
		[ "$(cat "$c/subsysnqn")" = "$1" ] && [ "$(cat "$c/state")" = live ] && return 0
	done
	return 1
}
gone() { ! grep -qxF "$1" /sys/class/nvme/nvme*/subsysnqn 2>/dev/null; }
wlog() { journalctl -b --no-pager -o cat -u $W; }
wlog_has() { wlog | grep -qE -- "$1"; }
in_cache() { "$STASADM" ls 2>/dev/null | grep -q -- "$1"; }
publish() { # NAME TYPE PORT TXT...: sets PUB
	avahi-publish -s "$@" >/dev/null 2>&1 &
	PUB=$!
	vm_on_exit kill "$PUB"
}

t0=$(date +%s)
systemctl start $W
check "$W is active" systemctl is-active $W

# 1 + 2: a DC that answers, and one on a port nobody listens on (yet)
publish stas-dc1 _nvme-disc._tcp 8009 p=tcp
PUB1=$PUB
publish stas-dc2 _nvme-disc._tcp 8010 p=tcp
if wait_until 90 live "$V:a" && wait_until 30 live "$V:b"; then
	ok "published DC: both subsystems connected with no stas configuration ($(($(date +%s) - t0)) s)"
else
	fail "published DC: both subsystems connected with no stas configuration"
fi
check "the DC is in the cache with origin mdns" sh -c "$STASADM ls | grep '$A' | grep -q mdns"
check "the watcher logged the hand-over" wlog_has "Handed .*$A, 8009.* over to stas-discover@"
check "the port that does not answer was probed" wlog_has "$A, 8010.* does not answer"
check "no kernel connect was tried for it" sh -c "! journalctl -b --no-pager | grep -q 'stas-discover@tcp-$A-8010'"
check "no controller for it" sh -c "! grep -l 'trsvcid=8010' /sys/class/nvme/nvme*/address 2>/dev/null | grep -q ."
nvmet_port_add 2 "$A" 8010
nvmet_subsys_add "$V:c"
nvmet_link 2 "$V:c"
t1=$(date +%s)
if wait_until 90 live "$V:c"; then
	ok "once the port answers, the DC is handed over and its subsystem connected ($(($(date +%s) - t1)) s)"
else
	fail "once the port answers, the DC is handed over"
fi

# 3: malformed announcements
publish bad-nop _nvme-disc._tcp 8011 foo=bar
publish bad-unknown _nvme-disc._tcp 8011 p=fc
# 300 bytes cannot go on the wire (a TXT string holds 255): the longest that can.
publish bad-longnqn _nvme-disc._tcp 8011 p=tcp "nqn=nqn.2014-08.io.stas:$(printf 'x%.0s' {1..227})"
publish bad-utf8 _nvme-disc._tcp 8011 p=tcp $'v=\xff\xfe'
publish bad-dup _nvme-disc._tcp 8011 p=tcp p=tcp
for n in bad-nop:"no p=" bad-unknown:"unknown protocol p=fc" bad-longnqn:"nqn= of" \
	bad-utf8:"not UTF-8" bad-dup:"duplicated"; do
	if wait_until 30 wlog_has "Ignoring announcement '${n%%:*}'.*${n#*:}"; then
		ok "malformed announcement ${n%%:*} ignored with a log line (${n#*:})"
	else
		fail "malformed announcement ${n%%:*} ignored with a log line"
	fi
done
check "the watcher is still running" systemctl is-active $W

# 4: _udp -> rdma
publish stas-rdma _nvme-disc._udp 4420 p=roce
if wait_until 30 wlog_has "Handed \(rdma, $A, 4420"; then
	ok "_nvme-disc._udp with p=roce is handed over as rdma"
else
	fail "_nvme-disc._udp with p=roce is handed over as rdma"
fi
rdma_unit=stas-discover@rdma-$A-4420.service
_rdma_failed() { journalctl -b --no-pager -o cat -u "$rdma_unit" | grep -qiE "fail|error"; }
if wait_until 60 _rdma_failed; then
	ok "the rdma connect fails with a clear error: $(journalctl -b --no-pager -o cat -u "$rdma_unit" | grep -iE 'fail|error' | head -1)"
else
	fail "the rdma connect fails with a clear error"
	journalctl -b --no-pager -o cat -u "$rdma_unit" | tail -5 | sed 's/^/#   /'
fi

# 5: avahi-daemon restart (its publishers die with it: publish again)
systemctl restart avahi-daemon.service
kill "$PUB1" 2>/dev/null || true
publish stas-dc1 _nvme-disc._tcp 8009 p=tcp
PUB1=$PUB
publish stas-dc2 _nvme-disc._tcp 8010 p=tcp
nvmet_port_add 3 "$A" 8012
nvmet_subsys_add "$V:d"
nvmet_link 3 "$V:d"
publish stas-dc3 _nvme-disc._tcp 8012 p=tcp
if wait_until 90 live "$V:d"; then
	ok "after an avahi-daemon restart, a new announcement is followed"
else
	fail "after an avahi-daemon restart, a new announcement is followed"
fi
check "the watcher noticed the restart and came back" sh -c "journalctl -b --no-pager -o cat -u $W | grep -A3 'Lost avahi-daemon' | grep -q 'avahi-daemon is back'"

# 6: short persistence by reload, then unpublish and re-publish in time
mkdir -p /etc/stas
cat >/etc/stas/stas.conf <<'CONF'
discovery: {
  zeroconf-connections-persistence = "25s";
};
CONF
check "config is valid" "$STASADM" config check
systemctl reload $W
check "reloaded" wlog_has "Reloading the configuration"
_dc1_advertised() { "$STASADM" show --json -t tcp -a $A -s 8009 -f $IF 2>/dev/null | grep -q '"mdns-advertised": *true'; }
wait_until 60 live "$V:a" && wait_until 60 _dc1_advertised || true
kill "$PUB1" || true
if wait_until 30 wlog_has "$A, 8009.*no longer advertised; purged in 25 s"; then
	ok "goodbye: the DC is marked unadvertised"
else
	fail "goodbye: the DC is marked unadvertised"
fi
vm_sleep 5
publish stas-dc1 _nvme-disc._tcp 8009 p=tcp
PUB1=$PUB
wait_until 30 _dc1_advertised || true
vm_sleep 30
check "re-published before expiry: still in the cache" in_cache "$A"
check "re-published before expiry: subsystems still connected" sh -c "$(declare -f live); live $V:a && live $V:b"
check "re-published before expiry: nothing purged" sh -c "! journalctl -b --no-pager -o cat -u $W | grep -q 'Purged .*$A, 8009'"

# 7: unpublish and let it expire
kill "$PUB1" || true
t1=$(date +%s)
if wait_until 90 wlog_has "Purged .*$A, 8009"; then
	ok "unpublished: the DC is purged after the persistence ($(($(date +%s) - t1)) s)"
else
	fail "unpublished: the DC is purged after the persistence"
fi
check "it is gone from the cache" sh -c "! $STASADM ls | grep -q '$A  *8009\|$A.*8009'"
if wait_until 60 gone "$V:a" && wait_until 30 gone "$V:b"; then
	ok "its stas-only paths are disconnected"
else
	fail "its stas-only paths are disconnected"
fi
check "its persistent discovery connection is deleted" sh -c "! grep -l 'trsvcid=8009' /sys/class/nvme/nvme*/address 2>/dev/null | grep -q ."
check "the other DCs' subsystems stay" sh -c "$(declare -f live); live $V:c && live $V:d"

# 8: zeroconf disabled
cat >/etc/stas/stas.conf <<'CONF'
discovery: {
  zeroconf = "disabled";
};
CONF
systemctl reload $W
check "reload with zeroconf disabled stops browsing" sh -c "journalctl -b --no-pager -o cat -u $W | grep -q 'zeroconf is disabled: browsing stopped'"
nvmet_port_add 4 "$A" 8013
nvmet_subsys_add "$V:e"
nvmet_link 4 "$V:e"
publish stas-dc4 _nvme-disc._tcp 8013 p=tcp
vm_sleep 10
check "zeroconf disabled: nothing browsed" sh -c "! journalctl -b --no-pager -o cat -u $W | grep -q \"'stas-dc4'\""
check "zeroconf disabled: nothing connected" gone "$V:e"
systemctl restart $W || true
check "zeroconf disabled at start: the condition keeps the unit from running" \
	sh -c "! systemctl is-active -q $W && journalctl -b --no-pager -o cat -u $W | grep -q 'zeroconf is disabled in the configuration: not starting'"

check "the watcher never crashed or restarted" test "$(systemctl show -p NRestarts --value $W)" = 0
check "no sanitizer report" sh -c "! journalctl -b --no-pager | grep -qE 'ERROR: AddressSanitizer|runtime error:'"
failed=$(systemctl list-units --failed --plain --no-legend 'stas*' | awk '{print $1}' | grep -v '^stas-discover@rdma' | xargs || true)
check "no stas unit failed (but the rdma one)${failed:+ ($failed)}" test -z "$failed"
diag "$("$STASADM" status 2>&1 | head -30)"
wlog | tail -60 | while IFS= read -r l; do diag "$l"; done
