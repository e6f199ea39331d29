# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/vm/connect-lib.sh: what the stas-connect scenarios and the connect
# benchmark share. Source it after lib.sh.

B=${top_builddir:?top_builddir is not set}
DISCOVER=${STAS_DISCOVER:-$B/helpers/stas-discover/stas-discover}
CONNECT=${STAS_CONNECT:-$B/helpers/stas-connect/stas-connect}
STASADM=${STAS_STASADM:-$B/stasadm/stasadm}
[ -x "$CONNECT" ] || skip_all "stas-connect is not built ($CONNECT)"
[ -x "$DISCOVER" ] || skip_all "stas-discover is not built yet ($DISCOVER)"
command -v nvme >/dev/null || skip_all "nvme-cli not installed"
command -v jq >/dev/null || skip_all "jq not installed"

C=${STAS_TEST_CACHE:-/tmp/stas-connect-cache}
CONF=${STAS_TEST_CONF:-/tmp/stas-connect.conf}
rm -rf "$C"
: >"$CONF"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export RUNTIME_DIRECTORY=$STAS_VM_RUNDIR/stas
mkdir -p "$RUNTIME_DIRECTORY"

# sd ARGS: stas-discover into the test cache, no connects (stas-connect's job).
sd() { "$DISCOVER" --config "$CONF" --cache-dir "$C" --no-systemd --no-connect "$@"; }
# sc ARGS: stas-connect on the test cache and config.
sc() { "$CONNECT" --config "$CONF" --cache-dir "$C" "$@"; }

# io_set: the live I/O controllers as sorted "subsysnqn traddr trsvcid" lines.
io_set() {
	local c addr
	for c in $(nvme_ctrls io); do
		[ "$(ctrl_attr "$c" state)" = live ] || continue
		addr=$(ctrl_attr "$c" address)
		printf '%s %s %s\n' "$(ctrl_attr "$c" subsysnqn)" \
			"$(tr ',' '\n' <<<"$addr" | sed -n 's/^traddr=//p')" \
			"$(tr ',' '\n' <<<"$addr" | sed -n 's/^trsvcid=//p')"
	done | sort
}

# io_names: "nvmeN subsysnqn" for every I/O controller (instance numbers).
io_names() {
	local c
	for c in $(nvme_ctrls io); do
		printf '%s %s\n' "$c" "$(ctrl_attr "$c" subsysnqn)"
	done | sort
}

# disconnect_io: drop every I/O controller (discovery controllers stay).
disconnect_io() {
	local c
	for c in $(nvme_ctrls io); do
		echo 1 >"/sys/class/nvme/$c/delete_controller" 2>/dev/null || true
	done
	wait_for_ctrls_count 0 60 io
}

# same_sets DESC WANT GOT: ok when equal, else show both.
same_sets() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1"
		diag "want: $(wc -l <<<"$2") line(s)"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/#   /' | head -20 || true
	fi
}

# now_ms: wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
