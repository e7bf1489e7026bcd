//! Reports the first plugin ABI version, which this runtime no longer speaks.
#[unsafe(no_mangle)]
extern "C" fn valor_abi_version() -> u32 {
    1
}
