#!/usr/bin/env bash
# Builds the Rust plugins the conformance suite also runs natively (`valor serve
# --allow-native-plugins`) as shared libraries for this machine, and puts them beside their
# .wasm in target/conformance/plugins/ (libhello.so, ...). The `server` profile: panics unwind
# (release's `panic = "abort"` would end the server on a plugin's panic). Run it after
# scripts/build.sh, which lays out target/conformance anew.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. target/toolchain.env

say() { printf '\033[1;34m[build-native]\033[0m %s\n' "$*" >&2; }

# The demo's Rust plugins, and the conformance suite's that need no fuel or memory limit.
plugins=(hello echo with_state proxy todos routed panicking failing host-api streaming)
packages=()
for plugin in "${plugins[@]}"; do packages+=(-p "$plugin"); done
say "cargo build --profile server --lib ${packages[*]}"
cargo build --quiet --profile server --lib "${packages[@]}"

case "$(uname -s)" in
  Darwin) prefix=lib suffix=dylib ;;
  MINGW* | MSYS* | CYGWIN*) prefix='' suffix=dll ;;
  *) prefix=lib suffix=so ;;
esac
mkdir -p target/conformance/plugins
for plugin in "${plugins[@]}"; do
  file="$prefix${plugin//-/_}.$suffix"
  cp "target/server/$file" "target/conformance/plugins/$file"
done
say "target/conformance/plugins/: ${#plugins[@]} native plugins (*.$suffix)"
