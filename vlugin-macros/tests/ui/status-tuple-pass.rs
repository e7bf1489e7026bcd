use vlugin::*;

/// Doc comments and other attributes stay on the handler.
#[vlugin]
#[inline(never)]
async fn create(_req: Request) -> (StatusCode, &'static str) {
    (StatusCode::CREATED, "made")
}

fn main() {}
