//! The runtime inside a real service worker, dispatching to real plugin .wasm files that it
//! loads with instantiateStreaming from the test server.
#![cfg(target_arch = "wasm32")]

mod support;

use futures::future::join_all;
use support::{
    answers, assert_echoed, assert_hello_answers, assert_mirrored, binary, distinct_body,
    eventually, fetch, get, request, respond, sample_bodies, send, sleep, url, Answer, MANIFEST,
    METHODS_WITH_BODY,
};
use valor_runtime::Runtime;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_service_worker);

#[wasm_bindgen_test]
async fn hello_answers_through_the_plugin() {
    let runtime = Runtime::boot(MANIFEST).await;
    let answer = get(&runtime, "/api/hello").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text(), "OK response from a plugin");
    assert_eq!(answer.header("x-valor-plugin").as_deref(), Some("hello"));
    assert_eq!(
        answer.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
}

#[wasm_bindgen_test]
async fn echo_sees_every_method_with_path_and_query() {
    let runtime = Runtime::boot(MANIFEST).await;
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PURGE"] {
        let answer = send(
            &runtime,
            request(method, "/api/echo/a/b%20c?x=1&y=two&x=3", &[], None),
        )
        .await;
        assert_eq!(answer.status, 200, "{method}: {}", answer.text());
        let echo = answer.json();
        assert_eq!(echo["method"], method);
        assert_eq!(echo["path"], "/a/b%20c");
        assert_eq!(echo["query"], "x=1&y=two&x=3");
        assert_eq!(answer.header("x-valor-plugin").as_deref(), Some("echo"));
    }
    let echo = get(&runtime, "/api/echo").await.json();
    assert_eq!(echo["path"], "/", "the prefix itself is / to the plugin");
    assert_eq!(echo["query"], serde_json::Value::Null);
}

