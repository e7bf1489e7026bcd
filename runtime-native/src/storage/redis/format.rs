//! The layout of Valor's data in Redis has a number, kept in the key `valor:format`, so that a
//! Valor reading a layout it does not know refuses to start instead of misreading it.
//!
//! Format 1: one hash `valor:kv:<namespace>` per namespace (a plugin's name, or
//! `valor:registry` for the registry's records), field = key, value = the bytes stored.
//! Data written before the marker existed is format 1: a store without it is marked 1.

use super::link::Link;

/// The key holding the format number.
pub const KEY: &str = "valor:format";

/// The format this Valor reads and writes.
pub const CURRENT: u32 = 1;

/// Marks an unmarked store as `CURRENT`; refuses one of another format.
pub async fn check(link: &Link) -> Result<(), String> {
    let url = link.shown();
    let found: Option<String> = link
        .run(|mut connection| async move {
            // SETNX then GET: another server marking it at the same moment marks it the same.
            redis::cmd("SETNX")
                .arg(KEY)
                .arg(CURRENT)
                .query_async::<()>(&mut connection)
                .await?;
            redis::cmd("GET")
                .arg(KEY)
                .query_async(&mut connection)
                .await
        })
        .await
        .map_err(|fault| {
            format!(
                "reading the store's format ({KEY}) in Redis at {url} failed: {}",
                fault.reason
            )
        })?;
    let found = found.unwrap_or_default();
    match found.trim().parse::<u32>() {
        Ok(CURRENT) => Ok(()),
        Ok(newer) if newer > CURRENT => Err(format!(
            "the data in Redis at {url} is in format {newer} (its key {KEY}), written by a newer \
             Valor; this valor reads format {CURRENT}: run the newer valor, or give --redis \
             another database (redis://host:port/<n>) to start afresh"
        )),
        _ => Err(format!(
            "the key {KEY} in Redis at {url} holds {found:?}, not a Valor format number (this \
             valor writes {CURRENT}): the database holds something else than Valor's data, or \
             the key was changed; give --redis a database of its own (redis://host:port/<n>)"
        )),
    }
}
