use vlugin::*;

#[vlugin]
fn numbers(req: Request) -> Result<Json<Vec<u32>>, String> {
    match req.uri().query() {
        Some(query) => Err(format!("unexpected query: {query}")),
        None => Ok(Json(vec![1, 2, 3])),
    }
}

fn main() {}
