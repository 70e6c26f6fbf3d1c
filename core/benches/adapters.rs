//! Adapter translation cost per provider: building a chat request, parsing a non-stream
//! answer, and decoding a whole stream through the provider's `StreamDecoder`.
//!
//! Run: `cargo bench -p switchpoint-core --bench adapters`
//!
//! Inputs are representative, not minimal: a system prompt, a user turn, one tool and the
//! usual sampling parameters on the way out; a ~50-word answer with usage on the way back,
//! and a 50-delta stream with the provider's start, finish, usage and end events.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use switchpoint_core::api::ChatChunk;
use switchpoint_core::config::Secret;
use switchpoint_core::providers::{
    adapter_for, Adapter, ProviderKind, ProviderSettings, StreamEvent, StreamStep,
};
use switchpoint_core::ChatRequest;

/// How many text deltas the representative stream carries.
const DELTAS: usize = 50;

/// One provider under test: its adapter, the model id it is called with, and its wire data.
struct Case {
    label: &'static str,
    adapter: std::sync::Arc<dyn Adapter>,
    model: &'static str,
    body: String,
    events: Vec<(String, String)>,
}

fn settings(kind: ProviderKind, base_url: &str, api_version: Option<&str>) -> ProviderSettings {
    ProviderSettings {
        name: kind.as_str().to_string(),
        kind,
        base_url: base_url.to_string(),
        api_key: Some(Secret::new("sk-bench-0123456789abcdef")),
        headers: Vec::new(),
        api_version: api_version.map(str::to_string),
    }
}

/// The words of the representative answer, one per stream delta.
fn words() -> Vec<String> {
    (0..DELTAS).map(|i| format!("word{i} ")).collect()
}

fn request() -> ChatRequest {
    ChatRequest::from_json(
        r#"{
          "model": "bench",
          "messages": [
            {"role": "system", "content": "You are a concise assistant. Answer in one paragraph and call tools when the user asks for live data."},
            {"role": "user", "content": "Summarise the trade-offs between running an LLM gateway in-process and as a separate proxy, in about fifty words."}
          ],
          "tools": [{"type": "function", "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {"type": "object", "properties": {
              "city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}
            }, "required": ["city"]}
          }}],
          "tool_choice": "auto",
          "temperature": 0.2,
          "max_tokens": 256,
          "stop": ["\n\n"],
          "user": "bench-user"
        }"#,
    )
    .expect("the representative request is valid")
}

fn openai_body(text: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1_741_569_952,
        "model": "gpt-4o-2024-08-06",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": 52, "completion_tokens": 50, "total_tokens": 102,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fc9f1d7035"
    })
    .to_string()
}

fn openai_events(words: &[String]) -> Vec<(String, String)> {
    let chunk = |delta: serde_json::Value, finish: serde_json::Value| {
        serde_json::json!({
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion.chunk",
            "created": 1_741_569_952, "model": "gpt-4o-2024-08-06",
            "system_fingerprint": "fp_fc9f1d7035",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
            "usage": null
        })
        .to_string()
    };
    let mut out = vec![(
        String::new(),
        chunk(
            serde_json::json!({"role": "assistant", "content": "", "refusal": null}),
            serde_json::Value::Null,
        ),
    )];
    for w in words {
        out.push((
            String::new(),
            chunk(serde_json::json!({"content": w}), serde_json::Value::Null),
        ));
    }
    out.push((String::new(), chunk(serde_json::json!({}), "stop".into())));
    out.push((
        String::new(),
        serde_json::json!({
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion.chunk",
            "created": 1_741_569_952, "model": "gpt-4o-2024-08-06",
            "system_fingerprint": "fp_fc9f1d7035", "choices": [],
            "usage": {"prompt_tokens": 52, "completion_tokens": 50, "total_tokens": 102,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}}
        })
        .to_string(),
    ));
    out.push((String::new(), "[DONE]".to_string()));
    out
}

fn anthropic_body(text: &str) -> String {
    serde_json::json!({
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": 52, "output_tokens": 50,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "service_tier": "standard"}
    })
    .to_string()
}

