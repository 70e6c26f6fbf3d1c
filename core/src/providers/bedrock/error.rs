//! Bedrock errors -> typed errors: HTTP answers (rest-json: the error code in the
//! `x-amzn-ErrorType` header or the body's `__type`/`code`, the text in `message`) and the
//! exceptions a ConverseStream sends inside a 200 stream.

use super::super::retry_after;
use crate::api::{Error, ErrorKind};
use http::HeaderMap;
use serde::Deserialize;
use std::time::SystemTime;

/// Longest body excerpt quoted when the body is not the documented JSON.
const EXCERPT_CHARS: usize = 200;

/// The error body: `{"message": "..."}` (some services spell it `Message`, with `__type`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ErrorBody {
    #[serde(default, alias = "Message")]
    pub(super) message: Option<String>,
    #[serde(default, rename = "__type")]
    type_: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

/// `ThrottlingException:http://internal.amazon.com/...` or `aws.protocoltests#FooError` ->
/// the bare shape name.
fn bare_code(raw: &str) -> &str {
    let raw = raw.split(':').next().unwrap_or(raw);
    raw.rsplit('#').next().unwrap_or(raw).trim()
}

/// Whether a validation message says the prompt does not fit the model's context window.
fn is_context_overflow(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("too long")
        || m.contains("too many input tokens")
        || m.contains("too many tokens")
        || m.contains("context window")
        || m.contains("context length")
        || m.contains("maximum context")
}

/// The kind an error or exception shape means (matched case-insensitively: the stream uses
/// `throttlingException`, HTTP answers `ThrottlingException`).
pub(super) fn kind_of(code: &str, message: &str, status: Option<u16>) -> ErrorKind {
    match code.to_ascii_lowercase().as_str() {
        "throttlingexception" | "servicequotaexceededexception" | "toomanyrequestsexception" => {
            ErrorKind::RateLimited
        }
        "validationexception" if is_context_overflow(message) => ErrorKind::ContextWindowExceeded,
        "validationexception" | "serializationexception" => ErrorKind::BadRequest,
        "accessdeniedexception" => ErrorKind::PermissionDenied,
        "unrecognizedclientexception"
        | "invalidsignatureexception"
        | "incompletesignatureexception"
        | "missingauthenticationtokenexception"
        | "expiredtokenexception"
        | "invalidclienttokenid" => ErrorKind::Auth,
        "resourcenotfoundexception" => ErrorKind::NotFound,
        "modeltimeoutexception" => ErrorKind::Timeout,
        "internalserverexception"
        | "serviceunavailableexception"
        | "modelstreamerrorexception"
        | "modelerrorexception"
        | "modelnotreadyexception"
        | "internalfailure" => ErrorKind::Unavailable,
        _ => status.map_or(ErrorKind::Unavailable, ErrorKind::from_status),
    }
}

/// Classifies a non-2xx answer.
pub(super) fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let header_code = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(bare_code)
        .filter(|c| !c.is_empty());
    let body_code = parsed
        .as_ref()
        .and_then(|b| b.type_.as_deref().or(b.code.as_deref()))
        .map(bare_code);
    let code = header_code.or(body_code).map(str::to_string);
    let message = parsed.and_then(|b| b.message).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let excerpt: String = text.trim().chars().take(EXCERPT_CHARS).collect();
        if excerpt.is_empty() {
            format!("HTTP {status} with an empty body")
        } else {
            format!("HTTP {status}: {excerpt}")
        }
    });
    let kind = match &code {
        Some(c) => kind_of(c, &message, Some(status)),
        None => ErrorKind::from_status(status),
    };
    let mut err = Error::new(kind, message)
        .with_provider(provider)
        .with_status(status)
        .with_retry_after(retry_after(headers, SystemTime::now()));
    if let Some(c) = code {
        err = err.with_code(c);
    }
    err
}

/// Classifies an exception event (`throttlingException`, ...) sent inside a 200 stream.
pub(super) fn stream_exception(provider: &str, name: &str, data: &str) -> Error {
    let body = serde_json::from_str::<ErrorBody>(data).unwrap_or_default();
    let message = body
        .message
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("the stream ended with {name}"));
    Error::new(kind_of(name, &message, None), message)
        .with_provider(provider)
        .with_code(name)
}
