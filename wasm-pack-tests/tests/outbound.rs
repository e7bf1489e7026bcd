//! What a plugin's outbound `fetch` hands the network, in a real service worker with the real
//! `host-api` plugin: no redirect is followed, credentials are omitted unless its entry says
//! otherwise, and `allowed_hosts` ports and IPv6 literals are matched as documented. The global
//! `fetch` is patched to answer (and show what it was given) where no server could.
#![cfg(target_arch = "wasm32")]

mod support;

use support::{get, patch_fetch, MANIFEST};
use valor_runtime::Runtime;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_service_worker);

/// The `Request` the runtime gives `fetch`, as the host-api plugin reports it.
async fn seen(runtime: &Runtime, mount: &str) -> serde_json::Value {
    let answer = get(runtime, &format!("/api/{mount}/fetch?url=/inspect")).await;
    assert_eq!(answer.status, 200, "{mount}: {}", answer.text());
    let answer = answer.json();
    assert_eq!(answer["status"], 200, "{mount}: {answer}");
    serde_json::from_str(answer["body"].as_str().unwrap()).unwrap()
}

#[wasm_bindgen_test]
async fn outbound_requests_follow_no_redirect_and_omit_credentials_by_default() {
    let runtime = Runtime::boot(MANIFEST).await;
    let _patch = patch_fetch(
        "return url.endsWith('/inspect')
           ? Promise.resolve(new Response(JSON.stringify({
               redirect: input.redirect, credentials: input.credentials })))
           : undefined;",
    );
    for (mount, credentials) in [("host", "omit"), ("host-include", "include")] {
        assert_eq!(
            seen(&runtime, mount).await,
            serde_json::json!({ "redirect": "manual", "credentials": credentials }),
            "{mount}"
        );
    }
}

#[wasm_bindgen_test]
async fn an_invalid_credentials_mode_is_a_502_naming_the_choices() {
    let runtime = Runtime::boot(MANIFEST).await;
    let answer = get(&runtime, "/api/bad-credentials").await;
    assert_eq!(answer.status, 502, "{}", answer.text());
    assert!(
        answer.text().contains(
            "invalid credentials \"all\": give \"omit\" (the default: no cookies), \
             \"same-origin\" or \"include\""
        ),
        "{}",
        answer.text()
    );
}

/// host-api-hosts allows `localhost`, `[0:0::1]` and `*.test:8443`.
#[wasm_bindgen_test]
async fn allowed_hosts_without_a_port_allow_the_default_port_only() {
    let runtime = Runtime::boot(MANIFEST).await;
    let _patch = patch_fetch(
        "return url.endsWith('/probe') ? Promise.resolve(new Response('reached ' + url)) : undefined;",
    );
    for (url, reached) in [
        ("http://localhost/probe", "http://localhost/probe"),
        ("https://localhost:443/probe", "https://localhost/probe"),
        ("http://[::1]/probe", "http://[::1]/probe"),
        ("https://[0:0:0:0:0:0:0:1]/probe", "https://[::1]/probe"),
        ("https://a.b.test:8443/probe", "https://a.b.test:8443/probe"),
    ] {
        let answer = get(&runtime, &format!("/api/host-hosts/fetch?url={url}")).await;
        assert_eq!(answer.status, 200, "{url}: {}", answer.text());
        assert_eq!(answer.json()["body"], format!("reached {reached}"), "{url}");
    }
    for (url, entry) in [
        ("http://localhost:8080/probe", "localhost:8080"),
        ("http://localhost:443/probe", "localhost:443"),
        ("http://[::1]:8080/probe", "[::1]:8080"),
        ("https://a.test/probe", "a.test"),
        ("http://127.0.0.1/probe", "127.0.0.1"),
    ] {
        let answer = get(&runtime, &format!("/api/host-hosts/fetch?url={url}")).await;
        assert_eq!(answer.status, 403, "{url}: {}", answer.text());
        let advice = format!("add {entry:?} to \"allowed_hosts\"");
        assert!(answer.text().contains(&advice), "{url}: {}", answer.text());
    }
}
