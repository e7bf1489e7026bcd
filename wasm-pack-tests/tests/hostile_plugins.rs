//! Plugins that break the ABI on purpose (`plugins/hostile`, written without vlugin), in a real
//! service worker: each misbehaviour costs at most the request that caused it and the instance;
//! the runtime survives and the other plugins keep answering.
#![cfg(target_arch = "wasm32")]

mod support;

use support::{assert_hello_answers, get, sleep, MANIFEST};
use valor_runtime::Runtime;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_service_worker);

/// What the plugin's next request answers, once the instance it broke has been replaced.
async fn assert_recovers(runtime: &Runtime) {
    support::assert_hostile_recovers(runtime, "hostile").await;
}

#[wasm_bindgen_test]
async fn valor_alloc_returning_0_is_a_500_and_the_instance_is_replaced() {
    let runtime = Runtime::boot(MANIFEST).await;
    assert_eq!(get(&runtime, "/api/hostile/alloc-zero").await.status, 200);
    let answer = get(&runtime, "/api/hostile/next").await;
    assert_eq!(answer.status, 500, "{}", answer.text());
    assert!(
        answer
            .text()
            .contains("plugin 'hostile' broke the plugin ABI: valor_alloc returned 0"),
        "{}",
        answer.text()
    );
    assert_hello_answers(&runtime).await;
    assert_recovers(&runtime).await;
}

#[wasm_bindgen_test]
async fn valor_woken_that_never_returns_0_is_a_500_not_a_hung_worker() {
    let runtime = Runtime::boot(MANIFEST).await;
    let answer = get(&runtime, "/api/hostile/woken-forever").await;
    assert_eq!(answer.status, 500, "{}", answer.text());
    assert!(
        answer
            .text()
            .contains("valor_woken reported more than 65536 tasks"),
        "{}",
        answer.text()
    );
    assert_hello_answers(&runtime).await;
    assert_recovers(&runtime).await;
}

#[wasm_bindgen_test]
async fn a_log_line_of_64_mib_is_cut_to_8_kib() {
    let spy = js_sys::Function::new_no_args(
        "globalThis.__valorLogs = [];
         const original = console.info.bind(console);
         console.info = (...args) => { globalThis.__valorLogs.push(args.join(' ')); original(...args); };",
    );
    spy.call0(&wasm_bindgen::JsValue::UNDEFINED).unwrap();
    let runtime = Runtime::boot(MANIFEST).await;
    let answer = get(&runtime, "/api/hostile/log-huge").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let logs: js_sys::Array = js_sys::Reflect::get(&js_sys::global(), &"__valorLogs".into())
        .unwrap()
        .unchecked_into();
    let line = logs
        .iter()
        .filter_map(|line| line.as_string())
        .find(|line| line.starts_with("[valor:hostile]"))
        .expect("the plugin's log line");
    let shown = line.chars().count();
    assert!(shown < 8 * 1024 + 100, "{shown} characters were logged");
    assert!(
        line.ends_with("more bytes not shown]"),
        "{}",
        &line[line.len() - 60..]
    );
    assert_hello_answers(&runtime).await;
}

/// Bodies are bounded by the entry's `max_body_bytes` (1 KiB here): a larger page request is
/// refused with 413 before it reaches the plugin; a larger answer is a 502, and a frame far past
/// the limit is never even copied out of the plugin's memory.
#[wasm_bindgen_test]
async fn bodies_over_max_body_bytes_answer_413_and_502() {
    let runtime = Runtime::boot(MANIFEST).await;
    let post = |size: usize| {
        support::send(
            &runtime,
            support::request("POST", "/api/echo-small", &[], Some(&vec![b'x'; size])),
        )
    };
    let fits = post(1024).await;
    assert_eq!(fits.status, 200, "{}", fits.text());
    assert_eq!(fits.json()["body_size"], 1024);
    let over = post(1025).await;
    assert_eq!(over.status, 413, "{}", over.text());
    assert!(
        over.text()
            .contains("1025 bytes is larger than plugin 'echo-small' accepts (1024 bytes"),
        "{}",
        over.text()
    );
    // 2 KiB of body; 2 MiB of body, refused by its frame's size (body, status and lengths).
    for (path, size) in [("/big-2k", 2048), ("/big-2m", 2_097_164)] {
        let answer = get(&runtime, &format!("/api/hostile-small{path}")).await;
        assert_eq!(answer.status, 502, "{path}: {}", answer.text());
        let expected = format!("answered with {size} bytes, more than its limit (1024 bytes");
        assert!(answer.text().contains(&expected), "{}", answer.text());
    }
    assert_hello_answers(&runtime).await;
}

