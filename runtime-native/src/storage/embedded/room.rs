//! After a write found no room on the disk, writes that add data are refused at once for a
//! while, as full, instead of tried: each failed write makes the store reopen its file, which
//! reads the whole of it (276 ms for a store of 256 MiB here) while every operation waits. The
//! while is a second, or ten times what the last reopen took if that is longer, so that a full
//! disk costs at most a tenth of the store's time; a delete that succeeds ends it (it made
//! room).

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Room {
    full: Mutex<Option<Full>>,
}

struct Full {
    since: Instant,
    wait: Duration,
    reason: String,
}

impl Room {
    /// Why a write that adds data is not tried now, if it is not.
    pub fn refusal(&self) -> Option<String> {
        let full = self.full.lock().unwrap_or_else(PoisonError::into_inner);
        let full = full.as_ref().filter(|f| f.since.elapsed() < f.wait)?;
        Some(format!(
            "the disk had no room for a write {} ms ago ({}); writes are tried again {} ms after \
             that, or after a delete",
            full.since.elapsed().as_millis(),
            full.reason,
            full.wait.as_millis(),
        ))
    }

    /// A write found no room, and the store took `reopening` to reopen.
    pub fn full(&self, reason: String, reopening: Duration) {
        *self.full.lock().unwrap_or_else(PoisonError::into_inner) = Some(Full {
            since: Instant::now(),
            wait: (reopening * 10).max(Duration::from_secs(1)),
            reason,
        });
    }

    /// A delete made room.
    pub fn freed(&self) {
        *self.full.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_wait_after_no_room_until_a_delete_or_the_while_ends() {
        let room = Room::default();
        assert_eq!(room.refusal(), None);
        room.full("No space left on device".into(), Duration::ZERO);
        let refusal = room.refusal().expect("refused for a second");
        assert!(refusal.contains("No space left on device"), "{refusal}");
        room.freed();
        assert_eq!(room.refusal(), None);
        // A store that took 5 ms to reopen waits the second; one that took 1 s waits 10.
        room.full("full".into(), Duration::from_millis(5));
        let wait = |room: &Room| room.full.lock().unwrap().as_ref().unwrap().wait;
        assert_eq!(wait(&room), Duration::from_secs(1));
        room.full("full".into(), Duration::from_secs(1));
        assert_eq!(wait(&room), Duration::from_secs(10));
    }
}
