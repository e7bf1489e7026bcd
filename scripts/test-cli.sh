#!/usr/bin/env bash
# The author's loop as a new user meets it, in a temporary directory outside this checkout,
# starting only from the packed artifacts: the `valor` binary installed from the packaged
# valor-server (scripts/test-packages.sh puts it in target/packaged-crates/bin/) and the
# packaged crates (through [patch.crates-io], as crates.io would serve them). For a Rust
# project and a JavaScript one (`valor new NAME [--js]`):
#   - the plugin's own tests (`cargo test`, `node --test`), `valor build`;
#   - `valor dev`, in a real browser (e2e/cli-dev.mjs over WebDriver): the plugin's first
#     answer, then an edit of its source answered by the new code with no reload of the page or
#     its worker (a syntax error first, shown over the page), and a change to the page reloading it;
#   - `valor serve --static web`: the same app over plain HTTP (curl), and no file outside web/.
# Prints the time from `valor new` to the first answer and from a save to the new answer.
# VALOR_CLI_ENGINES (default "chromium") names the browsers: e.g. "chromium firefox webkit".
# Expects scripts/test-packages.sh to have run and target/toolchain.env to be sourced.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { printf '\033[1;34m[test-cli]\033[0m %s\n' "$*" >&2; }
fail() { echo "test-cli: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

packaged="$root/target/packaged-crates"
[ -x "$packaged/bin/valor" ] || fail "$packaged/bin/valor is missing: run scripts/test-packages.sh first"
engines=(${VALOR_CLI_ENGINES:-chromium})

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
case "$work" in "$root"/*) fail "the temporary directory is inside the checkout";; esac
# The user's machine: valor on PATH, crates as crates.io would serve them; nothing else of
# this checkout (the browser driver below is the test's, not the user's).
mkdir -p "$work/bin" "$work/.cargo"
cp "$packaged/bin/valor" "$work/bin/"
cp "$packaged/patch.toml" "$work/.cargo/config.toml"
export PATH="$work/bin:$PATH"
cd "$work"

# Starts `valor ARGS...` in the background, with its output in $1.log; sets $url.
start_valor() {
  local log="$1"; shift
  valor "$@" --listen 127.0.0.1:0 >"$log.out" 2>"$log.log" &
  pids+=($!)
  local pid=$!
  for _ in $(seq 1 1800); do
    url="$(sed -n 's/^valor: listening on //p' "$log.out" | head -n1)"
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log.log" >&2; fail "valor $* exited"; }
    sleep 0.1
  done
  cat "$log.log" >&2; fail "valor $* did not listen within 180 s"
}
stop_valor() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

# A project through the whole loop: $1 name, $2 --js or "", $3 its source file, $4 the edit.
project() {
  local name="$1" flag="$2" source="$3" edit="$4" engine started timings
  for engine in "${engines[@]}"; do
    rm -rf "$work/$name"
    say "$name, $engine: valor new $name $flag; valor dev; the browser's first answer"
    started="$(now_ms)"
    valor new "$name" $flag
    cd "$work/$name"
    cp "$source" "$work/$name.pristine"
    start_valor "$work/$name-dev" dev
    timings="$(cd "$root/e2e" && node cli-dev.mjs --engine "$engine" --url "$url/" \
      --source "$work/$name/$source" --first "Hello from $name" --edit "$edit" \
      --broken "this is not code (" --since "$started" --page "$work/$name/web/index.html")" ||
      { cat "$work/$name-dev.log" >&2; fail "valor dev in $engine"; }
    echo "$timings" >>"$work/timings.jsonl"
    say "$name, $engine: $timings"
    stop_valor
    cd "$work"
  done
  cd "$work/$name"
  # The tests as `valor new` wrote them (they check the greeting the edit changed).
  say "$name: the plugin's own tests"
  cp "$source" "$work/$name.edited" && cp "$work/$name.pristine" "$source"
  if [ "$flag" = --js ]; then node --test >/dev/null; else cargo test --quiet >/dev/null; fi
  cp "$work/$name.edited" "$source"
  say "$name: valor build"
  valor build
  test -s web/sw.js && test -s web/valor/page.js && test -s web/valor/valor_runtime_bg.wasm && test -s web/valor/valor_js.wasm
  say "$name: valor serve --static web, over plain HTTP"
  start_valor "$work/$name-serve" serve -p web/plugins.json --static web --data "$work/$name-kv.redb"
  local expected="Hello from $name"; expected="${expected/"${edit%%=>*}"/"${edit#*=>}"}"
  [ "$(curl -fsS "$url/api/$name/")" = "$expected" ] || fail "$url/api/$name/ did not answer $expected"
  curl -fsS "$url/" | grep -q "<title>$name</title>" || fail "$url/ is not the page"
  curl -fsS -D - -o /dev/null "$url/sw.js" | grep -qi '^content-type: text/javascript' || fail "sw.js's type"
  [ "$(curl -sS -o /dev/null -w '%{http_code}' --path-as-is "$url/../../../etc/passwd")" = 404 ] ||
    fail "a path outside web/ was served"
  [ "$(curl -sS -o /dev/null -w '%{http_code}' "$url/%2e%2e/Cargo.toml")" = 404 ] ||
    fail "an encoded path outside web/ was served"
  stop_valor
  cd "$work"
}

project hello-app "" "plugins/hello-app/src/lib.rs" "Hello from=>Edited: hello from"
project hello-js --js "plugins/hello-js.mjs" "Hello from=>Edited: hello from"
# The module's content type, which instantiateStreaming requires (the Rust project's).
cd "$work/hello-app"
start_valor "$work/types" serve -p web/plugins.json --static web --data "$work/types-kv.redb"
curl -fsS -D - -o /dev/null "$url/plugins/hello_app.wasm" | grep -qi '^content-type: application/wasm' ||
  fail "a .wasm is not served as application/wasm"
stop_valor

say "times (ms): $(tr '\n' ' ' <"$work/timings.jsonl")"
say "ok"
