#!/usr/bin/env bash
# Builds the runtime and every plugin for wasm32, then lays out
#   target/www/                 the demo app, ready to serve (sw.js, valor/, plugins/, www/*)
#   target/bench/               the benchmark apps (bench/): Valor's worker and the JS floor
#   wasm-pack-tests/fixtures/plugins/, wasm-pack-tests/{sw.js,valor/}   what the browser tests load
#   target/conformance/         the conformance suite's site; www/plugins/*.wasm beside their crates
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
. target/toolchain.env

say() { printf '\033[1;34m[build]\033[0m %s\n' "$*" >&2; }

# Every crate under www/plugins, wasm-pack-tests/plugins and bench/plugins is a plugin.
packages=() wasm_files=()
for manifest in www/plugins/*/Cargo.toml wasm-pack-tests/plugins/*/Cargo.toml bench/plugins/*/Cargo.toml; do
  name="$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n1)"
  packages+=(-p "$name") wasm_files+=("${name//-/_}.wasm")
done
# And the JavaScript engine, which runs .js plugins (valor-js).
packages+=(-p valor-js)
say "plugins and the JavaScript engine: cargo build --release --target wasm32-unknown-unknown ${packages[*]}"
cargo build --quiet --release --target wasm32-unknown-unknown "${packages[@]}"
# Shrink what ships; the browser tests load these optimised files. binaryen 132, from npm (see
# tools/), with the features rustc enables by default.
wasm_opt() {
  tools/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    --strip-debug --strip-producers "$@"
}
# Optimises $1 into $2, unless $2 was made from the same bytes (wasm-opt runs on node: seconds).
optimise() {
  local stamp="$2.from" sum
  sum="$(sha256sum "$1" | cut -d' ' -f1)"
  [ -f "$2" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ] && return 0
  wasm_opt "$1" -o "$2" && echo "$sum" >"$stamp"
}
wasm_out=target/plugins
mkdir -p "$wasm_out"
for file in "${wasm_files[@]}"; do
  optimise "target/wasm32-unknown-unknown/release/$file" "$wasm_out/$file"
done
# The test components: WASI 0.2 components, as any wasm32-wasip2 crate builds them (wasm-opt reads
# core modules only: they ship as rustc made them).
components=()
for manifest in wasm-pack-tests/components/*/Cargo.toml; do
  components+=(-p "$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n1)")
done
say "test components: cargo build --release --target wasm32-wasip2 ${components[*]}"
cargo build --quiet --release --target wasm32-wasip2 "${components[@]}"
for name in "${components[@]}"; do
  [ "$name" = -p ] && continue
  cp "target/wasm32-wasip2/release/${name//-/_}.wasm" "$wasm_out/"
  wasm_files+=("${name//-/_}.wasm")
done
# A component in JavaScript (wasm-pack-tests/js-component): componentize-js, pinned, from npm.
say "JavaScript component: wasm-pack-tests/js-component/build.sh (componentize-js)"
wasm-pack-tests/js-component/build.sh "$wasm_out/component_js.wasm"
wasm_files+=(component_js.wasm)
mkdir -p target/runtime
optimise target/wasm32-unknown-unknown/release/valor_js.wasm target/runtime/valor_js.wasm

# Valor's own modules (the runtime, the module rewriter, the component host) are what an app
# downloads, so their standard library is rebuilt for size: std's size-optimised code, and panics
# that abort at once instead of formatting a message (a panic there is a bug in Valor, which
# valor-worker.js and the runtime answer as a crash either way). The runtime is 11% smaller gzip.
# Unstable flags (hence RUSTC_BOOTSTRAP), in a target directory of their own: these flags would
# otherwise rebuild the crates the plugins share at every build. Without std's sources (rust-src),
# they are built as the plugins are.
own_std=()
if [ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
  own_std=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
    --config 'target.wasm32-unknown-unknown.rustflags=["-Zunstable-options", "-Cpanic=immediate-abort"]')
else
  say "no rust-src for $(rustc --version): Valor's modules are built with the prebuilt std (larger)"
