//! Core errors to Python exceptions: one class per kind, defined in Python
//! (`switchpoint._exceptions`) so they pickle and read like the openai package's.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use switchpoint_core::Error;

/// The error as Python receives it: the core's JSON (`kind`, `message`, `status`, ...) plus
/// its one-line rendering, which becomes the exception's chained cause.
pub(crate) fn payload(err: &Error) -> String {
    serde_json::json!({ "error": err, "display": err.to_string() }).to_string()
}

/// The Python exception for a core error, built by `switchpoint._exceptions._from_native`.
pub(crate) fn to_pyerr(py: Python<'_>, err: &Error) -> PyErr {
    static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let factory = FACTORY.get_or_try_init(py, || {
        py.import("switchpoint._exceptions")?
            .getattr("_from_native")
            .map(Bound::unbind)
    });
    match factory.and_then(|f| f.bind(py).call1((payload(err),))) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}
