//! Where compiled code is kept, and whether it can be trusted: wasmtime runs what a file holds
//! as machine code, so a file anyone else could have written is as good as their code in this
//! process. The directory must belong to the server's user and be writable by no one else
//! (group or others), and so must each file read from it; otherwise the cache is off for this
//! run, with a warning, and everything is compiled.

use std::path::{Path, PathBuf};

/// Where compiled code is kept (`--cache-dir`, `--no-cache`).
#[derive(Debug, Clone)]
pub enum Setting {
    /// Nowhere: compiled at each start.
    Off,
    /// The user's cache directory: `$XDG_CACHE_HOME/valor`, else `~/.cache/valor`.
    Default,
    /// This directory.
    Dir(PathBuf),
}

/// The directory of `setting`, created (mode 0700) if missing, if it can be trusted; why not
/// is logged.
pub fn trusted(setting: &Setting) -> Option<PathBuf> {
    let dir = match setting {
        Setting::Off => return None,
        Setting::Dir(dir) => dir.clone(),
        Setting::Default => match default_dir() {
            Some(dir) => dir,
            None => {
                tracing::info!(
                    "compiled code is not kept across restarts: neither XDG_CACHE_HOME nor HOME \
                     is set (name a directory with --cache-dir)"
                );
                return None;
            }
        },
    };
    match create(&dir).and_then(|()| check_dir(&dir)) {
        Ok(()) => Some(dir),
        Err(why) => {
            tracing::warn!(
                "compiled code is not kept across restarts: {} {why}; every module is compiled \
                 at each start (name another directory with --cache-dir, or --no-cache)",
                dir.display()
            );
            None
        }
    }
}

/// `$XDG_CACHE_HOME/valor` (an absolute path, as the XDG specification requires), else
/// `$HOME/.cache/valor`.
fn default_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute());
    let cache = xdg.or_else(|| {
        let home = PathBuf::from(std::env::var_os("HOME")?);
        home.is_absolute().then(|| home.join(".cache"))
    })?;
    Some(cache.join("valor"))
}

#[cfg(unix)]
fn create(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("could not be created ({e})"))
}

#[cfg(unix)]
fn check_dir(dir: &Path) -> Result<(), String> {
    let metadata = std::fs::metadata(dir).map_err(|e| format!("could not be read ({e})"))?;
    if !metadata.is_dir() {
        return Err("is not a directory".into());
    }
    check_owner(&metadata)
}

/// A file opened from the directory: a regular file, this user's, writable by no one else.
#[cfg(unix)]
pub fn check_file(file: &std::fs::File) -> Result<(), String> {
    let metadata = file.metadata().map_err(|e| e.to_string())?;
    if !metadata.is_file() {
        return Err("it is not a regular file".into());
    }
    check_owner(&metadata).map_err(|why| format!("it {why}"))
}

#[cfg(unix)]
fn check_owner(metadata: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if metadata.uid() != me {
        return Err(format!(
            "belongs to user {}, not to the server's (user {me})",
            metadata.uid()
        ));
    }
    let mode = metadata.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(format!("is writable by other users (mode {mode:o})"));
    }
    Ok(())
}

// Elsewhere, who may write a directory is not checked: nothing is trusted.
#[cfg(not(unix))]
fn create(_dir: &Path) -> Result<(), String> {
    Err("cannot be checked on this system (only Unix systems keep compiled code)".into())
}

#[cfg(not(unix))]
fn check_dir(_dir: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(not(unix))]
pub fn check_file(_file: &std::fs::File) -> Result<(), String> {
    Err("it cannot be checked on this system".into())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_new_directory_is_private_and_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("a/valor");
        assert_eq!(trusted(&Setting::Dir(cache.clone())), Some(cache.clone()));
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn a_directory_others_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o777, 0o770, 0o1777] {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).unwrap();
            let why = check_dir(dir.path()).unwrap_err();
            assert!(why.contains("writable by other users"), "{mode:o}: {why}");
            assert_eq!(trusted(&Setting::Dir(dir.path().into())), None);
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(check_dir(dir.path()).is_ok());
    }

    #[test]
    fn a_file_others_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("code");
        std::fs::write(&path, b"code").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let why = check_file(&std::fs::File::open(&path).unwrap()).unwrap_err();
        assert!(why.contains("writable by other users"), "{why}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(check_file(&std::fs::File::open(&path).unwrap()).is_ok());
    }
}
