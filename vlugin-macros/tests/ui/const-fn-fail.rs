use vlugin::*;

#[vlugin]
const fn hello(_req: Request) -> &'static str {
    "hi"
}

fn main() {}
