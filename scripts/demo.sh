#!/usr/bin/env bash
# Builds everything and serves the demo app on http://127.0.0.1:${PORT:-8080}/ (or --port N).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${PORT:-8080}"
if [ "${1:-}" = "--port" ]; then port="$2"; fi
"$root/scripts/build.sh"
echo "Valor demo: http://127.0.0.1:$port/"
# Python's server sends .wasm as application/wasm and .js as text/javascript.
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory "$root/target/www"
