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
use futures::future::{self, Either, FutureExt, Shared};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// How many times one request runs again after its instance was lost under it. Its time limit
/// bounds the replays too; this bounds the instances one request can have created.
pub const MAX_REPLAYS: u32 = 8;

/// Whether a request of `method` asks for nothing to change (RFC 9110, 9.2.1), so that it may
/// run again after its instance was lost, even if it had effects outside the plugin.
pub fn is_safe(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// A plugin's loading (`Fut` gives the loaded plugin, or why it could not be loaded), its
/// backoff and its quarantine.
pub struct Life<Fut: Future>
where
    Fut::Output: Loading,
{
    spec: PluginSpec,
    inner: Mutex<Inner<Fut>>,
    /// The loaded plugin, once its loading succeeded and was counted: a loaded plugin stays
    /// loaded, so most requests take it here, with no lock.
    loaded: OnceLock<<Fut::Output as Loading>::Loaded>,
    /// Whether its record is clean (no exhaustion since its last answer): then a request
    /// neither checks the quarantine nor clears the record under the lock.
    clean: AtomicBool,
}

/// A loading's outcome: the loaded plugin, or why it could not be loaded.
pub trait Loading {
    /// The loaded plugin.
    type Loaded;
}

impl<T> Loading for Result<T, String> {
    type Loaded = T;
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
            loaded: OnceLock::new(),
            clean: AtomicBool::new(true),
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
        inner.count(|| now_ms);
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
    pub async fn loaded<'s>(
        &'s self,
        now_ms: impl Fn() -> f64,
        load: impl FnOnce() -> Fut,
    ) -> Result<&'s T, DispatchError>
    where
        T: 's,
    {
        // Lent, not cloned: a clone is a write to a count every thread's requests share.
        if let Some(loaded) = self.loaded.get() {
            return Ok(loaded);
        }
        let (loading, settled) = {
            let mut inner = self.lock();
            let failed = inner
                .loading
                .as_ref()
                .is_some_and(|loading| matches!(loading.peek(), Some(Err(_))));
            if failed {
                inner.count(&now_ms);
                if inner.backoff.is_over(now_ms()) {
                    inner.loading = None;
                }
            }
            if inner.loading.is_none() {
                inner.counted = false;
            }
            let loading = inner.loading.get_or_insert_with(|| load().shared()).clone();
            // Once loaded (most requests), the outcome is counted here, under this one lock.
            let settled = loading.peek().is_some();
            if settled {
                inner.count(&now_ms);
            }
            (loading, settled)
        };
        let loaded = loading.await;
        if !settled {
            self.lock().count(&now_ms);
        }
        let loaded = loaded.map(|loaded| {
            // Counted above: later requests skip the lock. (Another request may have set the
            // same outcome first.)
            self.loaded.get_or_init(|| loaded)
        });
        loaded.map_err(|reason| {
            let seconds = self.lock().backoff.seconds_left(now_ms());
            self.unavailable(format!(
                "{reason} (it is loaded again on a request in {seconds} s or later)"
            ))
        })
    }

    /// Answers one request: refused while quarantined or nested too deep, else run by `attempt`
    /// on the loaded plugin, and again on a fresh instance each time another request's fault
    /// took its instance down, as long as it cannot have had an effect outside the plugin (or
    /// is `safe`: see [`is_safe`]) and has replays left. `Err` from `attempt` is the host's own
    /// failure (an instance that cannot be created), answered as it is.
    pub async fn run<'s, R, Attempt>(
        &'s self,
        safe: bool,
        depth: u32,
        now_ms: impl Fn() -> f64,
        load: impl FnOnce() -> Fut,
        mut attempt: impl FnMut(&'s T) -> Attempt,
    ) -> Result<R, DispatchError>
    where
        T: 's,
        Attempt: Future<Output = Result<Result<R, Fault>, DispatchError>>,
    {
        if depth > MAX_DEPTH {
            return Err(DispatchError::TooDeep {
                plugin: self.spec.name.clone(),
            });
        }
        let quarantined = match self.clean.load(Ordering::Acquire) {
            true => None,
            false => self.lock().quarantine.remaining(&now_ms),
        };
        if let Some((seconds, strikes)) = quarantined {
            return Err(DispatchError::Quarantined {
                plugin: self.spec.name.clone(),
                seconds,
                strikes,
                fuel: self.spec.fuel.unwrap_or_default(),
            });
        }
        let loaded = self.loaded(&now_ms, load).await?;
        let mut answer = attempt(loaded).await?;
        let mut replays = 0;
        while let Err(Fault::Lost { replayable }) = answer {
            if !(replayable || safe) || replays == MAX_REPLAYS {
                break;
            }
            replays += 1;
            answer = attempt(loaded).await?;
        }
        match &answer {
            Ok(_) if self.clean.load(Ordering::Acquire) => {}
            Ok(_) => {
                let inner = self.lock();
                inner.quarantine.answered();
                self.clean.store(true, Ordering::Release);
            }
            Err(Fault::OutOfFuel) => {
                let inner = self.lock();
                inner.quarantine.ran_out(now_ms());
                self.clean.store(false, Ordering::Release);
            }
            Err(_) => {}
        }
        answer.map_err(|fault| fault.into_error(&self.spec))
    }

    /// What `work` (a request to the plugin) answers, or the time-out error if `deadline` (the
    /// entry's `timeout_ms`, on the host's clock) comes first: `work` is dropped then, and with
    /// it the request's task inside the plugin. `work` is polled first: most requests to a
    /// loaded plugin are answered in that first poll, and the deadline is never set up.
    pub async fn within<R>(
        &self,
        work: Pin<&mut impl Future<Output = Result<R, DispatchError>>>,
        deadline: Pin<&mut impl Future<Output = ()>>,
    ) -> Result<R, DispatchError> {
        match future::select(work, deadline).await {
            Either::Left((answer, _)) => answer,
            Either::Right(_) => Err(DispatchError::TimedOut {
                plugin: self.spec.name.clone(),
                timeout_ms: self.spec.timeout_ms,
            }),
        }
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
    /// Feeds the outcome of the current loading to the backoff, once, if it has one (the
    /// clock is read only for a failure).
    fn count(&mut self, now_ms: impl FnOnce() -> f64) {
        if self.counted {
            return;
        }
        match self.loading.as_ref().and_then(Shared::peek) {
            Some(Ok(_)) => self.backoff.succeeded(),
            Some(Err(_)) => self.backoff.failed(now_ms()),
            None => return,
        }
        self.counted = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::future::{ready, Ready};
    use std::cell::Cell;
    use std::pin::pin;

    type Load = Ready<Result<u32, String>>;

    fn life() -> Life<Load> {
        let entry =
            serde_json::json!({ "name": "p", "prefix": "/p", "url": "p.wasm", "fuel": 1000 });
        Life::new(crate::manifest::parse_entry(entry, |url| Ok(url.to_owned())).unwrap())
    }

    /// Runs one request whose attempts answer `answers` in turn (the last one for ever after);
    /// the answer, and how many attempts it took.
    fn run(
        life: &Life<Load>,
        safe: bool,
        now_ms: f64,
        answers: &[Result<&'static str, Fault>],
    ) -> (Result<&'static str, DispatchError>, usize) {
        let attempts = Cell::new(0);
        let answer = block_on(life.run(
            safe,
            0,
            || now_ms,
            || ready(Ok(7)),
            |loaded| {
                assert_eq!(*loaded, 7);
                let n = attempts.get();
                attempts.set(n + 1);
                ready(Ok(answers[n.min(answers.len() - 1)].clone()))
            },
        ));
        (answer, attempts.get())
    }

    const LOST: Fault = Fault::Lost { replayable: true };
    const LOST_AFTER_EFFECTS: Fault = Fault::Lost { replayable: false };

    #[test]
    fn a_lost_request_runs_again_until_it_is_answered() {
        let life = life();
        let answers = [Err(LOST), Err(LOST), Err(LOST), Ok("answered")];
        assert_eq!(run(&life, false, 0.0, &answers), (Ok("answered"), 4));
    }

    #[test]
    fn replays_are_bounded() {
        let life = life();
        let (answer, attempts) = run(&life, true, 0.0, &[Err(LOST)]);
        assert!(matches!(answer, Err(DispatchError::InstanceLost { .. })));
        assert_eq!(attempts, 1 + MAX_REPLAYS as usize);
    }

    #[test]
    fn a_request_that_had_effects_is_replayed_only_if_safe() {
        let life = life();
        let answers = [Err(LOST_AFTER_EFFECTS), Ok("answered")];
        let (answer, attempts) = run(&life, false, 0.0, &answers);
        assert!(matches!(answer, Err(DispatchError::InstanceLost { .. })));
        assert_eq!(attempts, 1, "a POST that fetched is not run twice");
        assert_eq!(run(&life, true, 0.0, &answers), (Ok("answered"), 2));
    }

    #[test]
    fn a_plugin_out_of_fuel_three_times_in_a_row_is_quarantined_on_the_clock() {
        let life = life();
        for _ in 0..3 {
            let (answer, _) = run(&life, true, 0.0, &[Err(Fault::OutOfFuel)]);
            assert!(matches!(answer, Err(DispatchError::OutOfFuel { .. })));
        }
        let (answer, attempts) = run(&life, true, 999.0, &[Ok("answered")]);
        assert!(
            matches!(
                answer,
                Err(DispatchError::Quarantined {
                    seconds: 1,
                    strikes: 3,
                    ..
                })
            ),
            "{answer:?}"
        );
        assert_eq!(attempts, 0, "not sent to the plugin");
        assert_eq!(
            life.state(999.0, |_| String::new()),
            PluginState::Quarantined { seconds: 1 }
        );
        assert_eq!(
            run(&life, true, 1_000.0, &[Ok("answered")]),
            (Ok("answered"), 1)
        );
    }

    #[test]
    fn a_failed_load_is_tried_again_only_after_its_backoff() {
        let life = life();
        let loads = Cell::new(0);
        let load = |ok: bool| {
            loads.set(loads.get() + 1);
            ready(if ok {
                Ok(7)
            } else {
                Err("no such file".to_owned())
            })
        };
        let failed = block_on(life.loaded(|| 0.0, || load(false))).unwrap_err();
        assert_eq!(
            failed.to_string(),
            "plugin 'p' could not be loaded: no such file (it is loaded again on a request in \
             1 s or later)"
        );
        assert!(block_on(life.loaded(|| 999.0, || load(true))).is_err());
        assert_eq!(loads.get(), 1, "within the backoff, the failure stands");
        assert_eq!(block_on(life.loaded(|| 1_000.0, || load(true))), Ok(&7));
        assert_eq!(loads.get(), 2);
        assert_eq!(
            life.state(1_000.0, |n| n.to_string()),
            PluginState::Loaded { digest: "7".into() }
        );
    }

    #[test]
    fn a_request_past_its_deadline_times_out_and_an_answer_in_time_never_sets_the_deadline() {
        let life = life();
        let late = block_on(life.within(pin!(future::pending::<Result<(), _>>()), pin!(ready(()))));
        assert!(
            matches!(late, Err(DispatchError::TimedOut { ref plugin, .. }) if plugin == "p"),
            "{late:?}"
        );
        let polled = Cell::new(false);
        let deadline = future::poll_fn(|_| {
            polled.set(true);
            std::task::Poll::Ready(())
        });
        assert_eq!(
            block_on(life.within(pin!(ready(Ok(1))), pin!(deadline))),
            Ok(1)
        );
        assert!(
            !polled.get(),
            "the deadline is not polled when the answer is ready"
        );
    }
}
