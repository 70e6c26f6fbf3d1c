//! The Anthropic Messages adapter, tested from recorded wire data (the anthropic-sdk-python
//! streaming fixtures and a recorded rate-limited exchange) and from bodies written by the
//! published API reference.

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{json, Value};
use std::time::Duration;
use switchpoint_core::api::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, Error, ErrorKind, FinishReason, Role,
    StreamAccumulator, TokenCount,
};
use switchpoint_core::config::Secret;
use switchpoint_core::providers::{
    adapter_for, Adapter, ProviderKind, ProviderSettings, StreamEvent, StreamStep,
};

const SDK_FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/anthropic-sdk-python"
);

fn settings() -> ProviderSettings {
    ProviderSettings {
        name: "anthropic".into(),
        kind: ProviderKind::Anthropic,
        base_url: "https://api.anthropic.com".into(),
        api_key: Some(Secret::new("sk-ant-test-key")),
        headers: vec![(
            HeaderName::from_static("anthropic-beta"),
            HeaderValue::from_static("files-api-2025-04-14"),
        )],
        api_version: None,
    }
}

fn adapter() -> std::sync::Arc<dyn Adapter> {
    adapter_for(settings())
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{SDK_FIXTURES}/{name}")).expect("fixture exists")
}

/// Splits an SSE body into (event name, joined data) pairs, the way the transport frames it.
fn sse_events(body: &str) -> Vec<(String, String)> {
    let body = body.replace("\r\n", "\n");
    let mut events = Vec::new();
    for block in body.split("\n\n") {
        let mut name = String::new();
        let mut data: Vec<&str> = Vec::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                name = v.strip_prefix(' ').unwrap_or(v).to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        if !data.is_empty() {
            events.push((name, data.join("\n")));
        }
    }
    events
}

/// Feeds an SSE body through a fresh decoder: the chunks, and how the stream ended.
fn decode(body: &str) -> (Vec<ChatChunk>, Result<(), Error>) {
    let mut decoder = adapter().stream_decoder("requested-model");
    let mut out = Vec::new();
    for (event, data) in sse_events(body) {
        match decoder.on_event(
            StreamEvent {
                event: &event,
                data: &data,
            },
            &mut out,
        ) {
            Ok(StreamStep::Continue) => {}
            Ok(StreamStep::Done) => return (out, Ok(())),
            Err(e) => return (out, Err(e)),
        }
    }
    let end = decoder.on_end(&mut out);
    (out, end)
}

/// Decodes a complete stream, checks the chunk conventions, and assembles the answer.
fn assemble(body: &str) -> ChatResponse {
    let (chunks, end) = decode(body);
    end.expect("stream completes");
    assert!(!chunks.is_empty());
    assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
    for c in &chunks[1..] {
        assert!(c.choices.iter().all(|ch| ch.delta.role.is_none()));
    }
    for c in &chunks {
        assert_eq!(
            (&c.id, c.created, &c.model, c.object.as_str()),
            (
                &chunks[0].id,
                chunks[0].created,
                &chunks[0].model,
                "chat.completion.chunk"
            )
        );
    }
    let last = chunks.last().expect("a last chunk");
    assert!(last.choices.is_empty(), "the usage chunk has no choices");
    assert!(last.usage.is_some());
    assert_eq!(
        chunks.iter().filter(|c| c.usage.is_some()).count(),
        1,
        "exactly one usage chunk"
    );
    let mut acc = StreamAccumulator::new();
    for c in &chunks {
        acc.push(c);
    }
    acc.finish()
}

fn usage_of(r: &ChatResponse) -> (u64, u64, u64, Option<u64>, Option<u64>) {
    let u = r.usage.as_ref().expect("usage");
    let d = u.prompt_tokens_details.as_ref();
    (
        u.prompt_tokens.get(),
        u.completion_tokens.get(),
        u.total_tokens.get(),
        d.and_then(|d| d.cached_tokens).map(TokenCount::get),
        d.and_then(|d| d.cache_creation_tokens).map(TokenCount::get),
    )
}

