//! The worker's host on a real component in a real JavaScript engine: `wasm-pack test --node
//! runtime-wasm/component`, after the test component is built
//! (`cargo build --release --target wasm32-wasip2 -p component-http`). Requests go in and
//! responses come out in Valor's encoding, as the runtime hands and takes them.
#![cfg(target_arch = "wasm32")]

use js_sys::{Error, Object, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use valor_abi::codec;
use valor_component::Component;
use valor_host::result;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// The project's test component (wasm-pack-tests/components/wasi-http).
const COMPONENT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/wasm32-wasip2/release/component_http.wasm"
));

/// Enough for any route but `/loop`.
const FUEL: f64 = 1e9;
/// 16 MiB.
const PAGES: f64 = 256.0;

/// The runtime's side of a request, faked: its `fetch` answers `status` and `body` (a request
/// to a URI naming `denied`, `unreachable` or `garbled` is denied, fails, or gets bytes that
/// are no response), and what was fetched and logged is kept.
struct Outside {
    object: JsValue,
    fetched: Rc<RefCell<Vec<String>>>,
    lines: Rc<RefCell<Vec<String>>>,
}

fn fake_outside(status: u16, body: &'static str) -> Outside {
    let fetched: Rc<RefCell<Vec<String>>> = Rc::default();
    let lines: Rc<RefCell<Vec<String>>> = Rc::default();
    let fetch = {
        let fetched = Rc::clone(&fetched);
        Closure::<dyn Fn(Uint8Array) -> Promise>::new(move |request: Uint8Array| {
            let request =
                codec::decode_request::<Vec<u8>>(&request.to_vec()).expect("an encoded request");
            let uri = request.uri().to_string();
            fetched
                .borrow_mut()
                .push(format!("{} {uri}", request.method()));
            let result = if uri.contains("denied") {
                result::denied("not in allowed_hosts")
            } else if uri.contains("unreachable") {
                result::failed("fetch failed")
            } else if uri.contains("garbled") {
                result::ok(b"not a response")
            } else {
                let headers: [(&[u8], &[u8]); 1] = [(b"x-upstream", b"yes")];
                result::ok(&codec::encode_response_parts(
                    status,
                    &headers,
                    body.as_bytes(),
                ))
            };
            Promise::resolve(&JsValue::from(Uint8Array::from(result.as_slice())))
        })
    };
    let log = {
        let lines = Rc::clone(&lines);
        Closure::<dyn Fn(bool, String)>::new(move |stderr: bool, line: String| {
            let stream = if stderr { "stderr" } else { "stdout" };
            lines.borrow_mut().push(format!("{stream} {line}"));
        })
    };
    let object = Object::new();
    Reflect::set(&object, &"fetch".into(), &fetch.into_js_value()).unwrap();
    Reflect::set(&object, &"log".into(), &log.into_js_value()).unwrap();
    Outside {
        object: object.into(),
        fetched,
        lines,
    }
}

impl Outside {
    fn fetched(&self) -> String {
        self.fetched.borrow().join("\n")
    }

    fn logged(&self) -> String {
        self.lines.borrow().join("\n")
    }
}

/// A decoded response.
struct Answer {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Answer {
    fn decode(encoded: &[u8]) -> Answer {
        let response = codec::decode_response::<Vec<u8>>(encoded).expect("an encoded response");
        Answer {
            status: response.status().as_u16(),
            headers: response
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                .collect(),
            body: response.into_body(),
        }
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_slice())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }
}

async fn compile(fuel: f64, pages: f64) -> Component {
    Component::compile(Uint8Array::from(COMPONENT), fuel, pages)
        .await
        .expect("the test component compiles")
}

/// A request to `uri` (absolute), encoded.
fn encoded(method: &str, uri: &str, headers: &[(&[u8], &[u8])], body: &[u8]) -> Vec<u8> {
    let mut request = codec::encode_request_head(
        method.as_bytes(),
        uri.as_bytes(),
        headers,
        body.len() as u32,
    );
    request.extend_from_slice(body);
    request
}

/// A request to `path` at `https://app.example`, with a `content-type` and an `x-test-one`.
fn request(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let headers: [(&[u8], &[u8]); 2] = [(b"content-type", b"text/x-test"), (b"x-test-one", b"1")];
    encoded(
        method,
        &format!("https://app.example{path}"),
        &headers,
        body,
    )
}

