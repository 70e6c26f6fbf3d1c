//! Running a call on the core's runtime and settling its JS promise, whatever happens.

use crate::error::{cancelled, from_panic, NativeError};
use futures_util::FutureExt;
use napi::bindgen_prelude::{Either, Env, Object, Result, Status, ToNapiValue};
use napi::JsDeferred;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use switchpoint_core::{Error, ErrorKind};
use tokio_util::sync::CancellationToken;

/// What a call's promise resolves to: its value, or the error for the wrapper to throw.
pub(crate) type Outcome<T> = Either<T, NativeError>;

type Resolver<T> = Box<dyn FnOnce(Env) -> Result<Outcome<T>>>;

/// Owns a pending promise and settles it exactly once: with the call's outcome, or, if the
/// task is dropped before finishing (the runtime shutting down), with an `internal` error, so
/// no promise is left pending and no threadsafe function keeps node alive.
struct Settle<T: ToNapiValue + Send + 'static> {
    deferred: Option<JsDeferred<Outcome<T>, Resolver<T>>>,
}

impl<T: ToNapiValue + Send + 'static> Settle<T> {
    fn done(mut self, outcome: std::result::Result<T, Error>) {
        if let Some(d) = self.deferred.take() {
            let value = match outcome {
                Ok(v) => Either::A(v),
                Err(e) => Either::B(NativeError::from(e)),
            };
            d.resolve(Box::new(move |_env| Ok(value)));
        }
    }
}

impl<T: ToNapiValue + Send + 'static> Drop for Settle<T> {
    fn drop(&mut self) {
        if let Some(d) = self.deferred.take() {
            let e = Error::new(
                ErrorKind::Internal,
                "the call was dropped before it finished (the runtime shut down)",
            );
            let value = NativeError::from(e);
            d.resolve(Box::new(move |_env| Ok(Either::B(value))));
        }
    }
}

/// Spawns `fut` on the core's runtime and returns a promise of its outcome. A panic inside
/// `fut` becomes an `internal` error with code `panic`; a fired `cancel` token drops `fut`
/// (and with it any upstream request) and settles with a `cancelled` error.
pub(crate) fn spawn_promise<'env, T, F>(
    env: &'env Env,
    cancel: Option<CancellationToken>,
    fut: F,
) -> Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = std::result::Result<T, Error>> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred::<Outcome<T>, Resolver<T>>()?;
    let settle = Settle {
        deferred: Some(deferred),
    };
    switchpoint_core::runtime::runtime().spawn(async move {
        let guarded = AssertUnwindSafe(fut).catch_unwind();
        let outcome = match cancel {
            Some(token) => tokio::select! {
                biased;
                _ = token.cancelled() => Err(cancelled()),
                r = guarded => r.unwrap_or_else(|p| Err(from_panic(p))),
            },
            None => guarded.await.unwrap_or_else(|p| Err(from_panic(p))),
        };
        settle.done(outcome);
    });
    Ok(promise)
}

/// Runs the synchronous part of an export; a panic is thrown to JS as an `internal` error
/// with code `panic` instead of unwinding into node.
pub(crate) fn guard_sync<R>(env: &Env, f: impl FnOnce() -> Result<R>) -> Result<R> {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(throw(env, from_panic(p))),
    }
}

/// Throws `e` to JS as a structured [`NativeError`] object; the returned error tells napi an
/// exception is already pending.
pub(crate) fn throw(env: &Env, e: Error) -> napi::Error {
    match env.throw(NativeError::from(e)) {
        Ok(()) => napi::Error::from_status(Status::PendingException),
        Err(err) => err,
    }
}
