//! The Bedrock Converse adapter, tested from wire data in the shapes of the botocore service
//! description (`tests/specs/bedrock/service-2.json`) and a binary ConverseStream body
//! (`tests/fixtures/bedrock/`), decoded by the transport's event-stream decoder.

use http::{HeaderMap, HeaderValue, Method};
use serde_json::{json, Value};
use switchpoint_core::api::{
    ChatChunk, ChatRequest, Error, ErrorKind, FinishReason, StreamAccumulator, TokenCount,
};
use switchpoint_core::config::Secret;
use switchpoint_core::providers::{
    adapter_for, Adapter, Framing, ProviderKind, ProviderSettings, StreamEvent, StreamStep,
};
use switchpoint_core::transport::EventStreamDecoder;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/bedrock");

fn settings(api_key: Option<&str>) -> ProviderSettings {
    ProviderSettings {
        name: "bedrock".into(),
        kind: ProviderKind::Bedrock,
        base_url: "https://bedrock-runtime.us-east-1.amazonaws.com".into(),
        api_key: api_key.map(Secret::new),
        headers: Vec::new(),
        api_version: None,
    }
}

fn adapter() -> std::sync::Arc<dyn Adapter> {
    adapter_for(settings(None))
}

fn request(v: Value) -> ChatRequest {
    serde_json::from_value(v).expect("valid request")
}

fn body_of(req: &http::Request<bytes::Bytes>) -> Value {
    serde_json::from_slice(req.body()).expect("JSON body")
}

#[test]
fn converse_request_translates_every_field() {
    let req = request(json!({
        "model": "claude",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Use metric units."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this picture, and the weather in Paris?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
            ]},
            {"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "tooluse_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "tooluse_1", "content": "18C, sunny"},
            {"role": "user", "content": "Thanks"}
        ],
        "max_completion_tokens": 300,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["END"],
        "tools": [{"type": "function", "function": {
            "name": "get_weather", "description": "Weather by city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        }}],
        "tool_choice": "required",
        "extra_body": {"additionalModelRequestFields": {"top_k": 40}}
    }));
    let http = adapter()
        .chat_request(&req, "anthropic.claude-3-5-haiku-20241022-v1:0", false)
        .expect("request");
    assert_eq!(http.method(), Method::POST);
    assert_eq!(
        http.uri().to_string(),
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    );
    assert_eq!(http.headers()["accept"], "application/json");
    assert_eq!(http.headers()["content-type"], "application/json");
    assert!(
        http.headers().get("authorization").is_none(),
        "SigV4 is added by the transport"
    );
    assert_eq!(
        body_of(&http),
        json!({
            "system": [{"text": "Be brief."}, {"text": "Use metric units."}],
            "messages": [
                {"role": "user", "content": [
                    {"text": "What is in this picture, and the weather in Paris?"},
                    {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}
                ]},
                {"role": "assistant", "content": [
                    {"text": "Checking."},
                    {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}}
                ]},
                {"role": "user", "content": [
                    {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "18C, sunny"}]}},
                    {"text": "Thanks"}
                ]}
            ],
            "inferenceConfig": {"maxTokens": 300, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
            "toolConfig": {
                "tools": [{"toolSpec": {
                    "name": "get_weather", "description": "Weather by city",
                    "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
                }}],
                "toolChoice": {"any": {}}
            },
            "additionalModelRequestFields": {"top_k": 40}
        })
    );
}

#[test]
fn stream_requests_ask_for_the_event_stream() {
    let a = adapter();
    assert_eq!(a.framing(), Framing::AwsEventStream);
    let req = request(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
    let http = a
        .chat_request(&req, "amazon.nova-pro-v1:0", true)
        .expect("request");
    assert!(http
        .uri()
        .path()
        .ends_with("/model/amazon.nova-pro-v1%3A0/converse-stream"));
    assert_eq!(
        http.headers()["accept"],
        "application/vnd.amazon.eventstream"
    );
    assert_eq!(
        body_of(&http),
        json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})
    );
}

#[test]
fn named_tool_choice_json_schema_and_api_key() {
    let req = request(json!({
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "lookup"}}],
        "tool_choice": {"type": "function", "function": {"name": "lookup"}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}}
    }));
    let http = adapter_for(settings(Some("bedrock-api-key-123")))
        .chat_request(&req, "m", false)
        .expect("request");
    assert_eq!(
        http.headers()["authorization"],
        "Bearer bedrock-api-key-123"
    );
    assert!(http.headers()["authorization"].is_sensitive());
    let body = body_of(&http);
    assert_eq!(
        body["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "lookup"}})
    );
    assert_eq!(
        body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"],
        json!({"json": {"type": "object", "properties": {}}})
    );
    assert_eq!(
        body["outputConfig"],
        json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": "{\"type\":\"object\"}", "name": "answer"}}}})
    );
}

