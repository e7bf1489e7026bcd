//! Lays out the engine's JavaScript prelude (`src/prelude/*.js`) as the one function it
//! evaluates, without what QuickJS would only skip: indentation and comment lines. Every line
//! keeps its place, so the prelude's stack traces still name the lines of the files put
//! together (none of them spans lines in a template literal or a string).

use std::path::Path;

/// The prelude's files, in the order they are evaluated.
const FILES: [&str; 9] = [
    "globals.js",
    "encoding.js",
    "url.js",
    "streams.js",
    "writable.js",
    "transform.js",
    "fetch.js",
    "worker.js",
    "install.js",
];

fn main() {
    let dir = Path::new("src/prelude");
    println!("cargo:rerun-if-changed=src/prelude");
    let mut prelude = String::from("(function (host, site) {\n'use strict';\n");
    for file in FILES {
        let path = dir.join(file);
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        for line in source.lines() {
            let line = line.trim();
            if !line.starts_with("//") {
                prelude.push_str(line);
            }
            prelude.push('\n');
        }
    }
    prelude.push_str("\n})");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("prelude.js"), prelude).expect("the prelude is written");
}
