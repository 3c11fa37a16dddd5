#!/usr/bin/env bash
# qtalkd with real processes: the conformance suite through the hub (qtalk-interop registered
# as a provider over unix, qtalk-check calling over tcp, its callbacks registered at the hub),
# the clock examples, and failover when a provider process is killed. Bounded in time.
set -euo pipefail
source "${QTALK_SRC:?}/tests/support/script_lib.sh"

port=$(free_port)
tcp=tcp://127.0.0.1:$port
unix=unix://$dir/qtalkd.sock
"$bin/qtalkd" --listen "$tcp" --listen "$unix" --admin "unix://$dir/admin.sock" --log-level info 2>"$dir/qtalkd.log" &
pids+=($!)
wait_for "$dir/qtalkd.log" "listening url=unix://$dir/admin.sock"

for codec in json cbor; do
  echo "== conformance through the hub ($codec)"
  QTALK_CODEC=$codec "$bin/qtalk-interop" --hub "$unix" --name "interop-$codec" --callback-prefix "checker-$codec" \
    2>"$dir/interop-$codec.log" &
  pids+=($!)
  wait_for "$dir/interop-$codec.log" "registered"
  QTALK_CODEC=$codec timeout 60 "$bin/qtalk-check" --dial "$tcp" --register "checker-$codec" --service "interop-$codec" \
    --repeat 5 -q
done

echo "== clock examples through the hub"
"$bin/clock-provider" "$unix" 2>"$dir/provider1.log" &
p1=$!
pids+=($p1)
wait_for "$dir/provider1.log" "serving /clock"
"$bin/clock-provider" "$unix" 2>"$dir/provider2.log" &
pids+=($!)
wait_for "$dir/provider2.log" "serving /clock (queued)"
out=$(timeout 20 "$bin/clock-caller" "$tcp" 3)
echo "$out"
grep -q '^now: {"unix_ms":' <<<"$out"
grep -q '^received 3 ticks$' <<<"$out"

echo "== failover: kill the owner, the queued provider answers"
kill -9 "$p1"
for _ in $(seq 100); do
  if timeout 5 "$bin/clock-caller" "$tcp" 1 >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.05
done
[ "${ok:-0}" = 1 ]
grep -q "session closed" "$dir/qtalkd.log"
echo "hub process tests passed"
