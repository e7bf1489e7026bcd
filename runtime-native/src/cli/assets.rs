//! Valor's browser runtime, built into the binary so that no checkout is needed: the service
//! worker and the files it loads, as the npm package `valor-web` lays them out.
//! scripts/build.sh copies them into `assets/` before the server is built (build.rs checks).

/// A file of the browser runtime, at `path` relative to the app's root.
pub struct Asset {
    /// Where it is served, relative to the app's root (`valor/valor_js.wasm`).
    pub path: &'static str,
    /// Its contents.
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal) => {
        Asset {
            path: $path,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/", $path)),
        }
    };
}

/// Every file, as an app serves them (and `npx valor-web init` lays them out): `sw.js` beside
/// the manifest, the rest in `valor/`, the page module `page.js` included.
pub const RUNTIME: [Asset; 7] = [
    asset!("sw.js"),
    asset!("valor/page.js"),
    asset!("valor/valor-worker.js"),
    asset!("valor/valor_runtime_bg.wasm"),
    asset!("valor/valor_meter.wasm"),
    asset!("valor/valor_js.wasm"),
    asset!("valor/valor_component_bg.wasm"),
];

/// The JavaScript engine, which `valor serve` runs `.js` and `.mjs` plugins with.
pub fn script_engine() -> &'static [u8] {
    at("/valor/valor_js.wasm").map_or(&[], |engine| engine.bytes)
}

/// The file served at URL path `path` (e.g. `/valor/valor-worker.js`).
pub fn at(path: &str) -> Option<&'static Asset> {
    let path = path.strip_prefix('/')?;
    RUNTIME.iter().find(|asset| asset.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_is_embedded() {
        assert!(at("/sw.js").is_some_and(|sw| sw.bytes.starts_with(b"//")));
        for wasm in ["valor_runtime_bg", "valor_meter", "valor_js"] {
            let asset = at(&format!("/valor/{wasm}.wasm")).unwrap();
            assert!(asset.bytes.starts_with(b"\0asm"), "{wasm}");
        }
        assert!(script_engine().starts_with(b"\0asm"));
        assert!(at("/valor/other.js").is_none());
    }
}
