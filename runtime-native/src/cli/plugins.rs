//! Building a project's plugins: each Rust crate with `cargo build --release --target
//! wasm32-unknown-unknown`, optimised with `wasm-opt -Oz` when it is on PATH; each script
//! checked for syntax errors with `node --check` when Node.js is on PATH; each result written
//! where the manifest's `url` points, under `web/`, beside Valor's service worker and runtime.

use super::assets;
use super::project::{Plugin, Project, Source};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// A plugin built.
#[derive(Debug, Clone)]
pub struct Built {
    /// The manifest entry built.
    pub plugin: Plugin,
    /// What was written at `plugin.output`.
    pub bytes: Vec<u8>,
}

/// Why a build failed: `summary` says what to do; `details` is what the tools printed (already
/// shown on the terminal as they printed it).
#[derive(Debug, Clone)]
pub struct Failure {
    /// What failed and what to do, in a line or two.
    pub summary: String,
    /// The tools' own output.
    pub details: String,
}

impl Failure {
    fn new(summary: impl Into<String>) -> Self {
        Self {
            summary: summary.into(),
            details: String::new(),
        }
    }
}

/// Whether modules go through `wasm-opt`: for what is deployed, not on every save in
/// `valor dev` (binaryen takes seconds over a plugin, more than the incremental build).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimise {
    /// Through `wasm-opt -Oz` if it is on PATH (`valor build`).
    WhenPresent,
    /// As cargo built them (`valor dev`).
    Never,
}

/// Builds every plugin of `project` that has a source, and writes the browser runtime into
/// `web/`. `hint` ends the message of a plugin that does not compile (what to do next).
pub fn build_all(project: &Project, optimise: Optimise, hint: &str) -> Result<Vec<Built>, Failure> {
    let plugins = project.plugins().map_err(Failure::new)?;
    let mut built = Vec::new();
    for (entry, plugin) in plugins {
        let Some(plugin) = plugin else {
            let name = entry.get("name").and_then(|n| n.as_str()).unwrap_or("?");
            tracing::debug!("{name}: no source under plugins/; its url is served as it is");
            continue;
        };
        let bytes = match &plugin.source {
            Source::Crate(dir) => build_crate(&plugin.name, dir, optimise, hint)?,
            Source::Script(file) => check_script(&plugin.name, file, hint)?,
        };
        write_if_changed(&plugin.output, &bytes).map_err(Failure::new)?;
        built.push(Built { plugin, bytes });
    }
    write_runtime(project).map_err(Failure::new)?;
    Ok(built)
}

/// Valor's service worker and runtime, into `web/` (rewritten only when they changed).
fn write_runtime(project: &Project) -> Result<(), String> {
    for asset in &assets::RUNTIME {
        write_if_changed(&project.web().join(asset.path), asset.bytes)?;
    }
    Ok(())
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("{} could not be created: {e}", parent.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{} could not be written: {e}", path.display()))
}

/// The crate in `dir`, built for wasm32 and optimised: its module's bytes.
fn build_crate(name: &str, dir: &Path, optimise: Optimise, hint: &str) -> Result<Vec<u8>, Failure> {
    // A first build (nothing built for wasm32 yet in the project's target/) says why it may
    // take a while.
    let first = !dir.ancestors().any(|folder| {
        folder
            .join("target")
            .join(WASM_TARGET)
            .join("release")
            .is_dir()
    });
    super::say(format!(
        "building {name}: cargo build --release --target {WASM_TARGET}{}",
        match first {
            true => " (a first build compiles its dependencies too: a minute or so)",
            false => "",
        }
    ));
    let color = match std::io::stderr().is_terminal() {
        true => "always",
        false => "never",
    };
    // From the crate's directory, so that the project's .cargo/config.toml applies.
    let mut child = Command::new(cargo())
        .current_dir(dir)
        .args(["build", "--release", "--target", WASM_TARGET])
        .args([
            "--message-format",
            "json-render-diagnostics",
            "--color",
            color,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Failure::new(format!(
                "cargo could not be started ({e}): install Rust (https://rustup.rs), then run \
                 `rustup target add {WASM_TARGET}`"
            ))
        })?;
    // What cargo prints for people (progress, errors) goes on to the terminal as it comes, and
    // is kept for the message; its JSON on stdout names the module it made.
    let stderr = child.stderr.take().expect("piped");
    let printed = std::thread::spawn(move || {
        let mut kept = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            kept.push_str(&strip_ansi(&line));
            kept.push('\n');
        }
        kept
    });
    let stdout = child.stdout.take().expect("piped");
    let module = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| wasm_artifact(&line))
        .last();
    let status = child
        .wait()
        .map_err(|e| Failure::new(format!("cargo failed: {e}")))?;
    let details = printed.join().unwrap_or_default();
    if !status.success() {
        return Err(Failure {
            summary: compile_failure(name, &details, hint),
            details,
        });
    }
    let module = module.ok_or_else(|| Failure {
        summary: format!(
            "building {name} made no .wasm: its Cargo.toml needs `crate-type = [\"cdylib\", \
             \"rlib\"]` under [lib]"
        ),
        details: details.clone(),
    })?;
    match optimise {
        Optimise::WhenPresent => optimised(name, &module),
        Optimise::Never => unoptimised(name, &module),
    }
    .map_err(|summary| Failure { summary, details })
}

