//! Work a task goes on with after its answer (PROTOCOL.md, section 17.5): handed on by `END` with
//! `CONTINUES` (`keep`) or `RESPONSE` with `CONTINUES` (`Answer::Whole::after`), and driven to
//! `DONE` within its entry's `timeout_ms` by `valor_host::streamed::finish`.

use super::reader::{limits, log, logged, never, not_kept, plugin, streamed, Got};
use super::steps::{chunk, done, end_continues, head, panic, whole, Step};
use super::{block_on, calls, poll_once, Act, FakeInstance};
use crate::guest::{dispatch, Answer, Task};
use crate::streamed::{self, finish};
use futures::{future, StreamExt};
use std::cell::RefCell;
use std::task::Poll;
use valor_abi::frame::{self, CONTINUES, END};

/// The task of a whole answer that goes on working, taking `steps` after it.
fn working_after(fake: &FakeInstance, steps: Vec<Step>) -> Task<&FakeInstance> {
    let steps = [vec![whole(b"accepted", true)], steps].concat();
    let request = fake.request(Act::Steps(steps));
    match block_on(dispatch(fake, &request, None, 0)) {
        Ok(Answer::Whole { after, .. }) => after.expect("a task that goes on working"),
        other => panic!("a whole answer, not {other:?}"),
    }
}

#[test]
fn an_end_that_continues_hands_the_task_to_keep_and_finish_drives_it_to_done() {
    let fake = FakeInstance::new();
    let steps = vec![
        head(&[]),
        chunk(b"a"),
        end_continues(),
        Step::Pending,
        done(),
    ];
    let (_, task) = streamed(&fake, steps);
    let kept = RefCell::new(None);
    let keep = |task| *kept.borrow_mut() = Some(task);
    let body = streamed::body(task, false, limits(None), never, log, keep);
    let got: Vec<Got> = block_on(body.map(Got::of).collect());
    assert_eq!(got, [plugin(b"a")]);
    let task = kept
        .take()
        .expect("the task kept for its work after the answer");
    assert!(fake.plugin.borrow().dropped.is_empty(), "its work goes on");
    let limits = limits(None);
    let mut finishing = Box::pin(finish(task, &limits, future::pending()));
    assert!(poll_once(&mut finishing).is_pending());
    assert!(fake.plugin.borrow().dropped.is_empty());
    calls::complete(&mut &fake, 1, &crate::result::ok(b""));
    assert_eq!(poll_once(&mut finishing), Poll::Ready(Ok(())));
    assert_eq!(fake.plugin.borrow().dropped, [1], "dropped once DONE");
    assert_eq!(fake.polls(1), 5);
    assert!(logged().is_empty());
}

#[test]
fn the_work_after_a_whole_answer_is_driven_to_done() {
    let fake = FakeInstance::new();
    let task = working_after(&fake, vec![done()]);
    assert_eq!(
        block_on(finish(task, &limits(None), future::pending())),
        Ok(())
    );
    assert_eq!(fake.plugin.borrow().dropped, [1]);
    assert_eq!(fake.polls(1), 2);
}

#[test]
fn finish_past_its_deadline_drops_the_work_and_says_so() {
    let fake = FakeInstance::new();
    let task = working_after(&fake, vec![Step::Pending, done()]);
    let limits = limits(None);
    assert_eq!(limits.after_ms(), 500, "the entry's timeout_ms");
    let finished = block_on(finish(task, &limits, future::ready(())));
    assert_eq!(
        finished,
        Err(
            "plugin 'fake' was still working 500 ms after its answer (its entry's \
             timeout_ms): the work was dropped"
                .into()
        )
    );
    assert_eq!(fake.plugin.borrow().dropped, [1]);
    assert_eq!(fake.table.borrow().ops_in_flight(), 0, "its work cancelled");
}

#[test]
fn a_frame_other_than_done_after_the_answer_is_an_invalid_response() {
    let fake = FakeInstance::new();
    let task = working_after(&fake, vec![chunk(b"late")]);
    assert_eq!(
        block_on(finish(task, &limits(None), future::pending())),
        Err(
            "plugin 'fake' returned an invalid response: a frame other than DONE after the \
             answer"
                .into()
        )
    );
    assert_eq!(fake.plugin.borrow().dropped, [1]);
    assert!(!fake.table.borrow().is_broken());
}

#[test]
fn a_fault_in_the_work_after_the_answer_is_reported() {
    let fake = FakeInstance::new();
    let task = working_after(&fake, vec![panic("late")]);
    assert_eq!(
        block_on(finish(task, &limits(None), future::pending())),
        Err("plugin 'fake' panicked: late".into())
    );
    assert!(fake.table.borrow().is_broken());
    assert!(fake.plugin.borrow().dropped.is_empty());
}

#[test]
fn an_early_end_that_continues_drops_its_task_all_the_same() {
    let fake = FakeInstance::new();
    let early = Step::Frame(frame::stream(END | CONTINUES, b"quota"));
    let (_, task) = streamed(&fake, vec![head(&[]), early, done()]);
    let body = streamed::body(task, false, limits(None), never, log, not_kept);
    let got: Vec<Got> = block_on(body.map(Got::of).collect());
    let why = "plugin 'fake' ended its stream early: quota";
    assert_eq!(got, [Got::Cut(why.into())]);
    assert_eq!(fake.plugin.borrow().dropped, [1]);
}
