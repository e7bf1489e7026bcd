use vlugin::prelude::*;

fn setup() -> Result<(), String> {
    Ok(())
}

#[vlugin(init = setup)]
async fn hello(_req: Request) -> impl IntoResponse {
    "hi"
}

fn main() {}