#[test]
fn requests_bedrock_cannot_take_are_refused_naming_the_field() {
    let a = adapter();
    let err = a
        .chat_request(
            &request(
                json!({"model": "m", "messages": [{"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
                ]}]}),
            ),
            "m",
            false,
        )
        .expect_err("URL images");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(
        err.param.as_deref(),
        Some("messages[0].content[0].image_url")
    );
    assert_eq!(err.provider.as_deref(), Some("bedrock"));
    let err = a
        .chat_request(
            &request(json!({"model": "m", "n": 2, "messages": [{"role": "user", "content": "x"}]})),
            "m",
            false,
        )
        .expect_err("n");
    assert_eq!(err.param.as_deref(), Some("n"));
    let err = a
        .chat_request(
            &request(
                json!({"model": "m", "messages": [{"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,Qk0="}}
                ]}]}),
            ),
            "m",
            false,
        )
        .expect_err("bmp");
    assert!(err.message.contains("image/bmp"), "{}", err.message);
}

#[test]
fn tool_choice_none_leaves_tools_out_of_a_fresh_conversation() {
    let req = request(json!({
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "lookup"}}],
        "tool_choice": "none"
    }));
    let body = body_of(&adapter().chat_request(&req, "m", false).expect("request"));
    assert!(body.get("toolConfig").is_none(), "{body}");
}

#[test]
fn converse_answer_with_reasoning_and_cache_reads() {
    let body = std::fs::read(format!("{FIXTURES}/converse-response.json")).expect("fixture");
    let resp = adapter()
        .parse_chat(&body, "anthropic.claude-sonnet-4-5")
        .expect("parses");
    assert!(resp.id.starts_with("chatcmpl-bedrock-"), "{}", resp.id);
    assert_eq!(resp.model, "anthropic.claude-sonnet-4-5");
    let choice = &resp.choices[0];
    assert_eq!(
        choice.message.content.as_deref(),
        Some("Hello! How can I help you today?")
    );
    assert_eq!(
        choice.message.extra["reasoning_content"],
        json!("The user greets me.")
    );
    assert_eq!(choice.finish_reason, Some(FinishReason::Stop));
    let usage = resp.usage.expect("usage");
    assert_eq!(usage.prompt_tokens, TokenCount(12 + 1024));
    assert_eq!(usage.completion_tokens, TokenCount(9));
    assert_eq!(usage.total_tokens, TokenCount(1045));
    assert_eq!(usage.cached_tokens(), TokenCount(1024));
    let details = usage.prompt_tokens_details.expect("details");
    assert_eq!(details.cache_creation_tokens, Some(TokenCount(0)));
}

