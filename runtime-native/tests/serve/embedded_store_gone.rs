//! The store's file gone under a running server (moved away, its volume unmounted): a reopen
//! after an I/O error opens that same file or nothing, so an acknowledged value reads as 503
//! (retry-after), never as missing (404) from a new, empty store made in its place; and once
//! the file is back, the store opens it again by itself. The disk is a real tmpfs of 4 MiB,
//! filled so that a write fails (the I/O error that makes the store reopen).

use crate::common::{answer, app_dir, serve_command, Server};
use crate::embedded_disk::SmallDisk;
use std::time::{Duration, Instant};

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm" }
] }"#;

/// A value of 64 KiB (`?repeat=64` of 1 KiB).
const CHUNK: usize = 1024;
const REPEAT: usize = 64;

struct Store {
    client: reqwest::Client,
    url: String,
}

impl Store {
    async fn put(&self, key: &str) -> (u16, String) {
        let url = format!("{}/api/host/kv?key={key}&repeat={REPEAT}", self.url);
        let body = vec![b'x'; CHUNK];
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

    /// Its status, its `retry-after`, and its body.
    async fn get(&self, key: &str) -> (u16, Option<String>, String) {
        let url = format!("{}/api/host/kv?key={key}", self.url);
        let response = self.client.get(url).send().await.expect("an answer");
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let (status, body) = answer(response).await;
        (status, retry, body)
    }

    /// Writes until a write is refused or fails (the disk full): the answer that ended it.
    async fn fill(&self, name: &str) -> (u16, String) {
        for i in 0..200 {
            let answered = self.put(&format!("{name}-{i}")).await;
            if answered.0 != 204 {
                return answered;
            }
        }
        panic!("the 4 MiB disk held 200 values of 64 KiB");
    }

    /// Reads `key` (writing now and then, so that a write meets the full disk and the store
    /// reopens) until it answers `until` (10 s at most): each answer but that one, by status.
    async fn read_until(&self, key: &str, until: u16) -> Vec<(u16, String)> {
        let started = Instant::now();
        let mut others = Vec::new();
        for i in 0.. {
            let (status, retry, body) = self.get(key).await;
            if status == until {
                return others;
            }
            assert_ne!(
                status, 404,
                "the acknowledged {key} read as missing: {body}"
            );
            if status == 503 {
                assert_eq!(
                    retry.as_deref(),
                    Some("1"),
                    "503 without retry-after: {body}"
                );
            }
            others.push((status, body));
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{key} never answered {until}: {others:?}"
            );
            let _ = self.put(&format!("more-{i}")).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        unreachable!()
    }
}

#[tokio::test]
async fn a_store_moved_away_or_unmounted_answers_503_until_it_is_back_never_404() {
    let disk = SmallDisk::mount("4m");
    let dir = app_dir(MANIFEST, &["host_api"]);
    let data = disk.path().join("kv.redb");
    let aside = disk.path().join("kv.redb.aside");
    let server = Server::spawn(disk.enter(serve_command(dir.path(), &data)));
    let store = Store {
        client: reqwest::Client::new(),
        url: server.url.clone(),
    };
    assert_eq!(store.put("precious").await.0, 204);

    // Moved away, then a write fails for space: the store is closed, not made anew.
    std::fs::rename(&data, &aside).expect("the store moved away");
    let (status, said) = store.fill("fill").await;
    assert_eq!(status, 507, "{said}");
    let before = store.read_until("precious", 503).await;
    eprintln!("moved away: 503 after {before:?}");
    let (status, _, said) = store.get("precious").await;
    assert_eq!(status, 503, "{said}");
    assert!(said.contains("is gone"), "{said}");
    assert!(
        !data.exists(),
        "a new store was made in the place of the moved one"
    );

    // Put back: the store opens it again by itself, the value is there.
    std::fs::rename(&aside, &data).expect("the store put back");
    let back = Instant::now();
    let unavailable = store.read_until("precious", 200).await;
    eprintln!(
        "put back: read again after {:?}, {} answers 503 before",
        back.elapsed(),
        unavailable.len()
    );
    for (status, said) in &unavailable {
        assert_eq!(*status, 503, "{said}");
    }

    // Its volume unmounted (the server still holds the file): closed, never a new store on the
    // disk under the mount point.
    disk.unmount_lazily();
    let (status, said) = store.fill("after-unmount").await;
    assert_eq!(status, 507, "{said}");
    let before = store.read_until("precious", 503).await;
    eprintln!("unmounted: 503 after {before:?}");
    let (status, said) = store.put("new").await;
    assert_eq!(status, 503, "a write to a closed store: {said}");
    assert!(
        !data.exists(),
        "a new store was made where the volume was unmounted"
    );
    server.stop();
}
