//! What a dispatch answers (`guest::dispatch`): whole, as in ABI 3 or with `RESPONSE`, perhaps
//! handing on a task that goes on working; streamed after a `HEAD`; refused when the first
//! frame cannot begin an answer (PROTOCOL.md, section 17.1).

use super::steps::{chunk, done, end, end_continues, head, stream, whole, Step};
use super::{block_on, calls, poll_once, Act, FakeInstance};
use crate::fault::Fault;
use crate::guest::{dispatch, Answer};
use std::task::Poll;
use valor_abi::frame;

/// What the fake answers when its task takes `steps`.
fn answer(fake: &FakeInstance, steps: Vec<Step>) -> Result<Answer<&FakeInstance>, Fault> {
    let request = fake.request(Act::Steps(steps));
    block_on(dispatch(fake, &request, None, 0))
}

#[test]
fn a_plain_answer_of_abi_3_is_whole_and_its_task_dropped() {
    let fake = FakeInstance::new();
    let request = fake.request(Act::Answer);
    let answer = block_on(dispatch(&fake, &request, None, 0));
    let Ok(Answer::Whole { frame, after }) = answer else {
        panic!("a whole answer, not {answer:?}");
    };
    assert_eq!((frame.head.status, &frame.body[..]), (200, &b"Answer"[..]));
    assert!(after.is_none());
    assert_eq!(fake.plugin.borrow().dropped, [1]);
}

#[test]
fn a_response_frame_that_does_not_continue_is_whole_and_its_task_dropped() {
    let fake = FakeInstance::new();
    let answer = answer(&fake, vec![whole(b"all of it", false)]);
    let Ok(Answer::Whole { frame, after }) = answer else {
        panic!("a whole answer, not {answer:?}");
    };
    assert_eq!(frame.body, b"all of it");
    assert!(after.is_none());
    assert_eq!(fake.plugin.borrow().dropped, [1]);
}

#[test]
fn a_whole_answer_that_continues_hands_its_task_on() {
    let fake = FakeInstance::new();
    let answer = answer(&fake, vec![whole(b"accepted", true), done()]);
    let Ok(Answer::Whole { frame, after }) = answer else {
        panic!("a whole answer, not {answer:?}");
    };
    assert_eq!(frame.body, b"accepted");
    let after = after.expect("the task, which goes on working");
    assert!(fake.plugin.borrow().dropped.is_empty(), "not dropped yet");
    assert_eq!(fake.polls(1), 1);
    drop(after);
    assert_eq!(fake.plugin.borrow().dropped, [1]);
}

#[test]
fn a_head_hands_the_task_on_to_stream_its_body() {
    let fake = FakeInstance::new();
    let mut steps = vec![head(&[(b"x-kind", b"stream")])];
    steps.extend(stream(&[b"a"]).into_iter().skip(1));
    let answer = answer(&fake, steps);
    let Ok(Answer::Streamed { head, body }) = answer else {
        panic!("a streamed answer, not {answer:?}");
    };
    assert_eq!(head.status, 200);
    assert_eq!(&head.bytes[head.headers[0].1.clone()], b"stream");
    // Nothing of the body is asked for until its reader pulls it.
    assert_eq!(fake.polls(1), 1);
    assert!(fake.plugin.borrow().dropped.is_empty());
    drop(body);
    assert_eq!(fake.plugin.borrow().dropped, [1]);
}

#[test]
fn a_head_after_a_wait_is_read_once_the_task_is_woken() {
    let fake = FakeInstance::new();
    let request = fake.request(Act::Steps(vec![Step::Pending, head(&[]), end("")]));
    let mut waiting = Box::pin(dispatch(&fake, &request, None, 0));
    assert!(poll_once(&mut waiting).is_pending());
    assert!(
        poll_once(&mut waiting).is_pending(),
        "not polled until woken"
    );
    assert_eq!(fake.polls(1), 1);
    calls::complete(&mut &fake, 1, &crate::result::ok(b""));
    let Poll::Ready(Ok(Answer::Streamed { .. })) = poll_once(&mut waiting) else {
        panic!("the woken task streams its answer");
    };
    assert_eq!(fake.polls(1), 2);
}

#[test]
fn a_first_frame_that_is_a_chunk_an_end_or_done_is_a_bad_frame_and_the_instance_kept() {
    let fake = FakeInstance::new();
    let firsts = [chunk(b"early"), end(""), end_continues(), done()];
    for (task, first) in (1..).zip(firsts) {
        let answer = answer(&fake, vec![first.clone()]);
        let Err(Fault::BadFrame(why)) = answer else {
            panic!("a bad frame, not {answer:?} after {first:?}");
        };
        assert_eq!(why, "the first frame of a task is a CHUNK, END or DONE");
        assert_eq!(fake.plugin.borrow().dropped.last(), Some(&task));
    }
    assert!(!fake.table.borrow().is_broken());
    assert!(answer(&fake, vec![whole(b"fine", false)]).is_ok());
}

#[test]
fn a_malformed_first_frame_is_a_bad_frame_and_the_instance_kept() {
    let fake = FakeInstance::new();
    let answer = answer(&fake, vec![Step::Frame(frame::stream(9, b""))]);
    assert!(matches!(answer, Err(Fault::BadFrame(_))), "{answer:?}");
    assert_eq!(fake.plugin.borrow().dropped, [1]);
    assert!(!fake.table.borrow().is_broken());
}
