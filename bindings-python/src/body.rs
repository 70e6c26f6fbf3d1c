//! Requests as Python hands them over: a dict of the request (the usual case) converted to a
//! JSON tree here, without the JSON text `json.dumps` would write and the core would parse
//! again, or JSON text as before. The tree follows `json.dumps`'s rules: dict, list and
//! tuple (and their subclasses), str, int, float (finite only), bool and None, keys as
//! `json` turns them into text, and anything else through the package's `_encode_default`
//! hook (response objects passed back in `messages`, mappings, iterables, pydantic models).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};
use switchpoint_core::api::{from_json_str, from_json_value};
use switchpoint_core::Error;

/// A request body on its way to the core.
#[derive(Debug)]
pub(crate) enum Body {
    Text(String),
    Tree(Value),
}

/// Nesting deeper than this is refused (json.dumps would hit Python's recursion limit).
const MAX_DEPTH: u32 = 512;

static DEFAULT_HOOK: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

impl Body {
    /// The body from what the Python layer passed: a str of JSON, or the request's dict.
    pub(crate) fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Body> {
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(Body::Text(s.to_cow()?.into_owned()));
        }
        value_from_py(obj).map(Body::Tree)
    }

    /// The request it describes; errors name the field (`messages[1].role`).
    pub(crate) fn parse<R: DeserializeOwned>(self) -> Result<R, Error> {
        match self {
            Body::Text(t) => from_json_str(&t),
            Body::Tree(v) => from_json_value(v),
        }
    }
}

/// Any Python value as a JSON tree by the same rules (a str is a JSON string here, not
/// JSON text): what a guardrail hook returned.
pub(crate) fn value_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let py = obj.py();
    let hook = DEFAULT_HOOK.get_or_try_init(py, || {
        py.import("switchpoint._types")?
            .getattr("_encode_default")
            .map(Bound::unbind)
    })?;
    to_value(obj, hook.bind(py), 0)
}

fn to_value(obj: &Bound<'_, PyAny>, hook: &Bound<'_, PyAny>, depth: u32) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err("the request is nested too deeply"));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        if let Ok(n) = i.extract::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        if let Ok(n) = i.extract::<u64>() {
            return Ok(Value::Number(n.into()));
        }
        return Err(PyValueError::new_err(
            "an integer in the request is too large for JSON numbers the providers read",
        ));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v).map(Value::Number).ok_or_else(|| {
            PyValueError::new_err(format!(
                "Out of range float values are not JSON compliant: {v}"
            ))
        });
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            map.insert(key_text(&k)?, to_value(&v, hook, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        let mut items = Vec::with_capacity(l.len());
        for v in l.iter() {
            items.push(to_value(&v, hook, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        let mut items = Vec::with_capacity(t.len());
        for v in t.iter() {
            items.push(to_value(&v, hook, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    // Not JSON itself: the hook turns it into something that is (or raises TypeError).
    let converted = hook.call1((obj,))?;
    to_value(&converted, hook, depth + 1)
}

/// A dict key as `json.dumps` writes it.
fn key_text(k: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = k.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if k.is_none() {
        return Ok("null".into());
    }
    if let Ok(b) = k.cast::<PyBool>() {
        return Ok(if b.is_true() { "true" } else { "false" }.into());
    }
    if k.cast::<PyInt>().is_ok() || k.cast::<PyFloat>().is_ok() {
        return Ok(k.str()?.to_cow()?.into_owned());
    }
    Err(PyTypeError::new_err(format!(
        "keys must be str, int, float, bool or None, not {}",
        k.get_type().name()?
    )))
}
