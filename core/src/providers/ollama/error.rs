//! Ollama errors: `{"error": "<message>"}` bodies (and stream lines) -> typed errors.
//!
//! Ollama documents no error codes: the HTTP status decides the kind (400 bad_request, 401
//! auth, 403 permission_denied, 404 not_found — a model that is not pulled —, 429
//! rate_limited, 5xx unavailable), except that a message saying the input exceeds the context
//! length is context_window_exceeded. An error line inside a 200 stream has no status and is
//! unavailable (the server failed while generating), or the kinds above by its message.

use crate::api::{Error, ErrorKind};
use crate::providers::retry_after;
use http::HeaderMap;
use serde_json::Value;
use std::time::SystemTime;

/// How much of an unreadable body an error message quotes.
const EXCERPT_CHARS: usize = 200;

fn refine(kind: ErrorKind, message: &str) -> ErrorKind {
    let m = message.to_ascii_lowercase();
    if m.contains("context length") || m.contains("context window") {
        ErrorKind::ContextWindowExceeded
    } else if kind == ErrorKind::Unavailable && m.contains("not found") {
        // A stream line has no status; "model ... not found" still says which.
        ErrorKind::NotFound
    } else {
        kind
    }
}

fn message_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Classifies a non-2xx answer.
pub(super) fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(message_of))
        .filter(|m| !m.trim().is_empty());
    let base = ErrorKind::from_status(status);
    let (kind, message) = match message {
        Some(m) => (refine(base, &m), m),
        None => {
            let text = excerpt(body);
            let m = if text.is_empty() {
                format!("Ollama answered HTTP {status} with an empty body")
            } else {
                format!("Ollama answered HTTP {status}: {text}")
            };
            (base, m)
        }
    };
    Error::new(kind, message)
        .with_provider(provider)
        .with_status(status)
        .with_retry_after(retry_after(headers, SystemTime::now()))
}

/// The typed error of an `error` field found in a 200 body or a stream line.
pub(super) fn stream_error(error: &Value) -> Error {
    let message = message_of(error).unwrap_or_else(|| error.to_string());
    Error::new(refine(ErrorKind::Unavailable, &message), message)
}

/// The start of a body, for messages about bodies that are not in the documented format.
pub(super) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}
