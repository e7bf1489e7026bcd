//! The protocol core against a fake guest: a plugin simulated in Rust, driven by what each
//! request asks of it, whose imports (the core's, [`super::imports`]) use the operation table
//! during calls as a real one does.

mod after;
mod answers;
mod bodies;
mod frames;
mod imports;
mod reader;
mod steps;
mod streams;

use super::imports::{self as import, Operation};
use super::{calls, Address, Answer, Frame, Guest, Instance, Table};
use crate::context::PluginContext;
use crate::fault::Fault;
use crate::limits::{MAX_OPS_IN_FLIGHT, MAX_WOKEN_PER_DRAIN};
use futures::executor::block_on;
use futures::future::AbortRegistration;
use futures::task::noop_waker_ref;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use steps::Step;
use valor_abi::{codec, outcome};

/// What a request asks the fake plugin to do when its task is first polled.
#[derive(Clone, Debug)]
enum Act {
    /// Answer 200 with the request's own bytes as the body.
    Answer,
    /// Start `n` host operations (sleeps: no effects), then wait for the first one.
    Start(usize),
    /// Start one operation with an effect outside the plugin (a fetch of [`FETCHED`]), then
    /// wait for it.
    Fetch,
    /// Trap.
    Trap,
    /// Answer with a frame whose length says `n` bytes.
    Frame(u32),
    /// One step per poll, in order (frames of ABI 4, say); polled once more, the fake panics.
    Steps(Vec<Step>),
}

#[derive(Default)]
struct Fake {
    memory: Vec<u8>,
    next_task: u32,
    /// Each live task: what it does, and the operations it waits on.
    tasks: HashMap<u32, (Act, Vec<u32>)>,
    /// Tasks to report from `valor_woken`; `storm` reports one for ever.
    woken: Vec<u32>,
    storm: bool,
    /// What the imports saw: the depth of each call made into the plugin that started something.
    depths_seen: Vec<u32>,
    /// Results delivered through `valor_complete`.
    completed: Vec<(u32, Vec<u8>)>,
    dropped: Vec<u32>,
    /// How many times each task was polled.
    polls: HashMap<u32, usize>,
    /// What the imports spawned, in order.
    spawned: Vec<(u32, Operation)>,
    /// How many deliveries of refusals the imports scheduled.
    refusals_scheduled: u32,
    /// The reads the imports made, and whether the reading task's effect was recorded first.
    reads: Vec<(Address, u32, bool)>,
    /// The task last polled (0: none yet), whose imports run now.
    polling: u32,
    /// What the imports logged, the random bytes they filled.
    logs: Vec<(u32, String)>,
    random: Vec<(Address, u32)>,
}

/// The request the fake plugin fetches.
const FETCHED: &[u8] = b"GET https://example.com/";

struct FakeInstance {
    context: PluginContext<()>,
    table: RefCell<Table>,
    plugin: RefCell<Fake>,
    /// The request bytes of each act, as the host writes them.
    acts: RefCell<HashMap<Vec<u8>, Act>>,
}

impl FakeInstance {
    fn new() -> Self {
        Self {
            context: PluginContext {
                stream_idle_ms: 60_000,
                stream_requests: false,
                name: "fake".into(),
                allowlist: Default::default(),
                max_body_bytes: 1024,
                fuel: None,
                memory_mb: 1,
                origin: "https://app.example".into(),
                host: (),
            },
            table: RefCell::new(Table::new("fake", 1024)),
            plugin: RefCell::new(Fake {
                memory: vec![0; 8],
                ..Fake::default()
            }),
            acts: RefCell::default(),
        }
    }

    /// A request (its bytes) that makes the plugin `act`.
    fn request(&self, act: Act) -> Vec<u8> {
        let bytes = format!("{act:?}").into_bytes();
        self.acts.borrow_mut().insert(bytes.clone(), act);
        bytes
    }

    /// The `fetch`/`sleep` import, as a plugin calls it during a call into it.
    fn import_start(&self, effect: bool) -> u32 {
        let depth = self.table.borrow().depth();
        self.plugin.borrow_mut().depths_seen.push(depth);
        if !effect {
            return import::sleep(&mut &*self, 10.0);
        }
        let at = self.plugin.borrow().memory.len();
        self.plugin.borrow_mut().memory.extend_from_slice(FETCHED);
        import::fetch(&mut &*self, at as Address, FETCHED.len() as u32)
    }
}