#[wasm_bindgen_test]
async fn echo_sees_headers_including_repeated_names() {
    let runtime = Runtime::boot(MANIFEST).await;
    let headers = [
        ("x-one", "1"),
        ("x-repeat", "a"),
        ("x-repeat", "b"),
        ("x-latin1", "caf\u{e9}"),
    ];
    let echo = send(&runtime, request("GET", "/api/echo", &headers, None))
        .await
        .json();
    let seen: Vec<(String, String)> = serde_json::from_value(echo["headers"].clone()).unwrap();
    let value = |name: &str| {
        seen.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(value("x-one"), Some("1"));
    // The Fetch standard's Headers join repeated names into one value before any worker sees
    // them; the runtime forwards exactly that.
    assert_eq!(value("x-repeat"), Some("a, b"));
    // 0xE9 crossed as one byte (not UTF-8), which echo shows as the replacement character.
    assert_eq!(value("x-latin1"), Some("caf\u{fffd}"));
}

#[wasm_bindgen_test]
async fn request_bodies_of_every_method_arrive_whole() {
    let runtime = Runtime::boot(MANIFEST).await;
    for (what, body) in sample_bodies() {
        for method in METHODS_WITH_BODY {
            let sent = request(method, "/api/echo/upload", &[], Some(&body));
            let answer = send(&runtime, sent).await;
            assert_echoed(&answer, &body, &format!("{method} with {what}"));
        }
    }
}

#[wasm_bindgen_test]
async fn responses_keep_status_repeated_headers_and_binary_bodies() {
    let runtime = Runtime::boot(MANIFEST).await;
    for size in [0, 3, 4 << 20] {
        let body = binary(size);
        let headers = [
            ("x-status", "207"),
            ("x-reply", "first"),
            ("x-reply", "second"),
        ];
        let answer = send(
            &runtime,
            request("PUT", "/api/mirror", &headers, Some(&body)),
        )
        .await;
        assert_eq!(answer.status, 207);
        assert_eq!(answer.body, body, "{size} bytes came back changed");
        // Two x-reply headers in the plugin's response; web Headers show them joined.
        assert_eq!(answer.header("x-reply").as_deref(), Some("first, second"));
        assert_eq!(answer.header("x-valor-plugin").as_deref(), Some("mirror"));
    }
    let no_content = send(
        &runtime,
        request("GET", "/api/mirror", &[("x-status", "204")], None),
    )
    .await;
    assert_eq!(no_content.status, 204);
}

/// Responses are all built before any is read, and more requests run in between: a response
/// that still pointed into the runtime's memory (as WebKit's `new Response(view)` does) would
/// read what later requests wrote there once its body is finally read.
#[wasm_bindgen_test]
async fn response_bodies_arrive_intact_after_their_memory_is_reused() {
    let runtime = Runtime::boot(MANIFEST).await;
    let bodies: Vec<Vec<u8>> = (0..120).map(distinct_body).collect();
    let responses = join_all(
        bodies
            .iter()
            .map(|body| respond(&runtime, request("PUT", "/api/mirror", &[], Some(body)))),
    )
    .await;
    let hellos =
        join_all((0..100).map(|_| respond(&runtime, request("GET", "/api/hello", &[], None))))
            .await;
    assert_mirrored(responses, &bodies).await;
    for response in hellos {
        let answer = Answer::read(response).await;
        assert_eq!(answer.text(), "OK response from a plugin");
    }
}

/// `http::HeaderMap` panics past about 24,000 distinct names: a page request with 25,000 of them
/// is refused with the reason, and the runtime goes on answering.
#[wasm_bindgen_test]
async fn a_request_with_too_many_headers_is_refused_and_the_runtime_survives() {
    let runtime = Runtime::boot(MANIFEST).await;
    let names: Vec<String> = (0..25_000).map(|i| format!("x-{i}")).collect();
    let headers: Vec<(&str, &str)> = names.iter().map(|name| (name.as_str(), "v")).collect();
    let answer = send(&runtime, request("GET", "/api/echo", &headers, None)).await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert!(
        answer.text().contains("too many distinct header names"),
        "{}",
        answer.text()
    );
    assert_hello_answers(&runtime).await;
}

/// A plugin's answer is never sniffed into another type, and a document it serves runs in an
/// opaque origin (CSP sandbox), unless its entry says `"sandbox": false`.
#[wasm_bindgen_test]
async fn plugin_answers_are_nosniff_and_sandboxed_unless_the_entry_opts_out() {
    let runtime = Runtime::boot(MANIFEST).await;
    let hello = get(&runtime, "/api/hello").await;
    assert_eq!(
        hello.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        hello.header("content-security-policy").as_deref(),
        Some("sandbox")
    );
    let failed = get(&runtime, "/api/panicking/panic").await;
    assert_eq!(failed.status, 500);
    assert_eq!(
        failed.header("content-security-policy").as_deref(),
        Some("sandbox")
    );
    let open = get(&runtime, "/api/unsandboxed").await;
    assert_eq!(open.status, 200);
    assert_eq!(
        open.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(open.header("content-security-policy"), None);
}

#[wasm_bindgen_test]
async fn routes_by_longest_prefix_at_slash_boundaries() {
    let runtime = Runtime::boot(MANIFEST).await;
    let deep = get(&runtime, "/api/echo/deep/x?q").await;
    assert_eq!(deep.header("x-valor-plugin").as_deref(), Some("echo-deep"));
    assert_eq!(deep.json()["path"], "/x");
    let shallow = get(&runtime, "/api/echo/deeper").await;
    assert_eq!(shallow.header("x-valor-plugin").as_deref(), Some("echo"));
    assert_eq!(shallow.json()["path"], "/deeper");
}

#[wasm_bindgen_test]
async fn requests_for_no_plugin_are_left_to_the_network() {
    let runtime = Runtime::boot(MANIFEST).await;
    assert!(answers(&runtime, &url("/api/hello")));
    assert!(answers(&runtime, &url("/api/hello/x?y=1")));
    assert!(answers(&runtime, &url("/api/hello?")));
    assert!(answers(&runtime, &url("/api/hello#part")));
    assert!(!answers(&runtime, &url("/api/helloworld")));
    assert!(!answers(&runtime, &url("/api")));
    assert!(!answers(&runtime, &url("/fixtures/plugins.json")));
    assert!(!answers(&runtime, "https://elsewhere.example/api/hello"));
    // The URL the plugin sees: path relative to its prefix, and the query; never the fragment.
    let echoed = get(&runtime, "/api/echo/a%20b/?q=1#part").await.json();
    assert_eq!(
        (&echoed["path"], &echoed["query"]),
        (&"/a%20b/".into(), &"q=1".into())
    );
}

#[wasm_bindgen_test]
async fn a_manifest_that_cannot_be_parsed_mounts_nothing() {
    let runtime = Runtime::boot("/fixtures/truncated-manifest.json").await;
    assert!(!answers(&runtime, &url("/api/hello")));
    let missing = Runtime::boot("/fixtures/no-such-manifest.json").await;
    assert!(!answers(&missing, &url("/api/hello")));
}

#[wasm_bindgen_test]
async fn plugins_import_nothing_but_the_valor_host_api() {
    for plugin in ["hello", "echo"] {
        let wasm = fetch(request(
            "GET",
            &format!("/fixtures/plugins/{plugin}.wasm"),
            &[],
            None,
        ))
        .await;
        assert_eq!(wasm.status, 200);
        let module =
            js_sys::WebAssembly::Module::new(&js_sys::Uint8Array::from(&wasm.body[..])).unwrap();
        for import in js_sys::WebAssembly::Module::imports(&module).iter() {
            let module_name = js_sys::Reflect::get(&import, &"module".into()).unwrap();
            let name = js_sys::Reflect::get(&import, &"name".into()).unwrap();
            assert_eq!(
                module_name.as_string().as_deref(),
                Some(valor_abi::IMPORT_MODULE),
                "{plugin}.wasm imports {name:?} from {module_name:?}"
            );
        }
    }
}

/// After a trap, requests that arrive together wait for one fresh instance: all of them are
/// served by it (its counter runs 1..=20), rather than each making (and counting on) its own.
#[wasm_bindgen_test]
async fn after_a_trap_one_instance_is_created_for_all_waiting_requests() {
    let runtime = Runtime::boot(MANIFEST).await;
    assert_eq!(get(&runtime, "/api/panicking/panic").await.status, 500);
    let counts = join_all((0..20).map(|_| get(&runtime, "/api/panicking/count"))).await;
    let mut counts: Vec<u32> = counts.iter().map(|a| a.text().parse().unwrap()).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=20).collect::<Vec<_>>());
}

