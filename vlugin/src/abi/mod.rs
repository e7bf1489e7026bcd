//! The contract between the Valor runtime and a plugin module, defined once for both sides.
//!
//! A plugin is a raw WebAssembly module (no JS glue). It exports [`exports`] and may import
//! functions from the [`IMPORT_MODULE`] namespace ([`imports`]). Requests and responses cross
//! the boundary as bytes in the plugin's memory, in the encoding of [`codec`].
//!
//! One request's life, as the runtime drives it:
//! 1. `ptr = valor_alloc(len)`, then the runtime copies the encoded request to `ptr..ptr+len`;
//! 2. `task = valor_start(ptr, len)`: the plugin takes ownership of those bytes and starts the
//!    handler's future;
//! 3. `frame = valor_poll(task)`: [`PENDING`] while the future waits, else the address of a
//!    frame, a little-endian `u32` length followed by that many bytes of encoded response;
//! 4. `valor_drop(task)` frees the task and its frame (also how a request is cancelled).

pub mod codec;

/// Version of this contract. A plugin reports the version it was built for through the
/// `valor_abi_version` export; the runtime refuses any other.
pub const ABI_VERSION: u32 = 1;

/// Module name of the functions the runtime provides to plugins.
pub const IMPORT_MODULE: &str = "valor";

/// What `valor_poll` returns while the request's future is not finished.
pub const PENDING: u32 = 0;

/// Names of the functions every plugin exports (besides its `memory`).
pub mod exports {
    /// `() -> u32`: the [`ABI_VERSION`](super::ABI_VERSION) the plugin was built for.
    pub const ABI_VERSION: &str = "valor_abi_version";
    /// `()`: called once after instantiation, before any request.
    pub const INIT: &str = "valor_init";
    /// `(len: u32) -> ptr`: allocates `len` bytes the runtime may write into.
    pub const ALLOC: &str = "valor_alloc";
    /// `(ptr: u32, len: u32) -> task`: starts handling the encoded request at `ptr`.
    pub const START: &str = "valor_start";
    /// `(task: u32) -> frame`: drives the task; [`PENDING`](super::PENDING) or a response frame.
    pub const POLL: &str = "valor_poll";
    /// `(task: u32)`: frees a task, finished or not.
    pub const DROP: &str = "valor_drop";
    /// The exported linear memory.
    pub const MEMORY: &str = "memory";

    /// Every export the runtime needs, in the order it checks them.
    pub const REQUIRED: [&str; 7] = [ABI_VERSION, INIT, ALLOC, START, POLL, DROP, MEMORY];
}

/// Names of the functions a plugin may import from [`IMPORT_MODULE`](super::IMPORT_MODULE).
pub mod imports {
    /// `(ptr: u32, len: u32)`: the UTF-8 message of a panic, reported just before the trap.
    pub const PANIC: &str = "panic";
}