fn tool_calls_of(r: &ChatResponse) -> Vec<(String, String, String)> {
    r.choices[0]
        .message
        .tool_calls
        .iter()
        .flatten()
        .map(|t| {
            (
                t.id.clone(),
                t.function.name.clone(),
                t.function.arguments.clone(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------- recorded streams

#[test]
fn basic_stream() {
    let r = assemble(&fixture("basic_response.sse"));
    assert_eq!(r.id, "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK");
    assert_eq!(r.model, "claude-3-opus-latest");
    assert_eq!(r.choices.len(), 1);
    assert_eq!(r.text(), Some("Hello there!"));
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(r.choices[0].message.tool_calls, None);
    assert_eq!(usage_of(&r), (11, 6, 17, None, None));
}

#[test]
fn basic_stream_chunks_in_order() {
    let (chunks, end) = decode(&fixture("basic_response.sse"));
    end.expect("complete");
    let texts: Vec<String> = chunks.iter().map(ChatChunk::text).collect();
    assert_eq!(texts, ["Hello", " there", "!", "", ""]);
    assert_eq!(chunks[3].choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(chunks[3].usage, None);
}

#[test]
fn tool_use_stream() {
    let body = fixture("tool_use_response.sse");
    let r = assemble(&body);
    assert_eq!(r.id, "msg_019Q1hrJbZG26Fb9BQhrkHEr");
    assert_eq!(r.model, "claude-sonnet-4-20250514");
    assert_eq!(
        r.text(),
        Some("I'll check the current weather in Paris for you.")
    );
    assert_eq!(
        tool_calls_of(&r),
        [(
            "toolu_01NRLabsLyVHZPKxbKvkfSMn".to_string(),
            "get_weather".to_string(),
            r#"{"location": "Paris"}"#.to_string()
        )]
    );
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(usage_of(&r), (377, 65, 442, Some(0), Some(0)));

    // The tool call opens with id, type and name, then only argument fragments follow.
    let (chunks, _) = decode(&body);
    let pieces: Vec<Value> = chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|ch| ch.delta.tool_calls.as_ref())
        .map(|t| serde_json::to_value(t).expect("serializable"))
        .collect();
    assert_eq!(
        pieces,
        [
            json!([{"index":0,"id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","type":"function","function":{"name":"get_weather","arguments":""}}]),
            json!([{"index":0,"function":{"arguments":"{\"locati"}}]),
            json!([{"index":0,"function":{"arguments":"on\": \"P"}}]),
            json!([{"index":0,"function":{"arguments":"ar"}}]),
            json!([{"index":0,"function":{"arguments":"is\"}"}}]),
        ]
    );
}

#[test]
fn refusal_stream() {
    let r = assemble(&fixture("refusal_response.sse"));
    assert_eq!(r.id, "msg_01RefusalTestMessage123456789");
    assert_eq!(r.model, "claude-opus-4-7");
    assert_eq!(r.text(), None);
    assert_eq!(
        r.choices[0].finish_reason,
        Some(FinishReason::ContentFilter)
    );
    assert_eq!(usage_of(&r), (20, 0, 20, None, None));
}

#[test]
fn max_tokens_inside_tool_json_keeps_partial_arguments() {
    let r = assemble(&fixture("incomplete_partial_json_response.sse"));
    assert_eq!(r.id, "msg_01UdjYBBipA9omjYhicnevgq");
    assert_eq!(r.model, "claude-3-7-sonnet-20250219");
    assert_eq!(
        r.text(),
        Some(
            "I'll create a comprehensive tax guide for someone with multiple W2s and save it \
             in a file called taxes.txt. Let me do that for you now."
        )
    );
    let partial = concat!(
        r#"{"filename": "taxes.txt", "lines_of_text": ["#,
        "\n\"# COMPREHENSIVE TAX GUIDE FOR INDIVIDUALS WITH MULTIPLE W-2s\",\n\"\",\n",
        "\"## INTRODUCTION\",\n\"\",\n\"Filing taxes"
    );
    assert_eq!(
        tool_calls_of(&r),
        [(
            "toolu_01EKqbqmZrGRXy18eN7m9kvY".to_string(),
            "make_file".to_string(),
            partial.to_string()
        )]
    );
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Length));
    assert_eq!(usage_of(&r), (450, 124, 574, Some(0), Some(0)));
}

#[test]
fn compaction_block_is_not_content() {
    let r = assemble(&fixture("compaction_response.sse"));
    assert_eq!(r.id, "msg_01CompactionEncryptedContent01");
    assert_eq!(r.model, "claude-opus-4-7");
    assert_eq!(r.text(), Some("Hello there!"));
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(usage_of(&r), (30, 8, 38, None, None));
}

#[test]
fn fallback_block_relabels_the_answering_model() {
    let r = assemble(&fixture("fallback_response.sse"));
    assert_eq!(r.id, "msg_01FallbackModelRelabel000001");
    assert_eq!(r.model, "claude-sonnet-4-5");
    assert_eq!(r.text(), Some("Hello there!"));
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(usage_of(&r), (25, 8, 33, None, None));
}

#[test]
fn fallback_credit_usage() {
    let r = assemble(&fixture("fallback_credit_response.sse"));
    assert_eq!(r.id, "msg_01FallbackCreditUsage0000001");
    assert_eq!(r.model, "claude-sonnet-4-5");
    assert_eq!(r.text(), Some("Hello there!"));
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(usage_of(&r), (25, 8, 33, None, None));
}

// ---------------------------------------------------------------- recorded exchange

fn header_map(v: &Value) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in v.as_object().expect("headers object") {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            HeaderValue::from_str(v.as_str().expect("string value")).expect("header value"),
        );
    }
    h
}

#[test]
fn rate_limited_then_stream() {
    let exchanges: Vec<Value> =
        serde_json::from_str(&fixture("rate-limited-then-stream.json")).expect("valid JSON");
    assert_eq!(exchanges.len(), 3);
    let adapter = adapter();
    let limit_message = "This request would exceed your organization's rate limit of 20,000,000 \
         prompt bytes per hour (org: 5576611f-a1ee-427c-9800-298d9579899c, model: \
         claude-sonnet-4-5-20250929). For details, refer to: \
         https://docs.claude.com/en/api/rate-limits. You can see the response headers for \
         current usage. Please reduce the prompt length or the maximum tokens requested, or try \
         again later. You may also contact sales at https://www.anthropic.com/contact-sales to \
         discuss your options for a rate limit increase.";
    for (ex, request_id) in exchanges[..2].iter().zip([
        "req_011CYK5n67SytMUxm8WMZUWY",
        "req_011CYK5n94JW2KDxvEjTDLeR",
    ]) {
        let resp = &ex["response"];
        assert_eq!(resp["status_code"], 429);
        let body = serde_json::to_vec(&resp["body"]).expect("serializable");
        let err = adapter.parse_error(429, &header_map(&resp["headers"]), &body);
        assert_eq!(err.kind, ErrorKind::RateLimited);
        assert_eq!(err.status, Some(429));
        assert_eq!(err.code.as_deref(), Some("rate_limit_error"));
        assert_eq!(err.provider.as_deref(), Some("anthropic"));
        // The recorded 429s carry no retry-after or anthropic-ratelimit-*-reset header.
        assert_eq!(err.retry_after, None);
        assert_eq!(
            err.message,
            format!("{limit_message} (request id {request_id})")
        );
        assert!(err.is_retryable());
    }

    let ok = &exchanges[2]["response"];
    assert_eq!(ok["status_code"], 200);
    let r = assemble(ok["body"].as_str().expect("SSE text"));
    assert_eq!(r.id, "msg_013nnniYDrJDocdy5nrMU7cH");
    assert_eq!(r.model, "claude-sonnet-4-5-20250929");
    assert_eq!(r.text(), Some("[12345,67890]"));
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(usage_of(&r), (135, 10, 145, Some(0), Some(0)));
}

#[test]
fn structured_output_request_matches_the_recorded_one() {
    let exchanges: Vec<Value> =
        serde_json::from_str(&fixture("rate-limited-then-stream.json")).expect("valid JSON");
    let recorded = &exchanges[2]["request"];
    let req: ChatRequest = serde_json::from_value(json!({
        "model": "claude",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Extract order IDs from the following text:\n\nOrder 12345\nOrder 67890"}],
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "order_ids",
            "schema": {"type": "array", "items": {"type": "integer"}}
        }}
    }))
    .expect("valid request");
    let http = adapter()
        .chat_request(&req, "claude-sonnet-4-5", true)
        .expect("builds");
    let body: Value = serde_json::from_slice(http.body()).expect("JSON body");
    assert_eq!(body, recorded["body"]);
    assert_eq!(http.uri().to_string(), recorded["url"]);
    assert_eq!(
        http.headers()["anthropic-version"],
        recorded["headers"]["anthropic-version"]
            .as_str()
            .expect("str")
    );
}

