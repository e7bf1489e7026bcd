//! Answering: responses built with headers and bodies, the request read, errors set.

use super::fake::*;
use crate::abi::Val;
use crate::wasi::{Outcome, Response};

fn variant(case: u32, payload: Option<Val>) -> Val {
    Val::Variant(case, payload.map(Box::new))
}

#[test]
fn a_response_with_headers_and_a_body() {
    let (mut s, _) = session(request("GET", "/hello", &[], b""));
    let body: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    let (outcome, runs) = serve(&mut s, |s, _, out| {
        let headers = [
            ("Content-Type", &b"text/plain"[..]),
            ("x-a", b"1"),
            ("x-a", b"2"),
        ];
        respond(s, out, 201, &headers, &body);
        Ok(())
    });
    assert_eq!(runs, 1);
    let headers = vec![
        ("content-type".to_string(), b"text/plain".to_vec()),
        ("x-a".to_string(), b"1".to_vec()),
        ("x-a".to_string(), b"2".to_vec()),
    ];
    assert_eq!(
        outcome,
        Outcome::Answered(Response {
            status: 201,
            headers,
            body
        })
    );
}

#[test]
fn the_request_is_read_as_sent_without_its_hop_by_hop_headers() {
    let headers = [
        ("host", "app.example"),
        ("x-b", "v"),
        ("connection", "close"),
        ("x-c", "w"),
    ];
    let (mut s, _) = session(request("POST", "/echo?x=1", &headers, b"the body"));
    let (outcome, _) = serve(&mut s, |s, req, out| {
        let method = val(s, TYPES, "[method]incoming-request.method", vec![h(req)]);
        assert_eq!(method, variant(2, None));
        let path = val(
            s,
            TYPES,
            "[method]incoming-request.path-with-query",
            vec![h(req)],
        );
        assert_eq!(path, opt(Some(self::s("/echo?x=1"))));
        let scheme = val(s, TYPES, "[method]incoming-request.scheme", vec![h(req)]);
        assert_eq!(scheme, opt(Some(variant(1, None))));
        let authority = val(s, TYPES, "[method]incoming-request.authority", vec![h(req)]);
        assert_eq!(authority, opt(Some(self::s("app.example"))));
        let headers = handle(val(
            s,
            TYPES,
            "[method]incoming-request.headers",
            vec![h(req)],
        ));
        let entries = val(s, TYPES, "[method]fields.entries", vec![h(headers)]);
        let expected = [("x-b", "v"), ("x-c", "w")]
            .iter()
            .map(|(n, v)| Val::Tuple(vec![self::s(n), b(v.as_bytes())]))
            .collect();
        assert_eq!(entries, Val::List(expected));
        let got = val(
            s,
            TYPES,
            "[method]fields.get",
            vec![h(headers), self::s("X-B")],
        );
        assert_eq!(got, Val::List(vec![b(b"v")]));
        // A request's headers are immutable.
        let append = val(
            s,
            TYPES,
            "[method]fields.append",
            vec![h(headers), self::s("x-d"), b(b"1")],
        );
        assert_eq!(append, err(Some(variant(2, None))));
        let body = handle(val(
            s,
            TYPES,
            "[method]incoming-request.consume",
            vec![h(req)],
        ));
        assert_eq!(
            val(s, TYPES, "[method]incoming-request.consume", vec![h(req)]),
            err(None)
        );
        let bytes = read_body(s, body);
        respond(s, out, 200, &[], &bytes);
        Ok(())
    });
    let Outcome::Answered(response) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(response.body, b"the body");
}

#[test]
fn an_error_code_set_is_failed_with_its_text() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    let code = variant(38, Some(opt(Some(self::s("x")))));
    let (outcome, _) = serve(&mut s, |s, _, out| {
        val(
            s,
            TYPES,
            "[static]response-outparam.set",
            vec![h(out), err(Some(code.clone()))],
        );
        Ok(())
    });
    assert_eq!(
        outcome,
        Outcome::Failed("internal-error(Some(\"x\"))".into())
    );

    let (mut s, _) = session(request("GET", "/", &[], b""));
    let payload = Val::Record(vec![opt(Some(self::s("NXDOMAIN"))), opt(None)]);
    let (outcome, _) = serve(&mut s, |s, _, out| {
        let code = variant(1, Some(payload.clone()));
        val(
            s,
            TYPES,
            "[static]response-outparam.set",
            vec![h(out), err(Some(code))],
        );
        Ok(())
    });
    let text = "DNS-error({ rcode: Some(\"NXDOMAIN\"), info-code: None })";
    assert_eq!(outcome, Outcome::Failed(text.into()));
}

