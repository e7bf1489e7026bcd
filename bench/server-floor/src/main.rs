//! The floor of the server benchmark (`bench/server.mjs`): hyper on tokio, as `valor serve`
//! runs it (HTTP/1.1, `TCP_NODELAY`, one worker thread per core), answering every request
//! with the bytes the hello plugin answers, and `GET /bytes` with what the streaming plugin's
//! route of that name streams (`pattern.rs`), and nothing else.
//!
//! `valor-bench-floor [address]` (default `127.0.0.1:0`) prints `listening on http://ADDR`.

mod pattern;

use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use pattern::Pattern;
use std::convert::Infallible;

const BODY: &[u8] = b"OK response from a plugin";

type Answer = http::Response<Either<Full<Bytes>, Pattern>>;

fn answer(request: http::Request<hyper::body::Incoming>) -> Answer {
    let (body, content_type) = match request.uri().path() {
        "/bytes" => {
            let pattern = Pattern::from_query(request.uri().query().unwrap_or(""));
            (Either::Right(pattern), "application/octet-stream")
        }
        _ => (
            Either::Left(Full::new(Bytes::from_static(BODY))),
            "text/plain; charset=utf-8",
        ),
    };
    let mut response = http::Response::new(body);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|request| async { Ok::<_, Infallible>(answer(request)) });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
