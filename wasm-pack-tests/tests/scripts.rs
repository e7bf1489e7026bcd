//! JavaScript plugins in a real service worker: each script run by the JavaScript engine
//! module (valor_js.wasm), loaded beside the runtime, in every browser engine.
#![cfg(target_arch = "wasm32")]

mod support;

use futures::future::join;
use support::{get, request, send};
use valor_runtime::Runtime;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_service_worker);

const SCRIPTS: &str = "/fixtures/scripts.json";

#[wasm_bindgen_test]
async fn a_script_answers_through_the_worker_message_interface() {
    let runtime = Runtime::boot(SCRIPTS).await;
    let answer = get(&runtime, "/api/js/hello").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.text(), "Hello from JavaScript");
    assert_eq!(answer.header("x-valor-plugin").as_deref(), Some("hello-js"));
    assert!(answer.header("x-correlation-id").is_some());
}

#[wasm_bindgen_test]
async fn a_script_gets_the_request_and_its_config() {
    let runtime = Runtime::boot(SCRIPTS).await;
    let post = request(
        "POST",
        "/api/js/request/a?x=1",
        &[("x-test", "yes")],
        Some(b"abc"),
    );
    let answer = send(&runtime, post).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let seen = answer.json();
    assert_eq!(seen["path"], "/api/js/request/a");
    assert_eq!(seen["query"]["x"], "1");
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["header"], "yes");
    assert_eq!(seen["has_request_id"], true);
    assert_eq!(seen["body_is"], "ArrayBuffer");
    assert_eq!(seen["text"], "abc");
    assert_eq!(seen["config"]["who"], "tests");
}

#[wasm_bindgen_test]
async fn replies_may_come_later_and_out_of_order() {
    let runtime = Runtime::boot(SCRIPTS).await;
    // The first request waits longer: its reply is posted after the second's.
    let (slow, fast) = join(
        get(&runtime, "/api/js/request/slow?wait=150"),
        get(&runtime, "/api/js/request/fast?wait=10"),
    )
    .await;
    assert_eq!(slow.status, 200, "{}", slow.text());
    assert_eq!(fast.status, 200, "{}", fast.text());
    assert_eq!(slow.json()["path"], "/api/js/request/slow");
    assert_eq!(fast.json()["path"], "/api/js/request/fast");
}

#[wasm_bindgen_test]
async fn a_module_keeps_todos_in_kv_and_a_script_calls_a_rust_plugin() {
    let runtime = Runtime::boot(SCRIPTS).await;
    let add = request("POST", "/api/js/todos", &[], Some(br#"{"title":"milk"}"#));
    let added = send(&runtime, add).await;
    assert_eq!(added.status, 201, "{}", added.text());
    let id = added.json()["id"].as_str().unwrap().to_owned();
    let read = get(&runtime, &format!("/api/js/todos/{id}")).await;
    assert_eq!(read.json()["title"], "milk");
    let relayed = get(&runtime, "/api/js/relay").await;
    assert_eq!(relayed.status, 200, "{}", relayed.text());
    assert_eq!(relayed.json()["said"], "OK response from a plugin");
    assert_eq!(relayed.json()["plugin"], "hello");
}

#[wasm_bindgen_test]
async fn an_endless_loop_is_stopped_and_the_script_started_afresh() {
    let runtime = Runtime::boot(SCRIPTS).await;
    assert_eq!(get(&runtime, "/api/js/hostile/calls").await.text(), "1");
    let looped = get(&runtime, "/api/js/hostile/loop-caught").await;
    assert_eq!(looped.status, 504, "{}", looped.text());
    assert!(
        looped.text().contains("used up its CPU budget"),
        "{}",
        looped.text()
    );
    // Other plugins were not held up, and the script starts again with fresh state.
    assert_eq!(get(&runtime, "/api/js/hello").await.status, 200);
    assert_eq!(get(&runtime, "/api/js/hostile/calls").await.text(), "1");
}

#[wasm_bindgen_test]
async fn recursion_and_memory_growth_are_stopped() {
    let runtime = Runtime::boot(SCRIPTS).await;
    let deep = get(&runtime, "/api/js/hostile/recurse").await;
    assert_eq!(deep.status, 500, "{}", deep.text());
    assert!(deep.text().contains("RangeError"), "{}", deep.text());
    let grown = get(&runtime, "/api/js/hostile/grow").await;
    assert_eq!(grown.status, 503, "{}", grown.text());
    assert!(
        grown.text().contains("ran out of memory"),
        "{}",
        grown.text()
    );
    assert_eq!(get(&runtime, "/api/js/hostile/fine").await.text(), "fine");
}

#[wasm_bindgen_test]
async fn a_syntax_error_or_a_wrong_integrity_answers_502() {
    let runtime = Runtime::boot(SCRIPTS).await;
    let broken = get(&runtime, "/api/js/broken").await;
    assert_eq!(broken.status, 502, "{}", broken.text());
    assert!(broken.text().contains("SyntaxError"), "{}", broken.text());
    assert!(
        broken.text().contains("broken.js:3"),
        "the line: {}",
        broken.text()
    );
    let pinned = get(&runtime, "/api/js/pinned").await;
    assert_eq!(pinned.status, 502, "{}", pinned.text());
    assert!(pinned.text().contains("refused"), "{}", pinned.text());
}
