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
    /// Where the todo is, absolute: made anew for every answer (`located`), as the app's
    /// origin is the host's to say.
    #[serde(default)]
    pub url: String,
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
            url: String::new(),
        }
        .located()
    }

    fn located(mut self) -> Self {
        self.url = vlugin::url_for(&format!("/{}", self.id));
        self
    }
}

fn key(id: &str) -> String {
    format!("{PREFIX}{id}")
}

/// Every todo, oldest first.
pub async fn list() -> Result<Vec<Todo>, vlugin::Error> {
    let mut todos: Vec<Todo> = kv::scan_json::<Todo>(PREFIX)
        .await?
        .into_iter()
        .map(|(_key, todo)| todo.located())
        .collect();
    todos.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    Ok(todos)
}

pub async fn get(id: &str) -> Result<Option<Todo>, vlugin::Error> {
    Ok(kv::get_json::<Todo>(&key(id)).await?.map(Todo::located))
}

/// Changes the todo `id` with `change`, atomically; `None` if there is no such todo.
pub async fn modify(id: &str, change: impl Fn(&mut Todo)) -> Result<Option<Todo>, vlugin::Error> {
    let key = key(id);
    let mut current = kv::get(&key).await?;
    loop {
        let Some(stored) = current.as_deref() else {
            return Ok(None);
        };
        let mut todo: Todo = serde_json::from_slice(stored)?;
        change(&mut todo);
        let new = serde_json::to_vec(&todo)?;
        match kv::compare_and_swap(&key, Some(stored), Some(&new)).await? {
            Ok(()) => return Ok(Some(todo.located())),
            // Changed (or deleted) meanwhile: apply the change to what is there now.
            Err(found) => current = found,
        }
    }
}

/// Stores `todo`, replacing the one with the same id.
pub async fn put(todo: &Todo) -> Result<(), vlugin::Error> {
    kv::set_json(&key(&todo.id), todo).await
}

pub async fn delete(id: &str) -> Result<(), vlugin::Error> {
    kv::delete(&key(id)).await
}

/// Deletes every todo.
pub async fn delete_all() -> Result<(), vlugin::Error> {
    for key in kv::keys(PREFIX).await? {
        kv::delete(&key).await?;
    }
    Ok(())
}
