use vlugin::*;

#[vlugin]
struct Hello {
    greeting: &'static str,
}

fn main() {}
