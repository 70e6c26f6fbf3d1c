//! Python callables as guardrail hooks: the core hands each input and output event to the
//! hook, which calls `callback(event)` on one of the runtime's blocking threads with the GIL
//! taken only for the call, and turns what it returns into a verdict.
//!
//! The callable is the Python layer's wrapper around the user's function (it awaits a
//! coroutine's result). What it returns (None, a bool or a dict) is converted to JSON here
//! and read by `HookVerdict::from_json`; an exception fails the request with an `internal`
//! error, code `guardrail_hook_failed`, carrying the exception's text.

use crate::body::value_from_py;
use crate::observer::Turn;
use crate::outcome::panic_error;
use crate::tree::to_py;
use futures_util::future::BoxFuture;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use switchpoint_core::policy::guardrails::{GuardrailHook, HookEvent, HookVerdict};
use switchpoint_core::{Error, ErrorKind};

/// The code of the error a failing hook gives the request.
const HOOK_FAILED: &str = "guardrail_hook_failed";

/// A Python callable checking every input and output event.
#[derive(Debug)]
pub(crate) struct PyGuardrail {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    callback: Py<PyAny>,
    /// Cleared by `remove_guardrail`: an event already on its way is allowed unchecked
    /// rather than handed to a hook the caller removed.
    active: AtomicBool,
}

impl PyGuardrail {
    /// A hook calling `callback(event)`.
    pub(crate) fn new(callback: Py<PyAny>) -> Self {
        PyGuardrail {
            inner: Arc::new(Inner {
                callback,
                active: AtomicBool::new(true),
            }),
        }
    }

    /// Stops calls: none starts after this returns.
    pub(crate) fn deactivate(&self) {
        self.inner.active.store(false, Ordering::SeqCst);
    }
}

impl GuardrailHook for PyGuardrail {
    fn check(&self, event: HookEvent) -> BoxFuture<'static, Result<HookVerdict, Error>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            match tokio::task::spawn_blocking(move || inner.call(&event)).await {
                Ok(verdict) => verdict,
                Err(e) => Err(match e.try_into_panic() {
                    Ok(panic) => panic_error(panic.as_ref()),
                    Err(e) => failed(format!("the guardrail hook did not finish: {e}")),
                }),
            }
        })
    }
}

impl Inner {
    /// Calls the callback under the GIL (on a blocking thread) and reads its verdict.
    fn call(&self, event: &HookEvent) -> Result<HookVerdict, Error> {
        if !self.active.load(Ordering::SeqCst) {
            return HookVerdict::from_json(serde_json::Value::Null);
        }
        let Some(_turn) = Turn::take() else {
            return Err(failed("the Python interpreter is shutting down"));
        };
        let answer = Python::try_attach(|py| {
            // Checked again under the GIL: `remove_guardrail` clears it holding the GIL.
            if !self.active.load(Ordering::SeqCst) {
                return Ok(serde_json::Value::Null);
            }
            let called = to_py(py, event)
                .and_then(|event| self.callback.bind(py).call1((event,)))
                .and_then(|verdict| value_from_py(&verdict));
            called.map_err(|err| exception_text(py, &err))
        });
        match answer {
            Some(Ok(value)) => HookVerdict::from_json(value),
            Some(Err(text)) => Err(failed(text)),
            None => Err(failed("the Python interpreter is shutting down")),
        }
    }
}

/// The exception's text (`str(exc)`), or its class name when that is empty.
fn exception_text(py: Python<'_>, err: &PyErr) -> String {
    let text = err
        .value(py)
        .str()
        .map(|s| s.to_string())
        .unwrap_or_default();
    if !text.is_empty() {
        return text;
    }
    err.get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "exception".to_string())
}

/// The error a failed hook call gives the request.
fn failed(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Internal, message).with_code(HOOK_FAILED)
}
