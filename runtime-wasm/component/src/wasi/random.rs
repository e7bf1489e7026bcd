//! `wasi:random/{random, insecure, insecure-seed}`, from [`super::Outside::random_bytes`].
//! Random bytes are logged (see [`super::log`]) so the runs of a request see the same ones;
//! a request gets at most 16 MiB of them (wasmtime: 64 MiB a call, unlogged).
//! The insecure seed is drawn once per request (wasmtime draws it once per store, which is
//! once per request too).

use super::args::{Answer, Args};
use super::log::{Observation, LOG_BYTES_LIMIT};
use super::session::Session;
use crate::abi::Val;
use crate::host::Fault;

/// The most bytes one call returns (wasmtime-wasi's `DEFAULT_MAX_SIZE`): more traps.
const MAX_RANDOM_LEN: u64 = 64 << 20;

impl Session {
    fn random(&mut self, args: &Args, len: u64) -> Result<Vec<u8>, Fault> {
        if len > MAX_RANDOM_LEN {
            return Err(args.trap(format_args!(
                "requested len {len} exceeds limit {MAX_RANDOM_LEN}"
            )));
        }
        if len > LOG_BYTES_LIMIT as u64 {
            return Err(args.trap(format_args!(
                "requested len {len} exceeds the {LOG_BYTES_LIMIT} random bytes this host \
                 gives a request"
            )));
        }
        let len = len as usize;
        let outside = self.outside.clone();
        let fresh = || {
            let mut bytes = vec![0; len];
            outside.random_bytes(&mut bytes);
            Observation::Random(bytes)
        };
        let expected = |o: &Observation| matches!(o, Observation::Random(b) if b.len() == len);
        match self.log.observe(args, expected, fresh)? {
            Observation::Random(bytes) => Ok(bytes),
            _ => unreachable!("the log checks the kind"),
        }
    }

    /// `get-random-bytes` and `get-insecure-random-bytes`.
    pub(super) fn random_bytes(&mut self, args: &mut Args) -> Answer {
        let len = args.u64(0)?;
        Ok(Some(Val::Bytes(self.random(args, len)?)))
    }

    /// `get-random-u64` and `get-insecure-random-u64`.
    pub(super) fn random_u64(&mut self, args: &mut Args) -> Answer {
        let bytes = self.random(args, 8)?;
        Ok(Some(Val::U64(u64::from_le_bytes(
            bytes.try_into().expect("8 bytes"),
        ))))
    }

    /// `wasi:random/insecure-seed.insecure-seed`.
    pub(super) fn insecure_seed(&mut self, _args: &mut Args) -> Answer {
        let outside = self.outside.clone();
        let seed = *self.seed.get_or_insert_with(|| {
            let mut bytes = [0; 16];
            outside.random_bytes(&mut bytes);
            let (low, high) = bytes.split_at(8);
            (
                u64::from_le_bytes(low.try_into().expect("8 bytes")),
                u64::from_le_bytes(high.try_into().expect("8 bytes")),
            )
        });
        Ok(Some(Val::Tuple(vec![Val::U64(seed.0), Val::U64(seed.1)])))
    }
}
