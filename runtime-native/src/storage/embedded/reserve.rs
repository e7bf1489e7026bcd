//! A reserve of disk space next to the store (`<store>.reserve`), like CockroachDB's ballast
//! file: redb copies the pages it changes, so even a delete needs a few free pages, and on a
//! disk that writes filled to the last byte, deletes failed for space until a restart. When a
//! delete finds no room, the store lets the reserve go, so that it and the reopen before it
//! have room; each delete that then frees a value makes the reserve again, with what the disk
//! holds, so that the next full disk finds it too. The store's free pages stay in its file
//! (the disk does not get them back): deletes make room for writes, not for the reserve.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// How much the reserve holds: what redb needs to reopen and delete, with a wide margin (on a
/// full disk of 8 MiB under 16 writers, a reopen and a delete took 16 KiB of it at most: the
/// reserve was made again with 1008 KiB of its 1024 or more, 75 times of 75).
pub const SIZE: u64 = 1024 * 1024;

/// The reserve file of one store.
pub struct Reserve {
    path: PathBuf,
    /// The reserve let go and not yet made whole again.
    short: Mutex<bool>,
}

impl Reserve {
    /// The reserve of the store at `store`: `<store>.reserve` (not made yet: see `fill`).
    pub fn beside(store: &Path) -> Self {
        let mut path = store.as_os_str().to_owned();
        path.push(".reserve");
        Self {
            path: path.into(),
            short: Mutex::new(false),
        }
    }

    /// The reserve's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the reserve `SIZE` bytes, or as many as the disk holds: the bytes it holds.
    pub fn fill(&self) -> std::io::Result<u64> {
        let mut short = self.short.lock().unwrap_or_else(PoisonError::into_inner);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let mut held = file.metadata()?.len();
        // Bytes that no file system compresses or dedupes into nothing (zeros would be).
        let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ held;
        let mut chunk = vec![0u8; 64 * 1024];
        while held < SIZE {
            for byte in chunk.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *byte = state as u8;
            }
            let take = chunk.len().min((SIZE - held) as usize);
            match file.write_all(&chunk[..take]) {
                Ok(()) => held += take as u64,
                Err(error) if is_no_room(&error) => {
                    // A part of a chunk may be written: the file says how much.
                    held = file.metadata()?.len();
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        // Allocated for good, not only in the page cache.
        match file.sync_data() {
            Err(error) if !is_no_room(&error) => return Err(error),
            _ => {}
        }
        *short = held < SIZE;
        Ok(held)
    }

    /// Lets the reserve go: the bytes it held (0 when it was gone already).
    pub fn release(&self) -> u64 {
        let mut short = self.short.lock().unwrap_or_else(PoisonError::into_inner);
        let held = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        if held == 0 || std::fs::remove_file(&self.path).is_err() {
            return 0;
        }
        *short = true;
        held
    }

    /// The reserve was let go, or made smaller than `SIZE`, since it was last whole.
    pub fn is_short(&self) -> bool {
        *self.short.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether `error` says the disk (or the user's quota) is full.
pub fn is_no_room(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_made_let_go_and_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let reserve = Reserve::beside(&dir.path().join("kv.redb"));
        assert_eq!(reserve.path(), dir.path().join("kv.redb.reserve"));
        assert_eq!(reserve.fill().unwrap(), SIZE);
        assert!(!reserve.is_short());
        assert_eq!(reserve.release(), SIZE);
        assert!(reserve.is_short());
        assert!(!reserve.path().exists());
        assert_eq!(reserve.release(), 0);
        assert_eq!(reserve.fill().unwrap(), SIZE);
        assert!(!reserve.is_short());
    }
}
