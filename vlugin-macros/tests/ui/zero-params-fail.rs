use vlugin::*;

#[vlugin]
async fn hello() -> impl IntoResponse {
    "hi"
}

fn main() {}
