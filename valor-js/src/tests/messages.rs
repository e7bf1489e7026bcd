//! A streamed reply through the Worker message interface: `postMessage` with a
//! `ReadableStream` as its body.

use crate::{serve as engine, start};
use vlugin::test::{request, serve, Host};

const SCRIPT: &str = r#"
self.onmessage = (event) => {
  const id = new Headers(event.data.headers).get('x-request-id');
  const words = ReadableStream.from(['streamed ', 'through ', 'postMessage']);
  postMessage({ status: 200, headers: [['x-correlation-id', id]], body: words });
};
"#;

#[test]
fn a_message_reply_may_stream_its_body() {
    let _host = Host::new()
        .config(serde_json::json!({
            "source": SCRIPT,
            "url": "https://example.com/plugins/messages.js",
            "memory_mb": 64,
        }))
        .install();
    start().unwrap();
    let mut served = serve(engine, request("GET", "/", ""));
    assert!(served.is_streamed());
    assert_eq!(served.next_chunk().unwrap(), b"streamed ");
    assert_eq!(served.text(), "through postMessage");
    assert_eq!(served.ended_early(), None);
}
