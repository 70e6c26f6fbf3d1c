//! Classifying OpenAI-shaped error answers into typed errors.
//!
//! OpenAI answers `{"error":{"message","type","param","code"}}`; Azure adds `innererror` and
//! may send `code` as a status string (`"429"`); compatible hosts vary (`{"error":"text"}`,
//! a top-level `message`, numeric codes). The HTTP status gives the kind; the code refines
//! it where the status is too coarse (a 400 that is really a context overflow).

use crate::api::{Error, ErrorKind};
use crate::providers::retry_after;
use http::HeaderMap;
use serde_json::Value;
use std::time::SystemTime;

/// The longest excerpt of a non-JSON error body kept as the message.
const EXCERPT_CHARS: usize = 200;

/// How much of a non-JSON body is looked at to make the excerpt.
const EXCERPT_SCAN_BYTES: usize = 4096;

/// The typed error for a non-2xx answer.
pub(crate) fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let details = match serde_json::from_slice::<Value>(body) {
        Ok(v) => Details::from_body(&v),
        Err(_) => None,
    };
    let mut err = match details {
        Some(d) => d.into_error(provider, Some(status)),
        None => Error::new(ErrorKind::from_status(status), excerpt(status, body))
            .with_provider(provider)
            .with_status(status),
    };
    if matches!(err.kind, ErrorKind::RateLimited | ErrorKind::Unavailable) {
        err = err.with_retry_after(retry_after(headers, SystemTime::now()));
    }
    err
}

/// The typed error for an error object found inside a 2xx body or a stream event (no status).
pub(crate) fn error_from_value(provider: &str, status: Option<u16>, error: &Value) -> Error {
    Details::from_error_field(error, None).into_error(provider, status)
}

/// What a provider said about a failure.
#[derive(Debug, Default)]
struct Details {
    message: String,
    kind_type: Option<String>,
    code: Option<String>,
    param: Option<String>,
    /// Azure's `innererror.code` (`ResponsibleAIPolicyViolation`).
    inner_code: Option<String>,
}

impl Details {
    /// Reads a JSON error body in any of the shapes OpenAI-compatible hosts use.
    fn from_body(body: &Value) -> Option<Details> {
        let obj = body.as_object()?;
        match obj.get("error") {
            Some(e) if !e.is_null() => Some(Details::from_error_field(e, Some(body))),
            _ => {
                let message = obj
                    .get("message")
                    .or_else(|| obj.get("detail"))
                    .and_then(Value::as_str)?;
                Some(Details {
                    message: message.to_string(),
                    kind_type: text(obj.get("type")),
                    code: text(obj.get("code")),
                    param: text(obj.get("param")),
                    inner_code: None,
                })
            }
        }
    }

    /// Reads the `error` field: an object (OpenAI, Azure) or a bare string (Ollama).
    fn from_error_field(error: &Value, envelope: Option<&Value>) -> Details {
        match error {
            Value::Object(e) => Details {
                message: e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                kind_type: text(e.get("type")),
                code: text(e.get("code")),
                param: text(e.get("param")),
                inner_code: text(e.get("innererror").and_then(|i| i.get("code"))),
            },
            Value::String(s) => Details {
                message: s.clone(),
                kind_type: text(envelope.and_then(|b| b.get("type"))),
                code: text(envelope.and_then(|b| b.get("code"))),
                ..Details::default()
            },
            other => Details {
                message: other.to_string(),
                ..Details::default()
            },
        }
    }

    fn into_error(self, provider: &str, status: Option<u16>) -> Error {
        let kind = self.kind(status);
        let message = if self.message.trim().is_empty() {
            match status {
                Some(s) => format!("the provider answered HTTP {s} without a message"),
                None => "the provider reported an error without a message".to_string(),
            }
        } else {
            self.message
        };
        let mut err = Error::new(kind, message).with_provider(provider);
        if let Some(s) = status {
            err = err.with_status(s);
        }
        // The code names the failure best; a bare numeric code (Azure's "429") says less
        // than the type, when there is one.
        let numeric = |c: &String| c.bytes().all(|b| b.is_ascii_digit());
        let code = match (self.code, self.kind_type) {
            (Some(c), Some(t)) if numeric(&c) => Some(t),
            (Some(c), _) => Some(c),
            (None, t) => t,
        };
        if let Some(c) = code {
            err = err.with_code(c);
        }
        if let Some(p) = self.param {
            err = err.with_param(p);
        }
        err
    }

