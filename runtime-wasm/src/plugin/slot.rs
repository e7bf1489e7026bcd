//! A value made once and shared by every caller meanwhile (a compiled module, an instance, the
//! module rewriter): a failure is not kept, so the next caller makes it again.

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use std::cell::RefCell;

type Making<T> = Shared<LocalBoxFuture<'static, Result<T, String>>>;

/// Holds what is made (or being made), until it fails or is cleared.
pub struct Slot<T: Clone> {
    making: RefCell<Option<Making<T>>>,
}

impl<T: Clone + 'static> Default for Slot<T> {
    fn default() -> Self {
        Self {
            making: RefCell::default(),
        }
    }
}

impl<T: Clone + 'static> Slot<T> {
    /// A slot holding `making`, already begun.
    pub fn holding(making: LocalBoxFuture<'static, Result<T, String>>) -> Self {
        Self {
            making: RefCell::new(Some(making.shared())),
        }
    }

    /// What the slot holds, once made; made by `make` if it holds nothing. A failure empties
    /// the slot (unless something newer took its place meanwhile).
    pub async fn get(
        &self,
        make: impl FnOnce() -> LocalBoxFuture<'static, Result<T, String>>,
    ) -> Result<T, String> {
        let making = self.making(make);
        let made = making.clone().await;
        if made.is_err() {
            let mut slot = self.making.borrow_mut();
            if slot.as_ref().is_some_and(|m| m.ptr_eq(&making)) {
                *slot = None;
            }
        }
        made
    }

    /// Begins making it with `make`, if the slot holds nothing, for a later [`Slot::get`].
    pub fn begin(&self, make: impl FnOnce() -> LocalBoxFuture<'static, Result<T, String>>) {
        // A shared future only runs while polled.
        wasm_bindgen_futures::spawn_local(self.making(make).map(|_| ()));
    }

    /// What the slot holds, made or being made; begun with `make` if it holds nothing.
    fn making(
        &self,
        make: impl FnOnce() -> LocalBoxFuture<'static, Result<T, String>>,
    ) -> Making<T> {
        self.making
            .borrow_mut()
            .get_or_insert_with(|| make().shared())
            .clone()
    }

    /// Empties the slot if it holds a made value that `is` picks out: the next caller makes
    /// another.
    pub fn clear_if(&self, is: impl Fn(&T) -> bool) {
        let mut slot = self.making.borrow_mut();
        if slot
            .as_ref()
            .is_some_and(|m| matches!(m.peek(), Some(Ok(made)) if is(made)))
        {
            *slot = None;
        }
    }
}
