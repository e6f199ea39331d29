#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# What Debian 13's kernel (6.12) can do that 6.1 cannot, against stas built
# in the Debian 13 root (tests/vm/trixie-build), in one fast-mode boot:
#  loop    an nvme-loop port: stas-discover -t loop reads its page and
#          connects its subsystems (no traddr, no trsvcid anywhere);
#  dhchap  DH-HMAC-CHAP: a subsystem that allows one host with a host key
#          (unidirectional, host.key from a file://), one where stas also
#          sends the controller key (bidirectional, per-controller config), one
#          with a wrong key: a clear error naming the controller, recorded as a
#          failed attempt (stas-connect fails, systemd's RestartSec is the
#          backoff), no secret in any output; a DC configured with a secret
#          gets it and its page is read;
#  tls     TP8011: a port with addr_treq required and addr_tsas tls1.3;
#          configured PSKs (host.tls-key for the TLS-required DLP entry, a
#          controller's tls-key with tls = true) that stas derives and
#          inserts into .nvme itself (nvme-cli only generates them and, as
#          the oracle, gives the same identities and TLS PSK); tlshd
#          running: both connected over TLS with stas's keys, listed by nvme
#          list-subsys; without tlshd, one skip reason each; a malformed key
#          refused with file and line; no PSK in any output;
#  authdc  a DC that requires DH-HMAC-CHAP (hostile-dc --dhchap-key: nvmet
#          never authenticates discovery): discovered with its secret, also
#          bidirectionally; a wrong host or controller key or none: exit 1,
#          an error naming the DC, one failed attempt per run, no secret shown.
#  fc      nvme-fcloop: the FC_EVENT=nvmediscovery uevent (remote port added,
#          "add" written to nvme_discovery) goes through stas's udev rule to
#          one stas-discover@ instance; stas-discover run with it and no
#          configuration connects the FC DC's subsystems; reruns are
#          idempotent; a subsystem no longer offered to the host is
#          disconnected by stas (on the FC DC's AEN).
# Run: tests/vm/run --kernel 6.12 tests/vm/features-612.sh [SECTION...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_612_build nvme jq keyctl

C=/tmp/stas-612-cache
CONF=/tmp/stas-612.conf
export RUNTIME_DIRECTORY=$STAS_VM_RUNDIR/stas
mkdir -p "$RUNTIME_DIRECTORY"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
HOSTNQN=$(cat /etc/nvme/hostnqn)
ALL_OUT=/tmp/stas-612-all-output.txt
: >"$ALL_OUT"
: >"$CONF"
# cache_has_string STRING...: the cache (stasadm status --json) holds each.
cache_has_string() {
	local j s
	j=$("$STASADM" --cache-dir "$C" --config "$CONF" status --json) || return 1
	for s in "$@"; do
		jq -e --arg s "$s" '[.. | strings | select(. == $s)] | length > 0' <<<"$j" >/dev/null || return 1
	done
}

# sd/sc ARGS: stas-discover (connecting in-process) / stas-connect on the
# test cache and config; their stdout+stderr also go to $ALL_OUT (the secret
# check reads it).
sd() {
	local rc=0
	timeout -k 5 120 "$DISCOVER" --config "$CONF" --cache-dir "$C" --no-systemd "$@" >/tmp/sd.out 2>/tmp/sd.err || rc=$?
	cat /tmp/sd.out /tmp/sd.err >>"$ALL_OUT"
	return "$rc"
}
sc() {
	local rc=0
	timeout -k 5 120 "$CONNECT" --config "$CONF" --cache-dir "$C" "$@" >/tmp/sc.out 2>/tmp/sc.err || rc=$?
	cat /tmp/sc.out /tmp/sc.err >>"$ALL_OUT"
	return "$rc"
}
not_connected() { ! find_ctrl "$1" >/dev/null; }
# live_ctrl NQN: the live controller of NQN (printed), else fail.
live_ctrl() {
	local c
	c=$(find_ctrl "$1") || return 1
	wait_for_ctrl_state "$c" live 20 || return 1
	echo "$c"
}
reset_all() {
	local c
	for c in $(nvme_ctrls all); do
		diag "cleanup: $c $(ctrl_attr "$c" subsysnqn) $(ctrl_attr "$c" state)"
		timeout 20 sh -c "echo 1 >/sys/class/nvme/$c/delete_controller" 2>/dev/null || diag "cleanup: deleting $c failed"
	done
	wait_for_ctrls_count 0 30 all || diag "cleanup: controllers left: $(nvme_ctrls all | tr '\n' ' ')"
	nvmet_cleanup
	rm -rf "$C"
	: >"$CONF"
}

sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(loop dhchap tls authdc fc)
want() {
	local s
	for s in "${sections[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}
vm_on_exit reset_all

# --- nvme-loop -------------------------------------------------------------------
loop_section() {
	local L=nqn.2024-01.io.stas:loop c n=0
	modprobe nvme-loop || bail "modprobe nvme-loop"
	_nvmet_init
	mkdir "$NVMET/ports/9"
	echo loop >"$NVMET/ports/9/addr_trtype"
	nvmet_subsys_add "$L-1"
	nvmet_subsys_add "$L-2"
	nvmet_link 9 "$L-1"
	nvmet_link 9 "$L-2"
	if sd -t loop --json; then ok "loop: stas-discover -t loop exits 0"; else
		fail "loop: stas-discover -t loop exits 0"
		sed 's/^/#   /' /tmp/sd.err
	fi
	for nqn in "$L-1" "$L-2"; do
		if c=$(live_ctrl "$nqn"); then
			n=$((n + 1))
			check "loop: $nqn connected over loop ($c)" test "$(ctrl_attr "$c" transport)" = loop
		else
			fail "loop: $nqn connected"
		fi
	done
	check "loop: the cache has the loop DC and both subsystems" cache_has_string loop "$L-1" "$L-2"
	sc --all --json || true
	check "loop: a stas-connect rerun changes nothing" \
		test "$(jq -c '[.["kernel-calls"], .counts.connect]' /tmp/sc.out)" = "[0,0]"
	reset_all
}

# --- DH-HMAC-CHAP ------------------------------------------------------------------
dhchap_section() {
	local A=nqn.2024-01.io.stas:auth-uni Bi=nqn.2024-01.io.stas:auth-bi W=nqn.2024-01.io.stas:auth-wrong
	local hk ck wk h c rc
	hk=$(nvme gen-dhchap-key -n "$HOSTNQN" -m 1)
	ck=$(nvme gen-dhchap-key -n "$HOSTNQN" -m 1)
	wk=$(nvme gen-dhchap-key -n "$HOSTNQN" -m 1)
	[[ $hk == DHHC-1:01:* && $ck == DHHC-1:01:* ]] || bail "nvme gen-dhchap-key gave '${hk:0:12}...'"
	_nvmet_init
	h=$NVMET/hosts/$HOSTNQN
	mkdir -p "$h"
	echo "$hk" >"$h/dhchap_key"
	echo "$ck" >"$h/dhchap_ctrl_key"
	echo "hmac(sha256)" >"$h/dhchap_hash"
	# One port for discovery and I/O: nvmet's page names the port the host
	# asked, so the entries are the configured controllers' paths.
	nvmet_port_add 1 127.0.0.1 8009
	for nqn in "$A" "$Bi" "$W"; do
		nvmet_subsys_add "$nqn" 0
		nvmet_host_allow "$nqn" "$HOSTNQN"
		nvmet_link 1 "$nqn"
	done
	mkdir -p /etc/stas
	printf '%s\n' "$hk" >/etc/stas/host.key
	printf '%s\n' "$ck" >/etc/stas/auth-bi.ctrl.key
	chmod 600 /etc/stas/host.key /etc/stas/auth-bi.ctrl.key
	cat >"$CONF" <<EOF
host = { key = "file:///etc/stas/host.key"; };
discovery = { controllers = (
  { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = "8009"; dhchap-secret = "$hk"; } ); };
io = { controllers = (
  { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = "8009"; nqn = "$Bi";
    dhchap-ctrl-secret = "file:///etc/stas/auth-bi.ctrl.key"; },
  { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = "8009"; nqn = "$W";
    dhchap-secret = "$wk"; } ); };
EOF
	chmod 600 "$CONF"
	rc=0
	sd -t tcp -a 127.0.0.1 -s 8009 --json || rc=$?
	diag "stas-discover exited $rc"
	sed 's/^/#   sd: /' /tmp/sd.err | head -20
	c=$(find_ctrl "$NVME_DISC_NQN" 127.0.0.1 8009 || true)
	check "dhchap: the DC's page was read (3 subsystems in the cache)" cache_has_string "$A" "$Bi" "$W"
	# Wait for the connects (sd connects in-process for changed NQNs).
	sc --all --json || true
	if c=$(live_ctrl "$A"); then
		ok "dhchap: unidirectional ($A) connected as $c"
		check "... with host.key as its dhchap_secret" test "$(ctrl_attr "$c" dhchap_secret)" = "$hk"
		check "... and no controller key" test "$(ctrl_attr "$c" dhchap_ctrl_secret)" = none
	else
		fail "dhchap: unidirectional ($A) connected"
		sc --json "$A" || true
		cat /tmp/sc.out /tmp/sc.err | sed 's/^/#   /' 
	fi
	if c=$(live_ctrl "$Bi"); then
		ok "dhchap: bidirectional ($Bi) connected as $c"
		check "... with the configured controller key" test "$(ctrl_attr "$c" dhchap_ctrl_secret)" = "$ck"
	else
		fail "dhchap: bidirectional ($Bi) connected"
	fi
	check "dhchap: the wrong key did not connect" not_connected "$W"
	rc=0
	sc --json "$W" || rc=$?
	check "dhchap: stas-connect $W fails (exit $rc; systemd restarts it after RestartSec)" \
		test "$rc" != 0 -a "$rc" != 2 -a "$rc" != 6
	sed 's/^/#   sc: /' /tmp/sc.err
	sed 's/^/#   sc.out: /' /tmp/sc.out | grep -i -e error -e reason | head -5
	# Under heavy TCG load nvmet can time the exchange out ("ctrl N fatal
	# error occurred!"): the connect then fails with EIO, not the key's
	# error. Such an attempt proves nothing about the message; try again.
	said=1
	for i in 1 2 3; do
		if grep -qi 'authentication failed' /tmp/sc.out /tmp/sc.err; then
			said=0
			break
		fi
		diag "dhchap: attempt $i failed otherwise: $(grep -i -m1 error /tmp/sc.err)"
		sc --json "$W" || true
	done
	check "dhchap: the error says authentication" test "$said" = 0
	a1=$(jq '[.subsystems[].actions[]? | select(.action == "connect") | .attempts] | max // 0' /tmp/sc.out)
	sc --json "$W" || true
	a2=$(jq '[.subsystems[].actions[]? | select(.action == "connect") | .attempts] | max // 0' /tmp/sc.out)
	check "dhchap: each run is one more failed attempt ($a1 -> $a2)" test "$a2" = $((a1 + 1))
	check "dhchap: no secret in any output" sh -c "! grep -F -e '${hk#DHHC-1:01:}' -e '${ck#DHHC-1:01:}' -e '${wk#DHHC-1:01:}' '$ALL_OUT'"
	rm -f /etc/stas/host.key /etc/stas/auth-bi.ctrl.key
	reset_all
}

# --- TLS (TP8011) -------------------------------------------------------------------
# The kernel's default PSK lookup (a "tls" connect without tls_key): the
# retained PSK with identity "NVMe0R01 <hostnqn> <subsysnqn>" in the .nvme
# keyring, which nvme-cli's gen-tls-key --insert derives (HKDF-SHA-256 of the
# configured PSK NVMeTLSkey-1:01:...) and inserts; nvmet's TLS port looks the
# same identity up in the same keyring (one machine). tlshd does both
# handshakes. The TLS-required entry comes from hostile-dc --io-tls (nvmet
# lists only the port the host asked, and a DC behind a TLS port would need
# TLS for the discovery connection too).
tls_section() {
	local T=nqn.2024-01.io.stas:tls T2=nqn.2024-01.io.stas:tls-conf HD=${STAS_HOSTILE_DC:-}
	local c c2 rc hk ck id id2 ser ser2 kh kh2 tlshd_pid i nqn vid
	local vh=nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555
	local vk="NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"
	[ -x "$HD" ] || {
		skip "tls: no hostile-dc (STAS_HOSTILE_DC) for the TLS-required page"
		return 0
	}
	command -v tlshd >/dev/null || {
		skip "tls: no tlshd (ktls-utils) in the guest"
		return 0
	}
	modprobe tls || bail "modprobe tls"
	# Configured PSKs, generated by nvme-cli but never inserted by it: the
	# host key (for the TLS-required DLP entry of $T) and a SHA-384 one for
	# the configured controller $T2. stas derives and inserts both.
	hk=$(nvme gen-tls-key --hostnqn="$HOSTNQN" --subsysnqn="$T" 2>/dev/null | tail -1)
	ck=$(nvme gen-tls-key --hostnqn="$HOSTNQN" --subsysnqn="$T2" --hmac=2 2>/dev/null | tail -1)
	[[ $hk == NVMeTLSkey-1:01:* && $ck == NVMeTLSkey-1:02:* ]] ||
		bail "nvme gen-tls-key gave '${hk:0:16}...'"
	mkdir -p /etc/stas
	printf '%s\n' "$ck" >/etc/stas/tls-conf.key
	chmod 600 /etc/stas/tls-conf.key
	# what nvme-cli 2.13 (libnvme 1.13) says the version-1 identities are
	id=$(nvme check-tls-key --hostnqn="$HOSTNQN" --subsysnqn="$T" --keydata="$hk" --identity=1 | tail -1)
	id2=$(nvme check-tls-key --hostnqn="$HOSTNQN" --subsysnqn="$T2" --keydata="$ck" --identity=1 | tail -1)
	diag "nvme-cli identities: ${id:0:40}... / ${id2:0:40}..."
	# Possess .nvme, so that keyctl may search and read the keys in it: a
	# "psk" key grants search and read to its possessor only. In the user
	# keyring, which every process without a session keyring searches (@s
	# would be a new session keyring of the one keyctl process).
	keyctl link %:.nvme @u >/dev/null 2>&1 || diag "keyctl link %:.nvme @u failed"
	_nvmet_init
	nvmet_subsys_add "$T"
	nvmet_subsys_add "$T2"
	nvmet_port_add 2 127.0.0.1 4420
	echo tls1.3 >"$NVMET/ports/2/addr_tsas"
	echo required >"$NVMET/ports/2/addr_treq"
	diag "port 2: treq $(cat "$NVMET/ports/2/addr_treq"), tsas $(cat "$NVMET/ports/2/addr_tsas")"
	nvmet_link 2 "$T"
	nvmet_link 2 "$T2"
	rm -f /run/hd.ready
	vm_bg "$HD" --port 8102 -n "$T" --io-port 4420 --io-tls --ready /run/hd.ready
	wait_until 20 test -e /run/hd.ready || bail "hostile-dc did not start"
	# libnvme 1.13's layout ("compat"), so that nvme-cli 2.13 can be the oracle below
	{
		printf 'host = { tls-key = "%s"; };\n' "$hk"
		printf 'global = { tls-key-derivation = "compat"; };\n'
		printf 'io = { controllers = (\n'
		printf '  { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = "4420"; nqn = "%s";\n' "$T2"
		printf '    tls = true; tls-key = "file:///etc/stas/tls-conf.key"; } ); };\n'
	} >"$CONF"
	chmod 600 "$CONF"

	# A malformed key: the configuration is refused, file and line named, no key shown.
	sed "s|$hk|${hk:0:20}${hk:21:1}${hk:20:1}${hk:22}|" "$CONF" >/tmp/stas-612-bad.conf
	rc=0
	timeout -k 5 60 "$CONNECT" --config /tmp/stas-612-bad.conf --cache-dir "$C" --json "$T2" \
		>/tmp/sc.out 2>/tmp/sc.err || rc=$?
	cat /tmp/sc.out /tmp/sc.err >>"$ALL_OUT"
	check "tls: a malformed tls-key: stas-connect fails" test "$rc" != 0
	check "... the error names the file, the line and the CRC" \
		grep -q "stas-612-bad.conf:1: 'host.tls-key' is not valid: its CRC-32 does not match" /tmp/sc.err
	check "... nothing connected" not_connected "$T2"
	sed 's/^/#   /' /tmp/sc.err | head -3

	# Without tlshd: skipped, with one line that says why.
	rc=0
	sd -t tcp -a 127.0.0.1 -s 8102 --json || rc=$?
	check "tls: without tlshd, nothing connected" not_connected "$T"
	rc=0
	sc --json "$T" || rc=$?
	check "tls: stas-connect without tlshd: nothing to retry (exit 0)" test "$rc" = 0
	check "tls: one skip, whose reason names tlshd" \
		test "$(jq -c '[.subsystems[].actions[] | select(.action == "skip") | .reason | test("tlshd \\(ktls-utils\\) is not running")]' /tmp/sc.out)" = "[true]"
	jq -r '.subsystems[].actions[] | .reason // empty' /tmp/sc.out | sed 's/^/#   reason: /'
	rc=0
	sc --json "$T2" || rc=$?
	check "tls: configured tls = true without tlshd: one skip naming the setting and tlshd" \
		test "$(jq -c '[.subsystems[].actions[] | select(.action == "skip") | .reason | test("tls = true is configured.*tlshd")]' /tmp/sc.out)" = "[true]"
	jq -r '.subsystems[].actions[] | .reason // empty' /tmp/sc.out | sed 's/^/#   reason: /'
	check "... nothing connected" not_connected "$T2"
	check "... and no key inserted for it" sh -c "! keyctl search %:.nvme psk '$id2' >/dev/null 2>&1"

	# With tlshd: connected over TLS with the PSKs stas derived and inserted.
	printf '[debug]\nloglevel=0\n[authenticate]\nkeyrings=.nvme\n' >/etc/tlshd.conf
	tlshd -s -c /etc/tlshd.conf >/tmp/tlshd.log 2>&1 &
	tlshd_pid=$!
	vm_on_exit kill "$tlshd_pid"
	wait_until 10 pgrep -x tlshd || bail "tlshd did not start"
	# tlshd registers with the kernel's handshake netlink family a moment
	# after it starts (ESRCH until then, seconds under TCG): retry as
	# stas-connect@'s RestartSec would, a few seconds apart.
	for nqn in "$T2" "$T"; do
		for i in 1 2 3 4 5; do
			sc --json "$nqn" && find_ctrl "$nqn" >/dev/null && break
			diag "tls: $nqn attempt $i: $(jq -r '[.subsystems[].actions[].error // empty] | join("; ")' /tmp/sc.out 2>/dev/null)"
			sleep 3
		done
	done
	keyctl show %:.nvme 2>&1 | sed 's/^/#   .nvme: /' | head -8
	ser2=$(keyctl search %:.nvme psk "$id2" 2>/dev/null) || ser2=
	ser=$(keyctl search %:.nvme psk "$id" 2>/dev/null) || ser=
	check "tls: stas inserted the configured controller's PSK under nvme-cli's identity" test -n "$ser2"
	check "tls: ... and the host PSK for the DLP entry's subsystem" test -n "$ser"
	if c2=$(live_ctrl "$T2"); then
		ok "tls: the configured controller (tls = true, tls-key) is connected ($c2)"
		check "... over TLS with stas's key (tls_key in sysfs)" \
			test "$(ctrl_attr "$c2" tls_key)" = "$(printf %08x "${ser2:-0}")"
	else
		fail "tls: the configured controller (tls = true, tls-key) is connected"
		sed 's/^/#   sc: /' /tmp/sc.out /tmp/sc.err | grep -i -e error -e reason -e tls | head
		sed 's/^/#   tlshd: /' /tmp/tlshd.log | tail -5
		dmesg | tail -8 | sed 's/^/#   /'
	fi
	if c=$(live_ctrl "$T"); then
		ok "tls: the TLS-required entry is connected with host.tls-key ($c)"
		check "... over TLS with stas's key (tls_key in sysfs)" \
			test "$(ctrl_attr "$c" tls_key)" = "$(printf %08x "${ser:-0}")"
		check "... nvme list-subsys shows both" \
			sh -c "nvme list-subsys -o json | grep -q '$T\"' && nvme list-subsys -o json | grep -q '$T2'"
		nvme list-subsys 2>&1 | sed 's/^/#   /' | head -8
	else
		fail "tls: the TLS-required entry is connected with host.tls-key"
		sed 's/^/#   sc: /' /tmp/sc.out /tmp/sc.err | grep -i -e error -e reason -e tls | head
		sed 's/^/#   tlshd: /' /tmp/tlshd.log | tail -5
	fi

	# nvme-cli 2.13 as the oracle of the derivation: its insertion of the
	# same configured key under the same identity gives the same TLS PSK.
	kh=$(keyctl pipe "${ser2:-0}" 2>/dev/null | od -An -tx1 | tr -d ' \n') || kh=
	nvme check-tls-key --hostnqn="$HOSTNQN" --subsysnqn="$T2" --keydata="$ck" --identity=1 --insert \
		>/dev/null 2>&1 || diag "nvme check-tls-key --insert failed"
	kh2=$(keyctl pipe "$(keyctl search %:.nvme psk "$id2" 2>/dev/null)" 2>/dev/null |
		od -An -tx1 | tr -d ' \n') || kh2=
	check "tls: stas's TLS PSK (SHA-384) equals nvme-cli 2.13's for the same key and identity" \
		test -n "$kh" -a "$kh" = "$kh2"
	# ... and the fixed vector of tests/test-tls-psk.c (HH 01, identity 1, compat)
	vid=$(nvme check-tls-key --hostnqn="$vh" --subsysnqn="$T" --keydata="$vk" --identity=1 | tail -1) ||
		vid=
	nvme check-tls-key --hostnqn="$vh" --subsysnqn="$T" --keydata="$vk" --identity=1 --insert \
		>/dev/null 2>&1 || diag "nvme check-tls-key --insert (vector) failed"
	check "tls: nvme-cli's TLS PSK for test-tls-psk's vector is the one the unit test expects" \
		test "$(keyctl pipe "$(keyctl search %:.nvme psk "$vid" 2>/dev/null)" 2>/dev/null |
			od -An -tx1 | tr -d ' \n')" = \
		433f00a7304d1013fa83d41561c001388aa46ce19dbd65097554037b712b8f8c
	check "tls: no PSK in any output" \
		sh -c "! grep -F -e '${hk:16:44}' -e '${ck:16:64}' '$ALL_OUT'"
	rm -f /etc/stas/tls-conf.key /tmp/stas-612-bad.conf
	reset_all
}

