//! A plugin's `kv` listing is bounded by what its memory could hold: a namespace larger than
//! the entry's `memory_mb` is refused with what to do, instead of read whole into the server's
//! memory (a plugin can store more than it could ever be handed, one value at a time).

use crate::common::{answer, app_dir, serve_command, Server};

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm", "memory_mb": 4 }
] }"#;

#[tokio::test]
async fn a_listing_larger_than_the_plugins_memory_is_refused() {
    let dir = app_dir(MANIFEST, &["host_api"]);
    let server = Server::spawn(serve_command(dir.path(), &dir.path().join("kv.redb")));
    let client = reqwest::Client::new();
    let url = &server.url;
    // 6 values of 1 MiB: 6 MiB in the namespace, more than the plugin's 4 MiB.
    for i in 0..6 {
        let put = client
            .put(format!("{url}/api/host/kv?key=big/{i}&repeat=1024"))
            .body(vec![b'x'; 1024])
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 204, "write {i}");
    }
    let (status, text) = answer(
        client
            .get(format!("{url}/api/host/kv/scan?prefix=big/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains("more than 4194304 bytes") && text.contains("list a narrower prefix"),
        "{text}"
    );
    // The keys alone are a small listing: their values are not what the plugin is handed.
    let keys = client
        .get(format!("{url}/api/host/kv/keys?prefix=big/"))
        .send()
        .await
        .unwrap();
    assert_eq!(keys.status(), 200);
    let keys: Vec<String> = serde_json::from_str(&keys.text().await.unwrap()).unwrap();
    assert_eq!(keys.len(), 6, "{keys:?}");
    // A narrower prefix lists; so does a listing that matches nothing.
    let small = client
        .get(format!("{url}/api/host/kv/keys?prefix=big/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), 200);
    assert_eq!(small.text().await.unwrap(), r#"["big/1"]"#);
    let none = client
        .get(format!("{url}/api/host/kv/keys?prefix=zzz"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.text().await.unwrap(), "[]");
}
