//! The real `valor` binary, started on a manifest of real plugins (built by scripts/build.sh)
//! in a directory of its own, and stopped when the test drops it.

#![allow(dead_code)] // each test file uses its own part of it

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A plugin built by scripts/build.sh: the demo's, or the conformance suite's.
pub fn plugin(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let file = format!("{name}.wasm");
    ["www/plugins", "target/conformance/plugins"]
        .iter()
        .map(|dir| root.join(dir).join(&file))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{file} is missing: run scripts/build.sh first"))
}

/// A directory holding `plugins.json` (`manifest`) and copies of the named demo plugins in
/// `plugins/`, and the server's data.
pub fn app_dir(manifest: &str, plugins: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(dir.path().join("plugins")).expect("plugins/");
    for name in plugins {
        let to = dir.path().join("plugins").join(format!("{name}.wasm"));
        std::fs::copy(plugin(name), to).expect("a plugin copied");
    }
    std::fs::write(dir.path().join("plugins.json"), manifest).expect("the manifest written");
    dir
}

/// A running `valor serve`.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Server {
    /// `valor serve -p <dir>/plugins.json --data <dir>/kv.redb --listen 127.0.0.1:0`, then
    /// `args`, with `env` set.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_valor"));
        command
            .arg("serve")
            .arg("-p")
            .arg(dir.join("plugins.json"))
            .arg("--data")
            .arg(dir.join("kv.redb"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("VALOR_REGISTRY_TOKEN")
            .env_remove("VALOR_REDIS")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("valor started");
        let stdout = child.stdout.take().expect("its stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("its first line");
        let url = line
            .trim()
            .strip_prefix("valor: listening on ")
            .unwrap_or_else(|| panic!("valor did not start: {line:?}"))
            .to_owned();
        Self { child, url }
    }

    /// Stops it and waits for it to end.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A status and a body as text.
pub async fn answer(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}
