//! The embedded store's format number: a file written before it existed (the fixture, format
//! 1) is served and marked; a file of a newer format is refused at start, untouched.

use crate::common::{answer, app_dir, refusal, serve_command, Server};
use redb::{Database, ReadableDatabase, TableDefinition, TableHandle};
use std::path::Path;

const MANIFEST: &str = r#"{ "plugins": [
    { "name": "todos", "prefix": "/api/todos", "url": "plugins/todos.wasm" },
    { "name": "host-api", "prefix": "/api/host", "url": "plugins/host_api.wasm" }
] }"#;

const META: TableDefinition<&str, u64> = TableDefinition::new("valor_meta");

/// The format number written in the store at `path`, if any.
fn format_of(path: &Path) -> Option<u64> {
    let database = Database::open(path).expect("the store opens");
    let txn = database.begin_read().expect("a read");
    let table = txn.open_table(META).ok()?;
    let format = table.get("format").expect("a get").map(|v| v.value());
    format
}

#[tokio::test]
async fn a_store_of_format_1_is_served_and_marked() {
    let dir = app_dir(MANIFEST, &["todos", "host_api"]);
    let data = dir.path().join("kv.redb");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format-1.redb");
    std::fs::copy(fixture, &data).expect("the fixture copied");
    assert_eq!(
        format_of(&data),
        None,
        "the fixture predates format numbers"
    );

    let server = Server::spawn(serve_command(dir.path(), &data));
    let get = |path: &str| reqwest::get(format!("{}{path}", server.url));
    let greeting = answer(get("/api/host/kv?key=greeting").await.expect("an answer")).await;
    assert_eq!(greeting, (200, "written in format 1".to_owned()));
    let big = answer(get("/api/host/kv?key=big").await.expect("an answer")).await;
    assert_eq!(big, (200, "0123456789abcdef".repeat(256)));
    let (status, todos) = answer(get("/api/todos").await.expect("an answer")).await;
    assert_eq!(status, 200);
    assert!(
        todos.contains(r#""title":"kept across upgrades""#),
        "{todos}"
    );
    server.stop();

    assert_eq!(format_of(&data), Some(1), "marked as format 1 once opened");
}

#[test]
fn a_store_of_a_newer_format_is_refused_and_left_alone() {
    let dir = app_dir(MANIFEST, &["host_api"]);
    let data = dir.path().join("kv.redb");
    {
        let database = Database::create(&data).expect("a store");
        let txn = database.begin_write().expect("a write");
        txn.open_table(META)
            .expect("the table")
            .insert("format", 2)
            .expect("an insert");
        txn.commit().expect("a commit");
    }

    let (code, said) = refusal(serve_command(dir.path(), &data));
    eprintln!("refused with {code:?}: {said}");
    assert_eq!(code, Some(1), "{said}");
    for expected in [
        &data.display().to_string(),
        "format 2",
        "format 1",
        "newer",
        "--data",
    ] {
        assert!(said.contains(expected), "{expected:?} not in: {said}");
    }
    assert_eq!(format_of(&data), Some(2));
    let database = Database::open(&data).expect("the store opens");
    let tables: Vec<String> = database
        .begin_read()
        .expect("a read")
        .list_tables()
        .expect("its tables")
        .map(|t| t.name().to_owned())
        .collect();
    assert_eq!(tables, ["valor_meta"], "nothing was added to it");
}
