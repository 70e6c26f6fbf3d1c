//! Running a call on the core's runtime and settling its JS promise, whatever happens.

use crate::error::{cancelled, from_panic, NativeError};
use futures_util::FutureExt;
use napi::bindgen_prelude::{Either, Env, Object, Result, Status, ToNapiValue};
use napi::JsDeferred;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
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

/// What a call export returns: the outcome itself when the call finished without waiting
/// (a cache hit, a request refused before any I/O), else a promise of it.
pub(crate) type NowOrLater<'env, T> = Either<Outcome<T>, Object<'env>>;

/// Polls `fut` once, right here on the JS thread inside the core's runtime context: if it
/// finishes without waiting on anything (a cache hit, an invalid request, an unknown
/// model), its outcome is returned at once, sparing the two thread hops of a promise
/// settled from the runtime. Otherwise the future, already started, moves to the runtime
/// as with [`spawn_promise`] (its next poll registers a real waker). The first poll only
/// runs code up to the first point that would wait (parsing, routing, the cache lookup,
/// building the provider request); it never blocks the event loop on I/O.
pub(crate) fn now_or_spawn<'env, T, F>(
    env: &'env Env,
    cancel: Option<CancellationToken>,
    fut: F,
) -> Result<NowOrLater<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = std::result::Result<T, Error>> + Send + 'static,
{
    if cancel.as_ref().is_some_and(CancellationToken::is_cancelled) {
        return Ok(Either::A(Either::B(NativeError::from(cancelled()))));
    }
    let mut guarded = Box::pin(AssertUnwindSafe(fut).catch_unwind());
    let first = {
        let rt = switchpoint_core::runtime::runtime();
        let _context = rt.enter();
        guarded
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
    };
    match first {
        Poll::Ready(r) => {
            let outcome = match r.unwrap_or_else(|p| Err(from_panic(p))) {
                Ok(v) => Either::A(v),
                Err(e) => Either::B(NativeError::from(e)),
            };
            Ok(Either::A(outcome))
        }
        Poll::Pending => spawn_guarded(env, cancel, guarded).map(Either::B),
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
    spawn_guarded(env, cancel, AssertUnwindSafe(fut).catch_unwind())
}

/// [`spawn_promise`] for a future already wrapped in `catch_unwind`.
fn spawn_guarded<'env, T, G>(
    env: &'env Env,
    cancel: Option<CancellationToken>,
    guarded: G,
) -> Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    G: Future<Output = std::thread::Result<std::result::Result<T, Error>>> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred::<Outcome<T>, Resolver<T>>()?;
    let settle = Settle {
        deferred: Some(deferred),
    };
    switchpoint_core::runtime::runtime().spawn(async move {
        let guarded = pin!(guarded);
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
