//! Assembles warm-up.wat into the module `valor_meter_warm_up` rewrites.

fn main() {
    println!("cargo::rerun-if-changed=warm-up.wat");
    let module = wat::parse_file("warm-up.wat").expect("warm-up.wat is valid WAT");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("warm-up.wasm"), module).expect("OUT_DIR is writable");
}
