use vlugin::*;

#[vlugin]
fn hello(req: &Request) -> Option<String> {
    Some(req.uri().to_string())
}

fn main() {}
