#!/usr/bin/env bash
# A plugin project of one's own, outside this repository, now starts with `valor new` (the old
# scripts/new-plugin.sh is gone): this runs the tests of that path, from the packaged crates and
# the installed `valor`, in the engines VALOR_CLI_ENGINES names (default: all three). Expects
# scripts/build.sh to have run and target/toolchain.env to be sourced.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/test-packages.sh"
VALOR_CLI_ENGINES="${VALOR_CLI_ENGINES:-chromium firefox webkit}" "$root/scripts/test-cli.sh"
