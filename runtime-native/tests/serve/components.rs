//! WASI 0.2 components served by the real `valor serve`: the test component (built from
//! wasm-pack-tests/components/wasi-http by scripts/build.sh with the standard `wasi` crate)
//! answers through wasmtime-wasi-http, within its entry's limits, beside a Valor plugin that
//! keeps answering whatever the component does.

use crate::common::{answer, app_dir, Server};

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "wasi", "prefix": "/api/wasi", "url": "plugins/component_http.wasm",
      "allowed_hosts": ["self"], "fuel": 50000000, "memory_mb": 32 },
    { "name": "unfuelled", "prefix": "/api/unfuelled", "url": "plugins/component_http.wasm",
      "fuel": 1000000000000, "timeout_ms": 500 },
    { "name": "closed", "prefix": "/api/closed", "url": "plugins/component_http.wasm" },
    { "name": "streaming", "prefix": "/api/streaming", "url": "plugins/component_http.wasm",
      "stream_requests": true },
    { "name": "hello", "prefix": "/api/hello", "url": "plugins/hello.wasm" }
] }"#;

fn start() -> (tempfile::TempDir, Server) {
    let dir = app_dir(MANIFEST, &["component_http", "hello"]);
    let server = Server::start(dir.path(), &[], &[]);
    (dir, server)
}

async fn get(server: &Server, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", server.url)).await.unwrap();
    answer(response).await
}

#[tokio::test]
async fn a_component_answers_with_what_it_saw_of_the_request() {
    let (_dir, server) = start();
    let (status, body) = get(&server, "/api/wasi/hello").await;
    assert_eq!((status, body.as_str()), (200, "hello from a component\n"));

    let response = reqwest::Client::new()
        .get(format!("{}/api/wasi/request?a=1&b", server.url))
        .header("x-test-one", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-valor-plugin"], "wasi");
    let (status, body) = answer(response).await;
    let authority = server.url.trim_start_matches("http://");
    assert_eq!(status, 200);
    assert_eq!(
        body,
        format!(
            "method GET\nscheme http\nauthority {authority}\npath /request?a=1&b\nheader x-test-one: 1\n"
        )
    );

    let response = reqwest::Client::new()
        .post(format!("{}/api/wasi/echo", server.url))
        .header("content-type", "application/x-test")
        .body(vec![7u8; 300_000])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/x-test");
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        &[7u8; 300_000][..]
    );

    let (status, body) = get(&server, "/api/wasi/headers?n=3").await;
    assert_eq!((status, body.as_str()), (200, "3 headers\n"));
}

#[tokio::test]
async fn a_component_sleeps_and_sends_requests_within_its_allowlist() {
    let (_dir, server) = start();
    let (status, body) = get(&server, "/api/wasi/sleep?ms=30").await;
    assert_eq!(status, 200);
    let slept: u64 = body.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(slept >= 30, "{body}");

    // Another plugin of the app, through outgoing-handler.
    let (status, body) = get(&server, "/api/wasi/fetch?path=/api/hello").await;
    assert_eq!((status, body.as_str()), (200, "OK response from a plugin"));
    // A host its entry does not allow: the component gets HTTP-request-denied.
    let (status, body) = get(&server, "/api/wasi/fetch?url=https%3A%2F%2Fexample.com%2F").await;
    assert_eq!(
        (status, body.as_str()),
        (502, "ErrorCode::HttpRequestDenied\n")
    );
    let (status, body) = get(&server, "/api/closed/fetch?path=/api/hello").await;
    assert_eq!(
        (status, body.as_str()),
        (502, "ErrorCode::HttpRequestDenied\n")
    );
}

#[tokio::test]
async fn a_component_reaches_an_allowed_host_outside_the_app() {
    // An upstream on a port of its own: a host of its own to the allowlist.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let answer = "HTTP/1.1 203 Non-Authoritative Information\r\ncontent-length: 13\r\n\
                          connection: close\r\n\r\nfrom upstream";
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    let manifest = format!(
        r#"{{ "plugins": [
            {{ "name": "out", "prefix": "/api/out", "url": "plugins/component_http.wasm",
               "allowed_hosts": ["{upstream}"] }} ] }}"#
    );
    let dir = app_dir(&manifest, &["component_http"]);
    let server = Server::start(dir.path(), &[], &[]);
    let url = format!("http%3A%2F%2F{upstream}%2Fdata");
    let (status, body) = get(&server, &format!("/api/out/fetch?url={url}")).await;
    assert_eq!((status, body.as_str()), (203, "from upstream"));
}

#[tokio::test]
async fn a_broken_component_gets_the_statuses_of_any_plugin_and_others_keep_answering() {
    let (_dir, server) = start();
    let cases = [
        ("/api/wasi/loop", 504, "plugin 'wasi' used up its fuel"),
        (
            "/api/unfuelled/loop",
            504,
            "plugin 'unfuelled' did not answer within 500 ms",
        ),
        (
            "/api/wasi/grow",
            503,
            "plugin 'wasi' needed more memory than its limit of 32 MiB",
        ),
        (
            "/api/wasi/trap",
            500,
            "plugin 'wasi' panicked: the component panicked on purpose",
        ),
        (
            "/api/wasi/error",
            500,
            "plugin 'wasi' returned an invalid response: it set its response to the error \
             internal-error(Some(\"the component failed on purpose\"))",
        ),
        (
            "/api/wasi/unanswered",
            500,
            "plugin 'wasi' returned an invalid response: its handler returned without setting \
             its response",
        ),
        (
            "/api/wasi/fields?n=1000",
            500,
            "plugin 'wasi' crashed: total size of fields exceeds limit",
        ),
        (
            "/api/streaming/hello",
            502,
            "components read their requests whole for now",
        ),
    ];
    for (path, status, text) in cases {
        let (got, body) = get(&server, path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body.contains(text), "{path}: {body}");
        let (status, body) = get(&server, "/api/hello").await;
        assert_eq!((status, body.as_str()), (200, "OK response from a plugin"));
        let (status, _) = get(&server, "/api/wasi/hello").await;
        assert_eq!(status, 200, "after {path}");
    }
}

#[tokio::test]
async fn requests_to_a_component_run_side_by_side() {
    let (_dir, server) = start();
    // Each request has a store and an instance of its own.
    let requests = (0..16).map(|i| {
        let path = if i % 2 == 0 {
            "/api/wasi/sleep?ms=50"
        } else {
            "/api/wasi/random"
        };
        get(&server, path)
    });
    let answers = futures::future::join_all(requests).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    let random: std::collections::HashSet<_> = answers.iter().skip(1).step_by(2).collect();
    assert_eq!(random.len(), 8, "each instance draws its own random bytes");
}
