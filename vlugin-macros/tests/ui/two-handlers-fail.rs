use vlugin::*;

#[vlugin]
async fn hello(_req: Request) -> impl IntoResponse {
    "hello"
}

#[vlugin]
async fn goodbye(_req: Request) -> impl IntoResponse {
    "goodbye"
}

fn main() {}
