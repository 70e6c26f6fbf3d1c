//! Core values as Python objects: answers reach Python as the dicts and lists `json.loads`
//! would make of their wire JSON, built straight from the Rust structs by a serde
//! serializer: no JSON text written here and parsed again in Python, and no intermediate
//! `serde_json::Value` tree (together most of a cache hit's cost from Python).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyList, PyString};
use serde::ser::{self, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::mem::ManuallyDrop;

/// `value` as Python objects: dict, list, str, int, float, bool, None (non-finite floats
/// become None, as in JSON).
pub(crate) fn to_py<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    value.serialize(ToPy(py, false)).map_err(|e| e.0)
}

/// The serializer's error: a Python exception (or a serde message turned into one).
#[derive(Debug)]
pub(crate) struct Failed(PyErr);

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Failed {}

impl ser::Error for Failed {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Failed(PyValueError::new_err(format!("cannot convert: {msg}")))
    }
}

impl From<std::convert::Infallible> for Failed {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<PyErr> for Failed {
    fn from(e: PyErr) -> Self {
        Failed(e)
    }
}

type Out<'py> = Result<Bound<'py, PyAny>, Failed>;

/// A dict key or a variant name as an interned Python string, made once per thread and
/// reused: a response has dozens of keys, and a fresh string per key (its allocation, its
/// decoding, its hash on insertion) was a visible share of a cache hit. Short names only,
/// and at most [`NAMES_MAX`] of them per thread (providers' extra keys are open-ended).
fn name<'py>(py: Python<'py>, s: &str) -> Bound<'py, PyString> {
    // Never dropped: interned strings live as long as the interpreter anyway, and a thread's
    // exit may come after the interpreter's.
    type Names = HashMap<Box<str>, ManuallyDrop<Py<PyString>>, ahash::RandomState>;
    thread_local! {
        static NAMES: RefCell<Names> = RefCell::new(Names::default());
    }
    if s.len() > NAME_LEN_MAX {
        return PyString::new(py, s);
    }
    NAMES
        .try_with(|names| {
            let mut names = names.borrow_mut();
            if let Some(n) = names.get(s) {
                return n.bind(py).clone();
            }
            let n = PyString::intern(py, s);
            if names.len() < NAMES_MAX {
                names.insert(s.into(), ManuallyDrop::new(n.clone().unbind()));
            }
            n
        })
        .unwrap_or_else(|_| PyString::new(py, s))
}

/// Names longer than this are made fresh each time.
const NAME_LEN_MAX: usize = 48;

/// Names kept per thread.
const NAMES_MAX: usize = 2048;

/// The serializer; `.1` is true for a map's key (a string key goes through [`name`]).
#[derive(Clone, Copy)]
struct ToPy<'py>(Python<'py>, bool);

/// A list being filled (sequences, tuples).
struct Seq<'py> {
    py: Python<'py>,
    items: Vec<Bound<'py, PyAny>>,
    /// For a tuple variant: the variant name the list is wrapped under.
    variant: Option<&'static str>,
}

/// A dict being filled (maps, structs).
struct Map<'py> {
    py: Python<'py>,
    dict: Bound<'py, PyDict>,
    key: Option<Bound<'py, PyAny>>,
    /// For a struct variant: the variant name the dict is wrapped under.
    variant: Option<&'static str>,
}

fn wrap<'py>(py: Python<'py>, variant: Option<&'static str>, inner: Bound<'py, PyAny>) -> Out<'py> {
    match variant {
        None => Ok(inner),
        Some(name) => {
            let d = PyDict::new(py);
            d.set_item(self::name(py, name), inner)?;
            Ok(d.into_any())
        }
    }
}

