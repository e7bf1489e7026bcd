//! The contract between a Valor host and a plugin module, defined once for every side: the
//! plugin SDK (`vlugin`), its `#[vlugin]` macro, and the hosts (the browser runtime, and any
//! other) all take their names, numbers and encodings from here.
//!
//! The whole protocol, precise enough to implement a host or a plugin in another language, is
//! the [`protocol`] document. In short: a plugin is a raw WebAssembly module (no JS glue). It
//! exports [`exports`] and may import functions from the [`IMPORT_MODULE`] namespace
//! ([`imports`]). Requests and responses cross the boundary as bytes in the plugin's memory, in
//! the encoding of [`codec`]; the plugin's settings arrive at start-up as an [`init`] message.
//!
//! One request's life, as the runtime drives it:
//! 1. `ptr = valor_alloc(len)`, then the runtime copies the encoded request to `ptr..ptr+len`;
//! 2. `task = valor_start(ptr, len)`: the plugin takes ownership of those bytes and starts the
//!    handler's future;
//! 3. `frame = valor_poll(task)`: [`PENDING`] while the future waits, else the address of a
//!    frame, a little-endian `u32` length followed by that many bytes of encoded response;
//! 4. `valor_drop(task)` frees the task and its frame (also how a request is cancelled).
//!
//! While a task waits, it waits on *host operations* (sleep, fetch, storage): an import starts
//! one and returns its id at once. When it finishes, the runtime writes the result (an
//! [`outcome`] byte, then the payload) into memory from `valor_alloc` and calls
//! `valor_complete(op, ptr, len)`, which wakes the tasks waiting on it. After every
//! `valor_poll` and `valor_complete` the runtime takes the woken task ids from `valor_woken` (0
//! when there are none) and polls those tasks again. A dropped future cancels its operation through `cancel(op)`. An
//! operation the runtime refuses to start (past its limit of operations in flight, or a message
//! over the plugin's size limit) still gets an id: its failure is delivered the same way.

#![deny(missing_docs)]

pub mod codec;
pub mod frame;
pub mod init;
pub mod native;
pub mod storage;

pub use codec::DecodeError;

/// The protocol document: every rule a host and a plugin follow.
#[doc = include_str!("../PROTOCOL.md")]
pub mod protocol {}

/// Version of this contract. A plugin reports the version it was built for through the
/// `valor_abi_version` export; the runtime refuses any other.
///
/// 2: host operations (`valor_complete`, `valor_woken`, the async imports), config at init.
/// 3: the init message (config, mount, origin); storage scan and compare-and-swap.
/// 4: stream frames ([`frame`]): streamed answers, and work after the answer; streamed request
/// bodies and outbound streams (`read`, `close`, `fetch_stream`).
pub const ABI_VERSION: u32 = 4;

/// The oldest version a host still accepts: version 4 only added frames (section 17 of the
/// protocol) that a module of version 3 never sends.
pub const OLDEST_ABI_VERSION: u32 = 3;

/// Module name of the functions the runtime provides to plugins.
pub const IMPORT_MODULE: &str = "valor";

/// What `valor_poll` returns while the request's future is not finished.
pub const PENDING: u32 = 0;

/// Names of the functions every plugin exports (besides its `memory`).
pub mod exports {
    /// `() -> u32`: the [`ABI_VERSION`](super::ABI_VERSION) the plugin was built for.
    pub const ABI_VERSION: &str = "valor_abi_version";
    /// `(ptr: u32, len: u32)`: called once after instantiation, before any request, with an
    /// [`init`](super::init) message in memory from `valor_alloc` (the plugin frees it).
    pub const INIT: &str = "valor_init";
    /// `(len: u32) -> ptr`: allocates `len` bytes the runtime may write into. 0 means the
    /// allocation failed (for `len > 0`): the runtime then discards the instance.
    pub const ALLOC: &str = "valor_alloc";
    /// `(ptr: u32, len: u32) -> task`: starts handling the encoded request at `ptr`.
    pub const START: &str = "valor_start";
    /// `(task: u32) -> frame`: drives the task; [`PENDING`](super::PENDING) or a response frame.
    pub const POLL: &str = "valor_poll";
    /// `(task: u32)`: frees a task, finished or not.
    pub const DROP: &str = "valor_drop";
    /// `(op: u32, ptr: u32, len: u32)`: the result of a host operation, in memory from
    /// `valor_alloc` (the plugin frees it).
    pub const COMPLETE: &str = "valor_complete";
    /// `() -> task`: the next task woken since the last call, or 0. The runtime drains it after
    /// every call into the plugin, and discards an instance that reports more than 65,536 tasks
    /// in one drain.
    pub const WOKEN: &str = "valor_woken";
    /// The exported linear memory.
    pub const MEMORY: &str = "memory";