impl import::Host for &FakeInstance {
    type Bindings = ();

    fn context(&self) -> &PluginContext<()> {
        &self.context
    }

    fn table<R>(&mut self, use_table: impl FnOnce(&mut Table) -> R) -> R {
        use_table(&mut self.table.borrow_mut())
    }

    fn read(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        let mut plugin = self.plugin.borrow_mut();
        // Borrowing the table here fails if the core still holds it.
        let effect = self.table.borrow().had_effects(plugin.polling);
        plugin.reads.push((ptr, len, effect));
        let range = ptr as usize..(ptr as usize).saturating_add(len as usize);
        plugin
            .memory
            .get(range)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    }

    fn spawn(&mut self, op: u32, _run: AbortRegistration, operation: Operation) {
        self.plugin.borrow_mut().spawned.push((op, operation));
    }

    fn deliver_refusals_later(&mut self) {
        self.plugin.borrow_mut().refusals_scheduled += 1;
    }

    fn fill_random(&mut self, ptr: Address, len: u32) -> bool {
        let mut plugin = self.plugin.borrow_mut();
        let fits = ptr + u64::from(len) <= plugin.memory.len() as u64;
        if fits {
            plugin.random.push((ptr, len));
        }
        fits
    }

    fn log(&mut self, level: u32, line: &str) {
        self.plugin.borrow_mut().logs.push((level, line.into()));
    }
}

impl Instance for FakeInstance {
    type Request = [u8];
    type Body = Vec<u8>;
    type Guest<'a> = &'a FakeInstance;

    fn enter(&self) -> &FakeInstance {
        self
    }

    fn body_len(body: &Vec<u8>) -> u64 {
        body.len() as u64
    }
}

/// [`super::dispatch`], for the whole answers of these tests.
async fn dispatch(
    fake: &FakeInstance,
    request: &[u8],
    depth: u32,
) -> Result<Frame<Vec<u8>>, Fault> {
    match super::dispatch(fake, request, None, depth).await? {
        Answer::Whole { frame, .. } => Ok(frame),
        Answer::Streamed { .. } => panic!("a streamed answer"),
    }
}

fn trap() -> Fault {
    Fault::Trap {
        panic: None,
        error: "unreachable".into(),
    }
}

impl Guest for &FakeInstance {
    type Request = [u8];
    type Body = Vec<u8>;

    fn table<R>(&mut self, use_table: impl FnOnce(&mut Table) -> R) -> R {
        use_table(&mut self.table.borrow_mut())
    }

    fn alloc(&mut self, len: u32) -> Result<Address, Fault> {
        // An allocation may start an operation too (a raw module can): it sees the depth.
        let depth = self.table.borrow().depth();
        let mut plugin = self.plugin.borrow_mut();
        plugin.depths_seen.push(depth);
        let at = plugin.memory.len();
        plugin.memory.resize(at + len as usize, 0);
        Ok(at as Address)
    }

    fn init(&mut self, _ptr: Address, _len: u32) -> Result<(), Fault> {
        Ok(())
    }

    fn start(&mut self, ptr: Address, len: u32) -> Result<u32, Fault> {
        let bytes = self.read(ptr, len);
        let act = self.acts.borrow()[&bytes].clone();
        let mut plugin = self.plugin.borrow_mut();
        plugin.next_task += 1;
        let task = plugin.next_task;
        plugin.tasks.insert(task, (act, Vec::new()));
        Ok(task)
    }

