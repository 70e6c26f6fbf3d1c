//! Gemini error bodies (`{"error": google.rpc.Status}`) as typed errors.
//!
//! The `status` string decides the kind (ai.google.dev/gemini-api/docs/troubleshooting):
//! `INVALID_ARGUMENT`, `FAILED_PRECONDITION`, `OUT_OF_RANGE` -> bad_request, except an
//! invalid key (`API_KEY_INVALID` in an `ErrorInfo` detail, sent as a 400) -> auth and
//! "input token count ... exceeds the maximum" -> context_window_exceeded;
//! `UNAUTHENTICATED` -> auth; `PERMISSION_DENIED` -> permission_denied; `NOT_FOUND` ->
//! not_found; `RESOURCE_EXHAUSTED` -> rate_limited; `INTERNAL`, `UNAVAILABLE` ->
//! unavailable; `DEADLINE_EXCEEDED` -> timeout; anything else by HTTP status.
//! The code is the `status` string; `retry_after` comes from the headers, else from a
//! `google.rpc.RetryInfo` detail's `retryDelay` (`"30s"`); `param` from a
//! `google.rpc.BadRequest` detail's first field violation. Stream endpoints sometimes wrap
//! the body in a JSON array (`[{"error": ...}]`); both forms are read.

use crate::api::{Error, ErrorKind};
use crate::providers::retry_after;
use http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// How much of an unreadable body an error message quotes.
const EXCERPT_CHARS: usize = 200;

/// A `google.rpc.Status`.
#[derive(Debug, Deserialize)]
struct WireStatus {
    code: Option<i64>,
    message: Option<String>,
    status: Option<String>,
    #[serde(default)]
    details: Vec<Value>,
}

/// Classifies a non-2xx answer.
pub(super) fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| wire_status(&v));
    let header_delay = retry_after(headers, SystemTime::now());
    match parsed {
        Some(s) => from_status(&s, status)
            .with_status(status)
            .with_retry_after(header_delay.or_else(|| retry_info(&s.details))),
        None => Error::new(
            ErrorKind::from_status(status),
            format!(
                "Gemini answered HTTP {status} with a body that is not its error format: {}",
                excerpt(body)
            ),
        )
        .with_status(status)
        .with_retry_after(header_delay),
    }
}

/// The typed error for an `{"error": ...}` object sent as a stream event; None when the
/// value is not one.
pub(super) fn stream_error(value: &Value) -> Option<Error> {
    let s = wire_status(value)?;
    let status = s
        .code
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..=599).contains(c))
        .unwrap_or(500);
    Some(
        from_status(&s, status)
            .with_status(status)
            .with_retry_after(retry_info(&s.details)),
    )
}

/// The `Status` inside `{"error": ...}` or `[{"error": ...}]`.
fn wire_status(value: &Value) -> Option<WireStatus> {
    let envelope = match value {
        Value::Array(items) => items.first()?,
        other => other,
    };
    let inner = envelope.get("error")?;
    if !inner.is_object() {
        return None;
    }
    serde_json::from_value(inner.clone()).ok()
}

/// The error a `Status` describes (kind rules in the module doc).
fn from_status(s: &WireStatus, http_status: u16) -> Error {
    let message = s
        .message
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("Gemini answered HTTP {http_status}"));
    let kind = match s.status.as_deref() {
        Some("INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE") => {
            refine_bad_request(&message, &s.details, ErrorKind::BadRequest)
        }
        Some("UNAUTHENTICATED") => ErrorKind::Auth,
        Some("PERMISSION_DENIED") => ErrorKind::PermissionDenied,
        Some("NOT_FOUND") => ErrorKind::NotFound,
        Some("RESOURCE_EXHAUSTED") => ErrorKind::RateLimited,
        Some("INTERNAL" | "UNAVAILABLE") => ErrorKind::Unavailable,
        Some("DEADLINE_EXCEEDED") => ErrorKind::Timeout,
        _ => refine_bad_request(&message, &s.details, ErrorKind::from_status(http_status)),
    };
    let mut err = Error::new(kind, message);
    if let Some(code) = &s.status {
        err = err.with_code(code);
    }
    if let Some(field) = field_violation(&s.details) {
        err = err.with_param(field);
    }
    err
}

/// A bad request that is really an invalid key or an over-long prompt.
fn refine_bad_request(message: &str, details: &[Value], kind: ErrorKind) -> ErrorKind {
    if kind != ErrorKind::BadRequest {
        return kind;
    }
    let invalid_key = details.iter().any(|d| {
        detail_type(d).is_some_and(|t| t.ends_with("google.rpc.ErrorInfo"))
            && d.get("reason").and_then(Value::as_str) == Some("API_KEY_INVALID")
    });
    let lower = message.to_ascii_lowercase();
    if invalid_key {
        ErrorKind::Auth
    } else if lower.contains("token count") && lower.contains("exceeds the maximum") {
        ErrorKind::ContextWindowExceeded
    } else {
        ErrorKind::BadRequest
    }
}

/// A detail's `@type` URL.
fn detail_type(detail: &Value) -> Option<&str> {
    detail.get("@type").and_then(Value::as_str)
}

/// `retryDelay` of a `google.rpc.RetryInfo` detail (a proto3 JSON duration, `"30s"`, `"1.5s"`).
fn retry_info(details: &[Value]) -> Option<Duration> {
    details
        .iter()
        .filter(|d| detail_type(d).is_some_and(|t| t.ends_with("google.rpc.RetryInfo")))
        .filter_map(|d| d.get("retryDelay").and_then(Value::as_str))
        .filter_map(|s| s.trim().strip_suffix('s')?.parse::<f64>().ok())
        .find(|secs| secs.is_finite() && *secs >= 0.0)
        .map(Duration::from_secs_f64)
}

/// The first `fieldViolations[].field` of a `google.rpc.BadRequest` detail.
fn field_violation(details: &[Value]) -> Option<String> {
    details
        .iter()
        .filter(|d| detail_type(d).is_some_and(|t| t.ends_with("google.rpc.BadRequest")))
        .filter_map(|d| d.get("fieldViolations")?.as_array()?.first()?.get("field"))
        .filter_map(Value::as_str)
        .next()
        .map(str::to_string)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_retry_delays() {
        let d = |s: &str| {
            retry_info(&[
                json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": s}),
            ])
        };
        assert_eq!(d("30s"), Some(Duration::from_secs(30)));
        assert_eq!(d("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(d("soon"), None);
    }

    #[test]
    fn excerpts_are_short() {
        let long = "x".repeat(500);
        assert_eq!(excerpt(long.as_bytes()).chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(excerpt(b"  <html>  "), "<html>");
    }
}
