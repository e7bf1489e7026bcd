#!/usr/bin/env bash
# The crates as a user gets them: packaged (scripts/package-crates.sh) and unpacked, then used
# from a temporary directory outside this checkout, through [patch.crates-io] (a user gets the
# same from crates.io):
#   - `valor` installed with `cargo install` from the packaged valor-server (into
#     target/packaged-crates/bin/, which scripts/test-cli.sh uses), reusing this checkout's build
#     of its dependencies (the same `server` profile and target dir);
#   - a plugin project made by that `valor new`, whose vlugin dependency is a version only:
#     `cargo test` natively, and `cargo build --release --target wasm32-unknown-unknown`, whose
#     .wasm must export the plugin ABI.
# Expects scripts/build.sh to have run and target/toolchain.env to be sourced.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { printf '\033[1;34m[test-packages]\033[0m %s\n' "$*" >&2; }

"$root/scripts/package-crates.sh"
version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$root/Cargo.toml")"
packaged="$root/target/packaged-crates"
patch="$packaged/patch.toml"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
case "$work" in "$root"/*) echo "the temporary directory is inside the checkout" >&2; exit 1;; esac
# Every cargo command below this directory builds against the packaged crates.
mkdir -p "$work/.cargo" && cp "$patch" "$work/.cargo/config.toml"

# Installed from a copy outside the checkout: inside it, cargo would take the unpacked crate for a
# stray member of this workspace.
cp -R "$packaged/valor-server-$version" "$work/"
say "cargo install valor-server from its packaged contents (shared target dir, profile server)"
started=$(date +%s.%N)
# --locked: the versions of the packaged Cargo.lock, which are the checkout's, so that its build of
# wasmtime and the rest is reused (without it, cargo picks the newest versions in its cache).
(cd "$work" && cargo install --quiet --locked --offline --force --path "$work/valor-server-$version" \
  --profile server --target-dir "$root/target" --root "$packaged")
say "installed $packaged/bin/valor in $(printf '%.1f' "$(echo "$(date +%s.%N) - $started" | bc)") s"
valor="$packaged/bin/valor"
"$valor" --version

say "valor new my-notes (a Rust plugin from the template built into valor)"
(cd "$work" && "$valor" new my-notes)
cd "$work/my-notes"
grep -q "^vlugin = { version = \"$version\"" plugins/my-notes/Cargo.toml
[ "$(cargo locate-project --workspace --message-format plain)" = "$work/my-notes/Cargo.toml" ]

say "cargo test (natively, vlugin's in-memory host)"
cargo test --quiet
# The packaged vlugin, never the checkout's.
cargo metadata --format-version 1 | grep -q "\"manifest_path\":\"$packaged/vlugin-$version/Cargo.toml\""
! cargo metadata --format-version 1 | grep -q "\"manifest_path\":\"$root/vlugin/Cargo.toml\""

say "cargo build --release --target wasm32-unknown-unknown"
cargo build --quiet --release --target wasm32-unknown-unknown
wasm=target/wasm32-unknown-unknown/release/my_notes.wasm
test -s "$wasm"
node --input-type=module -e "
  import { readFileSync } from 'node:fs';
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync('$wasm'))).map((e) => e.name);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync('$wasm')));
  for (const name of ['valor_abi_version', 'valor_alloc', 'valor_start', 'valor_poll', 'memory']) {
    if (!exports.includes(name)) throw new Error('$wasm does not export ' + name + ': ' + exports);
  }
  const foreign = imports.filter((i) => i.module !== 'valor');
  if (foreign.length) throw new Error('$wasm imports more than the runtime: ' + JSON.stringify(foreign));
  console.log('$wasm: ' + readFileSync('$wasm').length + ' bytes, exports ' + exports.join(', '));
"
say "ok: the packaged crates build a plugin and install valor"
