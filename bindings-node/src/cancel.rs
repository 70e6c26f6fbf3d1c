//! A cancel switch the JS wrapper flips when the caller's `AbortSignal` fires.

use napi_derive::napi;
use tokio_util::sync::CancellationToken;

/// Cancels the call it was passed to: the spawned task stops awaiting the provider (which
/// drops the upstream request) and the promise rejects with `APIUserAbortError`.
#[napi]
#[derive(Debug, Default)]
pub struct CancelToken {
    token: CancellationToken,
}

#[napi]
impl CancelToken {
    /// A token that has not fired.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Fires the token; idempotent.
    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether the token has fired.
    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

impl CancelToken {
    /// The token a spawned task waits on.
    pub(crate) fn token(&self) -> CancellationToken {
        self.token.clone()
    }
}
