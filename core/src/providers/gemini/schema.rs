//! JSON Schema (as OpenAI tools carry it) to Gemini's `Schema` object, a subset of the
//! OpenAPI 3.0 schema (spec: `components.schemas.Schema`).
//!
//! Kept: `type`, `format`, `title`, `description`, `nullable`, `enum` (strings only),
//! `items`, `minItems`, `maxItems`, `properties`, `required`, `minProperties`,
//! `maxProperties`, `minimum`, `maximum`, `minLength`, `maxLength`, `pattern`, `example`,
//! `anyOf`, `propertyOrdering`, `default`.
//!
//! Rewritten: `type` names to the spec's `Type` enum (`"object"` -> `"OBJECT"`); a type list
//! with `"null"` to `nullable: true` (several other types become `anyOf`); `oneOf` to
//! `anyOf`; an `anyOf` of one schema plus `{"type":"null"}` (how Pydantic writes
//! `Optional[X]`) to that schema with `nullable: true`; a string `const` to a one-value
//! `enum`; `allOf` merged into its parent; local `$ref`s (`#/$defs/..`, `#/definitions/..`)
//! inlined up to [`MAX_REF_DEPTH`] levels (Gemini's `Schema` has no references); the int64
//! counts (`minItems`, `maxLength`, ...) written as decimal strings, their proto3 JSON form.
//!
//! Stripped (the `Schema` object has no such field, and Gemini rejects unknown fields):
//! `$schema`, `$id`, `$defs`, `definitions`, `$comment`, `additionalProperties`, `strict`,
//! `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `uniqueItems`, `patternProperties`,
//! `not`, `if`/`then`/`else`, `examples`, `readOnly`, `writeOnly`, `contentEncoding`,
//! `contentMediaType`, `dependentRequired`, tuple-form `items`, non-string `enum`s, remote
//! `$ref`s, and any other keyword not listed as kept.

use serde_json::{Map, Value};

/// How deep `$ref`s are inlined before a recursive schema is cut (to a bare `OBJECT`).
const MAX_REF_DEPTH: usize = 8;

/// Keywords copied unchanged.
const COPIED: &[&str] = &[
    "format",
    "title",
    "description",
    "nullable",
    "pattern",
    "example",
    "default",
    "propertyOrdering",
    "required",
    "minimum",
    "maximum",
];

/// Keywords the spec types as int64, written as proto3 JSON decimal strings.
const INT64_COUNTS: &[&str] = &[
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
];

