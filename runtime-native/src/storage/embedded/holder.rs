//! Who holds a store file's lock, for the error that refuses to start on it: Linux lists every
//! file lock in /proc/locks, with the holder's process id for flock(2) and fcntl(2) locks
//! (`-1` for open file description locks, which name no process).

use std::path::Path;

/// `process 1234 (flock)`, when the system says who locks `path`.
pub fn describe(path: &Path) -> Option<String> {
    let pid = holder(path)?;
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    Some(match name.trim() {
        "" => format!("process {pid}"),
        name => format!("process {pid} ({name})"),
    })
}

#[cfg(target_os = "linux")]
fn holder(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path).ok()?;
    let dev = metadata.dev();
    // The kernel's split of a device number (glibc's major() and minor()).
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0x0000_0fff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0x0000_00ff);
    let file = format!("{major:02x}:{minor:02x}:{}", metadata.ino());
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        // `3: FLOCK  ADVISORY  WRITE 31747 fe:00:10117618 0 EOF`; waiters have `->` after
        // the number.
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [_, kind, _, _, pid, id, ..] if *kind != "->" && *id == file => {
                pid.parse().ok().filter(|&pid| pid != std::process::id())
            }
            _ => None,
        }
    })
}

#[cfg(not(target_os = "linux"))]
fn holder(_path: &Path) -> Option<u32> {
    None
}
