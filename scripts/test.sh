#!/usr/bin/env bash
# Every test of the project: host tests (codec, routing, manifest, macro UI tests), lints, the
# browser tests in a real service worker (wasm-pack test), and the demo app in headless Chromium.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/build.sh
. target/toolchain.env

say() { printf '\033[1;34m[test]\033[0m %s\n' "$*" >&2; }

say "host: cargo test"
cargo test --quiet --workspace --exclude wasm-pack-tests

say "lints: rustfmt, clippy (host and wasm32)"
cargo fmt --all --check
cargo clippy --quiet --workspace --all-targets -- -D warnings
cargo clippy --quiet --workspace --all-targets --target wasm32-unknown-unknown -- -D warnings

say "browser: wasm-pack test --headless --chrome wasm-pack-tests"
wasm-pack test --headless --chrome wasm-pack-tests

say "demo: the served app in headless Chromium"
(cd e2e && { [ -d node_modules/playwright-core ] || npm ci --silent --no-audit --no-fund; } && node --test)

# One quick pass, so the benchmark keeps working; it fails if any request or body goes wrong.
say "benchmark smoke: node bench/run.mjs --runs 1"
node bench/run.mjs --runs 1 --json target/bench/smoke.json >/dev/null
