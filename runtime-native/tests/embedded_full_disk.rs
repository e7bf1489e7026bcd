//! A small disk filled by a plugin: the embedded store answers 507 with the reason for each
//! write that has no room, keeps answering reads, takes writes again once a delete made room,
//! and after a restart has every write it acknowledged. The disk is a real tmpfs of 4 MiB.

mod common;

use common::{answer, app_dir, serve_command, Server};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm" }
] }"#;

/// Each value written: 1 KiB, 64 times over (`?repeat=64`).
const CHUNK: usize = 1024;
const REPEAT: usize = 64;
const WRITERS: usize = 4;

/// A tmpfs of `SIZE`, mounted on a temporary directory, unmounted on drop; where mounting is
/// not permitted (not root), mounted in a user and mount namespace of its own
/// (`unshare --map-root-user --mount`) that the servers enter (`nsenter`).
struct SmallDisk {
    dir: tempfile::TempDir,
    namespace: Option<Child>,
}

const SIZE: &str = "4m";

impl SmallDisk {
    fn mount() -> Self {
        let dir = tempfile::tempdir().expect("a mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={SIZE}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount(8) ran");
        if mounted.status.success() {
            eprintln!("a tmpfs of {SIZE} mounted on {}", dir.path().display());
            return Self {
                dir,
                namespace: None,
            };
        }
        let refused = String::from_utf8_lossy(&mounted.stderr).into_owned();
        let script = format!(
            "mount -t tmpfs -o size={SIZE} tmpfs '{}' && echo mounted && exec sleep 300",
            dir.path().display()
        );
        let mut holder = Command::new("unshare")
            .args(["--map-root-user", "--mount", "sh", "-c", &script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("unshare(1) ran");
        let mut line = String::new();
        let _ = BufReader::new(holder.stdout.take().expect("its output")).read_line(&mut line);
        if line.trim() != "mounted" {
            let _ = holder.kill();
            let _ = holder.wait();
            panic!(
                "this test needs a tmpfs of {SIZE}: `mount` said {refused:?}, and a mount \
                 namespace of its own failed too; run it as root, or where unprivileged user \
                 namespaces are allowed (sysctl kernel.unprivileged_userns_clone=1)"
            );
        }
        eprintln!(
            "a tmpfs of {SIZE} mounted on {} in a namespace of its own (mount said {refused:?})",
            dir.path().display()
        );
        Self {
            dir,
            namespace: Some(holder),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `command`, run where the disk is mounted.
    fn enter(&self, command: Command) -> Command {
        let Some(holder) = &self.namespace else {
            return command;
        };
        let mut entered = Command::new("nsenter");
        entered
            .args([
                "-t",
                &holder.id().to_string(),
                "-U",
                "-m",
                "--preserve-credentials",
                "--",
            ])
            .arg(command.get_program())
            .args(command.get_args())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in command.get_envs() {
            match value {
                Some(value) => entered.env(name, value),
                None => entered.env_remove(name),
            };
        }
        entered
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        match &mut self.namespace {
            Some(holder) => {
                let _ = holder.kill();
                let _ = holder.wait();
            }
            None => {
                let _ = Command::new("umount")
                    .arg("-l")
                    .arg(self.dir.path())
                    .status();
            }
        }
    }
}

#[derive(Clone)]
struct Store {
    client: reqwest::Client,
    url: String,
}

impl Store {
    async fn put(&self, key: &str, body: Vec<u8>, repeat: usize) -> (u16, String) {
        let url = format!("{}/api/host/kv?key={key}&repeat={repeat}", self.url);
        answer(
            self.client
                .put(url)
                .body(body)
                .send()
                .await
                .expect("an answer"),
        )
        .await
    }

    async fn get(&self, key: &str) -> (u16, Vec<u8>) {
        let url = format!("{}/api/host/kv?key={key}", self.url);
        let response = self.client.get(url).send().await.expect("an answer");
        let status = response.status().as_u16();
        (status, response.bytes().await.expect("a body").to_vec())
    }

    async fn delete(&self, key: &str) -> u16 {
        let url = format!("{}/api/host/kv?key={key}", self.url);
        let response = self.client.delete(url).send().await.expect("an answer");
        response.status().as_u16()
    }
}

/// The value of key `fill-{i}`: its number, so that a mixed-up value shows.
fn chunk(i: usize) -> Vec<u8> {
    format!("{i:>CHUNK$}").into_bytes()
}

#[tokio::test]
async fn a_full_disk_answers_507_stays_readable_and_keeps_every_acknowledged_write() {
    let disk = SmallDisk::mount();
    let dir = app_dir(MANIFEST, &["host_api"]);
    let data = disk.path().join("kv.redb");
    let start = || Server::spawn(disk.enter(serve_command(dir.path(), &data)));
    let server = start();
    let client = reqwest::Client::new();
    let store = Store {
        client: client.clone(),
        url: server.url.clone(),
    };
    let kept = b"a value written before the disk filled".to_vec();
    assert_eq!(store.put("kept", kept.clone(), 1).await.0, 204);

    // Values of 64 KiB from 4 writers at once, each until the disk has no room for its next
    // one (4 MiB holds fewer than 64 of them): every write is acknowledged or refused for
    // space, whichever of them meets the full disk first.
    let writers = (0..WRITERS).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in (w..400).step_by(WRITERS) {
                match store.put(&format!("fill-{i}"), chunk(i), REPEAT).await {
                    (204, _) => acknowledged.push(i),
                    refused => return (acknowledged, refused),
                }
            }
            panic!("the 4 MiB disk held 100 values of 64 KiB");
        })
    });
    let mut acknowledged = Vec::new();
    let mut refusals = Vec::new();
    for writer in futures::future::join_all(writers).await {
        let (written, refused) = writer.expect("a writer");
        acknowledged.extend(written);
        refusals.push(refused);
    }
    acknowledged.sort_unstable();
    eprintln!(
        "{WRITERS} writers: acknowledged {} writes of {} KiB, then {:?}",
        acknowledged.len(),
        CHUNK * REPEAT / 1024,
        refusals
    );
    for (status, said) in &refusals {
        assert_eq!(*status, 507, "{said}");
        assert!(said.contains("No space left on device"), "{said}");
    }

