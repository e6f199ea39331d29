#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/vm/connect-tap.sh SCENARIO [RUN-OPTIONS...]: run a guest scenario
# through tests/vm/run and turn its output into TAP for automake's driver:
# the scenario's ok/not ok lines, everything else as diagnostics, a plan,
# and "1..0 # SKIP" when the VM cannot run here (no root, qemu or kernel).
set -uo pipefail
if [ "${STAS_VM_TESTS:-1}" = 0 ]; then
	echo "1..0 # SKIP VM tests disabled (STAS_VM_TESTS=0)"
	exit 0
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scenario=$1
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT

rc=0
"$here/run" "$@" "$here/$scenario" >"$log" 2>&1 || rc=$?
n=0 failed=0
while IFS= read -r line; do
	if [[ $line =~ ^(not\ )?ok\ [0-9]+(.*)$ ]]; then
		n=$((n + 1))
		[ -z "${BASH_REMATCH[1]}" ] || failed=1
		printf '%sok %d%s\n' "${BASH_REMATCH[1]}" "$n" "${BASH_REMATCH[2]}"
	else
		printf '# %s\n' "$line"
	fi
done <"$log"
if [ "$rc" = 77 ] && [ "$failed" = 0 ]; then
	reason=$(grep -m1 -o 'SKIP.*' "$log" | sed 's/^SKIP:* *//')
	echo "1..0 # SKIP ${reason:-VM not available}"
	exit 0
fi
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
	n=$((n + 1))
	echo "not ok $n - $scenario: the VM run exited $rc"
fi
echo "1..$n"