#[test]
fn converse_answer_with_tool_calls() {
    let body = std::fs::read(format!("{FIXTURES}/converse-tool-use.json")).expect("fixture");
    let resp = adapter().parse_chat(&body, "m").expect("parses");
    let msg = &resp.choices[0].message;
    assert_eq!(msg.content.as_deref(), Some("Let me look that up."));
    let calls = msg.tool_calls.as_ref().expect("tool calls");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q");
    assert_eq!(calls[0].function.name, "get_weather");
    let args: Value = serde_json::from_str(&calls[0].function.arguments).expect("JSON args");
    assert_eq!(args, json!({"city": "Paris", "unit": "celsius"}));
    assert_eq!(calls[1].function.arguments, "{}");
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::ToolCalls));
    let usage = resp.usage.expect("usage");
    assert_eq!(usage.prompt_tokens, TokenCount(320));
    assert!(usage.prompt_tokens_details.is_none());
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    for (reason, finish) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("model_context_window_exceeded", FinishReason::Length),
        ("tool_use", FinishReason::ToolCalls),
        ("guardrail_intervened", FinishReason::ContentFilter),
        ("content_filtered", FinishReason::ContentFilter),
    ] {
        let body = json!({"output": {"message": {"role": "assistant", "content": [{"text": "x"}]}},
            "stopReason": reason, "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            "metrics": {"latencyMs": 1}});
        let resp = adapter()
            .parse_chat(body.to_string().as_bytes(), "m")
            .expect("parses");
        assert_eq!(resp.choices[0].finish_reason, Some(finish), "{reason}");
    }
    let err = adapter()
        .parse_chat(b"{\"nope\":1}", "m")
        .expect_err("not converse");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
}

/// Decodes a binary body fed in `piece`-byte reads and runs every frame through the decoder.
fn play(bytes: &[u8], piece: usize) -> (Vec<ChatChunk>, Result<(), Error>) {
    let mut frames = EventStreamDecoder::new();
    let mut decoder = adapter().stream_decoder("anthropic.claude-sonnet-4-5");
    let mut chunks = Vec::new();
    for part in bytes.chunks(piece) {
        frames.push(part);
        while let Some(frame) = frames.next_frame().expect("valid framing") {
            let step = decoder.on_event(
                StreamEvent {
                    event: &frame.event,
                    data: &frame.data,
                },
                &mut chunks,
            );
            match step {
                Ok(StreamStep::Continue) => {}
                Ok(StreamStep::Done) => return (chunks, Ok(())),
                Err(e) => return (chunks, Err(e)),
            }
        }
    }
    let end = decoder.on_end(&mut chunks);
    (chunks, end)
}

#[test]
fn converse_stream_assembles_text_tool_call_and_usage_at_any_read_size() {
    let bytes = std::fs::read(format!("{FIXTURES}/converse-stream.bin")).expect("fixture");
    for piece in [1, 2, 3, 5, 7, 64, bytes.len()] {
        let (chunks, end) = play(&bytes, piece);
        end.expect("complete stream");
        assert_eq!(
            chunks[0].choices[0].delta.role,
            Some(switchpoint_core::api::Role::Assistant)
        );
        let ids: std::collections::HashSet<&str> = chunks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), 1, "one id across the stream");
        let last = chunks.last().expect("chunks");
        assert!(last.choices.is_empty(), "usage chunk has no choices");
        let mut acc = StreamAccumulator::new();
        for c in &chunks {
            acc.push(c);
        }
        let resp = acc.finish();
        let msg = &resp.choices[0].message;
        assert_eq!(
            msg.content.as_deref(),
            Some("Hello, I will check the weather.")
        );
        let calls = msg.tool_calls.as_ref().expect("tool call");
        assert_eq!(calls[0].id, "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q");
        assert_eq!(calls[0].function.name, "get_weather");
        assert_eq!(calls[0].function.arguments, "{\"city\": \"Paris\"}");
        assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        let usage = resp.usage.expect("usage");
        assert_eq!(usage.prompt_tokens, TokenCount(412 + 600 + 200));
        assert_eq!(usage.completion_tokens, TokenCount(58));
        assert_eq!(usage.total_tokens, TokenCount(1270));
        assert_eq!(usage.cached_tokens(), TokenCount(600));
        assert_eq!(
            usage
                .prompt_tokens_details
                .and_then(|d| d.cache_creation_tokens),
            Some(TokenCount(200))
        );
    }
}

#[test]
fn an_in_stream_throttling_exception_is_rate_limited_after_the_text() {
    let bytes =
        std::fs::read(format!("{FIXTURES}/converse-stream-throttled.bin")).expect("fixture");
    let (chunks, end) = play(&bytes, 3);
    assert_eq!(chunks.len(), 1);
    assert_eq!(
        chunks[0].choices[0].delta.content.as_deref(),
        Some("Partial")
    );
    let err = end.expect_err("exception");
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.code.as_deref(), Some("throttlingException"));
    assert_eq!(err.provider.as_deref(), Some("bedrock"));
    assert_eq!(
        err.message,
        "Too many tokens, please wait before trying again."
    );
}

#[test]
fn every_stream_exception_has_its_kind() {
    for (name, message, kind) in [
        ("throttlingException", "slow down", ErrorKind::RateLimited),
        (
            "modelStreamErrorException",
            "model stream broke",
            ErrorKind::Unavailable,
        ),
        ("validationException", "bad input", ErrorKind::BadRequest),
        (
            "validationException",
            "Input is too long for requested model.",
            ErrorKind::ContextWindowExceeded,
        ),
        (
            "serviceUnavailableException",
            "down",
            ErrorKind::Unavailable,
        ),
        ("internalServerException", "oops", ErrorKind::Unavailable),
        (
            "InternalFailure",
            "framing-level error",
            ErrorKind::Unavailable,
        ),
    ] {
        let mut d = adapter().stream_decoder("m");
        let mut out = Vec::new();
        let data = json!({"message": message}).to_string();
        let err = d
            .on_event(
                StreamEvent {
                    event: name,
                    data: &data,
                },
                &mut out,
            )
            .expect_err("exception ends the stream");
        assert_eq!(err.kind, kind, "{name}: {message}");
        assert_eq!(err.code.as_deref(), Some(name));
        assert_eq!(err.message, message);
    }
}

