#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# stas-cached under systemd and the real system bus, with stas installed:
#  - stas-discover reads a DC (stas.target); an unprivileged user's busctl
#    call activates stas-cached (as user stas-cached) and gets the stored
#    entries, through stas's interface and nvme-stas's;
#  - a new subsystem on the DC's port: the AEN -> stas-discover -> Notify()
#    -> log_pages_changed, seen by that user's gdbus monitor;
#  - nothing any method returns contains a secret configured for a controller;
#  - nvme-stas's stafctl/stacctl work as that user (when STAS_NVME_STAS_ROOT
#    points at an unpacked nvme-stas package).
# Run: make install DESTDIR=D && tests/vm/run --system --install-dir D tests/vm/cached-system.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$STAS_VM_MODE" = system ] || skip_all "needs system mode (tests/vm/run --system)"
[ -x /usr/libexec/stas/stas-cached ] || skip_all "stas is not installed in the guest (--install-dir)"
STASADM=/usr/sbin/stasadm
V=nqn.2026-12.io.stas.cached
S1="DHHC-1:00:c2VjcmV0LWZvci1hLWRjLWF0LTE5Mi4xNjguMS4xMC14eHh4eHh4eA==:"
S2="DHHC-1:01:c2VjcmV0LWZvci10aGUtc3ViMS1jb250cm9sbGVyLXl5eXl5eXl5eQ==:"
USER_=nobody

nvmet_port_add 1 127.0.0.1 8009
nvmet_subsys_add "$V:a"
nvmet_link 1 "$V:a"
mkdir -p /etc/stas
# The secrets are on an I/O controller this kernel cannot authenticate to
# (6.1: no DH-HMAC-CHAP): its path is recorded as failed, the secrets stay
# in the configuration.
cat >/etc/stas/stas.conf <<CONF
discovery: {
  controllers = ( { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = 8009; } );
};
io: {
  controllers = ( { transport = "tcp"; traddr = "127.0.0.1"; trsvcid = 4420;
                    nqn = "$V:secret"; dhchap-secret = "$S1"; dhchap-ctrl-secret = "$S2"; } );
};
CONF
chmod 600 /etc/stas/stas.conf
check "config is valid" "$STASADM" config check
check "user stas-cached exists (sysusers.d)" getent passwd stas-cached
check "the lock file is the service's group's (tmpfiles.d)" \
	test "$(stat -c %G:%a /var/cache/stas/lock.mdb)" = stas-cached:660
vm_units_no_lsan
systemctl daemon-reload
udevadm control --reload

as_user() { setpriv --reuid="$USER_" --regid=nogroup --clear-groups --reset-env "$@"; }
live() { grep -qxF "$1" /sys/class/nvme/nvme*/subsysnqn 2>/dev/null; }

systemctl start stas.target || true
wait_until 90 live "$V:a" && ok "stas-discover read the DC, stas-connect connected $V:a" ||
	fail "$V:a connected"
# stas-discover's Notify() activated the service; stop it so the user's
# call has to start it again.
wait_until 30 systemctl is-active -q stas-cached.service &&
	ok "stas-discover's Notify() activated stas-cached" || fail "Notify() activated stas-cached"
systemctl stop stas-cached.service
check "stas-cached stopped" sh -c '! systemctl is-active -q stas-cached.service'

t0=$(date +%s%N)
out=$(as_user busctl call org.nvmexpress.stas /org/nvmexpress/stas org.nvmexpress.stas ListSubsystems 2>&1) || true
t1=$(date +%s%N)
diag "ListSubsystems as $USER_ (activation included): $(((t1 - t0) / 1000000)) ms"
echo "BENCH activation-first-reply-ms $(((t1 - t0) / 1000000))"
case $out in *"$V:a"*) ok "as $USER_: busctl ListSubsystems activates stas-cached and lists $V:a" ;;
*) fail "as $USER_: ListSubsystems lists $V:a: $out" ;; esac
check "stas-cached runs as user stas-cached" \
	sh -c "[ \"\$(ps -o user= -C stas-cached | head -1)\" = stas-cached ]"
out=$(as_user busctl call org.nvmexpress.staf /org/nvmexpress/staf org.nvmexpress.staf \
	get_log_pages sssssss tcp 127.0.0.1 8009 "" "" "" "" 2>&1) || true
case $out in *'"subnqn" "'"$V:a"'"'*'"subtype" "nvme"'*) ok "as $USER_: staf get_log_pages returns the stored entries" ;;
*) fail "as $USER_: staf get_log_pages: $out" ;; esac
n_dc=$(as_user busctl get-property org.nvmexpress.stas /org/nvmexpress/stas org.nvmexpress.stas DCCount | awk '{print $2}')
check "DCCount ($n_dc) = stasadm ls" test "$n_dc" = "$("$STASADM" ls --json | grep -c '"key"')"
check "as $USER_: Notify() is refused" sh -c \
	"! setpriv --reuid=$USER_ --regid=nogroup --clear-groups busctl call org.nvmexpress.stas /org/nvmexpress/stas org.nvmexpress.stas Notify asas 0 0"
check "as $USER_: setting tron is refused" sh -c \
	"! setpriv --reuid=$USER_ --regid=nogroup --clear-groups busctl set-property org.nvmexpress.staf /org/nvmexpress/staf org.nvmexpress.staf.debug tron b true"

