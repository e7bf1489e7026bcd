//! The plugins' key-value store on the real IndexedDB of a real service worker. Each test uses
//! its own database, `valor-test-<test>`, emptied first in case an earlier run left it behind.
#![cfg(target_arch = "wasm32")]

use std::{cell::Cell, rc::Rc};

use js_sys::{Array, Promise, Reflect};
use valor_abi::storage::Failure;
use valor_runtime::storage::{Storage, StorageError};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_service_worker);

/// Calls `indexedDB[method](...args)` and waits for the request's success; `blocked` counts as
/// failure, since nothing in these tests should hold a connection open against a deletion.
async fn idb_request(method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    idb_request_with(method, args, None).await
}

/// [`idb_request`], with `upgrade` as the request's `onupgradeneeded`.
async fn idb_request_with(
    method: &str,
    args: &[JsValue],
    upgrade: Option<&js_sys::Function>,
) -> Result<JsValue, JsValue> {
    let factory = Reflect::get(&js_sys::global(), &"indexedDB".into())?;
    let function = Reflect::get(&factory, &method.into())?;
    let args: Array = args.iter().collect();
    let request = Reflect::apply(
        function.unchecked_ref::<js_sys::Function>(),
        &factory,
        &args,
    )?;
    if let Some(upgrade) = upgrade {
        Reflect::set(&request, &"onupgradeneeded".into(), upgrade)?;
    }
    let settled = Promise::new(&mut |resolve, reject| {
        for (event, handler) in [
            ("onsuccess", &resolve),
            ("onerror", &reject),
            ("onblocked", &reject),
        ] {
            Reflect::set(&request, &event.into(), handler).unwrap();
        }
    });
    JsFuture::from(settled).await?;
    Reflect::get(&request, &"result".into())
}

async fn delete_database(name: &str) {
    idb_request("deleteDatabase", &[name.into()])
        .await
        .unwrap_or_else(|e| panic!("deleting {name}: {e:?}"));
}

/// A store on an empty database of this test's own.
async fn fresh(test: &str) -> Storage {
    let name = format!("valor-test-{test}");
    delete_database(&name).await;
    Storage::new(&name)
}

#[wasm_bindgen_test]
async fn binary_values_round_trip() {
    let storage = fresh("round-trip").await;
    let all_bytes: Vec<u8> = (0..=255).collect();
    let large: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    for (key, value) in [
        ("empty", &[][..]),
        ("zero", &[0][..]),
        ("all-bytes", &all_bytes[..]),
        ("one-mib", &large[..]),
    ] {
        storage.put("plugin", key, value).await.unwrap();
        assert_eq!(
            storage.get("plugin", key).await.unwrap().as_deref(),
            Some(value),
            "{key}"
        );
    }
    storage.put("plugin", "zero", b"replaced").await.unwrap();
    assert_eq!(
        storage.get("plugin", "zero").await.unwrap(),
        Some(b"replaced".to_vec())
    );
}

