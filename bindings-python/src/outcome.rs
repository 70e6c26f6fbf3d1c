//! What a finished piece of work hands back to Python, and the guard that keeps a panic from
//! becoming a lost answer.

use crate::stream::Source;
use futures_util::FutureExt;
use serde::Serialize;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use switchpoint_core::api::responses::ResponseObject;
use switchpoint_core::api::{ChatResponse, EmbeddingResponse};
use switchpoint_core::{Error, ErrorKind};

/// A successful result, in the form Python receives it.
#[derive(Debug)]
pub(crate) enum Value {
    /// A response, chunk or event as its OpenAI wire JSON.
    Json(String),
    /// A chat completion, handed to Python as the dicts and lists of its wire JSON.
    Chat(Box<ChatResponse>),
    /// An embeddings answer, likewise.
    Embeddings(Box<EmbeddingResponse>),
    /// A Responses API answer, likewise.
    Responses(Box<ResponseObject>),
    /// An admin answer (keys, audit records; null for a reload), handed over as dicts and
    /// lists.
    Tree(serde_json::Value),
    /// A stream that has started (its first bytes are in); boxed, it is large.
    Stream(Box<Source>),
    /// A stream has no more chunks.
    End,
}

/// The result of one call or one stream step.
pub(crate) type Outcome = Result<Value, Error>;

/// Serializes a core value to its wire JSON; failure would be a bug in the core's types.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot serialize: {e}")))
}

/// Runs `fut`, turning a panic inside it into an `internal` error, so no panic crosses into
/// Python and no awaiting caller waits forever for an answer that will never come.
/// A combinator rather than an `async fn`: an `async fn` would move the whole wrapped
/// future into its own state on the first poll, and the gateway's futures are large.
pub(crate) fn guarded<T>(
    fut: impl Future<Output = Result<T, Error>>,
) -> impl Future<Output = Result<T, Error>> {
    AssertUnwindSafe(fut)
        .catch_unwind()
        .map(|r| r.unwrap_or_else(|panic| Err(panic_error(panic.as_ref()))))
}

/// The `internal` error for a caught panic, with its message when it has one.
pub(crate) fn panic_error(panic: &(dyn std::any::Any + Send)) -> Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    Error::new(
        ErrorKind::Internal,
        format!("switchpoint panicked (a bug; please report it): {what}"),
    )
    .with_code("panic")
}