/// Converts a JSON Schema into Gemini's `Schema` subset (see the module doc for the rules).
pub(super) fn to_gemini_schema(schema: &Value) -> Value {
    let mut defs = Map::new();
    for key in ["definitions", "$defs"] {
        if let Some(Value::Object(d)) = schema.get(key) {
            defs.extend(d.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    Value::Object(clean(schema, &defs, 0))
}

/// One schema node, recursively.
fn clean(node: &Value, defs: &Map<String, Value>, depth: usize) -> Map<String, Value> {
    let Value::Object(obj) = node else {
        return Map::new();
    };
    let mut depth = depth;
    if obj.contains_key("$ref") {
        depth += 1;
        if depth > MAX_REF_DEPTH {
            let mut out = Map::new();
            out.insert("type".into(), Value::String("OBJECT".into()));
            return out;
        }
    }
    let obj = resolve(obj, defs, depth);
    let mut out = Map::new();
    for (key, value) in &obj {
        match key.as_str() {
            "type" => type_keyword(value, &mut out),
            "enum" => {
                if let Value::Array(items) = value {
                    if items.iter().all(Value::is_string) {
                        out.insert("enum".into(), value.clone());
                    }
                }
            }
            "const" if value.is_string() => {
                out.insert("enum".into(), Value::Array(vec![value.clone()]));
            }
            "items" if value.is_object() => {
                out.insert("items".into(), Value::Object(clean(value, defs, depth)));
            }
            "properties" => {
                if let Value::Object(props) = value {
                    let cleaned = props
                        .iter()
                        .map(|(name, s)| (name.clone(), Value::Object(clean(s, defs, depth))))
                        .collect();
                    out.insert("properties".into(), Value::Object(cleaned));
                }
            }
            "anyOf" | "oneOf" => any_of(value, defs, depth, &mut out),
            k if INT64_COUNTS.contains(&k) => {
                if let Some(n) = value.as_u64() {
                    out.insert(k.into(), Value::String(n.to_string()));
                } else if value.is_string() {
                    out.insert(k.into(), value.clone());
                }
            }
            k if COPIED.contains(&k) => {
                out.insert(k.into(), value.clone());
            }
            _ => {}
        }
    }
    out
}

/// Inlines a local `$ref` and merges `allOf` members, the node's own keywords winning;
/// past [`MAX_REF_DEPTH`] both are dropped, so recursive definitions terminate.
fn resolve(
    obj: &Map<String, Value>,
    defs: &Map<String, Value>,
    depth: usize,
) -> Map<String, Value> {
    let mut merged = obj.clone();
    let reference = merged.remove("$ref");
    let all_of = merged.remove("allOf");
    if depth > MAX_REF_DEPTH {
        return merged;
    }
    if let Some(Value::String(reference)) = reference {
        let name = reference
            .strip_prefix("#/$defs/")
            .or_else(|| reference.strip_prefix("#/definitions/"));
        if let Some(Value::Object(target)) = name.and_then(|n| defs.get(n)) {
            for (k, v) in resolve(target, defs, depth + 1) {
                merged.entry(k).or_insert(v);
            }
        }
    }
    if let Some(Value::Array(members)) = all_of {
        for member in members {
            if let Value::Object(m) = member {
                for (k, v) in resolve(&m, defs, depth + 1) {
                    merged.entry(k).or_insert(v);
                }
            }
        }
    }
    merged
}

/// `type`: one name, or a list where `"null"` becomes `nullable`.
fn type_keyword(value: &Value, out: &mut Map<String, Value>) {
    match value {
        Value::String(t) => {
            out.insert("type".into(), Value::String(type_name(t)));
        }
        Value::Array(types) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            let non_null: Vec<&str> = names.iter().copied().filter(|t| *t != "null").collect();
            if non_null.len() < names.len() {
                out.insert("nullable".into(), Value::Bool(true));
            }
            match non_null.as_slice() {
                [] => {
                    out.insert("type".into(), Value::String("NULL".into()));
                }
                [one] => {
                    out.insert("type".into(), Value::String(type_name(one)));
                }
                many => {
                    let alternatives = many
                        .iter()
                        .map(|t| {
                            let mut m = Map::new();
                            m.insert("type".into(), Value::String(type_name(t)));
                            Value::Object(m)
                        })
                        .collect();
                    out.insert("anyOf".into(), Value::Array(alternatives));
                }
            }
        }
        _ => {}
    }
}

/// `anyOf` / `oneOf`: null alternatives become `nullable`; a single remaining alternative
/// is merged into the parent.
fn any_of(value: &Value, defs: &Map<String, Value>, depth: usize, out: &mut Map<String, Value>) {
    let Value::Array(alternatives) = value else {
        return;
    };
    let mut kept = Vec::new();
    for alt in alternatives {
        let cleaned = clean(alt, defs, depth);
        if cleaned.get("type").and_then(Value::as_str) == Some("NULL") && cleaned.len() == 1 {
            out.insert("nullable".into(), Value::Bool(true));
        } else {
            kept.push(cleaned);
        }
    }
    if kept.len() == 1 {
        for (k, v) in kept.remove(0) {
            out.entry(k).or_insert(v);
        }
    } else if !kept.is_empty() {
        out.insert(
            "anyOf".into(),
            Value::Array(kept.into_iter().map(Value::Object).collect()),
        );
    }
}

/// A JSON Schema type name as the spec's `Type` enum spells it; unknown names pass through.
fn type_name(t: &str) -> String {
    match t {
        "string" | "number" | "integer" | "boolean" | "array" | "object" | "null" => {
            t.to_ascii_uppercase()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_unsupported_keywords_and_renames_types() {
        let s = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "strict": true,
            "properties": {
                "city": {"type": "string", "minLength": 1, "examples": ["Paris"]},
                "days": {"type": ["integer", "null"], "exclusiveMinimum": 0}
            },
            "required": ["city"]
        });
        assert_eq!(
            to_gemini_schema(&s),
            json!({
                "type": "OBJECT",
                "properties": {
                    "city": {"type": "STRING", "minLength": "1"},
                    "days": {"type": "INTEGER", "nullable": true}
                },
                "required": ["city"]
            })
        );
    }

    #[test]
    fn inlines_refs_and_optional_any_of() {
        let s = json!({
            "$defs": {"Unit": {"type": "string", "enum": ["c", "f"]}},
            "type": "object",
            "properties": {
                "unit": {"anyOf": [{"$ref": "#/$defs/Unit"}, {"type": "null"}], "description": "u"},
                "mode": {"const": "fast"},
                "n": {"oneOf": [{"type": "integer"}, {"type": "string"}]}
            }
        });
        assert_eq!(
            to_gemini_schema(&s),
            json!({
                "type": "OBJECT",
                "properties": {
                    "unit": {"type": "STRING", "enum": ["c", "f"], "nullable": true, "description": "u"},
                    "mode": {"enum": ["fast"]},
                    "n": {"anyOf": [{"type": "INTEGER"}, {"type": "STRING"}]}
                }
            })
        );
    }

    #[test]
    fn cuts_recursive_refs() {
        let s = json!({
            "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
            "$ref": "#/$defs/Node"
        });
        let out = to_gemini_schema(&s);
        let mut depth = 0;
        let mut cur = &out;
        while let Some(next) = cur.get("properties").and_then(|p| p.get("next")) {
            depth += 1;
            cur = next;
        }
        assert_eq!(cur, &json!({"type": "OBJECT"}));
        assert!(depth <= MAX_REF_DEPTH + 1, "depth {depth}");
    }
}