// ---------------------------------------------------------------- synthesized streams

fn sse(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| {
            format!(
                "event: {}\ndata: {}\n\n",
                e["type"].as_str().expect("type"),
                e
            )
        })
        .collect()
}

fn start(id: &str) -> Value {
    json!({"type":"message_start","message":{"id":id,"type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":1,"cache_creation":null,"server_tool_use":null,"service_tier":"standard"}}})
}

#[test]
fn parallel_tool_calls_get_ordinal_indexes_and_thinking_is_reasoning() {
    let body = sse(&[
        start("msg_par"),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Two cities, "}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"two calls."}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAh"}}),
        json!({"type":"content_block_stop","index":0}),
        json!({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_A","name":"get_weather","input":{}}}),
        json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Paris\"}"}}),
        json!({"type":"content_block_stop","index":1}),
        json!({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_B","name":"get_weather","input":{}}}),
        json!({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}),
        json!({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":" \"Lyon\"}"}}),
        json!({"type":"content_block_stop","index":2}),
        json!({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":null,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":90,"server_tool_use":null}}),
        json!({"type":"message_stop"}),
    ]);
    let (chunks, end) = decode(&body);
    end.expect("complete");
    let reasoning: Vec<&str> = chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|ch| ch.delta.extra.get("reasoning_content"))
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(reasoning, ["Two cities, ", "two calls."]);
    let r = assemble(&body);
    assert_eq!(r.text(), None);
    assert_eq!(
        tool_calls_of(&r),
        [
            (
                "toolu_A".to_string(),
                "get_weather".to_string(),
                r#"{"city": "Paris"}"#.to_string()
            ),
            (
                "toolu_B".to_string(),
                "get_weather".to_string(),
                r#"{"city": "Lyon"}"#.to_string()
            ),
        ]
    );
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
    // prompt = 12 uncached + 2000 cache reads + 100 cache writes.
    assert_eq!(usage_of(&r), (2112, 90, 2202, Some(2000), Some(100)));
}

