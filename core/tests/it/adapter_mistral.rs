//! The native Mistral adapter, tested from wire data in tests/fixtures/mistral (constructed
//! from Mistral's API reference; see the README there).

use http::HeaderMap;
use serde_json::{json, Value};
use switchpoint_core::api::{
    ChatChunk, ChatRequest, EmbeddingRequest, ErrorKind, StreamAccumulator,
};
use switchpoint_core::config::Secret;
use switchpoint_core::providers::mistral::{is_mistral_id, to_mistral, MistralAdapter};
use switchpoint_core::providers::{
    Adapter, ProviderKind, ProviderSettings, StreamEvent, StreamStep,
};

fn adapter() -> MistralAdapter {
    MistralAdapter::new(ProviderSettings {
        name: "mistral".into(),
        kind: ProviderKind::Mistral,
        base_url: "https://api.mistral.ai/v1".into(),
        api_key: Some(Secret::new("mi-key")),
        headers: Vec::new(),
        api_version: None,
    })
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../tests/fixtures/mistral/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).expect("fixture exists")
}

fn decode(name: &str) -> Vec<ChatChunk> {
    let mut decoder = adapter().stream_decoder("mistral-small-latest");
    let mut out = Vec::new();
    for block in fixture(name).split("\n\n") {
        let Some(data) = block.trim().strip_prefix("data: ") else {
            continue;
        };
        let step = decoder
            .on_event(StreamEvent { event: "", data }, &mut out)
            .expect("event");
        if step == StreamStep::Done {
            return out;
        }
    }
    panic!("no [DONE]");
}

fn body(req: &ChatRequest, stream: bool) -> Value {
    let http = adapter()
        .chat_request(req, "mistral-small-latest", stream)
        .expect("request");
    assert_eq!(http.uri(), "https://api.mistral.ai/v1/chat/completions");
    assert_eq!(http.headers()["authorization"], "Bearer mi-key");
    serde_json::from_slice(http.body()).expect("json")
}

#[test]
fn request_uses_mistral_names_and_drops_openai_only_fields() {
    let req: ChatRequest = serde_json::from_value(json!({
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "seed": 42, "max_completion_tokens": 64, "user": "u1", "metadata": {"a": "b"},
        "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "required",
        "stream_options": {"include_usage": true},
        "safe_prompt": true,
        "extra_body": {"prompt_mode": "reasoning"}
    }))
    .expect("request");
    let b = body(&req, true);
    assert_eq!(b["random_seed"], 42);
    assert_eq!(b["max_tokens"], 64);
    assert_eq!(b["tool_choice"], "any");
    assert_eq!(b["stream"], true);
    assert_eq!(b["safe_prompt"], true);
    assert_eq!(b["prompt_mode"], "reasoning");
    assert_eq!(b["model"], "mistral-small-latest");
    for gone in [
        "seed",
        "max_completion_tokens",
        "user",
        "metadata",
        "stream_options",
    ] {
        assert!(b.get(gone).is_none(), "{gone} was sent");
    }
    let b = body(&req, false);
    assert!(b.get("stream").is_none());
    // A caller's own random_seed wins over the mapped seed.
    let mut own = req.clone();
    own.extra_body = Some(serde_json::from_value(json!({"random_seed": 1})).expect("map"));
    assert_eq!(body(&own, false)["random_seed"], 1);
}

#[test]
fn tool_call_ids_round_trip_in_mistral_form() {
    let req: ChatRequest = serde_json::from_value(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_Xk2vN0aQ9", "type": "function", "function": {"name": "w", "arguments": "{}"}},
                {"id": "D681PevKs", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_Xk2vN0aQ9", "content": "sunny"},
            {"role": "tool", "tool_call_id": "D681PevKs", "content": "rain"}
        ]
    }))
    .expect("request");
    let b = body(&req, false);
    let mapped = b["messages"][1]["tool_calls"][0]["id"]
        .as_str()
        .expect("id");
    assert!(is_mistral_id(mapped), "{mapped}");
    assert_eq!(mapped, to_mistral("call_Xk2vN0aQ9"));
    assert_eq!(b["messages"][2]["tool_call_id"], mapped);
    // Mistral's own id is sent back unchanged.
    assert_eq!(b["messages"][1]["tool_calls"][1]["id"], "D681PevKs");
    assert_eq!(b["messages"][3]["tool_call_id"], "D681PevKs");
    // And the mapping is the same in every request.
    assert_eq!(body(&req, false)["messages"][2]["tool_call_id"], mapped);
}

#[test]
fn stream_usage_moves_to_its_own_chunk() {
    let chunks = decode("stream_usage.sse");
    let finish = chunks
        .iter()
        .position(|c| c.choices.iter().any(|ch| ch.finish_reason.is_some()))
        .expect("finish chunk");
    assert!(chunks[finish].usage.is_none());
    let last = chunks.last().expect("usage");
    assert_eq!(finish + 1, chunks.len() - 1);
    assert!(last.choices.is_empty());
    assert_eq!(last.id, "cf79f7daaee244b1a0ae5c7b1444424a");
    let u = last.usage.as_ref().expect("usage");
    assert_eq!((u.prompt_tokens.get(), u.completion_tokens.get()), (9, 3));
    let mut acc = StreamAccumulator::new();
    for c in &chunks {
        acc.push(c);
    }
    let resp = acc.finish();
    assert_eq!(resp.text(), Some("Hello there."));
}

#[test]
fn streamed_whole_tool_call_keeps_its_id() {
    let chunks = decode("stream_tool_call.sse");
    let mut acc = StreamAccumulator::new();
    for c in &chunks {
        acc.push(c);
    }
    let resp = acc.finish();
    let call = &resp.choices[0].message.tool_calls.as_ref().expect("calls")[0];
    assert_eq!(call.id, "D681PevKs");
    assert_eq!(call.function.arguments, "{\"city\": \"Paris\"}");
    assert_eq!(resp.usage.as_ref().map(|u| u.total_tokens.get()), Some(101));
}

#[test]
fn validation_errors_name_the_field() {
    let err = adapter().parse_error(422, &HeaderMap::new(), fixture("error_422.json").as_bytes());
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.status, Some(422));
    assert_eq!(err.param.as_deref(), Some("stream_options"));
    assert_eq!(
        err.message,
        "stream_options: Extra inputs are not permitted; messages.1.tool_calls.0.id: Value error, Tool call id must be a-z, A-Z, 0-9, with a length of 9"
    );
    let err = adapter().parse_error(
        400,
        &HeaderMap::new(),
        br#"{"object":"error","message":"Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length","type":"invalid_request_error","param":null,"code":null}"#,
    );
    assert_eq!(err.kind, ErrorKind::ContextWindowExceeded);
}

#[test]
fn embeddings_use_output_dimension() {
    let req: EmbeddingRequest = serde_json::from_value(json!({
        "model": "e", "input": "hi", "dimensions": 256, "user": "u"
    }))
    .expect("request");
    let http = adapter()
        .embed_request(&req, "codestral-embed")
        .expect("request");
    assert_eq!(http.uri(), "https://api.mistral.ai/v1/embeddings");
    let b: Value = serde_json::from_slice(http.body()).expect("json");
    assert_eq!(
        b,
        json!({"model": "codestral-embed", "input": "hi", "output_dimension": 256})
    );
}
