//! The one error type every stage returns, and the kinds every binding maps.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// What went wrong, in terms that say what the caller should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The provider rejected the credentials (401).
    Auth,
    /// The credentials are valid but may not use this resource (403).
    PermissionDenied,
    /// The model or resource does not exist (404), at the provider or in the gateway's config.
    NotFound,
    /// The provider is rate limiting; `retry_after` says when to come back.
    RateLimited,
    /// No answer within the deadline (connect, first byte or total).
    Timeout,
    /// The connection failed or was cut.
    Connection,
    /// The request is invalid; `param` names the field.
    BadRequest,
    /// The prompt plus the output cap exceed the model's context window.
    ContextWindowExceeded,
    /// A safety filter blocked the prompt or the answer.
    ContentFiltered,
    /// The provider is down or overloaded (5xx, 529).
    Unavailable,
    /// The provider answered something that is not its documented wire format.
    InvalidResponse,
    /// A spending budget would be exceeded.
    BudgetExceeded,
    /// A gateway rate limit (not the provider's) refused the request.
    RateLimitExceeded,
    /// A policy (allow-list, guardrail) refused the request.
    PolicyDenied,
    /// The gateway configuration is invalid.
    Config,
    /// The caller cancelled the request.
    Cancelled,
    /// A bug inside switchpoint was caught before it crossed a language boundary.
    Internal,
}

impl ErrorKind {
    /// Every kind, for bindings that generate one exception class per kind.
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::Auth,
        ErrorKind::PermissionDenied,
        ErrorKind::NotFound,
        ErrorKind::RateLimited,
        ErrorKind::Timeout,
        ErrorKind::Connection,
        ErrorKind::BadRequest,
        ErrorKind::ContextWindowExceeded,
        ErrorKind::ContentFiltered,
        ErrorKind::Unavailable,
        ErrorKind::InvalidResponse,
        ErrorKind::BudgetExceeded,
        ErrorKind::RateLimitExceeded,
        ErrorKind::PolicyDenied,
        ErrorKind::Config,
        ErrorKind::Cancelled,
        ErrorKind::Internal,
    ];

    /// The stable snake_case name used in every binding and in scenarios.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::ContextWindowExceeded => "context_window_exceeded",
            ErrorKind::ContentFiltered => "content_filtered",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::InvalidResponse => "invalid_response",
            ErrorKind::BudgetExceeded => "budget_exceeded",
            ErrorKind::RateLimitExceeded => "rate_limit_exceeded",
            ErrorKind::PolicyDenied => "policy_denied",
            ErrorKind::Config => "config",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal",
        }
    }

    /// Whether trying again (here or on another target) may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::Timeout
                | ErrorKind::Connection
                | ErrorKind::Unavailable
        )
    }

    /// The kind an HTTP status means when the body says nothing more specific.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 | 422 => ErrorKind::BadRequest,
            401 => ErrorKind::Auth,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            408 => ErrorKind::Timeout,
            409 | 500..=599 => ErrorKind::Unavailable,
            413 => ErrorKind::ContextWindowExceeded,
            429 => ErrorKind::RateLimited,
            _ => ErrorKind::InvalidResponse,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed failure with the context a caller needs to act on it.
///
/// Messages never contain secrets: adapters build them from provider error bodies and field
/// names, and config errors print references (`env:NAME`), never resolved keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// The provider that produced the error, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The provider's HTTP status, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// When to try again, from Retry-After or the provider's reset headers.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub retry_after: Option<Duration>,
    /// The request or config field at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The provider's own error code or type (`rate_limit_error`, `RESOURCE_EXHAUSTED`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Error {
    /// An error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            provider: None,
            status: None,
            retry_after: None,
            param: None,
            code: None,
        }
    }

    /// An invalid request naming the parameter at fault.
    pub fn bad_request(param: impl Into<String>, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::BadRequest, message).with_param(param)
    }

    /// A provider answer that does not follow its wire format.
    pub fn invalid_response(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidResponse, message)
    }

    /// A configuration error naming the field path.
    pub fn config(param: impl Into<String>, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message).with_param(param)
    }

    /// Attaches the provider's name.
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Attaches the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Attaches when to retry.
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    /// Attaches the field at fault.
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Attaches the provider's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Whether trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(p) = &self.provider {
            write!(f, " (provider {p}")?;
            if let Some(s) = self.status {
                write!(f, ", HTTP {s}")?;
            }
            f.write_str(")")?;
        } else if let Some(s) = self.status {
            write!(f, " (HTTP {s})")?;
        }
        if let Some(r) = self.retry_after {
            write!(f, "; retry after {:.3}s", r.as_secs_f64())?;
        }
        Ok(())
    }
}

/// `retry_after` on the wire: seconds as a float, so every language reads it the same way.
mod opt_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_f64(d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let v = Option::<f64>::deserialize(d)?;
        Ok(v.filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64))
    }
}
