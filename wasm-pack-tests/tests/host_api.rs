//! Plugins that wait on the host: timers and concurrency, cancellation, time limits, outbound
//! fetch under the allowlist, key-value storage, randomness, time, logs and config, all in a
//! real service worker with the real `host-api` plugin (fixtures/plugins.json mounts it three
//! times with different settings).
#![cfg(target_arch = "wasm32")]

mod support;

use futures::future::join_all;
use support::{get, request, respond, send, sleep, url, MANIFEST};
use valor_runtime::Runtime;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_service_worker);

async fn stats(runtime: &Runtime, mount: &str) -> serde_json::Value {
    get(runtime, &format!("/api/{mount}/stats")).await.json()
}

#[wasm_bindgen_test]
async fn many_requests_are_in_flight_in_one_instance_at_once() {
    let runtime = Runtime::boot(MANIFEST).await;
    assert_eq!(get(&runtime, "/api/host/reset").await.status, 204);
    let answers = join_all((0..100).map(|_| get(&runtime, "/api/host/sleep?ms=100"))).await;
    assert!(answers
        .iter()
        .all(|a| a.status == 200 && a.text() == "slept 100 ms"));
    let stats = stats(&runtime, "host").await;
    let max = stats["max_in_flight"].as_u64().unwrap();
    // Proved by the plugin's own counter, not by timing: handlers interleaved while sleeping.
    assert!(max > 1, "at most {max} request(s) were in flight at once");
    assert_eq!(
        (stats["finished"].as_u64(), stats["in_flight"].as_u64()),
        (Some(100), Some(0))
    );
    web_sys::console::log_1(&format!("100 concurrent sleeps: {max} in flight at once").into());
}

