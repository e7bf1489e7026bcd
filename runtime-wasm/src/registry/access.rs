//! Who may change the plugins: only the app's own pages. A request must come from a window
//! client of the worker's origin, never from a navigation, another site, a worker, or a plugin
//! (plugins' requests to the registry are refused before they get here).

use crate::sys;
use wasm_bindgen_futures::JsFuture;

/// Refuses a request that does not come from one of the app's pages, saying why.
pub async fn check(
    request: &web_sys::Request,
    client_id: Option<&str>,
    origin: &str,
) -> Result<(), String> {
    // A navigation (an address typed, a link followed) is not a page's request, even when
    // the browser names the page it leaves as its client; nor is an image or a script.
    if request.mode() == web_sys::RequestMode::Navigate {
        return Err("a navigation is not a request from a page of the app".into());
    }
    if request.destination() != web_sys::RequestDestination::None {
        return Err("only fetch() from a page may use it".into());
    }
    // Browsers that expose it say where the request comes from; it must be this origin.
    let site = request.headers().get("sec-fetch-site").ok().flatten();
    if site.as_deref().is_some_and(|site| site != "same-origin") {
        return Err(format!(
            "the request comes from another site ({})",
            site.unwrap_or_default()
        ));
    }
    let client_id = client_id
        .filter(|id| !id.is_empty())
        .ok_or("the request comes from no page of the app (a navigation, or the worker itself)")?;
    let client = JsFuture::from(sys::client(client_id))
        .await
        .map_err(|e| format!("its client could not be found: {}", sys::describe(&e)))?;
    let field = |name: &str| {
        js_sys::Reflect::get(&client, &name.into())
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    };
    if field("type") != "window" {
        return Err(
            "the request comes from no page of the app (a worker, or a closed page)".into(),
        );
    }
    let page_origin = web_sys::Url::new(&field("url"))
        .map(|url| url.origin())
        .unwrap_or_default();
    if page_origin != origin {
        return Err(format!("the request comes from a page of {page_origin}"));
    }
    Ok(())
}
