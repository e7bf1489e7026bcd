#!/usr/bin/env bash
# Builds the plugin and lays out dist/, the app to deploy: the Valor service worker (sw.js) and
# runtime (valor/), the manifest (plugins.json), the plugin (plugins/{{crate}}.wasm) and a page.
# The browser tests serve a copy of it from browser-tests/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
cargo build --release --target wasm32-unknown-unknown
rm -rf dist && mkdir -p dist/plugins
cp -R runtime/. dist/
cp web/* dist/
cp target/wasm32-unknown-unknown/release/{{crate}}.wasm dist/plugins/
rm -rf browser-tests/valor browser-tests/plugins
cp -R dist/sw.js dist/valor dist/plugins dist/plugins.json browser-tests/
echo "dist/ is ready: serve it, e.g. python3 -m http.server -d dist 8080"