#[test]
fn message_delta_usage_updates_counts_from_message_start() {
    let body = sse(&[
        start("msg_upd"),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":"","citations":null}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}),
        json!({"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"END"},
               "usage":{"input_tokens":15,"cache_creation_input_tokens":null,"cache_read_input_tokens":2500,"output_tokens":3,"server_tool_use":null}}),
        json!({"type":"message_stop"}),
    ]);
    let r = assemble(&body);
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
    // input and cache reads from message_delta; cache writes kept from message_start.
    assert_eq!(usage_of(&r), (2615, 3, 2618, Some(2500), Some(100)));
}

#[test]
fn error_event_mid_stream_is_typed() {
    let body = format!(
        "{}event: error\ndata: {}\n\n",
        sse(&[
            start("msg_err"),
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":"","citations":null}}),
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}),
        ]),
        json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":null})
    );
    let (chunks, end) = decode(&body);
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].text(), "Hel");
    let err = end.expect_err("error event");
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(err.code.as_deref(), Some("overloaded_error"));
    assert_eq!(err.message, "Overloaded");
    assert_eq!(err.provider.as_deref(), Some("anthropic"));
    assert_eq!(err.status, None);

    let rate = format!(
        "event: error\ndata: {}\n\n",
        json!({"type":"error","error":{"type":"rate_limit_error","message":"slow down"},"request_id":"req_1"})
    );
    let err = decode(&rate).1.expect_err("error event");
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.message, "slow down (request id req_1)");
}

#[test]
fn stream_cut_before_message_stop_is_a_connection_error() {
    let full = fixture("basic_response.sse");
    let cut = &full[..full
        .find("event: message_delta")
        .expect("has message_delta")];
    let (chunks, end) = decode(cut);
    assert_eq!(
        chunks.iter().map(ChatChunk::text).collect::<String>(),
        "Hello there!"
    );
    let err = end.expect_err("cut stream");
    assert_eq!(err.kind, ErrorKind::Connection);
    assert_eq!(err.provider.as_deref(), Some("anthropic"));
    assert!(err.message.contains("message_stop"), "{}", err.message);
    assert!(err.is_retryable());
}

#[test]
fn malformed_stream_event_is_invalid_response() {
    let (_, end) =
        decode("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\n\n");
    let err = end.expect_err("bad JSON");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert_eq!(err.provider.as_deref(), Some("anthropic"));
}

#[test]
fn unknown_events_and_pings_are_skipped() {
    let body = sse(&[
        start("msg_unk"),
        json!({"type":"ping"}),
        json!({"type":"some_future_event","x":1}),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":"","citations":null}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"type":"char_location","cited_text":"x","document_index":0,"document_title":null,"file_id":null,"start_char_index":0,"end_char_index":1}}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}),
        json!({"type":"message_delta","delta":{"stop_reason":"pause_turn","stop_sequence":null},"usage":{"input_tokens":null,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":2,"server_tool_use":null}}),
        json!({"type":"message_stop"}),
    ]);
    let r = assemble(&body);
    assert_eq!(r.text(), Some("x"));
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
}

// ---------------------------------------------------------------- request building

fn body_of(req: &ChatRequest, stream: bool) -> Value {
    let http = adapter()
        .chat_request(req, "claude-sonnet-4-5", stream)
        .expect("builds");
    serde_json::from_slice(http.body()).expect("JSON body")
}

fn request(v: Value) -> ChatRequest {
    serde_json::from_value(v).expect("valid unified request")
}

fn conversation() -> ChatRequest {
    request(json!({
        "model": "claude",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in these images, and what's the weather?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "high"}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "toolu_01A", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "toolu_01B", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Lyon\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "toolu_01A", "content": "18C, sunny"},
            {"role": "tool", "tool_call_id": "toolu_01B", "content": "15C, rain"},
            {"role": "user", "content": "Thanks. Summarize."}
        ],
        "tools": [
            {"type": "function", "function": {
                "name": "get_weather", "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
            }},
            {"type": "function", "function": {"name": "now"}}
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": false,
        "stop": ["\n\nHuman:"],
        "temperature": 0.2,
        "top_p": 0.9,
        "user": "user-123",
        "seed": 7,
        "presence_penalty": 0.5,
        "frequency_penalty": 0.1,
        "metadata": {"session": "abc"},
        "extra_body": {"top_k": 40}
    }))
}

fn expected_conversation() -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,
        "system": [
            {"type": "text", "text": "You are terse."},
            {"type": "text", "text": "Answer in French."}
        ],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "What is in these images, and what's the weather?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}
            ]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_01B", "name": "get_weather", "input": {"city": "Lyon"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "18C, sunny"},
                {"type": "tool_result", "tool_use_id": "toolu_01B", "content": "15C, rain"},
                {"type": "text", "text": "Thanks. Summarize."}
            ]}
        ],
        "tools": [
            {"name": "get_weather", "description": "Weather for a city",
             "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
            {"name": "now", "input_schema": {"type": "object", "properties": {}}}
        ],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
        "stop_sequences": ["\n\nHuman:"],
        "temperature": 0.2,
        "top_p": 0.9,
        "metadata": {"user_id": "user-123"},
        "top_k": 40
    })
}

