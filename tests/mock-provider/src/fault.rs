//! Scripted faults: what they contain, how they are parsed from a header or a model suffix,
//! and the queue that hands them out to matching requests.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A misbehaviour to apply to one or more requests; every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    /// HTTP status to answer with (with the provider's matching error body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Error kind to answer with (status defaults per kind).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<FaultError>,
    /// Seconds for the `retry-after` header (written as an integer when whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<f64>,
    /// Milliseconds for the `retry-after-ms` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// Sleep before sending the response headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Sleep between stream events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_delay_ms: Option<u64>,
    /// Close the connection without any response.
    #[serde(skip_serializing_if = "is_false")]
    pub reset: bool,
    /// Answer 200 with a truncated JSON body (streams: one invalid `data:` event).
    #[serde(skip_serializing_if = "is_false")]
    pub malformed: bool,
    /// Streams: drop the connection after this many content events; non-stream: after half the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut_after: Option<u64>,
    /// Bedrock streams: deliver `error` as an exception message inside the 200 stream, right
    /// after the first content event (`throttlingException`, ...), instead of an HTTP error.
    #[serde(skip_serializing_if = "is_false")]
    pub in_stream: bool,
    /// Prompt tokens reported as served from the provider's cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    /// Prompt tokens reported as written to the cache (Anthropic only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
    /// Completion tokens reported as reasoning/thinking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// How many requests a queued fault applies to (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Only requests for this model (suffix stripped) consume the queued fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_model: Option<String>,
    /// Only requests in this format (openai|azure|anthropic|gemini) consume the queued fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_provider: Option<String>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The error kinds a fault can produce, each rendered in the provider's own error format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultError {
    /// 429 rate limit.
    RateLimit,
    /// Anthropic 529 `overloaded_error`; 503 elsewhere.
    Overloaded,
    /// 500 internal error.
    Server,
    /// 503 service unavailable.
    Unavailable,
    /// 401 authentication failure.
    Auth,
    /// 403 permission denied.
    Permission,
    /// 404 model or deployment not found.
    NotFound,
    /// 400 generic invalid request.
    BadRequest,
    /// 400 prompt longer than the context window.
    ContextWindow,
    /// Content filtered (an HTTP error only on Azure).
    ContentFilter,
}

impl FaultError {
    /// The kind a bare `status` stands for, so a status alone gets a realistic body.
    pub fn from_status(status: u16) -> FaultError {
        match status {
            401 => FaultError::Auth,
            403 => FaultError::Permission,
            404 => FaultError::NotFound,
            429 => FaultError::RateLimit,
            529 => FaultError::Overloaded,
            502..=504 => FaultError::Unavailable,
            500..=599 => FaultError::Server,
            _ => FaultError::BadRequest,
        }
    }

    /// The status this kind answers with when the fault gives none (`overloaded` is per provider).
    pub fn default_status(self, anthropic: bool) -> u16 {
        match self {
            FaultError::RateLimit => 429,
            FaultError::Overloaded if anthropic => 529,
            FaultError::Overloaded | FaultError::Unavailable => 503,
            FaultError::Server => 500,
            FaultError::Auth => 401,
            FaultError::Permission => 403,
            FaultError::NotFound => 404,
            FaultError::BadRequest | FaultError::ContextWindow | FaultError::ContentFilter => 400,
        }
    }
}

impl Fault {
    /// Parses the JSON object of an `x-mock-fault` header.
    pub fn from_header(text: &str) -> Result<Fault, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid x-mock-fault header: {e}"))
    }

    /// Parses a model-name suffix `k=v,k=v`; values are read as JSON when they parse, else as strings.
    pub fn from_suffix(suffix: &str) -> Result<Fault, String> {
        let mut map = Map::new();
        for pair in suffix.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, raw) = pair
                .split_once('=')
                .ok_or_else(|| format!("invalid model fault suffix part {pair:?} (want k=v)"))?;
            let value = serde_json::from_str::<Value>(raw.trim())
                .unwrap_or_else(|_| Value::String(raw.trim().to_string()));
            map.insert(key.trim().to_string(), value);
        }
        serde_json::from_value(Value::Object(map))
            .map_err(|e| format!("invalid model fault suffix {suffix:?}: {e}"))
    }

    /// The error kind this fault answers with, if it is an error at all.
    pub fn error_kind(&self) -> Option<FaultError> {
        self.error
            .or_else(|| self.status.map(FaultError::from_status))
    }

    fn matches(&self, provider: &str, model: &str) -> bool {
        self.match_model.as_deref().is_none_or(|m| m == model)
            && self.match_provider.as_deref().is_none_or(|p| p == provider)
    }
}

