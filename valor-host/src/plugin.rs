//! A mounted plugin, on any host: its entry, its [`Life`] (loaded once, backoff, quarantine,
//! replays), its [`Instances`](crate::instances::Instances), and the time limit of each request. The host supplies only how
//! the plugin's code is loaded and an instance created ([`Load`]), and how a request runs on
//! an instance.

use crate::error::DispatchError;
use crate::fault::Fault;
use crate::instances::{Breakable, Loaded};
use crate::life::Life;
use crate::manifest::PluginSpec;
use crate::mounts::AsSpec;
use crate::registry::PluginState;
use crate::reply::Tag;
use std::future::Future;
use std::ops::Deref;
use std::pin::pin;

/// The host's part of a mounted plugin: what it loads and creates instances with (its context,
/// its compiled modules, its engine).
pub trait Load {
    /// What the plugin's instances are made from: a compiled module, a native library.
    type Code;
    /// One live instance.
    type Instance: Breakable + Clone;
    /// The creation of an instance (or why it failed).
    type Create: Future<Output = Result<Self::Instance, String>>;
    /// The loaded plugin, shared by every request (an `Rc` or `Arc` of [`Loaded`]).
    type Loaded: Deref<Target = Loaded<Self::Code, Self::Create>> + Clone;
    /// The loading of the plugin (or why it failed).
    type Loading: Future<Output = Result<Self::Loaded, String>>;

    /// The host's clock, in milliseconds (for the backoff and the quarantine).
    fn now() -> f64;

    /// Reads, checks and compiles the code of the plugin of `spec`, and begins its first
    /// instance.
    fn load(&self, spec: &PluginSpec) -> Self::Loading;

    /// A new instance of `loaded` (the first one broke, or more are wanted).
    fn create(&self, loaded: &Self::Loaded) -> Self::Create;
}

/// A plugin from the manifest or the registry, loaded on its first request (or ahead of it).
pub struct Plugin<L: Load> {
    life: Life<L::Loading>,
    load: L,
}

impl<L: Load> AsSpec for Plugin<L> {
    fn as_spec(&self) -> &PluginSpec {
        self.life.spec()
    }
}

impl<L: Load> Plugin<L> {
    /// The plugin of `spec`, not loaded yet; `load` is the host's part.
    pub fn new(spec: PluginSpec, load: L) -> Self {
        Self {
            life: Life::new(spec),
            load,
        }
    }

    /// Its entry.
    pub fn spec(&self) -> &PluginSpec {
        self.life.spec()
    }

    /// Its name, as in its entry.
    pub fn name(&self) -> &str {
        &self.spec().name
    }

