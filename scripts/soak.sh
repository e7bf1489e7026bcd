#!/usr/bin/env bash
# Builds everything and runs the soak (bench/soak.mjs) in headless Chromium: prints the answers
# by plugin and status, the time and the worker's heap; exits 1 if a criterion fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
node "$root/bench/soak.mjs" "$@"