/// A module whose server failed once (503) is loaded again by a request after the backoff
/// (1 s after a first failure), not left failed until the worker restarts; requests during the
/// backoff answer 502 without fetching it again.
#[wasm_bindgen_test]
async fn a_plugin_that_failed_to_load_is_loaded_again_after_a_pause() {
    // The worker's own fetch, made to answer 503 to the first request for the flaky module.
    let flaky = support::patch_fetch(
        "if (!url.endsWith('?flaky')) return undefined;
         globalThis.__flakyFetches = (globalThis.__flakyFetches ?? 0) + 1;
         return globalThis.__flakyFetches === 1
           ? Promise.resolve(new Response('try later', { status: 503 }))
           : undefined;",
    );
    let fetches = || {
        js_sys::Reflect::get(&js_sys::global(), &"__flakyFetches".into())
            .unwrap()
            .as_f64()
    };
    let runtime = Runtime::boot(MANIFEST).await;
    let first = get(&runtime, "/api/flaky").await;
    let second = get(&runtime, "/api/flaky").await;
    let during_backoff = fetches();
    support::sleep(1100).await;
    let after = get(&runtime, "/api/flaky").await;
    drop(flaky);

    assert_eq!(first.status, 502, "{}", first.text());
    assert!(first.text().contains("answered 503"), "{}", first.text());
    assert!(
        first.text().contains("loaded again on a request in 1 s"),
        "{}",
        first.text()
    );
    assert_eq!(second.status, 502);
    assert_eq!(during_backoff, Some(1.0), "no new fetch during the backoff");
    assert_eq!(
        (after.status, after.text()),
        (200, "OK response from a plugin".into())
    );
    assert_eq!(fetches(), Some(2.0));
}

/// The time limit covers loading: a module whose fetch never settles answers 504 at the
/// entry's `timeout_ms` (300 ms here) instead of holding the request for ever.
#[wasm_bindgen_test]
async fn a_module_that_never_arrives_answers_504_at_the_time_limit() {
    let hanging =
        support::patch_fetch("return url.endsWith('?hang') ? new Promise(() => {}) : undefined;");
    let runtime = Runtime::boot(MANIFEST).await;
    let answer = get(&runtime, "/api/unreachable").await;
    drop(hanging);
    assert_eq!(answer.status, 504, "{}", answer.text());
    assert_eq!(
        answer.text(),
        "plugin 'unreachable' did not answer within 300 ms\n"
    );
    assert_hello_answers(&runtime).await;
}

