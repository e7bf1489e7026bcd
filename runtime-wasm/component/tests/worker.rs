//! The worker's host on a real component in a real JavaScript engine: `wasm-pack test --node
//! runtime-wasm/component`, after the test component is built
//! (`cargo build --release --target wasm32-wasip2 -p component-http`).
#![cfg(target_arch = "wasm32")]

use js_sys::{Error, Uint8Array};
use valor_component::Component;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Request, RequestInit, Response};

/// The project's test component (wasm-pack-tests/components/wasi-http).
const COMPONENT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/wasm32-wasip2/release/component_http.wasm"
));

/// Enough for any route but `/loop`.
const FUEL: f64 = 1e9;
/// 16 MiB.
const PAGES: f64 = 256.0;

#[wasm_bindgen(inline_js = r#"
export function fakeOutside(status, body) {
  const outside = {
    fetched: [],
    lines: [],
    async fetch(request) {
      outside.fetched.push(request.method + " " + request.url);
      if (request.url.includes("denied")) {
        const error = new Error("not in allowed_hosts");
        error.name = "Denied";
        throw error;
      }
      if (request.url.includes("unreachable")) {
        throw new TypeError("fetch failed");
      }
      return new Response(body, { status, headers: { "x-upstream": "yes" } });
    },
    log(stderr, line) {
      outside.lines.push((stderr ? "stderr " : "stdout ") + line);
    },
  };
  return outside;
}
export function fetched(outside) { return outside.fetched.join("\n"); }
export function logged(outside) { return outside.lines.join("\n"); }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = fakeOutside)]
    fn fake_outside(status: u16, body: &str) -> JsValue;
    fn fetched(outside: &JsValue) -> String;
    fn logged(outside: &JsValue) -> String;
}

async fn compile(fuel: f64, pages: f64) -> Component {
    Component::compile(Uint8Array::from(COMPONENT), fuel, pages)
        .await
        .expect("the test component compiles")
}

fn request(method: &str, path: &str, body: Option<&str>) -> Request {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&body.into());
    }
    let headers = web_sys::Headers::new().unwrap();
    headers.append("content-type", "text/x-test").unwrap();
    headers.append("x-test-one", "1").unwrap();
    init.set_headers(&headers.into());
    Request::new_with_str_and_init(&format!("https://app.example/api/c{path}"), &init).unwrap()
}

/// `component.handle` on `path`: its response, or the error it rejected with.
async fn handle(
    component: &Component,
    method: &str,
    path: &str,
    body: Option<&str>,
    outside: &JsValue,
) -> Result<Response, Error> {
    let answer = component.handle(request(method, path, body), path.into(), outside.clone());
    match JsFuture::from(answer).await {
        Ok(response) => Ok(response.dyn_into().expect("a Response")),
        Err(error) => Err(error.dyn_into().expect("an Error")),
    }
}

async fn text(response: &Response) -> String {
    let text = JsFuture::from(response.text().unwrap()).await.unwrap();
    text.as_string().unwrap()
}

fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).unwrap()
}

async fn get(path: &str) -> (Response, String) {
    let outside = fake_outside(200, "");
    let response = handle(&compile(FUEL, PAGES).await, "GET", path, None, &outside)
        .await
        .unwrap_or_else(|e| panic!("{path} rejected: {}", String::from(e.message())));
    let body = text(&response).await;
    (response, body)
}

async fn refusal(fuel: f64, pages: f64, path: &str) -> (String, String) {
    let outside = fake_outside(200, "");
    let error = handle(&compile(fuel, pages).await, "GET", path, None, &outside)
        .await
        .err()
        .unwrap_or_else(|| panic!("{path} answered"));
    (error.name().into(), error.message().into())
}

#[wasm_bindgen_test]
async fn hello_answers_with_its_body_and_headers() {
    let (response, body) = get("/hello").await;
    assert_eq!(response.status(), 200);
    assert_eq!(body, "hello from a component\n");
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("text/plain")
    );
}

#[wasm_bindgen_test]
async fn the_request_is_seen_as_sent() {
    let (response, body) = get("/request?x=1").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        body,
        "method GET\nscheme https\nauthority app.example\npath /request?x=1\nheader x-test-one: 1\n"
    );
}

#[wasm_bindgen_test]
async fn echo_sends_the_body_back() {
    let outside = fake_outside(200, "");
    let component = compile(FUEL, PAGES).await;
    let response = handle(
        &component,
        "POST",
        "/echo",
        Some("a body to echo"),
        &outside,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("text/x-test")
    );
    assert_eq!(text(&response).await, "a body to echo");
}

