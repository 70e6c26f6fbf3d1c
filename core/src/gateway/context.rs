//! Who is asking, and per-request overrides.

use crate::api::JsonMap;
use crate::config::Secret;
use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// The caller's identity, tags and per-request overrides, passed beside every request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestContext {
    /// A virtual key the gateway issued (used by policies once they exist).
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// The end user, for per-user accounting.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    /// The caller's tier (`free`, `pro`, ...), for routing rules.
    #[serde(default)]
    pub tier: Option<String>,
    /// Workload labels (`summarize`, `chat`, ...).
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub metadata: JsonMap,
    /// An overall deadline for this call, seconds; the sooner of this and the provider's.
    #[serde(default, deserialize_with = "secs")]
    pub timeout: Option<Duration>,
    /// Cache controls for this request: `no_read`, `no_store`, `ttl`, `refresh`, `namespace`.
    #[serde(default)]
    pub cache: crate::cache::CacheControl,
}

impl RequestContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the overall deadline.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Parses a context from JSON text (the C ABI and scenarios pass it this way).
    pub fn from_json(text: &str) -> Result<Self, crate::api::Error> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        crate::api::from_json_str(text)
    }
}

fn secs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    match Option::<f64>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(serde::de::Error::custom(format!(
            "timeout must be a positive number of seconds, got {s}"
        ))),
    }
}
