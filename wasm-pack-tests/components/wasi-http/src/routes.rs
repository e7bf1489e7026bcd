//! Each route of the test component.

use std::io::{Read, Write};
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingRequest, Method, OutgoingBody, OutgoingRequest, OutgoingResponse,
    ResponseOutparam, Scheme,
};

pub fn handle(request: IncomingRequest, out: ResponseOutparam) {
    let path_with_query = request.path_with_query().unwrap_or_default();
    let (path, query) = match path_with_query.split_once('?') {
        Some((path, query)) => (path.to_string(), query.to_string()),
        None => (path_with_query.clone(), String::new()),
    };
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    };
    match path.as_str() {
        "/hello" => respond(out, 200, "text/plain", b"hello from a component\n"),
        "/request" => describe(request, out),
        "/echo" => echo(request, out),
        "/fetch" => fetch(&request, out, param("url"), param("path")),
        "/sleep" => sleep(
            out,
            param("ms").and_then(|ms| ms.parse().ok()).unwrap_or(10),
        ),
        "/random" => random(out),
        "/clock" => {
            let now = wasi::clocks::wall_clock::now();
            respond(
                out,
                200,
                "text/plain",
                format!("{}\n", now.seconds).as_bytes(),
            )
        }
        "/log" => {
            println!("a line on standard output");
            eprintln!("a line on standard error");
            respond(out, 200, "text/plain", b"logged\n")
        }
        "/headers" => headers(out, param("n").and_then(|n| n.parse().ok()).unwrap_or(10)),
        "/fields" => fields(out, param("n").and_then(|n| n.parse().ok()).unwrap_or(1000)),
        "/error" => ResponseOutparam::set(
            out,
            Err(ErrorCode::InternalError(Some(
                "the component failed on purpose".into(),
            ))),
        ),
        "/unanswered" => drop(out),
        "/loop" => endless(),
        "/grow" => grow(),
        "/trap" => panic!("the component panicked on purpose"),
        _ => respond(
            out,
            404,
            "text/plain",
            format!("no route {path}\n").as_bytes(),
        ),
    }
}

/// Answers `status` with one header and `body`.
fn respond(out: ResponseOutparam, status: u16, content_type: &str, body: &[u8]) {
    let headers =
        Fields::from_list(&[("content-type".to_string(), content_type.as_bytes().to_vec())])
            .expect("a valid header");
    answer(out, status, headers, body);
}

fn answer(out: ResponseOutparam, status: u16, headers: Fields, body: &[u8]) {
    let response = OutgoingResponse::new(headers);
    response.set_status_code(status).expect("a valid status");
    let outgoing = response.body().expect("the body, taken once");
    ResponseOutparam::set(out, Ok(response));
    {
        let mut stream = outgoing.write().expect("the stream, taken once");
        // Larger than one write may take: std's Write loops over check-write.
        stream.write_all(body).expect("the body written");
        stream.flush().expect("the body flushed");
    }
    OutgoingBody::finish(outgoing, None).expect("the body finished");
}

fn describe(request: IncomingRequest, out: ResponseOutparam) {
    let method = match request.method() {
        Method::Get => "GET".to_string(),
        Method::Post => "POST".to_string(),
        Method::Put => "PUT".to_string(),
        Method::Delete => "DELETE".to_string(),
        Method::Patch => "PATCH".to_string(),
        Method::Head => "HEAD".to_string(),
        Method::Options => "OPTIONS".to_string(),
        Method::Other(other) => other,
        other => format!("{other:?}"),
    };
    let scheme = match request.scheme() {
        Some(Scheme::Http) => "http".to_string(),
        Some(Scheme::Https) => "https".to_string(),
        Some(Scheme::Other(other)) => other,
        None => "none".to_string(),
    };
    let mut text = format!(
        "method {method}\nscheme {scheme}\nauthority {}\npath {}\n",
        request.authority().unwrap_or_default(),
        request.path_with_query().unwrap_or_default()
    );
    for (name, value) in request.headers().entries() {
        if name.starts_with("x-test") {
            text += &format!("header {name}: {}\n", String::from_utf8_lossy(&value));
        }
    }
    respond(out, 200, "text/plain", text.as_bytes())
}