    fn poll(&mut self, task: u32) -> Result<Address, Fault> {
        let polled = {
            let mut plugin = self.plugin.borrow_mut();
            plugin.polling = task;
            let polls = plugin.polls.entry(task).or_default();
            *polls += 1;
            *polls - 1
        };
        let (act, waiting) = self.plugin.borrow().tasks[&task].clone();
        // (A scripted task takes its next step, whatever it waited on.)
        if !waiting.is_empty() && !matches!(act, Act::Steps(_)) {
            let done = self
                .plugin
                .borrow()
                .completed
                .iter()
                .any(|(op, _)| *op == waiting[0]);
            return Ok(if done { self.answer(200, b"done") } else { 0 });
        }
        match act {
            Act::Answer => Ok(self.answer(200, format!("{act:?}").as_bytes())),
            Act::Trap => Err(trap()),
            Act::Frame(len) => {
                let mut plugin = self.plugin.borrow_mut();
                let at = plugin.memory.len();
                plugin.memory.extend_from_slice(&len.to_le_bytes());
                Ok(at as Address)
            }
            Act::Start(n) => {
                let ops = (0..n).map(|_| self.import_start(false)).collect();
                self.plugin.borrow_mut().tasks.get_mut(&task).unwrap().1 = ops;
                Ok(0)
            }
            Act::Steps(steps) => {
                let step = steps.get(polled);
                self.step(task, step.expect("a task polled after its last step"))
            }
            Act::Fetch => {
                let op = self.import_start(true);
                self.plugin.borrow_mut().tasks.get_mut(&task).unwrap().1 = vec![op];
                Ok(0)
            }
        }
    }

    fn complete(&mut self, op: u32, ptr: Address, len: u32) -> Result<(), Fault> {
        let result = self.read(ptr, len);
        let mut plugin = self.plugin.borrow_mut();
        plugin.completed.push((op, result));
        let woken: Vec<u32> = plugin
            .tasks
            .iter()
            .filter(|(_, (_, ops))| ops.first() == Some(&op))
            .map(|(task, _)| *task)
            .collect();
        plugin.woken.extend(woken);
        Ok(())
    }

    fn woken(&mut self) -> Result<u32, Fault> {
        let mut plugin = self.plugin.borrow_mut();
        if plugin.storm {
            return Ok(1);
        }
        Ok(plugin.woken.pop().unwrap_or(0))
    }

    fn drop_task(&mut self, task: u32) -> Result<(), Fault> {
        let ops = self.plugin.borrow_mut().tasks.remove(&task).map(|t| t.1);
        // As the SDK does: dropping a task cancels the operations it waited on.
        for op in ops.unwrap_or_default() {
            self.table.borrow_mut().cancel_op(op);
        }
        self.plugin.borrow_mut().dropped.push(task);
        Ok(())
    }

