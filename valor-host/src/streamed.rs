//! A plugin's answer after its task handed it over (PROTOCOL.md, section 17): the chunks of a
//! streamed body, pulled from the task only as its reader asks for them and bounded by the
//! entry's stream limits, and the work a task goes on with after its answer. Each host wraps
//! the chunks in its own stream (a web `ReadableStream`, a hyper body) and runs the work after
//! the answer its own way (`waitUntil`, a spawned task).

use crate::fault::Fault;
use crate::frame::FrameHead;
use crate::guest::task::BodyOf;
use crate::guest::{Instance, Piece, Task};
use crate::manifest::PluginSpec;
use futures::future::{self, Either};
use futures::Stream;
use std::future::Future;
use std::ops::Deref;
use std::pin::pin;

/// The next bytes of a streamed body.
#[derive(Debug)]
pub enum Chunk<B> {
    /// A plugin's, as the host read it out of plugin memory.
    Plugin(B),
    /// The host's own (the comment that says why an event stream ended early).
    Host(Vec<u8>),
}

/// A stream's limits and the names it is reported under, from the plugin's entry.
#[derive(Debug, Clone)]
pub struct Limits {
    plugin: String,
    max_bytes: Option<u64>,
    idle_ms: u32,
    /// How long the work after an answer may take (the entry's `timeout_ms`).
    after_ms: u32,
    spec: PluginSpec,
}

impl Limits {
    /// The limits of the plugin of `spec`.
    pub fn of(spec: &PluginSpec) -> Self {
        Self {
            plugin: spec.name.clone(),
            max_bytes: spec.max_stream_bytes,
            idle_ms: spec.stream_idle_ms,
            after_ms: spec.timeout_ms,
            spec: spec.clone(),
        }
    }

    /// How long the work after an answer may take, in milliseconds.
    pub fn after_ms(&self) -> u32 {
        self.after_ms
    }

    fn fault(&self, fault: Fault) -> String {
        fault.into_error(&self.spec).to_string()
    }
}

/// Whether `head` announces server-sent events (`content-type: text/event-stream`): such a
/// stream ends early with a comment saying why, rather than cut short.
pub fn is_event_stream(head: &FrameHead) -> bool {
    head.headers.iter().any(|(name, value)| {
        head.bytes[name.clone()].eq_ignore_ascii_case(b"content-type")
            && head.bytes[value.clone()]
                .get(..17)
                .is_some_and(|kind| kind.eq_ignore_ascii_case(b"text/event-stream"))
    })
}

