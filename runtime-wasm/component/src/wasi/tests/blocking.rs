//! Blocking calls: a run that waits stops, the next one replays what the first observed.

use super::fake::*;
use crate::abi::Val;
use crate::host::Fault;
use crate::wasi::Outcome;

const SECOND: u64 = 1_000_000_000;

fn now(s: &mut crate::wasi::Session) -> u64 {
    match val(s, CLOCK, "now", vec![]) {
        Val::U64(now) => now,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_sleep_blocks_then_returns() {
    let (mut s, fake) = session(request("GET", "/sleep", &[], b""));
    let (outcome, runs) = serve(&mut s, |s, _, out| {
        let start = now(s);
        let timer = handle(val(s, CLOCK, "subscribe-duration", vec![Val::U64(SECOND)]));
        call(s, POLL, "[method]pollable.block", vec![h(timer)])?;
        let end = now(s);
        respond(s, out, 200, &[], format!("{}", end - start).as_bytes());
        Ok(())
    });
    assert_eq!(runs, 2);
    assert_eq!(*fake.sleeps.borrow(), vec![SECOND]);
    let Outcome::Answered(response) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(response.body, SECOND.to_string().as_bytes());
}

#[test]
fn poll_answers_what_is_ready_and_blocks_when_nothing_is() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    let mut polls = Vec::new();
    let (_, runs) = serve(&mut s, |s, _, _| {
        let stdin = handle(val(s, "wasi:cli/stdin@0.2.0", "get-stdin", vec![]));
        let ready = handle(val(
            s,
            STREAMS,
            "[method]input-stream.subscribe",
            vec![h(stdin)],
        ));
        let timer = handle(val(s, CLOCK, "subscribe-duration", vec![Val::U64(SECOND)]));
        let list = |handles: &[u32]| vec![Val::List(handles.iter().map(|&x| h(x)).collect())];
        polls.push(val(s, POLL, "poll", list(&[timer, ready])));
        let not_yet = val(s, POLL, "[method]pollable.ready", vec![h(timer)]);
        assert_eq!(not_yet, Val::Bool(false));
        polls.push(call(s, POLL, "poll", list(&[timer]))?.unwrap());
        Ok(())
    });
    assert_eq!(runs, 2);
    let first = Val::List(vec![Val::U32(1)]);
    // The first run's answers, given again to the second, then what it found.
    assert_eq!(
        polls,
        vec![first.clone(), first, Val::List(vec![Val::U32(0)])]
    );
    s.begin_run();
    assert_eq!(
        trap(call(&mut s, POLL, "poll", vec![Val::List(vec![])])),
        "poll: empty poll list"
    );
}

#[test]
fn clocks_and_random_bytes_are_the_same_in_every_run() {
    let (mut s, fake) = session(request("GET", "/", &[], b""));
    let mut seen = Vec::new();
    let (_, runs) = serve(&mut s, |s, _, _| {
        let mut observed = vec![
            val(s, CLOCK, "now", vec![]),
            val(s, "wasi:clocks/wall-clock@0.2.0", "now", vec![]),
            val(
                s,
                "wasi:random/random@0.2.0",
                "get-random-bytes",
                vec![Val::U64(4)],
            ),
            val(s, "wasi:random/random@0.2.0", "get-random-u64", vec![]),
            val(
                s,
                "wasi:random/insecure@0.2.0",
                "get-insecure-random-u64",
                vec![],
            ),
            val(
                s,
                "wasi:random/insecure-seed@0.2.0",
                "insecure-seed",
                vec![],
            ),
        ];
        let timer = handle(val(s, CLOCK, "subscribe-duration", vec![Val::U64(5)]));
        observed.push(val(s, POLL, "[method]pollable.ready", vec![h(timer)]));
        seen.push(observed);
        call(s, POLL, "[method]pollable.block", vec![h(timer)])?;
        Ok(())
    });
    assert_eq!(runs, 2);
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0][2], b(&[0, 1, 2, 3]));
    assert_eq!(seen[0][6], Val::Bool(false));
    // 4 + 8 + 8 bytes for the calls, 16 for the seed: drawn once.
    assert_eq!(fake.random.get(), 36);
}

#[test]
fn a_run_that_disagrees_with_the_log_traps() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    val(&mut s, CLOCK, "now", vec![]);
    let timer = handle(val(
        &mut s,
        CLOCK,
        "subscribe-duration",
        vec![Val::U64(SECOND)],
    ));
    blocks(call(&mut s, POLL, "[method]pollable.block", vec![h(timer)]));
    s.begin_run();
    let why = trap(call(
        &mut s,
        "wasi:random/random@0.2.0",
        "get-random-u64",
        vec![],
    ));
    assert_eq!(
        why,
        "get-random-u64: the component's runs disagreed (it is not deterministic given the \
         host's answers)"
    );
    // Random bytes of another length disagree too.
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    val(
        &mut s,
        "wasi:random/random@0.2.0",
        "get-random-bytes",
        vec![Val::U64(4)],
    );
    s.begin_run();
    let why = trap(call(
        &mut s,
        "wasi:random/random@0.2.0",
        "get-random-bytes",
        vec![Val::U64(5)],
    ));
    assert!(why.contains("disagreed"), "{why}");
}

#[test]
fn output_is_logged_once_however_many_runs() {
    let (mut s, fake) = session(request("GET", "/", &[], b""));
    let (_, runs) = serve(&mut s, |s, _, _| {
        let out = handle(val(s, "wasi:cli/stdout@0.2.0", "get-stdout", vec![]));
        let write = "[method]output-stream.blocking-write-and-flush";
        val(s, STREAMS, write, vec![h(out), b(b"before\nhalf ")]);
        let timer = handle(val(s, CLOCK, "subscribe-duration", vec![Val::U64(SECOND)]));
        call(s, POLL, "[method]pollable.block", vec![h(timer)])?;
        val(s, STREAMS, write, vec![h(out), b(b"a line\nafter\n")]);
        Ok(())
    });
    assert_eq!(runs, 2);
    let lines: Vec<String> = fake.lines.borrow().iter().map(|(_, l)| l.clone()).collect();
    assert_eq!(lines, ["before", "half a line", "after"]);
}

#[test]
fn waiting_on_a_request_whose_body_is_unfinished_traps() {
    let (mut s, _) = session(request("GET", "/", &[], b""));
    s.begin_run();
    let headers = fields(&mut s, &[]);
    let req = handle(val(
        &mut s,
        TYPES,
        "[constructor]outgoing-request",
        vec![h(headers)],
    ));
    let authority = opt(Some(self::s("api.example")));
    val(
        &mut s,
        TYPES,
        "[method]outgoing-request.set-authority",
        vec![h(req), authority],
    );
    let _body = handle(val(
        &mut s,
        TYPES,
        "[method]outgoing-request.body",
        vec![h(req)],
    ));
    let future = handle(val(
        &mut s,
        "wasi:http/outgoing-handler@0.2.0",
        "handle",
        vec![h(req), opt(None)],
    ));
    let pollable = handle(val(
        &mut s,
        TYPES,
        "[method]future-incoming-response.subscribe",
        vec![h(future)],
    ));
    let result = call(&mut s, POLL, "[method]pollable.block", vec![h(pollable)]);
    assert!(matches!(&result, Err(Fault::Trap(why)) if why.contains("would wait forever")));
}