#[test]
fn representative_conversation_body() {
    assert_eq!(body_of(&conversation(), false), expected_conversation());
    let mut streaming = expected_conversation();
    streaming["stream"] = json!(true);
    assert_eq!(body_of(&conversation(), true), streaming);
}

#[test]
fn request_line_and_headers() {
    let http = adapter()
        .chat_request(&conversation(), "claude-sonnet-4-5", false)
        .expect("builds");
    assert_eq!(http.method(), Method::POST);
    assert_eq!(http.uri(), "https://api.anthropic.com/v1/messages");
    let h = http.headers();
    assert_eq!(h["x-api-key"], "sk-ant-test-key");
    assert!(h["x-api-key"].is_sensitive());
    assert_eq!(h["anthropic-version"], "2023-06-01");
    assert_eq!(h["anthropic-beta"], "files-api-2025-04-14");
    assert_eq!(h["content-type"], "application/json");
    assert!(h.get("authorization").is_none());

    let mut s = settings();
    s.api_version = Some("2024-01-01".into());
    s.base_url = "http://127.0.0.1:8080/".into();
    let http = adapter_for(s)
        .chat_request(&conversation(), "m", false)
        .expect("builds");
    assert_eq!(http.uri(), "http://127.0.0.1:8080/v1/messages");
    assert_eq!(http.headers()["anthropic-version"], "2024-01-01");
}

#[test]
fn single_text_turns_and_system_are_strings() {
    let req = request(json!({
        "model": "m",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "user", "content": ""},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Bye"}
        ]
    }));
    assert_eq!(
        body_of(&req, false),
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "system": "Be brief.",
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Bye"}
            ]
        })
    );
}

#[test]
fn consecutive_user_messages_merge() {
    let req = request(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "one"},
            {"role": "user", "content": "two"},
            {"role": "assistant", "content": "a"},
            {"role": "assistant", "content": "b"}
        ]
    }));
    assert_eq!(
        body_of(&req, false)["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
        ])
    );
}

#[test]
fn tool_choice_variants() {
    let with = |choice: Value, parallel: Option<bool>| {
        let mut v = json!({
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "f"}}]
        });
        if !choice.is_null() {
            v["tool_choice"] = choice;
        }
        if let Some(p) = parallel {
            v["parallel_tool_calls"] = json!(p);
        }
        body_of(&request(v), false).get("tool_choice").cloned()
    };
    assert_eq!(with(json!("auto"), None), Some(json!({"type": "auto"})));
    assert_eq!(with(json!("required"), None), Some(json!({"type": "any"})));
    assert_eq!(with(json!("none"), None), Some(json!({"type": "none"})));
    assert_eq!(
        with(json!({"type": "function", "function": {"name": "f"}}), None),
        Some(json!({"type": "tool", "name": "f"}))
    );
    assert_eq!(
        with(json!("required"), Some(false)),
        Some(json!({"type": "any", "disable_parallel_tool_use": true}))
    );
    assert_eq!(
        with(
            json!({"type": "function", "function": {"name": "f"}}),
            Some(false)
        ),
        Some(json!({"type": "tool", "name": "f", "disable_parallel_tool_use": true}))
    );
    // `none` takes no parallel flag in Anthropic's schema.
    assert_eq!(
        with(json!("none"), Some(false)),
        Some(json!({"type": "none"}))
    );
    assert_eq!(
        with(Value::Null, Some(false)),
        Some(json!({"type": "auto", "disable_parallel_tool_use": true}))
    );
    assert_eq!(with(Value::Null, None), None);
    assert_eq!(with(Value::Null, Some(true)), None);
}

