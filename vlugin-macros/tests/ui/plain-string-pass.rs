use vlugin::*;

#[vlugin]
pub fn echo_path(req: Request) -> String {
    req.uri().path().to_owned()
}

fn main() {}
