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
    /// The route that served the answer (after rules and fallbacks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Routes whose rules, defaults or fallbacks passed the request on, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routed_via: Vec<String>,
    /// The cache's part (`hit`, `semantic_hit`, `coalesced`, `miss`, `bypass`); absent when
    /// the route has no cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<crate::telemetry::CacheStatus>,
    /// What the request cost, exact decimals as text; absent when the model has no price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostFact>,
}

/// `{"usd": "0.00517"}`; a cache hit costs `"0"` and says what it saved (`saved_usd`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CostFact {
    pub usd: rust_decimal::Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_usd: Option<rust_decimal::Decimal>,
}

/// One try at one target: `{"provider", "provider_model", "status": "ok"}` or
/// `{..., "status": "error", "error": "<kind>", "message": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptFact {
    pub provider: String,
    pub provider_model: String,
    #[serde(flatten)]
    pub outcome: AttemptOutcome,
    /// Time waiting on this provider, ms.
    pub latency_ms: f64,
    /// The route the attempt belonged to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Backoff or Retry-After waited before this attempt, ms.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub waited_ms: f64,
    /// Sent by hedging, while an earlier attempt was still running.
    #[serde(default, skip_serializing_if = "is_false")]
    pub hedge: bool,
    /// Continues a stream that was cut on an earlier attempt.
    #[serde(default, skip_serializing_if = "is_false")]
    pub resumed: bool,
    /// The error, for a failed attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl AttemptFact {
    /// An attempt at `provider`/`provider_model` with its outcome and time.
    pub fn new(
        provider: &str,
        provider_model: &str,
        outcome: AttemptOutcome,
        latency_ms: f64,
    ) -> Self {
        AttemptFact {
            provider: provider.to_string(),
            provider_model: provider_model.to_string(),
            outcome,
            latency_ms,
            route: None,
            waited_ms: 0.0,
            hedge: false,
            resumed: false,
            message: None,
        }
    }
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "error", rename_all = "snake_case")]
pub enum AttemptOutcome {
    Ok,
    Error(ErrorKind),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_serialize_flat_and_round_trip() {
        let mut a = AttemptFact::new("p", "m", AttemptOutcome::Error(ErrorKind::Unavailable), 1.5);
        a.message = Some("down".into());
        let v = serde_json::to_value(&a).expect("serialize");
        assert_eq!(
            v,
            serde_json::json!({"provider": "p", "provider_model": "m", "status": "error",
                "error": "unavailable", "latency_ms": 1.5, "message": "down"})
        );
        let back: AttemptFact = serde_json::from_value(v).expect("deserialize");
        assert_eq!(back, a);
        let ok = AttemptFact::new("p", "m", AttemptOutcome::Ok, 2.0);
        let v = serde_json::to_value(&ok).expect("serialize");
        assert_eq!(v["status"], "ok");
        assert!(v.get("error").is_none());
        assert_eq!(serde_json::from_value::<AttemptFact>(v).expect("back"), ok);
    }
}