/// The runtime keeps each module it rewrote for its limits, so that the next start compiles the
/// kept copy instead of rewriting again; a kept copy that does not compile is replaced. (A copy
/// whose bytes changed in the cache is dropped before it is compiled: e2e/revalidate.test.mjs.)
#[wasm_bindgen_test]
async fn rewritten_modules_are_kept_and_a_broken_copy_is_replaced() {
    let runtime = Runtime::boot(MANIFEST).await;
    assert_hello_answers(&runtime).await;
    let kept = || async {
        let caches: web_sys::CacheStorage =
            js_sys::Reflect::get(&js_sys::global(), &"caches".into())
                .unwrap()
                .unchecked_into();
        let cache: web_sys::Cache = JsFuture::from(caches.open("valor:rewritten"))
            .await
            .unwrap()
            .unchecked_into();
        let keys: js_sys::Array = JsFuture::from(cache.keys()).await.unwrap().unchecked_into();
        let hello: Vec<String> = keys
            .iter()
            .map(|request| request.unchecked_into::<web_sys::Request>().url())
            .filter(|url| url.contains("/plugins/hello.wasm?valor-rewritten="))
            .collect();
        (cache, hello)
    };
    // Kept in the background, once per limits (hello.wasm is mounted under several names).
    assert!(
        eventually(|| async { !kept().await.1.is_empty() }).await,
        "hello.wasm's rewritten copy was not kept"
    );
    let copies = kept().await.1;

    // Broken copies, kept whole (with the digest of their bytes, so that the engine, not the
    // digest check, refuses them, and made from the same module): the next start rewrites the
    // module again, and keeps a good copy.
    let (cache, _) = kept().await;
    let kept_response = JsFuture::from(cache.match_with_str(&copies[0]))
        .await
        .unwrap()
        .unchecked_into::<web_sys::Response>();
    let made_from = kept_response
        .headers()
        .get(valor_runtime::REWRITTEN_FROM_HEADER)
        .unwrap()
        .expect("a rewritten copy says which module it was made from");
    let not_wasm = js_sys::Uint8Array::from(&b"not wasm"[..]).buffer();
    let digest = valor_runtime::integrity::check(&not_wasm, None)
        .await
        .unwrap();
    for key in &copies {
        let init = web_sys::ResponseInit::new();
        let headers = web_sys::Headers::new().unwrap();
        headers.set("content-type", "application/wasm").unwrap();
        headers.set("x-valor-digest", &digest).unwrap();
        headers
            .set(valor_runtime::REWRITTEN_FROM_HEADER, &made_from)
            .unwrap();
        init.set_headers(&headers);
        let broken = web_sys::Response::new_with_opt_str_and_init(Some("not wasm"), &init).unwrap();
        JsFuture::from(cache.put_with_str(key, &broken))
            .await
            .unwrap();
    }
    let again = Runtime::boot(MANIFEST).await;
    assert_hello_answers(&again).await;
    let mut repaired = false;
    for _ in 0..100 {
        // Removed at once, kept again in the background.
        let found = JsFuture::from(cache.match_with_str(&copies[0]))
            .await
            .unwrap();
        if let Ok(response) = found.dyn_into::<web_sys::Response>() {
            let bytes = JsFuture::from(response.array_buffer().unwrap())
                .await
                .unwrap();
            if js_sys::Uint8Array::new(&bytes)
                .to_vec()
                .starts_with(b"\0asm")
            {
                repaired = true;
                break;
            }
        }
        sleep(20).await;
    }
    assert!(repaired, "the broken copy was not replaced");
}

/// `/fixtures/rewriter.json`: hello.wasm metered with limits of its own (so no other test keeps
/// its rewritten copies), twice, and unmetered.
const REWRITER_MANIFEST: &str = "/fixtures/rewriter.json";

/// The module rewriter is loaded only to rewrite: a start that finds the rewritten copy it kept
/// answers without it. Without it, a module that must be rewritten answers 502 saying so, and
/// the other plugins still answer.
#[wasm_bindgen_test]
async fn the_module_rewriter_is_needed_only_to_rewrite() {
    let cache = "valor-rewriter-test";
    let first = Runtime::boot_with_cache(REWRITER_MANIFEST, cache).await;
    assert_eq!(get(&first, "/api/kept/").await.status, 200);
    // Kept in the background.
    let kept = eventually(|| async {
        let keys = cache_keys(&format!("{cache}:rewritten")).await;
        keys.iter().any(|key| key.contains("/plugins/hello.wasm?"))
    });
    assert!(kept.await, "the rewritten copy was not kept");

    let missing = url("/valor/no-such-meter.wasm");
    let runtime = Runtime::boot_with_meter(REWRITER_MANIFEST, cache, &missing).await;
    let answer = get(&runtime, "/api/kept/").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = get(&runtime, "/api/fresh/").await;
    assert_eq!(answer.status, 502, "{}", answer.text());
    for expected in ["module rewriter", "no-such-meter.wasm", "404"] {
        assert!(
            answer.text().contains(expected),
            "{expected:?} not in {}",
            answer.text()
        );
    }
    assert_eq!(get(&runtime, "/api/unmetered/").await.status, 200);
}

