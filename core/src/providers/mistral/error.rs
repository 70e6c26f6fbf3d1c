//! Mistral error bodies -> typed errors.
//!
//! Mistral answers most errors in the OpenAI-like shape
//! `{"object":"error","message","type","param","code"}`, which the OpenAI classifier reads
//! (including "... maximum context length" -> `context_window_exceeded`). Request validation
//! failures are 422 with FastAPI's `{"detail":[{"loc":[...],"msg","type"}]}`: those become
//! `bad_request` whose message joins each problem as `loc: msg` and whose `param` is the first
//! location (`messages.1.tool_calls.0.id`).

use crate::api::{Error, ErrorKind};
use crate::providers::openai;
use crate::providers::retry_after;
use http::HeaderMap;
use serde_json::Value;
use std::time::SystemTime;

/// Classifies a non-2xx answer.
pub(super) fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    if let Some((message, param)) = validation_detail(body) {
        let kind = if status == 422 {
            ErrorKind::BadRequest
        } else {
            ErrorKind::from_status(status)
        };
        let mut err = Error::new(kind, message)
            .with_provider(provider)
            .with_status(status)
            .with_retry_after(retry_after(headers, SystemTime::now()));
        if let Some(p) = param {
            err = err.with_param(p);
        }
        return err;
    }
    openai::parse_error(provider, status, headers, body)
}

/// The problems of a FastAPI validation body, and the first one's location.
fn validation_detail(body: &[u8]) -> Option<(String, Option<String>)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let items = value.get("detail")?.as_array()?;
    let mut parts = Vec::new();
    let mut first_loc = None;
    for item in items {
        let msg = item.get("msg").and_then(Value::as_str).unwrap_or("invalid");
        let loc: Vec<String> = item
            .get("loc")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter(|p| p.as_str() != Some("body"))
                    .map(|p| match p {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let loc = loc.join(".");
        if first_loc.is_none() && !loc.is_empty() {
            first_loc = Some(loc.clone());
        }
        parts.push(if loc.is_empty() {
            msg.to_string()
        } else {
            format!("{loc}: {msg}")
        });
    }
    if parts.is_empty() {
        return None;
    }
    Some((parts.join("; "), first_loc))
}
