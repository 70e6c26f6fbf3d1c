//! What the gateway did for one request, attached to its response.

use super::ErrorKind;
use serde::{Deserialize, Serialize};

/// The gateway's own facts about a request: who served it, how, and what it cost in time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// The provider (config name) that served the answer.
    pub provider: String,
    /// The model id sent to the provider.
    pub provider_model: String,
    /// The model name the caller asked for.
    pub model: String,
    /// Every attempt made, in order; the last one served the answer.
    pub attempts: Vec<AttemptFact>,
    /// Wall time from the call to the answer (to the end of the stream for streams), ms.
    pub latency_ms: f64,
    /// For streams: time to the first chunk, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
    /// Time spent inside the gateway itself: total minus time waiting on providers, µs.
    pub overhead_us: f64,
}

/// One try at one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptFact {
    pub provider: String,
    pub provider_model: String,
    /// `"status": "ok"`, or `"status": "error"` with `"error": <kind>`.
    #[serde(flatten)]
    pub outcome: AttemptOutcome,
    /// Time waiting on this provider, ms.
    pub latency_ms: f64,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "error", rename_all = "snake_case")]
pub enum AttemptOutcome {
    Ok,
    Error(ErrorKind),
}
