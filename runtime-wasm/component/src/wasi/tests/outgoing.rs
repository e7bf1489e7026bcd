//! Outgoing requests: sent once across runs, answered, refused as wasmtime refuses them.

use super::fake::*;
use crate::abi::Val;
use crate::host::Fault;
use crate::wasi::{FetchError, Outcome, OutgoingRequest, Response, Session};

const HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

fn variant(case: u32, payload: Option<Val>) -> Val {
    Val::Variant(case, payload.map(Box::new))
}

/// An outgoing request to `authority` and `path`, without body.
fn outgoing(s: &mut Session, authority: Option<&str>, path: &str) -> u32 {
    let headers = fields(s, &[("accept", b"*/*")]);
    let req = handle(val(
        s,
        TYPES,
        "[constructor]outgoing-request",
        vec![h(headers)],
    ));
    let authority = opt(authority.map(self::s));
    assert_eq!(
        val(
            s,
            TYPES,
            "[method]outgoing-request.set-authority",
            vec![h(req), authority]
        ),
        ok(None)
    );
    let path = opt(Some(self::s(path)));
    assert_eq!(
        val(
            s,
            TYPES,
            "[method]outgoing-request.set-path-with-query",
            vec![h(req), path]
        ),
        ok(None)
    );
    req
}

