use crate::guest::host;
use std::time::{Duration, SystemTime};

/// Waits for `duration` without blocking the service worker: other requests keep being served.
///
/// # Examples
/// ```no_run
/// # async fn example() {
/// vlugin::sleep(std::time::Duration::from_millis(50)).await;
/// # }
/// ```
pub async fn sleep(duration: Duration) {
    // A timer cannot fail; an error here would only mean there is no runtime, as on the host.
    let _ = host::sleep(duration.as_secs_f64() * 1000.0).await;
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
