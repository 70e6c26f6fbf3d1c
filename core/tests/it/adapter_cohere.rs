//! The Cohere v2 adapter, tested from wire data in tests/fixtures/cohere (constructed from
//! Cohere's published API reference; see the README there).

use http::HeaderMap;
use serde_json::{json, Value};
use std::time::Duration;
use switchpoint_core::api::{
    ChatChunk, ChatRequest, EmbeddingRequest, EmbeddingVector, Error, ErrorKind, FinishReason,
    StreamAccumulator,
};
use switchpoint_core::config::Secret;
use switchpoint_core::providers::cohere::CohereAdapter;
use switchpoint_core::providers::{
    Adapter, ProviderKind, ProviderSettings, StreamEvent, StreamStep,
};

fn adapter() -> CohereAdapter {
    CohereAdapter::new(ProviderSettings {
        name: "cohere".into(),
        kind: ProviderKind::Cohere,
        base_url: "https://api.cohere.com/".into(),
        api_key: Some(Secret::new("co-key")),
        headers: Vec::new(),
        api_version: None,
    })
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/fixtures/cohere/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).expect("fixture exists")
}

/// (event, data) pairs of an SSE text.
fn sse_events(text: &str) -> Vec<(String, String)> {
    let mut events = Vec::new();
    let (mut name, mut data) = (String::new(), Vec::<String>::new());
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            if !data.is_empty() {
                events.push((std::mem::take(&mut name), data.join("\n")));
                data.clear();
            }
            continue;
        }
        if let Some(v) = line.strip_prefix("event:") {
            name = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
        }
    }
    events
}

/// Decodes a fixture stream: the chunks, and the error it ended with (from an event or the end).
fn decode(name: &str) -> (Vec<ChatChunk>, Option<Error>) {
    let text = String::from_utf8(fixture(name)).expect("utf8");
    let mut decoder = adapter().stream_decoder("command-a-03-2025");
    let mut out = Vec::new();
    for (event, data) in sse_events(&text) {
        match decoder.on_event(
            StreamEvent {
                event: &event,
                data: &data,
            },
            &mut out,
        ) {
            Ok(StreamStep::Continue) => {}
            Ok(StreamStep::Done) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
    let end = decoder.on_end(&mut out).err();
    (out, end)
}

fn fold(chunks: &[ChatChunk]) -> Value {
    let mut acc = StreamAccumulator::new();
    for c in chunks {
        acc.push(c);
    }
    serde_json::to_value(acc.finish()).expect("json")
}

fn body_of(req: &http::Request<bytes::Bytes>) -> Value {
    serde_json::from_slice(req.body()).expect("json body")
}

fn request(v: Value) -> ChatRequest {
    serde_json::from_value(v).expect("request")
}

#[test]
fn chat_request_translates_roles_tools_and_sampling() {
    let req = request(json!({
        "model": "command",
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "weather?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}}]},
            {"role": "assistant", "content": "Let me look.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
                  {"type": "function", "function": {"name": "get_time"}}],
        "tool_choice": "required",
        "temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 100, "stop": "END", "seed": 4,
        "frequency_penalty": 0.1, "presence_penalty": 0.3,
        "parallel_tool_calls": false, "user": "u1",
        "extra_body": {"safety_mode": "STRICT"}
    }));
    let http = adapter()
        .chat_request(&req, "command-a-03-2025", false)
        .expect("request");
    assert_eq!(http.uri(), "https://api.cohere.com/v2/chat");
    assert_eq!(http.headers()["authorization"], "Bearer co-key");
    let body = body_of(&http);
    assert_eq!(
        body,
        json!({
            "model": "command-a-03-2025",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "weather?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}}]},
                {"role": "assistant", "tool_plan": "Let me look.", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
            ],
            "tools": [
                {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
                {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
            ],
            "tool_choice": "REQUIRED",
            "temperature": 0.2, "p": 0.9, "max_tokens": 100, "stop_sequences": ["END"], "seed": 4,
            "presence_penalty": 0.3, "frequency_penalty": 0.1,
            "safety_mode": "STRICT"
        })
    );
    let streamed = adapter()
        .chat_request(&req, "command-a-03-2025", true)
        .expect("request");
    assert_eq!(body_of(&streamed)["stream"], json!(true));
}

#[test]
fn tool_choice_none_named_and_n_are_handled() {
    let mut req = request(
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "a"}}, {"type": "function", "function": {"name": "b"}}],
        "tool_choice": {"type": "function", "function": {"name": "b"}}}),
    );
    let body = body_of(&adapter().chat_request(&req, "m", false).expect("request"));
    assert_eq!(body["tool_choice"], "REQUIRED");
    assert_eq!(body["tools"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["tools"][0]["function"]["name"], "b");
    req.tool_choice = serde_json::from_value(json!("none")).expect("choice");
    let body = body_of(&adapter().chat_request(&req, "m", false).expect("request"));
    assert_eq!(body["tool_choice"], "NONE");
    req.n = Some(2);
    let err = adapter()
        .chat_request(&req, "m", false)
        .expect_err("n refused");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.param.as_deref(), Some("n"));
    assert_eq!(err.provider.as_deref(), Some("cohere"));
}

