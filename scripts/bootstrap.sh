#!/usr/bin/env bash
# Installs what building and testing Valor needs, skipping every step whose result is already there.
# Run it, then source target/toolchain.env: it puts a wasm32-capable rustc/cargo first on PATH.
#
# Toolchain order (each step measured on these machines):
#   1. the rustc already on PATH, if it has the wasm32-unknown-unknown standard library;
#   2. `rustup target add wasm32-unknown-unknown`, with a short timeout (it hangs without internet);
#   3. Debian's rustc-web + a wasm32 sysroot built once with -Zbuild-std.
# VALOR_TOOLCHAIN=debian skips 1 and 2 (to reproduce a fresh CI machine on one that has rustup's
# target).
set -euo pipefail

VALOR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WASM_TARGET=wasm32-unknown-unknown
# Must equal the `wasm-bindgen` pin in Cargo.toml: wasm-pack only uses a CLI of the exact version.
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' "$VALOR_ROOT/Cargo.toml")"

# Marks a sysroot built by this script, with bitcode for LTO (bump when the build changes).
SYSROOT_STAMP=.valor-sysroot-with-bitcode

say() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*" >&2; }

has_wasm_std() { # $1 = rustc
  local libdir
  libdir="$("$1" --print target-libdir --target "$WASM_TARGET" 2>/dev/null)" || return 1
  compgen -G "$libdir/libstd-*.rlib" >/dev/null
}

apt_install() { # installs the Debian packages that are missing ([--no-install-recommends] pkg...)
  local options=() missing=()
  if [ "${1:-}" = --no-install-recommends ]; then options+=("$1"); shift; fi
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  local sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${options[@]}" "${missing[@]}" >/dev/null
}

build_debian_sysroot() { # compiles std for wasm32 once and installs it where /usr/bin/rustc looks
  local libdir scratch
  libdir="$(/usr/bin/rustc --print target-libdir --target "$WASM_TARGET")"
  scratch="$(mktemp -d)"
  say "building the $WASM_TARGET standard library into $libdir (~1 min)"
  mkdir -p "$scratch/src"
  printf '[package]\nname = "sysroot_seed"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "src/lib.rs"\n' >"$scratch/Cargo.toml"
  : >"$scratch/src/lib.rs"
  # Debian's cargo and rustc both: rustup's rustc (first on PATH) has no std sources to build.
  # Bitcode is embedded because the release profile links plugins with LTO.
  (cd "$scratch" && PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    RUSTFLAGS="-C embed-bitcode=yes" /usr/bin/cargo build -q --release --target "$WASM_TARGET" \
    -Zbuild-std=std,panic_abort,panic_unwind,proc_macro,test)
  mkdir -p "$libdir"
  rm -f "$libdir"/lib*.rlib # two builds of std side by side would be ambiguous to rustc
  find "$scratch/target/$WASM_TARGET/release/deps" -name 'lib*.rlib' ! -name 'libsysroot_seed-*' \
    -exec cp {} "$libdir/" \;
  touch "$libdir/$SYSROOT_STAMP"
  rm -rf "$scratch"
}

has_debian_sysroot() {
  [ -e "$(/usr/bin/rustc --print target-libdir --target "$WASM_TARGET")/$SYSROOT_STAMP" ]
}

select_toolchain() {
  if [ "${VALOR_TOOLCHAIN:-}" = debian ]; then
    :
  elif has_wasm_std rustc; then
    say "using $(rustc --version) (has $WASM_TARGET)"; return
  elif command -v rustup >/dev/null 2>&1; then
    say "trying: rustup target add $WASM_TARGET (20 s limit)"
    if timeout 20 rustup target add "$WASM_TARGET" >/dev/null 2>&1 && has_wasm_std rustc; then
      say "using $(rustc --version) with rustup's $WASM_TARGET"; return
    fi
  fi
  say "falling back to Debian's rustc-web toolchain"
  apt_install rustc-web cargo-web rust-web-src lld-22 rust-web-clippy rustfmt-web
  has_debian_sysroot || build_debian_sysroot
  export PATH="/usr/bin:$PATH"
  has_wasm_std rustc || { say "no $WASM_TARGET standard library after set-up"; exit 1; }
  say "using $(rustc --version) from /usr/bin"
}

