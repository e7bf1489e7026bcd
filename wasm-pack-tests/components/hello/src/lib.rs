//! The benchmarks' hello as a `wasi:http/proxy` component: it answers every request with the
//! Rust hello plugin's bytes, so that the two are measured against each other on each host.

use std::io::Write;
use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

wasi::http::proxy::export!(Hello);

struct Hello;

impl wasi::exports::http::incoming_handler::Guest for Hello {
    fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let headers = Fields::from_list(&[(
            "content-type".to_string(),
            b"text/plain; charset=utf-8".to_vec(),
        )])
        .expect("a valid header");
        let response = OutgoingResponse::new(headers);
        let body = response.body().expect("the body, taken once");
        ResponseOutparam::set(out, Ok(response));
        let mut stream = body.write().expect("the stream, taken once");
        stream
            .write_all(b"OK response from a plugin")
            .expect("the body written");
        drop(stream);
        OutgoingBody::finish(body, None).expect("the body finished");
    }
}
