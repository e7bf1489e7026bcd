//! The whole path from a page: register the real sw.js, wait until it controls the page, and
//! fetch() plugin URLs as any page script would.
#![cfg(target_arch = "wasm32")]

mod support;

use support::{fetch, request, sleep, MANIFEST};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Registers /sw.js (scripts/test.sh copies it and the built runtime into the test server's
/// folder) and waits until it controls this page.
async fn controlled_by_valor() {
    let container = web_sys::window().unwrap().navigator().service_worker();
    let script = format!("/sw.js?manifest={MANIFEST}");
    JsFuture::from(container.register(&script))
        .await
        .unwrap_or_else(|e| panic!("registering {script} failed: {e:?}"));
    for _ in 0..200 {
        if container.controller().is_some() {
            return;
        }
        sleep(50).await;
    }
    panic!("sw.js did not take control of the page within 10 s");
}

#[wasm_bindgen_test]
async fn a_page_fetch_is_answered_by_the_plugin_through_the_service_worker() {
    controlled_by_valor().await;

    let hello = fetch(request("GET", "/api/hello", &[], None)).await;
    assert_eq!(hello.status, 200);
    assert_eq!(hello.text(), "OK response from a plugin");
    assert_eq!(hello.header("x-valor-plugin").as_deref(), Some("hello"));

    let echo = fetch(request(
        "POST",
        "/api/echo/from-page?n=1",
        &[("x-page", "yes")],
        Some(b"abc"),
    ))
    .await;
    let seen = echo.json();
    assert_eq!(
        (seen["method"].as_str(), seen["path"].as_str()),
        (Some("POST"), Some("/from-page"))
    );
    assert_eq!(seen["body_size"], 3);

    // Not a plugin's path: the test server answers, untouched by Valor.
    let manifest = fetch(request("GET", MANIFEST, &[], None)).await;
    assert_eq!(manifest.status, 200);
    assert_eq!(manifest.header("x-valor-plugin"), None);

    let broken = fetch(request("GET", "/api/missing", &[], None)).await;
    assert_eq!(broken.status, 502);
}
