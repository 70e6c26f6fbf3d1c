//! Python callables as telemetry observers: each request record is handed to a callback on
//! the gateway's telemetry thread, with the GIL taken there.
//!
//! The record is serialized before the GIL is taken, then `switchpoint._models._record`
//! turns it into a `RequestRecord` object and the callback receives that. An exception in
//! the callback goes to `sys.unraisablehook`, never to the request (which returned long ago).
//!
//! Interpreter shutdown: a thread that waits for the GIL while Python finalizes is ended by
//! CPython in a way Rust frames cannot survive. So `shutdown()` (registered with `atexit` on
//! first use) closes the door: no callback starts after it, and it waits, with the GIL
//! released, for the callbacks already under way.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use switchpoint_core::telemetry::{Observer, RequestRecord};

/// Set by `shutdown()`: no callback may start any more.
static CLOSING: AtomicBool = AtomicBool::new(false);
/// Callbacks between the `CLOSING` check and their end.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// The name the core gives its telemetry worker thread.
const WORKER_THREAD: &str = "switchpoint-telemetry";

/// Whether the calling thread is a telemetry worker (a callback is running on it): waiting
/// there for the worker itself could only time out.
pub(crate) fn on_worker_thread() -> bool {
    std::thread::current().name() == Some(WORKER_THREAD)
}

/// A callback's permission to call into Python (record callbacks and guardrail hooks alike);
/// dropping it ends the callback's turn.
pub(crate) struct Turn;

impl Turn {
    /// A turn, unless the interpreter is shutting down.
    pub(crate) fn take() -> Option<Turn> {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        if CLOSING.load(Ordering::SeqCst) {
            IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Turn)
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A Python callable receiving every request record.
#[derive(Debug)]
pub(crate) struct PyObserver {
    callback: Py<PyAny>,
    /// Cleared by `remove_observer` (with the GIL held): a record already on its way when the
    /// observer was removed is not delivered.
    active: AtomicBool,
}

impl PyObserver {
    /// An observer calling `callback(record)`.
    pub(crate) fn new(callback: Py<PyAny>) -> Self {
        PyObserver {
            callback,
            active: AtomicBool::new(true),
        }
    }

    /// Stops delivery: no call starts after this returns.
    pub(crate) fn deactivate(&self) {
        self.active.store(false, Ordering::SeqCst);
    }

    fn deliver(&self, py: Python<'_>, json: String) {
        // Checked again under the GIL: `remove()` runs with the GIL held, so once it has
        // returned no new call can begin.
        if !self.active.load(Ordering::SeqCst) {
            return;
        }
        let callback = self.callback.bind(py);
        let called = record_factory(py)
            .and_then(|make| make.bind(py).call1((json,)))
            .and_then(|record| callback.call1((record,)));
        if let Err(err) = called {
            err.write_unraisable(py, Some(callback));
        }
    }
}

impl Observer for PyObserver {
    fn on_record(&self, record: &RequestRecord) {
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        let Some(_turn) = Turn::take() else {
            return;
        };
        // Serialized without the GIL; a record always serializes (plain data).
        let Ok(json) = serde_json::to_string(record) else {
            return;
        };
        Python::try_attach(|py| self.deliver(py, json));
    }
}

/// `switchpoint._models._record`: record JSON text to a `RequestRecord` object.
fn record_factory(py: Python<'_>) -> PyResult<&Py<PyAny>> {
    static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    FACTORY.get_or_try_init(py, || {
        py.import("switchpoint._models")?
            .getattr("_record")
            .map(Bound::unbind)
    })
}

/// Stops every record callback before the interpreter finalizes (registered with `atexit`):
/// none starts after this returns, and the ones under way are waited for (up to 5 s).
#[pyfunction]
pub(crate) fn shutdown_observers(py: Python<'_>) {
    CLOSING.store(true, Ordering::SeqCst);
    py.detach(|| {
        let deadline = Instant::now() + Duration::from_secs(5);
        while IN_FLIGHT.load(Ordering::SeqCst) != 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// In a forked child: callbacks under way in the parent's threads do not exist here.
#[pyfunction]
pub(crate) fn observers_after_fork() {
    IN_FLIGHT.store(0, Ordering::SeqCst);
}
