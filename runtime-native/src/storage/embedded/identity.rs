//! Which file a store is: its device and inode, noted when Valor opens it, so that a reopen
//! after an I/O error opens that same file again, never another one at the same path (a new,
//! empty store where the volume was unmounted, or a file put there since) that would make the
//! acknowledged values read as missing.

use std::path::Path;

/// A file's device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    device: u64,
    inode: u64,
}

impl Identity {
    /// The identity of the file at `path` now, or why there is none.
    pub fn of(path: &Path) -> Result<Self, std::io::Error> {
        let metadata = std::fs::metadata(path)?;
        Ok(Self::from_metadata(&metadata))
    }

    #[cfg(unix)]
    fn from_metadata(metadata: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self {
            device: metadata.dev(),
            inode: metadata.ino(),
        }
    }

    /// Without inode numbers, only the file's presence is checked.
    #[cfg(not(unix))]
    fn from_metadata(_metadata: &std::fs::Metadata) -> Self {
        Self {
            device: 0,
            inode: 0,
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_file_put_in_the_place_of_another_is_another() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.redb");
        std::fs::write(&path, b"first").unwrap();
        let first = Identity::of(&path).unwrap();
        assert_eq!(Identity::of(&path).unwrap(), first);
        // Moved away and back: the same file.
        let aside = dir.path().join("aside");
        std::fs::rename(&path, &aside).unwrap();
        assert!(Identity::of(&path).is_err());
        std::fs::rename(&aside, &path).unwrap();
        assert_eq!(Identity::of(&path).unwrap(), first);
        // A copy in its place: another file.
        std::fs::copy(&path, &aside).unwrap();
        std::fs::rename(&aside, &path).unwrap();
        assert_ne!(Identity::of(&path).unwrap(), first);
    }
}
