//! A small disk filled by a plugin: the embedded store answers 507 with the reason for each
//! write that has no room, keeps answering reads, takes writes again once a delete made room,
//! and after a restart has every write it acknowledged. The disk is a real tmpfs of 4 MiB.

use crate::common::{answer, app_dir, serve_command, Server};
use crate::embedded_disk::SmallDisk;
use std::time::Instant;

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm" }
] }"#;

/// Each value written: 1 KiB, 64 times over (`?repeat=64`).
const CHUNK: usize = 1024;
const REPEAT: usize = 64;
const WRITERS: usize = 4;

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
    let disk = SmallDisk::mount("4m");
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
    // A write that found no room keeps writes out a moment after a delete too (100 ms at
    // least, so that deletes every millisecond don't make the store reopen as often): writes
    // refused before they were tried are tried again, for 5 s at most.
    let mut after = Vec::new();
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    for i in 1000..1002 {
        loop {
            let (status, said) = store.put(&format!("fill-{i}"), chunk(i), REPEAT).await;
            if status == 204 {
                acknowledged.push(i);
            }
            let waited = status == 507 && said.contains("are tried again");
            after.push((status, said));
            if !waited || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
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
