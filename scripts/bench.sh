#!/usr/bin/env bash
# Builds everything and runs the benchmarks in headless Chromium (figures, not pass/fail).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
node "$root/bench/run.mjs" "$@"
