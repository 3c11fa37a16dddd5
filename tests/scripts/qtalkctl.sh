#!/usr/bin/env bash
# qtalkctl against a real qtalkd: every subcommand in --json (parsed and asserted with python3)
# and human form, exit codes 0-4, kicking a live watch, SIGINT ending a watch, status after the
# hub is gone. Every wait is bounded.
set -euo pipefail
source "${QTALK_SRC:?}/tests/support/script_lib.sh"

port=$(free_port)  # a fixed port: at --log-level warn qtalkd does not log the bound one
pub=$dir/q.sock
adm=$dir/admin.sock
"$bin/qtalkd" --listen "unix://$pub" --listen "tcp://127.0.0.1:$port" --admin "unix://$adm" --log-level warn \
  2>"$dir/qtalkd.log" &
hub=$!
pids+=($hub)
for _ in $(seq 200); do [ -S "$adm" ] && break; sleep 0.05; done  # admin is opened last
[ -S "$adm" ] || { echo "qtalkd did not start" >&2; cat "$dir/qtalkd.log" >&2; exit 1; }

ctl() { timeout 10 "$bin/qtalkctl" "$@"; }
pubctl() { ctl --socket "$pub" "$@"; }
admctl() { ctl --socket "$adm" "$@"; }
# expect_rc N CMD...: CMD must exit N; its output stays in $dir/out and $dir/err.
expect_rc() {
  local want=$1 rc=0
  shift
  "$@" >"$dir/out" 2>"$dir/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL: '$*' exited $rc, want $want" >&2
    cat "$dir/out" "$dir/err" >&2
    return 1
  fi
}
# json_ok EXPR: python expression over v (stdin parsed as JSON) must hold.
json_ok() { python3 -c "import json,sys; v=json.load(sys.stdin); assert ($1), v"; }
# wait_exit PID: up to 5 s for PID to exit.
wait_exit() {
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
  echo "process $1 still running" >&2
  return 1
}

echo "== --help for qtalkctl and every subcommand; usage errors exit 2"
ctl --help | grep -q "Exit codes"
for cmd in status sessions services stats kick watch call ping; do
  ctl "$cmd" --help | grep -q "Usage"
done
expect_rc 2 ctl frobnicate
expect_rc 2 ctl kick
expect_rc 2 pubctl call qtalk.ping '{not json'
grep -q "invalid JSON argument" "$dir/err"

echo "== call: hub methods, reply shapes"
pubctl --json call qtalk.register '{"name":"x"}' | json_ok 'v == {"name": "/x", "owner": True}'
pubctl --json call qtalk.ping '{"a":[1,2,"three"]}' | json_ok 'v == {"a": [1, 2, "three"]}'
pubctl call qtalk.ping | json_ok 'v is None'
pubctl ping '"hello"' | grep -q "time=.* ms"
pubctl --json ping 42 | json_ok 'v == 42'
ctl --url "tcp://127.0.0.1:$port" --json ping '[1]' | json_ok 'v == [1]'
expect_rc 1 pubctl call no.such.service
grep -q "^qtalkctl: remote: service not found: /no/such/service$" "$dir/err"
expect_rc 1 pubctl call qtalk.nope
grep -q "^qtalkctl: remote: not found: /qtalk/nope$" "$dir/err"

echo "== providers: qtalk-interop (JSON) and clock-provider (CBOR, streaming)"
QTALK_CODEC=json "$bin/qtalk-interop" --hub "unix://$pub" --name demo 2>"$dir/interop.log" &
pids+=($!)
wait_for "$dir/interop.log" "registered"
"$bin/clock-provider" "unix://$pub" 2>"$dir/clock.log" &
pids+=($!)
wait_for "$dir/clock.log" "serving /clock"
expect_rc 1 pubctl call demo.Error '"boom"'
grep -q "^qtalkctl: remote: boom$" "$dir/err"
pubctl --json call --codec cbor clock.now | json_ok 'isinstance(v["unix_ms"], int)'
pubctl call clock.ticks 3 --codec cbor >"$dir/ticks"
python3 - "$dir/ticks" <<'EOF'
import json, sys
vals = [json.loads(l) for l in open(sys.argv[1])]
assert vals[0] == 3 and len(vals) == 4 and all("unix_ms" in t for t in vals[1:]), vals
EOF
expect_rc 1 pubctl call clock.now  # JSON caller, CBOR provider: the hub relays, never translates
grep -q "try --codec cbor" "$dir/err"
pubctl --json call qtalk.services | json_ok '[s["name"] for s in v] == ["/clock", "/demo"]'

echo "== admin views (admin socket)"
admctl --json services | json_ok '
  [s["name"] for s in v] == ["/clock", "/demo"] and
  all(set(s) >= {"name", "shared", "owner", "sessions", "calls"} for s in v) and
  all(s["shared"] is False and s["sessions"] == [s["owner"]] for s in v) and
  v[0]["calls"] >= 2'