#[test]
fn max_tokens_sources() {
    let base = || json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let max = |v: Value| body_of(&request(v), false)["max_tokens"].clone();
    assert_eq!(max(base()), json!(4096));
    let mut v = base();
    v["max_tokens"] = json!(50);
    assert_eq!(max(v.clone()), json!(50));
    v["max_completion_tokens"] = json!(300);
    assert_eq!(max(v), json!(300));
}

#[test]
fn extra_body_is_merged_last_and_untouched() {
    let req = request(json!({
        "model": "m",
        "max_tokens": 8000,
        "messages": [{"role": "user", "content": "think"}],
        "extra_body": {"thinking": {"type": "enabled", "budget_tokens": 2048}, "service_tier": "auto"}
    }));
    assert_eq!(
        body_of(&req, false),
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 8000,
            "messages": [{"role": "user", "content": "think"}],
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "service_tier": "auto"
        })
    );
}

#[test]
fn json_object_and_text_formats_add_nothing() {
    for format in [json!({"type": "json_object"}), json!({"type": "text"})] {
        let req = request(json!({
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "response_format": format
        }));
        assert_eq!(
            body_of(&req, false),
            json!({"model": "claude-sonnet-4-5", "max_tokens": 4096, "messages": [{"role": "user", "content": "hi"}]})
        );
    }
}

#[test]
fn tool_results_with_parts_and_strict_tools() {
    let req = request(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "chart?"},
            {"role": "assistant", "tool_calls": [
                {"id": "toolu_9", "type": "function", "function": {"name": "chart", "arguments": ""}}
            ]},
            {"role": "tool", "tool_call_id": "toolu_9", "content": [
                {"type": "text", "text": "rendered"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}}
            ]}
        ],
        "tools": [{"type": "function", "function": {"name": "chart", "strict": true,
                   "parameters": {"type": "object", "properties": {}, "additionalProperties": false}}}]
    }));
    let body = body_of(&req, false);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": "chart?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_9", "name": "chart", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": [
                {"type": "text", "text": "rendered"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}}
            ]}]}
        ])
    );
    assert_eq!(
        body["tools"],
        json!([{"name": "chart", "strict": true,
                "input_schema": {"type": "object", "properties": {}, "additionalProperties": false}}])
    );
}

#[test]
fn thinking_blocks_go_back_before_tool_use() {
    let req = request(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": null,
             "thinking_blocks": [{"type": "thinking", "thinking": "call it", "signature": "sig1"}],
             "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "sun"}
        ]
    }));
    assert_eq!(
        body_of(&req, false)["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "thinking", "thinking": "call it", "signature": "sig1"},
            {"type": "tool_use", "id": "toolu_1", "name": "w", "input": {}}
        ]})
    );
}

fn build_err(v: Value) -> Error {
    adapter()
        .chat_request(&request(v), "claude-sonnet-4-5", false)
        .expect_err("refused")
}

#[test]
fn invalid_requests_name_the_parameter() {
    let cases = [
        (
            json!({"model": "m", "n": 2, "messages": [{"role": "user", "content": "hi"}]}),
            "n",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "see"},
                {"type": "image_url", "image_url": {"url": "data:image/png,notbase64"}}
            ]}]}),
            "messages[0].content[1].image_url",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "ftp://example.com/a.png"}}
            ]}]}),
            "messages[0].content[0].image_url",
        ),
        (
            json!({"model": "m", "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "tool_calls": [
                    {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "t2", "type": "function", "function": {"name": "f", "arguments": "{not json"}}
                ]}
            ]}),
            "messages[1].tool_calls[1].function.arguments",
        ),
        (
            json!({"model": "m", "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "tool_calls": [
                    {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "[1,2]"}}
                ]}
            ]}),
            "messages[1].tool_calls[0].function.arguments",
        ),
        (
            json!({"model": "m", "messages": [{"role": "tool", "content": "orphan"}]}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
            ]}]}),
            "messages[0].content[0]",
        ),
        (
            json!({"model": "m", "messages": [{"role": "system", "content": [
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
            ]}]}),
            "messages[0].content[0]",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                   "response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}),
            "response_format.json_schema.schema",
        ),
    ];
    for (req, param) in cases {
        let err = build_err(req);
        assert_eq!(err.kind, ErrorKind::BadRequest, "{param}: {err}");
        assert_eq!(err.param.as_deref(), Some(param));
        assert_eq!(err.provider.as_deref(), Some("anthropic"));
    }
}

