#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A Discovery Log Page of 1,000 subsystems (fast mode): stas-discover stores
# every entry, a rerun finds the page unchanged, and the time each takes is
# printed next to `nvme discover` on the same target in the same VM run.
# With "bench" as $1 it repeats each measurement (tests/bench/discover).
# Run: tests/vm/run tests/vm/discover-scale.sh [bench]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

B=${top_builddir:?top_builddir is not set}
DISCOVER=$B/helpers/stas-discover/stas-discover
STASADM=$B/stasadm/stasadm
[ -x "$DISCOVER" ] || skip_all "stas-discover is not built"
command -v nvme >/dev/null || skip_all "nvme-cli not installed"
N=${STAS_SCALE_N:-1000}
ROUNDS=1
[ "${1:-}" = bench ] && ROUNDS=${STAS_BENCH_ROUNDS:-5}

C=/tmp/stas-cache
mkdir -p /tmp/conf
: >/tmp/conf/persistent.conf
: >/tmp/conf/oneshot.conf
sd() { "$DISCOVER" --cache-dir "$C" --no-systemd --no-connect "$@"; }

P=nqn.2024-01.io.stas:scale
nvmet_port_add 1 127.0.0.1 8009
# One process for the bulk of configfs work: under TCG every fork costs a
# fraction of a second, and 1,000 subsystems need 3,000 file operations.
t0=$(date +%s.%N)
/usr/bin/python3 - "$P" "$N" <<'PY'
import os, sys
prefix, n = sys.argv[1], int(sys.argv[2])
N = "/sys/kernel/config/nvmet"
for i in range(1, n + 1):
    nqn = f"{prefix}-{i}"
    os.mkdir(f"{N}/subsystems/{nqn}")
    with open(f"{N}/subsystems/{nqn}/attr_allow_any_host", "w") as f:
        f.write("1")
    os.symlink(f"{N}/subsystems/{nqn}", f"{N}/ports/1/subsystems/{nqn}")
PY
vm_on_exit /usr/bin/python3 -c "
import os
N = '/sys/kernel/config/nvmet'
for s in os.listdir(N + '/ports/1/subsystems'): os.unlink(N + '/ports/1/subsystems/' + s)
for s in os.listdir(N + '/subsystems'):
    if s.startswith('$P-'): os.rmdir(N + '/subsystems/' + s)
"
diag "target with $N subsystems set up in $(echo "$(date +%s.%N) - $t0" | bc) s"

# now in ms, from the monotonic clock
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
time_it() { # time_it CMD... -> prints ms (3 decimals), fails when CMD fails
	local a b
	a=$(ns)
	"$@" >/dev/null 2>/tmp/time_it.err || { cat /tmp/time_it.err >&2; return 1; }
	b=$(ns)
	echo "scale=3; ($b - $a) / 1000000" | bc
}

out=$(sd --json --config /tmp/conf/persistent.conf -t tcp -a 127.0.0.1 -s 8009)
check "stas-discover stores $((N + 1)) entries" test "$(jq '.[0].entries' <<<"$out")" = $((N + 1))
check "all $N NQNs are reported added" test "$(jq '.[0]["nqns-added"] | length' <<<"$out")" = "$N"
check "the cache holds them" \
	test "$("$STASADM" --cache-dir "$C" show --json tcp-127.0.0.1-8009 | jq '.["log-page"] | length')" = $((N + 1))
out=$(sd --json --config /tmp/conf/persistent.conf -t tcp -a 127.0.0.1 -s 8009)
check "a rerun finds the page unchanged" test "$(jq '.[0].changed' <<<"$out")" = false
check "cache verifies clean" "$STASADM" --cache-dir "$C" verify

# Timings: nvme discover (connect, read, disconnect) against stas-discover
# doing the same (--oneshot), and stas-discover reusing its
# persistent connection (the AEN path).
declare -a t_nvme t_once t_persist
for ((r = 1; r <= ROUNDS; r++)); do
	t_nvme+=("$(time_it nvme discover -t tcp -a 127.0.0.1 -s 8009)")
	rm -rf "$C.once"
	t_once+=("$(time_it "$DISCOVER" --cache-dir "$C.once" --no-systemd --no-connect \
		--oneshot --config /tmp/conf/oneshot.conf -t tcp -a 127.0.0.1 -s 8009)")
	t_persist+=("$(time_it sd --config /tmp/conf/persistent.conf -t tcp -a 127.0.0.1 -s 8009)")
done
mn=$(printf '%s\n' "${t_nvme[@]}" | median)
mo=$(printf '%s\n' "${t_once[@]}" | median)
mp=$(printf '%s\n' "${t_persist[@]}" | median)
diag "DLP of $((N + 1)) entries, median of $ROUNDS (TCG VM, ms):"
diag "  nvme discover (connect, read, disconnect)           $mn"
diag "  stas-discover, same work + validate + cache write   $mo  ratio $(echo "scale=2; $mo / $mn" | bc)"
diag "  stas-discover on its persistent DC, page unchanged  $mp  ratio $(echo "scale=2; $mp / $mn" | bc)"
echo "BENCH nvme=$mn once=$mo persistent=$mp"
