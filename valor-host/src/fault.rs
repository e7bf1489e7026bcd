//! Why an instance produced no response, as every host classifies it, and what each fault
//! answers: a request's error, or the reason a load failed.

use crate::error::DispatchError;
use crate::manifest::PluginSpec;

/// Why an instance produced no response. After a `Trap` the instance is unusable.
#[derive(Debug, Clone)]
pub enum Fault {
    /// The instance trapped (or threw); `panic` holds the message if it was a Rust panic.
    Trap {
        /// The message the plugin reported through `panic` just before.
        panic: Option<String>,
        /// The engine's description of the trap.
        error: String,
    },
    /// The plugin pointed outside its memory, or its frame does not parse.
    BadFrame(String),
    /// The plugin broke the ABI in a way that leaves its state unknown (e.g. `valor_alloc`
    /// returned 0): the instance is discarded, as after a trap.
    Violation(String),
    /// The request was waiting when another call broke the instance: its own handler did not
    /// fail, so it is not told that one's failure. `replayable` unless its handler started an
    /// operation with effects outside the plugin (a fetch, a storage command).
    Lost {
        /// Whether it may run again on a fresh instance.
        replayable: bool,
    },
    /// The response frame is larger than the plugin may answer (its size in bytes).
    TooLarge(u32),
    /// A call used up the fuel of one call: the instance was stopped mid-way.
    OutOfFuel,
    /// The instance needed more memory than its cap (a growth was refused, or it has more).
    OutOfMemory,
}

impl Fault {
    /// Why a call into the plugin failed, read in the same order on every host: the fuel of the
    /// call used up; else the panic the plugin reported just before (`panic` takes it); else a
    /// growth of its memory refused; else the trap as the engine describes it.
    pub fn of_failed_call(
        out_of_fuel: bool,
        panic: impl FnOnce() -> Option<String>,
        growth_refused: impl FnOnce() -> bool,
        error: impl FnOnce() -> String,
    ) -> Self {
        if out_of_fuel {
            return Fault::OutOfFuel;
        }
        let panic = panic();
        if panic.is_none() && growth_refused() {
            return Fault::OutOfMemory;
        }
        Fault::Trap {
            panic,
            error: error(),
        }
    }

    /// The error the request answers with, for the plugin of `spec`.
    pub fn into_error(self, spec: &PluginSpec) -> DispatchError {
        let plugin = spec.name.clone();
        match self {
            Fault::Trap {
                panic: Some(message),
                ..
            } => DispatchError::Panicked { plugin, message },
            Fault::Trap { error, .. } => DispatchError::Crashed {
                plugin,
                message: error,
            },
            Fault::BadFrame(reason) => DispatchError::InvalidResponse { plugin, reason },
            Fault::Violation(reason) => DispatchError::BrokeAbi { plugin, reason },
            Fault::Lost { .. } => DispatchError::InstanceLost { plugin },
            Fault::TooLarge(size) => DispatchError::ResponseTooLarge {
                plugin,
                size,
                limit: spec.max_body_bytes,
            },
            Fault::OutOfFuel => DispatchError::OutOfFuel {
                plugin,
                fuel: spec.fuel.unwrap_or_default(),
            },
            Fault::OutOfMemory => DispatchError::OutOfMemory {
                plugin,
                memory_mb: spec.memory_mb,
            },
        }
    }

    /// Why loading failed in `stage` (a call made while loading: the start function,
    /// `valor_init`), as text, for a plugin with this `fuel` and `memory_mb`.
    pub fn explain(self, stage: &str, fuel: Option<u64>, memory_mb: u32) -> String {
        match self {
            Fault::Trap {
                panic: Some(message),
                ..
            } => format!("{stage} panicked: {message}"),
            Fault::Trap { error, .. } | Fault::BadFrame(error) | Fault::Violation(error) => {
                format!("{stage} failed: {error}")
            }
            Fault::Lost { .. } => format!("{stage} failed: the instance was lost"),
            Fault::TooLarge(size) => format!("{stage} failed: {size} bytes"),
            Fault::OutOfFuel => format!(
                "{stage} used up its fuel ({} instructions per call, the entry's `fuel`)",
                fuel.unwrap_or_default()
            ),
            Fault::OutOfMemory => format!(
                "{stage} needed more memory than its limit ({memory_mb} MiB, the entry's \
                 `memory_mb`)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(out_of_fuel: bool, panic: Option<&str>, growth_refused: bool) -> Fault {
        Fault::of_failed_call(
            out_of_fuel,
            || panic.map(str::to_owned),
            || growth_refused,
            || "unreachable executed".to_owned(),
        )
    }

    #[test]
    fn a_failed_call_is_read_fuel_first_then_the_panic_then_memory() {
        assert!(matches!(read(true, Some("boom"), true), Fault::OutOfFuel));
        assert!(matches!(
            read(false, Some("boom"), true),
            Fault::Trap { panic: Some(m), .. } if m == "boom"
        ));
        assert!(matches!(read(false, None, true), Fault::OutOfMemory));
        assert!(matches!(
            read(false, None, false),
            Fault::Trap { panic: None, error } if error == "unreachable executed"
        ));
    }
}