# The change signal, as the user sees it
mon=/tmp/cached-monitor.txt
as_user gdbus monitor --system --dest org.nvmexpress.staf >"$mon" 2>&1 &
monpid=$!
vm_on_exit kill "$monpid"
mon2=/tmp/cached-monitor2.txt
as_user gdbus monitor --system --dest org.nvmexpress.stas >"$mon2" 2>&1 &
vm_on_exit kill "$!"
sleep 2
t0=$(date +%s%N)
nvmet_subsys_add "$V:b"
nvmet_link 1 "$V:b"
if wait_until 90 grep -q "log_pages_changed ('tcp', '127.0.0.1', '8009'" "$mon"; then
	t1=$(date +%s%N)
	ok "AEN: log_pages_changed seen by $USER_'s gdbus monitor ($(((t1 - t0) / 1000000)) ms after the link)"
else
	fail "AEN: log_pages_changed seen by $USER_"
	diag "$(cat "$mon")"
fi
check "and LogPagesChanged on stas's interface" grep -q "LogPagesChanged" "$mon2"
wait_until 60 live "$V:b" || true
out=$(as_user busctl call org.nvmexpress.staf /org/nvmexpress/staf org.nvmexpress.staf get_all_log_pages b true 2>&1) || true
case $out in *"$V:b"*) ok "get_all_log_pages has the new subsystem" ;; *) fail "get_all_log_pages has $V:b: $out" ;; esac

# No secret in anything a user can read
all=/tmp/cached-all.txt
: >"$all"
wait_until 60 sh -c "\"$STASADM\" paths --json | grep -q '$V:secret'" || diag "no path record of $V:secret"
for call in \
	"org.nvmexpress.staf /org/nvmexpress/staf org.nvmexpress.staf list_controllers b true" \
	"org.nvmexpress.staf /org/nvmexpress/staf org.nvmexpress.staf get_all_log_pages b true" \
	"org.nvmexpress.stac /org/nvmexpress/stac org.nvmexpress.stac list_controllers b true" \
	"org.nvmexpress.staf /org/nvmexpress/staf org.nvmexpress.staf.debug process_info" \
	"org.nvmexpress.stac /org/nvmexpress/stac org.nvmexpress.stac.debug process_info" \
	"org.nvmexpress.stac /org/nvmexpress/stac org.nvmexpress.stac.debug controller_info sssssss tcp 127.0.0.1 4420 $V:secret '' '' ''" \
	"org.nvmexpress.stas /org/nvmexpress/stas org.nvmexpress.stas GetStatus" \
	"org.nvmexpress.stas /org/nvmexpress/stas org.nvmexpress.stas ListDCs" \
	"org.nvmexpress.stas /org/nvmexpress/stas org.nvmexpress.stas GetSubsystemPaths s $V:secret"; do
	eval "as_user busctl call $call" >>"$all" 2>&1 || echo "FAILED: $call" >>"$all"
done
as_user busctl introspect org.nvmexpress.stas /org/nvmexpress/stas >>"$all" 2>&1 || true
check "every call answered" sh -c "! grep -q '^FAILED' $all"
check "the secret's path is listed by stac" grep -q "$V:secret" "$all"
check "no configured secret in any reply ($(wc -c <"$all") bytes)" \
	sh -c "! grep -qF -e '${S1:10:20}' -e '${S2:10:20}' -e DHHC $all"

# nvme-stas's own clients, as the user
if [ -n "${STAS_NVME_STAS_ROOT:-}" ] && [ -d "$STAS_NVME_STAS_ROOT" ]; then
	cp -a "$STAS_NVME_STAS_ROOT" /opt/nvme-stas
	chmod -R a+rX /opt/nvme-stas
	ctl() { as_user env PYTHONPATH=/opt/nvme-stas/usr/lib/python3/dist-packages /usr/bin/python3 "/opt/nvme-stas/usr/bin/$1" "${@:2}"; }
	t0=$(date +%s%N)
	out=$(ctl stafctl ls 2>&1) || true
	t1=$(date +%s%N)
	echo "BENCH stafctl-ls-ms $(((t1 - t0) / 1000000))"
	case $out in *"'traddr': '127.0.0.1'"*) ok "as $USER_: stafctl ls ($(((t1 - t0) / 1000000)) ms)" ;; *) fail "stafctl ls: $out" ;; esac
	out=$(ctl stafctl dlp -t tcp -a 127.0.0.1 -s 8009 2>&1) || true
	case $out in *"$V:b"*) ok "as $USER_: stafctl dlp" ;; *) fail "stafctl dlp: $out" ;; esac
	out=$(ctl stacctl ls 2>&1) || true
	case $out in *"$V:a"*) ok "as $USER_: stacctl ls" ;; *) fail "stacctl ls: $out" ;; esac
	out=$(ctl stafctl status 2>&1; ctl stacctl status 2>&1) || true
	check "stafctl/stacctl status: no secret" sh -c "! printf '%s' \"\$1\" | grep -qF -e '${S1:10:20}' -e '${S2:10:20}'" _ "$out"
else
	skip "stafctl/stacctl in the VM: STAS_NVME_STAS_ROOT not set"
fi
pid=$(systemctl show -p MainPID --value stas-cached.service)
[ "$pid" != 0 ] && echo "BENCH rss-kb $(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
failed=$(systemctl list-units --failed --plain --no-legend 'stas-cached*' | awk '{print $1}' | xargs)
check "stas-cached never failed${failed:+ ($failed)}" test -z "$failed"
journalctl -b --no-pager -o short-monotonic -u stas-cached.service | tail -15 | while IFS= read -r l; do diag "$l"; done
