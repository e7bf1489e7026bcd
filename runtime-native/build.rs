//! The browser runtime that `valor` embeds must be in assets/ (scripts/build.sh puts it there);
//! without it, say what to do rather than fail on a missing include.

use std::path::Path;

const ASSETS: [&str; 7] = [
    "sw.js",
    "valor/page.js",
    "valor/valor-worker.js",
    "valor/valor_runtime_bg.wasm",
    "valor/valor_meter.wasm",
    "valor/valor_js.wasm",
    "valor/valor_component_bg.wasm",
];

fn main() {
    // Read when it runs, not when it is compiled: cargo may reuse this script's build for a
    // copy of the crate at another path (another checkout sharing the target dir).
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let dir = Path::new(&manifest_dir).join("assets");
    println!("cargo::rerun-if-changed=assets");
    let missing: Vec<&str> = ASSETS
        .iter()
        .copied()
        .filter(|file| !dir.join(file).is_file())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "valor embeds Valor's browser runtime, and {} lacks {}: run scripts/build.sh in a \
             checkout of Valor (it builds the runtime and copies it there)",
            dir.display(),
            missing.join(", ")
        );
        std::process::exit(1);
    }
}
