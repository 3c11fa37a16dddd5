#!/usr/bin/env bash
# Installs the Debian 12 build dependencies (if missing), configures and builds qtalk into
# ./build. Safe to run repeatedly; the README's commands start with it. With --tests it also
# installs what only the test suite needs (headless Chromium for the browser smoke test).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev nlohmann-json3-dev libspdlog-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libssl-dev
  systemd lintian dpkg-dev file python3
)
[ "${1:-}" = "--tests" ] && packages+=(chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; }
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" >/dev/null
cmake --build build -j"$(nproc)"
