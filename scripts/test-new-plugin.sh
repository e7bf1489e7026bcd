#!/usr/bin/env bash
# What the README promises a plugin author, done as an author would, outside this repository:
# start a project with scripts/new-plugin.sh, test its handler natively, build it with plain
# cargo, lay out the app with the demo's runtime, and run its browser tests in Chromium, Firefox
# and WebKit. Expects scripts/build.sh to have run and target/toolchain.env to be sourced.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { printf '\033[1;34m[new-plugin]\033[0m %s\n' "$*" >&2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$root/scripts/new-plugin.sh" my-notes "$work/my-notes"
cd "$work/my-notes"
# The project is no part of this repository's workspace, nor of its cargo config.
[ "$(cargo locate-project --workspace --message-format plain)" = "$work/my-notes/Cargo.toml" ]

say "cargo test (native, in-memory host)"
cargo test --quiet
say "cargo build --release --target wasm32-unknown-unknown"
cargo build --quiet --release --target wasm32-unknown-unknown
test -s target/wasm32-unknown-unknown/release/my_notes.wasm
say "./build.sh (dist/ with the demo's runtime files)"
./build.sh >/dev/null
cmp dist/valor/valor_runtime_bg.wasm "$root/target/www/valor/valor_runtime_bg.wasm"
cmp dist/sw.js "$root/target/www/sw.js"
say "its browser tests: Chromium, Firefox, WebKit"
wasm-pack test --headless --chrome browser-tests
wasm-pack test --headless --firefox browser-tests
wasm-pack test --headless --safari --safaridriver "$(command -v WebKitWebDriver)" browser-tests
