use vlugin::*;

#[vlugin]
async fn hello(body: String) -> impl IntoResponse {
    body
}

fn main() {}