#[test]
fn json_schema_response_format_is_json_object_with_schema() {
    let req = request(
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}}}}),
    );
    let body = body_of(&adapter().chat_request(&req, "m", false).expect("request"));
    assert_eq!(
        body["response_format"],
        json!({"type": "json_object", "json_schema": {"type": "object"}})
    );
}

#[test]
fn grounded_answer_renders_citations_and_bills_billed_units() {
    let resp = adapter()
        .parse_chat(&fixture("chat_text.json"), "command-a-03-2025")
        .expect("parsed");
    assert_eq!(resp.id, "c14c80c3-18eb-4519-9460-6c92edd8cfb4");
    assert_eq!(resp.model, "command-a-03-2025");
    assert_eq!(
        resp.text(),
        Some(
            "Emperor penguins are the tallest. They live in Antarctica.\n\nCitations:\n\
             [1] \"Emperor penguins\" (document: doc:0)\n\
             [2] \"Antarctica\" (tool: search_penguins_2b4v:0)"
        )
    );
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Stop));
    let usage = resp.usage.expect("usage");
    assert_eq!(
        (
            usage.prompt_tokens.get(),
            usage.completion_tokens.get(),
            usage.total_tokens.get()
        ),
        (512, 14, 526)
    );
}

#[test]
fn tool_calls_and_tool_plan_are_parsed() {
    let resp = adapter()
        .parse_chat(&fixture("chat_tool_calls.json"), "command-a-03-2025")
        .expect("parsed");
    let choice = &resp.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(choice.message.content, None);
    assert_eq!(
        choice.message.extra["reasoning_content"],
        "I will look up the weather in Toronto and the time there."
    );
    let calls = choice.message.tool_calls.as_ref().expect("calls");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "get_weather_1byjy32y4hvq");
    assert_eq!(calls[0].function.name, "get_weather");
    assert_eq!(calls[0].function.arguments, "{\"location\":\"Toronto\"}");
    assert_eq!(calls[1].function.name, "get_time");
}

#[test]
fn finish_reasons_map_and_errors_are_typed() {
    let body = |r: &str| {
        format!(
            r#"{{"id":"x","finish_reason":"{r}","message":{{"role":"assistant","content":[{{"type":"text","text":"a"}}]}}}}"#
        )
    };
    let reason = |r: &str| {
        adapter()
            .parse_chat(body(r).as_bytes(), "m")
            .map(|resp| resp.choices[0].finish_reason)
    };
    assert_eq!(
        reason("MAX_TOKENS").ok().flatten(),
        Some(FinishReason::Length)
    );
    assert_eq!(
        reason("STOP_SEQUENCE").ok().flatten(),
        Some(FinishReason::Stop)
    );
    let err = reason("ERROR").expect_err("error finish");
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(err.code.as_deref(), Some("ERROR"));
    assert_eq!(err.provider.as_deref(), Some("cohere"));
    assert_eq!(
        reason("TIMEOUT").expect_err("timeout").kind,
        ErrorKind::Timeout
    );
    let err = adapter()
        .parse_chat(b"{\"id\":", "m")
        .expect_err("bad json");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
}

#[test]
fn streamed_tool_calls_fold_to_the_calls() {
    let (chunks, err) = decode("stream_tools.sse");
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        chunks[0].choices[0].delta.role,
        Some(switchpoint_core::api::Role::Assistant)
    );
    assert!(chunks
        .iter()
        .all(|c| c.id == "29f14a5a-11de-4cae-9800-25e4747408ea"));
    // The first piece of each call carries id, name and empty arguments.
    let heads: Vec<_> = chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.delta.tool_calls.as_ref())
        .flatten()
        .filter(|t| t.id.is_some())
        .collect();
    assert_eq!(heads.len(), 2);
    assert_eq!(
        heads[0]
            .function
            .as_ref()
            .and_then(|f| f.arguments.as_deref()),
        Some("")
    );
    let last = chunks.last().expect("usage chunk");
    assert!(last.choices.is_empty());
    assert_eq!(last.usage.as_ref().map(|u| u.prompt_tokens.get()), Some(37));
    let folded = fold(&chunks);
    let msg = &folded["choices"][0]["message"];
    assert_eq!(msg["tool_calls"][0]["id"], "get_weather_nsz5zm3w56q3");
    assert_eq!(
        msg["tool_calls"][0]["function"]["arguments"],
        "{\n    \"location\": \"Toronto\"\n}"
    );
    assert_eq!(msg["tool_calls"][1]["function"]["name"], "get_time");
    assert_eq!(msg["tool_calls"][1]["function"]["arguments"], "{}");
    assert_eq!(folded["choices"][0]["finish_reason"], "tool_calls");
    // The tool plan went out as reasoning deltas.
    let plan: String = chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.delta.extra.get("reasoning_content")?.as_str())
        .collect();
    assert_eq!(plan, "I will search the weather.");
}

