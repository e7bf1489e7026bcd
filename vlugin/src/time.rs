use crate::guest::{host, ops::HostOp};
use std::time::{Duration, SystemTime};

/// Waits for `duration` without blocking the service worker: other requests keep being served.
///
/// It ends early only if the runtime refuses the timer: past the limit of host operations an
/// instance may have in flight (4,096), which is logged as an error.
///
/// # Examples
/// ```no_run
/// # async fn example() {
/// vlugin::sleep(std::time::Duration::from_millis(50)).await;
/// # }
/// ```
pub async fn sleep(duration: Duration) {
    // Off wasm32 there is no runtime, and so no timer: not worth a log line.
    let result = HostOp::new(host::sleep(duration.as_secs_f64() * 1000.0))
        .result(crate::Error::Denied)
        .await;
    if let (Err(error), true) = (result, cfg!(target_arch = "wasm32")) {
        host::log(log::Level::Error, &format!("sleep ended early: {error}"));
    }
}

/// The wall-clock time. (`SystemTime::now()` itself panics on wasm32-unknown-unknown.)
///
/// # Examples
/// ```
/// let now = vlugin::now();
/// assert!(now > std::time::UNIX_EPOCH);
/// ```
pub fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs_f64(host::now_ms().max(0.0) / 1000.0)
}
