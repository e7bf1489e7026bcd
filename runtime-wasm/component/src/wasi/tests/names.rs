//! Every function of the `wasi:http/proxy` world (read from wasmtime-wasi-http's WIT files) and
//! of the interfaces Rust's std adds resolves; other versions and unknown names do not.

use super::fake::*;
use crate::host::Host;
use std::path::PathBuf;

/// The interfaces besides the proxy world's that this host provides.
const EXTRAS: [&str; 10] = [
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:filesystem/preopens",
];

/// wasmtime-wasi-http 48's `wit/deps`, in Cargo's registry (the server host depends on it).
fn wit_dir() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"));
    for index in std::fs::read_dir(home.join("registry/src"))
        .expect("Cargo's registry")
        .flatten()
    {
        for krate in std::fs::read_dir(index.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = krate.file_name().to_string_lossy().into_owned();
            if name.starts_with("wasmtime-wasi-http-48.") {
                return krate.path().join("wit/deps");
            }
        }
    }
    panic!("wasmtime-wasi-http 48 is not in Cargo's registry (cargo fetch)");
}

/// A WIT package's stable functions: (interface, function), and the worlds' imports.
#[derive(Default)]
struct Wit {
    functions: Vec<(String, String)>,
    /// (world, imported interface, without version).
    imports: Vec<(String, String)>,
}

enum Block {
    Interface(String),
    Resource(String),
    World(String),
    Other,
}

fn parse(text: &str, wit: &mut Wit) {
    let mut package = String::new();
    let mut blocks: Vec<Block> = Vec::new();
    let mut unstable = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with("//") || line.is_empty() {
            continue;
        }
        if line.starts_with("@unstable") {
            unstable = true;
            continue;
        }
        if line.starts_with('@') {
            continue;
        }
        let skip = std::mem::take(&mut unstable);
        if line == "}" {
            blocks.pop();
            continue;
        }
        let interface = blocks.iter().rev().find_map(|b| match b {
            Block::Interface(name) => Some(name.clone()),
            _ => None,
        });
        let resource = match blocks.last() {
            Some(Block::Resource(name)) => Some(name.clone()),
            _ => None,
        };
        if let Some(rest) = line.strip_prefix("package ") {
            package = rest.split('@').next().unwrap().to_string();
        } else if line.ends_with('{') {
            let mut words = line.split_whitespace();
            let (kind, name) = (
                words.next().unwrap(),
                words.next().unwrap_or("").to_string(),
            );
            blocks.push(match kind {
                _ if skip => Block::Other,
                "interface" => Block::Interface(format!("{package}/{name}")),
                "resource" => Block::Resource(name),
                "world" => Block::World(name),
                _ => Block::Other,
            });
        } else if let Some(rest) = line.strip_prefix("import ") {
            if let Some(Block::World(world)) = blocks.last() {
                let name = rest.trim_end_matches(';').split('@').next().unwrap();
                let name = if name.contains(':') {
                    name.to_string()
                } else {
                    format!("{package}/{name}")
                };
                if !skip {
                    wit.imports.push((world.clone(), name));
                }
            }
        } else if let (Some(interface), false) = (interface, skip) {
            if blocks.iter().any(|b| matches!(b, Block::Other)) {
                continue;
            }
            let name = if line.starts_with("constructor(") {
                format!("[constructor]{}", resource.clone().unwrap())
            } else if let Some((name, signature)) = line.split_once(':') {
                let name = name.trim().trim_start_matches('%');
                let signature = signature.trim_start();
                match (&resource, signature) {
                    (_, s) if !s.starts_with("func") && !s.starts_with("static func") => continue,
                    (Some(r), s) if s.starts_with("static") => format!("[static]{r}.{name}"),
                    (Some(r), _) => format!("[method]{r}.{name}"),
                    (None, _) => name.to_string(),
                }
            } else {
                continue;
            };
            wit.functions.push((interface, name));
        }
    }
}

#[test]
fn every_function_of_the_proxy_world_and_of_std_s_imports_resolves() {
    let mut wit = Wit::default();
    for file in ["http", "io", "clocks", "random", "cli", "filesystem"] {
        let text = std::fs::read_to_string(wit_dir().join(format!("{file}.wit"))).unwrap();
        parse(&text, &mut wit);
    }
    let proxy: Vec<&str> = wit
        .imports
        .iter()
        .filter(|(w, _)| w == "proxy")
        .map(|(_, i)| i.as_str())
        .collect();
    assert_eq!(proxy.len(), 11, "{proxy:?}");
    let (s, _) = session(request("GET", "/", &[], b""));
    let mut checked = 0;
    for interface in proxy
        .iter()
        .copied()
        .chain(EXTRAS)
        .chain(["wasi:filesystem/types"])
    {
        for (_, name) in wit.functions.iter().filter(|(i, _)| i == interface) {
            for version in ["0.2.0", "0.2.12"] {
                let versioned = format!("{interface}@{version}");
                assert!(s.resolve(&versioned, name).is_some(), "{versioned} {name}");
            }
            checked += 1;
        }
    }
    // And the host provides nothing else.
    assert_eq!(checked, crate::wasi::names::FUNCS.len());
    // Unstable functions are not provided (wasmtime links them only when asked to).
    assert!(s
        .resolve(TYPES, "[method]response-outparam.send-informational")
        .is_none());
}

#[test]
fn other_versions_and_unknown_functions_do_not_resolve() {
    let (s, _) = session(request("GET", "/", &[], b""));
    assert!(s
        .resolve("wasi:http/types@0.2.3", "[constructor]fields")
        .is_some());
    for interface in [
        "wasi:http/types",
        "wasi:http/types@0.3.0",
        "wasi:http/types@0.2.0-rc-2023-12-05",
        "wasi:http/types@1.0.0",
        "wasi:http/types@0.2.",
    ] {
        assert!(
            s.resolve(interface, "[constructor]fields").is_none(),
            "{interface}"
        );
    }
    assert!(s.resolve(TYPES, "[constructor]no-such-thing").is_none());
    assert!(s
        .resolve("wasi:sockets/tcp@0.2.0", "[method]tcp-socket.start-bind")
        .is_none());
}
