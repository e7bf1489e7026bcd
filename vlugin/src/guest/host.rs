//! The raw functions a plugin imports from the runtime (`abi::IMPORT_MODULE`).
//! Outside wasm32 (host builds, doc tests) they fall back to stderr so plugins still compile.

#[cfg(target_arch = "wasm32")]
mod sys {
    #[link(wasm_import_module = "valor")]
    extern "C" {
        pub fn panic(ptr: u32, len: u32);
    }
}

/// Reports a panic message to the runtime, which puts it in the 500 response.
pub(crate) fn report_panic(message: &str) {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: the runtime reads `len` bytes at `ptr` before this call returns.
    unsafe {
        sys::panic(message.as_ptr() as usize as u32, message.len() as u32)
    };
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{message}");
}