#[test]
fn a_stream_cut_before_message_stop_is_a_connection_error() {
    let bytes = std::fs::read(format!("{FIXTURES}/converse-stream.bin")).expect("fixture");
    // The first three messages only (messageStart and two text deltas).
    let mut frames = EventStreamDecoder::new();
    frames.push(&bytes);
    let mut d = adapter().stream_decoder("m");
    let mut out = Vec::new();
    for _ in 0..3 {
        let f = frames.next_frame().expect("ok").expect("frame");
        d.on_event(
            StreamEvent {
                event: &f.event,
                data: &f.data,
            },
            &mut out,
        )
        .expect("event");
    }
    let err = d.on_end(&mut out).expect_err("cut");
    assert_eq!(err.kind, ErrorKind::Connection);
    assert!(err.message.contains("messageStop"), "{}", err.message);
    // An unknown future event type is skipped.
    let mut d = adapter().stream_decoder("m");
    assert_eq!(
        d.on_event(
            StreamEvent {
                event: "somethingNew",
                data: "{}"
            },
            &mut out
        )
        .expect("ignored"),
        StreamStep::Continue
    );
}

fn error_of(status: u16, error_type: Option<&str>, body: &str) -> Error {
    let mut headers = HeaderMap::new();
    if let Some(t) = error_type {
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_str(t).expect("header"),
        );
    }
    headers.insert("x-amzn-requestid", HeaderValue::from_static("8f3c"));
    adapter().parse_error(status, &headers, body.as_bytes())
}

#[test]
fn http_errors_are_classified_by_their_shape_name() {
    let cases = [
        (429, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", "Too many requests, please wait before trying again.", ErrorKind::RateLimited, "ThrottlingException"),
        (400, "ValidationException", "Malformed input request: #: extraneous key [foo] is not permitted", ErrorKind::BadRequest, "ValidationException"),
        (400, "ValidationException", "The model returned the following errors: prompt is too long: 215000 tokens > 200000 maximum", ErrorKind::ContextWindowExceeded, "ValidationException"),
        (403, "AccessDeniedException", "You don't have access to the model with the specified model ID.", ErrorKind::PermissionDenied, "AccessDeniedException"),
        (403, "UnrecognizedClientException", "The security token included in the request is invalid.", ErrorKind::Auth, "UnrecognizedClientException"),
        (403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.", ErrorKind::Auth, "InvalidSignatureException"),
        (404, "ResourceNotFoundException", "Could not resolve the foundation model from the provided model identifier.", ErrorKind::NotFound, "ResourceNotFoundException"),
        (408, "ModelTimeoutException", "Model has timed out in processing the request.", ErrorKind::Timeout, "ModelTimeoutException"),
        (424, "ModelErrorException", "The system encountered an unexpected error during processing.", ErrorKind::Unavailable, "ModelErrorException"),
        (429, "ModelNotReadyException", "Model is not ready for inference.", ErrorKind::Unavailable, "ModelNotReadyException"),
        (500, "InternalServerException", "Internal error", ErrorKind::Unavailable, "InternalServerException"),
        (503, "ServiceUnavailableException", "Bedrock is unable to process your request.", ErrorKind::Unavailable, "ServiceUnavailableException"),
    ];
    for (status, kind_header, message, kind, code) in cases {
        let body = json!({"message": message}).to_string();
        let err = error_of(status, Some(kind_header), &body);
        assert_eq!(err.kind, kind, "{kind_header}");
        assert_eq!(err.status, Some(status));
        assert_eq!(err.code.as_deref(), Some(code));
        assert_eq!(err.message, message);
        assert_eq!(err.provider.as_deref(), Some("bedrock"));
    }
}

#[test]
fn error_code_from_the_body_and_unparseable_bodies() {
    let err = error_of(
        400,
        None,
        r#"{"__type":"com.amazon.coral.validate#ValidationException","Message":"bad"}"#,
    );
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.code.as_deref(), Some("ValidationException"));
    assert_eq!(err.message, "bad");
    let err = error_of(502, None, "<html>Bad Gateway</html>");
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(err.message, "HTTP 502: <html>Bad Gateway</html>");
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amzn-errortype",
        HeaderValue::from_static("ThrottlingException"),
    );
    headers.insert("retry-after", HeaderValue::from_static("3"));
    let err = adapter().parse_error(429, &headers, br#"{"message":"slow"}"#);
    assert_eq!(err.retry_after, Some(std::time::Duration::from_secs(3)));
}

#[test]
fn embeddings_need_an_embedding_model() {
    let req: switchpoint_core::api::EmbeddingRequest =
        serde_json::from_value(json!({"model": "m", "input": "x"})).expect("req");
    let err = adapter()
        .embed_request(&req, "anthropic.claude-3-haiku-20240307-v1:0")
        .expect_err("a chat model has no embeddings");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.param.as_deref(), Some("model"));
}
