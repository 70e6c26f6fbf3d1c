//! Whatever wire format answered, the unified response and chunks serialize to JSON that
//! validates against OpenAI's published schemas; and what the Anthropic adapter sends
//! validates against Anthropic's published `CreateMessageParams`.

use crate::common;

use common::fixture;
use common::schema::{assert_valid, Spec};
use common::sse::{decode_all, split};
use serde_json::{json, Value};
use switchpoint_core::api::{ChatRequest, StreamAccumulator};
use switchpoint_core::config::Secret;
use switchpoint_core::providers::{adapter_for, Adapter, ProviderKind, ProviderSettings};

fn adapter(kind: ProviderKind) -> std::sync::Arc<dyn Adapter> {
    adapter_for(ProviderSettings {
        name: kind.as_str().to_string(),
        kind,
        base_url: "https://example.test".into(),
        api_key: Some(Secret::new("k")),
        headers: Vec::new(),
        api_version: None,
    })
}

/// Decodes a recorded stream, checks every chunk and the assembled answer against OpenAI's schemas.
fn check_stream(kind: ProviderKind, path: &str) {
    let a = adapter(kind);
    let mut decoder = a.stream_decoder("m");
    let (chunks, end) = decode_all(decoder.as_mut(), &split(&fixture(path)));
    end.unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(!chunks.is_empty(), "{path}: no chunks");
    let mut acc = StreamAccumulator::new();
    for c in &chunks {
        assert_valid(
            Spec::OpenAi,
            "CreateChatCompletionStreamResponse",
            &serde_json::to_value(c).expect("json"),
        );
        acc.push(c);
    }
    let assembled = serde_json::to_value(acc.finish()).expect("json");
    assert_valid(Spec::OpenAi, "CreateChatCompletionResponse", &assembled);
}

#[test]
fn anthropic_streams_become_valid_openai_chunks_and_responses() {
    for f in [
        "basic_response",
        "tool_use_response",
        "refusal_response",
        "incomplete_partial_json_response",
    ] {
        check_stream(
            ProviderKind::Anthropic,
            &format!("anthropic-sdk-python/{f}.sse"),
        );
    }
}

#[test]
fn gemini_streams_become_valid_openai_chunks_and_responses() {
    for f in ["stream_text", "stream_tool_call"] {
        check_stream(ProviderKind::Gemini, &format!("gemini/{f}.sse"));
    }
}

#[test]
fn gemini_answers_become_valid_openai_responses() {
    let a = adapter(ProviderKind::Gemini);
    for f in [
        "generate_text",
        "generate_tool_call",
        "generate_parallel_tool_calls",
        "generate_two_candidates",
        "generate_usage_cached_thoughts",
        "generate_safety_finish",
    ] {
        let resp = a
            .parse_chat(
                fixture(&format!("gemini/{f}.json")).as_bytes(),
                "gemini-2.5-flash",
            )
            .expect(f);
        assert_valid(
            Spec::OpenAi,
            "CreateChatCompletionResponse",
            &serde_json::to_value(resp).expect("json"),
        );
    }
}

#[test]
fn anthropic_answers_become_valid_openai_responses() {
    let body = json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "text", "text": "Looking it up."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 20, "output_tokens": 9, "cache_read_input_tokens": 5, "cache_creation_input_tokens": 0}
    });
    let resp = adapter(ProviderKind::Anthropic)
        .parse_chat(body.to_string().as_bytes(), "claude-sonnet-4-5")
        .expect("parses");
    assert_valid(
        Spec::OpenAi,
        "CreateChatCompletionResponse",
        &serde_json::to_value(resp).expect("json"),
    );
}

#[test]
fn anthropic_requests_validate_against_create_message_params() {
    let req: ChatRequest = serde_json::from_value(json!({
        "model": "sonnet",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this picture, and the weather?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.test/cat.jpg"}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            {"role": "tool", "tool_call_id": "call_2", "content": "noon"}
        ],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
        ],
        "tool_choice": "required",
        "parallel_tool_calls": false,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["END"],
        "user": "user-1"
    }))
    .expect("request");
    let a = adapter(ProviderKind::Anthropic);
    for stream in [false, true] {
        let http = a
            .chat_request(&req, "claude-sonnet-4-5", stream)
            .expect("builds");
        let body: Value = serde_json::from_slice(http.body()).expect("json body");
        assert_valid(Spec::Anthropic, "CreateMessageParams", &body);
    }
}
