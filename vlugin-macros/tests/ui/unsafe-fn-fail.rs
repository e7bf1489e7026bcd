use vlugin::*;

#[vlugin]
unsafe fn hello(_req: Request) -> &'static str {
    "hi"
}

fn main() {}
