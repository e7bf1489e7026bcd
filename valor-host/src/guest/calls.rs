//! The calls a host makes into a plugin outside a request's own polls: writing a message into
//! its memory, initialising it, delivering an operation's result, draining woken tasks. A fault
//! in any of them breaks the instance down.

use super::{Address, Guest};
use crate::fault::Fault;
use crate::limits::{self, MAX_WOKEN_PER_DRAIN};

/// One call into the plugin, made for a request at `depth` (polling `task`, or 0): its imports
/// see that depth, and a fault breaks the instance down.
pub(super) fn call<G: Guest, R>(
    guest: &mut G,
    depth: u32,
    task: u32,
    call: impl FnOnce(&mut G) -> Result<R, Fault>,
) -> Result<R, Fault> {
    guest.table(|table| table.calling(depth, task));
    let made = call(guest);
    guest.table(|table| {
        table.calling(0, 0);
        made.map_err(|fault| table.break_down(fault))
    })
}

/// Has the plugin allocate `len` bytes, for a request at `depth`.
pub(super) fn alloc<G: Guest>(guest: &mut G, len: u32, depth: u32) -> Result<Address, Fault> {
    let ptr = call(guest, depth, 0, |guest| guest.alloc(len))?;
    if ptr == 0 && len > 0 {
        // Address 0 is never a live allocation: writing there would corrupt the plugin.
        let fault = match guest.growth_refused() {
            true => Fault::OutOfMemory,
            false => Fault::Violation(format!(
                "valor_alloc returned 0 for {len} bytes (out of memory?)"
            )),
        };
        return Err(guest.table(|table| table.break_down(fault)));
    }
    Ok(ptr)
}

/// Copies `bytes` into memory the plugin allocates (and then owns), for a request at `depth`.
pub(super) fn write<G: Guest>(
    guest: &mut G,
    bytes: &[u8],
    depth: u32,
) -> Result<(Address, u32), Fault> {
    let Ok(len) = u32::try_from(bytes.len()) else {
        let fault = Fault::Violation("a message larger than 4 GiB".into());
        return Err(guest.table(|table| table.break_down(fault)));
    };
    let ptr = alloc(guest, len, depth)?;
    guest
        .write(ptr, bytes)
        .map_err(|fault| guest.table(|table| table.break_down(fault)))?;
    Ok((ptr, len))
}

/// Hands a fresh instance its init message (`valor_init`).
pub fn init<G: Guest>(guest: &mut G, message: &[u8]) -> Result<(), Fault> {
    let (ptr, len) = write(guest, message, 0)?;
    call(guest, 0, 0, |guest| guest.init(ptr, len))
}

/// Hands the plugin the result of host operation `op`, unless it no longer wants it (it
/// cancelled it, or the instance was discarded).
pub fn complete<G: Guest>(guest: &mut G, op: u32, result: &[u8]) {
    let streamed = match result.split_first() {
        Some((&valor_abi::outcome::OK, response)) => valor_abi::codec::streamed_handle(response),
        _ => None,
    };
    if guest.table(|table| table.finish_op(op, streamed)) {
        deliver(guest, op, result);
    }
}

/// Delivers the refusals due: a host calls it when it was asked to
/// ([`imports::Host::deliver_refusals_later`](super::imports::Host::deliver_refusals_later)).
pub fn deliver_refusals<G: Guest>(guest: &mut G) {
    for (op, result) in guest.table(|table| table.take_refusals()) {
        deliver(guest, op, &result);
    }
}

fn deliver<G: Guest>(guest: &mut G, op: u32, result: &[u8]) {
    if guest.table(|table| table.is_broken()) {
        return;
    }
    // Made for no request in particular: at the depth of the deepest one in flight.
    let depth = guest.table(|table| table.deepest());
    let delivered = write(guest, result, depth)
        .and_then(|(ptr, len)| call(guest, depth, 0, |guest| guest.complete(op, ptr, len)));
    if delivered.is_ok() {
        // A fault while waking has already broken the instance down.
        let _ = wake_woken(guest);
    }
}

/// Hands every task the plugin reports woken to the dispatch waiting for it. A failure (a
/// fault, or a plugin that never stops reporting tasks) breaks the instance down.
pub(super) fn wake_woken<G: Guest>(guest: &mut G) -> Result<(), Fault> {
    let depth = guest.table(|table| table.deepest());
    for _ in 0..MAX_WOKEN_PER_DRAIN {
        match call(guest, depth, 0, |guest| guest.woken())? {
            0 => return Ok(()),
            task => guest.table(|table| table.wake(task)),
        }
    }
    let fault = Fault::Violation(limits::woken_never_ends());
    Err(guest.table(|table| table.break_down(fault)))
}
