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
            pub fn read(body: u32) -> u32;
            pub fn close(body: u32);
            pub fn fetch_stream(ptr: u32, len: u32) -> u32;
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

    /// Starts reading the next bytes of a streamed body.
    pub(crate) fn read(body: u32) -> Started {
        unsafe { sys::read(body) }
    }

    /// Lets go of a streamed body: the plugin reads no more of it.
    pub(crate) fn close(body: u32) {
        unsafe { sys::close(body) }
    }

    /// Starts an outbound request whose response's body is streamed.
    pub(crate) fn fetch_stream(request: &[u8]) -> Started {
        let (ptr, len) = raw(request);
        unsafe { sys::fetch_stream(ptr, len) }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    //! Outside wasm32, a plugin runs either natively under a server host, which bound its
    //! table of functions (`guest::native`), or under the test host of `vlugin::test`.

    use crate::guest::bound;
    use crate::test::answers;

    /// A started operation: the native host's id, or the test host's result, already there.
    pub(crate) enum Started {
        /// Started by a native host under this id, finished by `valor_complete`.
        Op(u32),
        /// Answered by the test host.
        Finished(Vec<u8>),
    }

    pub(crate) fn report_panic(message: &str) {
        match bound::host() {
            // SAFETY (every call through a bound table below): the host reads or writes
            // exactly `len` bytes at `ptr`, only before the call returns.
            Some(host) => unsafe { (host.panic)(host.context, message.as_ptr(), len(message)) },
            None => eprintln!("{message}"),
        }
    }

    pub(crate) fn log(level: log::Level, line: &str) {
        match bound::host() {
            Some(host) => unsafe {
                (host.log)(host.context, level as u32, line.as_ptr(), len(line))
            },
            None => eprintln!("[{level}] {line}"),
        }
    }

    pub(crate) fn now_ms() -> f64 {
        match bound::host() {
            Some(host) => unsafe { (host.now)(host.context) },
            None => answers::now_ms(),
        }
    }

    pub(crate) fn fill_random(buffer: &mut [u8]) {
        if let Some(host) = bound::host() {
            return unsafe { (host.random)(host.context, buffer.as_mut_ptr(), len(buffer)) };
        }
        use std::hash::{BuildHasher, Hasher};
        for chunk in buffer.chunks_mut(8) {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u8(0);
            chunk.copy_from_slice(&hasher.finish().to_le_bytes()[..chunk.len()]);
        }
    }

    pub(crate) fn sleep(ms: f64) -> Started {
        match bound::host() {
            Some(host) => Started::Op(unsafe { (host.sleep)(host.context, ms) }),
            None => Started::Finished(answers::sleep(ms)),
        }
    }

    pub(crate) fn fetch(request: &[u8]) -> Started {
        match bound::host() {
            Some(host) => {
                Started::Op(unsafe { (host.fetch)(host.context, request.as_ptr(), len(request)) })
            }
            None => Started::Finished(answers::fetch(request)),
        }
    }

    pub(crate) fn kv(command: &[u8]) -> Started {
        match bound::host() {
            Some(host) => {
                Started::Op(unsafe { (host.kv)(host.context, command.as_ptr(), len(command)) })
            }
            None => Started::Finished(answers::kv(command)),
        }
    }

    pub(crate) fn cancel(op: u32) {
        if let Some(host) = bound::host() {
            unsafe { (host.cancel)(host.context, op) }
        }
    }

    pub(crate) fn read(body: u32) -> Started {
        match bound::host() {
            Some(host) => Started::Op(unsafe { (host.read)(host.context, body) }),
            None => Started::Finished(answers::read(body)),
        }
    }

    pub(crate) fn close(body: u32) {
        match bound::host() {
            Some(host) => unsafe { (host.close)(host.context, body) },
            None => answers::close(body),
        }
    }

    pub(crate) fn fetch_stream(request: &[u8]) -> Started {
        match bound::host() {
            Some(host) => Started::Op(unsafe {
                (host.fetch_stream)(host.context, request.as_ptr(), len(request))
            }),
            None => Started::Finished(answers::fetch_stream(request)),
        }
    }

    /// A length as the ABI passes it: no message the SDK makes reaches 4 GiB (the host refuses
    /// far smaller ones), so a longer one is cut rather than wrapped.
    fn len(bytes: impl AsRef<[u8]>) -> u32 {
        u32::try_from(bytes.as_ref().len()).unwrap_or(u32::MAX)
    }
}
