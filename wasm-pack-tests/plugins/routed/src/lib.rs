//! The SDK's surface for APIs, in a real plugin: a `Router` with parameters, errors that carry
//! their status, header arrays, a redirect, and a query read into a serde type.
use vlugin::prelude::*;

#[derive(serde::Deserialize)]
struct Page {
    page: u32,
}

#[vlugin]
async fn routed(req: Request) -> Response {
    Router::new()
        .get("/items", list)
        .post("/items", |_, _| async {
            (
                StatusCode::CREATED,
                [(header::LOCATION, "/api/routed/items/7")],
                Json(7),
            )
        })
        .get("/items/{id}", |_, params: Params| async move {
            let id: u32 = params.parse("id")?;
            if id == 0 {
                return Err(Error::new(StatusCode::NOT_FOUND, "no item 0"));
            }
            Ok(format!("item {id}"))
        })
        .get("/old", |_, _| async {
            Redirect::permanent("/api/routed/items")
        })
        .handle(req)
        .await
}

async fn list(req: Request, _params: Params) -> vlugin::Result<String> {
    let Page { page } = req.query()?;
    Ok(format!("page {page}"))
}