#[wasm_bindgen_test]
async fn a_sleep_blocks_then_a_later_run_answers() {
    let (response, body) = get("/sleep?ms=30").await;
    assert_eq!(response.status(), 200);
    let slept: u64 = body
        .strip_prefix("slept ")
        .and_then(|rest| rest.strip_suffix(" ms of 30\n"))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("unexpected answer {body:?}"));
    assert!(slept >= 30, "slept {slept} ms of 30");
}

#[wasm_bindgen_test]
async fn a_fetch_goes_out_once_and_its_answer_comes_back() {
    let outside = fake_outside(201, "from upstream");
    let component = compile(FUEL, PAGES).await;
    let path = "/fetch?url=https%3A%2F%2Fupstream.example%2Fdata%3Fq%3D1";
    let response = handle(&component, "GET", path, None, &outside)
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(text(&response).await, "from upstream");
    // The run that blocked on the response and the run that read it sent one request.
    assert_eq!(fetched(&outside), "GET https://upstream.example/data?q=1");
}

#[wasm_bindgen_test]
async fn a_denied_fetch_is_the_denied_error_code() {
    let outside = fake_outside(200, "");
    let component = compile(FUEL, PAGES).await;
    let path = "/fetch?url=https%3A%2F%2Fdenied.example%2F";
    let response = handle(&component, "GET", path, None, &outside)
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    // The component prints the error code it got (`{code:?}`).
    assert_eq!(text(&response).await, "ErrorCode::HttpRequestDenied\n");
}

#[wasm_bindgen_test]
async fn a_failed_fetch_is_an_internal_error() {
    let outside = fake_outside(200, "");
    let component = compile(FUEL, PAGES).await;
    let path = "/fetch?url=https%3A%2F%2Funreachable.example%2F";
    let response = handle(&component, "GET", path, None, &outside)
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(
        text(&response).await,
        "ErrorCode::InternalError(Some(\"fetch failed\"))\n"
    );
}

#[wasm_bindgen_test]
async fn a_fetch_of_the_apps_own_path_goes_to_its_origin() {
    let outside = fake_outside(200, "from the app");
    let component = compile(FUEL, PAGES).await;
    let path = "/fetch?path=%2Fapi%2Fother%3Fx%3D2";
    let response = handle(&component, "GET", path, None, &outside)
        .await
        .unwrap();
    assert_eq!(text(&response).await, "from the app");
    assert_eq!(fetched(&outside), "GET https://app.example/api/other?x=2");
}

#[wasm_bindgen_test]
async fn random_bytes_differ() {
    let (response, body) = get("/random").await;
    assert_eq!(response.status(), 200);
    let (hex, differ) = body.split_once('\n').unwrap();
    assert_eq!(hex.len(), 32);
    assert_eq!(differ, "differ true\n");
}

#[wasm_bindgen_test]
async fn many_headers_are_answered() {
    let (response, body) = get("/headers?n=50").await;
    assert_eq!(response.status(), 200);
    assert_eq!(body, "50 headers\n");
    assert_eq!(header(&response, "x-header-49").as_deref(), Some("49"));
}

#[wasm_bindgen_test]
async fn standard_output_and_error_are_logged() {
    let outside = fake_outside(200, "");
    let component = compile(FUEL, PAGES).await;
    let response = handle(&component, "GET", "/log", None, &outside)
        .await
        .unwrap();
    assert_eq!(text(&response).await, "logged\n");
    let lines = logged(&outside);
    assert!(
        lines.contains("stdout a line on standard output"),
        "{lines}"
    );
    assert!(lines.contains("stderr a line on standard error"), "{lines}");
}

#[wasm_bindgen_test]
async fn an_endless_loop_runs_out_of_fuel() {
    let (name, message) = refusal(1e6, PAGES, "/loop").await;
    assert_eq!(name, "FuelExhausted", "{message}");
    assert!(message.contains("1000000 instructions"), "{message}");
}

#[wasm_bindgen_test]
async fn endless_growth_runs_out_of_memory() {
    let (name, message) = refusal(FUEL, 64.0, "/grow").await;
    assert_eq!(name, "MemoryExhausted", "{message}");
    assert!(message.contains("(4 MiB)"), "{message}");
}

#[wasm_bindgen_test]
async fn a_panic_is_a_trap() {
    let (name, message) = refusal(FUEL, PAGES, "/trap").await;
    assert_eq!(name, "Trap", "{message}");
    assert!(message.contains("unreachable"), "{message}");
}

