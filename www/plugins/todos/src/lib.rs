//! A todo list as a JSON API, persisted in the plugin's key-value store. Mounted at `/api/todos`:
//!
//! | request | answer |
//! |---|---|
//! | `GET /` | 200, every todo, oldest first |
//! | `POST /` with `{"title": "..."}` | 201, the new todo |
//! | `DELETE /` | 204, every todo deleted |
//! | `GET /{id}` | 200, the todo |
//! | `PATCH /{id}` with any of `{"title": "...", "done": true}` | 200, the updated todo |
//! | `DELETE /{id}` | 204 |
//!
//! A todo is `{ "id": "<uuid>", "title": "...", "done": false, "created_ms": 1700000000000 }`.
//! Errors are `{ "error": "<reason>" }`: 400 for a body that is not the expected JSON or an empty
//! title, 404 for an unknown id or path, 405 (with `allow`) for another method.
mod error;
mod store;

use error::ApiError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use store::Todo;
use vlugin::*;

/// The two kinds of path this API has.
enum Route<'a> {
    /// `/`: the list.
    Collection,
    /// `/{id}`: one todo.
    Item(&'a str),
}

/// The body of `POST /`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTodo {
    title: String,
}

/// The body of `PATCH /{id}`: the fields to change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Changes {
    title: Option<String>,
    done: Option<bool>,
}

/// An `Err` answers with the error's own status and JSON body (`ApiError`'s `IntoResponse`).
#[vlugin]
async fn todos(req: Request) -> Result<Response, ApiError> {
    // The path is relative to the mount point: `/api/todos/abc` arrives as `/abc`.
    let route = match req.uri().path().trim_matches('/') {
        "" => Route::Collection,
        id if !id.contains('/') => Route::Item(id),
        _ => return Err(ApiError::NotFound(format!("no route {}", req.uri().path()))),
    };
    match (route, req.method()) {
        (Route::Collection, &Method::GET) => list().await,
        (Route::Collection, &Method::POST) => create(req.body()).await,
        (Route::Collection, &Method::DELETE) => clear().await,
        (Route::Collection, _) => Err(ApiError::MethodNotAllowed("GET, POST, DELETE")),
        (Route::Item(id), &Method::GET) => show(id).await,
        (Route::Item(id), &Method::PATCH) => update(id, req.body()).await,
        (Route::Item(id), &Method::DELETE) => remove(id).await,
        (Route::Item(_), _) => Err(ApiError::MethodNotAllowed("GET, PATCH, DELETE")),
    }
}

async fn list() -> Result<Response, ApiError> {
    Ok(Json(store::list().await?).into_response())
}

async fn create(body: &Body) -> Result<Response, ApiError> {
    let new: NewTodo = parse(body)?;
    let todo = Todo::new(valid_title(&new.title)?);
    store::put(&todo).await?;
    Ok((StatusCode::CREATED, Json(todo)).into_response())
}

async fn clear() -> Result<Response, ApiError> {
    store::delete_all().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn show(id: &str) -> Result<Response, ApiError> {
    Ok(Json(find(id).await?).into_response())
}

async fn update(id: &str, body: &Body) -> Result<Response, ApiError> {
    let changes: Changes = parse(body)?;
    // Read, change, write: requests run concurrently, so of two PATCHes in flight at once the
    // last write wins. Good enough for a todo list; the store has no transactions.
    let mut todo = find(id).await?;
    if let Some(title) = changes.title {
        todo.title = valid_title(&title)?;
    }
    if let Some(done) = changes.done {
        todo.done = done;
    }
    store::put(&todo).await?;
    Ok(Json(todo).into_response())
}

async fn remove(id: &str) -> Result<Response, ApiError> {
    find(id).await?; // an unknown id is a 404, not a silent 204
    store::delete(id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn find(id: &str) -> Result<Todo, ApiError> {
    store::get(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no todo with id {id}")))
}

fn parse<T: DeserializeOwned>(body: &Body) -> Result<T, ApiError> {
    body.json()
        .map_err(|error| ApiError::BadRequest(format!("invalid JSON body: {error}")))
}

fn valid_title(title: &str) -> Result<String, ApiError> {
    match title.trim() {
        "" => Err(ApiError::BadRequest("the title must not be empty".into())),
        title => Ok(title.to_owned()),
    }
}
