//! The real `valor` binary, started on a manifest of real plugins (built by scripts/build.sh)
//! in a directory of its own, and stopped when the test drops it.

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
        let mut command = serve_command(dir, &dir.join("kv.redb"));
        command.args(args).envs(env.iter().copied());
        Self::spawn(command)
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

/// The raw answer to `GET <target>`, the target sent exactly as written (HTTP clients tidy
/// `..` and `%2e` away before sending).
pub async fn raw_get(server: &Server, target: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = server.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// `valor serve -p <dir>/plugins.json --data <data> --listen 127.0.0.1:0`, its compiled code
/// kept in `<dir>/.compiled` (never in the user's own cache), its stdout piped (for
/// `Server::spawn`) and its stderr too (for `refusal`).
pub fn serve_command(dir: &Path, data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_valor"));
    command
        .arg("serve")
        .arg("-p")
        .arg(dir.join("plugins.json"))
        .arg("--data")
        .arg(data)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("VALOR_REGISTRY_TOKEN")
        .env_remove("VALOR_REDIS")
        .env("VALOR_CACHE_DIR", dir.join(".compiled"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `command`, a `valor serve` that must refuse to start, to its end (30 s at most): its
/// exit code and what it said on stderr.
pub fn refusal(mut command: Command) -> (Option<i32>, String) {
    let mut child = command.spawn().expect("valor started");
    let started = std::time::Instant::now();
    while child.try_wait().expect("its status").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("valor serve started instead of refusing to");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("its output");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

impl Server {
    /// Starts `command` (a `valor serve` whose stdout is piped, as `serve_command` makes it) and
    /// waits for the line that says where it listens.
    pub fn spawn(mut command: Command) -> Self {
        let child = command
            .stderr(Stdio::inherit())
            .spawn()
            .expect("valor started");
        Self::listening(child)
    }

    /// The started `child`, once it says where it listens (its first line on stdout).
    fn listening(mut child: Child) -> Self {
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

    /// Its process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends it `signal` (`TERM`, `KILL`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill(1) ran");
        assert!(sent.success(), "kill -{signal} {} failed", self.pid());
    }

    /// Waits up to `within` for it to exit by itself: its status, or `None` if it had not.
    pub fn exit_within(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("its status") {
                return Some(status);
            }
            if started.elapsed() > within {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// What a server wrote on stderr so far, for tests that count its log lines.
#[derive(Clone, Default)]
pub struct Log(std::sync::Arc<std::sync::Mutex<String>>);

impl Log {
    /// The lines written so far that contain `text`.
    pub fn count(&self, text: &str) -> usize {
        let log = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        log.lines().filter(|line| line.contains(text)).count()
    }
}

impl Server {
    /// `Server::spawn`, its stderr kept in a `Log` (and echoed, as the test's own).
    pub fn spawn_logged(mut command: Command) -> (Self, Log) {
        let mut child = command
            .stderr(Stdio::piped())
            .spawn()
            .expect("valor started");
        let log = Log::default();
        let stderr = child.stderr.take().expect("its stderr");
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                let mut log = kept
                    .0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                log.push_str(&line);
                log.push('\n');
            }
        });
        (Self::listening(child), log)
    }
}