#[wasm_bindgen_test]
async fn an_aborted_request_drops_its_task_in_the_plugin() {
    let runtime = Runtime::boot(MANIFEST).await;
    get(&runtime, "/api/host/reset").await;
    let controller = web_sys::AbortController::new().unwrap();
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&controller.signal()));
    let slow =
        web_sys::Request::new_with_str_and_init(&url("/api/host/sleep?ms=20000"), &init).unwrap();
    let answer = respond(&runtime, slow);
    let abort = async {
        sleep(100).await;
        assert_eq!(
            stats(&runtime, "host").await["in_flight"],
            1,
            "the request is under way"
        );
        controller.abort();
    };
    let (_, ()) = futures::join!(answer, abort);
    let stats = stats(&runtime, "host").await;
    assert_eq!(
        (stats["dropped"].as_u64(), stats["in_flight"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        stats["finished"], 0,
        "no late answer: the handler never finished"
    );
}

#[wasm_bindgen_test]
async fn a_handler_past_its_time_limit_answers_504_and_is_dropped() {
    let runtime = Runtime::boot(MANIFEST).await;
    let answer = get(&runtime, "/api/impatient/forever").await;
    assert_eq!(answer.status, 504);
    assert_eq!(
        answer.text(),
        "plugin 'impatient' did not answer within 200 ms\n"
    );
    assert_eq!(
        answer.header("x-valor-plugin").as_deref(),
        Some("impatient")
    );
    assert_eq!(stats(&runtime, "impatient").await["dropped"], 1);
}

#[wasm_bindgen_test]
async fn outbound_fetch_reaches_allowed_hosts_only() {
    let runtime = Runtime::boot(MANIFEST).await;
    // "self" allows the app's origin: a plugin path is answered by that plugin...
    let hello = get(&runtime, "/api/host/fetch?url=/api/hello").await.json();
    assert_eq!(hello["status"], 200);
    assert_eq!(hello["via"], "hello");
    assert_eq!(hello["body"], "OK response from a plugin");
    // ...any other path goes to the network, and an HTTP error is an answer, not an error.
    let file = get(&runtime, "/api/host/fetch?url=/fixtures/plugins.json")
        .await
        .json();
    assert_eq!(
        (file["status"].as_u64(), file["via"].is_null()),
        (Some(200), true)
    );
    assert!(file["body"].as_str().unwrap().contains("\"plugins\""));
    let missing = get(&runtime, "/api/host/fetch?url=/fixtures/no-such-file")
        .await
        .json();
    assert_eq!(missing["status"], 404);

    // Without an allowed_hosts entry, nothing goes out; the message says how to allow it.
    let denied = get(&runtime, "/api/host-other/fetch?url=/api/hello").await;
    assert_eq!(denied.status, 403);
    let message = denied.text();
    assert!(
        message.contains("plugin 'host-api-other' may not reach host"),
        "{message}"
    );
    assert!(
        message.contains("add \"self\" to \"allowed_hosts\""),
        "{message}"
    );
    // The test server's port is not a default one: the entry to add names it.
    let other_host = url("/x").replace("127.0.0.1", "localhost");
    let port = support::origin().rsplit(':').next().unwrap().to_owned();
    let denied = get(&runtime, &format!("/api/host/fetch?url={other_host}")).await;
    assert_eq!(denied.status, 403);
    assert!(
        denied
            .text()
            .contains(&format!("add \"localhost:{port}\" to \"allowed_hosts\"")),
        "{}",
        denied.text()
    );
}

#[wasm_bindgen_test]
async fn plugins_fetching_themselves_stop_at_the_nesting_limit() {
    let runtime = Runtime::boot(MANIFEST).await;
    let answer = get(&runtime, "/api/host/loop").await;
    assert_eq!(answer.status, 508, "{}", answer.text());
    assert!(
        answer.text().contains("nested plugin fetches"),
        "{}",
        answer.text()
    );
}

#[wasm_bindgen_test]
async fn key_value_data_survives_a_new_runtime_and_stays_in_its_namespace() {
    let value = support::binary(3000);
    let first = Runtime::boot(MANIFEST).await;
    let put = send(
        &first,
        request("PUT", "/api/host/kv?key=shared/name", &[], Some(&value)),
    )
    .await;
    assert_eq!(put.status, 204, "{}", put.text());
    drop(first);

    // As after a service-worker restart: a new runtime, new instances, same IndexedDB.
    let second = Runtime::boot(MANIFEST).await;
    assert_eq!(
        get(&second, "/api/host/kv?key=shared/name").await.body,
        value
    );
    let keys = get(&second, "/api/host/kv/keys?prefix=shared/")
        .await
        .json();
    assert_eq!(keys, serde_json::json!(["shared/name"]));

    // The same .wasm under another name has its own namespace.
    assert_eq!(
        get(&second, "/api/host-other/kv?key=shared/name")
            .await
            .status,
        404
    );
    assert_eq!(
        get(&second, "/api/host-other/kv/keys?prefix=").await.json(),
        serde_json::json!([])
    );
    let mine = send(
        &second,
        request(
            "PUT",
            "/api/host-other/kv?key=shared/name",
            &[],
            Some(b"other"),
        ),
    )
    .await;
    assert_eq!(mine.status, 204);
    assert_eq!(
        get(&second, "/api/host/kv?key=shared/name").await.body,
        value
    );

    for mount in ["host", "host-other"] {
        let deleted = send(
            &second,
            request(
                "DELETE",
                &format!("/api/{mount}/kv?key=shared/name"),
                &[],
                None,
            ),
        )
        .await;
        assert_eq!(deleted.status, 204);
    }
    assert_eq!(
        get(&second, "/api/host/kv?key=shared/name").await.status,
        404
    );
}

#[wasm_bindgen_test]
async fn config_is_per_mount() {
    let runtime = Runtime::boot(MANIFEST).await;
    assert_eq!(
        get(&runtime, "/api/host/config").await.json(),
        serde_json::json!({ "who": "tests" })
    );
    assert_eq!(
        get(&runtime, "/api/host-other/config").await.json(),
        serde_json::Value::Null
    );
}

#[wasm_bindgen_test]
async fn randomness_reaches_getrandom_users_and_time_is_the_wall_clock() {
    let runtime = Runtime::boot(MANIFEST).await;
    let (a, b) = (
        get(&runtime, "/api/host/random").await.json(),
        get(&runtime, "/api/host/random").await.json(),
    );
    let uuid = a["uuid"].as_str().unwrap();
    assert_eq!((uuid.len(), &uuid[14..15]), (36, "4"), "a v4 uuid: {uuid}");
    assert_ne!(a["uuid"], b["uuid"]);
    assert_ne!(a["bytes"], b["bytes"]);
    assert!(a["bytes"].as_array().unwrap().iter().any(|byte| byte != 0));

    let now = get(&runtime, "/api/host/now").await.json()["ms"]
        .as_f64()
        .unwrap();
    assert!(
        (now - js_sys::Date::now()).abs() < 60_000.0,
        "plugin time {now}"
    );
}

#[wasm_bindgen_test]
async fn logs_reach_the_console_with_the_plugins_name_and_level() {
    // Record what the console receives, then call the plugin.
    let spy = js_sys::Function::new_no_args(
        "globalThis.__valorLogs = [];
         for (const level of ['error', 'warn', 'info', 'debug']) {
           const original = console[level].bind(console);
           console[level] = (...args) => { globalThis.__valorLogs.push(level + ' ' + args.join(' ')); original(...args); };
         }",
    );
    spy.call0(&wasm_bindgen::JsValue::UNDEFINED).unwrap();
    let runtime = Runtime::boot(MANIFEST).await;
    assert_eq!(get(&runtime, "/api/host/log").await.text(), "logged");
    let logs: js_sys::Array = js_sys::Reflect::get(&js_sys::global(), &"__valorLogs".into())
        .unwrap()
        .unchecked_into();
    let logs: Vec<String> = logs.iter().filter_map(|line| line.as_string()).collect();
    for expected in [
        "error [valor:host-api] an error line",
        "warn [valor:host-api] a warning line",
        "info [valor:host-api] an info line",
        "debug [valor:host-api] a debug line",
    ] {
        assert!(
            logs.iter().any(|line| line == expected),
            "{expected:?} not in {logs:?}"
        );
    }
}

/// Requests waiting on the host when another request crashes the instance did not fail
/// themselves. Those that cannot have had an effect outside the plugin (a GET, or a handler that
/// only slept) run again on the fresh instance and answer normally; one that had written to
/// storage answers 503 saying its instance was lost, never quoting the other's panic.
#[wasm_bindgen_test]
async fn requests_in_flight_when_another_panics_are_replayed_unless_they_had_effects() {
    let runtime = Runtime::boot(MANIFEST).await;
    let send = |method: &str, path: &str| {
        support::send(&runtime, support::request(method, path, &[], None))
    };
    let read = get(&runtime, "/api/host/sleep?ms=500");
    let slept = send("POST", "/api/host/sleep?ms=500");
    let wrote = send("PUT", "/api/host/kv?key=replay&sleep=500");
    let panicking = async {
        sleep(100).await;
        get(&runtime, "/api/host/panic").await
    };
    let (read, slept, wrote, panicked) = futures::join!(read, slept, wrote, panicking);
    assert_eq!(panicked.status, 500);
    assert!(
        panicked.text().contains("deliberate panic in host-api"),
        "{}",
        panicked.text()
    );
    for replayed in [&read, &slept] {
        assert_eq!(
            (replayed.status, replayed.text()),
            (200, "slept 500 ms".into())
        );
    }
    assert_eq!(wrote.status, 503, "{}", wrote.text());
    assert!(
        wrote.text().contains("lost the instance"),
        "{}",
        wrote.text()
    );
    assert!(wrote.text().contains("not run again"), "{}", wrote.text());
    assert!(!wrote.text().contains("deliberate"), "{}", wrote.text());
    assert_eq!(
        get(&runtime, "/api/host/sleep?ms=1").await.text(),
        "slept 1 ms"
    );
}

/// Requests woken in the same turn as one that panics: its panic breaks the instance before
/// they are polled again. They did not fail: each runs again on a new instance (a sleep has no
/// effect outside the plugin) and answers normally; only the panicking one answers 500.
#[wasm_bindgen_test]
async fn requests_woken_with_one_that_panics_are_not_told_its_failure() {
    let runtime = Runtime::boot(MANIFEST).await;
    // Sent first, its sleep ends first of those that end together.
    let panicking = get(&runtime, "/api/host/sleep?ms=30&panic=1");
    let others = join_all((0..20).map(|_| get(&runtime, "/api/host/sleep?ms=30")));
    let (panicked, others) = futures::join!(panicking, others);
    assert_eq!(panicked.status, 500, "{}", panicked.text());
    assert!(panicked
        .text()
        .contains("deliberate panic after sleeping 30 ms"));
    for other in others {
        assert_eq!((other.status, other.text()), (200, "slept 30 ms".into()));
    }
}

/// A response's head is read from its first 512 bytes, then from its first 16 KiB, then whole:
/// heads of each size arrive intact, with their bodies.
#[wasm_bindgen_test]
async fn responses_with_long_heads_arrive_whole() {
    let runtime = Runtime::boot(MANIFEST).await;
    for (count, size, body_kib) in [(3, 10, 0), (20, 100, 1), (40, 1000, 1024)] {
        let path = format!("/api/host/headers?count={count}&size={size}&body_kib={body_kib}");
        let answer = get(&runtime, &path).await;
        assert_eq!(
            answer.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        for i in [0, count - 1] {
            assert_eq!(
                answer.header(&format!("x-h{i}")),
                Some("v".repeat(size)),
                "{path}"
            );
        }
        assert_eq!(answer.body.len(), body_kib << 10, "{path}");
        assert!(answer.body.iter().all(|&b| b == b'b'), "{path}");
    }
}

#[wasm_bindgen_test]
async fn concurrent_updates_of_one_key_lose_nothing() {
    let runtime = Runtime::boot(MANIFEST).await;
    let key = "/api/host/kv?key=counters/bumped";
    assert_eq!(
        send(&runtime, request("DELETE", key, &[], None))
            .await
            .status,
        204
    );
    // All of them read the same value first: every write after the first meets a newer value
    // and retries from it, in one storage transaction per attempt.
    let bumps = join_all((0..40).map(|_| {
        send(
            &runtime,
            request("POST", "/api/host/kv/bump?key=counters/bumped", &[], None),
        )
    }))
    .await;
    assert!(
        bumps.iter().all(|b| b.status == 200),
        "{:?}",
        bumps.iter().map(|b| b.text()).collect::<Vec<_>>()
    );
    let mut seen: Vec<u64> = bumps.iter().map(|b| b.text().parse().unwrap()).collect();
    seen.sort_unstable();
    // Each request saw its own new value: no two read-modify-writes overlapped.
    assert_eq!(seen, (1..=40).collect::<Vec<u64>>());
    assert_eq!(get(&runtime, key).await.text(), "40");
}

#[wasm_bindgen_test]
async fn a_scan_lists_keys_and_values_of_a_prefix_in_order() {
    let runtime = Runtime::boot(MANIFEST).await;
    for (key, value) in [
        ("scan/b", "2"),
        ("scan/a", "1"),
        ("scanner", "x"),
        ("scan/c/d", "3"),
    ] {
        let put = request(
            "PUT",
            &format!("/api/host/kv?key={key}"),
            &[],
            Some(value.as_bytes()),
        );
        assert_eq!(send(&runtime, put).await.status, 204);
    }
    assert_eq!(
        get(&runtime, "/api/host/kv/scan?prefix=scan/").await.json(),
        serde_json::json!([["scan/a", "1"], ["scan/b", "2"], ["scan/c/d", "3"]])
    );
    // Another plugin's namespace holds none of them.
    assert_eq!(
        get(&runtime, "/api/host-other/kv/scan?prefix=scan")
            .await
            .json(),
        serde_json::json!([])
    );
}

#[wasm_bindgen_test]
async fn a_plugin_knows_its_mount_the_origin_and_the_url_asked_for() {
    let runtime = Runtime::boot(MANIFEST).await;
    let site = get(&runtime, "/api/host-other/site?x=1").await.json();
    assert_eq!(site["mount"], "/api/host-other");
    assert_eq!(site["origin"], support::origin());
    assert_eq!(site["url"], url("/api/host-other/site?x=1"));
    assert_eq!(site["todo"], url("/api/host-other/todos/7"));
}

#[wasm_bindgen_test]
async fn a_value_over_max_body_bytes_is_not_stored() {
    let runtime = Runtime::boot(MANIFEST).await;
    let put = |repeat: u32| {
        let path = format!("/api/host-small/kv?key=big&repeat={repeat}");
        send(&runtime, request("PUT", &path, &[], Some(&[b'v'; 512])))
    };
    assert_eq!(put(2).await.status, 204, "1,024 bytes fit");
    let refused = put(3).await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(
        refused.text().contains(
            "the value for \"big\" is 1536 bytes, more than plugin 'host-api-small' may store \
             (1024 bytes: its max_body_bytes)"
        ),
        "{}",
        refused.text()
    );
    // What was stored before is still there, whole.
    assert_eq!(
        get(&runtime, "/api/host-small/kv?key=big").await.body.len(),
        1024
    );
}
