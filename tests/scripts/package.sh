#!/usr/bin/env bash
# The Debian packages: built with CPack from this build tree, checked for the files an operator
# needs (binaries, units, conffile, sysusers, library, headers) and by lintian (no errors).
set -euo pipefail
source "${QTALK_SRC:?}/tests/support/script_lib.sh"
build=$(dirname "$bin")
(cd "$build" && cpack -G DEB -B "$dir" >"$dir/cpack.log" 2>&1) || { cat "$dir/cpack.log"; exit 1; }
main=$(ls "$dir"/qtalk_*.deb)
dev=$(ls "$dir"/qtalk-dev_*.deb)
contents=$(dpkg-deb --contents "$main")
for f in ./usr/bin/qtalkd ./usr/bin/qtalkctl ./lib/systemd/system/qtalkd.service ./lib/systemd/system/qtalkd.socket \
         ./etc/qtalk/qtalkd.json ./usr/lib/sysusers.d/qtalk.conf ./usr/share/man/man8/qtalkd.8.gz \
         ./usr/share/man/man1/qtalkctl.1.gz; do
  grep -q " $f\$" <<<"$contents" || { echo "missing $f in $main"; exit 1; }
done
grep -q "libqtalk.so.0" <<<"$contents"
dpkg-deb --info "$main" conffiles | grep -q "/etc/qtalk/qtalkd.json"   # a conffile
devcontents=$(dpkg-deb --contents "$dev")
grep -q "include/qtalk/rpc/peer.hpp" <<<"$devcontents"
grep -q "libqtalk.a" <<<"$devcontents"
if command -v lintian >/dev/null; then
  for d in "$main" "$dev"; do
    out=$(lintian --no-tag-display-limit "$d" 2>&1 || true)
    if grep -q "^E:" <<<"$out"; then echo "$out"; exit 1; fi
  done
fi
echo "packages ok: $(basename "$main") $(basename "$dev")"
