//! What every run of a compiled component shares (the adapter's instance, its host call, the
//! import objects' shared parts) in a real engine: requests in flight at once on one compiled
//! component, one of them blocked and replayed in between, each get their own answer, and a
//! later request too.

use super::Component;
use futures::future::join3;
use js_sys::{Object, Promise, Reflect, Uint8Array};
use valor_abi::codec;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// The project's test component (wasm-pack-tests/components/wasi-http).
const COMPONENT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/wasm32-wasip2/release/component_http.wasm"
));

/// The runtime's side, with nothing fetched: every fetch fails, every line is dropped.
fn outside() -> JsValue {
    let fetch = Closure::<dyn Fn(JsValue) -> JsValue>::new(|_| {
        let failed = Uint8Array::from(&valor_host::result::failed("no fetch")[..]);
        Promise::resolve(&failed).into()
    });
    let log = Closure::<dyn Fn(bool, String)>::new(|_, _| {});
    let object = Object::new();
    Reflect::set(&object, &"fetch".into(), &fetch.into_js_value()).unwrap();
    Reflect::set(&object, &"log".into(), &log.into_js_value()).unwrap();
    object.into()
}

/// The status and body `component` answers `method path` with `body`.
async fn answer(component: &Component, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let uri = format!("https://app.example{path}");
    let mut request =
        codec::encode_request_head(method.as_bytes(), uri.as_bytes(), &[], body.len() as u32);
    request.extend_from_slice(body);
    let response = JsFuture::from(component.handle(request, outside()))
        .await
        .unwrap_or_else(|e| panic!("{path} rejected: {e:?}"));
    let response: Uint8Array = response.dyn_into().expect("bytes");
    let response = codec::decode_response::<Vec<u8>>(&response.to_vec()).expect("a response");
    let status = response.status().as_u16();
    (
        status,
        String::from_utf8(response.into_body()).expect("UTF-8"),
    )
}

#[wasm_bindgen_test]
async fn requests_in_flight_at_once_on_one_component_get_their_own_answers() {
    let component = Component::compile(Uint8Array::from(COMPONENT), 1e9, 256.0)
        .await
        .expect("the test component compiles");
    let (slept, echoed, seen) = join3(
        answer(&component, "GET", "/sleep?ms=20", b""),
        answer(&component, "POST", "/echo", b"first"),
        answer(&component, "GET", "/request?x=2", b""),
    )
    .await;
    assert_eq!(slept.0, 200);
    assert!(slept.1.starts_with("slept "), "{:?}", slept.1);
    assert_eq!(echoed, (200, "first".to_owned()));
    assert_eq!(seen.0, 200);
    assert!(seen.1.contains("path /request?x=2\n"), "{:?}", seen.1);
    let again = answer(&component, "POST", "/echo", b"again").await;
    assert_eq!(again, (200, "again".to_owned()));
}
