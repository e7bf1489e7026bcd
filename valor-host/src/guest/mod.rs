//! The plugin protocol, written once for every host: the state machine between a host and one
//! plugin instance (PROTOCOL.md), with no I/O of its own.
//!
//! A host implements [`Guest`], the calls into one instance (its exports, its memory), and
//! [`Instance`], how a dispatch gets hold of it between `await`s. Everything else is here:
//!
//! - [`Table`]: the instance's host operations (ids, the quota, refusals, effects, waiters);
//! - [`calls`]: writing into the plugin, delivering results, draining woken tasks;
//! - [`dispatch`](mod@dispatch): one request through an instance, poll after poll, and its task dropped
//!   however the dispatch ends;
//! - [`read`]: a frame (a response frame, or a stream frame of ABI 4), checked and read out of
//!   plugin memory;
//! - [`imports`]: the plugin's imports that start host operations or read its text, over a
//!   host's [`imports::Host`];
//! - [`exports`]: the ABI version and export checks, and their texts.
//!
//! Two rules keep it sound on every host: the table is never borrowed across a call into the
//! plugin (the plugin's imports use it during the call), and after a fault the instance is never
//! called again.

pub mod calls;
pub mod dispatch;
pub mod exports;
pub mod imports;
pub mod read;
mod table;
pub mod task;
#[cfg(test)]
mod tests;

pub use dispatch::{dispatch, Answer};
pub use read::{Frame, Piece};
use table::Started;
pub use table::Table;
pub use task::Task;

use crate::fault::Fault;

/// Where something lies in a plugin's memory: a wasm address (32 bits), or a native pointer.
pub type Address = u64;

/// The calls into one plugin instance, as its host makes them. Each call into the plugin returns
/// the host's reading of a failure as a [`Fault`] (fuel used up, memory refused, a panic, a
/// trap); the core then breaks the instance down. None may be made while [`Guest::table`]'s
/// closure runs.
pub trait Guest {
    /// What `valor_start` is handed: an encoded request, however the host holds it.
    type Request: ?Sized;
    /// A response body, as the host keeps it once read out of plugin memory.
    type Body;

    /// Runs `use_table` on the instance's operation table. The borrow ends when it returns, so
    /// the plugin's imports can use the table during the next call into the plugin.
    fn table<R>(&mut self, use_table: impl FnOnce(&mut Table) -> R) -> R;

    /// `valor_alloc(len)`.
    fn alloc(&mut self, len: u32) -> Result<Address, Fault>;
    /// `valor_init(ptr, len)`.
    fn init(&mut self, ptr: Address, len: u32) -> Result<(), Fault>;
    /// `valor_start(ptr, len)`: the new task's id.
    fn start(&mut self, ptr: Address, len: u32) -> Result<u32, Fault>;
    /// `valor_poll(task)`: `PENDING` (0), or the address of a response frame.
    fn poll(&mut self, task: u32) -> Result<Address, Fault>;
    /// `valor_complete(op, ptr, len)`.
    fn complete(&mut self, op: u32, ptr: Address, len: u32) -> Result<(), Fault>;
    /// `valor_woken()`: a task to poll again, or 0.
    fn woken(&mut self) -> Result<u32, Fault>;
    /// `valor_drop(task)`.
    fn drop_task(&mut self, task: u32) -> Result<(), Fault>;

    /// Copies `bytes` to `ptr`, memory the plugin has just allocated for them.
    fn write(&mut self, ptr: Address, bytes: &[u8]) -> Result<(), Fault>;
    /// The length of an encoded request.
    fn request_len(request: &Self::Request) -> u32;
    /// Copies an encoded request to `ptr`, memory the plugin has just allocated for it.
    fn write_request(&mut self, ptr: Address, request: &Self::Request) -> Result<(), Fault>;
    /// How many bytes of memory lie at and after `ptr` (0 if it is outside the memory).
    fn readable(&mut self, ptr: Address) -> u64;
    /// A copy of `len` bytes at `ptr`, which the caller checked are readable.
    fn read(&mut self, ptr: Address, len: u32) -> Vec<u8>;
    /// A response body of `len` bytes at `ptr` (checked readable), copied out of the plugin.
    fn read_body(&mut self, ptr: Address, len: u32) -> Self::Body;

    /// Whether the plugin's last `memory.grow` was refused (its `memory_mb`).
    fn growth_refused(&mut self) -> bool;
    /// Whether the instance holds more memory than its cap, where the engine cannot refuse the
    /// growth itself (checked after each poll).
    fn over_memory_cap(&mut self) -> bool {
        false
    }
}

/// A live instance, as the dispatches running on it hold it: each step of a dispatch enters it,
/// makes its calls, and leaves before the next `await` (on the server, that is its lock).
pub trait Instance {
    /// What `valor_start` is handed.
    type Request: ?Sized;
    /// A response body, once read.
    type Body;
    /// The instance, entered.
    type Guest<'a>: Guest<Request = Self::Request, Body = Self::Body>
    where
        Self: 'a;

    /// Enters the instance for one step.
    fn enter(&self) -> Self::Guest<'_>;

    /// The length of a body (or chunk) read out of the plugin.
    fn body_len(body: &Self::Body) -> u64;
}

/// Why `len` bytes at `ptr` cannot be read or written.
pub fn out_of_bounds(ptr: Address, len: u32) -> Fault {
    Fault::BadFrame(format!(
        "{len} bytes at address {ptr} lie outside its memory"
    ))
}
