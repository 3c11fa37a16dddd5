#!/usr/bin/env bash
# qtalk-check against qtalk-interop, 100 runs in a row for each codec over stdio, tcp and unix
# (and ws when the transport is available). Any failed run fails the test. Bounded in time.
set -euo pipefail
source "${QTALK_SRC:?}/tests/support/script_lib.sh"
runs=${QTALK_LOOP_RUNS:-100}
# ws joins the loop once the transport is built in.
probe=$(timeout 1 "$bin/qtalk-interop" --listen ws://127.0.0.1:0/ 2>&1 || true)
case "$probe" in *unsupported*) QTALK_WS=0 ;; esac


for codec in json cbor; do
  export QTALK_CODEC=$codec
  echo "== $codec stdio"
  timeout 120 "$bin/qtalk-check" -q --repeat "$runs" -- "$bin/qtalk-interop"
  port=$(free_port)
  urls=("tcp://127.0.0.1:$port" "unix://$dir/interop-$codec.sock")
  if [ "${QTALK_WS:-1}" = 1 ]; then
    wsport=$(free_port)
    urls+=("ws://127.0.0.1:$wsport/")
  fi
  args=()
  for u in "${urls[@]}"; do args+=(--listen "$u"); done
  "$bin/qtalk-interop" "${args[@]}" 2>"$dir/interop-$codec.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q "listening ${urls[-1]}" "$dir/interop-$codec.log" 2>/dev/null && break; sleep 0.05; done
  if ! grep -q "listening ${urls[-1]}" "$dir/interop-$codec.log"; then
    cat "$dir/interop-$codec.log" >&2
    exit 1
  fi
  for u in "${urls[@]}"; do
    echo "== $codec $u"
    timeout 120 "$bin/qtalk-check" -q --repeat "$runs" --dial "$u"
  done
done
echo "all interop loops passed"
