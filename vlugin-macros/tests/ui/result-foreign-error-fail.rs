use vlugin::*;

// An error that is not a response must be converted (`map_err`): which status would it have?
#[vlugin]
fn parse(req: Request) -> Result<String, std::num::ParseIntError> {
    let n: u32 = req.uri().path().trim_start_matches('/').parse()?;
    Ok(n.to_string())
}

fn main() {}
