//! Claims an ABI version no runtime speaks yet.
#[unsafe(no_mangle)]
extern "C" fn valor_abi_version() -> u32 {
    vlugin_abi_from_the_future()
}

fn vlugin_abi_from_the_future() -> u32 {
    999
}
