//! The manifest parser on any input: it never panics, and a bad entry never hides a good one.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use serde_json::{json, Value};
use valor_host::manifest::Manifest;

fn resolve(url: &str) -> Result<String, String> {
    Ok(format!("https://app.example/{url}"))
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

const FIELDS: [&str; 14] = [
    "name",
    "prefix",
    "url",
    "config",
    "allowed_hosts",
    "credentials",
    "navigations",
    "sandbox",
    "max_body_bytes",
    "timeout_ms",
    "fuel",
    "memory_mb",
    "unknown",
    "registry",
];

/// An entry whose fields are each missing, plausible or anything at all.
fn any_entry() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(FIELDS.to_vec()), any_json()), 0..8).prop_map(
        |fields| Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_parsed_or_refused(text in ".{0,200}") {
        let _ = Manifest::parse(&text, resolve);
    }

    #[test]
    fn bad_entries_never_hide_a_good_one(entries in prop::collection::vec(any_entry(), 0..6), at in 0usize..6) {
        let good = json!({ "name": "the-good-one", "prefix": "/the/good/one", "url": "good.wasm" });
        let mut plugins: Vec<Value> = entries
            .into_iter()
            .filter(|entry| entry.get("name") != good.get("name") && entry.get("prefix") != good.get("prefix"))
            .collect();
        plugins.insert(at.min(plugins.len()), good);
        let text = json!({ "plugins": plugins }).to_string();
        let manifest = Manifest::parse(&text, resolve).expect("a document with a plugins list");
        let mounted = manifest
            .mounts
            .iter()
            .find(|mount| mount.prefix == "/the/good/one")
            .expect("the good entry is mounted");
        prop_assert_eq!(mounted.plugin.as_ref().map(|spec| spec.name.as_str()), Ok("the-good-one"));
    }
}
