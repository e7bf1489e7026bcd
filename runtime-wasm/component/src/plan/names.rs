//! Interface names (`wasi:http/types@0.2.12`) and the WASI version this host runs.

/// The interface's name without its version: `wasi:http/types@0.2.12` is `wasi:http/types`.
pub(super) fn without_version(name: &str) -> &str {
    name.split_once('@').map_or(name, |(name, _)| name)
}

/// Refuses a WASI interface of another major/minor version than 0.2 (any patch, any
/// prerelease of 0.2 goes: they are compatible).
pub(super) fn check_wasi_version(name: &str) -> Result<(), String> {
    if !name.starts_with("wasi:") {
        return Ok(());
    }
    let version = name.split_once('@').map(|(_, version)| version);
    let mut parts = version.unwrap_or("").split(['.', '-']);
    if parts.next() == Some("0") && parts.next() == Some("2") {
        return Ok(());
    }
    Err(format!(
        "it uses `{name}`, {}: this host runs WASI 0.2 (`wasi:http/proxy@0.2.x`) components",
        version.map_or("without a version".to_string(), |v| format!("of WASI {v}"))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_goes_from_the_name() {
        assert_eq!(without_version("wasi:io/streams@0.2.12"), "wasi:io/streams");
        assert_eq!(without_version("local:x/y"), "local:x/y");
    }

    #[test]
    fn only_wasi_0_2_goes() {
        assert!(check_wasi_version("wasi:http/types@0.2.0").is_ok());
        assert!(check_wasi_version("wasi:http/types@0.2.12").is_ok());
        assert!(check_wasi_version("wasi:io/poll@0.2.0-rc-2023-11-10").is_ok());
        assert!(check_wasi_version("local:thing/x@1.0.0").is_ok());
        let newer = check_wasi_version("wasi:http/types@0.3.0-rc-2025-08-15").unwrap_err();
        assert!(newer.contains("of WASI 0.3.0-rc-2025-08-15"), "{newer}");
        assert!(check_wasi_version("wasi:http/types@0.20.1").is_err());
        let bare = check_wasi_version("wasi:http/types").unwrap_err();
        assert!(bare.contains("without a version"), "{bare}");
    }
}
