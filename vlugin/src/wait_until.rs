use crate::guest::going;
use std::future::Future;

/// Runs `work` after the answer, in the same request's task: the answer goes out first, and
/// the request is over once `work` (and every other such work) has finished. For what the
/// caller need not wait for: writing a log or a counter, warming a cache, telling another
/// service.
///
/// The host bounds the work by the plugin's `timeout_ms`, counted from the answer (from the
/// end of a streamed body), and drops it past that (which cancels what it awaits). Work is
/// lost if the instance is discarded meanwhile, and never run again. A handler may call it
/// several times, and the work itself may call it again.
///
/// # Panics
/// Outside a request's task: there is no request to go on with. In a test, run the handler
/// with [`vlugin::test::serve`](crate::test::serve) (not `block_on`), which runs the work too.
///
/// # Examples
/// ```
/// use vlugin::prelude::*;
///
/// #[vlugin]
/// async fn accept(req: Request) -> &'static str {
///     vlugin::wait_until(async {
///         // After the answer: the caller does not wait for this.
///         let _ = kv::update_json("accepted", |n: Option<u64>| n.unwrap_or(0) + 1).await;
///     });
///     "accepted"
/// }
/// # fn main() {
/// # let host = vlugin::test::Host::new().install();
/// # let mut served = vlugin::test::serve(accept, vlugin::test::request("GET", "/", ""));
/// # assert_eq!(served.text(), "accepted");
/// # served.finish();
/// # assert_eq!(host.kv_get("accepted").as_deref(), Some(&b"1"[..]));
/// # }
/// ```
pub fn wait_until(work: impl Future<Output = ()> + 'static) {
    if going::add_work(Box::pin(work)).is_err() {
        panic!(
            "vlugin::wait_until was called outside a request's task; in a test, run the \
             handler with vlugin::test::serve"
        );
    }
}