#[test]
fn a_handler_that_sets_nothing_is_unanswered() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    let (outcome, _) = serve(&mut s, |_, _, _| Ok(()));
    assert_eq!(outcome, Outcome::Unanswered);
}

#[test]
fn a_response_whose_body_was_never_asked_for_is_empty() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    let (outcome, _) = serve(&mut s, |s, _, out| {
        let headers = fields(s, &[]);
        let response = handle(val(
            s,
            TYPES,
            "[constructor]outgoing-response",
            vec![h(headers)],
        ));
        val(
            s,
            TYPES,
            "[static]response-outparam.set",
            vec![h(out), ok(Some(h(response)))],
        );
        Ok(())
    });
    let expected = Response {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    };
    assert_eq!(outcome, Outcome::Answered(expected));
}

#[test]
fn a_body_dropped_unfinished_fails_the_answer() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    let (outcome, _) = serve(&mut s, |s, _, out| {
        let headers = fields(s, &[]);
        let response = handle(val(
            s,
            TYPES,
            "[constructor]outgoing-response",
            vec![h(headers)],
        ));
        let body = handle(val(
            s,
            TYPES,
            "[method]outgoing-response.body",
            vec![h(response)],
        ));
        assert_eq!(
            val(
                s,
                TYPES,
                "[method]outgoing-response.body",
                vec![h(response)]
            ),
            err(None)
        );
        val(
            s,
            TYPES,
            "[static]response-outparam.set",
            vec![h(out), ok(Some(h(response)))],
        );
        drop_handle(s, "wasi:http/types", "outgoing-body", body).unwrap();
        Ok(())
    });
    assert_eq!(outcome, Outcome::Failed("HTTP-protocol-error".into()));
}

#[test]
fn a_body_shorter_than_its_content_length_is_an_error() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    let (outcome, _) = serve(&mut s, |s, _, out| {
        let headers = fields(s, &[("content-length", b"5")]);
        let response = handle(val(
            s,
            TYPES,
            "[constructor]outgoing-response",
            vec![h(headers)],
        ));
        let body = handle(val(
            s,
            TYPES,
            "[method]outgoing-response.body",
            vec![h(response)],
        ));
        val(
            s,
            TYPES,
            "[static]response-outparam.set",
            vec![h(out), ok(Some(h(response)))],
        );
        let size = variant(28, Some(opt(Some(Val::U64(3)))));
        assert_eq!(write_body(s, body, b"abc"), err(Some(size)));
        Ok(())
    });
    assert_eq!(outcome, Outcome::Failed("HTTP-protocol-error".into()));
}

#[test]
fn writes_follow_wasmtime_s_limits() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    let headers = fields(&mut s, &[]);
    let response = handle(val(
        &mut s,
        TYPES,
        "[constructor]outgoing-response",
        vec![h(headers)],
    ));
    let body = handle(val(
        &mut s,
        TYPES,
        "[method]outgoing-response.body",
        vec![h(response)],
    ));
    let stream = handle(val(
        &mut s,
        TYPES,
        "[method]outgoing-body.write",
        vec![h(body)],
    ));
    let budget = val(
        &mut s,
        STREAMS,
        "[method]output-stream.check-write",
        vec![h(stream)],
    );
    assert_eq!(budget, ok(Some(Val::U64(1 << 20))));
    let big = Val::Bytes(vec![0; 4097]);
    let blocking = "[method]output-stream.blocking-write-and-flush";
    let why = trap(call(&mut s, STREAMS, blocking, vec![h(stream), big]));
    assert!(why.contains("expected at most 4096"), "{why}");
    let why = trap(call(
        &mut s,
        STREAMS,
        "[method]output-stream.write",
        vec![h(stream), Val::Bytes(vec![0; (1 << 20) + 1])],
    ));
    assert!(why.contains("write exceeded budget"), "{why}");
    // The body holds 64 MiB at most.
    for _ in 0..64 {
        let written = val(
            &mut s,
            STREAMS,
            "[method]output-stream.write",
            vec![h(stream), Val::Bytes(vec![7; 1 << 20])],
        );
        assert_eq!(written, ok(None));
    }
    let why = trap(call(
        &mut s,
        STREAMS,
        "[method]output-stream.write",
        vec![h(stream), b(b"x")],
    ));
    assert!(why.contains("the body passed 67108864 bytes"), "{why}");
}