    // The store stays as it was: each later write that has no room is refused the same way
    // (before the fix: 503 "Previous I/O error" for every write, forever), reads answer.
    let mut later = Vec::new();
    for attempt in 0..3 {
        later.push(
            store
                .put(&format!("more-{attempt}"), chunk(attempt), REPEAT)
                .await,
        );
    }
    eprintln!("later writes of 64 KiB answered {later:?}");
    for (status, said) in &later {
        assert_eq!(*status, 507, "{said}");
        assert!(said.contains("No space left on device"), "{said}");
    }
    assert_eq!(store.get("kept").await, (200, kept.clone()));
    let mut read = 0;
    for &i in &acknowledged {
        let (status, value) = store.get(&format!("fill-{i}")).await;
        assert_eq!((status, value.len()), (200, CHUNK * REPEAT), "fill-{i}");
        assert!(value.starts_with(&chunk(i)), "fill-{i} holds another value");
        read += 1;
    }
    eprintln!("reads on the full disk: {read} of {read} answered 200");

    // Deleting makes room; writes are taken again, without a restart.
    let freed: Vec<usize> = acknowledged.drain(..4).collect();
    for &i in &freed {
        assert_eq!(
            store.delete(&format!("fill-{i}")).await,
            204,
            "deleting fill-{i}"
        );
    }
    let mut after = Vec::new();
    for i in 1000..1002 {
        let (status, said) = store.put(&format!("fill-{i}"), chunk(i), REPEAT).await;
        if status == 204 {
            acknowledged.push(i);
        }
        after.push((status, said));
    }
    eprintln!("after deleting 4 values, writes of 64 KiB answered {after:?}");
    assert!(after.iter().any(|(status, _)| *status == 204), "{after:?}");

    // A crash (SIGKILL) and a restart on the same full disk: everything acknowledged is there,
    // and nothing else.
    server.stop();
    let restarted = Instant::now();
    let server = start();
    let opened = restarted.elapsed();
    let store = Store {
        client,
        url: server.url.clone(),
    };
    assert_eq!(store.get("kept").await, (200, kept));
    let mut lost = Vec::new();
    for &i in &acknowledged {
        let (status, value) = store.get(&format!("fill-{i}")).await;
        if status != 200 || value.len() != CHUNK * REPEAT || !value.starts_with(&chunk(i)) {
            lost.push(i);
        }
    }
    // Nothing else either: no write refused for space, no deleted value.
    let mut expected: Vec<String> = acknowledged.iter().map(|i| format!("fill-{i}")).collect();
    expected.push("kept".into());
    expected.sort();
    let (status, listed) = answer(
        store
            .client
            .get(format!("{}/api/host/kv/keys", store.url))
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    let listed: Vec<String> = serde_json::from_str(&listed).expect("keys as JSON");
    assert_eq!(listed, expected, "the keys after the restart");
    eprintln!(
        "after a restart in {opened:?}: {} acknowledged values read back, lost {lost:?}",
        acknowledged.len() - lost.len()
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    server.stop();
}
