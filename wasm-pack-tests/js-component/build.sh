#!/usr/bin/env bash
# Builds hello.js into a WASI 0.2 `wasi:http/proxy` component with componentize-js, pinned by
# package.json and package-lock.json and installed in node_modules/ here (npm ci, once):
#
#   wasm-pack-tests/js-component/build.sh [OUT]   (default target/js-component/component_js.wasm)
#
# Idempotent: nothing is done while OUT is newer than hello.js, this script and the install.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$root/target/js-component"
out="${1:-$work/component_js.wasm}"

say() { printf '\033[1;34m[js-component]\033[0m %s\n' "$*" >&2; }

# npm ci writes node_modules/.package-lock.json: newer than the lock file means up to date.
installed="$here/node_modules/.package-lock.json"
if ! [ "$installed" -nt "$here/package-lock.json" ]; then
  say "npm ci in wasm-pack-tests/js-component/"
  (cd "$here" && npm ci --silent --no-audit --no-fund)
fi
if [ -f "$out" ] && [ "$out" -nt "$here/hello.js" ] && [ "$out" -nt "$here/build.sh" ] &&
  [ "$out" -nt "$installed" ]; then
  exit 0
fi

# The world: `wasi:http/proxy@0.2.10`, the version whose handler componentize-js 0.22's engine
# exports. Its WIT is jco's copy of WASI 0.2.12 (a dependency of componentize-js) labelled
# 0.2.10, without wasi:filesystem and wasi:sockets, which the proxy world does not import and
# whose 0.2.12 text does not merge with the engine's own 0.2.10 (componentize-js refuses it).
wit="$work/wit"
rm -rf "$wit" && mkdir -p "$wit/deps"
for package in cli clocks http io random; do
  mkdir -p "$wit/deps/$package"
  sed -e 's/@0\.2\.12/@0.2.10/g' -e '/include wasi:\(filesystem\|sockets\)\//d' \
    "$here/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12/wasi-$package/package.wit" \
    >"$wit/deps/$package/package.wit"
done
printf 'package valor:js-component;\n\nworld component {\n  include wasi:http/proxy@0.2.10;\n}\n' \
  >"$wit/world.wit"

say "componentize-js hello.js -> $out"
mkdir -p "$(dirname "$out")"
"$here/node_modules/.bin/componentize-js" --wit "$wit" --world-name component \
  -o "$out.partial" "$here/hello.js" >/dev/null
mv "$out.partial" "$out"
