#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then build and run a program outside the tree
# against it with find_package(qtalk), and check the pkg-config file resolves.
set -euo pipefail
src=${QTALK_SRC:?}
build=$(dirname "${QTALK_BIN:?}")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cmake --install "$build" --prefix "$dir/prefix" >/dev/null
test -f "$dir/prefix/include/qtalk/rpc/peer.hpp"
test -f "$dir/prefix/lib/libqtalk.a"
ls "$dir"/prefix/lib/libqtalk.so* >/dev/null
PKG_CONFIG_PATH="$dir/prefix/lib/pkgconfig" pkg-config --cflags --libs qtalk | grep -q -- "-lqtalk"
cmake -S "$src/tests/consumer" -B "$dir/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$dir/prefix" >/dev/null
cmake --build "$dir/consumer" >/dev/null
"$dir/consumer/consumer"
