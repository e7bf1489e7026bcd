//! The limits of a plugin's entry (`fuel`, `memory_mb`), enforced in a real service worker on
//! hand-written hostile modules: a loop or a memory hog costs the request that ran it and the
//! instance, never the worker, and the other plugins keep answering during and after.
#![cfg(target_arch = "wasm32")]

mod support;

use support::{assert_hello_answers, assert_hostile_recovers, get, Answer, MANIFEST};
use valor_runtime::Runtime;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_service_worker);

fn assert_answer(answer: &Answer, status: u16, text: &str) {
    assert_eq!(answer.status, status, "{}", answer.text());
    assert!(
        answer.text().contains(text),
        "expected {text:?} in {:?}",
        answer.text()
    );
}

#[wasm_bindgen_test]
async fn a_handler_that_loops_for_ever_answers_504_at_the_default_fuel() {
    let runtime = Runtime::boot(MANIFEST).await;
    let started = js_sys::Date::now();
    let answer = get(&runtime, "/api/hostile/spin").await;
    let took = js_sys::Date::now() - started;
    assert_answer(
        &answer,
        504,
        "plugin 'hostile' used up its fuel (1000000000 instructions per call",
    );
    web_sys::console::log_1(&format!("the default fuel ran out after {took} ms").into());
    assert_hello_answers(&runtime).await;
    assert_hostile_recovers(&runtime, "hostile").await;
}

#[wasm_bindgen_test]
async fn a_loop_in_valor_alloc_answers_504() {
    let runtime = Runtime::boot(MANIFEST).await;
    assert_eq!(get(&runtime, "/api/frugal/alloc-spin").await.status, 200);
    let answer = get(&runtime, "/api/frugal/next").await;
    assert_answer(
        &answer,
        504,
        "plugin 'frugal' used up its fuel (10000000 instructions",
    );
    assert_hello_answers(&runtime).await;
    assert_hostile_recovers(&runtime, "frugal").await;
}

#[wasm_bindgen_test]
async fn loops_while_loading_make_the_plugin_unavailable_with_the_reason() {
    let runtime = Runtime::boot(MANIFEST).await;
    for (plugin, stage) in [
        ("spin-start", "its start function"),
        ("spin-init", "valor_init"),
    ] {
        let answer = get(&runtime, &format!("/api/{plugin}/x")).await;
        let expected = format!(
            "{stage} used up its fuel (10000000 instructions per call, the entry's `fuel`)"
        );
        assert_answer(&answer, 502, &expected);
        assert_hello_answers(&runtime).await;
    }
}

/// The rewriter adds globals and functions after the module's own: an invalid module naming
/// indices past its own would reach them (and refill its fuel) once rewritten. It is refused.
#[wasm_bindgen_test]
async fn a_module_that_is_not_valid_is_refused_before_it_is_rewritten() {
    let runtime = Runtime::boot(MANIFEST).await;
    let answer = get(&runtime, "/api/refuel-itself/x").await;
    assert_answer(
        &answer,
        502,
        "refuel-itself.wasm is not a valid WebAssembly module",
    );
    assert_hello_answers(&runtime).await;
}

#[wasm_bindgen_test]
async fn a_plugin_that_keeps_running_out_of_fuel_is_quarantined() {
    let runtime = Runtime::boot(MANIFEST).await;
    for _ in 0..3 {
        let answer = get(&runtime, "/api/frugal/spin").await;
        assert_answer(&answer, 504, "used up its fuel");
    }
    // Quarantined: not even run, whatever the path.
    let answer = get(&runtime, "/api/frugal/fine").await;
    assert_answer(
        &answer,
        503,
        "plugin 'frugal' is quarantined for 1 s more: its last 3 requests used up their fuel",
    );
    assert_hello_answers(&runtime).await;
    support::sleep(1_100).await;
    assert_hostile_recovers(&runtime, "frugal").await;
}

#[wasm_bindgen_test]
async fn memory_past_memory_mb_answers_503_and_the_instance_is_replaced() {
    let runtime = Runtime::boot(MANIFEST).await;
    for plugin in ["hostile-tight", "hostile-trusted"] {
        let fits = get(&runtime, &format!("/api/{plugin}/hog?mb=8")).await;
        assert_eq!(fits.status, 200, "{plugin}: {}", fits.text());
        let answer = get(&runtime, &format!("/api/{plugin}/hog?mb=40")).await;
        let expected = format!(
            "plugin '{plugin}' needed more memory than its limit of 32 MiB (its manifest entry's \
             `memory_mb`); its instance was discarded"
        );
        assert_answer(&answer, 503, &expected);
        assert_hello_answers(&runtime).await;
        assert_hostile_recovers(&runtime, plugin).await;
    }
}

#[wasm_bindgen_test]
async fn exports_of_the_wrong_kind_are_refused_with_the_reason() {
    let runtime = Runtime::boot(MANIFEST).await;
    for (plugin, reason) in [
        (
            "memory-global",
            "its `memory` export is not a WebAssembly memory",
        ),
        (
            "poll-arity",
            "its `valor_poll` export takes 2 parameters, the ABI says 1",
        ),
    ] {
        let answer = get(&runtime, &format!("/api/{plugin}/x")).await;
        assert_answer(&answer, 502, reason);
        assert_hello_answers(&runtime).await;
    }
}
