//! The instances of a loaded plugin, on any host: each created on the first request that needs
//! it (one creation however many requests wait), requests sent to the least busy, and an
//! instance that broke replaced by the next request.

use crate::slot::Slot;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A plugin once loaded: what its instances are made from, the message each is initialised
/// with, and the instances themselves (`Fut` creates one).
pub struct Loaded<Code, Fut: Future> {
    /// The compiled module (or native library) its instances are made from.
    pub code: Code,
    /// The SHA-256 of the entry's file, in Subresource Integrity form.
    pub digest: String,
    /// What `valor_init` is handed: the entry's `config` (JSON), mount and origin; for a
    /// JavaScript plugin, the engine's config with the script.
    pub init: Arc<[u8]>,
    /// Where its requests go.
    pub instances: Instances<Fut>,
}

/// An instance that can tell whether it broke: after a fault its memory may be inconsistent,
/// and it is never called again.
pub trait Breakable {
    /// Whether the instance faulted (and must be replaced).
    fn is_broken(&self) -> bool;
}

impl<I: Breakable> Breakable for std::rc::Rc<I> {
    fn is_broken(&self) -> bool {
        I::is_broken(self)
    }
}

impl<I: Breakable> Breakable for std::sync::Arc<I> {
    fn is_broken(&self) -> bool {
        I::is_broken(self)
    }
}

/// Up to a fixed number of instances; `Fut` creates one (or says why it could not).
pub struct Instances<Fut: Future> {
    slots: Box<[Counted<Fut>]>,
}

struct Counted<Fut: Future> {
    slot: Slot<Fut>,
    in_flight: AtomicUsize,
}

impl<Fut, I> Instances<Fut>
where
    Fut: Future<Output = Result<I, String>>,
    I: Breakable + Clone,
{
    /// Room for `size` instances (at least one), the first of them being created by `first`.
    pub fn new(size: usize, first: Fut) -> Self {
        let first = std::iter::once(Slot::holding(first));
        let rest = std::iter::repeat_with(Slot::default).take(size.max(1) - 1);
        let slots = first.chain(rest).map(|slot| Counted {
            slot,
            in_flight: AtomicUsize::new(0),
        });
        Self {
            slots: slots.collect(),
        }
    }

    /// Runs `run` on an instance: the first with no request in flight (so that requests one
    /// after another meet one instance and its memory), else the least busy; created by
    /// `create` if that one has none. An instance that broke is let go: the next request
    /// creates another. `Err` says why no instance could be created (the next request tries
    /// again).
    pub async fn attempt<R, Run>(
        &self,
        create: impl FnOnce() -> Fut,
        run: impl FnOnce(I) -> Run,
    ) -> Result<R, String>
    where
        Run: Future<Output = R>,
    {
        let counted = self
            .slots
            .iter()
            .min_by_key(|counted| counted.in_flight.load(Ordering::Relaxed))
            .expect("at least one instance");
        counted.in_flight.fetch_add(1, Ordering::Relaxed);
        let _done = InFlight(&counted.in_flight);
        // Most requests find their instance made: taken as it is, no shared future awaited.
        let instance = match counted.slot.made() {
            Some(instance) => instance,
            None => {
                let making = counted.slot.making(create);
                match making.clone().await {
                    Ok(instance) => instance,
                    Err(reason) => {
                        counted.slot.clear(&making);
                        return Err(reason);
                    }
                }
            }
        };
        let answer = run(instance.clone()).await;
        if instance.is_broken() {
            // Unless a fresh instance already took its place.
            counted.slot.clear_if(I::is_broken);
        }
        Ok(answer)
    }
}

/// Counts a request out of its instance's slot however it ends.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::future::{self, BoxFuture, FutureExt};
    use std::cell::Cell;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    /// An instance numbered in the order they were created, broken when a test says so.
    #[derive(Default)]
    pub(crate) struct Fake {
        pub(crate) number: u32,
        pub(crate) broken: AtomicBool,
    }

    impl Breakable for Fake {
        fn is_broken(&self) -> bool {
            self.broken.load(Ordering::Relaxed)
        }
    }

    /// The creation of a fake instance.
    pub(crate) type Create = BoxFuture<'static, Result<Arc<Fake>, String>>;

    /// Instance number `number`, created.
    pub(crate) fn fake(number: u32) -> Create {
        future::ready(Ok(Arc::new(Fake {
            number,
            ..Fake::default()
        })))
        .boxed()
    }

    #[test]
    fn requests_one_after_another_meet_one_instance() {
        let instances = Instances::new(4, fake(1));
        let creations = Cell::new(0);
        for _ in 0..3 {
            let create = || {
                creations.set(creations.get() + 1);
                fake(2)
            };
            let number = block_on(instances.attempt(create, |i| async move { i.number }));
            assert_eq!(number, Ok(1));
        }
        assert_eq!(creations.get(), 0);
    }

    #[test]
    fn requests_in_flight_spread_over_the_instances_created_once_each() {
        let instances = Instances::new(2, fake(1));
        let created = Cell::new(1);
        let create = || {
            created.set(created.get() + 1);
            fake(created.get())
        };
        // Three requests in flight at once: the second goes to a new instance, the third to
        // the least busy (both have one: the first slot wins).
        let (gate, opened) = futures::channel::oneshot::channel::<()>();
        let opened = opened.shared();
        let held = |i: Arc<Fake>| {
            let opened = opened.clone();
            async move {
                let _ = opened.await;
                i.number
            }
        };
        let numbers = block_on(async {
            let all = future::join3(
                instances.attempt(create, held),
                instances.attempt(create, held),
                instances.attempt(create, held),
            );
            let open = async {
                gate.send(()).unwrap();
            };
            future::join(all, open).await.0
        });
        assert_eq!(numbers, (Ok(1), Ok(2), Ok(1)));
        assert_eq!(created.get(), 2, "one creation for the second slot");
    }

    #[test]
    fn a_broken_instance_is_replaced_by_the_next_request() {
        let instances = Instances::new(1, fake(1));
        let broke = block_on(instances.attempt(
            || fake(2),
            |i| async move {
                i.broken.store(true, Ordering::Relaxed);
                i.number
            },
        ));
        assert_eq!(broke, Ok(1));
        let next = block_on(instances.attempt(|| fake(2), |i| async move { i.number }));
        assert_eq!(next, Ok(2));
    }

    #[test]
    fn a_failed_creation_is_not_kept() {
        let instances = Instances::new(1, future::ready(Err("no memory".to_owned())).boxed());
        let failed = block_on(instances.attempt(|| fake(2), |i| async move { i.number }));
        assert_eq!(failed, Err("no memory".to_owned()));
        let next = block_on(instances.attempt(|| fake(2), |i| async move { i.number }));
        assert_eq!(next, Ok(2));
    }
}
