//! Todos in the plugin's key-value store: one JSON value per todo, under `todo/<id>`.
//!
//! The store is this plugin's own (named after its manifest entry) and lives in IndexedDB, so the
//! list survives reloads and service worker restarts.
use serde::{Deserialize, Serialize};
use std::time::UNIX_EPOCH;
use vlugin::kv;

const PREFIX: &str = "todo/";

/// A todo, as stored and as answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Todo {
    pub id: String,
    pub title: String,
    pub done: bool,
    /// Creation time, milliseconds since the Unix epoch: the list's order.
    pub created_ms: u64,
}

impl Todo {
    /// A new, not yet done todo with a random id.
    pub fn new(title: String) -> Self {
        let created_ms = vlugin::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as u64);
        Todo {
            id: uuid::Uuid::new_v4().to_string(),
            title,
            done: false,
            created_ms,
        }
    }
}

fn key(id: &str) -> String {
    format!("{PREFIX}{id}")
}

/// Every todo, oldest first.
pub async fn list() -> Result<Vec<Todo>, vlugin::Error> {
    let mut todos = Vec::new();
    for key in kv::keys(PREFIX).await? {
        // A key removed between `keys` and `get_json` (a concurrent DELETE) is skipped.
        if let Some(todo) = kv::get_json::<Todo>(&key).await? {
            todos.push(todo);
        }
    }
    todos.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    Ok(todos)
}

pub async fn get(id: &str) -> Result<Option<Todo>, vlugin::Error> {
    kv::get_json(&key(id)).await
}

/// Stores `todo`, replacing the one with the same id.
pub async fn put(todo: &Todo) -> Result<(), vlugin::Error> {
    kv::set_json(&key(&todo.id), todo).await
}

pub async fn delete(id: &str) -> Result<(), vlugin::Error> {
    kv::delete(&key(id)).await
}

pub async fn delete_all() -> Result<(), vlugin::Error> {
    for key in kv::keys(PREFIX).await? {
        kv::delete(&key).await?;
    }
    Ok(())
}
