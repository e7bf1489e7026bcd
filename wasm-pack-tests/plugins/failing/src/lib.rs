//! Returns an `Err` from its handler: the SDK must answer 500 with the error's message.
use vlugin::prelude::*;

#[vlugin]
async fn handle(req: Request) -> Result<&'static str, String> {
    Err(format!("no record for {}", req.uri().path()))
}
