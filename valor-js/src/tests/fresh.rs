//! A script started afresh (after it was stopped) gets a prelude of its own: what an earlier
//! script set on the globals, its own or the prelude's, is not seen, although every script's
//! prelude is read from the same bytecode.

use crate::{serve as engine, start};
use vlugin::test::{request, serve, Host};

const SCRIPT: &str = r#"
export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/mark') {
      globalThis.marked = 'script';
      Response.marked = 'prelude';
      Response.prototype.marked = 'prototype';
      return new Response('marked');
    }
    if (path === '/loop') for (;;) {}
    return Response.json([typeof marked, typeof Response.marked, typeof new Response().marked]);
  },
};
"#;

fn answer(path: &str) -> (u16, String) {
    let served = serve(engine, request("GET", path, ""));
    let response = served.response();
    (
        response.status().as_u16(),
        response.body().text().unwrap().to_owned(),
    )
}

#[test]
fn a_script_started_afresh_sees_nothing_an_earlier_one_set() {
    let _host = Host::new()
        .config(serde_json::json!({
            "source": SCRIPT,
            "url": "https://example.com/plugins/fresh.mjs",
            "memory_mb": 64,
            "fuel": 10_000_000,
        }))
        .install();
    start().unwrap();
    let unset = r#"["undefined","undefined","undefined"]"#;
    assert_eq!(answer("/seen"), (200, unset.into()));
    assert_eq!(answer("/mark"), (200, "marked".into()));
    let set = r#"["string","string","string"]"#;
    assert_eq!(
        answer("/seen"),
        (200, set.into()),
        "a script keeps its state"
    );
    assert_eq!(answer("/loop").0, 504);
    assert_eq!(answer("/seen"), (200, unset.into()));
}
