use vlugin::*;

#[vlugin]
async fn hello(_req: Request, _name: String) -> impl IntoResponse {
    "hi"
}

fn main() {}