admctl services | grep -q "^NAME  *MODE  *OWNER  *SESSIONS  *CALLS$"
admctl services | grep -q "^/demo  *exclusive "
admctl --json sessions | json_ok '
  isinstance(v, list) and len(v) >= 3 and
  all(set(s) >= {"id", "transport", "remote", "uid", "pid", "connected_at", "channels", "bytes_in",
                 "bytes_out", "services", "privileged"} for s in v) and
  sorted(n for s in v for n in s["services"]) == ["/clock", "/demo"] and
  any(s["privileged"] for s in v) and all(s["transport"] == "unix" for s in v)'
admctl sessions | grep -q "^ *ID  *TRANSPORT  *REMOTE  *UID  *PID  *CONNECTED  *CHANNELS  *IN  *OUT  *SERVICES$"
admctl --json stats | json_ok '
  set(v) >= {"started_at", "uptime_s", "sessions", "sessions_total", "services", "channels", "calls_total",
             "calls_active", "calls_routed", "errors", "bytes_in", "bytes_out", "memory_rss_bytes"} and
  v["services"] == 2 and v["calls_routed"] >= 3'
admctl stats | grep -q "^uptime  "
admctl stats | grep -q "^memory (rss)  .*iB$"

echo "== admin calls on the public socket: permission denied, exit 4"
expect_rc 4 pubctl sessions
grep -q "^qtalkctl: remote: permission denied$" "$dir/err"
grep -q "use the admin socket" "$dir/err"
expect_rc 4 pubctl call qtalk.admin.stats
expect_rc 1 admctl kick 999999
grep -q "session not found: 999999" "$dir/err"

echo "== watch: snapshot, up/down events, SIGINT exits 0"
"$bin/qtalkctl" --socket "$pub" watch >"$dir/watch.txt" 2>&1 &
w1=$!
pids+=($w1)
wait_for "$dir/watch.txt" "^/demo  *exclusive  *1$"
QTALK_CODEC=json "$bin/qtalk-interop" --hub "unix://$pub" --name late 2>"$dir/late.log" &
late=$!
pids+=($late)
wait_for "$dir/watch.txt" "^up /late$"
kill "$late"
wait_for "$dir/watch.txt" "^down /late$"
kill -INT "$w1"
wait_exit "$w1"
rc=0; wait "$w1" || rc=$?
[ "$rc" = 0 ] || { echo "watch after SIGINT exited $rc" >&2; cat "$dir/watch.txt" >&2; exit 1; }
# A streamed call ends with a clean CLOSE on SIGINT too, exiting 130 like an interrupted command.
"$bin/qtalkctl" --socket "$pub" call qtalk.watch >"$dir/call_watch.json" 2>&1 &
cw=$!
pids+=($cw)
wait_for "$dir/call_watch.json" '"/demo"'
kill -INT "$cw"
wait_exit "$cw"
rc=0; wait "$cw" || rc=$?
[ "$rc" = 130 ] || { echo "streamed call after SIGINT exited $rc, want 130" >&2; exit 1; }

echo "== kick a live watch session: the watch exits 1"
"$bin/qtalkctl" --socket "$pub" --json watch >"$dir/watch.json" 2>"$dir/watch.err" &
w2=$!
pids+=($w2)
wait_for "$dir/watch.json" '"/demo"'
head -1 "$dir/watch.json" | json_ok '[s["name"] for s in v] == ["/clock", "/demo"]'
id=$(admctl --json sessions | python3 -c "
import json, sys
print([s['id'] for s in json.load(sys.stdin) if s['pid'] == $w2][0])")
admctl --json kick "$id" | json_ok "v == {'session': $id, 'kicked': True}"
wait_exit "$w2"
rc=0; wait "$w2" || rc=$?
[ "$rc" = 1 ] || { echo "kicked watch exited $rc, want 1" >&2; exit 1; }
grep -q "^qtalkctl: " "$dir/watch.err"
admctl --json sessions | json_ok "all(s['id'] != $id for s in v)"

echo "== status: running (0), unresponsive (3), stopped (3)"
admctl status | grep -q "^qtalkd is running (admin socket $adm), uptime .*, [0-9]* sessions, 2 services$"
admctl --json status | json_ok 'v["services"] == 2'
pubctl status | grep -q "^qtalkd is running (socket $pub), no stats: not the admin socket$"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.bind(sys.argv[1]); s.listen()
c, _ = s.accept(); c.settimeout(10)
while c.recv(4096): pass  # accepts, never answers; ends when the client gives up' "$dir/mute.sock" &
mute=$!
pids+=($mute)
for _ in $(seq 100); do [ -S "$dir/mute.sock" ] && break; sleep 0.05; done
expect_rc 3 ctl --socket "$dir/mute.sock" --timeout 0.5 status
grep -q "^qtalkd is not responding$" "$dir/out"
grep -q "timed out" "$dir/err"
wait "$mute"
kill "$hub"
wait_exit "$hub"
expect_rc 3 admctl status
grep -q "^qtalkd is not running$" "$dir/out"
expect_rc 3 admctl sessions
expect_rc 3 pubctl ping
echo "qtalkctl tests passed"
