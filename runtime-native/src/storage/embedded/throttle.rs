//! At most one log line of a kind every while, saying how many were left out since: a full
//! disk under many clients makes the store reopen, and let its reserve go, again and again.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One kind of log line, written at most once `every` while.
pub struct Throttle {
    every: Duration,
    /// When the last line was written, and the events since.
    state: Mutex<(Option<Instant>, u64)>,
}

impl Throttle {
    /// A throttle that has written nothing yet.
    pub const fn new(every: Duration) -> Self {
        Self {
            every,
            state: Mutex::new((None, 0)),
        }
    }

    /// An event: `Some(left out since the last line)` when it gets a line.
    pub fn pass(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (last, left_out) = &mut *state;
        if last.is_some_and(|at| at.elapsed() < self.every) {
            *left_out += 1;
            return None;
        }
        *last = Some(Instant::now());
        Some(std::mem::take(left_out))
    }
}

/// ` (and N more since the last such line)`, or nothing.
pub fn more(left_out: u64) -> String {
    match left_out {
        0 => String::new(),
        n => format!(" (and {n} more since the last such line)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_while_then_how_many_were_left_out() {
        let throttle = Throttle::new(Duration::from_secs(3600));
        assert_eq!(throttle.pass(), Some(0));
        assert_eq!(throttle.pass(), None);
        assert_eq!(throttle.pass(), None);
        let quick = Throttle::new(Duration::ZERO);
        assert_eq!(quick.pass(), Some(0));
        assert_eq!(quick.pass(), Some(0));
        assert_eq!(more(2), " (and 2 more since the last such line)");
        assert_eq!(more(0), "");
    }
}
