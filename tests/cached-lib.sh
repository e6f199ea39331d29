# SPDX-License-Identifier: Apache-2.0
# Shared by the stas-cached tests: a private D-Bus daemon acting as the
# system bus (no root needed), with activation files that start the
# build's stas-cached on the given cache. Source it, then:
#   cached_bus_start DIR CACHE_DIR [extra stas-cached args...]
# exports DBUS_SYSTEM_BUS_ADDRESS; cached_bus_stop ends the daemon (and so
# the service). Needs dbus-daemon.

cached_bus_start() {
	local dir=$1 cache=$2
	shift 2
	command -v dbus-daemon >/dev/null || return 77
	mkdir -p "$dir/services"
	for name in stas staf stac; do
		cat >"$dir/services/org.nvmexpress.$name.service" <<EOT
[D-BUS Service]
Name=org.nvmexpress.$name
Exec=$top_builddir/cache/stas-cached --cache-dir=$cache $*
EOT
	done
	cat >"$dir/bus.conf" <<EOT
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$dir/bus</listen>
  <servicedir>$dir/services</servicedir>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOT
	export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/bus"
	DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/bus" \
		dbus-daemon --config-file="$dir/bus.conf" --nofork --print-pid=3 3>"$dir/bus.pid" \
		>"$dir/bus.log" 2>&1 &
	for _ in $(seq 100); do
		[ -S "$dir/bus" ] && [ -s "$dir/bus.pid" ] && return 0
		sleep 0.05
	done
	echo "# dbus-daemon did not start: $(cat "$dir/bus.log")" >&2
	return 1
}

cached_bus_stop() {
	local dir=$1 pid
	pid=$(cat "$dir/bus.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	wait 2>/dev/null
	# the service exits when its bus goes away
	for _ in $(seq 50); do
		pgrep -f "stas-cached --cache-dir=$2" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 0
}
