//! The same from a classic script's `fetch` event: `event.waitUntil`, and a streamed answer
//! given to `event.respondWith`.

use crate::{serve as engine, start};
use vlugin::test::{request, serve, Frame, Host};

const SCRIPT: &str = r#"
addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname === '/after') {
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    event.waitUntil(sleep(250).then(() => sleep(250)).then(() => kv.set('after', 'done')));
    event.respondWith(new Response('answered'));
    return;
  }
  event.respondWith(new Response(new ReadableStream({
    start(controller) {
      controller.enqueue('streamed ');
      controller.enqueue(new TextEncoder().encode('bytes'));
      controller.close();
    },
  })));
});
"#;

#[test]
fn a_fetch_event_waits_until_and_streams() {
    let host = Host::new()
        .now(0.0)
        .config(serde_json::json!({
            "source": SCRIPT,
            "url": "https://example.com/plugins/events.js",
            "memory_mb": 64,
        }))
        .install();
    start().unwrap();

    let served = serve(engine, request("GET", "/after", ""));
    assert_eq!(served.response().body().text().unwrap(), "answered");
    assert_eq!(host.kv_get("after"), None);
    assert_eq!(
        served.finish(),
        [Frame::Response { continues: true }, Frame::Done]
    );
    assert_eq!(host.kv_get("after").as_deref(), Some(&b"done"[..]));
    assert_eq!(host.now(), 500.0);

    let mut served = serve(engine, request("GET", "/stream", ""));
    assert!(served.is_streamed());
    assert_eq!(served.next_chunk().unwrap(), b"streamed ");
    assert_eq!(served.next_chunk().unwrap(), b"bytes");
    assert_eq!(served.next_chunk(), None);
    assert_eq!(served.ended_early(), None);
}