#[test]
fn streamed_citations_come_as_text_before_the_finish() {
    let (chunks, err) = decode("stream_text_citations.sse");
    assert!(err.is_none(), "{err:?}");
    let folded = fold(&chunks);
    assert_eq!(
        folded["choices"][0]["message"]["content"],
        "It is 18 degrees in Toronto.\n\nCitations:\n[1] \"18 degrees\" (tool: get_weather_nsz5zm3w56q3:0)"
    );
    assert_eq!(folded["choices"][0]["finish_reason"], "stop");
    assert_eq!(folded["usage"]["prompt_tokens"], 95);
    assert_eq!(folded["usage"]["completion_tokens"], 8);
}

#[test]
fn stream_error_and_cut_stream_are_typed() {
    let (chunks, err) = decode("stream_error.sse");
    assert_eq!(chunks.len(), 1);
    let err = err.expect("error");
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(err.message, "internal error during generation");
    assert_eq!(err.provider.as_deref(), Some("cohere"));

    // The same text stream without its message-end: a connection error, never silence.
    let text = String::from_utf8(fixture("stream_text_citations.sse")).expect("utf8");
    let cut = text.split("event: message-end").next().expect("prefix");
    let mut decoder = adapter().stream_decoder("m");
    let mut out = Vec::new();
    for (event, data) in sse_events(cut) {
        let step = decoder
            .on_event(
                StreamEvent {
                    event: &event,
                    data: &data,
                },
                &mut out,
            )
            .expect("event");
        assert_eq!(step, StreamStep::Continue);
    }
    let err = decoder.on_end(&mut out).expect_err("cut");
    assert_eq!(err.kind, ErrorKind::Connection);
    assert!(err.message.contains("message-end"), "{}", err.message);
}

#[test]
fn embed_request_and_answer() {
    let req: EmbeddingRequest = serde_json::from_value(json!({
        "model": "e", "input": ["hello", "goodbye"], "dimensions": 256,
        "extra_body": {"input_type": "search_query", "truncate": "END"}
    }))
    .expect("request");
    let http = adapter()
        .embed_request(&req, "embed-v4.0")
        .expect("request");
    assert_eq!(http.uri(), "https://api.cohere.com/v2/embed");
    assert_eq!(
        body_of(&http),
        json!({"model": "embed-v4.0", "texts": ["hello", "goodbye"], "input_type": "search_query",
               "embedding_types": ["float"], "output_dimension": 256, "truncate": "END"})
    );
    let resp = adapter()
        .parse_embed(&fixture("embed.json"), "embed-v4.0")
        .expect("parsed");
    assert_eq!(resp.data.len(), 2);
    assert_eq!(resp.data[1].index, 1);
    assert_eq!(
        resp.data[0].embedding,
        EmbeddingVector::Float(vec![0.016296387, -0.008354187, -0.04699707])
    );
    assert_eq!(resp.usage.prompt_tokens.get(), 2);
    let tokens: EmbeddingRequest =
        serde_json::from_value(json!({"model": "e", "input": [1, 2]})).expect("request");
    assert_eq!(
        adapter()
            .embed_request(&tokens, "e")
            .expect_err("tokens")
            .kind,
        ErrorKind::BadRequest
    );
}

#[test]
fn error_bodies_are_classified_with_retry_after() {
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", "7".parse().expect("header"));
    let err = adapter().parse_error(
        429,
        &headers,
        br#"{"id":"1a2b","message":"You are using a Trial key, which is limited to 20 API calls / minute."}"#,
    );
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(err.status, Some(429));
    assert_eq!(
        err.message,
        "You are using a Trial key, which is limited to 20 API calls / minute."
    );
    let none = HeaderMap::new();
    assert_eq!(
        adapter()
            .parse_error(498, &none, br#"{"message":"invalid api token"}"#)
            .kind,
        ErrorKind::Auth
    );
    assert_eq!(
        adapter()
            .parse_error(400, &none, br#"{"message":"too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292."}"#)
            .kind,
        ErrorKind::ContextWindowExceeded
    );
}