fn anthropic_events(words: &[String]) -> Vec<(String, String)> {
    let ev = |name: &str, data: serde_json::Value| (name.to_string(), data.to_string());
    let mut out = vec![
        ev(
            "message_start",
            serde_json::json!({"type": "message_start", "message": {
                "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant",
                "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": null,
                "stop_sequence": null, "usage": {"input_tokens": 52, "output_tokens": 1,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}),
        ),
        ev(
            "content_block_start",
            serde_json::json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}),
        ),
        ev("ping", serde_json::json!({"type": "ping"})),
    ];
    for w in words {
        out.push(ev(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": w}}),
        ));
    }
    out.push(ev(
        "content_block_stop",
        serde_json::json!({"type": "content_block_stop", "index": 0}),
    ));
    out.push(ev(
        "message_delta",
        serde_json::json!({"type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"output_tokens": 50}}),
    ));
    out.push(ev(
        "message_stop",
        serde_json::json!({"type": "message_stop"}),
    ));
    out
}

fn gemini_body(text: &str) -> String {
    serde_json::json!({
        "candidates": [{
            "content": {"parts": [{"text": text}], "role": "model"},
            "finishReason": "STOP",
            "avgLogprobs": -0.12,
            "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 52, "candidatesTokenCount": 50,
            "totalTokenCount": 102,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 52}]},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "mKxUaOHhJ4GZ1MkP0bW9wAM"
    })
    .to_string()
}

fn gemini_events(words: &[String]) -> Vec<(String, String)> {
    let last = words.len().saturating_sub(1);
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let mut cand = serde_json::json!({
                "content": {"parts": [{"text": w}], "role": "model"}, "index": 0
            });
            let mut chunk = serde_json::json!({
                "modelVersion": "gemini-2.5-flash", "responseId": "mKxUaOHhJ4GZ1MkP0bW9wAM"
            });
            if i == last {
                cand["finishReason"] = "STOP".into();
                chunk["usageMetadata"] = serde_json::json!({"promptTokenCount": 52,
                    "candidatesTokenCount": 50, "totalTokenCount": 102});
            }
            chunk["candidates"] = serde_json::json!([cand]);
            (String::new(), chunk.to_string())
        })
        .collect()
}

fn cases() -> Vec<Case> {
    let words = words();
    let text = words.concat().trim_end().to_string();
    vec![
        Case {
            label: "openai",
            adapter: adapter_for(settings(
                ProviderKind::OpenAi,
                "https://api.openai.com/v1",
                None,
            )),
            model: "gpt-4o-2024-08-06",
            body: openai_body(&text),
            events: openai_events(&words),
        },
        Case {
            label: "azure",
            adapter: adapter_for(settings(
                ProviderKind::AzureOpenAi,
                "https://bench-resource.openai.azure.com",
                Some("2024-10-21"),
            )),
            model: "gpt4o-deploy",
            body: openai_body(&text),
            events: openai_events(&words),
        },
        Case {
            label: "anthropic",
            adapter: adapter_for(settings(
                ProviderKind::Anthropic,
                "https://api.anthropic.com",
                Some("2023-06-01"),
            )),
            model: "claude-sonnet-4-5",
            body: anthropic_body(&text),
            events: anthropic_events(&words),
        },
        Case {
            label: "gemini",
            adapter: adapter_for(settings(
                ProviderKind::Gemini,
                "https://generativelanguage.googleapis.com",
                None,
            )),
            model: "gemini-2.5-flash",
            body: gemini_body(&text),
            events: gemini_events(&words),
        },
    ]
}

/// Feeds every event through a fresh decoder, then `on_end`; returns the chunks.
fn decode_all(case: &Case) -> Vec<ChatChunk> {
    let mut decoder = case.adapter.stream_decoder(case.model);
    let mut out = Vec::with_capacity(case.events.len() + 4);
    for (event, data) in &case.events {
        let step = decoder
            .on_event(StreamEvent { event, data }, &mut out)
            .expect("the representative stream decodes");
        if step == StreamStep::Done {
            return out;
        }
    }
    decoder
        .on_end(&mut out)
        .expect("the representative stream ends cleanly");
    out
}

/// Checks once, before timing, that each case decodes to the expected text, so the bench
/// never measures a fast failure path.
fn sanity(case: &Case, req: &ChatRequest) {
    let text = words().concat().trim_end().to_string();
    case.adapter
        .chat_request(req, case.model, false)
        .expect("request builds");
    let resp = case
        .adapter
        .parse_chat(case.body.as_bytes(), case.model)
        .expect("body parses");
    let got = resp.choices[0].message.content.clone().unwrap_or_default();
    assert_eq!(got, text, "{}: parsed text", case.label);
    let streamed: String = decode_all(case)
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.delta.content.clone())
        .collect();
    assert_eq!(streamed.trim_end(), text, "{}: streamed text", case.label);
}

fn bench_adapters(c: &mut Criterion) {
    let req = request();
    for case in cases() {
        sanity(&case, &req);
        let mut g = c.benchmark_group(case.label);
        g.bench_function("chat_request", |b| {
            b.iter(|| {
                case.adapter
                    .chat_request(black_box(&req), black_box(case.model), false)
                    .expect("request builds")
            })
        });
        g.bench_function("parse_chat", |b| {
            b.iter(|| {
                case.adapter
                    .parse_chat(black_box(case.body.as_bytes()), black_box(case.model))
                    .expect("body parses")
            })
        });
        g.bench_function("stream_decode_50", |b| {
            b.iter(|| decode_all(black_box(&case)))
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench_adapters
}
criterion_main!(benches);