/// Splits `model!k=v,...` into the model name and the fault suffix.
pub fn split_model(raw: &str) -> (&str, Option<&str>) {
    match raw.split_once('!') {
        Some((model, suffix)) => (model, Some(suffix)),
        None => (raw, None),
    }
}

/// Faults queued by tests, handed out in order to the first matching requests.
#[derive(Debug, Default)]
pub(crate) struct ScriptQueue {
    faults: VecDeque<Fault>,
}

impl ScriptQueue {
    pub(crate) fn push(&mut self, faults: Vec<Fault>) {
        self.faults.extend(faults);
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    pub(crate) fn snapshot(&self) -> Vec<Fault> {
        self.faults.iter().cloned().collect()
    }

    /// Takes one use of the first fault matching this request, removing it when used up.
    pub(crate) fn take(&mut self, provider: &str, model: &str) -> Option<Fault> {
        self.take_where(|f| f.matches(provider, model))
    }

    /// Like [`ScriptQueue::take`], but only faults whose `match_provider` names `provider`
    /// (the OAuth token endpoint, whose requests must not use up faults meant for the calls).
    pub(crate) fn take_named(&mut self, provider: &str) -> Option<Fault> {
        self.take_where(|f| f.match_provider.as_deref() == Some(provider))
    }

    fn take_where(&mut self, wanted: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let index = self.faults.iter().position(wanted)?;
        let remaining = self.faults[index].times.unwrap_or(1);
        if remaining <= 1 {
            self.faults.remove(index)
        } else {
            let fault = &mut self.faults[index];
            fault.times = Some(remaining - 1);
            Some(fault.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_values_are_typed() {
        let fault = Fault::from_suffix("status=429,retry_after=1.5,error=rate_limit,reset=true")
            .expect("valid suffix");
        assert_eq!(fault.status, Some(429));
        assert_eq!(fault.retry_after, Some(1.5));
        assert_eq!(fault.error, Some(FaultError::RateLimit));
        assert!(fault.reset);
    }

    #[test]
    fn unknown_suffix_field_is_an_error() {
        let err = Fault::from_suffix("stauts=429").expect_err("typo must be rejected");
        assert!(err.contains("stauts"), "{err}");
    }

    #[test]
    fn queue_matches_and_counts_down() {
        let mut queue = ScriptQueue::default();
        queue.push(vec![
            Fault {
                status: Some(500),
                match_provider: Some("anthropic".into()),
                ..Fault::default()
            },
            Fault {
                status: Some(429),
                times: Some(2),
                ..Fault::default()
            },
        ]);
        assert_eq!(queue.take("openai", "m").and_then(|f| f.status), Some(429));
        assert_eq!(
            queue.take("anthropic", "m").and_then(|f| f.status),
            Some(500)
        );
        assert_eq!(
            queue.take("anthropic", "m").and_then(|f| f.status),
            Some(429)
        );
        assert_eq!(queue.take("openai", "m"), None);
    }

    #[test]
    fn status_alone_picks_a_kind() {
        assert_eq!(FaultError::from_status(529), FaultError::Overloaded);
        assert_eq!(FaultError::from_status(503), FaultError::Unavailable);
        assert_eq!(FaultError::from_status(422), FaultError::BadRequest);
        assert_eq!(FaultError::Overloaded.default_status(true), 529);
        assert_eq!(FaultError::Overloaded.default_status(false), 503);
    }
}
