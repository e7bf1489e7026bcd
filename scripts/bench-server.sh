#!/usr/bin/env bash
# Builds the plugins, the server host and its floor, and runs the server benchmark (wrk on
# loopback; figures, not pass/fail). Options go to bench/server.mjs (--runs, --seconds, --json).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
. "$root/target/toolchain.env"
(cd "$root" && cargo build --quiet --profile server -p valor-server -p valor-bench-floor)
"$root/scripts/build-native.sh"
node "$root/bench/server.mjs" "$@"