/// Waits for the future `future` and gets its `result<incoming-response, error-code>`.
fn response_of(s: &mut Session, future: u32) -> Result<Val, Fault> {
    let pollable = handle(val(
        s,
        TYPES,
        "[method]future-incoming-response.subscribe",
        vec![h(future)],
    ));
    call(s, POLL, "[method]pollable.block", vec![h(pollable)])?;
    drop_handle(s, "wasi:io/poll", "pollable", pollable).unwrap();
    match val(
        s,
        TYPES,
        "[method]future-incoming-response.get",
        vec![h(future)],
    ) {
        Val::Option(Some(result)) => match *result {
            Val::Result(Ok(Some(inner))) => Ok(*inner),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_request_blocks_the_first_run_and_the_second_gets_its_response_from_the_same_fetch() {
    let (mut s, fake) = session(request("GET", "/fetch", &[], b""));
    let answer = Response {
        status: 202,
        headers: vec![
            ("content-type".into(), b"text/plain".to_vec()),
            ("connection".into(), b"close".to_vec()),
        ],
        body: b"pong".to_vec(),
    };
    fake.answers
        .borrow_mut()
        .insert("https://api.example/x?y=1".into(), Ok(answer));
    let mut not_yet = Vec::new();
    let (outcome, runs) = serve(&mut s, |s, _, out| {
        let req = outgoing(s, Some("api.example"), "/x?y=1");
        let post = val(
            s,
            TYPES,
            "[method]outgoing-request.set-method",
            vec![h(req), variant(2, None)],
        );
        assert_eq!(post, ok(None));
        let body = handle(val(s, TYPES, "[method]outgoing-request.body", vec![h(req)]));
        assert_eq!(write_body(s, body, b"ping"), ok(None));
        let future = handle(val(s, HANDLER, "handle", vec![h(req), opt(None)]));
        not_yet.push(val(
            s,
            TYPES,
            "[method]future-incoming-response.get",
            vec![h(future)],
        ));
        let response = handle(response_of(s, future)?);
        let again = val(
            s,
            TYPES,
            "[method]future-incoming-response.get",
            vec![h(future)],
        );
        assert_eq!(again, opt(Some(err(None))));
        let status = val(
            s,
            TYPES,
            "[method]incoming-response.status",
            vec![h(response)],
        );
        let headers = handle(val(
            s,
            TYPES,
            "[method]incoming-response.headers",
            vec![h(response)],
        ));
        let entries = val(s, TYPES, "[method]fields.entries", vec![h(headers)]);
        assert_eq!(
            entries,
            Val::List(vec![Val::Tuple(vec![
                self::s("content-type"),
                b(b"text/plain")
            ])])
        );
        let body = handle(val(
            s,
            TYPES,
            "[method]incoming-response.consume",
            vec![h(response)],
        ));
        let mut bytes = read_body(s, body);
        let trailers = handle(val(s, TYPES, "[static]incoming-body.finish", vec![h(body)]));
        let none = val(s, TYPES, "[method]future-trailers.get", vec![h(trailers)]);
        assert_eq!(none, opt(Some(ok(Some(ok(Some(opt(None))))))));
        bytes.extend(format!(" {status:?}").bytes());
        respond(s, out, 200, &[], &bytes);
        Ok(())
    });
    assert_eq!(runs, 2);
    // The second run was told what the first saw: not there yet.
    assert_eq!(not_yet, vec![opt(None), opt(None)]);
    let Outcome::Answered(response) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(response.body, b"pong U16(202)");
    let sent = OutgoingRequest {
        method: "POST".into(),
        url: "https://api.example/x?y=1".into(),
        headers: vec![("accept".into(), b"*/*".to_vec())],
        body: b"ping".to_vec(),
    };
    assert_eq!(*fake.sent.borrow(), vec![sent]);
}

#[test]
fn a_request_whose_body_is_finished_after_handle_is_sent_then() {
    let (mut s, fake) = session(request("GET", "/", &[], b""));
    let mut sent_before_finish = Vec::new();
    let (outcome, runs) = serve(&mut s, |s, _, out| {
        let req = outgoing(s, Some("api.example"), "/up");
        let body = handle(val(s, TYPES, "[method]outgoing-request.body", vec![h(req)]));
        let future = handle(val(s, HANDLER, "handle", vec![h(req), opt(None)]));
        sent_before_finish.push(fake.sent.borrow().len());
        assert_eq!(write_body(s, body, b"late"), ok(None));
        let failed = variant(
            38,
            Some(opt(Some(self::s("no answer for https://api.example/up")))),
        );
        assert_eq!(response_of(s, future)?, err(Some(failed)));
        val(
            s,
            TYPES,
            "[static]response-outparam.set",
            vec![h(out), err(Some(variant(37, None)))],
        );
        Ok(())
    });
    assert_eq!(
        (outcome, runs),
        (Outcome::Failed("configuration-error".into()), 2)
    );
    // Sent when the first run finished the body; the second run found it sent.
    assert_eq!(sent_before_finish, [0, 1]);
    assert_eq!(fake.sent.borrow().len(), 1);
    assert_eq!(fake.sent.borrow()[0].body, b"late");
}

#[test]
fn requests_wasmtime_refuses_are_refused_alike() {
    let (mut s, fake) = session(request("GET", "/", &[], b""));
    s.begin_run();
    // No authority: the URI is invalid.
    let req = outgoing(&mut s, None, "/");
    assert_eq!(
        val(&mut s, HANDLER, "handle", vec![h(req), opt(None)]),
        err(Some(variant(19, None)))
    );
    // A scheme other than http and https.
    let req = outgoing(&mut s, Some("a.example"), "/");
    let ftp = opt(Some(variant(2, Some(self::s("ftp")))));
    assert_eq!(
        val(
            &mut s,
            TYPES,
            "[method]outgoing-request.set-scheme",
            vec![h(req), ftp]
        ),
        ok(None)
    );
    assert_eq!(
        val(&mut s, HANDLER, "handle", vec![h(req), opt(None)]),
        err(Some(variant(35, None)))
    );
    // A content-length without a body.
    let headers = fields(&mut s, &[("content-length", b"3")]);
    let req = handle(val(
        &mut s,
        TYPES,
        "[constructor]outgoing-request",
        vec![h(headers)],
    ));
    let authority = opt(Some(self::s("a.example")));
    val(
        &mut s,
        TYPES,
        "[method]outgoing-request.set-authority",
        vec![h(req), authority],
    );
    let size = variant(17, Some(opt(Some(Val::U64(0)))));
    assert_eq!(
        val(&mut s, HANDLER, "handle", vec![h(req), opt(None)]),
        err(Some(size))
    );
    // Setters refuse what `http` refuses.
    let req = outgoing(&mut s, Some("a.example"), "/");
    let bad = |v: Val| vec![h(req), v];
    assert_eq!(
        val(
            &mut s,
            TYPES,
            "[method]outgoing-request.set-method",
            bad(variant(9, Some(self::s("BAD METHOD"))))
        ),
        err(None)
    );
    assert_eq!(
        val(
            &mut s,
            TYPES,
            "[method]outgoing-request.set-path-with-query",
            bad(opt(Some(self::s("no-slash"))))
        ),
        err(None)
    );
    assert_eq!(
        val(
            &mut s,
            TYPES,
            "[method]outgoing-request.set-authority",
            bad(opt(Some(self::s("a b"))))
        ),
        err(None)
    );
    assert_eq!(
        val(
            &mut s,
            TYPES,
            "[method]outgoing-request.method",
            vec![h(req)]
        ),
        variant(0, None)
    );
    assert!(fake.sent.borrow().is_empty());
}

#[test]
fn a_denied_request_is_http_request_denied() {
    let (mut s, fake) = session(request("GET", "/", &[], b""));
    let denied = Err(FetchError::Denied("not in allowed_hosts".into()));
    fake.answers
        .borrow_mut()
        .insert("http://intranet.example/".into(), denied);
    let (_, runs) = serve(&mut s, |s, _, _| {
        let req = outgoing(s, Some("intranet.example"), "/");
        let http = opt(Some(variant(0, None)));
        val(
            s,
            TYPES,
            "[method]outgoing-request.set-scheme",
            vec![h(req), http],
        );
        let options = handle(val(s, TYPES, "[constructor]request-options", vec![]));
        let set = val(
            s,
            TYPES,
            "[method]request-options.set-connect-timeout",
            vec![h(options), opt(Some(Val::U64(5)))],
        );
        assert_eq!(set, ok(None));
        let got = val(
            s,
            TYPES,
            "[method]request-options.connect-timeout",
            vec![h(options)],
        );
        assert_eq!(got, opt(Some(Val::U64(5))));
        let future = handle(val(
            s,
            HANDLER,
            "handle",
            vec![h(req), opt(Some(h(options)))],
        ));
        assert_eq!(response_of(s, future)?, err(Some(variant(15, None))));
        Ok(())
    });
    assert_eq!(runs, 2);
    assert_eq!(fake.sent.borrow().len(), 1);
}

#[test]
fn runs_that_send_different_requests_disagree() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    let req = outgoing(&mut s, Some("a.example"), "/");
    let future = handle(val(&mut s, HANDLER, "handle", vec![h(req), opt(None)]));
    let pollable = handle(val(
        &mut s,
        TYPES,
        "[method]future-incoming-response.subscribe",
        vec![h(future)],
    ));
    blocks(call(
        &mut s,
        POLL,
        "[method]pollable.block",
        vec![h(pollable)],
    ));
    s.begin_run();
    let req = outgoing(&mut s, Some("b.example"), "/");
    let why = trap(call(&mut s, HANDLER, "handle", vec![h(req), opt(None)]));
    assert!(
        why.starts_with("handle: the component's runs disagreed"),
        "{why}"
    );
}

#[test]
fn a_request_sends_at_most_a_thousand_requests() {
    let (mut s, fake) = session(request("GET", "/", &[], b""));
    s.begin_run();
    for _ in 0..crate::wasi::outgoing::FETCH_LIMIT {
        let req = outgoing(&mut s, Some("a.example"), "/");
        let future = handle(val(&mut s, HANDLER, "handle", vec![h(req), opt(None)]));
        drop_handle(
            &mut s,
            "wasi:http/types",
            "future-incoming-response",
            future,
        )
        .unwrap();
    }
    let req = outgoing(&mut s, Some("a.example"), "/");
    let why = trap(call(&mut s, HANDLER, "handle", vec![h(req), opt(None)]));
    assert_eq!(why, "handle: the component sent 1000 outgoing requests, the most this host sends for one request");
    assert_eq!(fake.sent.borrow().len(), 1000);
}

#[test]
fn a_request_whose_body_is_dropped_unfinished_fails_unsent() {
    let (mut s, fake) = session(request("GET", "/", &[], b""));
    s.begin_run();
    let req = outgoing(&mut s, Some("a.example"), "/");
    let body = handle(val(
        &mut s,
        TYPES,
        "[method]outgoing-request.body",
        vec![h(req)],
    ));
    let future = handle(val(&mut s, HANDLER, "handle", vec![h(req), opt(None)]));
    drop_handle(&mut s, "wasi:http/types", "outgoing-body", body).unwrap();
    let result = response_of(&mut s, future).map_err(|e| format!("{e:?}"));
    assert_eq!(result, Ok(err(Some(variant(35, None)))));
    assert!(fake.sent.borrow().is_empty());
}
