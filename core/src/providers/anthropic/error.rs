//! Anthropic error bodies (`{"type":"error","error":{"type","message"},"request_id"}`) and
//! stream `error` events -> typed errors.

use super::super::retry_after;
use crate::api::{Error, ErrorKind};
use http::HeaderMap;
use serde::Deserialize;
use std::time::SystemTime;

/// The documented error envelope.
#[derive(Debug, Deserialize)]
pub(super) struct ErrorBody {
    pub(super) error: ErrorDetail,
    #[serde(default)]
    request_id: Option<String>,
}

/// The `error` object: a type from a documented set, and a message.
#[derive(Debug, Deserialize)]
pub(super) struct ErrorDetail {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: String,
}

/// Longest body excerpt quoted in an error when the body is not the documented JSON.
const EXCERPT_CHARS: usize = 200;

/// The kind an Anthropic error type means.
///
/// `request_too_large` (413) is the 32 MB HTTP body limit enforced before the model sees the
/// prompt, so it is `bad_request`, not `context_window_exceeded`; a too-long prompt arrives as
/// `invalid_request_error` with "prompt is too long". `billing_error` means the account cannot
/// pay, which trying again will not fix: `permission_denied`.
fn kind_of(error_type: &str, message: &str, status: Option<u16>) -> ErrorKind {
    match error_type {
        "invalid_request_error" if is_context_overflow(message) => ErrorKind::ContextWindowExceeded,
        "invalid_request_error" | "request_too_large" => ErrorKind::BadRequest,
        "authentication_error" => ErrorKind::Auth,
        "permission_error" | "billing_error" => ErrorKind::PermissionDenied,
        "not_found_error" => ErrorKind::NotFound,
        "rate_limit_error" => ErrorKind::RateLimited,
        "timeout_error" => ErrorKind::Timeout,
        "api_error" | "overloaded_error" => ErrorKind::Unavailable,
        _ => status.map_or(ErrorKind::Unavailable, status_kind),
    }
}

/// The kind an HTTP status means for Anthropic, whose 413 is the body-size limit.
fn status_kind(status: u16) -> ErrorKind {
    match status {
        413 => ErrorKind::BadRequest,
        s => ErrorKind::from_status(s),
    }
}

/// Whether an invalid-request message says the prompt does not fit the context window.
fn is_context_overflow(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("prompt is too long")
        || m.contains("exceed context limit")
        || m.contains("context window")
}

/// Builds the typed error from a parsed error object.
fn from_detail(
    provider: &str,
    detail: &ErrorDetail,
    request_id: Option<&str>,
    status: Option<u16>,
) -> Error {
    let mut message = if detail.message.is_empty() {
        detail.kind.clone()
    } else {
        detail.message.clone()
    };
    if let Some(id) = request_id {
        message.push_str(&format!(" (request id {id})"));
    }
    Error::new(kind_of(&detail.kind, &detail.message, status), message)
        .with_provider(provider)
        .with_code(&detail.kind)
}

/// Classifies a non-2xx answer.
pub(super) fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let err = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => from_detail(provider, &b.error, b.request_id.as_deref(), Some(status)),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let excerpt: String = text.trim().chars().take(EXCERPT_CHARS).collect();
            let message = if excerpt.is_empty() {
                format!("HTTP {status} with an empty body")
            } else {
                format!("HTTP {status}: {excerpt}")
            };
            Error::new(status_kind(status), message).with_provider(provider)
        }
    };
    err.with_status(status)
        .with_retry_after(retry_after(headers, SystemTime::now()))
}

/// Classifies an `error` event sent inside a 200 stream (no HTTP status of its own).
pub(super) fn stream_error(provider: &str, body: &ErrorBody) -> Error {
    from_detail(provider, &body.error, body.request_id.as_deref(), None)
}
