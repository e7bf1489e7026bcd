use vlugin::*;

#[vlugin]
async fn hello<T: IntoResponse + Default>(_req: Request) -> T {
    T::default()
}

fn main() {}
