//! Blocking waits that release the GIL and still answer Ctrl-C.
//!
//! A blocking call waits on the runtime in short slices with the GIL released; between
//! slices it takes the GIL back just long enough to run Python's signal handlers, so a
//! SIGINT during a long call raises KeyboardInterrupt within a slice.

use crate::outcome::panic_error;
use pyo3::prelude::*;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use switchpoint_core::{Error, ErrorKind};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// How long one wait lasts before signals are checked.
pub(crate) const SLICE: Duration = Duration::from_millis(100);

/// Repeats `step` (given the slice length, returning None when the slice ran out) with the
/// GIL released until it yields a value; a pending signal's exception ends the wait.
pub(crate) fn in_slices<T: Send>(
    py: Python<'_>,
    mut step: impl FnMut(Duration) -> Option<T> + Send,
) -> PyResult<T> {
    loop {
        if let Some(v) = py.detach(|| step(SLICE)) {
            return Ok(v);
        }
        py.check_signals()?;
    }
}

/// Waits for a spawned task. If Python raises meanwhile (Ctrl-C), the task is aborted, which
/// drops its future on the runtime and so closes the upstream connection.
pub(crate) fn join<T: Send + 'static>(
    py: Python<'_>,
    rt: &Runtime,
    mut handle: JoinHandle<Result<T, Error>>,
) -> PyResult<Result<T, Error>> {
    ensure_outside_runtime(py)?;
    let waited = in_slices(py, |slice| {
        rt.block_on(async { tokio::time::timeout(slice, &mut handle).await.ok() })
    });
    match waited {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(join_err)) => Ok(Err(match join_err.try_into_panic() {
            Ok(panic) => panic_error(panic.as_ref()),
            Err(e) => Error::new(ErrorKind::Cancelled, format!("the call was cancelled: {e}")),
        })),
        Err(interrupted) => {
            handle.abort();
            Err(interrupted)
        }
    }
}

/// Polls `fut` once on this thread, in the core runtime's context, with the GIL released.
///
/// Work that needs no I/O (a cache hit) finishes here without any thread hand-off. A future
/// still pending afterwards is moved to the runtime by the caller; its next poll there
/// registers the runtime's waker in place of this poll's no-op one.
pub(crate) fn poll_once<F: Future + Send + ?Sized>(
    py: Python<'_>,
    fut: &mut Pin<Box<F>>,
) -> Poll<F::Output>
where
    F::Output: Send,
{
    let rt = switchpoint_core::runtime::runtime();
    py.detach(|| {
        let _context = rt.enter();
        fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    })
}

/// Blocking on the runtime from one of its own threads would deadlock; say so instead.
pub(crate) fn ensure_outside_runtime(py: Python<'_>) -> PyResult<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        let err = Error::new(
            ErrorKind::Internal,
            "a blocking switchpoint call was made from inside the gateway's runtime thread",
        );
        return Err(crate::errors::to_pyerr(py, &err));
    }
    Ok(())
}
