//! When a plugin's module could not be loaded (its server answered 503, the network was down):
//! a later request loads it again, once a pause has passed that doubles with every failure in a
//! row, so a plugin that is really gone is not fetched again for every request.

use std::cell::Cell;

/// The pause after the first failure.
const FIRST_PAUSE_MS: f64 = 1_000.0;
/// The longest pause.
const LONGEST_PAUSE_MS: f64 = 60_000.0;

/// The failures in a row of one plugin's loads, and when the next load may start.
#[derive(Default)]
pub struct Backoff {
    failures: Cell<u32>,
    retry_at_ms: Cell<f64>,
}

impl Backoff {
    /// A load failed at `now_ms`: the next one waits twice as long as the last.
    pub fn failed(&self, now_ms: f64) {
        let failures = self.failures.get().saturating_add(1);
        self.failures.set(failures);
        let pause = FIRST_PAUSE_MS * 2f64.powi(failures.min(16) as i32 - 1);
        self.retry_at_ms.set(now_ms + pause.min(LONGEST_PAUSE_MS));
    }

    /// A load succeeded.
    pub fn succeeded(&self) {
        self.failures.set(0);
    }

    /// Whether a failed load may be tried again at `now_ms`.
    pub fn is_over(&self, now_ms: f64) -> bool {
        now_ms >= self.retry_at_ms.get()
    }

    /// Whole seconds until the next load may start (at least 1).
    pub fn seconds_left(&self, now_ms: f64) -> u32 {
        ((self.retry_at_ms.get() - now_ms) / 1000.0).ceil().max(1.0) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_minute_and_reset_on_success() {
        let backoff = Backoff::default();
        assert!(backoff.is_over(0.0), "nothing failed yet");
        let mut pauses = Vec::new();
        for _ in 0..9 {
            backoff.failed(0.0);
            pauses.push(backoff.seconds_left(0.0));
        }
        assert_eq!(pauses, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert!(!backoff.is_over(59_999.0));
        assert!(backoff.is_over(60_000.0));
        backoff.succeeded();
        backoff.failed(100_000.0);
        assert_eq!(backoff.seconds_left(100_000.0), 1, "counting starts again");
    }
}
