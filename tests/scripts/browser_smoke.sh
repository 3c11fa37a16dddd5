#!/usr/bin/env bash
# Headless Chromium opens tests/browser/smoke.html, which speaks qmux over WebSocket to qtalkd,
# calls qtalk.ping and registers "browser.pass" (or "browser.fail") at the hub; this script
# polls qtalk.services with qtalkctl. Skips (exit 77) where no chromium is installed.
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
timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$dir/profile" "$page" >"$dir/chromium.log" 2>&1 &
# timeout leads its own process group: killing the group also ends chromium's helper processes.
pids+=("-$!")
for _ in $(seq 300); do
  services=$(timeout 5 "$bin/qtalkctl" --url "ws://127.0.0.1:$port/" --json call qtalk.services 2>/dev/null || true)
  case "$services" in
    *'"/browser/pass"'*) echo "browser: PASS"; exit 0 ;;
    *'"/browser/fail"'*) echo "browser: FAIL"; tail -20 "$dir/qtalkd.log"; exit 1 ;;
  esac
  sleep 0.1
done
echo "browser: no verdict within 30 s"; tail -20 "$dir/qtalkd.log"; tail -20 "$dir/chromium.log"; exit 1
