#!/usr/bin/env bash
# qtalkd under systemd-like supervision, as real processes: socket activation through
# systemd-socket-activate (fd adopted by FileDescriptorName), a fake NOTIFY_SOCKET receiving
# READY/STATUS/WATCHDOG/RELOADING/STOPPING, SIGHUP adding a listener and changing the log level
# while a session stays up, an invalid reload refused while serving goes on, SIGTERM exiting 0.
set -euo pipefail
source "${QTALK_SRC:?}/tests/support/script_lib.sh"
command -v systemd-socket-activate >/dev/null || { echo "SKIP: no systemd-socket-activate"; exit 77; }

# The fake service manager: records every datagram on NOTIFY_SOCKET, one per line.
python3 - "$dir/notify.sock" "$dir/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
PY
pids+=($!)
for _ in $(seq 100); do [ -S "$dir/notify.sock" ] && break; sleep 0.05; done

port=$(free_port)
write_config() {  # write_config LEVEL [extra listener URL]
  local extra=""
  [ -n "${2:-}" ] && extra=", { \"url\": \"$2\" }"
  cat >"$dir/qtalkd.json" <<JSON
{ "listeners": [ { "url": "unix://$dir/activated.sock", "name": "unix" }$extra ],
  "admin": { "url": "unix://$dir/admin.sock" },
  "log": { "level": "$1" } }
JSON
}
write_config info
"$bin/qtalkd" --config "$dir/qtalkd.json" --check-config | grep -q "configuration ok"

# systemd-socket-activate execs qtalkd (keeping its pid) on the first connection.
NOTIFY_SOCKET="$dir/notify.sock" WATCHDOG_USEC=400000 systemd-socket-activate -E NOTIFY_SOCKET -E WATCHDOG_USEC \
  -l "$dir/activated.sock" --fdname=unix "$bin/qtalkd" --config "$dir/qtalkd.json" 2>"$dir/qtalkd.log" &
hub=$!
pids+=($hub)
for _ in $(seq 100); do [ -S "$dir/activated.sock" ] && break; sleep 0.05; done
"$bin/qtalkctl" --url "unix://$dir/activated.sock" ping >/dev/null   # served by the activated daemon
wait_for "$dir/notify.log" "READY=1"
grep -q "STATUS=serving" "$dir/notify.log"
wait_for "$dir/qtalkd.log" "listening url=unix://$dir/activated.sock"
wait_for "$dir/notify.log" "WATCHDOG=1"
echo "== socket activation, READY, STATUS, WATCHDOG: ok"

# A session that must survive the reload: a watcher on the activated socket.
"$bin/qtalkctl" --url "unix://$dir/activated.sock" watch >"$dir/watch.out" 2>&1 &
watcher=$!
pids+=($watcher)
sleep 0.3
write_config debug "tcp://127.0.0.1:$port"
kill -HUP "$hub"
wait_for "$dir/notify.log" "RELOADING=1"
wait_for "$dir/qtalkd.log" "configuration reloaded"
"$bin/qtalkctl" --url "tcp://127.0.0.1:$port" ping >/dev/null
grep -q "debug" "$dir/qtalkd.log"
kill -0 "$watcher"   # still connected
echo "== SIGHUP: new listener, debug level, session kept: ok"

echo "{ not json" >"$dir/qtalkd.json"
kill -HUP "$hub"
wait_for "$dir/qtalkd.log" "reload refused"
"$bin/qtalkctl" --url "tcp://127.0.0.1:$port" ping >/dev/null
kill -0 "$watcher"
echo "== invalid reload refused, still serving: ok"

kill -TERM "$hub"
wait "$hub"
wait_for "$dir/notify.log" "STOPPING=1"
echo "== SIGTERM: STOPPING, exit 0: ok"
