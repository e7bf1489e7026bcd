//! After an operation found no room on the disk, operations of its kind are refused at once
//! for a while, as full, instead of tried: each failed one makes the store reopen its file,
//! which reads the whole of it (276 ms for a store of 256 MiB here) while every operation
//! waits. The while is a second, or ten times what the last reopen took if that is longer, so
//! that a full disk costs at most a tenth of the store's time.
//!
//! Writes that add data wait after a write found no room; a delete that really removed a value
//! shortens their wait (`after_a_delete`): it made room, but a store must not be made to reopen
//! at every delete. Deletes wait only after a delete found
//! no room with the reserve gone already (`reserve`): nothing else would make room for them.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Since when, and for how long, each kind of operation is refused as full.
#[derive(Default)]
pub struct Room {
    adds: Mutex<Option<Full>>,
    removals: Mutex<Option<Full>>,
}

struct Full {
    since: Instant,
    wait: Duration,
    reopening: Duration,
    reason: String,
}

impl Full {
    fn new(reason: String, reopening: Duration) -> Self {
        Self {
            since: Instant::now(),
            wait: (reopening * 10).max(Duration::from_secs(1)),
            reopening,
            reason,
        }
    }

    fn refusal(&self, what: &str, unless: &str) -> Option<String> {
        let elapsed = self.since.elapsed();
        (elapsed < self.wait).then(|| {
            format!(
                "the disk had no room for a {what} {} ms ago ({}); {what}s are tried again {} ms \
                 after that{unless}",
                elapsed.as_millis(),
                self.reason,
                self.wait.as_millis(),
            )
        })
    }
}

/// How long writes wait after a write found no room, once a delete made some: ten times the
/// last reopen, and 100 ms at least, so that deletes every millisecond (16 clients making room
/// on a full disk) let writes in, and reopen the store, ten times a second at most.
fn after_a_delete(reopening: Duration) -> Duration {
    (reopening * 10).max(Duration::from_millis(100))
}

impl Room {
    /// Why a write that adds data is not tried now, if it is not.
    pub fn refusal_to_add(&self) -> Option<String> {
        let adds = self.adds.lock().unwrap_or_else(PoisonError::into_inner);
        adds.as_ref()?
            .refusal("write", ", or sooner after a delete")
    }

    /// Why a delete is not tried now, if it is not.
    pub fn refusal_to_remove(&self) -> Option<String> {
        let removals = self.removals.lock().unwrap_or_else(PoisonError::into_inner);
        removals.as_ref()?.refusal("delete", "")
    }

    /// A write found no room, and the store took `reopening` to reopen.
    pub fn full(&self, reason: String, reopening: Duration) {
        *self.adds.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Full::new(reason, reopening));
    }

    /// A delete found no room, with no reserve left to let go.
    pub fn full_for_removals(&self, reason: String, reopening: Duration) {
        *self.removals.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Full::new(reason, reopening));
    }

    /// A delete removed a value: it made room.
    pub fn freed(&self) {
        *self.removals.lock().unwrap_or_else(PoisonError::into_inner) = None;
        if let Some(full) = self
            .adds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            full.wait = full.wait.min(after_a_delete(full.reopening));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_wait_after_no_room_until_a_delete_or_the_while_ends() {
        let room = Room::default();
        assert_eq!(room.refusal_to_add(), None);
        room.full("No space left on device".into(), Duration::ZERO);
        let refusal = room.refusal_to_add().expect("refused for a second");
        assert!(refusal.contains("No space left on device"), "{refusal}");
        assert_eq!(room.refusal_to_remove(), None, "deletes are still tried");
        // A delete lets writes in 100 ms after the write that found no room.
        let wait = |room: &Room| room.adds.lock().unwrap().as_ref().unwrap().wait;
        room.freed();
        assert_eq!(wait(&room), Duration::from_millis(100));
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(room.refusal_to_add(), None);
        // A store that took 5 ms to reopen waits the second; one that took 1 s waits 10.
        room.full("full".into(), Duration::from_millis(5));
        assert_eq!(wait(&room), Duration::from_secs(1));
        room.full("full".into(), Duration::from_secs(1));
        assert_eq!(wait(&room), Duration::from_secs(10));
        // A delete then shortens the wait to 10 reopenings, not to nothing.
        room.freed();
        assert_eq!(wait(&room), Duration::from_secs(10));
        room.full("full".into(), Duration::from_millis(200));
        room.freed();
        assert_eq!(wait(&room), Duration::from_secs(2));
    }

    #[test]
    fn deletes_wait_after_no_room_until_a_delete_made_some() {
        let room = Room::default();
        room.full_for_removals("No space left on device".into(), Duration::ZERO);
        let refusal = room.refusal_to_remove().expect("refused for a second");
        assert!(refusal.contains("delete"), "{refusal}");
        assert_eq!(room.refusal_to_add(), None);
        room.freed();
        assert_eq!(room.refusal_to_remove(), None);
    }
}