/// `module` as rustc made it.
fn unoptimised(name: &str, module: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(module)
        .map_err(|e| format!("{} could not be read: {e}", module.display()))?;
    super::say(format!("{name}: {} bytes", bytes.len()));
    Ok(bytes)
}

/// `cargo`, or the one Cargo itself names when it runs us (e.g. `cargo run`).
fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// The `.wasm` a line of cargo's JSON output says it made, if any.
fn wasm_artifact(line: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact" {
        return None;
    }
    message["filenames"]
        .as_array()?
        .iter()
        .filter_map(|file| file.as_str())
        .find(|file| file.ends_with(".wasm"))
        .map(PathBuf::from)
}

/// What to do about a failed `cargo build`, from what it printed.
fn compile_failure(name: &str, printed: &str, hint: &str) -> String {
    let no_target = printed.contains("target may not be installed")
        || printed.contains("can't find crate for `core`")
        || printed.contains("can't find crate for `std`");
    if no_target {
        return format!(
            "the {WASM_TARGET} target is missing: run `rustup target add {WASM_TARGET}`, then \
             build again"
        );
    }
    if printed.contains("failed to select a version") || printed.contains("no matching package") {
        return format!(
            "{name}'s dependencies could not be resolved (above): check the versions in \
             plugins/{name}/Cargo.toml, and that crates.io is reachable"
        );
    }
    format!("{name} does not compile (cargo's errors are shown with this message): {hint}")
}

/// `module`, through `wasm-opt -Oz` if it is on PATH (said when it is not): the bytes to serve.
fn optimised(name: &str, module: &Path) -> Result<Vec<u8>, String> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| format!("{} could not be read: {e}", path.display()))
    };
    let original = read(module)?;
    let Some(wasm_opt) = on_path("wasm-opt") else {
        super::say(format!(
            "{name}: {} bytes, not optimised: wasm-opt is not on PATH (install binaryen, e.g. \
             `npm install -g binaryen` or your system's package, for smaller plugins)",
            original.len()
        ));
        return Ok(original);
    };
    let optimised = module.with_extension("opt.wasm");
    let ran = Command::new(&wasm_opt)
        .arg("-Oz")
        // The features rustc enables for wasm32 by default.
        .args([
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
            "--strip-debug",
            "--strip-producers",
        ])
        .arg(module)
        .arg("-o")
        .arg(&optimised)
        .output();
    match ran {
        Ok(output) if output.status.success() => {
            let bytes = read(&optimised)?;
            super::say(format!(
                "{name}: {} bytes (wasm-opt -Oz, from {})",
                bytes.len(),
                original.len()
            ));
            Ok(bytes)
        }
        Ok(output) => {
            super::say(format!(
                "{name}: wasm-opt failed ({}): serving the unoptimised module ({} bytes)",
                String::from_utf8_lossy(&output.stderr).trim(),
                original.len()
            ));
            Ok(original)
        }
        Err(error) => {
            super::say(format!(
                "{name}: wasm-opt could not run ({error}): serving the unoptimised module"
            ));
            Ok(original)
        }
    }
}

