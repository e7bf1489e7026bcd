//! Streamed bodies in the instance's table (section 18): a request's opened at its task's start
//! and closed with it, `fetch_stream`'s closed when the plugin never learns of it, `read` and
//! `close` on handles.

use super::{block_on, poll_once, Act, FakeInstance};
use crate::bodies::{self, REQUEST_BODY};
use crate::guest::imports::{self as import, Operation};
use crate::guest::{calls, dispatch};
use std::sync::Arc;
use valor_abi::{codec, outcome};

/// The failure delivered for `op`, as text.
fn failure(fake: &FakeInstance, op: u32) -> String {
    calls::deliver_refusals(&mut &*fake);
    let completed = &fake.plugin.borrow().completed;
    let (_, result) = completed
        .iter()
        .find(|(id, _)| *id == op)
        .expect("delivered");
    assert_eq!(result[0], outcome::FAILED);
    String::from_utf8_lossy(&result[1..]).into_owned()
}

#[test]
fn a_request_body_is_opened_for_its_task_and_closed_with_it() {
    let fake = FakeInstance::new();
    let request = fake.request(Act::Start(1));
    // What the host writes: the request, its body field a streamed body of handle 0 ...
    let mut sent = request.clone();
    sent.extend_from_slice(&codec::streamed_body_field(0));
    // ... and what the plugin is handed: the handle the table gave the body.
    let mut started = request;
    started.extend_from_slice(&codec::streamed_body_field(1));
    let act = fake.acts.borrow()[&started[..started.len() - 8]].clone();
    fake.acts.borrow_mut().insert(started, act);

    let body = bodies::whole(REQUEST_BODY, b"upload".to_vec());
    let mut waiting = Box::pin(dispatch(&fake, &sent, Some(&body), 0));
    assert!(poll_once(&mut waiting).is_pending());
    assert_eq!(fake.table.borrow().bodies_open(), 1);
    let op = import::read(&mut &fake, 1);
    {
        let spawned = &fake.plugin.borrow().spawned;
        let (
            _,
            Operation::Read {
                handle, idle_ms, ..
            },
        ) = spawned.last().unwrap()
        else {
            panic!("a read spawned: {spawned:?}");
        };
        assert_eq!((*handle, *idle_ms), (1, 60_000));
        assert!(op > 0);
    }
    drop(waiting);
    assert_eq!(fake.table.borrow().bodies_open(), 0, "closed with its task");
    assert_eq!(
        Arc::strong_count(&body),
        2,
        "held by the host, and the read spawned"
    );
}

#[test]
fn reading_counts_as_an_effect_and_an_unknown_body_cannot_be_read() {
    let fake = FakeInstance::new();
    let op = import::read(&mut &fake, 7);
    assert!(fake.table.borrow().had_effects(0));
    assert!(fake.plugin.borrow().spawned.is_empty());
    assert_eq!(
        failure(&fake, op),
        "no streamed body 7: it is closed, or was never opened"
    );
}

#[test]
fn a_fetched_body_the_plugin_never_learns_of_is_closed() {
    let fake = FakeInstance::new();
    // Refused before anything is read: no body stays open.
    let refused = import::fetch_stream(&mut &fake, 0, u32::MAX);
    assert_eq!(fake.table.borrow().bodies_open(), 0);
    assert!(failure(&fake, refused).starts_with("an outbound request of 4294967295 bytes"));

    let started = |fake: &FakeInstance| {
        let op = import::fetch_stream(&mut &*fake, 0, 4);
        let spawned = &fake.plugin.borrow().spawned;
        let (id, Operation::FetchStream { handle, depth, .. }) = spawned.last().unwrap() else {
            panic!("a fetch_stream spawned");
        };
        assert_eq!((*id, *depth), (op, 0));
        (op, *handle)
    };
    // Failed: closed. Cancelled: closed.
    let (op, _) = started(&fake);
    calls::complete(&mut &fake, op, &crate::result::failed("no answer"));
    assert_eq!(fake.table.borrow().bodies_open(), 0);
    let (op, _) = started(&fake);
    import::cancel(&mut &fake, op);
    assert_eq!(fake.table.borrow().bodies_open(), 0);
    // Answered whole (a plugin of the app): its result is `fetch`'s, and the body closed.
    let (op, _) = started(&fake);
    let whole = codec::encode_response(&http::Response::new(b"abc".to_vec()));
    calls::complete(&mut &fake, op, &crate::result::ok(&whole));
    assert_eq!(fake.table.borrow().bodies_open(), 0);
    // Answered with its body streamed: the plugin reads it until it closes it.
    let (op, handle) = started(&fake);
    calls::complete(&mut &fake, op, &bodies::fetched(200, &[], handle));
    assert_eq!(fake.table.borrow().bodies_open(), 1);
    import::close(&mut &fake, handle);
    import::close(&mut &fake, handle); // twice: nothing
    assert_eq!(fake.table.borrow().bodies_open(), 0);
}

#[test]
fn a_broken_instance_lets_go_of_its_bodies() {
    let fake = FakeInstance::new();
    import::fetch_stream(&mut &fake, 0, 4);
    assert_eq!(fake.table.borrow().bodies_open(), 1);
    let trap = fake.request(Act::Trap);
    assert!(block_on(dispatch(&fake, &trap, None, 0)).is_err());
    assert_eq!(fake.table.borrow().bodies_open(), 0);
}

#[test]
fn only_a_module_of_abi_4_may_read_its_requests_as_streams() {
    use crate::guest::exports::check_streams_requests;
    assert!(check_streams_requests(3, "up", false).is_ok());
    assert!(check_streams_requests(4, "up", true).is_ok());
    assert_eq!(
        check_streams_requests(3, "up", true).unwrap_err(),
        "plugin 'up' sets stream_requests, which needs ABI 4; its module speaks ABI 3: rebuild \
         it with a vlugin release for ABI version 4, or remove stream_requests from its entry"
    );
}
