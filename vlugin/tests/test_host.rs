//! `vlugin::test`, the in-memory host of native tests: each part of the host API answers as the
//! runtime would, through the same encodings.
#![cfg(not(target_arch = "wasm32"))] // the test host is native-only
use std::time::{Duration, UNIX_EPOCH};
use vlugin::prelude::*;
use vlugin::test::{block_on, request, Host};

#[test]
fn without_a_host_the_host_api_says_what_is_missing() {
    let error = block_on(kv::get("k")).unwrap_err();
    assert!(
        error.to_string().contains("installs a vlugin::test::Host"),
        "{error}"
    );
}

#[test]
fn config_mount_and_origin_are_the_hosts() {
    let _host = Host::new()
        .config(serde_json::json!({ "greeting": "hi" }))
        .mount("/api/greet/")
        .origin("https://example.com/")
        .install();
    let config: serde_json::Value = config().unwrap();
    assert_eq!(config["greeting"], "hi");
    // As a real host says them: without a trailing slash.
    assert_eq!((mount(), origin()), ("/api/greet", "https://example.com"));
    let req = request("GET", "/x?y=1", "");
    assert_eq!(req.url(), "https://example.com/api/greet/x?y=1");
    assert_eq!(
        request("GET", "/?y=1", "").url(),
        "https://example.com/api/greet?y=1"
    );
}

#[test]
fn the_store_lists_scans_and_swaps() {
    let host = Host::new()
        .kv("a/1", "one")
        .kv("a/2", "two")
        .kv("b", "x")
        .install();
    block_on(async {
        assert_eq!(kv::keys("a/").await.unwrap(), ["a/1", "a/2"]);
        let scanned = kv::scan("a/").await.unwrap();
        assert_eq!(
            scanned,
            [
                ("a/1".into(), b"one".to_vec()),
                ("a/2".into(), b"two".to_vec())
            ]
        );
        // A swap from a value that is no longer there changes nothing and says what is.
        let stale = kv::compare_and_swap("b", Some(b"old"), Some(b"new"))
            .await
            .unwrap();
        assert_eq!(stale, Err(Some(b"x".to_vec())));
        assert_eq!(
            kv::compare_and_swap("b", Some(b"x"), None).await.unwrap(),
            Ok(())
        );
        let n = kv::update_json("n", |n: Option<u32>| n.unwrap_or(41) + 1)
            .await
            .unwrap();
        assert_eq!(n, 42);
    });
    assert_eq!(host.kv_keys(), ["a/1", "a/2", "n"]);
}

#[test]
fn an_update_of_a_value_that_is_not_json_fails_and_keeps_it() {
    let host = Host::new().kv("n", "not json").install();
    let error = block_on(kv::update_json("n", |n: Option<u32>| n.unwrap_or(0) + 1)).unwrap_err();
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert_eq!(host.kv_get("n").as_deref(), Some(&b"not json"[..]));
}

#[test]
fn sleeping_moves_the_clock_not_the_test() {
    let host = Host::new().now(1_000.0).install();
    block_on(sleep(Duration::from_secs(3600)));
    assert_eq!(host.now(), 3_601_000.0);
    assert_eq!(
        now().duration_since(UNIX_EPOCH).unwrap(),
        Duration::from_millis(3_601_000)
    );
}

#[test]
fn fetch_is_answered_by_the_stub_or_fails_as_unreachable() {
    let answer = |req: &str| {
        let req = http::Request::get(req).body(Body::empty()).unwrap();
        block_on(fetch(req))
    };
    {
        let _host = Host::new().install();
        let error = answer("https://api.example.com/").unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_GATEWAY, "{error}");
    }
    let _host = Host::new()
        .fetch(|req: Request| (StatusCode::ACCEPTED, format!("stubbed {}", req.uri())))
        .install();
    let response = answer("https://api.example.com/v1?q=1").unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        response.body().text().unwrap(),
        "stubbed https://api.example.com/v1?q=1"
    );
}

#[test]
#[should_panic(expected = "waits for something that nothing in the test host will finish")]
fn a_future_that_can_never_finish_is_reported() {
    let _host = Host::new().install();
    block_on(std::future::pending::<()>());
}

/// A store made to fail answers as on a real host: 507 when full, 503 with `retry-after` when
/// unreachable; and the handler decides what to do with it.
#[test]
fn a_failing_store_answers_by_its_failure() {
    #[vlugin]
    async fn save(_req: Request) -> vlugin::Result<&'static str> {
        kv::set("k", b"v").await?;
        Ok("saved")
    }
    for (failure, status, retry) in [
        (kv::Failure::Full, 507, None),
        (kv::Failure::Unavailable, 503, Some("1")),
        (kv::Failure::Other, 503, None),
    ] {
        let host = Host::new().kv_failing(failure).install();
        let response = block_on(save(request("POST", "/", ""))).into_response();
        assert_eq!(response.status(), status, "{failure:?}");
        let retry_after = response.headers().get("retry-after");
        assert_eq!(retry_after.map(|v| v.to_str().unwrap()), retry);
        let text = response.body().text().unwrap();
        assert!(
            text.contains("the test host's store was made to fail"),
            "{text}"
        );
        assert_eq!(host.kv_get("k"), None);
    }
}
