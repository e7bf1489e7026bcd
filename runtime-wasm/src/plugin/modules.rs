//! Compiled modules, shared by the plugins that mount the same file with the same limits (the
//! demo mounts `with_state.wasm` twice): each is fetched and compiled once per worker.
//!
//! A module or script with a kept copy starts from it, and is revalidated in the background,
//! once per life of the worker: new bytes are compiled (or checked), kept, and the app is told
//! ([`Modules::on_renewed`]) so that it swaps the plugins made of them; new bytes that cannot be
//! used leave the kept version answering, and the reason is kept for `GET /_plugins`.

use super::component::{self, ComponentHost};
use super::load::{self, Compiled, Source};
use super::rewriter::Rewriter;
use super::Slot;
use crate::integrity::Integrity;
use crate::offline::{self, File};
use futures::future::{self, FutureExt};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::{Rc, Weak};
use valor_host::registry::Revalidation;
use valor_host::script::ENGINE_FILE;

/// How long after a kept copy is used the network is asked about it: a start's first answers
/// are computed meanwhile, without a download and its digest competing with them (a 10 s
/// delay measured 1.8 ms off a cold start, and 5.5 ms off a JavaScript plugin's: BENCHMARKS.md).
const REVALIDATION_DELAY_MS: f64 = 1_000.0;

/// The modules compiled (or being compiled) in this worker.
pub struct Modules {
    /// The Cache Storage cache that keeps modules for starts without the network.
    cache: Rc<str>,
    /// Rewrites modules for their limits.
    rewriter: Rc<Rewriter>,
    /// Runs components (`valor_component_bg.wasm`, beside the rewriter).
    components: Rc<ComponentHost>,
    /// The JavaScript engine module (`valor_js.wasm`, beside the rewriter), which runs `.js`
    /// and `.mjs` plugins.
    script_engine: String,
    compiled: RefCell<HashMap<Source, Rc<Slot<Compiled>>>>,
    /// What the revalidation of each file started from a kept copy found, by URL.
    revalidations: RefCell<HashMap<String, Revalidation>>,
    /// Told the URL of a file whose new version is ready and kept.
    renewed: RefCell<Option<Renewed>>,
    me: Weak<Modules>,
}

/// What is told the URL of a file whose new version is ready.
type Renewed = Box<dyn Fn(&str)>;

/// What new bytes must pass before they are kept and used.
enum Check {
    /// Compile as this module.
    Module(Source),
    /// Be a script of this integrity.
    Script(Option<Integrity>),
}

impl Modules {
    /// Modules kept in the Cache Storage cache `cache`, rewritten by the rewriter at
    /// `rewriter_url` (`valor_meter.wasm`).
    pub fn new(cache: &str, rewriter_url: &str) -> Rc<Self> {
        let script_engine = web_sys::Url::new_with_base(ENGINE_FILE, rewriter_url)
            .map(|url| url.href())
            .unwrap_or_else(|_| ENGINE_FILE.to_owned());
        let components = web_sys::Url::new_with_base(component::HOST_FILE, rewriter_url)
            .map(|url| url.href())
            .unwrap_or_else(|_| component::HOST_FILE.to_owned());
        Rc::new_cyclic(|me| Self {
            cache: cache.into(),
            rewriter: Rc::new(Rewriter::new(rewriter_url, cache)),
            components: Rc::new(ComponentHost::new(&components, cache)),
            script_engine,
            compiled: RefCell::default(),
            revalidations: RefCell::default(),
            renewed: RefCell::default(),
            me: me.clone(),
        })
    }

    /// Calls `renewed` with the URL of each file whose new version is ready, from the next
    /// load of a plugin on: the app swaps the plugins made of it.
    pub fn on_renewed(&self, renewed: impl Fn(&str) + 'static) {
        *self.renewed.borrow_mut() = Some(Box::new(renewed));
    }

    /// The module `source` names, compiled once however many plugins ask. A failure is not
    /// kept: the next request compiles again (the plugin's backoff decides when).
    pub async fn compile(&self, source: Source) -> Result<Compiled, String> {
        let slot = Rc::clone(
            self.compiled
                .borrow_mut()
                .entry(source.clone())
                .or_default(),
        );
        let me = self.me.upgrade().expect("alive while called");
        slot.get(|| {
            async move {
                if let Some(compiled) = load::kept_rewritten(&source, &me.cache).await {
                    me.revalidate(&source.url, &compiled.digest, Check::Module(source.clone()));
                    return Ok(compiled);
                }
                let opening = load::open(&source, &me.rewriter, &me.cache);
                let compile = |file: &File| {
                    let (source, file, me) = (source.clone(), file.clone(), Rc::clone(&me));
                    async move {
                        let (rewriter, components) = (&me.rewriter, &me.components);
                        load::compile(&source, &file, rewriter, components, &me.cache).await
                    }
                };
                let check = || Check::Module(source.clone());
                me.kept_first(&source.url, opening, compile, check).await
            }
            .boxed_local()
        })
        .await
    }

    /// A JavaScript plugin's script at `url`: its text and SHA-256.
    pub async fn script(
        &self,
        url: &str,
        integrity: Option<&Integrity>,
    ) -> Result<(String, String), String> {
        let opening = async {
            match offline::kept(&self.cache, url).await {
                Some(file) => Ok(file),
                None => offline::download(url).await,
            }
        };
        let read = |file: &File| {
            let (url, file, integrity) = (url.to_owned(), file.clone(), integrity.cloned());
            async move { load::script(&url, &file, integrity.as_ref()).await }
        };
        let check = || Check::Script(integrity.cloned());
        self.kept_first(url, opening, read, check).await
    }

