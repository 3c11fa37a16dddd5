#!/usr/bin/env bash
# qtalkd as a process under signals: SIGTERM stops accepting, lets an in-flight streaming call
# finish, and exits 0.
set -euo pipefail
source "${QTALK_SRC:?}/tests/support/script_lib.sh"

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
