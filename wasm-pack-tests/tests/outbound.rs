//! What a plugin's outbound `fetch` hands the network, in a real service worker with the real
//! `host-api` plugin: `allowed_hosts` ports and IPv6 literals are matched as documented. The
//! global `fetch` is patched to answer where no server could.
#![cfg(target_arch = "wasm32")]

mod support;

use support::{get, patch_fetch, MANIFEST};
use valor_runtime::Runtime;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_service_worker);

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
