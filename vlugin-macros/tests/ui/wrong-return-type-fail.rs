use vlugin::*;

#[vlugin]
async fn hello(_req: Request) -> u32 {
    42
}

fn main() {}
