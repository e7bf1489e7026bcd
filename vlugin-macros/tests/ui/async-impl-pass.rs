use vlugin::*;

#[vlugin]
async fn hello(_req: Request) -> impl IntoResponse {
    "OK response from a plugin"
}

fn main() {}