    fn write(&mut self, ptr: Address, bytes: &[u8]) -> Result<(), Fault> {
        let at = ptr as usize;
        self.plugin.borrow_mut().memory[at..at + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    fn request_len(request: &[u8]) -> u32 {
        request.len() as u32
    }

    fn write_request(&mut self, ptr: Address, request: &[u8]) -> Result<(), Fault> {
        self.write(ptr, request)
    }

    fn readable(&mut self, ptr: Address) -> u64 {
        (self.plugin.borrow().memory.len() as u64).saturating_sub(ptr)
    }

    fn read(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        let at = ptr as usize;
        self.plugin.borrow().memory[at..at + len as usize].to_vec()
    }

    fn read_body(&mut self, ptr: Address, len: u32) -> Vec<u8> {
        self.read(ptr, len)
    }

    fn growth_refused(&mut self) -> bool {
        false
    }
}

impl FakeInstance {
    /// Takes `step`, the one of `task` for this poll.
    fn step(&self, task: u32, step: &Step) -> Result<Address, Fault> {
        match step {
            Step::Frame(bytes) => Ok(self.put(bytes)),
            Step::Pending => {
                let op = self.import_start(false);
                self.plugin.borrow_mut().tasks.get_mut(&task).unwrap().1 = vec![op];
                Ok(0)
            }
            Step::Fail(fault) => Err(fault.clone()),
        }
    }

    /// Copies `bytes` to the end of plugin memory; their address.
    fn put(&self, bytes: &[u8]) -> Address {
        let mut plugin = self.plugin.borrow_mut();
        let at = plugin.memory.len();
        plugin.memory.extend_from_slice(bytes);
        at as Address
    }

    /// How many times `task` was polled.
    fn polls(&self, task: u32) -> usize {
        self.plugin.borrow().polls.get(&task).copied().unwrap_or(0)
    }

    /// Writes a response frame into plugin memory; its address.
    fn answer(&self, status: u16, body: &[u8]) -> Address {
        let encoded = codec::encode_response_parts(status, &[(b"a", b"b")], body);
        let mut plugin = self.plugin.borrow_mut();
        let at = plugin.memory.len();
        plugin
            .memory
            .extend_from_slice(&(encoded.len() as u32).to_le_bytes());
        plugin.memory.extend_from_slice(&encoded);
        at as Address
    }
}

/// Polls a dispatch once, as an executor would on its first turn.
fn poll_once<F: Future>(future: &mut Pin<Box<F>>) -> Poll<F::Output> {
    future
        .as_mut()
        .poll(&mut Context::from_waker(noop_waker_ref()))
}

#[test]
fn an_answer_in_the_first_poll_is_read_and_its_task_dropped() {
    let fake = FakeInstance::new();
    let request = fake.request(Act::Answer);
    let frame = block_on(dispatch(&fake, &request, 0)).expect("an answer");
    assert_eq!(frame.head.status, 200);
    assert_eq!(frame.body, b"Answer");
    assert_eq!(fake.plugin.borrow().dropped, [1]);
}

#[test]
fn a_task_waits_for_its_operation_and_is_polled_again_once_woken() {
    let fake = FakeInstance::new();
    let request = fake.request(Act::Start(1));
    let mut waiting = Box::pin(dispatch(&fake, &request, 0));
    assert!(poll_once(&mut waiting).is_pending());
    assert_eq!(fake.table.borrow().ops_in_flight(), 1);
    calls::complete(&mut &fake, 1, &crate::result::ok(b"slept"));
    let Poll::Ready(Ok(frame)) = poll_once(&mut waiting) else {
        panic!("the woken task answers");
    };
    assert_eq!(frame.body, b"done");
    assert_eq!(
        fake.plugin.borrow().completed,
        [(1, vec![outcome::OK, b's', b'l', b'e', b'p', b't'])]
    );
}

#[test]
fn past_the_quota_operations_are_refused_and_told_so_later() {
    let fake = FakeInstance::new();
    let request = fake.request(Act::Start(MAX_OPS_IN_FLIGHT + 2));
    let mut waiting = Box::pin(dispatch(&fake, &request, 0));
    assert!(poll_once(&mut waiting).is_pending());
    assert_eq!(fake.table.borrow().ops_in_flight(), MAX_OPS_IN_FLIGHT);
    // Nothing is delivered inside the call that asked: the refusals wait for the host.
    assert!(fake.plugin.borrow().completed.is_empty());
    calls::deliver_refusals(&mut &fake);
    let completed = fake.plugin.borrow().completed.clone();
    assert_eq!(completed.len(), 2, "both refusals delivered");
    for (op, result) in completed {
        assert!(op as usize > MAX_OPS_IN_FLIGHT);
        assert_eq!(result[0], outcome::FAILED);
        let text = String::from_utf8_lossy(&result[1..]).into_owned();
        assert!(text.contains("4096 host operations in flight"), "{text}");
    }
    assert!(!fake.table.borrow().is_broken());
}

#[test]
fn as_many_refusals_again_discard_the_instance() {
    let fake = FakeInstance::new();
    let request = fake.request(Act::Start(2 * MAX_OPS_IN_FLIGHT + 1));
    let result = block_on(dispatch(&fake, &request, 0));
    let Err(Fault::Violation(why)) = result else {
        panic!("a violation, not {result:?}");
    };
    assert!(
        why.contains("more than 8192 host operations in one call"),
        "{why}"
    );
    assert_eq!(
        fake.table.borrow().ops_in_flight(),
        0,
        "every operation aborted"
    );
}

#[test]
fn a_woken_storm_breaks_the_instance_down() {
    let fake = FakeInstance::new();
    fake.plugin.borrow_mut().storm = true;
    let request = fake.request(Act::Answer);
    let result = block_on(dispatch(&fake, &request, 0));
    let Err(Fault::Violation(why)) = result else {
        panic!("a violation, not {result:?}");
    };
    assert!(why.contains(&MAX_WOKEN_PER_DRAIN.to_string()), "{why}");
    assert!(fake.table.borrow().is_broken());
    // A broken instance is never called again: not even to drop the task.
    assert!(fake.plugin.borrow().dropped.is_empty());
}

#[test]
fn a_cancelled_dispatch_drops_its_task_and_its_operations() {
    let fake = FakeInstance::new();
    let request = fake.request(Act::Start(3));
    let mut waiting = Box::pin(dispatch(&fake, &request, 0));
    assert!(poll_once(&mut waiting).is_pending());
    assert_eq!(fake.table.borrow().ops_in_flight(), 3);
    drop(waiting); // the client went away, or the time limit ran out
    assert_eq!(fake.plugin.borrow().dropped, [1]);
    assert_eq!(fake.table.borrow().ops_in_flight(), 0);
    // A result that arrives after the cancellation is not delivered.
    calls::complete(&mut &fake, 1, &crate::result::ok(b""));
    assert!(fake.plugin.borrow().completed.is_empty());
}

#[test]
fn a_trap_loses_the_waiting_tasks_replayable_unless_they_had_effects() {
    let fake = FakeInstance::new();
    let (quiet, fetching, trapping) = (
        fake.request(Act::Start(1)),
        fake.request(Act::Fetch),
        fake.request(Act::Trap),
    );
    let mut quiet = Box::pin(dispatch(&fake, &quiet, 0));
    let mut fetching = Box::pin(dispatch(&fake, &fetching, 0));
    assert!(poll_once(&mut quiet).is_pending());
    assert!(poll_once(&mut fetching).is_pending());
    let trapped = block_on(dispatch(&fake, &trapping, 0));
    assert!(matches!(trapped, Err(Fault::Trap { .. })), "{trapped:?}");
    assert!(matches!(
        poll_once(&mut quiet),
        Poll::Ready(Err(Fault::Lost { replayable: true }))
    ));
    assert!(matches!(
        poll_once(&mut fetching),
        Poll::Ready(Err(Fault::Lost { replayable: false }))
    ));
    // A request that arrives now never ran: it may run anywhere else.
    let later = fake.request(Act::Answer);
    assert!(matches!(
        block_on(dispatch(&fake, &later, 0)),
        Err(Fault::Lost { replayable: true })
    ));
}

#[test]
fn every_call_into_the_plugin_carries_the_depth_of_its_request() {
    let fake = FakeInstance::new();
    let (deep, shallow) = (fake.request(Act::Start(1)), fake.request(Act::Start(1)));
    let mut deep = Box::pin(dispatch(&fake, &deep, 5));
    let mut shallow = Box::pin(dispatch(&fake, &shallow, 1));
    assert!(poll_once(&mut deep).is_pending());
    assert!(poll_once(&mut shallow).is_pending());
    // The allocation of each request and its poll see its depth.
    assert_eq!(fake.plugin.borrow().depths_seen, [5, 5, 1, 1]);
    // A result delivered for no request in particular is delivered at the deepest depth in
    // flight: what the plugin starts then cannot escape the nesting limit.
    calls::complete(&mut &fake, 2, &crate::result::ok(b""));
    assert_eq!(fake.plugin.borrow().depths_seen[4], 5);
    drop(deep);
    let third = fake.request(Act::Start(2));
    let mut third = Box::pin(dispatch(&fake, &third, 0));
    assert!(poll_once(&mut third).is_pending());
    calls::complete(&mut &fake, 3, &crate::result::ok(b""));
    assert_eq!(fake.plugin.borrow().depths_seen[5..], [0, 0, 0, 1]);
}

#[test]
fn frames_are_checked_before_they_are_copied() {
    let fake = FakeInstance::new();
    // (Bit 31 set would make it a stream frame: the largest plain length.)
    let huge = fake.request(Act::Frame(u32::MAX >> 1));
    assert!(matches!(
        block_on(dispatch(&fake, &huge, 0)),
        Err(Fault::TooLarge(0x7fff_ffff))
    ));
    let fake = FakeInstance::new();
    let beyond = fake.request(Act::Frame(100));
    let result = block_on(dispatch(&fake, &beyond, 0));
    let Err(Fault::BadFrame(why)) = result else {
        panic!("a bad frame, not {result:?}");
    };
    assert!(why.contains("lie outside its memory"), "{why}");
}