fi
own_build() { RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$root/target/runtime-build" "$@"; }
own=target/runtime-build/wasm32-unknown-unknown/release
# The module rewriter runs as a module of its own (runtime-wasm/meter): built alone, as its
# `module` feature (the rewriter's exports) must stay off where the component host links it.
say "module rewriter: cargo build -p valor-meter --features module"
own_build cargo build --quiet --release --target wasm32-unknown-unknown -p valor-meter --features module "${own_std[@]}"
optimise "$own/valor_meter.wasm" target/runtime/valor_meter.wasm

say "runtime: wasm-pack build --target no-modules, then wasm-opt"
# (wasm-pack prints "failed to get wasm-pack version": it cannot reach its registry API. Harmless.)
own_build wasm-pack --quiet build runtime-wasm --release --target no-modules --no-pack \
  --out-dir "$root/target/runtime-unoptimised" --out-name valor_runtime -- "${own_std[@]}"
optimise target/runtime-unoptimised/valor_runtime_bg.wasm target/runtime/valor_runtime_bg.wasm
# The host of WASI components (runtime-wasm/component): a wasm-bindgen module of its own, whose
# glue defines the global `valor_component` beside the runtime's `wasm_bindgen`.
say "component host: cargo build -p valor-component, wasm-bindgen --target no-modules --no-modules-global valor_component"
own_build cargo build --quiet --release --target wasm32-unknown-unknown -p valor-component "${own_std[@]}"
wasm-bindgen --target no-modules --no-modules-global valor_component --no-typescript \
  --out-dir target/component-unoptimised "$own/valor_component.wasm"
optimise target/component-unoptimised/valor_component_bg.wasm target/runtime/valor_component_bg.wasm
# valor-worker.js as apps serve it: the runtime's glue, the component host's glue, then
# npm/valor-worker.js, in one script (a worker fetches each script it imports one after the
# other). With the SHA-256 of each runtime file: a new runtime changes the script the worker
# imports, so the browser's update check installs a new worker; and a start uses a kept runtime
# file only if it is the one this script names (npm/valor-worker.js, runtime-wasm/src/offline.rs).
{
  printf "// Valor's service-worker script, built by scripts/build.sh: the runtime's glue (wasm-bindgen),\n"
  printf "// the component host's glue, the SHA-256 of each runtime file, then npm/valor-worker.js.\n"
  cat target/runtime-unoptimised/valor_runtime.js target/component-unoptimised/valor_component.js
  printf '\n// The SHA-256 of each runtime file (scripts/build.sh).\nself.valor_digests = Object.freeze({\n'
  for name in valor_runtime_bg.wasm valor_meter.wasm valor_js.wasm valor_component_bg.wasm; do
    printf "  '%s': 'sha256-%s',\n" "$name" "$(openssl dgst -sha256 -binary "target/runtime/$name" | base64 -w0)"
  done
  printf '});\n\n'
  cat npm/valor-worker.js
} >target/runtime/valor-worker.js.new
# Replaced only if it changed, so that its time says when (the server embeds it: see below).
cmp -s target/runtime/valor-worker.js.new target/runtime/valor-worker.js \
  && rm target/runtime/valor-worker.js.new \
  || mv target/runtime/valor-worker.js.new target/runtime/valor-worker.js
runtime_files=(target/runtime/valor-worker.js target/runtime/valor_runtime_bg.wasm \
  target/runtime/valor_meter.wasm target/runtime/valor_js.wasm target/runtime/valor_component_bg.wasm)
# `valor` embeds the browser runtime (runtime-native/build.rs checks it is there); -p keeps the
# files' times, so the server is rebuilt only when the runtime changed.
mkdir -p runtime-native/assets/valor
cp -p sw.js runtime-native/assets/
cp -p "${runtime_files[@]}" npm/page.js runtime-native/assets/valor/

# The npm package of the browser runtime (npm/): its version names Valor's caches, so the three
# places that say it must agree.
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
for said in "$(node -p 'require("./npm/package.json").version')" \
  "$(sed -n "s/^  const VERSION = '\(.*\)';/\1/p" npm/valor-worker.js)"; do
  [ "$said" = "$version" ] || { say "npm/ says version '$said', Cargo.toml '$version': make them agree"; exit 1; }
done
say "npm package: target/npm/valor-web-$version.tgz"
package=target/npm/valor-web
rm -rf target/npm && mkdir -p "$package/valor"
cp -R npm/package.json npm/README.md npm/page.js npm/page.d.ts npm/valor-worker.d.ts npm/bin sw.js "$package/"
cp "${runtime_files[@]}" "$package/valor/"
(cd target/npm && npm pack --silent ./valor-web >/dev/null)

say "demo app: target/www"
rm -rf target/www && mkdir -p target/www/plugins target/www/valor
cp www/index.html www/app.js www/style.css www/plugins.json sw.js target/www/
cp "${runtime_files[@]}" npm/page.js target/www/valor/
for dir in www/plugins/*/; do
  name="$(basename "$dir")"
  cp "$wasm_out/${name//-/_}.wasm" target/www/plugins/
done
cp www/plugins/*.js www/plugins/*.mjs target/www/plugins/   # the JavaScript plugins

say "benchmark apps: target/bench/{valor,valor-first,floor,msw}"
rm -rf target/bench/valor target/bench/valor-first target/bench/floor target/bench/msw
mkdir -p target/bench/valor/plugins target/bench/valor/valor target/bench/floor target/bench/msw
mkdir -p target/bench/valor-first/plugins target/bench/valor-first/valor
cp sw.js bench/valor/* bench/page.js bench/worker-bench.js target/bench/valor/
cp "${runtime_files[@]}" target/bench/valor/valor/
for plugin in hello echo mirror host_api hostile cpu streaming component_hello; do cp "$wasm_out/$plugin.wasm" target/bench/valor/plugins/; done
cp bench/plugins/*.js bench/plugins/*.mjs target/bench/valor/plugins/   # hello as JavaScript plugins
cp bench/floor/* bench/page.js bench/worker-bench.js target/bench/floor/
# Valor for first visits: sw.js as an app deploys it, with a manifest of hello alone.
cp sw.js bench/valor-first/* bench/page.js target/bench/valor-first/
cp "${runtime_files[@]}" target/bench/valor-first/valor/
cp "$wasm_out/hello.wasm" target/bench/valor-first/plugins/
# MSW as its docs set it up (msw from e2e/'s lock file): its worker copied from the package, as
# `npx msw init` does, and its prebuilt browser build (the global MockServiceWorker).
cp bench/msw/* bench/page.js target/bench/msw/
cp e2e/node_modules/msw/lib/mockServiceWorker.js target/bench/msw/
cp e2e/node_modules/msw/lib/iife/index.js target/bench/msw/msw.js

say "test fixtures: wasm-pack-tests/"
fixtures=wasm-pack-tests/fixtures/plugins
rm -rf "$fixtures" wasm-pack-tests/valor && mkdir -p "$fixtures" wasm-pack-tests/valor
for file in "${wasm_files[@]}"; do cp "$wasm_out/$file" "$fixtures/"; done
# JavaScript plugins: the demo's, and the conformance suite's.
cp www/plugins/*.js www/plugins/*.mjs conformance/plugins/*.js "$fixtures/"
cp "$fixtures/hello.wasm" "$fixtures/hello.bin"           # served without application/wasm
printf 'this is text, not WebAssembly\n' >"$fixtures/not-wasm.wasm"
printf '\0asm\1\0\0\0' >"$fixtures/empty-module.wasm"      # valid module, no exports
cargo run --quiet --release -p wat-fixtures -- "$fixtures"  # wasm-pack-tests/wat-fixtures/wat/*.wat
cp sw.js wasm-pack-tests/
cp "${runtime_files[@]}" wasm-pack-tests/valor/

# The conformance suite's site (conformance/run.mjs): its manifest, page and worker, the runtime,
# and the plugins it names, served to the browser host and read by the server host.
say "conformance suite: target/conformance"
rm -rf target/conformance && mkdir -p target/conformance/plugins target/conformance/valor
cp conformance/plugins.json conformance/index.html sw.js target/conformance/
cp "${runtime_files[@]}" target/conformance/valor/
cp "$fixtures"/*.wasm "$fixtures"/*.js "$fixtures"/*.mjs target/conformance/plugins/

# `valor serve -p www/plugins.json` serves the demo's API from the source tree: its modules
# beside the plugins' crates (git ignores them).
for dir in www/plugins/*/; do
  name="$(basename "$dir")"
  cp "$wasm_out/${name//-/_}.wasm" www/plugins/
done

