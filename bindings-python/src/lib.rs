//! The native half of the `switchpoint` Python package (`switchpoint._native`).
//!
//! It converts values (JSON text in, JSON text out, so every language shares the core's one
//! schema and its path-aware errors), runs the core's futures on the core's one runtime, and
//! maps errors; the pleasant OpenAI-SDK surface is the thin Python layer around it.

use pyo3::prelude::*;
use switchpoint_core::ErrorKind;

mod admin;
mod body;
mod completer;
mod errors;
mod gateway;
mod guardrail;
mod hosted;
mod observer;
mod outcome;
mod stream;
mod tree;
mod wait;

/// The extension module: the classes the Python layer wraps, and the error kinds it maps.
#[pymodule(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<gateway::NativeGateway>()?;
    m.add_class::<stream::NativeStream>()?;
    m.add_class::<completer::Completer>()?;
    m.add_class::<completer::Task>()?;
    m.add_function(wrap_pyfunction!(observer::shutdown_observers, m)?)?;
    m.add_function(wrap_pyfunction!(observer::observers_after_fork, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    m.add("ERROR_KINDS", kinds)?;
    Ok(())
}