/// A script's bytes, after `node --check` (when Node.js is on PATH) found no syntax error.
fn check_script(name: &str, file: &Path, hint: &str) -> Result<Vec<u8>, Failure> {
    let bytes = std::fs::read(file)
        .map_err(|e| Failure::new(format!("{} could not be read: {e}", file.display())))?;
    let Some(node) = on_path("node") else {
        super::say(format!(
            "{name}: not checked for syntax errors: node is not on PATH (install Node.js to have \
             valor check scripts before the browser runs them)"
        ));
        return Ok(bytes);
    };
    let mut problem = node_check(&node, file)?;
    // Valor runs a .js with `import`/`export` as a module; Node takes a .js for a CommonJS
    // script unless told: check a module copy too.
    if problem.is_some()
        && file.extension().is_some_and(|e| e == "js")
        && check_as_module(&node, &bytes)?.is_none()
    {
        problem = None;
    }
    match problem {
        None => {
            super::say(format!(
                "{name}: {} bytes, syntax checked (node --check)",
                bytes.len()
            ));
            Ok(bytes)
        }
        Some(details) => {
            eprintln!("{details}");
            let shown = file.file_name().unwrap_or_default().to_string_lossy();
            Err(Failure {
                summary: format!(
                    "plugins/{shown} has a syntax error (node's message is shown with this \
                     one): {hint}"
                ),
                details,
            })
        }
    }
}

/// What `node --check` says is wrong with `script` taken as a module (a `.mjs` copy), if
/// anything. The copy is a new file of a random name, only ours (O_EXCL, mode 0600): a name
/// known in advance could be a link another user left there, to a file of ours to overwrite.
fn check_as_module(node: &Path, script: &[u8]) -> Result<Option<String>, Failure> {
    let mut copy = tempfile::Builder::new()
        .prefix("valor-check-")
        .suffix(".mjs")
        .tempfile()
        .map_err(|e| Failure::new(format!("a temporary file could not be made: {e}")))?;
    copy.write_all(script).map_err(|e| {
        Failure::new(format!(
            "{} could not be written: {e}",
            copy.path().display()
        ))
    })?;
    node_check(node, copy.path()) // the copy is removed when dropped
}

/// What `node --check` says is wrong with `file`, if anything.
fn node_check(node: &Path, file: &Path) -> Result<Option<String>, Failure> {
    let output = Command::new(node)
        .arg("--check")
        .arg(file)
        .output()
        .map_err(|e| Failure::new(format!("node could not be started: {e}")))?;
    Ok((!output.status.success()).then(|| String::from_utf8_lossy(&output.stderr).into_owned()))
}

/// `program` in a directory of PATH.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|file| file.is_file())
}

/// `line` without terminal colour codes (for the page's overlay).
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ ... final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_module_copy_follows_no_link_left_for_it() {
        let node = on_path("node").expect("this test needs node on PATH (install Node.js)");
        let dir = tempfile::tempdir().unwrap();
        let precious = dir.path().join("precious.txt");
        std::fs::write(&precious, "mine").unwrap();
        // Where a copy of a predictable name would be (the process's id, the plugin's name).
        let trap =
            std::env::temp_dir().join(format!("valor-check-{}-trap.mjs", std::process::id()));
        let _ = std::fs::remove_file(&trap);
        std::os::unix::fs::symlink(&precious, &trap).unwrap();
        let fine = check_as_module(&node, b"export default 1;\n");
        let broken = check_as_module(&node, b"export default (;\n");
        let _ = std::fs::remove_file(&trap);
        assert_eq!(fine.map_err(|f| f.summary).unwrap(), None);
        assert!(broken.map_err(|f| f.summary).unwrap().is_some());
        assert_eq!(std::fs::read_to_string(&precious).unwrap(), "mine");
    }

    #[test]
    fn colour_codes_are_stripped() {
        let coloured = "\u{1b}[1m\u{1b}[31merror[E0425]\u{1b}[0m: cannot find value";
        assert_eq!(strip_ansi(coloured), "error[E0425]: cannot find value");
    }

    #[test]
    fn a_missing_target_says_what_to_run() {
        let printed = "error[E0463]: can't find crate for `core`\n  = note: the \
                       `wasm32-unknown-unknown` target may not be installed";
        let said = compile_failure("hello", printed, "fix it");
        assert!(
            said.contains("rustup target add wasm32-unknown-unknown"),
            "{said}"
        );
        let said = compile_failure("hello", "error: expected `;`", "fix it and save");
        assert!(said.ends_with("fix it and save"), "{said}");
    }

    #[test]
    fn the_module_is_found_in_cargos_messages() {
        let line = r#"{"reason":"compiler-artifact","target":{"kind":["cdylib","rlib"]},"filenames":["/t/release/hello.wasm","/t/release/libhello.rlib"]}"#;
        assert_eq!(
            wasm_artifact(line),
            Some(PathBuf::from("/t/release/hello.wasm"))
        );
        assert_eq!(
            wasm_artifact(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(wasm_artifact("Compiling hello"), None);
    }
}
