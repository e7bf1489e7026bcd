//! A mounted plugin's life, on any host: its module loaded once however many requests wait for
//! it, loaded again after a failure only once a backoff has passed, quarantined after it used up
//! its fuel on several requests in a row, and a request replayed when another one's fault took
//! its instance down. The host supplies the loading and each attempt on an instance.

use crate::backoff::Backoff;
use crate::error::{DispatchError, MAX_DEPTH};
use crate::fault::Fault;
use crate::manifest::PluginSpec;
use crate::quarantine::Quarantine;
use crate::registry::PluginState;
use futures::future::{FutureExt, Shared};
use std::future::Future;
use std::sync::{Mutex, MutexGuard};

/// How many times one request runs again after its instance was lost under it. Its time limit
/// bounds the replays too; this bounds the instances one request can have created.
pub const MAX_REPLAYS: u32 = 8;

/// A plugin's loading (`Fut` gives the loaded plugin, or why it could not be loaded), its
/// backoff and its quarantine.
pub struct Life<Fut: Future> {
    spec: PluginSpec,
    inner: Mutex<Inner<Fut>>,
}

struct Inner<Fut: Future> {
    /// Started by the first request; every later request awaits the same outcome.
    loading: Option<Shared<Fut>>,
    /// Whether the outcome of `loading` fed the backoff.
    counted: bool,
    backoff: Backoff,
    quarantine: Quarantine,
}

impl<Fut, T> Life<Fut>
where
    Fut: Future<Output = Result<T, String>>,
    T: Clone,
{
    /// The life of the plugin of `spec`, not loaded yet.
    pub fn new(spec: PluginSpec) -> Self {
        Self {
            spec,
            inner: Mutex::new(Inner {
                loading: None,
                counted: false,
                backoff: Backoff::default(),
                quarantine: Quarantine::default(),
            }),
        }
    }

    /// Its entry.
    pub fn spec(&self) -> &PluginSpec {
        &self.spec
    }

    fn lock(&self) -> MutexGuard<'_, Inner<Fut>> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Where it stands at `now_ms`: loaded (`digest` says with which file) or not, failed,
    /// quarantined.
    pub fn state(&self, now_ms: f64, digest: impl FnOnce(&T) -> String) -> PluginState {
        let mut inner = self.lock();
        inner.count(now_ms);
        if let Some((seconds, _)) = inner.quarantine.remaining(|| now_ms) {
            return PluginState::Quarantined { seconds };
        }
        match inner.loading.as_ref().map(Shared::peek) {
            None => PluginState::NotLoaded,
            Some(None) => PluginState::Loading,
            Some(Some(Ok(loaded))) => PluginState::Loaded {
                digest: digest(loaded),
            },
            Some(Some(Err(reason))) => PluginState::Failed {
                reason: reason.clone(),
                retry_in_s: inner.backoff.seconds_left(now_ms),
            },
        }
    }

    /// The loaded plugin, once `load` (started only if no loading is under way or done, or the
    /// last one failed and its backoff is over) has given it.
    pub async fn loaded(
        &self,
        now_ms: impl Fn() -> f64,
        load: impl FnOnce() -> Fut,
    ) -> Result<T, DispatchError> {
        let loading = {
            let mut inner = self.lock();
            let failed = inner
                .loading
                .as_ref()
                .is_some_and(|loading| matches!(loading.peek(), Some(Err(_))));
            if failed {
                inner.count(now_ms());
                if inner.backoff.is_over(now_ms()) {
                    inner.loading = None;
                }
            }
            if inner.loading.is_none() {
                inner.counted = false;
            }
            inner.loading.get_or_insert_with(|| load().shared()).clone()
        };
        let loaded = loading.await;
        let mut inner = self.lock();
        if !inner.counted {
            inner.count(now_ms());
        }
        loaded.map_err(|reason| {
            let seconds = inner.backoff.seconds_left(now_ms());
            self.unavailable(format!(
                "{reason} (it is loaded again on a request in {seconds} s or later)"
            ))
        })
    }

    /// Answers one request: refused while quarantined or nested too deep, else run by `attempt`
    /// on the loaded plugin, and again on a fresh instance each time another request's fault
    /// took its instance down, as long as it cannot have had an effect outside the plugin (or
    /// is `safe`, a GET or HEAD) and has replays left. `Err` from `attempt` is the host's own
    /// failure (an instance that cannot be created), answered as it is.
    pub async fn run<R, Attempt>(
        &self,
        safe: bool,
        depth: u32,
        now_ms: impl Fn() -> f64,
        load: impl FnOnce() -> Fut,
        mut attempt: impl FnMut(T) -> Attempt,
    ) -> Result<R, DispatchError>
    where
        Attempt: Future<Output = Result<Result<R, Fault>, DispatchError>>,
    {
        if depth > MAX_DEPTH {
            return Err(DispatchError::TooDeep {
                plugin: self.spec.name.clone(),
            });
        }
        let quarantined = self.lock().quarantine.remaining(&now_ms);
        if let Some((seconds, strikes)) = quarantined {
            return Err(DispatchError::Quarantined {
                plugin: self.spec.name.clone(),
                seconds,
                strikes,
                fuel: self.spec.fuel.unwrap_or_default(),
            });
        }
        let loaded = self.loaded(&now_ms, load).await?;
        let mut answer = attempt(loaded.clone()).await?;
        let mut replays = 0;
        while let Err(Fault::Lost { replayable }) = answer {
            if !(replayable || safe) || replays == MAX_REPLAYS {
                break;
            }
            replays += 1;
            answer = attempt(loaded.clone()).await?;
        }
        match &answer {
            Ok(_) => self.lock().quarantine.answered(),
            Err(Fault::OutOfFuel) => self.lock().quarantine.ran_out(now_ms()),
            Err(_) => {}
        }
        answer.map_err(|fault| fault.into_error(&self.spec))
    }

    /// The plugin cannot be served, for `reason`.
    pub fn unavailable(&self, reason: String) -> DispatchError {
        DispatchError::Unavailable {
            plugin: self.spec.name.clone(),
            reason,
        }
    }
}

impl<Fut, T> Inner<Fut>
where
    Fut: Future<Output = Result<T, String>>,
    T: Clone,
{
    /// Feeds the outcome of the current loading to the backoff, once, if it has one.
    fn count(&mut self, now_ms: f64) {
        if self.counted {
            return;
        }
        match self.loading.as_ref().and_then(Shared::peek) {
            Some(Ok(_)) => self.backoff.succeeded(),
            Some(Err(_)) => self.backoff.failed(now_ms),
            None => return,
        }
        self.counted = true;
    }
}
