//! Bodies the script reads from the host as they arrive (PROTOCOL.md, section 18): a request's
//! streamed body and a fetched response's. Each is held here under a number the prelude knows
//! it by; the prelude's `ReadableStream` over it reads one chunk per pull ([`read`]), and
//! closes it when cancelled or no longer reachable ([`close`]).
//!
//! A request's body is closed when the request is over ([`release`]); a fetched body when the
//! script cancels it, reads it to its end, or lets go of its stream: a `FinalizationRegistry`
//! closes it when the script's garbage is collected, which QuickJS does as its heap grows,
//! and the engine does when fetched bodies pile up ([`collection_due`]), as their number is
//! bounded (section 18.1: 4,096 per instance).

use crate::event_loop;
use crate::exchange::Outcome;
use futures::{Stream, StreamExt};
use std::cell::{Cell, RefCell};
use std::task::Poll;
use vlugin::Body;

/// The chunks of a streamed body, as the SDK reads them from the host (dropping them closes
/// the body).
type Chunks = Box<dyn Stream<Item = Result<Vec<u8>, vlugin::Error>> + Unpin>;

/// A body held for the script.
struct Held {
    number: u32,
    /// The request it came with (closed when that request is over), if it is a request's.
    owner: Option<String>,
    /// Its chunks, polled here by a read, so that closing the body drops them at once (and the
    /// host lets go of its source then, a read in flight or not).
    chunks: Chunks,
    /// The operation of its last read, cancelled if the body is closed while it waits.
    read: Option<u32>,
}

/// The fetched bodies held at which the engine first collects the script's garbage.
const FIRST_COLLECTION: usize = 16;

thread_local! {
    /// The bodies the script may read (a few: a list is smaller than a map, and as quick).
    static HELD: RefCell<Vec<Held>> = const { RefCell::new(Vec::new()) };
    static LAST: Cell<u32> = const { Cell::new(0) };
    /// The fetched bodies held at which the engine collects the script's garbage next.
    static COLLECT_AT: Cell<usize> = const { Cell::new(FIRST_COLLECTION) };
}

/// How many fetched bodies are held.
fn fetched() -> usize {
    HELD.with_borrow(|all| all.iter().filter(|held| held.owner.is_none()).count())
}

/// Whether so many fetched bodies are held that the script's garbage should be collected, to
/// close those it let go of unread: at 16, then each time their number doubles (so that bodies
/// the script does hold do not make it collect on every request).
pub fn collection_due() -> bool {
    fetched() >= COLLECT_AT.get()
}

/// The script's garbage was collected: the next collection is due at twice the bodies left.
pub fn collected() {
    COLLECT_AT.set(fetched().saturating_mul(2).max(FIRST_COLLECTION));
}

/// Holds streamed `body` for the script, owned by request `owner` if it is a request's; its
/// number.
pub fn hold(body: Body, owner: Option<&str>) -> u32 {
    let number = LAST.get().wrapping_add(1).max(1);
    LAST.set(number);
    let held = Held {
        number,
        owner: owner.map(str::to_owned),
        chunks: Box::new(body.into_stream()),
        read: None,
    };
    HELD.with_borrow_mut(|all| all.push(held));
    number
}

/// Starts reading the next chunk of body `number`: an operation resolving to its bytes, or
/// `null` at its end; a failed read rejects with `"STATUS message"` (413 when the body passed
/// `max_stream_bytes`, 400 otherwise), which the prelude makes an error with that `status`.
pub fn read(number: u32) -> u32 {
    let op = event_loop::start(async move {
        let item = std::future::poll_fn(|cx| {
            HELD.with_borrow_mut(|all| match all.iter_mut().find(|h| h.number == number) {
                Some(held) => held.chunks.poll_next_unpin(cx).map(Some),
                None => Poll::Ready(None),
            })
        })
        .await;
        let Some(item) = item else {
            return Err("400 the body was closed".into());
        };
        if !matches!(item, Some(Ok(_))) {
            drop(take(number)); // over: the host may let go of it
        }
        match item {
            Some(Ok(bytes)) => Ok(Outcome::Chunk(Some(bytes))),
            None => Ok(Outcome::Chunk(None)),
            Some(Err(error)) => Err(format!("{} {}", error.status().as_u16(), error)),
        }
    });
    HELD.with_borrow_mut(|all| {
        if let Some(held) = all.iter_mut().find(|h| h.number == number) {
            held.read = Some(op);
        }
    });
    op
}

/// The script reads no more of body `number`: the host lets go of it, and a read waiting for
/// it is cancelled.
pub fn close(number: u32) {
    let gone = take(number);
    if let Some(op) = gone.as_ref().and_then(|held| held.read) {
        event_loop::cancel(op);
    }
    drop(gone); // outside the borrow: dropping the chunks calls the host
}

/// Body `number`, no longer held.
fn take(number: u32) -> Option<Held> {
    HELD.with_borrow_mut(|all| {
        let at = all.iter().position(|held| held.number == number)?;
        Some(all.swap_remove(at))
    })
}

/// Request `id` is over: the bodies it came with are closed.
pub fn release(id: &str) {
    let gone: Vec<Held> = HELD.with(|all| {
        let Ok(mut all) = all.try_borrow_mut() else {
            return Vec::new();
        };
        let (gone, kept) = std::mem::take(&mut *all)
            .into_iter()
            .partition(|held| held.owner.as_deref() == Some(id));
        *all = kept;
        gone
    });
    drop(gone);
}