    /// How many parameters each exported function takes (all `u32`; see each name).
    pub const PARAMS: [(&str, u32); 8] = [
        (ABI_VERSION, 0),
        (INIT, 2),
        (ALLOC, 1),
        (START, 2),
        (POLL, 1),
        (DROP, 1),
        (COMPLETE, 3),
        (WOKEN, 0),
    ];

    /// Every export the runtime needs, in the order it checks them.
    pub const REQUIRED: [&str; 9] = [
        ABI_VERSION,
        INIT,
        ALLOC,
        START,
        POLL,
        DROP,
        COMPLETE,
        WOKEN,
        MEMORY,
    ];
}

/// Names of the functions a plugin may import from [`IMPORT_MODULE`](super::IMPORT_MODULE).
pub mod imports {
    /// `(ptr: u32, len: u32)`: the UTF-8 message of a panic, reported just before the trap.
    /// The runtime keeps its first [`MAX_TEXT_BYTES`](super::MAX_TEXT_BYTES).
    pub const PANIC: &str = "panic";
    /// `(level: u32, ptr: u32, len: u32)`: a UTF-8 log line; levels as `log::Level` (1 = error
    /// .. 5 = trace). The runtime keeps its first [`MAX_TEXT_BYTES`](super::MAX_TEXT_BYTES).
    pub const LOG: &str = "log";
    /// `() -> f64`: wall-clock time, milliseconds since the Unix epoch.
    pub const NOW: &str = "now";
    /// `(ptr: u32, len: u32)`: fills the bytes with cryptographically secure random data.
    pub const RANDOM: &str = "random";
    /// `(ms: f64) -> op`: completes (with an empty payload) after `ms` milliseconds.
    pub const SLEEP: &str = "sleep";
    /// `(ptr: u32, len: u32) -> op`: an outbound HTTP request, encoded as by
    /// [`codec::encode_request`](super::codec::encode_request) with an absolute URI or a path on
    /// the app's own origin; completes with an encoded response.
    pub const FETCH: &str = "fetch";
    /// `(ptr: u32, len: u32) -> op`: a [`storage`](super::storage) command on the plugin's own
    /// key-value namespace.
    pub const KV: &str = "kv";
    /// `(op: u32)`: the plugin no longer wants the operation's result.
    pub const CANCEL: &str = "cancel";
    /// `(body: u32) -> op` (ABI 4): the next bytes of a streamed body (a request's, or a
    /// `fetch_stream` response's; [`codec::STREAMED_BODY`](super::codec::STREAMED_BODY)):
    /// completes with at least one byte, or with none at its end.
    pub const READ: &str = "read";
    /// `(body: u32)` (ABI 4): the plugin reads no more of a streamed body; the host lets go of
    /// its source.
    pub const CLOSE: &str = "close";
    /// `(ptr: u32, len: u32) -> op` (ABI 4): an outbound request as [`FETCH`], completing with
    /// a response whose body is streamed (read with [`READ`]).
    pub const FETCH_STREAM: &str = "fetch_stream";

    /// Every function of this ABI version: a plugin importing anything else was built for
    /// another version (or is not a Valor plugin), and the runtime says so.
    pub const ALL: [&str; 11] = [
        PANIC,
        LOG,
        NOW,
        RANDOM,
        SLEEP,
        FETCH,
        KV,
        CANCEL,
        READ,
        CLOSE,
        FETCH_STREAM,
    ];
}

/// How much of a log line or panic message the runtime reads (8 KiB): the rest is dropped and
/// the text says so, whatever length the plugin names.
pub const MAX_TEXT_BYTES: u32 = 8 * 1024;

/// The first byte of every host operation's result; the rest is the payload.
pub mod outcome {
    /// Success: the payload is the operation's result.
    pub const OK: u8 = 0;
    /// Failure: the payload is a UTF-8 message.
    pub const FAILED: u8 = 1;
    /// Refused by policy (e.g. a host not in `allowed_hosts`): the payload is a UTF-8 message.
    pub const DENIED: u8 = 2;
}
