//! What both browser test binaries need: building requests and reading answers.
#![allow(dead_code)] // each binary uses its own part

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The manifest the tests mount (fixtures/plugins.json; scripts/test.sh builds its plugins).
pub const MANIFEST: &str = "/fixtures/plugins.json";

/// The origin the test server runs on.
pub fn origin() -> String {
    let location = js_sys::Reflect::get(&js_sys::global(), &"location".into()).unwrap();
    js_sys::Reflect::get(&location, &"origin".into())
        .unwrap()
        .as_string()
        .unwrap()
}

/// An absolute URL on the test server.
pub fn url(path: &str) -> String {
    format!("{}{path}", origin())
}

/// A request as a page would make it.
pub fn request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> web_sys::Request {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let header_map = web_sys::Headers::new().unwrap();
    for (name, value) in headers {
        header_map.append(name, value).unwrap();
    }
    init.set_headers(&header_map);
    if let Some(body) = body {
        init.set_body(&js_sys::Uint8Array::from(body).into());
    }
    web_sys::Request::new_with_str_and_init(&url(path), &init).unwrap()
}

/// Hands a request to the runtime as sw.js does, and reads the answer (the response, or what
/// its promise resolves to). Panics if the runtime leaves the request to the network.
pub async fn send(runtime: &valor_runtime::Runtime, request: web_sys::Request) -> Answer {
    Answer::read(respond(runtime, request).await).await
}

/// The runtime's response to a request it answers, not yet read.
pub async fn respond(runtime: &valor_runtime::Runtime, request: web_sys::Request) -> JsValue {
    let url = request.url();
    let answer = runtime
        .answer(request, None, None)
        .unwrap_or_else(|| panic!("the runtime does not answer {url}"));
    match answer.dyn_into::<js_sys::Promise>() {
        Ok(promise) => JsFuture::from(promise).await.expect("answers never reject"),
        Err(response) => response,
    }
}

/// Whether the runtime answers requests to `url` (rather than leave them to the network).
pub fn answers(runtime: &valor_runtime::Runtime, url: &str) -> bool {
    let request = web_sys::Request::new_with_str(url).unwrap();
    runtime.answer(request, None, None).is_some()
}

/// A GET through the runtime.
pub async fn get(runtime: &valor_runtime::Runtime, path: &str) -> Answer {
    send(runtime, request("GET", path, &[], None)).await
}

/// Checks that the hello plugin still answers: the runtime survived what the test did.
pub async fn assert_hello_answers(runtime: &valor_runtime::Runtime) {
    let hello = get(runtime, "/api/hello").await;
    assert_eq!(
        (hello.status, hello.text()),
        (200, "OK response from a plugin".into())
    );
}

/// Checks that a plugin mounted on `plugins/hostile` (at `/api/<plugin>`) answers normally: the
/// instance it broke has been replaced.
pub async fn assert_hostile_recovers(runtime: &valor_runtime::Runtime, plugin: &str) {
    let after = get(runtime, &format!("/api/{plugin}/after")).await;
    assert_eq!(
        (after.status, after.text()),
        (200, "hostile at /after".into()),
        "{plugin}"
    );
}

/// The worker's global `fetch` (which the runtime uses to load plugins), replaced until the
/// value is dropped.
pub struct FetchPatch {
    restore: js_sys::Function,
}

/// Replaces the global `fetch`: `rule` is the body of a JavaScript function of `url` (and
/// `input`, the `Request` or string `fetch` was given) that returns a promise of the answer for
/// the URLs it takes over, and `undefined` for the others, which go to the real `fetch`.
pub fn patch_fetch(rule: &str) -> FetchPatch {
    let install = js_sys::Function::new_with_args(
        "rule",
        "const real = globalThis.fetch;
         globalThis.fetch = (input, init) =>
           rule(typeof input === 'string' ? input : input.url, input) ?? real(input, init);
         return () => { globalThis.fetch = real; };",
    );
    let rule = js_sys::Function::new_with_args("url, input", rule);
    let restore = install.call1(&JsValue::UNDEFINED, &rule).unwrap();
    FetchPatch {
        restore: restore.unchecked_into(),
    }
}

impl Drop for FetchPatch {
    fn drop(&mut self) {
        self.restore.call0(&JsValue::UNDEFINED).unwrap();
    }
}

/// The global `fetch`, in a page or a worker: straight to the network (or the page's worker).
pub async fn fetch(request: web_sys::Request) -> Answer {
    Answer::read(fetch_unread(request).await).await
}