# The test components (wasm-pack-tests/components) are built for wasm32-wasip2, straight to
# WASI 0.2 components: rustup's target (like wasm32's, it may hang without the network).
add_wasip2_target() {
  rustc --print target-list | grep -qx wasm32-wasip2 || return 0
  [ -d "$(rustc --print target-libdir --target wasm32-wasip2 2>/dev/null)" ] &&
    ls "$(rustc --print target-libdir --target wasm32-wasip2)"/libstd-* >/dev/null 2>&1 && return 0
  command -v rustup >/dev/null 2>&1 || { say "no rustup: the wasm32-wasip2 target cannot be added"; exit 1; }
  say "rustup target add wasm32-wasip2 (30 s limit)"
  timeout 30 rustup target add wasm32-wasip2 >/dev/null 2>&1 ||
    { say "rustup target add wasm32-wasip2 failed: the test components need it"; exit 1; }
}

# The runtime's standard library is rebuilt for size (scripts/build.sh): rustup's rust-src, or
# Debian's rust-web-src on the fallback toolchain. Without it the runtime builds as before, larger.
add_rust_src() {
  [ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library" ] && return 0
  command -v rustup >/dev/null 2>&1 || return 0
  say "rustup component add rust-src (60 s limit)"
  timeout 60 rustup component add rust-src >/dev/null 2>&1 ||
    say "rustup component add rust-src failed: the runtime will be built with the prebuilt std (larger)"
}

install_cargo_tool() { # $1 = crate, $2 = binary, $3 = wanted version (empty: any), then cargo install's options
  local crate="$1" binary="$2" version="$3" have
  shift 3
  have="$("$binary" --version 2>/dev/null | awk '{print $2}')" || true
  have="${have#v}" # mdbook says v0.5.4
  if [ -n "$have" ] && { [ -z "$version" ] || [ "$have" = "$version" ]; }; then return; fi
  say "cargo install $crate ${version:-} (compiles from source, a few minutes)"
  # --locked first for reproducibility; the registry mirror sometimes lacks a locked version,
  # in which case the newest compatible dependencies are used.
  cargo install -q --locked "$crate" ${version:+--version "$version"} "$@" 2>/dev/null ||
    cargo install -q "$crate" ${version:+--version "$version"} "$@"
}

# e2e/: WebDriver and DevTools clients for the demo tests and benchmarks; tools/: binaryen's
# wasm-opt, pinned (Debian's binaryen 108 breaks wasm-bindgen's externref table).
install_node_packages() {
  local dir="$VALOR_ROOT/$1"
  # npm ci writes node_modules/.package-lock.json: newer than the lock file means up to date.
  [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
  say "npm ci in $1/"
  (cd "$dir" && npm ci --silent --no-audit --no-fund)
}

main() {
  export PATH="$HOME/.cargo/bin:$PATH"
  # The three engines and their WebDriver servers come from Debian whichever Rust toolchain is
  # used: Chromium; Firefox ESR; WebKitGTK (Safari's engine) with its MiniBrowser, which has no
  # headless mode and so runs under Xvfb. Debian has no geckodriver.
  apt_install chromium chromium-driver
  apt_install --no-install-recommends firefox-esr webkit2gtk-driver xvfb xauth
  # The server host: Redis for the test of servers sharing one store (each test starts its
  # own on a free port), wrk for its benchmark.
  apt_install --no-install-recommends redis-server wrk
  # The JavaScript engine (valor-js) compiles QuickJS's C for wasm32 with clang.
  apt_install --no-install-recommends clang-19 llvm-19
  install_cargo_tool wasm-bindgen-cli wasm-bindgen "$WASM_BINDGEN_VERSION"
  install_cargo_tool wasm-pack wasm-pack ""
  install_cargo_tool geckodriver geckodriver ""
  # The book (docs/): building it needs neither mdbook's web server nor its file watcher.
  install_cargo_tool mdbook mdbook 0.5.4 --no-default-features
  install_node_packages e2e
  install_node_packages tools
  select_toolchain
  add_wasip2_target
  add_rust_src
  mkdir -p "$VALOR_ROOT/target"
  {
    printf 'export PATH=%q\n' "$PATH"
    printf 'export CC_wasm32_unknown_unknown=clang-19 AR_wasm32_unknown_unknown=llvm-ar-19\n'
  } >"$VALOR_ROOT/target/toolchain.env"
}

main "$@"
