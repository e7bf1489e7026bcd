#!/usr/bin/env bash
# Builds everything and serves the demo app on http://127.0.0.1:${PORT:-8080}/ (or --port N).
# With --server, serves the demo's API from the server host instead: `valor serve -p
# www/plugins.json` on http://127.0.0.1:${PORT:-8787}/ (curl http://127.0.0.1:8787/api/hello).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server=false port=""
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server=true ;;
    --port) port="$2"; shift ;;
    *) echo "usage: scripts/demo.sh [--server] [--port N]" >&2; exit 2 ;;
  esac
  shift
done
# The test command builds everything once and then runs suites side by side: it sets
# VALOR_BUILT, so that the demo's test does not lay target/ out again under another suite.
if [ -z "${VALOR_BUILT:-}" ]; then "$root/scripts/build.sh"; fi
if $server; then
  port="${port:-${PORT:-8787}}"
  . "$root/target/toolchain.env"
  cargo build --quiet --manifest-path "$root/Cargo.toml" --profile server -p valor-server
  exec "$root/target/server/valor" serve -p "$root/www/plugins.json" --listen "127.0.0.1:$port"
fi
port="${port:-${PORT:-8080}}"
echo "Valor demo: http://127.0.0.1:$port/"
# Python's server sends .wasm as application/wasm and .js as text/javascript.
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory "$root/target/www"