#[test]
fn standard_output_goes_to_the_log_a_line_at_a_time() {
    let (mut s, fake) = session(request("GET", "/", &[], b""));
    let (outcome, _) = serve(&mut s, |s, _, _| {
        let out = handle(val(s, "wasi:cli/stdout@0.2.0", "get-stdout", vec![]));
        let err_stream = handle(val(s, "wasi:cli/stderr@0.2.0", "get-stderr", vec![]));
        let write = "[method]output-stream.blocking-write-and-flush";
        val(s, STREAMS, write, vec![h(out), b(b"one\ntw")]);
        val(s, STREAMS, write, vec![h(err_stream), b(b"oops\n")]);
        val(s, STREAMS, write, vec![h(out), b(b"o\n")]);
        val(
            s,
            STREAMS,
            "[method]output-stream.write",
            vec![h(out), Val::Bytes(vec![b'x'; 5000])],
        );
        val(s, STREAMS, write, vec![h(out), b(b"\nlast")]);
        Ok(())
    });
    assert_eq!(outcome, crate::wasi::Outcome::Unanswered);
    let lines = fake.lines.borrow();
    let x = "x".repeat(4096);
    let expected = vec![
        (false, "one".to_string()),
        (true, "oops".to_string()),
        (false, "two".to_string()),
        (false, x),
        (false, "last".to_string()),
    ];
    assert_eq!(*lines, expected);
}

#[test]
fn the_environment_is_empty_and_exit_traps() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    let env = "wasi:cli/environment@0.2.0";
    assert_eq!(
        val(&mut s, env, "get-environment", vec![]),
        Val::List(vec![])
    );
    assert_eq!(val(&mut s, env, "get-arguments", vec![]), Val::List(vec![]));
    assert_eq!(val(&mut s, env, "initial-cwd", vec![]), opt(None));
    let terminal = val(
        &mut s,
        "wasi:cli/terminal-stdout@0.2.0",
        "get-terminal-stdout",
        vec![],
    );
    assert_eq!(terminal, opt(None));
    let dirs = val(
        &mut s,
        "wasi:filesystem/preopens@0.2.0",
        "get-directories",
        vec![],
    );
    assert_eq!(dirs, Val::List(vec![]));
    let why = trap(call(
        &mut s,
        "wasi:filesystem/types@0.2.0",
        "[method]descriptor.stat",
        vec![h(1)],
    ));
    assert!(why.contains("no directories"), "{why}");
    let stdin = handle(val(&mut s, "wasi:cli/stdin@0.2.0", "get-stdin", vec![]));
    let read = val(
        &mut s,
        STREAMS,
        "[method]input-stream.read",
        vec![h(stdin), Val::U64(10)],
    );
    assert_eq!(read, err(Some(variant(1, None))));
    let why = trap(call(&mut s, "wasi:cli/exit@0.2.0", "exit", vec![ok(None)]));
    assert!(why.contains("exited with status 0"), "{why}");
}

#[test]
fn a_write_past_the_content_length_fails_with_an_error_that_carries_its_code() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    let headers = fields(&mut s, &[("content-length", b"2")]);
    let response = handle(val(
        &mut s,
        TYPES,
        "[constructor]outgoing-response",
        vec![h(headers)],
    ));
    let body = handle(val(
        &mut s,
        TYPES,
        "[method]outgoing-response.body",
        vec![h(response)],
    ));
    let stream = handle(val(
        &mut s,
        TYPES,
        "[method]outgoing-body.write",
        vec![h(body)],
    ));
    let written = val(
        &mut s,
        STREAMS,
        "[method]output-stream.write",
        vec![h(stream), b(b"abc")],
    );
    let Val::Result(Err(Some(failed))) = written else {
        panic!("{written:?}")
    };
    let Val::Variant(0, Some(error)) = *failed else {
        panic!("{failed:?}")
    };
    let error = handle(*error);
    let code = val(&mut s, TYPES, "http-error-code", vec![h(error)]);
    assert_eq!(code, opt(Some(variant(28, Some(opt(Some(Val::U64(3))))))));
    let text = val(
        &mut s,
        "wasi:io/error@0.2.12",
        "[method]error.to-debug-string",
        vec![h(error)],
    );
    assert_eq!(
        text,
        self::s("body larger than its content-length: 3 bytes")
    );
    let fs_code = val(
        &mut s,
        "wasi:filesystem/types@0.2.0",
        "filesystem-error-code",
        vec![h(error)],
    );
    assert_eq!(fs_code, opt(None));
}
