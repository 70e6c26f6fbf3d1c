//! JSON trees as Python objects: answers reach Python as dicts and lists built here, with no
//! JSON text to write in Rust and parse again in Python (the larger part of a cache hit's
//! cost from Python).

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyList, PyString};
use serde::Serialize;
use serde_json::Value;
use switchpoint_core::{Error, ErrorKind};

/// A core value as its wire JSON tree (done off the GIL, on whichever thread finished it).
pub(crate) fn to_tree<T: Serialize>(value: &T) -> Result<Value, Error> {
    serde_json::to_value(value)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot serialize: {e}")))
}

/// The tree as the objects `json.loads` would have made (dict, list, str, int, float, bool,
/// None), so the Python layer reads it exactly as before.
pub(crate) fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(PyString::new(py, k), to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}
