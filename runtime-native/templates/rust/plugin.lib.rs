//! {{name}}: a Valor plugin, a small JSON API of notes.
//!
//! Mounted at `/api/{{name}}` (see `web/plugins.json`), it answers
//! - `GET /` a greeting,
//! - `GET /notes` every note, `POST /notes` a new one (`{"text": "..."}`; 201 with `location`),
//! - `GET /notes/{id}` and `DELETE /notes/{id}` one note.

use vlugin::prelude::*;
use vlugin::serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(crate = "vlugin::serde")]
struct Note {
    id: u64,
    text: String,
    /// Where the note is: an absolute URL, whatever the app's origin and the mount.
    url: String,
}

#[derive(Deserialize)]
#[serde(crate = "vlugin::serde")]
struct NewNote {
    text: String,
}

#[vlugin]
async fn handle(req: Request) -> Response {
    Router::new()
        .get("/", |_req, _params| async { "Hello from {{name}}" })
        .get("/notes", list)
        .post("/notes", create)
        .get("/notes/{id}", show)
        .delete("/notes/{id}", remove)
        .handle(req)
        .await
}

async fn list(_req: Request, _params: Params) -> vlugin::Result<Json<Vec<Note>>> {
    let notes = kv::scan_json("note/").await?;
    Ok(Json(notes.into_iter().map(|(_key, note)| note).collect()))
}

async fn create(req: Request, _params: Params) -> vlugin::Result<impl IntoResponse> {
    let NewNote { text } = req.json()?; // not JSON, or no `text`: 400
    // Atomic: two notes created at once never get the same id.
    let id = kv::update_json("next-id", |id: Option<u64>| id.unwrap_or(0) + 1).await?;
    let url = url_for(&format!("/notes/{id}"));
    let note = Note { id, text, url };
    kv::set_json(&key(id), &note).await?;
    let location = note.url.clone();
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(note)))
}

async fn show(_req: Request, params: Params) -> vlugin::Result<Json<Note>> {
    let id: u64 = params.parse("id")?; // not a number: 400
    match kv::get_json(&key(id)).await? {
        Some(note) => Ok(Json(note)),
        None => Err(Error::new(StatusCode::NOT_FOUND, format!("no note {id}"))),
    }
}

async fn remove(_req: Request, params: Params) -> vlugin::Result<StatusCode> {
    let id: u64 = params.parse("id")?;
    kv::delete(&key(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn key(id: u64) -> String {
    // Zero-padded, so that the store's key order is the notes' order.
    format!("note/{id:020}")
}

/// The handler, natively, against vlugin's in-memory test host: `cargo test`.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use vlugin::test::{block_on, request, Host};

    fn send(method: &str, uri: &str, body: &str) -> Response {
        block_on(handle(request(method, uri, body.to_owned())))
    }

    #[test]
    fn a_created_note_is_listed_shown_and_deleted() {
        let _host = Host::new()
            .origin("https://example.com")
            .mount("/api/{{name}}")
            .install();

        let created = send("POST", "/notes", r#"{"text": "buy milk"}"#);
        assert_eq!(created.status(), StatusCode::CREATED);
        let url = "https://example.com/api/{{name}}/notes/1";
        assert_eq!(created.headers()[header::LOCATION], url);

        let listed: serde_json::Value = send("GET", "/notes", "").body().json().unwrap();
        assert_eq!(listed[0]["text"], "buy milk");
        assert_eq!(listed[0]["url"], url);

        assert_eq!(send("GET", "/notes/1", "").status(), StatusCode::OK);
        assert_eq!(send("DELETE", "/notes/1", "").status(), StatusCode::NO_CONTENT);
        assert_eq!(send("GET", "/notes/1", "").status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn bad_requests_say_why() {
        let _host = Host::new().install();
        assert_eq!(send("POST", "/notes", "not json").status(), StatusCode::BAD_REQUEST);
        assert_eq!(send("GET", "/notes/abc", "").status(), StatusCode::BAD_REQUEST);
        assert_eq!(send("PUT", "/notes", "").status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(send("GET", "/nothing", "").status(), StatusCode::NOT_FOUND);
    }
}
