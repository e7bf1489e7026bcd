use crate::guest::host;

/// Fills `buffer` with cryptographically secure random bytes (the browser's
/// `crypto.getRandomValues`).
///
/// Crates that draw randomness through `getrandom` (uuid, rand, ...) get it from here too: enable
/// this crate's `getrandom` feature and build with `--cfg getrandom_backend="custom"` (see the
/// README).
///
/// # Examples
/// ```
/// let mut key = [0u8; 16];
/// vlugin::fill_random(&mut key);
/// ```
pub fn fill_random(buffer: &mut [u8]) {
    // The runtime fills at most 64 KiB per call, the limit of getRandomValues.
    for chunk in buffer.chunks_mut(65536) {
        host::fill_random(chunk);
    }
}
