//! The thread a native plugin runs on. A WebAssembly instance can be called from any of the
//! server's threads, its state is in its memory; a native plugin's `thread_local!` values (the
//! SDK's tasks, a counter of its own) belong to the thread that calls it. So every call into a
//! native plugin is made on one thread of its own, which runs a single-threaded tokio runtime:
//! a request's whole dispatch runs there (one hand-over in, one out), and so do the host
//! operations it starts, whose results are delivered from there.

use futures::future::BoxFuture;
use futures::stream::{BoxStream, Stream, StreamExt};
use futures::SinkExt;
use std::future::Future;
use std::thread::ThreadId;
use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

/// A thread with a runtime of its own; it ends when this is dropped.
pub struct PluginThread {
    handle: Handle,
    id: ThreadId,
    /// Dropping it ends the thread's runtime (its tasks are dropped on the thread).
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PluginThread {
    /// Starts the thread of plugin `name`.
    pub fn start(name: &str) -> std::io::Result<Self> {
        let (stop, stopped) = oneshot::channel::<()>();
        let (started, handle) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("valor-native-{name}"))
            .stack_size(crate::serve::THREAD_STACK_BYTES)
            .spawn(move || {
                let runtime = Builder::new_current_thread().enable_all().build();
                let runtime = match runtime {
                    Ok(runtime) => runtime,
                    Err(error) => return drop(started.send(Err(error))),
                };
                let _ = started.send(Ok(runtime.handle().clone()));
                runtime.block_on(async move {
                    let _ = stopped.await;
                });
            })?;
        let id = thread.thread().id();
        let handle = handle
            .recv()
            .map_err(|_| std::io::Error::other("the plugin's thread ended at once"))??;
        Ok(Self {
            handle,
            id,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Whether the caller is on this thread.
    pub fn is_current(&self) -> bool {
        std::thread::current().id() == self.id
    }

    /// Runs `future` on the thread, to its end or until the returned future is dropped (it is
    /// then dropped on the thread, as tokio drops an aborted task where it runs). `Err` if
    /// the thread's runtime ended first (its plugin was dropped meanwhile).
    pub fn run<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> BoxFuture<'static, Result<T, Stopped>> {
        let mut task = Aborting(self.handle.spawn(future));
        Box::pin(async move {
            match (&mut task.0).await {
                Ok(value) => Ok(value),
                // The server's own code panicked on the plugin's thread: as on any of its
                // threads, a bug, and the panic goes on.
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(_) => Err(Stopped),
            }
        })
    }
}

/// Pulls `items` on the current thread (a plugin's), one at a time as the returned stream,
/// which any thread may read, is read: one item is pulled ahead of its reader. Dropping the
/// returned stream drops `items` here.
pub fn pump<T: Send + 'static>(
    items: impl Stream<Item = T> + Send + 'static,
) -> BoxStream<'static, T> {
    let (mut sender, receiver) = futures::channel::mpsc::channel(0);
    let pulling = Aborting(tokio::spawn(async move {
        let mut items = std::pin::pin!(items);
        while let Some(item) = items.next().await {
            if sender.send(item).await.is_err() {
                break; // the reader is gone
            }
        }
    }));
    receiver
        .map(move |item| {
            let _pulling = &pulling;
            item
        })
        .boxed()
}

impl Drop for PluginThread {
    /// Ends the thread and, unless this is it, waits for it: its library is closed after it.
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take().filter(|_| !self.is_current()) {
            let _ = thread.join();
        }
    }
}

/// The plugin's thread ended before the work handed to it.
#[derive(Debug)]
pub struct Stopped;

/// Aborts its task when dropped.
struct Aborting<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Aborting<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
