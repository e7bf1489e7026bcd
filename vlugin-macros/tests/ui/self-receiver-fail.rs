use vlugin::*;

struct Plugin;

impl Plugin {
    #[vlugin]
    fn hello(&self, _req: Request) -> &'static str {
        "hi"
    }
}

fn main() {}
