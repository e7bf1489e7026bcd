#!/usr/bin/env bash
# Builds everything and runs the benchmarks in headless Chromium: Valor, the floor and MSW side by
# side (figures, not pass/fail; a wrong answer fails the run).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
node "$root/bench/run.mjs" "$@"