/// `component.handle` of an encoded request: its response, or the error it rejected with.
async fn handle(
    component: &Component,
    request: Vec<u8>,
    outside: &Outside,
) -> Result<Answer, Error> {
    match JsFuture::from(component.handle(request, outside.object.clone())).await {
        Ok(response) => {
            let response: Uint8Array = response.dyn_into().expect("bytes");
            Ok(Answer::decode(&response.to_vec()))
        }
        Err(error) => Err(error.dyn_into().expect("an Error")),
    }
}

/// The answer to `GET path` of a component given `outside`.
async fn get_with(path: &str, outside: &Outside) -> Answer {
    handle(
        &compile(FUEL, PAGES).await,
        request("GET", path, b""),
        outside,
    )
    .await
    .unwrap_or_else(|e| panic!("{path} rejected: {}", String::from(e.message())))
}

async fn get(path: &str) -> Answer {
    get_with(path, &fake_outside(200, "")).await
}

/// The error's name and message of a request that gets no answer.
async fn refusal(fuel: f64, pages: f64, path: &str) -> (String, String) {
    let outside = fake_outside(200, "");
    let error = handle(
        &compile(fuel, pages).await,
        request("GET", path, b""),
        &outside,
    )
    .await
    .err()
    .unwrap_or_else(|| panic!("{path} answered"));
    (error.name().into(), error.message().into())
}

#[wasm_bindgen_test]
async fn hello_answers_with_its_body_and_headers() {
    let response = get("/hello").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "hello from a component\n");
    assert_eq!(response.header("content-type"), Some(&b"text/plain"[..]));
}

#[wasm_bindgen_test]
async fn the_request_is_seen_as_sent() {
    let response = get("/request?x=1").await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.text(),
        "method GET\nscheme https\nauthority app.example\npath /request?x=1\nheader x-test-one: 1\n"
    );
}

#[wasm_bindgen_test]
async fn the_scheme_and_authority_are_the_uris() {
    let headers: [(&[u8], &[u8]); 1] = [(b"x-test-two", b"2")];
    let request = encoded("DELETE", "http://localhost:8080/request", &headers, b"");
    let outside = fake_outside(200, "");
    let response = handle(&compile(FUEL, PAGES).await, request, &outside)
        .await
        .unwrap();
    assert_eq!(
        response.text(),
        "method DELETE\nscheme http\nauthority localhost:8080\npath /request\nheader x-test-two: 2\n"
    );
}

#[wasm_bindgen_test]
async fn echo_sends_a_large_body_back() {
    let body: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let outside = fake_outside(200, "");
    let response = handle(
        &compile(FUEL, PAGES).await,
        request("POST", "/echo", &body),
        &outside,
    )
    .await
    .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some(&b"text/x-test"[..]));
    assert!(
        response.body == body,
        "{} bytes came back",
        response.body.len()
    );
}

#[wasm_bindgen_test]
async fn header_values_are_bytes_both_ways() {
    // Not UTF-8 (0xe9): `/echo` answers the request's content-type as it got it.
    let content_type = b"text/x-test; name=caf\xe9";
    let headers: [(&[u8], &[u8]); 1] = [(b"content-type", content_type)];
    let request = encoded("POST", "https://app.example/echo", &headers, b"body");
    let outside = fake_outside(200, "");
    let response = handle(&compile(FUEL, PAGES).await, request, &outside)
        .await
        .unwrap();
    assert_eq!(response.header("content-type"), Some(&content_type[..]));
    assert_eq!(response.text(), "body");
}

#[wasm_bindgen_test]
async fn a_sleep_blocks_then_a_later_run_answers() {
    let response = get("/sleep?ms=30").await;
    assert_eq!(response.status, 200);
    let body = response.text();
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
    let path = "/fetch?url=https%3A%2F%2Fupstream.example%2Fdata%3Fq%3D1";
    let response = get_with(path, &outside).await;
    assert_eq!(response.status, 201);
    assert_eq!(response.text(), "from upstream");
    // The run that blocked on the response and the run that read it sent one request.
    assert_eq!(outside.fetched(), "GET https://upstream.example/data?q=1");
}