#[wasm_bindgen_test]
async fn a_missing_key_is_none() {
    let storage = fresh("missing").await;
    // The first operation creates the database.
    assert_eq!(storage.get("plugin", "nothing").await.unwrap(), None);
    storage.put("plugin", "something", b"x").await.unwrap();
    assert_eq!(storage.get("plugin", "nothing").await.unwrap(), None);
    assert_eq!(storage.get("other", "something").await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn delete_removes_and_deleting_a_missing_key_succeeds() {
    let storage = fresh("delete").await;
    storage.put("plugin", "a", b"1").await.unwrap();
    storage.put("plugin", "b", b"2").await.unwrap();
    storage.delete("plugin", "a").await.unwrap();
    assert_eq!(storage.get("plugin", "a").await.unwrap(), None);
    assert_eq!(
        storage.get("plugin", "b").await.unwrap(),
        Some(b"2".to_vec())
    );
    storage.delete("plugin", "a").await.unwrap();
    storage.delete("plugin", "never-there").await.unwrap();
    storage.delete("no-such-namespace", "b").await.unwrap();
    assert_eq!(storage.keys("plugin", "").await.unwrap(), ["b"]);
}

#[wasm_bindgen_test]
async fn keys_lists_one_namespace_by_prefix_sorted() {
    let storage = fresh("keys").await;
    // Written out of order, with characters where UTF-16 order (IndexedDB's) and Rust's differ.
    let notes = [
        "b",
        "a\u{FFFF}",
        "a/2",
        "a",
        "`",
        "a😀",
        "ab",
        "a\u{E000}",
        "a/1",
        "",
    ];
    for key in notes {
        storage.put("notes", key, key.as_bytes()).await.unwrap();
    }
    for (namespace, key) in [("note", "a/3"), ("notes2", "a/4"), ("notesa", "a")] {
        storage.put(namespace, key, b"elsewhere").await.unwrap();
    }

    let mut all = notes.to_vec();
    all.sort();
    assert_eq!(storage.keys("notes", "").await.unwrap(), all);
    assert_eq!(
        storage.keys("notes", "a").await.unwrap(),
        ["a", "a/1", "a/2", "ab", "a\u{E000}", "a\u{FFFF}", "a😀"]
    );
    assert_eq!(storage.keys("notes", "a/").await.unwrap(), ["a/1", "a/2"]);
    assert_eq!(storage.keys("notes", "a/1").await.unwrap(), ["a/1"]);
    assert_eq!(
        storage.keys("notes", "zzz").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        storage.keys("empty", "").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(storage.keys("note", "").await.unwrap(), ["a/3"]);
}

#[wasm_bindgen_test]
async fn keys_prefixes_at_the_edges_of_utf16() {
    let storage = fresh("keys-edges").await;
    for key in [
        "\u{D7FF}",
        "\u{FFFE}",
        "\u{FFFF}",
        "\u{FFFF}\u{FFFF}",
        "\u{FFFF}😀",
        "😀",
        "😀x",
        "😁",
    ] {
        storage.put("edge", key, b"").await.unwrap();
    }
    // A namespace sorting right after "edge": a prefix with no upper bound must stop before it.
    storage.put("edgf", "\u{FFFF}z", b"").await.unwrap();

    let keys = |prefix: &'static str| {
        let storage = storage.clone();
        async move { storage.keys("edge", prefix).await.unwrap() }
    };
    assert_eq!(
        keys("\u{FFFF}").await,
        ["\u{FFFF}", "\u{FFFF}\u{FFFF}", "\u{FFFF}😀"]
    );
    assert_eq!(keys("\u{FFFF}\u{FFFF}").await, ["\u{FFFF}\u{FFFF}"]);
    assert_eq!(keys("\u{FFFE}").await, ["\u{FFFE}"]);
    assert_eq!(keys("\u{D7FF}").await, ["\u{D7FF}"]);
    assert_eq!(keys("😀").await, ["😀", "😀x"]);
}

#[wasm_bindgen_test]
async fn namespaces_are_isolated() {
    let storage = fresh("namespaces").await;
    storage.put("alpha", "config", b"alpha's").await.unwrap();
    storage.put("beta", "config", b"beta's").await.unwrap();
    // Keys that would collide if namespace and key were joined with a separator.
    storage.put("a:b", "c", b"first").await.unwrap();
    storage.put("a", "b:c", b"second").await.unwrap();

    assert_eq!(
        storage.get("alpha", "config").await.unwrap(),
        Some(b"alpha's".to_vec())
    );
    assert_eq!(
        storage.get("beta", "config").await.unwrap(),
        Some(b"beta's".to_vec())
    );
    assert_eq!(
        storage.get("a:b", "c").await.unwrap(),
        Some(b"first".to_vec())
    );
    assert_eq!(
        storage.get("a", "b:c").await.unwrap(),
        Some(b"second".to_vec())
    );

    storage.delete("alpha", "config").await.unwrap();
    assert_eq!(
        storage.get("beta", "config").await.unwrap(),
        Some(b"beta's".to_vec())
    );
    assert_eq!(storage.keys("a", "").await.unwrap(), ["b:c"]);
    assert_eq!(storage.keys("a:", "").await.unwrap(), Vec::<String>::new());
}

#[wasm_bindgen_test]
async fn a_new_storage_of_the_same_database_sees_the_data() {
    let first = fresh("restart").await;
    first
        .put("plugin", "kept", b"across restarts")
        .await
        .unwrap();
    drop(first);

    // What a restarted runtime does: a new handle, a new connection.
    let second = Storage::new("valor-test-restart");
    assert_eq!(
        second.get("plugin", "kept").await.unwrap(),
        Some(b"across restarts".to_vec())
    );
    // Two live connections see each other's committed writes.
    let third = Storage::new("valor-test-restart");
    third.put("plugin", "late", b"x").await.unwrap();
    assert_eq!(second.keys("plugin", "").await.unwrap(), ["kept", "late"]);
}

#[wasm_bindgen_test]
async fn fifty_concurrent_puts_all_land_through_one_open() {
    let storage = fresh("concurrent").await;
    // Count the store's calls of indexedDB.open, through an own property shadowing the method.
    let factory = Reflect::get(&js_sys::global(), &"indexedDB".into()).unwrap();
    let open: js_sys::Function = Reflect::get(&factory, &"open".into())
        .unwrap()
        .unchecked_into();
    let opens = Rc::new(Cell::new(0));
    let counting = Closure::<dyn FnMut(JsValue, JsValue) -> Result<JsValue, JsValue>>::new({
        let (factory, opens) = (factory.clone(), opens.clone());
        move |name, version| {
            opens.set(opens.get() + 1);
            open.apply(&factory, &Array::of2(&name, &version))
        }
    });
    Reflect::set(&factory, &"open".into(), counting.as_ref()).unwrap();

    // Started together before the database is open, so they all wait on the one open.
    let puts: Array = (0..50)
        .map(|i| {
            let storage = storage.clone();
            JsValue::from(future_to_promise(async move {
                let key = format!("item-{i:02}");
                storage
                    .put("plugin", &key, &[i as u8; 3])
                    .await
                    .map(|()| JsValue::UNDEFINED)
                    .map_err(|e| e.to_string().into())
            }))
        })
        .collect();
    let landed = JsFuture::from(Promise::all(&puts)).await;
    Reflect::delete_property(factory.unchecked_ref::<js_sys::Object>(), &"open".into()).unwrap();
    landed.unwrap();
    assert_eq!(opens.get(), 1);

    let keys = storage.keys("plugin", "item-").await.unwrap();
    let expected: Vec<String> = (0..50).map(|i| format!("item-{i:02}")).collect();
    assert_eq!(keys, expected);
    for i in 0..50u8 {
        assert_eq!(
            storage
                .get("plugin", &format!("item-{i:02}"))
                .await
                .unwrap(),
            Some(vec![i; 3])
        );
    }
}

#[wasm_bindgen_test]
async fn a_database_deleted_under_an_open_connection_is_recreated() {
    let storage = fresh("deleted").await;
    storage.put("plugin", "gone", b"soon").await.unwrap();
    // Blocks (and fails here) unless the store closes its connection when asked to.
    delete_database("valor-test-deleted").await;
    assert_eq!(storage.get("plugin", "gone").await.unwrap(), None);
    storage.put("plugin", "again", b"yes").await.unwrap();
    assert_eq!(
        storage.get("plugin", "again").await.unwrap(),
        Some(b"yes".to_vec())
    );
}

#[wasm_bindgen_test]
async fn a_database_of_a_newer_format_is_refused_with_what_to_do() {
    let name = "valor-test-newer-version";
    delete_database(name).await;
    // A database at a version this runtime does not know, as a newer runtime could leave.
    let newer = idb_request("open", &[name.into(), 5.into()]).await.unwrap();
    close(&newer);

    let storage = Storage::new(name);
    for _ in 0..2 {
        let error = storage.get("plugin", "key").await.unwrap_err();
        assert_eq!(
            error,
            StorageError::Newer {
                database: name.to_owned(),
                found: 5
            }
        );
        assert_eq!(error.failure(), Failure::Other);
        let message = error.to_string();
        for said in [
            "database valor-test-newer-version is at version 5",
            "reads version 1",
            "Serve the newer Valor again",
        ] {
            assert!(message.contains(said), "{said:?} not in {message}");
        }
    }
    let error = storage.put("plugin", "key", b"").await.unwrap_err();
    assert!(matches!(error, StorageError::Newer { .. }), "{error:?}");
    // Untouched: still at its version, still openable by the newer runtime.
    let still = idb_request("open", &[name.into()]).await.unwrap();
    assert_eq!(Reflect::get(&still, &"version".into()).unwrap(), 5);
    close(&still);

    // A failed open is not remembered: once the obstacle is gone, the same handle works.
    delete_database(name).await;
    storage.put("plugin", "key", b"now").await.unwrap();
    assert_eq!(
        storage.get("plugin", "key").await.unwrap(),
        Some(b"now".to_vec())
    );
}

#[wasm_bindgen_test]
async fn a_database_of_todays_format_written_without_valor_is_read() {
    let name = "valor-test-format-1";
    delete_database(name).await;
    // Format 1 as the raw IndexedDB API makes it: version 1, object store `kv`, values
    // `Uint8Array` under `[namespace, key]`. What any Valor since the first has written.
    let upgrade = Closure::<dyn FnMut(JsValue)>::new(|event: JsValue| {
        let request = Reflect::get(&event, &"target".into()).unwrap();
        let database = Reflect::get(&request, &"result".into()).unwrap();
        let store = call(&database, "createObjectStore", &["kv".into()]);
        for (namespace, key, value) in [
            ("todos", "todo/1", &b"milk"[..]),
            ("todos", "todo/2", &[0, 255][..]),
            ("other", "todo/3", &b"not theirs"[..]),
        ] {
            let value = js_sys::Uint8Array::from(value);
            let key = Array::of2(&namespace.into(), &key.into());
            call(&store, "put", &[value.into(), key.into()]);
        }
    });
    let written = idb_request_with(
        "open",
        &[name.into(), 1.into()],
        Some(upgrade.as_ref().unchecked_ref()),
    )
    .await
    .unwrap();
    close(&written);

    let storage = Storage::new(name);
    assert_eq!(
        storage.scan("todos", "").await.unwrap(),
        [
            ("todo/1".to_owned(), b"milk".to_vec()),
            ("todo/2".to_owned(), vec![0, 255])
        ]
    );
    assert_eq!(
        storage.get("other", "todo/3").await.unwrap(),
        Some(b"not theirs".to_vec())
    );
    storage.put("todos", "todo/3", b"eggs").await.unwrap();
    assert_eq!(
        storage.keys("todos", "").await.unwrap(),
        ["todo/1", "todo/2", "todo/3"]
    );
}

/// Calls `target[method](...args)`.
fn call(target: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    let function = Reflect::get(target, &method.into()).unwrap();
    let args: Array = args.iter().collect();
    Reflect::apply(function.unchecked_ref::<js_sys::Function>(), target, &args)
        .unwrap_or_else(|e| panic!("{method}: {e:?}"))
}

fn close(database: &JsValue) {
    call(database, "close", &[]);
}