# --- a DC that requires DH-HMAC-CHAP ------------------------------------------------
# nvmet never authenticates a discovery controller (nvmet_setup_auth() returns
# early for the discovery subsystem), so the DC here is hostile-dc
# --dhchap-key: its Connect response sets AUTHREQ.ATR and it answers nothing
# but the authentication exchange until the host has proved its key; with
# --dhchap-ctrl-key it also answers the host's challenge (bidirectional).
# Its one entry (--no-connect) only has to reach the cache.
authdc_section() {
	local HD=${STAS_HOSTILE_DC:-} N=nqn.2024-01.io.stas:authdc P=8103 HDLOG=/tmp/authdc-hd.log
	local hk ck wk c rc t0=$SECONDS e1 e2 dc
	[ -x "$HD" ] || {
		skip "authdc: no hostile-dc (STAS_HOSTILE_DC)"
		return 0
	}
	hk=$(nvme gen-dhchap-key -n "$HOSTNQN" -m 1)
	ck=$(nvme gen-dhchap-key -n "$HOSTNQN" -m 1)
	wk=$(nvme gen-dhchap-key -n "$HOSTNQN" -m 1)
	[[ $hk == DHHC-1:01:* && $ck == DHHC-1:01:* && $wk == DHHC-1:01:* ]] ||
		bail "nvme gen-dhchap-key gave '${hk:0:12}...'"
	mkdir -p /etc/stas
	(
		umask 077
		printf '%s\n' "$hk" >/tmp/authdc-host.key
		printf '%s\n' "$ck" >/tmp/authdc-ctrl.key
		printf '%s\n' "$ck" >/etc/stas/authdc.ctrl.key
	)
	rm -f /run/authdc.ready
	vm_bg "$HD" --port "$P" -n "$N" --dhchap-key /tmp/authdc-host.key \
		--dhchap-ctrl-key /tmp/authdc-ctrl.key --ready /run/authdc.ready 2>"$HDLOG"
	wait_until 20 test -e /run/authdc.ready || bail "hostile-dc --dhchap-key did not start: $(cat "$HDLOG")"
	# authdc_conf [KEY=VALUE;...]: the one configured DC, with these settings.
	authdc_conf() {
		printf 'discovery = { controllers = (\n  { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = "%s"; %s } ); };\n' \
			"$P" "${1:-}" >"$CONF"
		chmod 600 "$CONF"
	}
	# authdc_drop: the DC's connection gone and the cache empty, for the next case.
	authdc_drop() {
		local x
		for x in $(nvme_ctrls all); do
			echo 1 >"/sys/class/nvme/$x/delete_controller" 2>/dev/null || true
		done
		wait_for_ctrls_count 0 30 all || diag "authdc: controllers left: $(nvme_ctrls all | tr '\n' ' ')"
		rm -rf "$C"
	}
	# authdc_sd: stas-discover on the DC; its exit status in rc.
	authdc_sd() {
		rc=0
		sd -t tcp -a 127.0.0.1 -s "$P" --no-connect --json || rc=$?
	}
	# hd_said PATTERN: hostile-dc's log has a line matching PATTERN since the mark.
	hd_mark() { hd_from=$(($(wc -l <"$HDLOG") + 1)); }
	hd_said() { tail -n +"$hd_from" "$HDLOG" | grep -q -e "$1"; }
	hd_show() { tail -n +"$hd_from" "$HDLOG" | grep -e DH-HMAC-CHAP -e closed | sed 's/^/#   hd: /' | head -8; }
	dc_json() { "$STASADM" --cache-dir "$C" --config "$CONF" status --json | jq -c --arg p "$P" '[.dcs[] | select(.tid.trsvcid == $p)][0]'; }

	# 1. Unidirectional: the DC's dhchap-secret, inline.
	authdc_conf "dhchap-secret = \"$hk\";"
	hd_mark
	authdc_sd
	check "authdc: with its secret, stas-discover exits 0 (exit $rc)" test "$rc" = 0
	[ "$rc" = 0 ] || sed 's/^/#   sd: /' /tmp/sd.err | head -10
	if c=$(live_ctrl "$NVME_DISC_NQN"); then
		ok "authdc: the DC is connected ($c)"
		check "... with the configured secret as its dhchap_secret" test "$(ctrl_attr "$c" dhchap_secret)" = "$hk"
		check "... and no controller key" test "$(ctrl_attr "$c" dhchap_ctrl_secret)" = none
	else
		fail "authdc: the DC is connected"
	fi
	check "authdc: its page was read and cached ($N)" cache_has_string "$N"
	check "authdc: hostile-dc checked the host's response (Success1, unidirectional)" \
		hd_said 'Success1 sent; authenticated (unidirectional)'
	hd_show
	authdc_drop

	# 2. Bidirectional: dhchap-ctrl-secret too (file://); the host checks the DC.
	authdc_conf "dhchap-secret = \"$hk\"; dhchap-ctrl-secret = \"file:///etc/stas/authdc.ctrl.key\";"
	hd_mark
	authdc_sd
	check "authdc: with both secrets, stas-discover exits 0 (exit $rc)" test "$rc" = 0
	[ "$rc" = 0 ] || sed 's/^/#   sd: /' /tmp/sd.err | head -10
	if c=$(live_ctrl "$NVME_DISC_NQN"); then
		ok "authdc: bidirectional: the DC is connected ($c)"
		check "... with the controller key as its dhchap_ctrl_secret" test "$(ctrl_attr "$c" dhchap_ctrl_secret)" = "$ck"
	else
		fail "authdc: bidirectional: the DC is connected"
	fi
	check "authdc: bidirectional: page read and cached" cache_has_string "$N"
	check "authdc: the host accepted the DC's response (Success2)" \
		hd_said 'Success2: the host accepted .*authenticated (bidirectional)'
	hd_show
	authdc_drop

	# 3. A wrong host key: AUTH_Failure1, not connected, a failed attempt per run.
	authdc_conf "dhchap-secret = \"$wk\";"
	hd_mark
	authdc_sd
	check "authdc: wrong key: stas-discover exits 1 (exit $rc)" test "$rc" = 1
	sed 's/^/#   sd: /' /tmp/sd.err | head -6
	check "authdc: wrong key: the DC is not connected" not_connected "$NVME_DISC_NQN"
	check "authdc: wrong key: the error names the DC and says authentication" \
		sh -c "grep -i 'authentication' /tmp/sd.err | grep -q '127.0.0.1.*$P'"
	check "authdc: wrong key: hostile-dc sent AUTH_Failure1 for the wrong response" \
		hd_said "the host's response is wrong"
	hd_show
	dc=$(dc_json)
	diag "authdc: cache DC: $(jq -c '{state, "last-errno", "last-error"}' <<<"$dc")"
	check "authdc: wrong key: the cache records the failure" \
		test "$(jq -r '.state' <<<"$dc")" = error
	e1=$(jq -r '.["last-error-usec"]' <<<"$dc")
	authdc_sd
	e2=$(jq -r '.["last-error-usec"]' <<<"$(dc_json)")
	check "authdc: wrong key: a second run is one more failed attempt (exit $rc, error at $e1 -> $e2)" \
		test "$rc" = 1 -a "$e2" -gt "$e1"
	authdc_drop

	# 4. The right host key, a wrong controller key: the host refuses the DC.
	printf '%s\n' "$wk" >/etc/stas/authdc.ctrl.key
	authdc_conf "dhchap-secret = \"$hk\"; dhchap-ctrl-secret = \"file:///etc/stas/authdc.ctrl.key\";"
	hd_mark
	authdc_sd
	check "authdc: wrong controller key: stas-discover exits 1 (exit $rc)" test "$rc" = 1
	sed 's/^/#   sd: /' /tmp/sd.err | head -4
	check "authdc: wrong controller key: not connected" not_connected "$NVME_DISC_NQN"
	check "authdc: wrong controller key: the host answered with AUTH_Failure2" \
		hd_said 'AUTH_Failure2 from the host'
	hd_show
	authdc_drop

	# 5. No secret at all: the host cannot authenticate.
	authdc_conf ""
	hd_mark
	authdc_sd
	check "authdc: no secret: stas-discover exits 1 (exit $rc)" test "$rc" = 1
	sed 's/^/#   sd: /' /tmp/sd.err | head -4
	check "authdc: no secret: not connected" not_connected "$NVME_DISC_NQN"
	check "authdc: no secret: the error names the DC and the missing dhchap-secret" \
		sh -c "grep 'requires authentication (DH-HMAC-CHAP) and no dhchap-secret' /tmp/sd.err | grep -q '127.0.0.1.*$P'"
	check "authdc: no secret: hostile-dc saw no authentication" \
		sh -c "! tail -n +$hd_from '$HDLOG' | grep -q -e 'authenticated (' -e 'Success1 sent'"
	hd_show
	authdc_drop

	check "authdc: no secret in any output (stas's or hostile-dc's)" \
		sh -c "! grep -F -e '${hk#DHHC-1:01:}' -e '${ck#DHHC-1:01:}' -e '${wk#DHHC-1:01:}' '$ALL_OUT' '$HDLOG'"
	rm -f /tmp/authdc-host.key /tmp/authdc-ctrl.key /etc/stas/authdc.ctrl.key
	kill "$VM_BG_PID" 2>/dev/null || true
	: >"$CONF"
	diag "authdc: section wall time $((SECONDS - t0)) s"
}