    /// What its replies are tagged with.
    pub fn tag(&self) -> Tag<'_> {
        Tag::of(self.spec())
    }

    /// The host's part.
    pub fn host(&self) -> &L {
        &self.load
    }

    /// Where it stands: loaded (with which file) or not, failed, quarantined.
    pub fn state(&self) -> PluginState {
        self.life.state(L::now(), |loaded| loaded.digest.clone())
    }

    /// Loads it now rather than on its first request; why not, if it cannot be.
    pub async fn preload(&self) -> Result<(), DispatchError> {
        let loaded = self.life.loaded(L::now, || self.load.load(self.spec()));
        loaded.await.map(drop)
    }

    /// Answers one request, run by `run` on an instance (the least busy; a fresh one after a
    /// fault), and again on another if it was lost with its instance and may be replayed (it
    /// is `safe`, or had no effect outside the plugin); `depth` counts plugin-to-plugin hops.
    /// `deadline` is the host's timer of the entry's `timeout_ms`: the time limit covers the
    /// loading too, so a module whose fetch never settles does not hold the request for ever.
    pub async fn answer<'s, R, Run>(
        &'s self,
        safe: bool,
        depth: u32,
        run: impl Fn(L::Instance) -> Run,
        deadline: impl Future<Output = ()>,
    ) -> Result<R, DispatchError>
    where
        Run: Future<Output = Result<R, Fault>>,
    {
        let run = &run;
        let attempt = |loaded: &'s L::Loaded| async move {
            let create = || self.load.create(loaded);
            let answer = loaded.instances.attempt(create, run).await;
            answer.map_err(|reason| self.life.unavailable(reason))
        };
        let load = || self.load.load(self.spec());
        // Pinned here, where they are made: moved into `within`, each would take its room in
        // this future twice (once as an argument, once pinned), and be copied.
        let work = pin!(self.life.run(safe, depth, L::now, load, attempt));
        self.life.within(work, pin!(deadline)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instances::tests::{fake, Create, Fake};
    use crate::instances::Instances;
    use futures::executor::block_on;
    use futures::future::{self, BoxFuture, FutureExt};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    /// A host that counts its loads and creations.
    #[derive(Default)]
    struct Host {
        loads: AtomicU32,
        created: AtomicU32,
    }

    impl Host {
        fn instance(&self) -> Create {
            fake(self.created.fetch_add(1, Ordering::Relaxed) + 1)
        }
    }

    impl Load for Host {
        type Code = ();
        type Instance = Arc<Fake>;
        type Create = Create;
        type Loaded = Arc<Loaded<(), Create>>;
        type Loading = BoxFuture<'static, Result<Self::Loaded, String>>;

        fn now() -> f64 {
            0.0
        }

        fn load(&self, _: &PluginSpec) -> Self::Loading {
            self.loads.fetch_add(1, Ordering::Relaxed);
            let loaded = Loaded {
                code: (),
                digest: "sha256-fake".into(),
                init: Arc::from(&b"{}"[..]),
                instances: Instances::new(1, self.instance()),
            };
            future::ready(Ok(Arc::new(loaded))).boxed()
        }

        fn create(&self, _: &Self::Loaded) -> Create {
            self.instance()
        }
    }

    fn plugin() -> Plugin<Host> {
        let entry = serde_json::json!({ "name": "p", "prefix": "/p", "url": "p.wasm" });
        let spec = crate::manifest::parse_entry(entry, |url| Ok(url.to_owned())).unwrap();
        Plugin::new(spec, Host::default())
    }

    fn answer(plugin: &Plugin<Host>, request: &'static str) -> Result<u32, DispatchError> {
        let run = |instance: Arc<Fake>| async move {
            if request == "trap" {
                instance.broken.store(true, Ordering::Relaxed);
                return Err(Fault::Trap {
                    panic: Some("boom".into()),
                    error: "unreachable".into(),
                });
            }
            Ok(instance.number)
        };
        block_on(plugin.answer(true, 0, run, future::pending()))
    }

    #[test]
    fn a_plugin_is_loaded_once_and_its_instance_replaced_after_a_trap() {
        let plugin = plugin();
        assert_eq!(plugin.state(), PluginState::NotLoaded);
        assert_eq!(answer(&plugin, "a"), Ok(1));
        assert_eq!(answer(&plugin, "b"), Ok(1), "the same instance");
        let trapped = answer(&plugin, "trap");
        assert!(
            matches!(trapped, Err(DispatchError::Panicked { ref message, .. }) if message == "boom"),
            "{trapped:?}"
        );
        assert_eq!(answer(&plugin, "c"), Ok(2), "a fresh instance");
        assert_eq!(plugin.host().loads.load(Ordering::Relaxed), 1);
        assert_eq!(
            plugin.state(),
            PluginState::Loaded {
                digest: "sha256-fake".into()
            }
        );
    }

    #[test]
    fn a_request_is_answered_before_its_deadline_or_times_out() {
        let plugin = plugin();
        let run = |instance: Arc<Fake>| async move { Ok(instance.number) };
        // Ready in its first poll: the answer comes before a deadline that is already due.
        let in_time = block_on(plugin.answer(true, 0, run, future::ready(())));
        assert_eq!(in_time, Ok(1));
        let never = |_: Arc<Fake>| future::pending::<Result<u32, Fault>>();
        let timed_out = block_on(plugin.answer(true, 0, never, future::ready(())));
        assert!(matches!(timed_out, Err(DispatchError::TimedOut { .. })));
    }
}