/// A module rewriter that traps (a bug in it) fails the load of the plugin it was rewriting, with
/// the panic's message: the runtime, and the plugins that need no rewriting, go on.
#[wasm_bindgen_test]
async fn a_rewriter_that_traps_fails_one_load_not_the_runtime() {
    let trapping = url("/fixtures/plugins/trapping-meter.wasm");
    let runtime =
        Runtime::boot_with_meter(REWRITER_MANIFEST, "valor-trapping-rewriter-test", &trapping)
            .await;
    let answer = get(&runtime, "/api/fresh/").await;
    assert_eq!(answer.status, 502, "{}", answer.text());
    for expected in [
        "the module rewriter failed on it",
        "panicked at analysis.rs: a bug",
    ] {
        assert!(
            answer.text().contains(expected),
            "{expected:?} not in {}",
            answer.text()
        );
    }
    assert_eq!(get(&runtime, "/api/unmetered/").await.status, 200);
}

/// The URLs of the requests kept in the Cache Storage cache `name`.
async fn cache_keys(name: &str) -> Vec<String> {
    let caches: web_sys::CacheStorage = js_sys::Reflect::get(&js_sys::global(), &"caches".into())
        .unwrap()
        .unchecked_into();
    let cache: web_sys::Cache = JsFuture::from(caches.open(name))
        .await
        .unwrap()
        .unchecked_into();
    let keys: js_sys::Array = JsFuture::from(cache.keys()).await.unwrap().unchecked_into();
    keys.iter()
        .map(|request| request.unchecked_into::<web_sys::Request>().url())
        .collect()
}

/// An entry with `"eager": true` is loaded when the runtime starts, before any request; the
/// others on their first request. An eager plugin that fails to load answers as a lazy one does.
#[wasm_bindgen_test]
async fn eager_plugins_load_before_their_first_request() {
    let runtime = Runtime::boot("/fixtures/eager.json").await;
    let loaded = eventually(|| async { performance_marked("valor:eager-hello:instantiated") });
    assert!(
        loaded.await,
        "the eager plugin was not loaded without a request"
    );
    assert!(
        !performance_marked("valor:lazy-hello:load"),
        "a plugin without `eager` was loaded without a request"
    );
    assert_eq!(get(&runtime, "/api/eager/").await.status, 200);
    assert_eq!(get(&runtime, "/api/lazy/").await.status, 200);
    let missing = get(&runtime, "/api/eager-missing/").await;
    assert_eq!(missing.status, 502, "{}", missing.text());
    assert!(
        missing.text().contains("does-not-exist.wasm"),
        "{}",
        missing.text()
    );
}

/// Whether the worker's performance timeline has a mark called `name`.
fn performance_marked(name: &str) -> bool {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let entries_by_name: js_sys::Function =
        js_sys::Reflect::get(&performance, &"getEntriesByName".into())
            .unwrap()
            .unchecked_into();
    let entries: js_sys::Array = entries_by_name
        .call1(&performance, &name.into())
        .unwrap()
        .unchecked_into();
    entries.length() > 0
}

/// The SDK's `Router`, status-carrying errors, header arrays, redirects and query parsing, in a
/// plugin built for wasm32 and run by the runtime.
#[wasm_bindgen_test]
async fn a_routed_plugin_answers_by_path_and_method() {
    let runtime = Runtime::boot(MANIFEST).await;
    let answer = get(&runtime, "/api/routed/items?page=2").await;
    assert_eq!((answer.status, answer.text()), (200, "page 2".into()));
    let answer = get(&runtime, "/api/routed/items?page=two").await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    let answer = get(&runtime, "/api/routed/items/7").await;
    assert_eq!((answer.status, answer.text()), (200, "item 7".into()));
    let answer = get(&runtime, "/api/routed/items/0").await;
    assert_eq!((answer.status, answer.text()), (404, "no item 0".into()));
    let answer = send(&runtime, request("POST", "/api/routed/items", &[], None)).await;
    assert_eq!(answer.status, 201);
    assert_eq!(
        answer.header("location").as_deref(),
        Some("/api/routed/items/7")
    );
    assert_eq!(answer.text(), "7");
    let answer = send(
        &runtime,
        request("DELETE", "/api/routed/items/7", &[], None),
    )
    .await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow").as_deref(), Some("GET, HEAD"));
    assert_eq!(get(&runtime, "/api/routed/nothing").await.status, 404);
    let answer = get(&runtime, "/api/routed/old").await;
    assert_eq!(answer.status, 308);
    assert_eq!(
        answer.header("location").as_deref(),
        Some("/api/routed/items")
    );
}
