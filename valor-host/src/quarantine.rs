//! A plugin that uses up its fuel on several requests in a row is most likely looping on every
//! request: it is sent none for a while (doubling, as for failed loads), so that it stops
//! freezing its host for a second per request.

use crate::backoff::Backoff;
use std::cell::Cell;

/// Exhaustions in a row that quarantine a plugin.
pub const STRIKES: u32 = 3;

/// One plugin's exhaustions in a row, and its quarantine.
#[derive(Default)]
pub struct Quarantine {
    strikes: Cell<u32>,
    backoff: Backoff,
}

impl Quarantine {
    /// A request used up its fuel at `now_ms`. From the third in a row on, each one
    /// quarantines the plugin, twice as long as the last time.
    pub fn ran_out(&self, now_ms: f64) {
        let strikes = self.strikes.get().saturating_add(1);
        self.strikes.set(strikes);
        if strikes >= STRIKES {
            self.backoff.failed(now_ms);
        }
    }

    /// The plugin answered a request: it starts again with a clean record.
    pub fn answered(&self) {
        self.strikes.set(0);
        self.backoff.succeeded();
    }

    /// While quarantined: the seconds left, and the exhaustions in a row that led to it. The
    /// clock (`now_ms`) is read only then: this is asked before every request.
    pub fn remaining(&self, now_ms: impl FnOnce() -> f64) -> Option<(u32, u32)> {
        let strikes = self.strikes.get();
        if strikes < STRIKES {
            return None;
        }
        let now_ms = now_ms();
        (!self.backoff.is_over(now_ms)).then(|| (self.backoff.seconds_left(now_ms), strikes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_in_a_row_quarantine_and_an_answer_clears_the_record() {
        let quarantine = Quarantine::default();
        quarantine.ran_out(0.0);
        quarantine.ran_out(0.0);
        assert_eq!(quarantine.remaining(|| 0.0), None, "two are not a pattern");
        quarantine.ran_out(0.0);
        assert_eq!(quarantine.remaining(|| 0.0), Some((1, 3)));
        assert_eq!(
            quarantine.remaining(|| 1_000.0),
            None,
            "released after a second"
        );
        quarantine.ran_out(1_000.0);
        assert_eq!(
            quarantine.remaining(|| 1_000.0),
            Some((2, 4)),
            "twice as long"
        );
        quarantine.answered();
        quarantine.ran_out(5_000.0);
        assert_eq!(quarantine.remaining(|| 5_000.0), None);
    }
}
