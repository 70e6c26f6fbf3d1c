//! Cohere error bodies (`{"message": "..."}`, sometimes with an `id`) -> typed errors.
//!
//! The status decides the kind (docs.cohere.com/reference/errors and the v2 chat reference):
//! 400 and 422 bad_request, except "too many tokens" about the prompt ->
//! context_window_exceeded; 401 and 498 (invalid token) auth; 402 (payment required)
//! permission_denied (the account cannot pay; retrying will not help); 403 permission_denied;
//! 404 not_found; 429 rate_limited with Retry-After; 499 (request cancelled before it
//! finished) connection, as the call may succeed when made again; 501 (not implemented for
//! this model) bad_request; 504 timeout; other 5xx unavailable.

use crate::api::{Error, ErrorKind};
use crate::providers::retry_after;
use http::HeaderMap;
use serde_json::Value;
use std::time::SystemTime;

/// How much of an unreadable body an error message quotes.
const EXCERPT_CHARS: usize = 200;

/// The kind a Cohere status means.
fn status_kind(status: u16) -> ErrorKind {
    match status {
        400 | 422 | 501 => ErrorKind::BadRequest,
        401 | 498 => ErrorKind::Auth,
        402 | 403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::RateLimited,
        499 => ErrorKind::Connection,
        504 => ErrorKind::Timeout,
        s => ErrorKind::from_status(s),
    }
}

/// Whether a bad-request message says the prompt does not fit the model.
fn is_context_overflow(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    (m.contains("too many tokens") && !m.contains("max tokens")) || m.contains("context length")
}

/// Classifies a non-2xx answer.
pub(super) fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let message = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        v.get("message")
            .or_else(|| v.get("error").and_then(|e| e.get("message").or(Some(e))))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let mut kind = status_kind(status);
    let message = match message.filter(|m| !m.trim().is_empty()) {
        Some(m) => {
            if kind == ErrorKind::BadRequest && is_context_overflow(&m) {
                kind = ErrorKind::ContextWindowExceeded;
            }
            m
        }
        None => {
            let text = excerpt(body);
            if text.is_empty() {
                format!("Cohere answered HTTP {status} with an empty body")
            } else {
                format!("Cohere answered HTTP {status}: {text}")
            }
        }
    };
    Error::new(kind, message)
        .with_provider(provider)
        .with_status(status)
        .with_retry_after(retry_after(headers, SystemTime::now()))
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

    #[test]
    fn statuses_map_to_kinds() {
        let h = HeaderMap::new();
        let kind = |s: u16| parse_error("co", s, &h, br#"{"message":"x"}"#).kind;
        assert_eq!(kind(400), ErrorKind::BadRequest);
        assert_eq!(kind(422), ErrorKind::BadRequest);
        assert_eq!(kind(401), ErrorKind::Auth);
        assert_eq!(kind(498), ErrorKind::Auth);
        assert_eq!(kind(402), ErrorKind::PermissionDenied);
        assert_eq!(kind(404), ErrorKind::NotFound);
        assert_eq!(kind(429), ErrorKind::RateLimited);
        assert_eq!(kind(499), ErrorKind::Connection);
        assert_eq!(kind(500), ErrorKind::Unavailable);
        assert_eq!(kind(503), ErrorKind::Unavailable);
        assert_eq!(kind(504), ErrorKind::Timeout);
    }

    #[test]
    fn prompt_overflow_is_context_window_but_max_tokens_is_not() {
        let h = HeaderMap::new();
        let e = parse_error(
            "co",
            400,
            &h,
            br#"{"message":"too many tokens: size limit exceeded by 11326 tokens. Try using shorter or fewer inputs."}"#,
        );
        assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
        let e = parse_error(
            "co",
            400,
            &h,
            br#"{"message":"too many tokens: max tokens must be less than or equal to 4096, the maximum output for this model - received 8192."}"#,
        );
        assert_eq!(e.kind, ErrorKind::BadRequest);
    }

    #[test]
    fn unreadable_bodies_are_quoted() {
        let h = HeaderMap::new();
        let e = parse_error("co", 502, &h, b"<html>bad gateway</html>");
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert_eq!(
            e.message,
            "Cohere answered HTTP 502: <html>bad gateway</html>"
        );
        assert_eq!(e.status, Some(502));
    }
}