#[wasm_bindgen_test]
async fn a_denied_fetch_is_the_denied_error_code() {
    let outside = fake_outside(200, "");
    let response = get_with("/fetch?url=https%3A%2F%2Fdenied.example%2F", &outside).await;
    assert_eq!(response.status, 502);
    // The component prints the error code it got (`{code:?}`).
    assert_eq!(response.text(), "ErrorCode::HttpRequestDenied\n");
}

#[wasm_bindgen_test]
async fn a_failed_fetch_is_an_internal_error() {
    let outside = fake_outside(200, "");
    let response = get_with("/fetch?url=https%3A%2F%2Funreachable.example%2F", &outside).await;
    assert_eq!(response.status, 502);
    assert_eq!(
        response.text(),
        "ErrorCode::InternalError(Some(\"fetch failed\"))\n"
    );
}

#[wasm_bindgen_test]
async fn a_fetched_response_that_does_not_decode_is_an_internal_error() {
    let outside = fake_outside(200, "");
    let response = get_with("/fetch?url=https%3A%2F%2Fgarbled.example%2F", &outside).await;
    assert_eq!(response.status, 502);
    let text = response.text();
    assert!(
        text.starts_with("ErrorCode::InternalError(Some(\"the response does not decode"),
        "{text}"
    );
}

#[wasm_bindgen_test]
async fn a_fetch_of_the_apps_own_path_goes_to_its_origin() {
    let outside = fake_outside(200, "from the app");
    let response = get_with("/fetch?path=%2Fapi%2Fother%3Fx%3D2", &outside).await;
    assert_eq!(response.text(), "from the app");
    assert_eq!(outside.fetched(), "GET https://app.example/api/other?x=2");
}

#[wasm_bindgen_test]
async fn random_bytes_differ() {
    let response = get("/random").await;
    assert_eq!(response.status, 200);
    let body = response.text();
    let (hex, differ) = body.split_once('\n').unwrap();
    assert_eq!(hex.len(), 32);
    assert_eq!(differ, "differ true\n");
}

#[wasm_bindgen_test]
async fn many_headers_are_answered() {
    let response = get("/headers?n=50").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "50 headers\n");
    assert_eq!(response.header("x-header-49"), Some(&b"49"[..]));
}

#[wasm_bindgen_test]
async fn standard_output_and_error_are_logged() {
    let outside = fake_outside(200, "");
    let response = get_with("/log", &outside).await;
    assert_eq!(response.text(), "logged\n");
    let lines = outside.logged();
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
async fn a_panic_says_its_message() {
    let (name, message) = refusal(FUEL, PAGES, "/trap").await;
    assert_eq!(name, "Panic", "{message}");
    assert_eq!(message, "the component panicked on purpose");
}

#[wasm_bindgen_test]
async fn an_error_code_fails_as_the_wit_writes_it() {
    let (name, message) = refusal(FUEL, PAGES, "/error").await;
    assert_eq!(name, "Failed", "{message}");
    assert_eq!(
        message,
        r#"internal-error(Some("the component failed on purpose"))"#
    );
}

#[wasm_bindgen_test]
async fn no_response_is_unanswered() {
    let (name, _) = refusal(FUEL, PAGES, "/unanswered").await;
    assert_eq!(name, "Unanswered");
}

/// The error of `handle` given `request` (which should not decode as one).
async fn malformed(request: Vec<u8>) -> Error {
    let outside = fake_outside(200, "");
    handle(&compile(FUEL, PAGES).await, request, &outside)
        .await
        .err()
        .expect("refused")
}

#[wasm_bindgen_test]
async fn a_request_that_does_not_decode_is_a_plain_error() {
    let mut bytes = request("GET", "/hello", b"");
    bytes.push(0); // a trailing byte
    let error = malformed(bytes).await;
    assert_eq!(String::from(error.name()), "Error");
    let message = String::from(error.message());
    assert!(message.contains("does not decode"), "{message}");
}

#[wasm_bindgen_test]
async fn a_relative_uri_is_a_plain_error() {
    let error = malformed(encoded("GET", "/hello", &[], b"")).await;
    assert_eq!(String::from(error.name()), "Error");
    let message = String::from(error.message());
    assert!(message.contains("not absolute"), "{message}");
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
    let error = handle(&component, request("GET", "/", b""), &outside)
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
