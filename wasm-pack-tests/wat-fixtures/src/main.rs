//! Assembles every `wat/*.wat` into `<out-dir>/<name>.wasm`.

use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(env::args().nth(1).ok_or("usage: wat-fixtures <out-dir>")?);
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("wat");
    for entry in fs::read_dir(sources)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "wat") {
            let module = wat::parse_file(&path)?;
            let name = path.file_stem().ok_or("a file without a name")?;
            fs::write(out.join(name).with_extension("wasm"), module)?;
        }
    }
    Ok(())
}
