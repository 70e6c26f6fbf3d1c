//! Cache entries on the shared state (Redis): what one process stored, every process can
//! answer from. Local entries stay in front (a shared hit is copied into the local cache);
//! the semantic index stays per process.

use super::exact::{CachedAnswer, Origin};
use super::key::shared_key;
use super::Lookup;
use crate::api::{ChatChunk, ChatRequest, ChatResponse};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The stored form of an answer (JSON: the wire shapes of the response and chunks).
#[derive(Serialize, Deserialize)]
struct Wire {
    response: ChatResponse,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chunks: Option<Vec<ChatChunk>>,
    stored_at_ms: u64,
    ttl_ms: u64,
    provider: String,
    provider_model: String,
    provider_kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cost_usd: Option<rust_decimal::Decimal>,
}

/// The shared store's key of a cache entry (the request's digest, the same in every
/// process: never the caller's key).
pub fn entry_key(l: &Lookup, req: &ChatRequest) -> String {
    format!("cache:{}", shared_key(&l.namespace, &l.route, req))
}

/// An answer as bytes for the shared store.
pub fn encode(a: &CachedAnswer) -> Option<Vec<u8>> {
    let wire = Wire {
        response: a.response.clone(),
        chunks: a.chunks.clone(),
        stored_at_ms: a.stored_at_ms,
        ttl_ms: a.ttl.as_millis() as u64,
        provider: a.origin.provider.clone(),
        provider_model: a.origin.provider_model.clone(),
        provider_kind: a.origin.provider_kind.clone(),
        cost_usd: a.origin.cost_usd,
    };
    serde_json::to_vec(&wire).ok()
}

/// An answer read back, with the time it has left; `None` when unreadable or expired.
pub fn decode(bytes: &[u8], now_ms: u64) -> Option<CachedAnswer> {
    let w: Wire = serde_json::from_slice(bytes).ok()?;
    let ends = w.stored_at_ms.saturating_add(w.ttl_ms);
    if ends <= now_ms {
        return None;
    }
    let ttl = Duration::from_millis(ends - now_ms);
    let answer = match w.chunks {
        Some(chunks) => CachedAnswer::from_chunks(chunks, ttl),
        None => CachedAnswer::from_response(w.response, ttl),
    };
    Some(answer.with_origin(Origin {
        provider: w.provider,
        provider_model: w.provider_model,
        provider_kind: w.provider_kind,
        cost_usd: w.cost_usd,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_survives_the_round_trip_with_its_remaining_ttl() {
        let resp: ChatResponse = serde_json::from_value(serde_json::json!({
            "id": "c1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        }))
        .expect("present");
        let a = CachedAnswer::from_response(resp.clone(), Duration::from_secs(60)).with_origin(
            Origin {
                provider: "oai".into(),
                provider_model: "m".into(),
                provider_kind: "openai".into(),
                cost_usd: Some(rust_decimal::Decimal::new(15, 7)),
            },
        );
        let bytes = encode(&a).expect("present");
        let b = decode(&bytes, a.stored_at_ms + 10_000).expect("present");
        assert_eq!(b.response, a.response);
        assert_eq!(b.origin, a.origin);
        assert_eq!(b.ttl, Duration::from_secs(50));
        assert!(decode(&bytes, a.stored_at_ms + 60_000).is_none());
        assert!(decode(b"not json", 0).is_none());
    }
}
