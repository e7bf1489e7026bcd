//! A small disk kept full by one plugin's 16 writers and deleters, for 3 s, while another
//! plugin reads: the reader never gets 503 (its reads wait for the store's reopens instead of
//! failing), the store reopens a few times, not at every request (deletes that removed nothing
//! made writes try again at once), and afterwards deleting a value answers 204 without a
//! restart (before, deletes failed for space until one). The disk is a real tmpfs of 4 MiB.

use crate::common::{answer, app_dir, serve_command, Server};
use crate::embedded_disk::SmallDisk;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "reader", "prefix": "/reader", "url": "plugins/host_api.wasm" },
    { "name": "writer", "prefix": "/writer", "url": "plugins/host_api.wasm" }
] }"#;

const WRITERS: usize = 16;
const LOAD: Duration = Duration::from_secs(3);
/// How many of the values written the load's deletes leave.
const KEPT: usize = 8;
/// 64 KiB values: `?repeat=64` of 1 KiB.
const REPEAT: usize = 64;

#[derive(Default)]
struct Tally {
    /// (what, status) -> how many.
    answers: BTreeMap<(&'static str, u16), usize>,
    /// The writer's keys acknowledged and not deleted.
    written: Vec<String>,
    /// One body of each refusal seen, to say why.
    said: BTreeMap<(&'static str, u16), String>,
}

impl Tally {
    fn note(&mut self, what: &'static str, status: u16, body: String) {
        *self.answers.entry((what, status)).or_default() += 1;
        if !(200..300).contains(&status) {
            self.said.entry((what, status)).or_insert(body);
        }
    }
}

#[tokio::test]
async fn a_disk_kept_full_by_one_plugin_never_fails_another_plugins_reads_nor_wedges_deletes() {
    let disk = SmallDisk::mount("8m");
    let dir = app_dir(MANIFEST, &["host_api"]);
    let data = disk.path().join("kv.redb");
    let mut command = serve_command(dir.path(), &data);
    command.env("VALOR_LOG", "info,valor_server::storage::embedded=debug");
    let (server, log) = Server::spawn_logged(disk.enter(command));
    let client = reqwest::Client::new();
    let url = server.url.clone();
    let value = format!("{}/reader/kv?key=kept", url);
    assert_eq!(
        answer(client.put(&value).body("kept").send().await.unwrap())
            .await
            .0,
        204
    );

    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let writers = (0..WRITERS).map(|w| {
        let (client, url, tally) = (client.clone(), url.clone(), Arc::clone(&tally));
        tokio::spawn(async move {
            for i in 0.. {
                if started.elapsed() > LOAD {
                    break;
                }
                // Every 7th request deletes a value written, as a plugin making room would; it
                // keeps a few, so that values are left to delete after the load (when writes
                // are refused much faster than they succeed, deletes would take them all).
                let victim = (i % 7 == 6)
                    .then(|| {
                        let mut tally = tally.lock().unwrap();
                        let n = tally.written.len();
                        (n > KEPT).then(|| tally.written.swap_remove((w * 31 + i) % n))
                    })
                    .flatten();
                if let Some(key) = victim {
                    let at = format!("{url}/writer/kv?key={key}");
                    let (status, body) = answer(client.delete(at).send().await.unwrap()).await;
                    let mut tally = tally.lock().unwrap();
                    if status != 204 {
                        tally.written.push(key);
                    }
                    tally.note("DELETE", status, body);
                } else {
                    let key = format!("w{w}-{i}");
                    let at = format!("{url}/writer/kv?key={key}&repeat={REPEAT}");
                    let request = client.put(at).body(vec![b'w'; 1024]);
                    let (status, body) = answer(request.send().await.unwrap()).await;
                    let mut tally = tally.lock().unwrap();
                    if status == 204 {
                        tally.written.push(key);
                    }
                    tally.note("PUT", status, body);
                }
            }
        })
    });
    let reader = {
        let (client, tally) = (client.clone(), Arc::clone(&tally));
        tokio::spawn(async move {
            while started.elapsed() < LOAD {
                let (status, body) = answer(client.get(&value).send().await.unwrap()).await;
                assert!(status != 200 || body == "kept", "read back {body:?}");
                tally.lock().unwrap().note("reader GET", status, body);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    futures::future::join_all(writers).await;
    reader.await.unwrap();
    let reopens = log.count("reopened");
    let releases = log.count("reserve (");
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    eprintln!(
        "in {LOAD:?}: {:?}; the store reopened {reopens} times, let its reserve go {releases} times; refusals: {:?}",
        tally.answers, tally.said
    );

    let reads = &tally.answers;
    assert!(reads.contains_key(&("PUT", 507)), "the disk never filled");
    for ((what, status), said) in &tally.said {
        assert!(
            *what != "reader GET",
            "the other plugin's read answered {status}: {said}"
        );
    }
    // Before: 832 reopens in 8 s. A write that found no room keeps writes out for a second, a
    // delete that removed a value lets them in 100 ms after it at the soonest: about ten reopens
    // a second, and one each time a delete lets the reserve go (27 to 39 in 3 s here; 20 a
    // second allowed, for a busy machine; 171 before).
    assert!(
        reopens <= 60,
        "the store reopened {reopens} times in {LOAD:?}"
    );

    // The disk full again (writes until one fails for space), then deleting values makes room
    // again, without a restart (before: 507 until a restart).
    let mut written = tally.written;
    let deadline = Instant::now() + Duration::from_secs(10);
    for i in 0.. {
        let at = format!("{url}/writer/kv?key=after-{i}&repeat={REPEAT}");
        let request = client.put(at).body(vec![b'a'; 1024]);
        let (status, said) = answer(request.send().await.unwrap()).await;
        match status {
            204 => written.push(format!("after-{i}")),
            507 if said.contains("failed: I/O error") => break,
            // Refused before it was tried: a write found no room a moment ago.
            507 => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => panic!("a write answered {status}: {said}"),
        }
        assert!(Instant::now() < deadline, "the disk never filled again");
    }
    assert!(written.len() >= 4, "values to delete: {written:?}");
    let mut deletes = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    for key in written.iter().take(4) {
        loop {
            let at = format!("{url}/writer/kv?key={key}");
            let (status, said) = answer(client.delete(at).send().await.unwrap()).await;
            deletes.push(status);
            // A delete that found no room, with the reserve gone already, waits a second.
            if status == 507 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            assert_eq!(status, 204, "deleting {key} after the load: {said}");
            break;
        }
    }
    eprintln!("deletes after the load answered {deletes:?}");
    server.stop();
}