impl<'py> ser::Serializer for ToPy<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Failed;
    type SerializeSeq = Seq<'py>;
    type SerializeTuple = Seq<'py>;
    type SerializeTupleStruct = Seq<'py>;
    type SerializeTupleVariant = Seq<'py>;
    type SerializeMap = Map<'py>;
    type SerializeStruct = Map<'py>;
    type SerializeStructVariant = Map<'py>;

    fn serialize_bool(self, v: bool) -> Out<'py> {
        Ok(v.into_pyobject(self.0)?.to_owned().into_any())
    }
    fn serialize_i8(self, v: i8) -> Out<'py> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Out<'py> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Out<'py> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Out<'py> {
        Ok(v.into_pyobject(self.0)?.into_any())
    }
    fn serialize_i128(self, v: i128) -> Out<'py> {
        Ok(v.into_pyobject(self.0)?.into_any())
    }
    fn serialize_u8(self, v: u8) -> Out<'py> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Out<'py> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Out<'py> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Out<'py> {
        Ok(v.into_pyobject(self.0)?.into_any())
    }
    fn serialize_u128(self, v: u128) -> Out<'py> {
        Ok(v.into_pyobject(self.0)?.into_any())
    }
    fn serialize_f32(self, v: f32) -> Out<'py> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Out<'py> {
        if v.is_finite() {
            Ok(PyFloat::new(self.0, v).into_any())
        } else {
            Ok(self.0.None().into_bound(self.0))
        }
    }
    fn serialize_char(self, v: char) -> Out<'py> {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_str(self, v: &str) -> Out<'py> {
        if self.1 {
            Ok(name(self.0, v).into_any())
        } else {
            Ok(PyString::new(self.0, v).into_any())
        }
    }
    fn serialize_bytes(self, v: &[u8]) -> Out<'py> {
        Ok(PyList::new(self.0, v)?.into_any())
    }
    fn serialize_none(self) -> Out<'py> {
        Ok(self.0.None().into_bound(self.0))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Out<'py> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Out<'py> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Out<'py> {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Out<'py> {
        Ok(name(self.0, variant).into_any())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Out<'py> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Out<'py> {
        let inner = value.serialize(self)?;
        wrap(self.0, Some(variant), inner)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'py>, Failed> {
        Ok(Seq {
            py: self.0,
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'py>, Failed> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq<'py>, Failed> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq<'py>, Failed> {
        let mut s = self.serialize_seq(Some(len))?;
        s.variant = Some(variant);
        Ok(s)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map<'py>, Failed> {
        Ok(Map {
            py: self.0,
            dict: PyDict::new(self.0),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Map<'py>, Failed> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Map<'py>, Failed> {
        let mut m = self.serialize_map(Some(len))?;
        m.variant = Some(variant);
        Ok(m)
    }
}

impl<'py> Seq<'py> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
        self.items.push(value.serialize(ToPy(self.py, false))?);
        Ok(())
    }
    fn done(self) -> Out<'py> {
        let list = PyList::new(self.py, self.items)?.into_any();
        wrap(self.py, self.variant, list)
    }
}

/// serde's four list-like traits differ only in the method's name: each pushes onto the list.
macro_rules! list_like {
    ($($tr:ident :: $method:ident),*) => {$(
        impl<'py> ser::$tr for Seq<'py> {
            type Ok = Bound<'py, PyAny>;
            type Error = Failed;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
                self.push(value)
            }
            fn end(self) -> Out<'py> {
                self.done()
            }
        }
    )*};
}

list_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl<'py> Map<'py> {
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Failed> {
        let v = value.serialize(ToPy(self.py, false))?;
        self.dict.set_item(name(self.py, key), v)?;
        Ok(())
    }
    fn done(self) -> Out<'py> {
        wrap(self.py, self.variant, self.dict.into_any())
    }
}

impl<'py> ser::SerializeMap for Map<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Failed;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Failed> {
        self.key = Some(key.serialize(ToPy(self.py, true))?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <Failed as ser::Error>::custom("a map value without its key"))?;
        self.dict
            .set_item(key, value.serialize(ToPy(self.py, false))?)?;
        Ok(())
    }
    fn end(self) -> Out<'py> {
        self.done()
    }
}

/// Structs and struct variants both fill the dict field by field.
macro_rules! struct_like {
    ($($tr:ident),*) => {$(
        impl<'py> ser::$tr for Map<'py> {
            type Ok = Bound<'py, PyAny>;
            type Error = Failed;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Failed> {
                self.field(key, value)
            }
            fn end(self) -> Out<'py> {
                self.done()
            }
        }
    )*};
}

struct_like!(SerializeStruct, SerializeStructVariant);
