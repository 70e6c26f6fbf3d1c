//! Errors as the JS wrapper receives them: one plain object per failure, never a panic.

use napi_derive::napi;
use std::any::Any;
use switchpoint_core::{Error, ErrorKind};

/// A failed call, field by field, for `index.js` to turn into the `SwitchpointError`
/// subclass of its `kind`.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NativeError {
    /// The snake_case error kind (`rate_limited`, `auth`, ...).
    pub kind: String,
    pub message: String,
    /// The provider's HTTP status, when there was one.
    pub status: Option<u32>,
    /// The provider (config name) that produced the error.
    pub provider: Option<String>,
    /// When to try again, seconds.
    pub retry_after: Option<f64>,
    /// The request or config field at fault.
    pub param: Option<String>,
    /// The provider's error code, or `panic` for a caught panic.
    pub code: Option<String>,
}

impl From<Error> for NativeError {
    fn from(e: Error) -> Self {
        NativeError {
            kind: e.kind.as_str().to_string(),
            message: e.message,
            status: e.status.map(u32::from),
            provider: e.provider,
            retry_after: e.retry_after.map(|d| d.as_secs_f64()),
            param: e.param,
            code: e.code,
        }
    }
}

/// The error a caught panic becomes: `internal`, code `panic`, with the panic's message.
pub(crate) fn from_panic(payload: Box<dyn Any + Send>) -> Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string());
    Error::new(
        ErrorKind::Internal,
        format!("switchpoint panicked (a bug; please report it): {what}"),
    )
    .with_code("panic")
}

/// The error a call gets when its caller cancelled it.
pub(crate) fn cancelled() -> Error {
    Error::new(ErrorKind::Cancelled, "Request was aborted.")
}
