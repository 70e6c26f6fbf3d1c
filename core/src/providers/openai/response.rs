//! Parsing OpenAI-shaped answers: chat completions and embeddings.
//!
//! A well-formed answer deserializes straight into the unified types (unknown fields land in
//! `extra`). Only when that fails does the slow path look closer: an `{"error":{...}}` body
//! sent with a 2xx status becomes the typed error it describes, and finish-reason spellings
//! used by compatible hosts (Mistral's `model_length`, ...) are mapped to OpenAI's.

use super::error::error_from_value;
use crate::api::{ChatResponse, EmbeddingResponse, Error};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses a chat completion.
pub(crate) fn parse_chat(body: &[u8], provider: &str) -> Result<ChatResponse, Error> {
    parse_with_fallback(body, provider, "a chat completion", |v| {
        for choice in choices_mut(v) {
            normalize_finish_reason(choice)?;
        }
        Ok(())
    })
}

/// Parses an embeddings answer.
pub(crate) fn parse_embed(body: &[u8], provider: &str) -> Result<EmbeddingResponse, Error> {
    parse_with_fallback(body, provider, "an embeddings list", |_| Ok(()))
}

/// Deserializes `body` as `T`; on failure, reports an embedded provider error, or retries
/// once after `fix` adjusted the JSON, or explains what is wrong (with the JSON path).
fn parse_with_fallback<T: DeserializeOwned>(
    body: &[u8],
    provider: &str,
    what: &str,
    fix: impl FnOnce(&mut Value) -> Result<(), Error>,
) -> Result<T, Error> {
    // The fast path: a well-formed answer, no path tracking.
    if let Ok(v) = serde_json::from_slice::<T>(body) {
        return Ok(v);
    }
    let first = match deserialize_with_path::<T>(body) {
        Ok(v) => return Ok(v),
        Err(msg) => msg,
    };
    let invalid = |msg: &str| {
        Error::invalid_response(format!("the answer is not {what}: {msg}")).with_provider(provider)
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid(&first));
    };
    if let Some(err) = value.get("error").filter(|e| !e.is_null()) {
        return Err(error_from_value(provider, None, err));
    }
    fix(&mut value).map_err(|e| e.with_provider(provider))?;
    serde_json::from_value(value).map_err(|_| invalid(&first))
}

/// Deserializes with the JSON path of the first mismatch in the message.
fn deserialize_with_path<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("at `{path}`: {}", e.into_inner())
        }
    })?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// The choice objects of a completion or chunk, for in-place repairs.
pub(super) fn choices_mut(
    v: &mut Value,
) -> impl Iterator<Item = &mut serde_json::Map<String, Value>> {
    v.get_mut("choices")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// Maps finish reasons some OpenAI-compatible hosts send to OpenAI's values; `error` (sent
/// by hosts that end a failed choice instead of the stream) becomes a typed error.
pub(super) fn normalize_finish_reason(
    choice: &mut serde_json::Map<String, Value>,
) -> Result<(), Error> {
    let Some(Value::String(reason)) = choice.get("finish_reason") else {
        return Ok(());
    };
    let mapped = match reason.as_str() {
        "model_length" | "max_tokens" => "length",
        "eos" | "end_turn" | "stop_sequence" => "stop",
        "tool_use" => "tool_calls",
        "error" => {
            return Err(Error::new(
                crate::api::ErrorKind::Unavailable,
                "the provider ended the answer with finish_reason `error`",
            ))
        }
        _ => return Ok(()),
    };
    choice.insert(
        "finish_reason".to_string(),
        Value::String(mapped.to_string()),
    );
    Ok(())
}