fn echo(request: IncomingRequest, out: ResponseOutparam) {
    let content_type = request
        .headers()
        .get("content-type")
        .into_iter()
        .next()
        .unwrap_or_else(|| b"application/octet-stream".to_vec());
    let body = request.consume().expect("the body, taken once");
    let mut bytes = Vec::new();
    body.stream()
        .expect("its stream")
        .read_to_end(&mut bytes)
        .expect("the body read");
    let headers =
        Fields::from_list(&[("content-type".to_string(), content_type)]).expect("a valid header");
    answer(out, 200, headers, &bytes);
}

/// An outgoing request to `url`, or to `path` on the origin this request came to.
fn fetch(
    request: &IncomingRequest,
    out: ResponseOutparam,
    url: Option<String>,
    path: Option<String>,
) {
    let (scheme, authority, path_with_query) = match (url, path) {
        (Some(url), _) => {
            let url = decode(&url);
            let (scheme, rest) = url.split_once("://").unwrap_or(("https", &url));
            let (authority, path) = match rest.find('/') {
                Some(at) => (&rest[..at], &rest[at..]),
                None => (rest, "/"),
            };
            let scheme = if scheme == "http" {
                Scheme::Http
            } else {
                Scheme::Https
            };
            (scheme, authority.to_string(), path.to_string())
        }
        (None, Some(path)) => (
            request.scheme().unwrap_or(Scheme::Https),
            request.authority().unwrap_or_default(),
            decode(&path),
        ),
        (None, None) => return respond(out, 400, "text/plain", b"give ?url= or ?path=\n"),
    };
    let outgoing = OutgoingRequest::new(Fields::new());
    outgoing.set_method(&Method::Get).expect("GET");
    outgoing.set_scheme(Some(&scheme)).expect("a scheme");
    outgoing
        .set_authority(Some(&authority))
        .expect("an authority");
    outgoing
        .set_path_with_query(Some(&path_with_query))
        .expect("a path");
    let answered = outgoing_handler::handle(outgoing, None).and_then(|future| {
        future.subscribe().block();
        future
            .get()
            .expect("ready after block")
            .expect("taken once")
    });
    match answered {
        Ok(response) => {
            let status = response.status();
            let body = response.consume().expect("the body, taken once");
            let mut bytes = Vec::new();
            body.stream()
                .expect("its stream")
                .read_to_end(&mut bytes)
                .expect("the body read");
            respond(out, status, "text/plain", &bytes)
        }
        Err(code) => respond(out, 502, "text/plain", format!("{code:?}\n").as_bytes()),
    }
}

fn sleep(out: ResponseOutparam, ms: u64) {
    let start = wasi::clocks::monotonic_clock::now();
    wasi::clocks::monotonic_clock::subscribe_duration(ms * 1_000_000).block();
    let slept = (wasi::clocks::monotonic_clock::now() - start) / 1_000_000;
    let text = format!("slept {slept} ms of {ms}\n");
    respond(out, 200, "text/plain", text.as_bytes())
}

fn random(out: ResponseOutparam) {
    let first = wasi::random::random::get_random_bytes(16);
    let second = wasi::random::random::get_random_bytes(16);
    let hex: String = first.iter().map(|byte| format!("{byte:02x}")).collect();
    let text = format!("{hex}\ndiffer {}\n", first != second);
    respond(out, 200, "text/plain", text.as_bytes())
}

fn headers(out: ResponseOutparam, n: usize) {
    let list: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| (format!("x-header-{i}"), i.to_string().into_bytes()))
        .collect();
    match Fields::from_list(&list) {
        Ok(headers) => answer(out, 200, headers, format!("{n} headers\n").as_bytes()),
        Err(error) => respond(out, 500, "text/plain", format!("{error:?}\n").as_bytes()),
    }
}

/// Appends `n` values of 1 KiB to one header list: the host's limit stops it.
fn fields(out: ResponseOutparam, n: usize) {
    let fields = Fields::new();
    let value = vec![b'v'; 1024];
    for i in 0..n {
        if let Err(error) = fields.append(&format!("x-big-{i}"), &value) {
            let text = format!("append {i} failed: {error:?}\n");
            return respond(out, 200, "text/plain", text.as_bytes());
        }
    }
    respond(out, 200, "text/plain", format!("appended {n}\n").as_bytes())
}

fn endless() -> ! {
    let mut count = 0u64;
    loop {
        count = std::hint::black_box(count.wrapping_add(1));
    }
}

fn grow() -> ! {
    let mut kept = Vec::new();
    loop {
        kept.push(std::hint::black_box(vec![1u8; 1 << 20]));
    }
}

/// `%XX` escapes decoded (enough for the URLs the tests pass).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
