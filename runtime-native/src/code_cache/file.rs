//! One kept file: a header (a magic string, the key it was written for, the SHA-256 of the
//! code), then the code as wasmtime serialised it. wasmtime checks its own format, version and
//! settings, but not the bytes of the machine code: a file cut short, or changed by a disk
//! or by hand, is caught by the digest before wasmtime maps it as code. A file copied under
//! another key's name is caught by the key.

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8; 16] = b"valor-compiled1\n";
const HEADER_BYTES: usize = MAGIC.len() + 32 + 32;

/// A file's bytes, its header checked.
pub struct Checked(Vec<u8>);

impl Checked {
    /// The code, as wasmtime serialised it.
    pub fn code(&self) -> &[u8] {
        &self.0[HEADER_BYTES..]
    }
}

/// The file at `path`, checked against `key`: none if there is no such file, or why it cannot
/// be used.
pub fn read(path: &Path, key: &[u8; 32]) -> Result<Option<Checked>, String> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("it could not be opened: {error}")),
    };
    super::directory::check_file(&file)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| format!("it could not be read: {e}"))?;
    if bytes.len() < HEADER_BYTES || &bytes[..MAGIC.len()] != MAGIC {
        return Err("it is not a file of valor's compiled code".into());
    }
    let (kept_key, rest) = bytes[MAGIC.len()..].split_at(32);
    if kept_key != key {
        return Err("it was written for other code".into());
    }
    if rest[..32] != Sha256::digest(&rest[32..])[..] {
        return Err("its code does not match its digest: cut short or changed".into());
    }
    Ok(Some(Checked(bytes)))
}

/// Writes `code` for `key` at `path`, whole or not at all: into a new file beside it (only
/// this user may read or write it), then renamed over it. Not synced to the disk: a file that
/// a crash left incomplete fails its digest and is written again.
pub fn write(path: &Path, key: &[u8; 32], code: &[u8]) -> Result<(), String> {
    let dir = path.parent().ok_or("the file has no directory")?;
    let mut temporary = tempfile::Builder::new()
        .prefix(".writing-")
        .tempfile_in(dir)
        .map_err(|e| e.to_string())?;
    let file = temporary.as_file_mut();
    let written = file
        .write_all(MAGIC)
        .and_then(|()| file.write_all(key))
        .and_then(|()| file.write_all(&Sha256::digest(code)))
        .and_then(|()| file.write_all(code));
    written.map_err(|e| e.to_string())?;
    temporary.persist(path).map_err(|e| e.error.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_reads_back_only_whole_and_for_its_own_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("code");
        let (key, other) = ([1; 32], [2; 32]);
        write(&path, &key, b"machine code").unwrap();
        let checked = read(&path, &key).unwrap().expect("the file");
        assert_eq!(checked.code(), b"machine code");

        let refused = read(&path, &other).err().expect("another key is refused");
        assert!(refused.contains("other code"), "{refused}");

        let mut bytes = std::fs::read(&path).unwrap();
        bytes.pop();
        std::fs::write(&path, &bytes).unwrap();
        let refused = read(&path, &key)
            .err()
            .expect("a file cut short is refused");
        assert!(refused.contains("digest"), "{refused}");

        std::fs::write(&path, b"valor").unwrap();
        let refused = read(&path, &key).err().expect("a stub is refused");
        assert!(refused.contains("not a file"), "{refused}");

        assert!(read(&dir.path().join("none"), &key).unwrap().is_none());
    }
}