/// The body of a streamed answer: each item is polled from `task` when the reader asks for it
/// (never ahead), so a plugin faster than its reader waits. An early end is logged through
/// `log`; an event stream then gets a comment saying why and ends, any other stream ends with
/// `Err(reason)` (the host cuts its body short). `sleep(ms)` is the host's timer; `keep(task)`
/// takes a task that goes on working after its body (`END` with `CONTINUES`), for
/// [`finish`].
pub fn body<P, S, Sleep>(
    task: Task<P>,
    event_stream: bool,
    limits: Limits,
    sleep: S,
    log: fn(&str),
    keep: impl FnOnce(Task<P>),
) -> impl Stream<Item = Result<Chunk<BodyOf<P>>, String>>
where
    P: Deref,
    P::Target: Instance,
    S: Fn(u32) -> Sleep,
    Sleep: Future<Output = ()>,
{
    /// What one pull of the body found.
    enum Step<B> {
        Chunk(B),
        End { continues: bool },
        Early(String),
    }
    let state = (Some(task), 0u64, Some(keep), limits, sleep);
    futures::stream::unfold(state, move |(task, sent, keep, limits, sleep)| {
        async move {
            let current = task.as_ref()?;
            // The timer is made only if the chunk is not ready at once.
            let idle = async { sleep(limits.idle_ms).await };
            let step = match future::select(pin!(current.next()), pin!(idle)).await {
                Either::Left((Ok(Piece::Chunk(bytes)), _)) => Step::Chunk(bytes),
                Either::Left((Ok(Piece::End { reason, continues }), _)) if reason.is_empty() => {
                    Step::End { continues }
                }
                Either::Left((Ok(Piece::End { reason, .. }), _)) => Step::Early(format!(
                    "plugin '{}' ended its stream early: {reason}",
                    limits.plugin
                )),
                Either::Left((Ok(_), _)) => Step::Early(limits.fault(Fault::BadFrame(
                    "a frame other than CHUNK or END in a streamed body".into(),
                ))),
                Either::Left((Err(Fault::Lost { .. }), _)) => Step::Early(format!(
                    "plugin '{}' lost the instance its stream was running on (another request \
                     crashed it)",
                    limits.plugin
                )),
                Either::Left((Err(fault), _)) => Step::Early(limits.fault(fault)),
                Either::Right(_) => Step::Early(format!(
                    "plugin '{}' sent no chunk for {} ms (its entry's stream_idle_ms)",
                    limits.plugin, limits.idle_ms
                )),
            };
            match step {
                Step::Chunk(bytes) => {
                    let sent = sent + chunk_len::<P>(&bytes);
                    match limits.max_bytes.filter(|&max| sent > max) {
                        None => Some((Ok(Chunk::Plugin(bytes)), (task, sent, keep, limits, sleep))),
                        Some(max) => {
                            let reason = format!(
                                "plugin '{}' streamed more than {max} bytes (its entry's \
                                 max_stream_bytes)",
                                limits.plugin
                            );
                            let ended = early(reason, event_stream, log);
                            Some((ended, (None, sent, None, limits, sleep)))
                        }
                    }
                }
                Step::End { continues } => {
                    if let (true, Some(keep), Some(task)) = (continues, keep, task) {
                        keep(task);
                    }
                    None
                }
                Step::Early(reason) => {
                    let ended = early(reason, event_stream, log);
                    Some((ended, (None, sent, None, limits, sleep)))
                }
            }
        }
    })
}

/// How a stream that ends early says so: logged, then a comment for an event stream, an error
/// for any other.
fn early<B>(reason: String, event_stream: bool, log: fn(&str)) -> Result<Chunk<B>, String> {
    log(&reason);
    match event_stream {
        true => Ok(Chunk::Host(sse_comment(&reason))),
        false => Err(reason),
    }
}

/// `: valor: REASON`, then the blank line that ends an event (each line of a longer reason a
/// comment line of its own).
fn sse_comment(reason: &str) -> Vec<u8> {
    let mut comment = String::new();
    for line in reason.lines() {
        comment.push_str(": valor: ");
        comment.push_str(line);
        comment.push('\n');
    }
    comment.push('\n');
    comment.into_bytes()
}

/// A chunk's length, as its host holds it.
fn chunk_len<P>(bytes: &BodyOf<P>) -> u64
where
    P: Deref,
    P::Target: Instance,
{
    <P::Target as Instance>::body_len(bytes)
}

/// Polls `task`, which goes on working after its answer, until it says it is `DONE`, or the
/// time after the answer its entry allows (`limits.after_ms`, the host's `deadline`) is up;
/// then drops it. Why it stopped short, if it did.
pub async fn finish<P>(
    task: Task<P>,
    limits: &Limits,
    deadline: impl Future<Output = ()>,
) -> Result<(), String>
where
    P: Deref,
    P::Target: Instance,
{
    let work = async {
        match task.next().await {
            Ok(Piece::Done) => Ok(()),
            Ok(_) => {
                let fault = Fault::BadFrame("a frame other than DONE after the answer".into());
                Err(limits.fault(fault))
            }
            Err(Fault::Lost { .. }) => Err(format!(
                "plugin '{}' lost the instance its work after the answer was running on \
                 (another request crashed it)",
                limits.plugin
            )),
            Err(fault) => Err(limits.fault(fault)),
        }
    };
    match future::select(pin!(work), pin!(deadline)).await {
        Either::Left((done, _)) => done,
        Either::Right(_) => Err(format!(
            "plugin '{}' was still working {} ms after its answer (its entry's timeout_ms): \
             the work was dropped",
            limits.plugin, limits.after_ms
        )),
    }
}
