use vlugin::*;

#[vlugin(path = "/hello")]
async fn hello(_req: Request) -> impl IntoResponse {
    "hi"
}

fn main() {}