    /// What `using` makes of the file `opening` finds (kept, or from the network): a kept one
    /// is revalidated in the background (`check` says how new bytes are checked); for one that
    /// cannot be used, the network's is tried; one from the network is kept once used.
    async fn kept_first<T, Using>(
        &self,
        url: &str,
        opening: impl Future<Output = Result<File, String>>,
        using: impl Fn(&File) -> Using,
        check: impl FnOnce() -> Check,
    ) -> Result<T, String>
    where
        Using: Future<Output = Result<T, String>>,
    {
        let file = opening.await?;
        let used = using(&file).await;
        match (file.kept, used) {
            (true, Ok(used)) => {
                self.revalidate(url, &file.digest, check());
                Ok(used)
            }
            // The network's copy may load where the kept one did not (new bytes, or the same
            // bytes read another way); without the network, the kept copy stays.
            (true, Err(why)) => match offline::download(url).await {
                Err(_) => Err(why),
                Ok(fresh) => {
                    web_sys::console::warn_1(
                        &format!("[valor] the kept copy of {url} cannot be used ({why}); trying the network's")
                            .into(),
                    );
                    let used = using(&fresh).await?;
                    offline::keep_later(&self.cache, url, &fresh);
                    Ok(used)
                }
            },
            (false, Ok(used)) => {
                offline::keep_later(&self.cache, url, &file);
                Ok(used)
            }
            (false, Err(why)) => Err(why),
        }
    }

    /// Asks the network, in the background, whether the file at `url` still has the kept bytes
    /// (SHA-256 `kept`), once per life of the worker. The runtime's own files are not asked:
    /// a new version of them comes with a new worker.
    fn revalidate(&self, url: &str, kept: &str, check: Check) {
        if offline::expected(url).is_some() {
            return;
        }
        {
            let mut revalidations = self.revalidations.borrow_mut();
            if revalidations.contains_key(url) {
                return;
            }
            revalidations.insert(url.to_owned(), Revalidation::Running);
        }
        let me = self.me.upgrade().expect("alive while called");
        let (url, kept) = (url.to_owned(), kept.to_owned());
        wasm_bindgen_futures::spawn_local(async move {
            crate::host::timer::sleep(REVALIDATION_DELAY_MS).await;
            let found = me.ask(&url, &kept, check).await;
            let renewed = matches!(found, Revalidation::Renewed { .. });
            me.revalidations.borrow_mut().insert(url.clone(), found);
            crate::sys::mark(url.rsplit('/').next().unwrap_or(&url), "revalidated");
            if renewed {
                if let Some(renewed) = me.renewed.borrow().as_ref() {
                    renewed(&url);
                }
            }
        });
    }

    /// What the network has at `url`, against the kept bytes (SHA-256 `kept`): new bytes
    /// are checked, compiled for a module, and kept before they are used.
    async fn ask(&self, url: &str, kept: &str, check: Check) -> Revalidation {
        let file = match offline::download(url).await {
            Ok(file) if file.digest == kept => return Revalidation::Unchanged,
            Ok(file) => file,
            Err(reason) => {
                let digest = None;
                return Revalidation::Refused { digest, reason };
            }
        };
        let refused = |reason| Revalidation::Refused {
            digest: Some(file.digest.clone()),
            reason,
        };
        match check {
            Check::Module(source) => {
                let (rewriter, components) = (&self.rewriter, &self.components);
                match load::compile(&source, &file, rewriter, components, &self.cache).await {
                    Ok(compiled) => {
                        // Every limits' copy of the old module is stale; this one is ready.
                        let mut slots = self.compiled.borrow_mut();
                        slots.retain(|other, _| other.url != url);
                        let ready = future::ready(Ok(compiled)).boxed_local();
                        slots.insert(source, Rc::new(Slot::holding(ready)));
                    }
                    Err(reason) => return refused(reason),
                }
            }
            Check::Script(integrity) => {
                if let Err(reason) = load::script(url, &file, integrity.as_ref()).await {
                    return refused(reason);
                }
            }
        }
        // Kept before it is used: a plugin swapped in reads a script from its kept copy.
        if let Err(why) = offline::keep(&self.cache, url, &file).await {
            web_sys::console::warn_1(&format!("[valor] {why}").into());
        }
        Revalidation::Renewed {
            digest: file.digest,
        }
    }

    /// What the revalidation of the file at `url` found, if it started from a kept copy.
    pub fn revalidation(&self, url: &str) -> Option<Revalidation> {
        self.revalidations.borrow().get(url).cloned()
    }

    /// Records that the new version of the file at `url` could not replace the plugins made
    /// of the old one, and why.
    pub fn refused(&self, url: &str, reason: String) {
        let mut revalidations = self.revalidations.borrow_mut();
        let digest = match revalidations.get(url) {
            Some(Revalidation::Renewed { digest }) => Some(digest.clone()),
            _ => None,
        };
        revalidations.insert(url.to_owned(), Revalidation::Refused { digest, reason });
    }

    /// The Cache Storage cache the modules are kept in.
    pub fn cache_name(&self) -> &str {
        &self.cache
    }

    /// Begins loading the module rewriter from `response` (its module, kept), if it is not
    /// loaded.
    pub fn preload_rewriter_from(&self, response: web_sys::Response) {
        self.rewriter.preload_from(response);
    }

    /// Where the module rewriter is (kept for offline starts with the plugins' modules).
    pub fn rewriter_url(&self) -> &str {
        self.rewriter.url()
    }

    /// Where the component host's module is (kept for offline starts with the plugins').
    pub fn component_host_url(&self) -> &str {
        self.components.url()
    }

    /// Where the JavaScript engine module is.
    pub fn script_engine_url(&self) -> &str {
        &self.script_engine
    }
}