    /// The kind: the status's, refined by the provider's code where the status is coarse.
    fn kind(&self, status: Option<u16>) -> ErrorKind {
        let names = [
            self.code.as_deref(),
            self.kind_type.as_deref(),
            self.inner_code.as_deref(),
        ];
        let is = |wanted: &[&str]| names.iter().flatten().any(|n| wanted.contains(n));
        let client_side = status.is_none_or(|s| (400..500).contains(&s));
        if client_side {
            if is(&["context_length_exceeded"])
                || self
                    .message
                    .to_ascii_lowercase()
                    .contains("maximum context length")
            {
                return ErrorKind::ContextWindowExceeded;
            }
            if is(&[
                "content_filter",
                "content_policy_violation",
                "ResponsibleAIPolicyViolation",
            ]) {
                return ErrorKind::ContentFiltered;
            }
            if is(&["invalid_api_key"]) {
                return ErrorKind::Auth;
            }
            // Billing, not a rate: still "come back later" (or elsewhere) for the caller.
            if is(&["insufficient_quota"]) {
                return ErrorKind::RateLimited;
            }
        }
        if let Some(s) = status {
            return ErrorKind::from_status(s);
        }
        // No HTTP status (an error inside a stream or a 2xx body): a numeric code is one.
        if let Some(s) = self
            .code
            .as_deref()
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|s| (400..600).contains(s))
        {
            return ErrorKind::from_status(s);
        }
        if is(&["invalid_request_error"]) {
            ErrorKind::BadRequest
        } else if is(&["authentication_error"]) {
            ErrorKind::Auth
        } else if is(&["permission_error"]) {
            ErrorKind::PermissionDenied
        } else if is(&["not_found_error", "model_not_found"]) {
            ErrorKind::NotFound
        } else if is(&[
            "rate_limit_exceeded",
            "rate_limit_error",
            "tokens",
            "requests",
        ]) {
            ErrorKind::RateLimited
        } else {
            // server_error, overloaded_error and anything unknown: the provider failed.
            ErrorKind::Unavailable
        }
    }
}

/// A string or number field as text; null and other shapes as absent.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A short, readable excerpt of a non-JSON body (an HTML page from a proxy, plain text).
fn excerpt(status: u16, body: &[u8]) -> String {
    let head = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_SCAN_BYTES)]);
    let trimmed = head.trim_start();
    let mut visible = String::with_capacity(trimmed.len().min(EXCERPT_SCAN_BYTES));
    if trimmed.starts_with('<') {
        // Markup: keep the text between tags, which is what a person would read.
        let mut in_tag = false;
        for ch in trimmed.chars() {
            match ch {
                '<' => {
                    in_tag = true;
                    visible.push(' ');
                }
                '>' => in_tag = false,
                c if !in_tag => visible.push(c),
                _ => {}
            }
        }
    } else {
        visible.push_str(trimmed);
    }
    let words: Vec<&str> = visible.split_whitespace().collect();
    if words.is_empty() {
        return format!("the provider answered HTTP {status} with an empty body");
    }
    let joined = words.join(" ");
    if joined.chars().count() <= EXCERPT_CHARS {
        return joined;
    }
    let mut cut: String = joined.chars().take(EXCERPT_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_strips_markup_and_truncates() {
        let html = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(excerpt(502, html), "502 Bad Gateway 502 Bad Gateway");
        let long = "x".repeat(1000);
        let e = excerpt(500, long.as_bytes());
        assert_eq!(e.chars().count(), EXCERPT_CHARS);
        assert!(e.ends_with('…'));
        assert_eq!(
            excerpt(503, b"  \n "),
            "the provider answered HTTP 503 with an empty body"
        );
    }

    #[test]
    fn numeric_code_without_status_gives_the_kind() {
        let e = error_from_value(
            "openrouter",
            None,
            &serde_json::json!({"code": 429, "message": "slow down"}),
        );
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.code.as_deref(), Some("429"));
        assert_eq!(e.status, None);
    }

    #[test]
    fn bare_string_error_and_top_level_message() {
        let h = HeaderMap::new();
        let e = parse_error(
            "ollama",
            404,
            &h,
            br#"{"error":"model 'llama9' not found"}"#,
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.message, "model 'llama9' not found");
        let e = parse_error(
            "vllm",
            400,
            &h,
            br#"{"object":"error","message":"bad temperature","type":"BadRequestError","param":null,"code":400}"#,
        );
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert_eq!(e.message, "bad temperature");
        assert_eq!(e.code.as_deref(), Some("BadRequestError"));
    }
}
