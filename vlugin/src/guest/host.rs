//! The raw functions a plugin imports from the runtime (`valor_abi::IMPORT_MODULE`), behind safe
//! functions. Outside wasm32 (`cargo test`, doc tests) there is no runtime: host operations go
//! to the test host (`vlugin::test`) if one is installed, and fail with a message that says so
//! otherwise. Starting an operation gives a [`Started`], which `ops::HostOp` awaits.

pub(crate) use imp::*;

#[cfg(target_arch = "wasm32")]
mod imp {
    /// A started operation: the id the runtime runs it under, finished by `valor_complete`.
    pub(crate) type Started = u32;

    mod sys {
        #[link(wasm_import_module = "valor")]
        extern "C" {
            pub fn panic(ptr: u32, len: u32);
            pub fn log(level: u32, ptr: u32, len: u32);
            pub fn now() -> f64;
            pub fn random(ptr: u32, len: u32);
            pub fn sleep(ms: f64) -> u32;
            pub fn fetch(ptr: u32, len: u32) -> u32;
            pub fn kv(ptr: u32, len: u32) -> u32;
            pub fn cancel(op: u32);
        }
    }

    /// Pointer and length of a byte slice, as the ABI passes them.
    fn raw(bytes: &[u8]) -> (u32, u32) {
        (bytes.as_ptr() as usize as u32, bytes.len() as u32)
    }

    // SAFETY (all calls below): the runtime reads or writes exactly `len` bytes at `ptr`, and
    // only before the call returns; the other imports take plain numbers.

    /// Reports a panic message to the runtime, which puts it in the 500 response.
    pub(crate) fn report_panic(message: &str) {
        let (ptr, len) = raw(message.as_bytes());
        unsafe { sys::panic(ptr, len) }
    }

    /// Writes a log line to the console, tagged with the plugin's name by the runtime.
    pub(crate) fn log(level: log::Level, line: &str) {
        let (ptr, len) = raw(line.as_bytes());
        unsafe { sys::log(level as u32, ptr, len) }
    }

    /// Milliseconds since the Unix epoch.
    pub(crate) fn now_ms() -> f64 {
        unsafe { sys::now() }
    }

    /// Fills `buffer` (at most 64 KiB) from the host's cryptographic generator.
    pub(crate) fn fill_random(buffer: &mut [u8]) {
        let (ptr, len) = raw(buffer);
        unsafe { sys::random(ptr, len) }
    }

    /// Starts a timer.
    pub(crate) fn sleep(ms: f64) -> Started {
        unsafe { sys::sleep(ms) }
    }

    /// Starts an outbound request (encoded with `valor_abi::codec`).
    pub(crate) fn fetch(request: &[u8]) -> Started {
        let (ptr, len) = raw(request);
        unsafe { sys::fetch(ptr, len) }
    }

    /// Starts a key-value command (encoded with `valor_abi::storage`).
    pub(crate) fn kv(command: &[u8]) -> Started {
        let (ptr, len) = raw(command);
        unsafe { sys::kv(ptr, len) }
    }

    /// Tells the runtime an operation's result is no longer wanted.
    pub(crate) fn cancel(op: u32) {
        unsafe { sys::cancel(op) }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use crate::test::answers;

    /// A started operation: the test host's result, already there.
    pub(crate) type Started = Vec<u8>;

    pub(crate) fn report_panic(message: &str) {
        eprintln!("{message}");
    }

    pub(crate) fn log(level: log::Level, line: &str) {
        eprintln!("[{level}] {line}");
    }

    pub(crate) fn now_ms() -> f64 {
        answers::now_ms()
    }

    pub(crate) fn fill_random(buffer: &mut [u8]) {
        use std::hash::{BuildHasher, Hasher};
        for chunk in buffer.chunks_mut(8) {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u8(0);
            chunk.copy_from_slice(&hasher.finish().to_le_bytes()[..chunk.len()]);
        }
    }

    pub(crate) fn sleep(ms: f64) -> Started {
        answers::sleep(ms)
    }

    pub(crate) fn fetch(request: &[u8]) -> Started {
        answers::fetch(request)
    }

    pub(crate) fn kv(command: &[u8]) -> Started {
        answers::kv(command)
    }

    pub(crate) fn cancel(_op: u32) {}
}