#[test]
fn embeddings_are_refused_naming_model() {
    let req: EmbeddingRequest =
        serde_json::from_value(json!({"model": "m", "input": "hello"})).expect("valid");
    let a = adapter();
    for err in [
        a.embed_request(&req, "claude").expect_err("no embeddings"),
        a.parse_embed(b"{}", "claude").expect_err("no embeddings"),
    ] {
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert_eq!(err.param.as_deref(), Some("model"));
        assert_eq!(err.provider.as_deref(), Some("anthropic"));
        assert!(err.message.contains("no embeddings"), "{}", err.message);
    }
}

// ---------------------------------------------------------------- non-stream answers

#[test]
fn message_with_thinking_text_tool_use_and_cache_usage() {
    let body = json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [
            {"type": "thinking", "thinking": "The user wants the weather.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA"},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
            {"type": "text", "text": "Let me check ", "citations": null},
            {"type": "text", "text": "that.", "citations": null},
            {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather",
             "input": {"city": "Paris", "unit": "celsius"}}
        ],
        "stop_reason": "tool_use",
        "stop_sequence": null,
        "usage": {"input_tokens": 100, "cache_creation_input_tokens": 20, "cache_read_input_tokens": 300,
                  "output_tokens": 50, "cache_creation": null, "server_tool_use": null, "service_tier": "standard"}
    });
    let r = adapter()
        .parse_chat(
            &serde_json::to_vec(&body).expect("bytes"),
            "claude-sonnet-4-5",
        )
        .expect("parses");
    assert_eq!(r.id, "msg_01XFDUDYJgAACzvnptvVoYEL");
    assert_eq!(r.object, "chat.completion");
    assert_eq!(r.model, "claude-sonnet-4-5-20250929");
    assert!(r.created > 1_700_000_000);
    let m = &r.choices[0].message;
    assert_eq!(m.role, Role::Assistant);
    assert_eq!(m.content.as_deref(), Some("Let me check that."));
    assert_eq!(
        tool_calls_of(&r),
        [(
            "toolu_01A09q90qw90lq917835lq9".to_string(),
            "get_weather".to_string(),
            r#"{"city":"Paris","unit":"celsius"}"#.to_string()
        )]
    );
    assert_eq!(
        m.tool_calls.as_ref().expect("calls")[0].kind,
        switchpoint_core::api::ToolKind::Function
    );
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(
        m.extra.get("reasoning_content"),
        Some(&json!("The user wants the weather."))
    );
    assert_eq!(
        m.extra.get("thinking_blocks"),
        Some(&json!([
            {"type": "thinking", "thinking": "The user wants the weather.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA"},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}
        ]))
    );
    assert_eq!(usage_of(&r), (420, 50, 470, Some(300), Some(20)));
    assert_eq!(
        r.usage.as_ref().expect("usage").cached_tokens(),
        TokenCount(300)
    );
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    let cases = [
        (json!("end_turn"), FinishReason::Stop),
        (json!("stop_sequence"), FinishReason::Stop),
        (json!("max_tokens"), FinishReason::Length),
        (json!("tool_use"), FinishReason::ToolCalls),
        (json!("refusal"), FinishReason::ContentFilter),
        (json!("pause_turn"), FinishReason::Stop),
        (Value::Null, FinishReason::Stop),
    ];
    for (reason, expected) in cases {
        let body = json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
            "content": [{"type": "text", "text": "x", "citations": null}], "stop_reason": reason, "stop_sequence": null,
            "usage": {"input_tokens": 3, "output_tokens": 1, "cache_creation": null, "cache_creation_input_tokens": null,
                      "cache_read_input_tokens": null, "server_tool_use": null, "service_tier": null}
        });
        let r = adapter()
            .parse_chat(&serde_json::to_vec(&body).expect("bytes"), "m")
            .expect("parses");
        assert_eq!(r.choices[0].finish_reason, Some(expected), "{reason}");
        assert_eq!(usage_of(&r), (3, 1, 4, None, None));
    }
}

#[test]
fn malformed_answers_are_invalid_response() {
    for body in [
        &b"not json"[..],
        br#"{"id":"msg_1","type":"message"}"#,
        br#"{"id":"msg_1","content":[{"type":"tool_use","id":"t"}]}"#,
    ] {
        let err = adapter().parse_chat(body, "m").expect_err("malformed");
        assert_eq!(err.kind, ErrorKind::InvalidResponse);
        assert_eq!(err.provider.as_deref(), Some("anthropic"));
    }
}

// ---------------------------------------------------------------- error answers

fn error_body(kind: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"
    }))
    .expect("bytes")
}

