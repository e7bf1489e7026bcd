//! Claims an ABI version no runtime speaks yet, and imports a host function no runtime has.
#[unsafe(no_mangle)]
extern "C" fn valor_abi_version() -> u32 {
    vlugin_abi_from_the_future()
}

fn vlugin_abi_from_the_future() -> u32 {
    999
}

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "valor")]
extern "C" {
    fn teleport(to: u32);
}

/// Keeps the import in the module.
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
extern "C" fn valor_init(_ptr: u32, _len: u32) {
    // SAFETY: an import taking a plain number.
    unsafe { teleport(999) }
}
