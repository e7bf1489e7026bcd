//! The embedded store's format number, kept in the file itself (table `valor_meta`, key
//! `format`), so that a Valor reading a file knows whether it understands it. Format 1: the
//! table `valor_kv`, keyed by (namespace, key), values the plugins' bytes. Files written
//! before the number existed are format 1. `valor_meta`'s own shape never changes.

use redb::{Database, ReadableDatabase, TableDefinition, TableError};
use std::path::Path;

/// The format this Valor writes, and the newest it reads.
pub const FORMAT: u64 = 1;

const META: TableDefinition<&str, u64> = TableDefinition::new("valor_meta");
const FORMAT_KEY: &str = "format";

/// Refuses a file of a newer format (nothing in it is changed); marks a file without a number
/// as format 1; creates `entries`, so that reads never meet a missing table.
pub fn prepare<K: redb::Key + 'static, V: redb::Value + 'static>(
    database: &Database,
    path: &Path,
    entries: TableDefinition<K, V>,
) -> Result<(), String> {
    let fail =
        |e: &dyn std::fmt::Display| format!("opening the store {} failed: {e}", path.display());
    let txn = database.begin_read().map_err(|e| fail(&e))?;
    let found = match txn.open_table(META) {
        Ok(table) => table
            .get(FORMAT_KEY)
            .map_err(|e| fail(&e))?
            .map(|v| v.value()),
        Err(TableError::TableDoesNotExist(_)) => None,
        Err(TableError::TableTypeMismatch { .. }) => {
            return Err(format!(
                "the store {} has a table valor_meta that Valor did not write: is it a \
                 Valor store? Give valor serve another --data",
                path.display()
            ));
        }
        Err(other) => return Err(fail(&other)),
    };
    // Nothing to write (a commit, which a full disk may refuse) for a store already prepared.
    if found == Some(FORMAT) && txn.open_table(entries).is_ok() {
        return Ok(());
    }
    drop(txn);
    if let Some(newer) = found.filter(|&n| n > FORMAT) {
        return Err(format!(
            "the store {} is in format {newer}, written by a newer Valor; this valor ({}) reads \
             format {FORMAT} at most: run the newer valor on it, or give this one another --data \
             (its data is left as it is)",
            path.display(),
            env!("CARGO_PKG_VERSION"),
        ));
    }
    let txn = database.begin_write().map_err(|e| fail(&e))?;
    if found.is_none() {
        // Written before the number existed: the same format, now said.
        let mut table = txn.open_table(META).map_err(|e| fail(&e))?;
        table.insert(FORMAT_KEY, FORMAT).map_err(|e| fail(&e))?;
        drop(table);
        tracing::info!("the store {} is marked as format {FORMAT}", path.display());
    }
    txn.open_table(entries).map_err(|e| fail(&e))?;
    txn.commit().map_err(|e| fail(&e))
}