#[test]
fn every_error_type_maps_to_a_kind() {
    let cases = [
        (
            400,
            "invalid_request_error",
            "max_tokens: Field required",
            ErrorKind::BadRequest,
        ),
        (
            400,
            "invalid_request_error",
            "prompt is too long: 208310 tokens > 200000 maximum",
            ErrorKind::ContextWindowExceeded,
        ),
        (
            401,
            "authentication_error",
            "invalid x-api-key",
            ErrorKind::Auth,
        ),
        (
            402,
            "billing_error",
            "Your credit balance is too low",
            ErrorKind::PermissionDenied,
        ),
        (
            403,
            "permission_error",
            "not allowed",
            ErrorKind::PermissionDenied,
        ),
        (
            404,
            "not_found_error",
            "model: claude-nope",
            ErrorKind::NotFound,
        ),
        (
            413,
            "request_too_large",
            "Request exceeds the maximum size",
            ErrorKind::BadRequest,
        ),
        (
            429,
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit",
            ErrorKind::RateLimited,
        ),
        (
            500,
            "api_error",
            "Internal server error",
            ErrorKind::Unavailable,
        ),
        (504, "timeout_error", "Request timeout", ErrorKind::Timeout),
        (
            529,
            "overloaded_error",
            "Overloaded",
            ErrorKind::Unavailable,
        ),
        (409, "conflict_error", "conflict", ErrorKind::Unavailable),
    ];
    for (status, kind, message, expected) in cases {
        let err = adapter().parse_error(status, &HeaderMap::new(), &error_body(kind, message));
        assert_eq!(err.kind, expected, "{kind}");
        assert_eq!(err.status, Some(status));
        assert_eq!(err.code.as_deref(), Some(kind));
        assert_eq!(err.provider.as_deref(), Some("anthropic"));
        assert_eq!(
            err.message,
            format!("{message} (request id req_011CSHoEeqs5C35K2UUqR7Fy)")
        );
        assert_eq!(err.retry_after, None);
    }
}

#[test]
fn retry_after_comes_from_headers() {
    let mut h = HeaderMap::new();
    h.insert("retry-after", HeaderValue::from_static("12"));
    let err = adapter().parse_error(429, &h, &error_body("rate_limit_error", "slow down"));
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.retry_after, Some(Duration::from_secs(12)));

    let at =
        humantime::format_rfc3339_seconds(std::time::SystemTime::now() + Duration::from_secs(3600))
            .to_string();
    let mut h = HeaderMap::new();
    h.insert(
        "anthropic-ratelimit-tokens-reset",
        HeaderValue::from_str(&at).expect("valid"),
    );
    let err = adapter().parse_error(429, &h, &error_body("rate_limit_error", "slow down"));
    let after = err.retry_after.expect("reset header read");
    assert!(
        after > Duration::from_secs(3590) && after <= Duration::from_secs(3600),
        "{after:?}"
    );

    let mut h = HeaderMap::new();
    h.insert("retry-after", HeaderValue::from_static("30"));
    let err = adapter().parse_error(529, &h, &error_body("overloaded_error", "Overloaded"));
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(err.retry_after, Some(Duration::from_secs(30)));
}

#[test]
fn non_json_error_bodies_use_the_status() {
    let html = format!("<html><body>{}</body></html>", "x".repeat(500));
    let err = adapter().parse_error(502, &HeaderMap::new(), html.as_bytes());
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(err.status, Some(502));
    assert_eq!(err.code, None);
    assert_eq!(err.provider.as_deref(), Some("anthropic"));
    assert_eq!(err.message, format!("HTTP 502: {}", &html[..200]));

    let err = adapter().parse_error(413, &HeaderMap::new(), b"request entity too large");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.message, "HTTP 413: request entity too large");

    let err = adapter().parse_error(401, &HeaderMap::new(), b"");
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.message, "HTTP 401 with an empty body");
}

#[test]
fn message_fallback_relabels_model_and_skips_unknown_blocks() {
    let body = json!({
        "id": "msg_fb", "type": "message", "role": "assistant", "model": "claude-opus-4-7",
        "content": [
            {"type": "fallback", "from": {"model": "claude-opus-4-7"}, "to": {"model": "claude-sonnet-4-5"},
             "trigger": {"type": "refusal", "category": null}},
            {"type": "compaction", "content": "Earlier conversation summarized.", "encrypted_content": "Epw"},
            {"type": "text", "text": "Hello there!", "citations": null}
        ],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 25, "output_tokens": 8}
    });
    let r = adapter()
        .parse_chat(&serde_json::to_vec(&body).expect("bytes"), "m")
        .expect("parses");
    assert_eq!(r.model, "claude-sonnet-4-5");
    assert_eq!(r.text(), Some("Hello there!"));
    assert!(r.choices[0].message.extra.is_empty());
    assert_eq!(usage_of(&r), (25, 8, 33, None, None));
}
