//! Unified chat and embeddings requests -> Mistral bodies.
//!
//! The body starts as the OpenAI shape (the unified request serialized, `extra_body` merged
//! into the top level so provider parameters such as `safe_prompt` or `prompt_mode` reach
//! Mistral untouched), then the fields where Mistral differs are rewritten:
//! - `seed` -> `random_seed` (a caller's own `random_seed` wins);
//! - `max_completion_tokens` -> `max_tokens` (Mistral knows only the latter);
//! - `tool_choice: "required"` -> `"any"` (Mistral's word for "call some tool");
//! - tool-call ids -> Mistral's 9-character form (see `ids`);
//! - `stream_options`, `user` and OpenAI's `metadata` are dropped: Mistral rejects fields it
//!   does not know (422 "Extra inputs are not permitted"), and it reports usage in the last
//!   stream chunk without being asked.

use super::ids::to_mistral;
use crate::api::{ChatRequest, EmbeddingRequest, Error, ErrorKind, JsonMap};
use serde::Serialize;
use serde_json::Value;

/// Builds the JSON body for `POST {base}/chat/completions`.
pub(super) fn chat_body(req: &ChatRequest, model: &str, stream: bool) -> Result<Value, Error> {
    let mut body = to_object(req)?;
    merge_extra_body(&mut body);
    body.insert("model".into(), Value::String(model.to_string()));
    body.remove("stream_options");
    body.remove("user");
    body.remove("metadata");
    if stream {
        body.insert("stream".into(), Value::Bool(true));
    } else {
        body.remove("stream");
    }
    if let Some(seed) = body.remove("seed") {
        body.entry("random_seed").or_insert(seed);
    }
    if let Some(cap) = body.remove("max_completion_tokens") {
        body.entry("max_tokens").or_insert(cap);
    }
    if body.get("tool_choice").and_then(Value::as_str) == Some("required") {
        body.insert("tool_choice".into(), Value::String("any".into()));
    }
    if let Some(Value::Array(messages)) = body.get_mut("messages") {
        for message in messages.iter_mut().filter_map(Value::as_object_mut) {
            rewrite_ids(message);
        }
    }
    Ok(Value::Object(body))
}

/// Rewrites the tool-call ids of one message (assistant `tool_calls[].id`, tool `tool_call_id`).
fn rewrite_ids(message: &mut JsonMap) {
    if let Some(Value::String(id)) = message.get_mut("tool_call_id") {
        *id = to_mistral(id).into_owned();
    }
    if let Some(Value::Array(calls)) = message.get_mut("tool_calls") {
        for call in calls.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(Value::String(id)) = call.get_mut("id") {
                *id = to_mistral(id).into_owned();
            }
        }
    }
}

/// Builds the JSON body for `POST {base}/embeddings`: `dimensions` is Mistral's
/// `output_dimension`; `user` is dropped (Mistral has none).
pub(super) fn embed_body(req: &EmbeddingRequest, model: &str) -> Result<Value, Error> {
    let mut body = to_object(req)?;
    merge_extra_body(&mut body);
    body.insert("model".into(), Value::String(model.to_string()));
    body.remove("user");
    if let Some(d) = body.remove("dimensions") {
        body.entry("output_dimension").or_insert(d);
    }
    Ok(Value::Object(body))
}

fn to_object<T: Serialize>(req: &T) -> Result<JsonMap, Error> {
    match serde_json::to_value(req) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::new(
            ErrorKind::Internal,
            "the request did not serialize to a JSON object",
        )),
        Err(e) => Err(Error::new(
            ErrorKind::BadRequest,
            format!("the request cannot be encoded as JSON: {e}"),
        )),
    }
}

/// Moves `extra_body`'s keys to the top level; they win over same-named fields.
fn merge_extra_body(body: &mut JsonMap) {
    if let Some(Value::Object(extra)) = body.remove("extra_body") {
        body.extend(extra);
    }
}
