#!/usr/bin/env bash
# qtalkd as a process under signals: SIGTERM stops accepting, lets an in-flight streaming call
# finish, and exits 0.
set -euo pipefail
bin=${QTALK_BIN:?}
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
wait_for() {
  for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

unix=unix://$dir/q.sock
"$bin/qtalkd" --listen "$unix" --admin none --drain-timeout 5 2>"$dir/qtalkd.log" &
hub=$!
pids+=($hub)
wait_for "$dir/qtalkd.log" "listening url=$unix"
"$bin/clock-provider" "$unix" 2>"$dir/provider.log" &
pids+=($!)
wait_for "$dir/provider.log" "serving /clock"

echo "== SIGTERM drains an in-flight stream (10 ticks, 1 s) before exiting 0"
"$bin/clock-caller" "$unix" 10 >"$dir/caller.out" 2>&1 &
caller=$!
sleep 0.3
kill -TERM "$hub"
wait "$caller"
grep -q "^received 10 ticks$" "$dir/caller.out"
wait "$hub"
grep -q "draining" "$dir/qtalkd.log"
[ ! -e "$dir/q.sock" ]  # the listener removed its socket file
echo "daemon signal tests passed"
