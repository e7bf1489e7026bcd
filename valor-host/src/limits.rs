//! The fixed limits every host enforces on every plugin (the manifest's limits, per entry, are
//! in [`crate::manifest`]).

/// How many host operations (timers, fetches, storage commands) one instance may have under
/// way: four times what the 1,000 sleeping requests of the benchmarks need, and a bound on the
/// timers, fetches and memory a plugin starting operations in a loop can take from its host.
/// Past it, an operation fails at once with a message instead of starting; as many refusals
/// may await delivery, and one more discards the instance.
pub const MAX_OPS_IN_FLIGHT: usize = 4096;

/// How many tasks one drain of `valor_woken` may report before the plugin is taken to be
/// spinning (a `valor_woken` that never returns 0 would otherwise hold its host for ever).
pub const MAX_WOKEN_PER_DRAIN: u32 = 1 << 16;

/// The largest encoded message (a response frame, an outbound request, a storage command) a
/// plugin may hand its host: its body limit, and 1 MiB for everything around a body.
pub fn max_message_bytes(max_body_bytes: u32) -> u32 {
    max_body_bytes.saturating_add(1 << 20)
}

/// The message of an operation refused for [`MAX_OPS_IN_FLIGHT`].
pub fn over_quota(plugin: &str) -> String {
    format!(
        "plugin '{plugin}' has {MAX_OPS_IN_FLIGHT} host operations in flight, the limit: this \
         one was not started"
    )
}

/// Why an instance that asked for one refusal too many is discarded.
pub fn too_many_operations() -> String {
    format!(
        "it started more than {} host operations in one call ({MAX_OPS_IN_FLIGHT} in flight, as \
         many refused)",
        2 * MAX_OPS_IN_FLIGHT
    )
}

/// Why an instance whose `valor_woken` never returns 0 is discarded.
pub fn woken_never_ends() -> String {
    format!("valor_woken reported more than {MAX_WOKEN_PER_DRAIN} tasks without ever returning 0")
}

/// Why a message of `len` bytes a plugin hands over (`what`: "an outbound request", "a storage
/// command") is refused before anything is copied, if it is larger than [`max_message_bytes`].
pub fn message_too_large(
    plugin: &str,
    max_body_bytes: u32,
    what: &str,
    len: u32,
) -> Option<String> {
    let limit = max_message_bytes(max_body_bytes);
    (len > limit).then(|| {
        format!(
            "{what} of {len} bytes is larger than plugin '{plugin}' may send ({limit} bytes: its \
             max_body_bytes and 1 MiB)"
        )
    })
}

/// Why a `fetch_stream` is refused while the instance has [`MAX_OPS_IN_FLIGHT`] streamed bodies
/// open.
pub fn too_many_bodies(plugin: &str) -> String {
    format!(
        "plugin '{plugin}' has {MAX_OPS_IN_FLIGHT} streamed bodies open, the limit: this request \
         was not sent (a body is closed when it is read to its end or dropped)"
    )
}