# --- FC (nvme-fcloop) -----------------------------------------------------------------
# A local (host) port, a target port and the remote port that mirrors it
# with the discovery role: registering the remote port makes nvme-fc send
# FC_EVENT=nvmediscovery (as writing "add" to .../fc_udev_device/nvme_discovery
# does). A udevd with stas's built rule, systemctl replaced by a recorder,
# shows which stas-discover@ instance the event starts; stas-discover runs
# with exactly that instance and no configuration.
FC_LNN=0x10001100aa000001 FC_LPN=0x20001100aa000001
FC_TNN=0x10001100ab000001 FC_TPN=0x20001100ab000001
fcloop_cleanup() {
	local ctl=/sys/class/fcloop/ctl
	[ -d "$ctl" ] || return 0
	echo "wwnn=$FC_TNN,wwpn=$FC_TPN" >"$ctl/del_remote_port" 2>/dev/null || true
	echo "wwnn=$FC_TNN,wwpn=$FC_TPN" >"$ctl/del_target_port" 2>/dev/null || true
	echo "wwnn=$FC_LNN,wwpn=$FC_LPN" >"$ctl/del_local_port" 2>/dev/null || true
}
# fc_units: the units the rule restarted, one per line.
fc_units() { sed -n 's/^restart //p' "$FC_SHIM_LOG"; }
fc_section() {
	local F=nqn.2024-01.io.stas:fc ctl=/sys/class/fcloop/ctl
	local lt="nn-$FC_LNN:pn-$FC_LPN" tt="nn-$FC_TNN:pn-$FC_TPN"
	local shim=$STAS_VM_RUNDIR/trigger-shim rule=$B/rules.d/70-stas-autoconnect.rules
	local want_inst inst unit c n1 n2 t0 dc aen
	t0=$(date +%s)
	FC_SHIM_LOG=$STAS_VM_RUNDIR/systemctl-calls
	[ -f "$rule" ] || bail "$rule is not built"
	modprobe nvme-fcloop || bail "modprobe nvme-fcloop"
	[ -d "$ctl" ] || bail "no $ctl"
	vm_on_exit fcloop_cleanup
	echo "wwnn=$FC_LNN,wwpn=$FC_LPN" >"$ctl/add_local_port"
	echo "wwnn=$FC_TNN,wwpn=$FC_TPN" >"$ctl/add_target_port"
	_nvmet_init
	mkdir "$NVMET/ports/5"
	echo fc >"$NVMET/ports/5/addr_trtype"
	echo fc >"$NVMET/ports/5/addr_adrfam"
	echo "$tt" >"$NVMET/ports/5/addr_traddr"
	nvmet_subsys_add "$F-1"
	nvmet_subsys_add "$F-2"
	nvmet_link 5 "$F-1"
	nvmet_link 5 "$F-2"

	# udevd with stas's rule as built; stas-trigger records its arguments.
	printf '#!/bin/sh\necho "$*" >>%s\n' "$FC_SHIM_LOG" >"$shim"
	chmod +x "$shim"
	: >"$FC_SHIM_LOG"
	mkdir -p /etc/udev/rules.d
	printf 'SUBSYSTEM=="nvme", ENV{ASAN_OPTIONS}="detect_leaks=0"\n' >/etc/udev/rules.d/00-stas-vm-asan.rules
	sed -e "s|RUN+=\"[^\" ]*/stas-trigger |RUN+=\"$shim |" -e "s|[^\" ]*/sbin/stasadm |$STASADM |" \
		"$rule" >/etc/udev/rules.d/70-stas-autoconnect.rules
	# nvme-cli's rule would start its own connect for the same event; stas
	# shadows it by name (tmpfiles.d) as here.
	: >/etc/udev/rules.d/70-nvmf-autoconnect.rules
	vm_on_exit rm -f /etc/udev/rules.d/70-stas-autoconnect.rules /etc/udev/rules.d/70-nvmf-autoconnect.rules \
		/etc/udev/rules.d/00-stas-vm-asan.rules
	check "fc: the built rule restarts through the recorder" grep -q "RUN+=\"$shim restart %c\"" \
		/etc/udev/rules.d/70-stas-autoconnect.rules
	# A udevd without udevd_start's coldplug (trigger + settle of every
	# device, up to 30 s under TCG): only the events from now on matter.
	if ! pgrep -x systemd-udevd >/dev/null; then
		/lib/systemd/systemd-udevd --daemon
		vm_on_exit kill "$(pgrep -x -n systemd-udevd)"
	fi
	udevadm control --reload
	: >"$FC_SHIM_LOG"

	# The remote port with roles target|discovery (0x20|0x40): nvme-fc's kick.
	echo "wwnn=$FC_TNN,wwpn=$FC_TPN,lpwwnn=$FC_LNN,lpwwpn=$FC_LPN,roles=96" >"$ctl/add_remote_port"
	want_inst='fc-nn\x2d'$FC_TNN':pn\x2d'$FC_TPN'-host\x2dtraddr\x3dnn\x2d'$FC_LNN':pn\x2d'$FC_LPN
	if wait_until 20 sh -c "grep -q 'stas-discover@fc-' '$FC_SHIM_LOG'"; then
		unit=$(fc_units | grep -m1 '^stas-discover@fc-')
		ok "fc: the nvmediscovery event restarts $unit"
	else
		fail "fc: the nvmediscovery event restarts a stas-discover@fc- unit"
		sed 's/^/#   systemctl /' "$FC_SHIM_LOG"
		bail "fc: no unit from the FC event"
	fi
	inst=${unit#stas-discover@}
	inst=${inst%.service}
	check "fc: the instance is the DC's path-escaped transport ID ($want_inst)" test "$inst" = "$want_inst"
	n1=$(fc_units | grep -c '^stas-discover@fc-')
	echo add >/sys/class/fc/fc_udev_device/nvme_discovery
	check "fc: writing add to fc_udev_device/nvme_discovery restarts it again" \
		wait_until 20 sh -c "[ \$(grep -cF 'restart $unit' '$FC_SHIM_LOG') -gt $n1 ]"

	# stas-discover with exactly that instance, as the unit runs it.
	if STAS_BACKOFF=1,2 sd --retry --json "$inst"; then ok "fc: stas-discover --retry $inst exits 0"; else
		fail "fc: stas-discover --retry $inst exits 0"
		sed 's/^/#   /' /tmp/sd.err | tail -20
	fi
	diag "fc: stas-discover: $(jq -c '[.. | objects | select(has("dc")) | {dc, origin, device, entries}]' /tmp/sd.out 2>/dev/null)"
	check "fc: stas names that DC by the same instance" \
		jq -e --arg i "$inst" '[.. | objects | select(.instance? == $i)] | length == 1' /tmp/sd.out
	for nqn in "$F-1" "$F-2"; do
		if c=$(live_ctrl "$nqn"); then
			check "fc: $nqn connected over fc ($c, $(ctrl_attr "$c" address))" \
				test "$(ctrl_attr "$c" transport)" = fc
			check "... to the target port from the host port" \
				test "$(ctrl_attr "$c" address)" = "traddr=$tt,host_traddr=$lt"
		else
			fail "fc: $nqn connected"
		fi
	done
	check "fc: the cache has the FC DC and both subsystems" cache_has_string "$tt" "$F-1" "$F-2"
	n1=$(nvme_ctrls all | wc -l)
	STAS_BACKOFF=1,2 sd --retry --json "$inst" || true
	# The same path configured in nvme-fc's other spelling (no 0x, upper
	# case): stas knows it as the kernel's controller (one TID, no connect).
	cat >"$CONF" <<EOF
io = { controllers = (
  { transport = "fc"; traddr = "NN-${FC_TNN#0x}:PN-${FC_TPN#0x}"; host-traddr = "nn-${FC_LNN#0x}:pn-${FC_LPN#0x}";
    nqn = "$F-1"; } ); };
EOF
	sc --all --json || true
	check "fc: a stas-connect rerun (F-1 also configured, other spelling) changes nothing" \
		test "$(jq -c '[.["kernel-calls"], .counts.connect]' /tmp/sc.out)" = "[0,0]"
	jq -c '[.subsystems[] | {nqn, actions: [.actions[]? | {action, reason, error}]}]' /tmp/sc.out | sed 's/^/#   sc: /'
	: >"$CONF"
	check "fc: a rerun of both makes no new controller ($n1)" test "$(nvme_ctrls all | wc -l)" = "$n1"

	# F-2 is no longer offered to this host (allow-list without it): the
	# DC's AEN (stas keeps the FC DC connected) or a rerun makes stas
	# disconnect F-2's path. Unlike unlinking F-2 from the port, this leaves
	# its controller live in the kernel, so only stas can remove it.
	c=$(live_ctrl "$F-2") || bail "fc: $F-2 is not connected"
	: >"$FC_SHIM_LOG"
	echo 0 >"$NVMET/subsystems/$F-2/attr_allow_any_host"
	dc=$(find_ctrl "$NVME_DISC_NQN" "$tt" || true)
	aen=
	if [ -n "$dc" ] && wait_until 15 sh -c "grep -qF 'restart stas-discover@$dc.service' '$FC_SHIM_LOG'"; then
		aen=$dc
		ok "fc: the FC DC's AEN restarts stas-discover@$dc"
	else
		fail "fc: the FC DC ($dc) sends an AEN that restarts its stas-discover@"
		sed 's/^/#   systemctl /' "$FC_SHIM_LOG"
	fi
	check "fc: $F-2's controller $c is still live in the kernel" test "$(ctrl_attr "$c" state)" = live
	STAS_BACKOFF=1,2 sd --retry --json "${aen:-$inst}" || true
	check "fc: stas-discover $aen's page has $F-2 removed" \
		jq -e --arg n "$F-2" '[.. | objects | .["nqns-removed"]? // empty | .[] | select(. == $n)] | length == 1' /tmp/sd.out
	check "fc: stas disconnected $F-2's path ($c)" wait_until 20 not_connected "$F-2"
	check "fc: $F-1 is still connected" live_ctrl "$F-1"
	sc --all --json || true
	check "fc: reconcile afterwards changes nothing" \
		test "$(jq -c '[.["kernel-calls"], .counts.connect]' /tmp/sc.out)" = "[0,0]"
	n2=$(( $(date +%s) - t0 ))
	diag "fc: section took ${n2}s"
	reset_all
	fcloop_cleanup
}

want loop && loop_section
want dhchap && dhchap_section
want tls && tls_section
want authdc && authdc_section
want fc && fc_section
true
