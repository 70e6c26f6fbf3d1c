//! Validating JSON against a named schema of a provider's published OpenAPI document.
//!
//! The root schema is the whole document plus `"$ref": "#/components/schemas/<name>"`, so
//! every internal reference resolves. Documents are parsed once per test binary; validators
//! are compiled once per schema name.
//!
//! Dialect: every document is validated as JSON Schema 2020-12 (what OpenAPI 3.1 uses), after
//! one rewrite: OpenAPI 3.0's `nullable: true` (used by Gemini's 3.0 document and still left
//! in places of OpenAI's 3.1 one) becomes "or null". Formats are not checked (OpenAI uses
//! custom ones such as `unixtime`; Gemini's `int64` strings). Limitation: other 3.0-only
//! semantics (boolean `exclusiveMinimum`, `$ref` siblings ignored) are not emulated; the
//! Gemini document uses neither in the schemas the tests touch.

use jsonschema::{Draft, Validator};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A provider's published API description in `tests/specs/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Spec {
    /// `openai-openapi.yaml` (OpenAPI 3.1).
    OpenAi,
    /// `anthropic-openapi.yaml` (OpenAPI 3.1).
    Anthropic,
    /// `gemini-openapi.json` (OpenAPI 3.0).
    Gemini,
}

impl Spec {
    fn file(self) -> &'static str {
        match self {
            Spec::OpenAi => "openai-openapi.yaml",
            Spec::Anthropic => "anthropic-openapi.yaml",
            Spec::Gemini => "gemini-openapi.json",
        }
    }

    fn cell(self) -> &'static OnceLock<Value> {
        static OPENAI: OnceLock<Value> = OnceLock::new();
        static ANTHROPIC: OnceLock<Value> = OnceLock::new();
        static GEMINI: OnceLock<Value> = OnceLock::new();
        match self {
            Spec::OpenAi => &OPENAI,
            Spec::Anthropic => &ANTHROPIC,
            Spec::Gemini => &GEMINI,
        }
    }

    /// The parsed document, `nullable` rewritten; loaded on first use.
    pub fn document(self) -> &'static Value {
        self.cell().get_or_init(|| {
            let path = format!(
                "{}/../tests/specs/{}",
                env!("CARGO_MANIFEST_DIR"),
                self.file()
            );
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read spec {path}: {e}"));
            let mut doc: Value = if path.ends_with(".json") {
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
            } else {
                serde_yaml_ng::from_str::<Lossy>(&text)
                    .unwrap_or_else(|e| panic!("{path}: {e}"))
                    .0
            };
            rewrite_nullable(&mut doc);
            doc
        })
    }
}

/// Validates `instance` against `components/schemas/<schema_name>` of `spec`; the errors
/// are `"<instance path>: <message>"` strings.
pub fn validate(spec: Spec, schema_name: &str, instance: &Value) -> Result<(), Vec<String>> {
    let validator = validator(spec, schema_name);
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Asserts that `instance` validates, printing every error otherwise.
pub fn assert_valid(spec: Spec, schema_name: &str, instance: &Value) {
    if let Err(errors) = validate(spec, schema_name, instance) {
        panic!(
            "not a valid {schema_name}:\n  {}\ninstance: {instance:#}",
            errors.join("\n  ")
        );
    }
}

/// Compiled validators by spec and schema name.
type Cache = Mutex<HashMap<(Spec, String), Arc<Validator>>>;

fn validator(spec: Spec, name: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (spec, name.to_string());
    if let Some(v) = cache.lock().expect("validator cache").get(&key) {
        return Arc::clone(v);
    }
    let doc = spec.document();
    assert!(
        doc.pointer(&format!("/components/schemas/{name}"))
            .is_some(),
        "{} has no schema named {name}",
        spec.file()
    );
    let mut root = doc.as_object().cloned().unwrap_or_default();
    root.insert(
        "$ref".to_string(),
        json!(format!("#/components/schemas/{name}")),
    );
    let built = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(false)
        .build(&Value::Object(root))
        .unwrap_or_else(|e| panic!("cannot compile {name} of {}: {e}", spec.file()));
    let built = Arc::new(built);
    cache
        .lock()
        .expect("validator cache")
        .insert(key, Arc::clone(&built));
    built
}

/// Rewrites OpenAPI 3.0's `nullable: true` as JSON Schema: `type: [T, "null"]` (and `null`
/// added to an `enum`), or `anyOf: [<schema>, {type: null}]` when there is no `type`.
fn rewrite_nullable(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(rewrite_nullable),
        Value::Object(map) => {
            map.values_mut().for_each(rewrite_nullable);
            if map.get("nullable") != Some(&Value::Bool(true)) {
                return;
            }
            map.remove("nullable");
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.push(Value::Null);
            }
            match map.get_mut("type") {
                Some(Value::String(t)) => {
                    let t = std::mem::take(t);
                    map.insert("type".to_string(), json!([t, "null"]));
                }
                Some(Value::Array(types)) => types.push(json!("null")),
                _ => {
                    let inner = std::mem::take(map);
                    let mut wrapped = Map::new();
                    wrapped.insert(
                        "anyOf".to_string(),
                        json!([Value::Object(inner), {"type": "null"}]),
                    );
                    *map = wrapped;
                }
            }
        }
        _ => {}
    }
}

/// A JSON value read from YAML where integers beyond 64 bits (OpenAI's `seed` bounds,
/// `±9223372036854776000`) become floats instead of failing the whole document.
struct Lossy(Value);

impl<'de> Deserialize<'de> for Lossy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LossyVisitor).map(Lossy)
    }
}

struct LossyVisitor;

impl<'de> Visitor<'de> for LossyVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or_else(|_| Value::from(v as f64), Value::from))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(u64::try_from(v).map_or_else(|_| Value::from(v as f64), Value::from))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Lossy::deserialize(d).map(|l| l.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Lossy(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some((k, Lossy(v))) = map.next_entry::<String, Lossy>()? {
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}