#[wasm_bindgen_test]
async fn an_error_code_fails() {
    let (name, message) = refusal(FUEL, PAGES, "/error").await;
    assert_eq!(name, "Failed", "{message}");
    assert!(
        message.contains("the component failed on purpose"),
        "{message}"
    );
}

#[wasm_bindgen_test]
async fn no_response_is_unanswered() {
    let (name, _) = refusal(FUEL, PAGES, "/unanswered").await;
    assert_eq!(name, "Unanswered");
}

#[wasm_bindgen_test]
async fn a_core_module_is_refused_as_not_a_component() {
    let core = Uint8Array::from(&b"\0asm\x01\0\0\0"[..]);
    let error: Error = Component::compile(core, FUEL, PAGES)
        .await
        .err()
        .expect("refused")
        .dyn_into()
        .unwrap();
    let message = String::from(error.message());
    assert!(message.contains("component"), "{message}");
}

#[wasm_bindgen_test]
async fn an_import_valor_does_not_provide_is_named() {
    let component = wat::parse_str(
        r#"(component
          (import "wasi:http/types@0.2.3" (instance $types
            (export "fields" (type $fields (sub resource)))
            (export "incoming-request" (type (sub resource)))
            (export "response-outparam" (type (sub resource)))
            (export "[method]fields.frobnicate" (func (param "self" (borrow $fields))))
          ))
          (alias export $types "incoming-request" (type $request))
          (alias export $types "response-outparam" (type $outparam))
          (alias export $types "[method]fields.frobnicate" (func $frobnicate))
          (core func $frobnicate-core (canon lower (func $frobnicate)))
          (core module $main
            (import "types" "frobnicate" (func (param i32)))
            (memory (export "memory") 1)
            (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
            (func (export "handle") (param i32 i32))
          )
          (core instance $types-core (export "frobnicate" (func $frobnicate-core)))
          (core instance $m (instantiate $main (with "types" (instance $types-core))))
          (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
            (canon lift (core func $m "handle")))
          (instance $handler (export "handle" (func $handle)))
          (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
        )"#,
    )
    .unwrap();
    let error: Error = Component::compile(Uint8Array::from(&component[..]), FUEL, PAGES)
        .await
        .err()
        .expect("refused")
        .dyn_into()
        .unwrap();
    let message = String::from(error.message());
    assert!(
        message.contains("[method]fields.frobnicate") && message.contains("wasi:http/types@0.2.3"),
        "{message}"
    );
}

/// A component whose core module has the start function `start` (its body) and whose handler
/// traps unless the start function stored 1 at address 0, and answers nothing.
fn with_start(start: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component
          (import "wasi:http/types@0.2.3" (instance $types
            (export "incoming-request" (type (sub resource)))
            (export "response-outparam" (type (sub resource)))
          ))
          (alias export $types "incoming-request" (type $request))
          (alias export $types "response-outparam" (type $outparam))
          (core module $main
            (memory (export "memory") 1)
            (func $start {start})
            (start $start)
            (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
            (func (export "handle") (param i32 i32)
              (if (i32.ne (i32.load (i32.const 0)) (i32.const 1)) (then unreachable)))
          )
          (core instance $m (instantiate $main))
          (func $handle (param "request" (own $request)) (param "response-out" (own $outparam))
            (canon lift (core func $m "handle")))
          (instance $handler (export "handle" (func $handle)))
          (export "wasi:http/incoming-handler@0.2.3" (instance $handler))
        )"#
    ))
    .unwrap()
}

async fn refusal_of(component: &[u8], fuel: f64) -> (String, String) {
    let component = Component::compile(Uint8Array::from(component), fuel, PAGES)
        .await
        .expect("compiles");
    let outside = fake_outside(200, "");
    let error = handle(&component, "GET", "/", None, &outside)
        .await
        .err()
        .expect("no answer");
    (error.name().into(), error.message().into())
}

#[wasm_bindgen_test]
async fn a_start_function_runs_before_the_handler() {
    let component = with_start("i32.const 0 i32.const 1 i32.store");
    let (name, message) = refusal_of(&component, FUEL).await;
    // Not a trap: the handler found what the start function stored.
    assert_eq!(name, "Unanswered", "{message}");
}

#[wasm_bindgen_test]
async fn a_start_function_is_metered() {
    let (name, message) = refusal_of(&with_start("(loop br 0)"), 1e6).await;
    assert_eq!(name, "FuelExhausted", "{message}");
}