/// The global `fetch`, resolving to the `Response` with its body not yet read.
pub async fn fetch_unread(request: web_sys::Request) -> JsValue {
    let fetch: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"fetch".into())
        .unwrap()
        .unchecked_into();
    let promise: js_sys::Promise = fetch
        .call1(&JsValue::UNDEFINED, &request)
        .unwrap()
        .unchecked_into();
    JsFuture::from(promise).await.expect("fetch failed")
}

/// A response, read completely.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: web_sys::Headers,
    pub body: Vec<u8>,
}

impl Answer {
    pub async fn read(response: JsValue) -> Answer {
        let response: web_sys::Response = response.dyn_into().expect("a Response");
        let buffer = JsFuture::from(response.array_buffer().unwrap())
            .await
            .unwrap();
        Answer {
            status: response.status(),
            headers: response.headers(),
            body: js_sys::Uint8Array::new(&buffer).to_vec(),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).unwrap()
    }
}

/// `n` bytes of a fixed pseudo-random sequence (xorshift): binary, incompressible, repeatable.
pub fn binary(n: usize) -> Vec<u8> {
    seeded(0x9e37_79b9, n)
}

/// `n` bytes of the pseudo-random sequence that starts from `seed` (not 0): distinct seeds give
/// distinct bodies, so a body that picked up another request's bytes is told apart.
pub fn seeded(seed: u32, n: usize) -> Vec<u8> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

/// The methods whose requests can carry a body: all but GET and HEAD (the Request constructor
/// refuses a body on those), a custom one included.
pub const METHODS_WITH_BODY: [&str; 6] = ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PURGE"];

/// Request bodies that must reach a plugin whole: empty, UTF-8 text, and binary from one byte to
/// several MiB (past the sizes where engines switch to blobs or streams). Each with a label.
pub fn sample_bodies() -> Vec<(String, Vec<u8>)> {
    let text = "caf\u{e9} \u{2713} \u{1f980} text, with a newline\n"
        .as_bytes()
        .to_vec();
    let mut bodies = vec![("empty".to_owned(), Vec::new()), ("text".to_owned(), text)];
    for size in [1, 1000, 64 << 10 | 1, 3 << 20] {
        bodies.push((format!("{size} binary bytes"), binary(size)));
    }
    bodies
}

/// The SHA-256 of `bytes` in hex, as the echo plugin reports it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Checks echo's view of a request body: its size and SHA-256 equal the body that was sent.
pub fn assert_echoed(answer: &Answer, body: &[u8], what: &str) {
    assert_eq!(answer.status, 200, "{what}: {}", answer.text());
    let echo = answer.json();
    assert_eq!(
        (echo["body_size"].as_u64(), echo["body_sha256"].as_str()),
        (Some(body.len() as u64), Some(sha256_hex(body).as_str())),
        "{what}: the plugin saw another body"
    );
}

/// A distinct body for the `i`th of many concurrent responses; sizes cycle through values
/// around an allocator's block sizes, and some large ones.
pub fn distinct_body(i: u32) -> Vec<u8> {
    const SIZES: [usize; 10] = [1, 7, 8, 9, 16, 33, 100, 4096, 65_539, 1 << 20];
    seeded(
        i.wrapping_mul(2_654_435_761) | 1,
        SIZES[i as usize % SIZES.len()],
    )
}

/// Reads each response (mirror's, in the order of `bodies`) and checks that its body is the one
/// sent, byte for byte.
pub async fn assert_mirrored(responses: Vec<JsValue>, bodies: &[Vec<u8>]) {
    assert_eq!(responses.len(), bodies.len());
    for (i, (response, body)) in responses.into_iter().zip(bodies).enumerate() {
        let answer = Answer::read(response).await;
        assert_eq!(answer.status, 200, "response {i}: {}", answer.text());
        assert!(
            answer.body == *body,
            "response {i} ({} bytes) came back changed",
            body.len()
        );
    }
}

/// Resolves after `ms` milliseconds, in a page or a worker.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let set_timeout = js_sys::Reflect::get(&js_sys::global(), &"setTimeout".into()).unwrap();
        set_timeout
            .unchecked_into::<js_sys::Function>()
            .call2(&JsValue::UNDEFINED, &resolve, &ms.into())
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Whether `check` turns true within 5 s, asked every 20 ms: for what the runtime does in the
/// background.
pub async fn eventually<F: std::future::Future<Output = bool>>(
    mut check: impl FnMut() -> F,
) -> bool {
    for _ in 0..250 {
        if check().await {
            return true;
        }
        sleep(20).await;
    }
    false
}
