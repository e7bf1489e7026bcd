//! The whole path from a page: register the real sw.js, wait until it controls the page, and
//! fetch() plugin URLs as any page script would.
#![cfg(target_arch = "wasm32")]

mod support;

use futures::future::join_all;
use support::{
    assert_echoed, distinct_body, fetch, fetch_unread, request, sample_bodies, sleep, Answer,
    MANIFEST, METHODS_WITH_BODY,
};
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

#[wasm_bindgen_test]
async fn a_page_request_body_of_every_method_reaches_the_plugin_whole() {
    controlled_by_valor().await;
    for (what, body) in sample_bodies() {
        for method in METHODS_WITH_BODY {
            let answer = fetch(request(method, "/api/echo/upload", &[], Some(&body))).await;
            assert_eq!(answer.header("x-valor-plugin").as_deref(), Some("echo"));
            assert_echoed(
                &answer,
                &body,
                &format!("{method} with {what} from the page"),
            );
        }
    }
}

/// Many answers in flight through the worker at once, read only after all have arrived: each
/// must carry its own bytes, not bytes of the runtime's memory reused by the others.
#[wasm_bindgen_test]
async fn page_responses_in_flight_together_each_arrive_intact() {
    controlled_by_valor().await;
    let bodies: Vec<Vec<u8>> = (0..120).map(distinct_body).collect();
    let responses = join_all(
        bodies
            .iter()
            .map(|body| fetch_unread(request("PUT", "/api/mirror", &[], Some(body)))),
    )
    .await;
    for (i, (response, body)) in responses.into_iter().zip(&bodies).enumerate() {
        let answer = Answer::read(response).await;
        assert_eq!(answer.status, 200, "response {i}: {}", answer.text());
        assert!(
            answer.body == *body,
            "response {i} ({} bytes) came back changed",
            body.len()
        );
    }
}
