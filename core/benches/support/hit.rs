//! The cache-hit setup the benches share: one runtime, a gateway with the exact cache on in
//! front of the mock provider, and the request and caller they repeat.

use switchpoint_core::api::{from_json_value, ChatRequest};
use switchpoint_core::{Gateway, RequestContext};

/// A runtime with one worker: the measuring thread polls the hits itself (`block_on`).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A gateway caching route `gpt` on the mock at `mock_url`, with these telemetry settings.
pub fn cached_gateway(mock_url: &str, telemetry: serde_json::Value) -> Gateway {
    Gateway::from_value(serde_json::json!({
        "providers": {"oai": {"kind": "openai", "base_url": format!("{mock_url}/v1"), "api_key": "sk-bench"}},
        "models": {"gpt": {"provider": "oai", "model": "gpt-4o-mini"}},
        "cache": {"enabled": true},
        "telemetry": telemetry
    }))
    .expect("gateway")
}

/// The repeated request: a system prompt and a question, temperature 0.
pub fn shop_request() -> ChatRequest {
    from_json_value(serde_json::json!({
        "model": "gpt", "temperature": 0,
        "messages": [
            {"role": "system", "content": "You are a concise assistant for an online shop."},
            {"role": "user", "content": "What are your opening hours on public holidays?"}
        ]
    }))
    .expect("request")
}

/// The caller: a team (the cache namespace) and a user.
pub fn caller() -> RequestContext {
    from_json_value(serde_json::json!({"team": "abc", "user": "u1"})).expect("context")
}