/// An instance may have 4,096 host operations in flight: past that, each one the plugin starts
/// fails at once, saying so, and starts nothing. Other plugins answer meanwhile, and the quota
/// counts operations in flight, not ever started: the same plugin can do it all again.
#[wasm_bindgen_test]
async fn host_operations_past_the_quota_fail_at_once() {
    let runtime = Runtime::boot(MANIFEST).await;
    let expected = "4096 ok, 904 failed; first failure: (outcome 1) plugin 'hostile' has 4096 \
                    host operations in flight, the limit: this one was not started";
    let flood = async {
        let answer = get(&runtime, "/api/hostile/flood?n=5000&ms=500").await;
        (answer, js_sys::Date::now())
    };
    let meanwhile = async {
        sleep(100).await;
        let answer = get(&runtime, "/api/hello").await;
        (answer, js_sys::Date::now())
    };
    let ((flooded, flood_done), (hello, hello_done)) = futures::join!(flood, meanwhile);
    assert_eq!((flooded.status, flooded.text()), (200, expected.to_owned()));
    assert_eq!(hello.status, 200, "{}", hello.text());
    assert!(
        hello_done < flood_done,
        "hello answered only after the flood"
    );
    let again = get(&runtime, "/api/hostile/flood?n=5000&ms=1").await;
    assert_eq!((again.status, again.text()), (200, expected.to_owned()));
    assert_recovers(&runtime).await;
    assert_hello_answers(&runtime).await;
}

/// An outbound request or storage command larger than the plugin may send (its max_body_bytes,
/// 1 KiB here, and 1 MiB) fails before it is copied; one at the limit is read (and found not
/// to be a request: it is zeros).
#[wasm_bindgen_test]
async fn messages_over_the_limit_fail_before_they_are_copied() {
    let runtime = Runtime::boot(MANIFEST).await;
    let limit = 1024 + (1 << 20);
    for (path, what, unreadable) in [
        ("fetch-big", "an outbound request", "malformed request"),
        ("kv-big", "a storage command", "malformed storage command"),
    ] {
        let over = get(
            &runtime,
            &format!("/api/hostile-small/{path}?len={}", limit + 1),
        )
        .await;
        let expected = format!(
            "0 ok, 1 failed; first failure: (outcome 1) {what} of {} bytes is larger than \
             plugin 'hostile-small' may send ({limit} bytes: its max_body_bytes and 1 MiB)",
            limit + 1
        );
        assert_eq!((over.status, over.text()), (200, expected));
        let at = get(&runtime, &format!("/api/hostile-small/{path}?len={limit}")).await;
        let read = format!("0 ok, 1 failed; first failure: (outcome 1) {unreadable}");
        assert!(at.text().starts_with(&read), "{path}: {}", at.text());
    }
    let after = get(&runtime, "/api/hostile-small/after").await;
    assert_eq!(after.text(), "hostile at /after");
    assert_hello_answers(&runtime).await;
}

/// Refused operations wait in the runtime until they are delivered: a plugin that keeps starting
/// operations past the quota in one call is stopped (500) before it can take the worker's memory.
#[wasm_bindgen_test]
async fn a_plugin_flooding_the_host_with_operations_is_stopped() {
    let runtime = Runtime::boot(MANIFEST).await;
    let answer = get(&runtime, "/api/hostile/flood?n=1000000&ms=60000").await;
    assert_eq!(answer.status, 500, "{}", answer.text());
    assert!(
        answer.text().contains(
            "plugin 'hostile' broke the plugin ABI: it started more than 8192 host operations \
             in one call"
        ),
        "{}",
        answer.text()
    );
    assert_hello_answers(&runtime).await;
    assert_recovers(&runtime).await;
}
