use vlugin::prelude::*;

fn setup(_: u32) {}

#[vlugin(init = setup)]
async fn hello(_req: Request) -> impl IntoResponse {
    "hi"
}

fn main() {}
