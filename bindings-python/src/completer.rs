//! Hands finished async work to an asyncio event loop without the GIL on tokio's threads.
//!
//! Each event loop gets one `Completer`: tokio tasks push their outcome into its queue and,
//! when the queue was empty, write one byte to a socket pair. The loop watches the other end
//! (`loop.add_reader`) and calls `drain()` on its own thread, which takes the GIL it already
//! holds and resolves every finished future in one go. Tokio threads never touch Python, and
//! a burst of completions costs one wake-up.

use crate::errors;
use crate::outcome::{guarded, Outcome, Value};
use crate::stream::NativeStream;
use crate::wait::poll_once;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::future::Future;
use std::io::{ErrorKind as IoKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use switchpoint_core::runtime::runtime;
use tokio::task::AbortHandle;

/// What `drain()` reports for each finished piece of work (the tuple's second item).
const TAG_JSON: u8 = 0;
const TAG_STREAM: u8 = 1;
const TAG_END: u8 = 2;
const TAG_ERROR: u8 = 3;

/// An event loop's queue of finished work and the socket pair that wakes it.
#[pyclass(frozen, module = "switchpoint._native")]
#[derive(Debug)]
pub struct Completer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Vec<(u64, Outcome)>>,
    /// Written by tokio tasks; `rx` is what the event loop watches.
    tx: UnixStream,
    rx: UnixStream,
    next_token: AtomicU64,
}

impl Shared {
    fn push(&self, token: u64, outcome: Outcome) {
        let was_empty = {
            let mut q = match self.queue.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            q.push((token, outcome));
            q.len() == 1
        };
        if was_empty {
            // WouldBlock means the socket already holds unread wake-ups: nothing to add.
            let _ = (&self.tx).write(&[1]);
        }
    }
}

#[pymethods]
impl Completer {
    /// A completer with its own wake-up socket pair.
    #[new]
    fn new() -> PyResult<Self> {
        let (tx, rx) = UnixStream::pair()?;
        tx.set_nonblocking(true)?;
        rx.set_nonblocking(true)?;
        Ok(Completer {
            shared: Arc::new(Shared {
                queue: Mutex::new(Vec::new()),
                tx,
                rx,
                next_token: AtomicU64::new(1),
            }),
        })
    }

    /// The file descriptor the event loop watches for readability.
    fn fileno(&self) -> i32 {
        self.shared.rx.as_raw_fd()
    }

    /// Every finished item as `(token, tag, value)`: tag 0 JSON text, 1 a native stream,
    /// 2 end of stream (value None), 3 an error payload for `_exceptions._from_native`.
    fn drain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        // Read the wake-ups before taking the queue, so an item pushed in between still
        // leaves a byte behind and is never stranded.
        let mut buf = [0u8; 256];
        loop {
            match (&self.shared.rx).read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let items = {
            let mut q = match self.shared.queue.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            std::mem::take(&mut *q)
        };
        let out = PyList::empty(py);
        for (token, outcome) in items {
            let (tag, value) = to_python(py, outcome)?;
            out.append((token, tag, value))?;
        }
        Ok(out)
    }
}

/// An outcome as Python receives it: `(tag, value)`, tags as `drain()` documents them.
fn to_python(py: Python<'_>, outcome: Outcome) -> PyResult<(u8, Bound<'_, PyAny>)> {
    Ok(match outcome {
        Ok(Value::Json(s)) => (TAG_JSON, s.into_pyobject(py)?.into_any()),
        Ok(Value::Chat(r)) => (TAG_JSON, crate::tree::to_py(py, &*r)?),
        Ok(Value::Embeddings(r)) => (TAG_JSON, crate::tree::to_py(py, &*r)?),
        Ok(Value::Responses(r)) => (TAG_JSON, crate::tree::to_py(py, &*r)?),
        Ok(Value::Tree(v)) => (TAG_JSON, crate::tree::to_py(py, &v)?),
        Ok(Value::Stream(s)) => (
            TAG_STREAM,
            Bound::new(py, NativeStream::new(*s))?.into_any(),
        ),
        Ok(Value::End) => (TAG_END, py.None().into_bound(py)),
        Err(e) => (TAG_ERROR, errors::payload(&e).into_pyobject(py)?.into_any()),
    })
}

impl Completer {
    /// Starts `fut`: its first poll happens right here (GIL released), so work that needs no
    /// I/O (a cache hit, a replayed stream's next chunk, a rejected request) comes back at
    /// once as its `(tag, value)`, with no task, wake-up or event-loop round. Anything still
    /// pending moves to the core runtime, and the returned `Task`'s outcome is queued under
    /// its token.
    pub(crate) fn start<'py>(
        &self,
        py: Python<'py>,
        fut: impl Future<Output = Outcome> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut fut = Box::pin(guarded(fut));
        if let Poll::Ready(outcome) = poll_once(py, &mut fut) {
            return to_python(py, outcome)?
                .into_pyobject(py)
                .map(Bound::into_any);
        }
        let shared = self.shared.clone();
        let token = shared.next_token.fetch_add(1, Ordering::Relaxed);
        let handle = runtime().spawn(async move {
            let outcome = fut.await;
            shared.push(token, outcome);
        });
        let task = Task {
            token,
            abort: handle.abort_handle(),
        };
        Bound::new(py, task).map(Bound::into_any)
    }
}

/// One piece of async work in flight; aborting it drops its future on the runtime, which
/// cancels the upstream request.
#[pyclass(frozen, module = "switchpoint._native")]
#[derive(Debug)]
pub struct Task {
    /// The token its outcome will carry in `Completer.drain()`.
    #[pyo3(get)]
    token: u64,
    abort: AbortHandle,
}

#[pymethods]
impl Task {
    /// Cancels the work; its outcome will never be queued.
    fn abort(&self) {
        self.abort.abort();
    }
}
