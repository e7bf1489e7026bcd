//! The engine run natively on `vlugin::test`'s in-memory host: what a script sees and answers,
//! without a browser or a server. The settings are read once per thread, so each test runs the
//! script of its module, on its own thread.

mod events;
mod fresh;
mod messages;
mod readable;
mod reading;
mod streams;
mod transform;

use super::{serve, start};
use vlugin::kv::Failure;
use vlugin::test::{block_on, request, Host};
use vlugin::IntoResponse;

const SCRIPT: &str = r#"
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/caught') {
      try {
        await kv.set('k', 'v');
        return new Response('stored');
      } catch (error) {
        return Response.json({ name: error.name, failure: error.failure, status: error.status });
      }
    }
    await kv.set('k', 'v');
    return new Response('stored');
  },
};
"#;

fn host() -> Host {
    Host::new().config(serde_json::json!({
        "source": SCRIPT,
        "url": "https://example.com/plugins/store.mjs",
        "memory_mb": 64,
    }))
}

fn answer(path: &str) -> (u16, Option<String>, String) {
    let response = block_on(serve(request("POST", path, ""))).into_response();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.body().text().unwrap().to_owned();
    (response.status().as_u16(), retry, text)
}

/// An uncaught store failure answers as a Rust plugin's `?` would; a caught one is a
/// `StorageError` that says how the store failed.
#[test]
fn a_store_failure_is_a_storage_error_answered_by_its_kind() {
    let stored = host().install();
    start().unwrap();
    assert_eq!(answer("/"), (200, None, "stored".into()));
    assert_eq!(stored.kv_get("k").as_deref(), Some(&b"v"[..]));
    drop(stored);

    for (failure, status, retry, word) in [
        (Failure::Full, 507, None, "full"),
        (
            Failure::Unavailable,
            503,
            Some("1".to_owned()),
            "unavailable",
        ),
        (Failure::Other, 503, None, "failed"),
    ] {
        let failing = host().kv_failing(failure).install();
        let (got, retry_after, text) = answer("/");
        assert_eq!((got, retry_after), (status, retry), "{failure:?}: {text}");
        assert_eq!(
            text,
            format!("storage {word}: the test host's store was made to fail")
        );
        let (got, _, caught) = answer("/caught");
        assert_eq!(got, 200, "{caught}");
        let caught: serde_json::Value = serde_json::from_str(&caught).unwrap();
        assert_eq!(
            caught,
            serde_json::json!({ "name": "StorageError", "failure": word, "status": status })
        );
        assert_eq!(failing.kv_get("k"), None);
    }
}
