//! A streamed answer JS pulls item by item (chat chunks or Responses events); closing or
//! dropping it cancels the upstream.

use crate::gateway::to_json;
use crate::task::{guard_sync, spawn_promise};
use futures_util::StreamExt;
use napi::bindgen_prelude::{Env, Object, Result};
use napi_derive::napi;
use std::sync::{Arc, Mutex};
use switchpoint_core::api::Facts;
use switchpoint_core::{ChatStream, Error, ResponseStream};
use tokio_util::sync::CancellationToken;

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
    async fn next_json(&mut self) -> Option<std::result::Result<String, Error>> {
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

/// The native half of `ChatCompletionStream` and `ResponseStream`: `next()` resolves to the
/// next chunk's (or event's) JSON text, or null once the stream ended.
#[napi]
#[derive(Debug)]
pub struct NativeStream {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// The core stream; `None` once it ended, failed or was closed (dropping it cancels the
    /// upstream request).
    stream: tokio::sync::Mutex<Option<Source>>,
    /// Fired by `close()`: a pending `next()` stops waiting at once.
    closed: CancellationToken,
    /// The gateway's facts as JSON, once the stream ended.
    facts: Mutex<Option<String>>,
}

impl NativeStream {
    pub(crate) fn new(stream: Source) -> Self {
        NativeStream {
            shared: Arc::new(Shared {
                stream: tokio::sync::Mutex::new(Some(stream)),
                closed: CancellationToken::new(),
                facts: Mutex::new(None),
            }),
        }
    }
}

#[napi]
impl NativeStream {
    /// The next chunk (or event) as JSON text, null at the end; rejects (resolves to an error) when the
    /// stream fails, after which it is over.
    #[napi(ts_return_type = "Promise<string | null | NativeError>")]
    pub fn next<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        guard_sync(env, || {
            let shared = self.shared.clone();
            let closed = self.shared.closed.clone();
            spawn_promise(env, Some(closed), async move {
                let mut slot = shared.stream.lock().await;
                let Some(stream) = slot.as_mut() else {
                    return Ok(None);
                };
                let item = stream.next_json().await;
                match item {
                    Some(Ok(json)) => Ok(Some(json)),
                    Some(Err(e)) => {
                        finish(&shared, &mut slot);
                        Err(e)
                    }
                    None => {
                        finish(&shared, &mut slot);
                        Ok(None)
                    }
                }
            })
        })
    }

    /// Stops the stream: a pending `next()` resolves as cancelled and the upstream
    /// connection is dropped. Idempotent.
    #[napi]
    pub fn close(&self) {
        close(&self.shared);
    }

    /// The gateway's facts as JSON text, once the stream ended (null before).
    #[napi]
    pub fn facts(&self) -> Option<String> {
        match self.shared.facts.lock() {
            Ok(f) => f.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl Drop for NativeStream {
    /// A stream the program forgot (garbage collected) still cancels its upstream.
    fn drop(&mut self) {
        close(&self.shared);
    }
}

/// Records the facts and drops the core stream after its last item.
fn finish(shared: &Shared, slot: &mut Option<Source>) {
    if let Some(stream) = slot.take() {
        let facts = serde_json::to_string(stream.facts()).ok();
        match shared.facts.lock() {
            Ok(mut f) => *f = facts,
            Err(poisoned) => *poisoned.into_inner() = facts,
        }
    }
}

fn close(shared: &Arc<Shared>) {
    if shared.closed.is_cancelled() {
        return;
    }
    shared.closed.cancel();
    let shared = shared.clone();
    // The drop runs on the runtime: the stream may be locked by a `next()` that is just
    // now noticing the cancellation, and its connection belongs to the runtime's pool.
    switchpoint_core::runtime::runtime().spawn(async move {
        shared.stream.lock().await.take();
    });
}
