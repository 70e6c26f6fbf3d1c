//! A streamed answer owned by Python (chat chunks or Responses events), one item at a time,
//! blocking or through asyncio.
//!
//! The core stream lives behind an async mutex shared with the runtime, so it is only ever
//! polled and dropped inside the runtime. Closing (or garbage collection) hands the drop to a
//! runtime task: the finalizer never waits, and the upstream connection closes.

use crate::completer::Completer;
use crate::errors;
use crate::outcome::{to_json, Value};
use crate::wait;
use futures_util::StreamExt;
use pyo3::prelude::*;
use std::sync::Arc;
use switchpoint_core::api::Facts;
use switchpoint_core::runtime::runtime;
use switchpoint_core::{ChatStream, Error, ResponseStream};
use tokio::sync::Mutex;

/// A core stream: chat chunks or Responses API events. The Responses stream is boxed (it is
/// the larger one); the chat stream stays inline so opening one costs no extra allocation,
/// hence the size difference the lint would flag.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Source {
    Chat(ChatStream),
    Responses(Box<ResponseStream>),
}

impl Source {
    /// The next item as its wire JSON; None at the end.
    async fn next_json(&mut self) -> Option<Result<String, Error>> {
        match self {
            Source::Chat(s) => s.next().await.map(|r| r.and_then(|c| to_json(&c))),
            Source::Responses(s) => s.next().await.map(|r| r.and_then(|e| to_json(&e))),
        }
    }

    /// What the gateway did so far.
    fn facts(&self) -> &Facts {
        match self {
            Source::Chat(s) => s.facts(),
            Source::Responses(s) => s.facts(),
        }
    }
}

/// A stream in progress (`switchpoint._native.Stream`).
#[pyclass(frozen, name = "Stream", module = "switchpoint._native")]
#[derive(Debug)]
pub struct NativeStream {
    state: Arc<Mutex<State>>,
    /// The process that opened it; a forked child must not touch the parent's connection.
    pid: u32,
}

#[derive(Debug)]
struct State {
    stream: Option<Source>,
    /// The gateway's facts, kept once the stream is finished and dropped.
    facts: Option<Facts>,
}

impl State {
    /// The next item's JSON, or None at the end; ending (or failing) drops the stream.
    async fn next(&mut self) -> Result<Option<String>, Error> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(None);
        };
        match stream.next_json().await {
            Some(Ok(json)) => Ok(Some(json)),
            Some(Err(e)) => {
                self.finish();
                Err(e)
            }
            None => {
                self.finish();
                Ok(None)
            }
        }
    }

    /// Keeps the facts and drops the stream (cancelling the upstream request if unfinished).
    fn finish(&mut self) {
        if let Some(s) = self.stream.take() {
            self.facts = Some(s.facts().clone());
        }
    }
}

impl NativeStream {
    /// Wraps a started core stream.
    pub(crate) fn new(stream: Source) -> Self {
        NativeStream {
            state: Arc::new(Mutex::new(State {
                stream: Some(stream),
                facts: None,
            })),
            pid: switchpoint_core::runtime::process_id(),
        }
    }

    /// Drops the core stream on the runtime, without waiting.
    fn close_in_background(&self) {
        if self.pid != switchpoint_core::runtime::process_id() {
            // A forked child: the connection belongs to the parent; leak our handle to it.
            std::mem::forget(self.state.clone());
            return;
        }
        if let Ok(state) = self.state.try_lock() {
            if state.stream.is_none() {
                return; // already finished: nothing to cancel
            }
        }
        let state = self.state.clone();
        runtime().spawn(async move { state.lock().await.finish() });
    }
}

#[pymethods]
impl NativeStream {
    /// The next item's JSON, or None when the stream has ended; waits with the GIL released.
    fn next(&self, py: Python<'_>) -> PyResult<Option<String>> {
        wait::ensure_outside_runtime(py)?;
        let rt = runtime();
        let state = self.state.clone();
        let waited = wait::in_slices(py, |slice| {
            rt.block_on(async {
                tokio::time::timeout(slice, async { state.lock().await.next().await })
                    .await
                    .ok()
            })
        });
        match waited {
            Ok(result) => result.map_err(|e| errors::to_pyerr(py, &e)),
            Err(interrupted) => {
                self.close_in_background();
                Err(interrupted)
            }
        }
    }

    /// Starts fetching the next item for asyncio: the outcome at once when the item is
    /// already there (a replayed stream), else the task whose outcome arrives through
    /// `completer`.
    fn next_async<'py>(
        &self,
        py: Python<'py>,
        completer: &Completer,
    ) -> PyResult<Bound<'py, PyAny>> {
        let state = self.state.clone();
        completer.start(py, async move {
            match state.lock().await.next().await? {
                Some(json) => Ok(Value::Json(json)),
                None => Ok(Value::End),
            }
        })
    }

    /// Stops the stream: the upstream request is cancelled if it has not finished.
    fn close(&self) {
        self.close_in_background();
    }

    /// The gateway's facts as JSON (final once the stream has ended); None while another
    /// thread is reading the stream.
    fn facts(&self) -> Option<String> {
        let state = self.state.try_lock().ok()?;
        let facts = match (&state.stream, &state.facts) {
            (Some(s), _) => s.facts(),
            (None, Some(f)) => f,
            (None, None) => return None,
        };
        to_json(facts).ok()
    }
}

impl Drop for NativeStream {
    fn drop(&mut self) {
        self.close_in_background();
    }
}
