#!/usr/bin/env bash
# Packages the crates a Valor user depends on, as crates.io would receive them, and unpacks
# them so that tests build against the packaged contents, never against the checkout's folders:
#   target/package/<name>-<version>.crate     cargo package: valor-abi, vlugin-macros, vlugin,
#                                             valor-host, valor-server (the `valor` command)
#   target/packaged-crates/<name>-<version>/   each .crate unpacked
#   target/packaged-crates/patch.toml         for `cargo --config <it>` or a .cargo/config.toml:
#                                             [patch.crates-io] naming those folders, and the
#                                             `server` profile the checkout builds valor with
# Expects scripts/build.sh to have run (valor-server embeds the browser runtime it builds).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf '\033[1;34m[package]\033[0m %s\n' "$*" >&2; }

version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
libraries=(valor-abi vlugin-macros vlugin valor-host)
crates=("${libraries[@]}" valor-server)
selected=()
for crate in "${crates[@]}"; do selected+=(-p "$crate"); done

# cargo unpacks each crate it packages under $CARGO_HOME/registry/src/<a hash of this
# checkout's target/package/tmp-registry>/ to verify the others against it, and reuses what it
# finds there by name and version: a checkout at a path packaged before (a CI clone made where
# an older one was) would be verified against the older sources. Valor's crates are not on
# crates.io, so every unpacked or cached copy of them is one of those: they go first.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
for crate in "${crates[@]}"; do
  rm -rf "$cargo_home"/registry/src/*/"$crate-$version" "$cargo_home"/registry/cache/*/"$crate-$version.crate"
done
# What cargo built from those copies is in target/debug, and it is not built again while the
# version stays the same (a registry's crates never change): packaging again after a change
# would verify against the old build. Its fingerprints go, so that it is built anew.
for built in target/debug/deps/*.d; do
  [ -e "$built" ] || continue
  grep -Eq "/registry/src/[^/]+/(valor-abi|vlugin-macros|vlugin|valor-host)-$version/" "$built" || continue
  name="$(basename "$built" .d)"
  rm -rf "target/debug/.fingerprint/${name%-*}-${name##*-}" "target/debug/.fingerprint/$(echo "${name%-*}" | tr _ -)-${name##*-}"
done

# --allow-dirty: several people work in this tree at once; the packages are made from the files
# as they are. The libraries are verified by cargo (each built from its unpacked .crate).
say "cargo package ${libraries[*]} (verified)"
library_flags=()
for crate in "${libraries[@]}"; do library_flags+=(-p "$crate"); done
cargo package --quiet --allow-dirty "${library_flags[@]}"
# valor-server is packaged with the others (it depends on them, unpublished) but not verified
# here: verifying would compile wasmtime once more in a target dir of its own (~8 min).
# scripts/test-packages.sh proves it instead, installing it from the unpacked .crate.
say "cargo package valor-server (--no-verify: scripts/test-packages.sh builds it)"
cargo package --quiet --allow-dirty --no-verify "${selected[@]}"

out="$root/target/packaged-crates"
mkdir -p "$out"
{
  echo "# Build against Valor's packaged crates (scripts/package-crates.sh), not the checkout."
  echo "[patch.crates-io]"
} >"$out/patch.toml.new"
for crate in "${crates[@]}"; do
  file="target/package/$crate-$version.crate"
  [ -f "$file" ] || { echo "$file was not made" >&2; exit 1; }
  rm -rf "$out/$crate-$version"
  tar -xzf "$file" -C "$out"
  # valor-server is installed, not depended on: no patch for it.
  [ "$crate" = valor-server ] ||
    echo "$crate = { path = \"$out/$crate-$version\" }" >>"$out/patch.toml.new"
  say "$file ($(stat -c %s "$file") bytes) -> $out/$crate-$version"
done
# The checkout's profile for the server (Cargo.toml): a packaged crate carries no profiles, and
# the same settings let `cargo install --profile server --target-dir target` reuse the
# checkout's build of wasmtime and the rest.
cat >>"$out/patch.toml.new" <<'TOML'

[profile.server]
inherits = "release"
opt-level = 3
lto = false
codegen-units = 16
panic = "unwind"
strip = false
debug = false
TOML
mv "$out/patch.toml.new" "$out/patch.toml"
say "$out/patch.toml: use it with cargo --config $out/patch.toml"
