//! A todo list as a JSON API in the style of TodoBackend, persisted in the plugin's key-value
//! store. Mounted at `/api/todos`:
//!
//! | request | answer |
//! |---|---|
//! | `GET /` | 200, every todo, oldest first |
//! | `POST /` with `{"title": "..."}` | 201, the new todo, `location` its URL |
//! | `DELETE /` | 204, every todo deleted |
//! | `GET /{id}` | 200, the todo |
//! | `PATCH /{id}` with any of `{"title": "...", "done": true}` | 200, the updated todo |
//! | `DELETE /{id}` | 204 |
//!
//! A todo is `{ "id": "<uuid>", "title": "...", "done": false, "created_ms": 1700000000000,
//! "url": "https://<origin>/api/todos/<uuid>" }`. Every error is `{ "error": "<reason>" }`: 400
//! for a body that is not the expected JSON or an empty title, 404 for an unknown id or path,
//! 405 (with `allow`) for another method.
mod errors;
mod store;

use serde::Deserialize;
use store::Todo;
use vlugin::prelude::*;

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

#[vlugin]
async fn todos(req: Request) -> Response {
    let answer = Router::new()
        .get("/", list)
        .post("/", create)
        .delete("/", clear)
        .get("/{id}", show)
        .patch("/{id}", update)
        .delete("/{id}", remove)
        .handle(req)
        .await;
    errors::as_json(answer)
}

async fn list(_req: Request, _params: Params) -> vlugin::Result<Json<Vec<Todo>>> {
    Ok(Json(store::list().await?))
}

async fn create(req: Request, _params: Params) -> vlugin::Result<impl IntoResponse> {
    let new: NewTodo = req.json()?;
    let todo = Todo::new(valid_title(&new.title)?);
    store::put(&todo).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, todo.url.clone())],
        Json(todo),
    ))
}

async fn clear(_req: Request, _params: Params) -> vlugin::Result<StatusCode> {
    store::delete_all().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn show(_req: Request, params: Params) -> vlugin::Result<Json<Todo>> {
    Ok(Json(found(
        params.get("id"),
        store::get(id(&params)).await?,
    )?))
}

async fn update(req: Request, params: Params) -> vlugin::Result<Json<Todo>> {
    let changes: Changes = req.json()?;
    let title = changes.title.as_deref().map(valid_title).transpose()?;
    // Atomic: of two PATCHes in flight at once, each applies to what the other stored.
    let todo = store::modify(id(&params), |todo| {
        if let Some(title) = &title {
            todo.title = title.clone();
        }
        if let Some(done) = changes.done {
            todo.done = done;
        }
    })
    .await?;
    Ok(Json(found(params.get("id"), todo)?))
}

async fn remove(_req: Request, params: Params) -> vlugin::Result<StatusCode> {
    // An unknown id is a 404, not a silent 204.
    found(params.get("id"), store::get(id(&params)).await?)?;
    store::delete(id(&params)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn id(params: &Params) -> &str {
    params.get("id").unwrap_or_default()
}

fn found(id: Option<&str>, todo: Option<Todo>) -> vlugin::Result<Todo> {
    todo.ok_or_else(|| {
        let id = id.unwrap_or_default();
        Error::new(StatusCode::NOT_FOUND, format!("no todo with id {id}"))
    })
}

fn valid_title(title: &str) -> vlugin::Result<String> {
    match title.trim() {
        "" => Err(Error::new(
            StatusCode::BAD_REQUEST,
            "the title must not be empty",
        )),
        title => Ok(title.to_owned()),
    }
}

/// The API natively, on vlugin's in-memory test host (`cargo test -p todos`).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use vlugin::test::{block_on, request, Host};

    fn send(method: &str, uri: &str, body: &str) -> (StatusCode, serde_json::Value, Response) {
        let answer = block_on(todos(request(method, uri, body.to_owned())));
        let json = answer.body().json().unwrap_or(serde_json::Value::Null);
        (answer.status(), json, answer)
    }

    #[test]
    fn a_todo_is_created_at_its_absolute_url_changed_and_deleted() {
        let _host = Host::new()
            .origin("https://todo.example")
            .mount("/api/todos")
            .install();
        let (status, todo, answer) = send("POST", "/", r#"{"title": " Buy milk "}"#);
        assert_eq!(status, StatusCode::CREATED);
        let id = todo["id"].as_str().unwrap();
        let url = format!("https://todo.example/api/todos/{id}");
        assert_eq!(
            (todo["title"].as_str(), todo["url"].as_str()),
            (Some("Buy milk"), Some(&*url))
        );
        assert_eq!(answer.headers()[header::LOCATION], url.as_str());

        let (status, todo, _) = send("PATCH", &format!("/{id}"), r#"{"done": true}"#);
        assert_eq!(
            (status, todo["done"].as_bool()),
            (StatusCode::OK, Some(true))
        );
        let (_, listed, _) = send("GET", "/", "");
        assert_eq!(listed.as_array().map(Vec::len), Some(1));
        assert_eq!(listed[0]["done"], true);

        assert_eq!(
            send("DELETE", &format!("/{id}"), "").0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(send("GET", &format!("/{id}"), "").0, StatusCode::NOT_FOUND);
    }

    #[test]
    fn every_error_is_json_with_its_status() {
        let _host = Host::new().install();
        let cases = [
            ("POST", "/", "{}", StatusCode::BAD_REQUEST),
            ("POST", "/", r#"{"title": "  "}"#, StatusCode::BAD_REQUEST),
            ("GET", "/missing", "", StatusCode::NOT_FOUND),
            ("PATCH", "/missing", "{}", StatusCode::NOT_FOUND),
            ("GET", "/a/b", "", StatusCode::NOT_FOUND),
            ("PUT", "/", "", StatusCode::METHOD_NOT_ALLOWED),
        ];
        for (method, uri, body, expected) in cases {
            let (status, error, answer) = send(method, uri, body);
            assert_eq!(status, expected, "{method} {uri}");
            assert!(error["error"].is_string(), "{method} {uri}: {error}");
            if status == StatusCode::METHOD_NOT_ALLOWED {
                assert_eq!(answer.headers()[header::ALLOW], "DELETE, GET, HEAD, POST");
            }
        }
    }
}
