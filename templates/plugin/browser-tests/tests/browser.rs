//! The plugin as users get it: this page registers the Valor service worker (`sw.js`, with
//! the runtime in `valor/`, as `build.sh` lays them out) and fetches the plugin's URLs, as any
//! page script would. Run `./build.sh` first, then `wasm-pack test --headless --chrome
//! browser-tests` (or `--firefox`).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Registers the service worker and waits until it controls this page.
async fn controlled_by_valor() {
    let container = web_sys::window().unwrap().navigator().service_worker();
    JsFuture::from(container.register("/sw.js"))
        .await
        .expect("registering /sw.js failed: did ./build.sh run?");
    for _ in 0..200 {
        if container.controller().is_some() {
            return;
        }
        sleep(50).await;
    }
    panic!("sw.js did not take control of the page within 10 s");
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global: web_sys::Window = js_sys::global().unchecked_into();
        global
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

async fn fetch(method: &str, path: &str, body: Option<&str>) -> Answer {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&body.into());
    }
    let request = web_sys::Request::new_with_str_and_init(path, &init).unwrap();
    let window = web_sys::window().unwrap();
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .unwrap()
        .unchecked_into();
    let text = JsFuture::from(response.text().unwrap()).await.unwrap();
    Answer {
        status: response.status(),
        location: response.headers().get("location").unwrap(),
        body: text.as_string().unwrap(),
    }
}

#[wasm_bindgen_test]
async fn notes_are_created_listed_and_deleted_through_the_service_worker() {
    controlled_by_valor().await;
    let origin = web_sys::window().unwrap().location().origin().unwrap();

    let hello = fetch("GET", "/api/{{name}}", None).await;
    assert_eq!((hello.status, hello.body.as_str()), (200, "Hello from {{name}}"));

    let created = fetch("POST", "/api/{{name}}/notes", Some(r#"{"text": "from a page"}"#)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let location = created.location.expect("a 201 says where the note is");
    assert!(location.starts_with(&format!("{origin}/api/{{name}}/notes/")), "{location}");

    let shown = fetch("GET", &location, None).await;
    let note: serde_json::Value = serde_json::from_str(&shown.body).unwrap();
    assert_eq!((shown.status, note["text"].as_str()), (200, Some("from a page")));

    let listed: serde_json::Value =
        serde_json::from_str(&fetch("GET", "/api/{{name}}/notes", None).await.body).unwrap();
    assert!(listed.as_array().unwrap().iter().any(|n| n["url"] == location.as_str()));

    assert_eq!(fetch("DELETE", &location, None).await.status, 204);
    assert_eq!(fetch("GET", &location, None).await.status, 404);
    assert_eq!(fetch("POST", "/api/{{name}}/notes", Some("not json")).await.status, 400);
}
