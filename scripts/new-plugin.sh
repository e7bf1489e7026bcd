#!/usr/bin/env bash
# Starts a plugin project of its own, outside this repository:
#
#   scripts/new-plugin.sh NAME DIR
#
# DIR (which must not exist yet) gets a crate NAME that depends on this checkout's vlugin, with
# native tests (`cargo test`), browser tests (`wasm-pack test --headless --chrome
# browser-tests`), a copy of the Valor runtime to serve it with, and `build.sh`, which lays out
# the app to deploy in dist/. It builds with plain `cargo build --release --target
# wasm32-unknown-unknown`; its README says the rest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() { echo "usage: $0 NAME DIR   (NAME: lowercase letters, digits, - and _; a letter first)" >&2; exit 2; }
[ $# -eq 2 ] || usage
name="$1" dir="$2"
[[ "$name" =~ ^[a-z][a-z0-9_-]*$ ]] || usage
if [ -e "$dir" ]; then echo "$dir already exists: choose a new directory" >&2; exit 1; fi

# The runtime files it serves (built once, as for the demo).
runtime_files=("$root/target/runtime/valor_runtime.js" "$root/target/runtime/valor_runtime_bg.wasm" \
  "$root/target/runtime/valor_meter.wasm")
for file in "${runtime_files[@]}"; do
  [ -f "$file" ] || { "$root/scripts/build.sh"; break; }
done

crate="${name//-/_}"
wasm_bindgen="$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' "$root/Cargo.toml")"
mkdir -p "$(dirname "$dir")"
cp -R "$root/templates/plugin" "$dir"
dir="$(cd "$dir" && pwd)"
find "$dir" -type f \( -name '*.rs' -o -name '*.toml' -o -name '*.json' -o -name '*.html' \
  -o -name '*.md' -o -name '*.sh' \) -print0 |
  xargs -0 sed -i -e "s|{{name}}|$name|g" -e "s|{{crate}}|$crate|g" \
    -e "s|{{vlugin}}|$root/vlugin|g" -e "s|{{wasm_bindgen}}|$wasm_bindgen|g"
mkdir -p "$dir/runtime/valor"
cp "$root/sw.js" "$dir/runtime/"
cp "${runtime_files[@]}" "$dir/runtime/valor/"
# The versions this checkout is tested with (and has in its cargo cache, for offline builds).
cp "$root/Cargo.lock" "$dir/"
echo "created $dir: cd there, then see its README.md (cargo test; ./build.sh; wasm-pack test --headless --chrome browser-tests)"
