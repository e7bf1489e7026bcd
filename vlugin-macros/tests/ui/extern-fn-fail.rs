use vlugin::*;

#[vlugin]
extern "C" fn hello(_req: Request) -> &'static str {
    "hi"
}

fn main() {}
