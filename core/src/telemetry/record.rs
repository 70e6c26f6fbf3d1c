//! The request record: one per request, what every observer receives.

use super::cost::{Cost, TokenSplit};
use crate::api::{AttemptFact, ErrorKind, FinishReason};
use rust_decimal::Decimal;
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Everything the gateway knows about one finished request. Never holds a secret: the
/// caller is identified by a key *id*, user, team and tier; prompt and answer text are only
/// present when `telemetry.record_content` is on, and then redacted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RequestRecord {
    /// The gateway's id for the request (the response id when there is one).
    pub id: String,
    /// `chat`, `chat_stream`, `embed`, `responses` or `responses_stream`.
    pub call: &'static str,
    /// Unix time the call started and ended, milliseconds.
    pub started_at_ms: u64,
    pub ended_at_ms: u64,
    /// Wall time of the whole call, ms (to the end of the stream for streams).
    pub latency_ms: f64,
    /// Time to the first streamed chunk, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
    /// The model name the caller asked for.
    pub model: String,
    /// The route that served it (the configured model name the request resolved to).
    pub route: String,
    /// The provider (config name) and provider model id that answered (or failed last).
    pub provider: String,
    pub provider_model: String,
    /// The provider's preset or wire-format name (`openai`, `groq`, `anthropic`, ...), for
    /// pricing tables and the `gen_ai.provider.name` span attribute.
    pub provider_kind: String,
    /// The response's id and model as the provider reported them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_model: Option<String>,
    /// Why each choice stopped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub finish_reasons: Vec<FinishReason>,
    /// Every attempt, in order.
    pub attempts: Vec<AttemptFact>,
    pub tokens: TokenSplit,
    /// What the call cost; `None` when the model has no price (the record says so rather
    /// than pretending it was free).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    pub cache: CacheOutcome,
    pub caller: Caller,
    pub tags: Vec<String>,
    /// `"status": "ok"`, or `"status": "error"` with `"error_kind"`.
    #[serde(flatten)]
    pub status: Status,
    /// Prompt and answer text, only with `telemetry.record_content: true` (redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<RecordedContent>,
}

/// Who asked. Never the key itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Caller {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
}

/// How the cache took part in the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CacheOutcome {
    pub status: CacheStatus,
    /// For hits: what the answer cost when it was first made, at today's prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_usd: Option<Decimal>,
}

/// The cache's part in one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheStatus {
    /// No cache configured for this route.
    #[default]
    Off,
    /// Looked up, not found; the answer was stored (unless `no_store`).
    Miss,
    /// Answered from the exact cache.
    Hit,
    /// Answered from the semantic cache.
    SemanticHit,
    /// Joined an identical request already in flight (no upstream call of its own).
    Coalesced,
    /// The caller skipped the read (`no_read` or `refresh`).
    Bypass,
}

impl CacheStatus {
    /// The label used in metrics and facts.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Off => "off",
            CacheStatus::Miss => "miss",
            CacheStatus::Hit => "hit",
            CacheStatus::SemanticHit => "semantic_hit",
            CacheStatus::Coalesced => "coalesced",
            CacheStatus::Bypass => "bypass",
        }
    }

    /// Whether the answer came without an upstream call of this request's own.
    pub fn is_hit(self) -> bool {
        matches!(
            self,
            CacheStatus::Hit | CacheStatus::SemanticHit | CacheStatus::Coalesced
        )
    }
}

/// How the request ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "error_kind", rename_all = "snake_case")]
pub enum Status {
    #[default]
    Ok,
    Error(ErrorKind),
}

impl Status {
    /// `ok` or the error kind's name, for labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error(k) => k.as_str(),
        }
    }
}

/// Prompt and answer text kept in a record (after redaction).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordedContent {
    pub prompt: String,
    pub answer: String,
}

/// Milliseconds since the Unix epoch for a wall-clock time (0 before 1970).
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The wall-clock time of a Unix millisecond stamp.
pub fn from_unix_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

impl RequestRecord {
    /// Total USD cost, zero when unpriced.
    pub fn cost_usd(&self) -> Decimal {
        self.cost.as_ref().map_or(Decimal::ZERO, |c| c.total)
    }
}
