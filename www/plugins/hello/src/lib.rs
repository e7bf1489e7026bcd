//! The smallest plugin: one fixed answer.
use vlugin::prelude::*;

#[vlugin]
async fn hello(_req: Request) -> impl IntoResponse {
    "OK response from a plugin"
}
