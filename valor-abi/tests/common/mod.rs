//! What the codec tests share: `http` messages with byte bodies, and decoders typed for them.
#![allow(dead_code)] // each test binary uses its own part

use valor_abi::codec::DecodeError;

pub type Body = Vec<u8>;
pub type Request = http::Request<Body>;
pub type Response = http::Response<Body>;

pub fn decode_request(bytes: &[u8]) -> Result<Request, DecodeError> {
    valor_abi::codec::decode_request(bytes)
}

pub fn decode_response(bytes: &[u8]) -> Result<Response, DecodeError> {
    valor_abi::codec::decode_response(bytes)
}
