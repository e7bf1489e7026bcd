//! A value made once and shared by every caller meanwhile (an instance, a compiled module, the
//! browser's module rewriter): a failure is not kept, so the next caller makes it again.

use futures::future::{FutureExt, Shared};
use std::future::Future;
use std::sync::{Mutex, MutexGuard};

/// Holds what is made (or being made), until it fails or is cleared. `Fut` makes it.
pub struct Slot<Fut: Future> {
    making: Mutex<Option<Shared<Fut>>>,
}

impl<Fut: Future> Default for Slot<Fut> {
    fn default() -> Self {
        Self {
            making: Mutex::new(None),
        }
    }
}

impl<Fut, T> Slot<Fut>
where
    Fut: Future<Output = Result<T, String>>,
    T: Clone,
{
    /// A slot holding `making`, already begun.
    pub fn holding(making: Fut) -> Self {
        Self {
            making: Mutex::new(Some(making.shared())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Shared<Fut>>> {
        self.making
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What the slot holds, once made; made by `make` if it holds nothing. A failure empties
    /// the slot (unless something newer took its place meanwhile).
    pub async fn get(&self, make: impl FnOnce() -> Fut) -> Result<T, String> {
        let making = self.making(make);
        let made = making.clone().await;
        if made.is_err() {
            self.clear(&making);
        }
        made
    }

    /// What the slot holds, made or being made; begun with `make` if it holds nothing. (A
    /// shared future runs only while polled: to make it ahead of a [`Slot::get`], spawn it.)
    pub fn making(&self, make: impl FnOnce() -> Fut) -> Shared<Fut> {
        self.lock().get_or_insert_with(|| make().shared()).clone()
    }

    /// What the slot holds, if it is made (not being made, not failed): taken under its lock,
    /// with no shared future cloned or awaited.
    pub fn made(&self) -> Option<T> {
        let slot = self.lock();
        slot.as_ref()?.peek()?.as_ref().ok().cloned()
    }

    /// Empties the slot if what it holds is made and `stale` (a broken instance, say): the
    /// next caller makes another.
    pub fn clear_if(&self, stale: impl FnOnce(&T) -> bool) {
        let mut slot = self.lock();
        let made = slot.as_ref().and_then(Shared::peek);
        if made.is_some_and(|made| made.as_ref().is_ok_and(stale)) {
            *slot = None;
        }
    }

    /// Empties the slot if it still holds `making`: the next caller makes another.
    pub fn clear(&self, making: &Shared<Fut>) {
        let mut slot = self.lock();
        if slot.as_ref().is_some_and(|held| held.ptr_eq(making)) {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::future::{self, BoxFuture, FutureExt};
    use std::cell::Cell;

    type Make = BoxFuture<'static, Result<u32, String>>;

    #[test]
    fn callers_meanwhile_share_one_making() {
        let slot = Slot::<Make>::default();
        let makes = Cell::new(0);
        let (done, made) = futures::channel::oneshot::channel::<u32>();
        let made = made.map(|n| n.map_err(|_| "dropped".to_owned())).boxed();
        let mut pending = Some(made);
        let make = || {
            makes.set(makes.get() + 1);
            pending
                .take()
                .unwrap_or_else(|| future::ready(Ok(0)).boxed())
        };
        let both = block_on(async {
            let waiting = future::join(slot.get(make), slot.get(|| unreachable!()));
            let finish = async { done.send(7).unwrap() };
            future::join(waiting, finish).await.0
        });
        assert_eq!(both, (Ok(7), Ok(7)));
        assert_eq!(makes.get(), 1);
    }

    #[test]
    fn what_is_made_is_taken_as_it_is_and_cleared_only_if_stale() {
        let slot = Slot::<Make>::default();
        assert_eq!(slot.made(), None, "nothing yet");
        let failed = block_on(slot.get(|| future::ready(Err("offline".into())).boxed()));
        assert!(failed.is_err());
        assert_eq!(slot.made(), None, "a failure is not made");
        assert_eq!(block_on(slot.get(|| future::ready(Ok(3)).boxed())), Ok(3));
        assert_eq!(slot.made(), Some(3));
        slot.clear_if(|made| *made == 4);
        assert_eq!(slot.made(), Some(3), "not stale: kept");
        slot.clear_if(|made| *made == 3);
        assert_eq!(slot.made(), None, "stale: cleared");
    }

    #[test]
    fn a_failure_is_made_again_by_the_next_caller() {
        let slot = Slot::<Make>::default();
        let failed = block_on(slot.get(|| future::ready(Err("offline".into())).boxed()));
        assert_eq!(failed, Err("offline".to_owned()));
        assert_eq!(block_on(slot.get(|| future::ready(Ok(2)).boxed())), Ok(2));
        assert_eq!(
            block_on(slot.get(|| unreachable!())),
            Ok(2),
            "a success is kept"
        );
    }
}
