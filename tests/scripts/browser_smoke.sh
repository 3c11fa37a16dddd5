#!/usr/bin/env bash
# Headless Chromium opens tests/browser/smoke.html, which speaks qmux over WebSocket to qtalkd
# and calls qtalk.ping. Skips (exit 77) where no chromium is installed.
set -euo pipefail
src=${QTALK_SRC:?}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then echo "SKIP: no chromium installed"; exit 77; fi
source "$src/tests/support/script_lib.sh"
port=$(free_port)
"$bin/qtalkd" --listen "ws://127.0.0.1:$port/" --admin none 2>"$dir/qtalkd.log" &
pids+=($!)
wait_for "$dir/qtalkd.log" "listening url=ws://"
page="file://$src/tests/browser/smoke.html?ws=ws://127.0.0.1:$port/"
dom=$(timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$dir/profile" --virtual-time-budget=10000 --dump-dom "$page" 2>"$dir/chromium.log" || true)
result=$(grep -o '<pre id="result">[^<]*' <<<"$dom" | sed 's/.*>//')
echo "browser: $result"
[[ "$result" == PASS* ]] || { tail -20 "$dir/qtalkd.log"; exit 1; }
