//! The OpenAI adapter against recorded wire data and the published OpenAPI description.

use crate::common;

use common::fixture;
use common::schema::{assert_valid, Spec};
use common::sse::{decode_all, split};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{json, Value};
use std::time::Duration;
use switchpoint_core::api::{
    ChatRequest, EmbeddingRequest, EmbeddingVector, ErrorKind, FinishReason, Role,
    StreamAccumulator, TokenCount,
};
use switchpoint_core::config::Secret;
use switchpoint_core::providers::openai::OpenAiAdapter;
use switchpoint_core::providers::{
    Adapter, ProviderKind, ProviderSettings, StreamEvent, StreamStep,
};

const MODEL: &str = "gpt-4o-2024-08-06";

fn settings(key: Option<&str>) -> ProviderSettings {
    ProviderSettings {
        name: "openai".to_string(),
        kind: ProviderKind::OpenAi,
        base_url: "https://api.openai.com/v1".to_string(),
        api_key: key.map(Secret::new),
        headers: vec![(
            HeaderName::from_static("openai-organization"),
            HeaderValue::from_static("org-switchpoint"),
        )],
        api_version: None,
    }
}

fn adapter() -> OpenAiAdapter {
    OpenAiAdapter::new(settings(Some("sk-test-secret")))
}

fn body_json(req: &http::Request<bytes::Bytes>) -> Value {
    serde_json::from_slice(req.body()).expect("the body is JSON")
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/// What a caller sends: system + user with an image part, tools, a named tool_choice,
/// a json_schema response format, stop, seed, a field the typed struct does not model
/// (`logprobs`) and provider parameters in `extra_body`.
fn representative_request() -> ChatRequest {
    serde_json::from_value(json!({
        "model": "smart",
        "messages": [
            {"role": "system", "content": "You are a weather assistant."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is the weather where this photo was taken?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/paris.jpg", "detail": "low"}}
            ]}
        ],
        "tools": [{
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                    "additionalProperties": false
                },
                "strict": true
            }
        }],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "weather_answer",
                "schema": {
                    "type": "object",
                    "properties": {"summary": {"type": "string"}},
                    "required": ["summary"],
                    "additionalProperties": false
                },
                "strict": true
            }
        },
        "stop": ["\n\n", "END"],
        "seed": 42,
        "temperature": 0.2,
        "max_completion_tokens": 300,
        "user": "user-1234",
        "logprobs": true,
        "stream": true,
        "stream_options": {"include_usage": false, "include_obfuscation": false},
        "extra_body": {"service_tier": "flex", "store": false}
    }))
    .expect("a valid unified request")
}

/// The body OpenAI must receive for [`representative_request`] (without the stream fields).
fn expected_body() -> Value {
    json!({
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You are a weather assistant."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is the weather where this photo was taken?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/paris.jpg", "detail": "low"}}
            ]}
        ],
        "tools": [{
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                    "additionalProperties": false
                },
                "strict": true
            }
        }],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "weather_answer",
                "schema": {
                    "type": "object",
                    "properties": {"summary": {"type": "string"}},
                    "required": ["summary"],
                    "additionalProperties": false
                },
                "strict": true
            }
        },
        "stop": ["\n\n", "END"],
        "seed": 42,
        "temperature": 0.2,
        "max_completion_tokens": 300,
        "user": "user-1234",
        "logprobs": true,
        "service_tier": "flex",
        "store": false
    })
}

#[test]
fn chat_request_body_is_the_unified_request_with_model_and_extra_body_merged() {
    let req = adapter()
        .chat_request(&representative_request(), MODEL, false)
        .expect("request builds");
    assert_eq!(req.method(), Method::POST);
    assert_eq!(
        req.uri().to_string(),
        "https://api.openai.com/v1/chat/completions"
    );
    let body = body_json(&req);
    assert_eq!(body, expected_body());
    assert_valid(Spec::OpenAi, "CreateChatCompletionRequest", &body);
}

#[test]
fn streaming_body_forces_usage_and_keeps_other_stream_options() {
    let req = adapter()
        .chat_request(&representative_request(), MODEL, true)
        .expect("request builds");
    let mut expected = expected_body();
    expected["stream"] = json!(true);
    expected["stream_options"] = json!({"include_usage": true, "include_obfuscation": false});
    let body = body_json(&req);
    assert_eq!(body, expected);
    assert_valid(Spec::OpenAi, "CreateChatCompletionRequest", &body);

    // A caller who set no stream options still gets the usage chunk requested.
    let plain: ChatRequest = serde_json::from_value(json!({
        "model": "m", "messages": [{"role": "user", "content": "hi"}]
    }))
    .expect("valid");
    let body = body_json(&adapter().chat_request(&plain, MODEL, true).expect("builds"));
    assert_eq!(
        body,
        json!({
            "model": MODEL,
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
}

#[test]
fn extra_body_wins_over_typed_fields_and_passes_unknown_parameters() {
    // Provider parameters a compatible host understands (vLLM's top_k, guided_json).
    let req: ChatRequest = serde_json::from_value(json!({
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "extra_body": {"temperature": 0.9, "top_k": 40, "guided_json": {"type": "object"}}
    }))
    .expect("valid");
    let body = body_json(
        &adapter()
            .chat_request(&req, "llama-3.1-8b", false)
            .expect("builds"),
    );
    assert_eq!(
        body,
        json!({
            "model": "llama-3.1-8b",
            "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.9,
            "top_k": 40,
            "guided_json": {"type": "object"}
        })
    );
}

#[test]
fn headers_carry_the_bearer_key_marked_sensitive_and_the_configured_extras() {
    let req = adapter()
        .chat_request(&representative_request(), MODEL, false)
        .expect("builds");
    let auth = req.headers().get("authorization").expect("auth header");
    assert_eq!(auth, "Bearer sk-test-secret");
    assert!(auth.is_sensitive());
    assert_eq!(req.headers()["content-type"], "application/json");
    assert_eq!(req.headers()["openai-organization"], "org-switchpoint");
    assert!(!format!("{:?}", adapter()).contains("sk-test-secret"));

    // Keyless hosts (a local Ollama or vLLM) get no auth header at all.
    let local = OpenAiAdapter::new(ProviderSettings {
        base_url: "http://localhost:11434/v1/".to_string(),
        ..settings(None)
    });
    let req = local
        .chat_request(&representative_request(), "llama3.2", false)
        .expect("builds");
    assert!(req.headers().get("authorization").is_none());
    assert_eq!(
        req.uri().to_string(),
        "http://localhost:11434/v1/chat/completions"
    );
}

#[test]
fn a_key_that_cannot_be_a_header_is_a_config_error_without_the_key() {
    let bad = OpenAiAdapter::new(settings(Some("sk-line\nbreak")));
    let err = bad
        .chat_request(&representative_request(), MODEL, false)
        .expect_err("invalid header value");
    assert_eq!(err.kind, ErrorKind::Config);
    assert_eq!(err.provider.as_deref(), Some("openai"));
    assert!(!err.message.contains("sk-line"));
}

// ---------------------------------------------------------------------------------------
// Non-streaming answers
// ---------------------------------------------------------------------------------------

/// A chat completion as OpenAI returns it (tool call, cached tokens, fields we do not model).
const COMPLETION: &str = r#"{
  "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  "object": "chat.completion",
  "created": 1741569952,
  "model": "gpt-4o-2024-08-06",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": null,
        "tool_calls": [
          {
            "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
            "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}
          }
        ],
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "tool_calls"
    }
  ],
  "usage": {
    "prompt_tokens": 82,
    "completion_tokens": 17,
    "total_tokens": 99,
    "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
    "completion_tokens_details": {
      "reasoning_tokens": 0,
      "audio_tokens": 0,
      "accepted_prediction_tokens": 0,
      "rejected_prediction_tokens": 0
    }
  },
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}"#;

#[test]
fn parses_a_chat_completion_keeping_unknown_fields() {
    let resp = adapter()
        .parse_chat(COMPLETION.as_bytes(), MODEL)
        .expect("parses");
    assert_eq!(resp.id, "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
    assert_eq!(resp.created, 1741569952);
    assert_eq!(resp.model, MODEL);
    assert_eq!(resp.choices.len(), 1);
    let choice = &resp.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(choice.message.role, Role::Assistant);
    assert_eq!(choice.message.content, None);
    let calls = choice.message.tool_calls.as_ref().expect("tool calls");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "call_DdmO9pD3xa9XTPNJ32zg2hcA");
    assert_eq!(calls[0].function.name, "get_weather");
    assert_eq!(calls[0].function.arguments, r#"{"city":"Paris"}"#);
    let usage = resp.usage.as_ref().expect("usage");
    assert_eq!(usage.prompt_tokens, TokenCount(82));
    assert_eq!(usage.completion_tokens, TokenCount(17));
    assert_eq!(usage.total_tokens, TokenCount(99));
    assert_eq!(usage.cached_tokens(), TokenCount(64));
    assert_eq!(usage.reasoning_tokens(), TokenCount(0));
    assert_eq!(resp.system_fingerprint.as_deref(), Some("fp_fc9f1d7035"));
    assert_eq!(resp.extra["service_tier"], json!("default"));
    assert_eq!(choice.message.extra["annotations"], json!([]));
}

/// The unified response serialized back to JSON validates against OpenAI's response schema,
/// for answers from every wire format (OpenAI here; the scenario runner covers the others).
#[test]
fn the_unified_response_re_serialized_follows_the_published_schema() {
    let resp = adapter()
        .parse_chat(COMPLETION.as_bytes(), MODEL)
        .expect("parses");
    let value = serde_json::to_value(&resp).expect("serializes");
    assert_valid(Spec::OpenAi, "CreateChatCompletionResponse", &value);
}

#[test]
fn a_body_that_is_not_a_completion_is_an_invalid_response() {
    let a = adapter();
    let err = a.parse_chat(b"{not json", MODEL).expect_err("bad JSON");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert_eq!(err.provider.as_deref(), Some("openai"));
    assert!(
        err.message
            .starts_with("the answer is not a chat completion"),
        "{}",
        err.message
    );

    let err = a
        .parse_chat(
            br#"{"id":"x","object":"chat.completion","created":1,"model":"m"}"#,
            MODEL,
        )
        .expect_err("no choices");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert!(
        err.message.contains("missing field `choices`"),
        "{}",
        err.message
    );

    let err = a
        .parse_chat(
            br#"{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"bored"}]}"#,
            MODEL,
        )
        .expect_err("unknown finish reason");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert!(
        err.message.contains("choices[0].finish_reason"),
        "{}",
        err.message
    );
}

#[test]
fn an_error_object_in_a_success_body_is_the_typed_error() {
    // Some OpenAI-compatible routers answer 200 with an error envelope.
    let err = adapter()
        .parse_chat(
            br#"{"error":{"message":"Rate limit exceeded: free-models-per-min.","code":429}}"#,
            MODEL,
        )
        .expect_err("an error");
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.message, "Rate limit exceeded: free-models-per-min.");
    assert_eq!(err.code.as_deref(), Some("429"));
}

#[test]
fn compatible_hosts_finish_reason_spellings_are_mapped() {
    // Mistral ends a choice cut by the context window with `model_length`.
    let body = br#"{"id":"cmpl-1","object":"chat.completion","created":1,"model":"mistral-large-latest","choices":[{"index":0,"message":{"role":"assistant","content":"Once upon"},"finish_reason":"model_length"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#;
    let resp = adapter()
        .parse_chat(body, "mistral-large-latest")
        .expect("parses");
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Length));
    assert_eq!(resp.text(), Some("Once upon"));
}

#[test]
fn content_filter_finish_is_a_normal_answer() {
    let body = br#"{"id":"chatcmpl-2","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}]}"#;
    let resp = adapter().parse_chat(body, "gpt-4o").expect("not an error");
    assert_eq!(
        resp.choices[0].finish_reason,
        Some(FinishReason::ContentFilter)
    );
}

// ---------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------

/// One tool call as the accumulator assembles it.
type Call = (&'static str, &'static str, &'static str);

/// One choice: content, refusal, tool calls, finish reason.
type ExpectedChoice = (
    Option<&'static str>,
    Option<&'static str>,
    Vec<Call>,
    FinishReason,
);

/// What one recorded stream must add up to.
struct Expected {
    file: &'static str,
    chunks: usize,
    id: &'static str,
    /// Per choice: content, refusal, tool calls (id, name, arguments), finish reason.
    choices: Vec<ExpectedChoice>,
    /// prompt, completion, total tokens.
    usage: (u64, u64, u64),
}

const WEATHER_REPORT: &str = r#"
  {
    "location": "San Francisco, CA",
    "weather": {
      "temperature": "18°C",
      "condition": "Partly Cloudy",
      "humidity": "72%",
      "windSpeed": "15 km/h",
      "windDirection": "NW"
    },
    "forecast": [
      {
        "day": "Monday",
        "high": "20°C",
        "low": "14°C",
        "condition": "Sunny"
      },
      {
        "day": "Tuesday",
        "high": "19°C",
        "low": "15°C",
        "condition": "Mostly Cloudy"
      },
      {
        "day": "Wednesday",
        "high": "18°C",
        "low": "14°C",
        "condition": "Cloudy"
      }
    ]
  }
"#;

fn expectations() -> Vec<Expected> {
    use FinishReason::{Length, Stop, ToolCalls};
    let sf = |t: u32| -> &'static str {
        match t {
            65 => r#"{"city":"San Francisco","temperature":65,"units":"f"}"#,
            61 => r#"{"city":"San Francisco","temperature":61,"units":"f"}"#,
            _ => r#"{"city":"San Francisco","temperature":59,"units":"f"}"#,
        }
    };
    vec![
        Expected {
            file: "173417d553406f034f643e5db3f8d591fb691ebac56f5ae39a22cc7d455c5353.sse",
            chunks: 13,
            id: "chatcmpl-ABfw4IfQfCCrcuybFm41wJyxjbkz7",
            choices: vec![(None, Some("I'm sorry, I can't assist with that request."), vec![], Stop)],
            usage: (79, 11, 90),
        },
        Expected {
            file: "2018feb66ae13fcf5333d61b95849decc68d3f63bd38172889367e1afb1e04f7.sse",
            chunks: 10,
            id: "chatcmpl-ABfwERreu9s99xXsVuOWtIB2UOx62",
            choices: vec![(
                None,
                None,
                vec![("call_4XzlGBLtUe9dy3GVNV4jhq7h", "get_weather", r#"{"city":"New York City"}"#)],
                ToolCalls,
            )],
            usage: (44, 16, 60),
        },
        Expected {
            file: "4cc50a6135d254573a502310e6af1246f55edb6ad95fa24059f160996b68866d.sse",
            chunks: 4,
            id: "chatcmpl-ABfw3Oqj8RD0z6aJiiX37oTjV2HFh",
            choices: vec![(Some("{\""), None, vec![], Length)],
            usage: (79, 1, 80),
        },
        Expected {
            file: "569c877e69429d4cbc1577d2cd6dd33878095c68badc6b6654a69769b391a1c1.sse",
            chunks: 14,
            id: "chatcmpl-ABfw5GEVqPbLY576l46FZDQoNJ2KC",
            choices: vec![(None, Some("I'm very sorry, but I can't assist with that."), vec![], Stop)],
            usage: (79, 12, 91),
        },
        Expected {
            file: "7e5ea4d12e7cc064399b6631415e65923f182256b6e6b752950a3aaa2ad2320a.sse",
            chunks: 17,
            id: "chatcmpl-ABfw1e5abtU8OwGr15vOreYVb2MiF",
            choices: vec![(Some(sf(61)), None, vec![], Stop)],
            usage: (79, 14, 93),
        },
        Expected {
            file: "83b060bae42eb41c4f1edbb7c1542b954b37d9dfd1910b964ddebc9677e6ae85.sse",
            chunks: 5,
            id: "chatcmpl-ABfw5EzoqmfXjnnsXY7Yd8OC6tb3c",
            choices: vec![(Some("Foo!"), None, vec![], Stop)],
            usage: (9, 2, 11),
        },
        Expected {
            file: "a247c49c5fcd492bfb7a02a3306ad615ed8d8f649888ebfddfbc3ee151f44d46.sse",
            chunks: 13,
            id: "chatcmpl-ABfwCgi41eStOcARjZq97ohCEGBPO",
            choices: vec![(
                None,
                None,
                vec![(
                    "call_CTf1nWJLqSeRgDqaCG27xZ74",
                    "get_weather",
                    r#"{"city":"San Francisco","state":"CA"}"#,
                )],
                ToolCalls,
            )],
            usage: (48, 19, 67),
        },
        Expected {
            file: "a491adda08c3d4fde95f5b2ee3f60f7f745f1a56d82e62f58031cc2add502380.sse",
            chunks: 49,
            id: "chatcmpl-ABfw2KKFuVXmEJgVwYfBvejMAdWtq",
            choices: vec![
                (Some(sf(65)), None, vec![], Stop),
                (Some(sf(61)), None, vec![], Stop),
                (Some(sf(59)), None, vec![], Stop),
            ],
            usage: (79, 42, 121),
        },
        Expected {
            file: "c6aa7e397b7123c3501f25df3a05d4daf7e8ad6d61ffa406ab5361fe36a8d5b1.sse",
            chunks: 17,
            id: "chatcmpl-ABfw8AOXnoa2kzy11vVTSjuQhHCQr",
            choices: vec![(
                None,
                None,
                vec![(
                    "call_c91SqDXlYFuETYv8mUHzz6pp",
                    "GetWeatherArgs",
                    r#"{"city":"Edinburgh","country":"UK","units":"c"}"#,
                )],
                ToolCalls,
            )],
            usage: (76, 24, 100),
        },
        Expected {
            file: "d615580118391ee13492193e3a8bb74642d23ac1ca13fe37cb6e889b66f759f6.sse",
            chunks: 180,
            id: "chatcmpl-ABfwCjPMi0ubw56UyMIIeNfJzyogq",
            choices: vec![(Some(WEATHER_REPORT), None, vec![], Stop)],
            usage: (19, 177, 196),
        },
        Expected {
            file: "e2aad469b71d1d4894ff833ea147020a9d875eb7ce644a0ff355581690a4cbfd.sse",
            chunks: 33,
            id: "chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL",
            choices: vec![(
                Some("I'm unable to provide real-time weather updates. To get the current weather in San Francisco, I recommend checking a reliable weather website or a weather app."),
                None,
                vec![],
                Stop,
            )],
            usage: (14, 30, 44),
        },
        Expected {
            file: "f82268f2fefd5cfbc7eeb59c297688be2f6ca0849a6e4f17851b517310841d9b.sse",
            chunks: 25,
            id: "chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63",
            choices: vec![(
                None,
                None,
                vec![
                    (
                        "call_JMW1whyEaYG438VE1OIflxA2",
                        "GetWeatherArgs",
                        r#"{"city": "Edinburgh", "country": "GB", "units": "c"}"#,
                    ),
                    (
                        "call_DNYTawLBoN8fj3KN6qU9N1Ou",
                        "get_stock_price",
                        r#"{"ticker": "AAPL", "exchange": "NASDAQ"}"#,
                    ),
                ],
                ToolCalls,
            )],
            usage: (149, 60, 209),
        },
    ]
}

#[test]
fn every_recorded_stream_adds_up_to_the_right_answer() {
    let a = adapter();
    for exp in expectations() {
        let events = split(&fixture(&format!("openai-python/{}", exp.file)));
        let mut decoder = a.stream_decoder(MODEL);
        let (chunks, end) = decode_all(decoder.as_mut(), &events);
        assert_eq!(end, Ok(()), "{}", exp.file);
        assert_eq!(chunks.len(), exp.chunks, "{}", exp.file);
        assert!(
            chunks.iter().all(|c| c.id == exp.id && c.model == MODEL),
            "{}",
            exp.file
        );
        assert_eq!(
            chunks[0].choices[0].delta.role,
            Some(Role::Assistant),
            "{}",
            exp.file
        );
        // The last chunk is the usage chunk, with no choices.
        let last = chunks.last().expect("chunks");
        assert!(
            last.choices.is_empty() && last.usage.is_some(),
            "{}",
            exp.file
        );

        let mut acc = StreamAccumulator::new();
        chunks.iter().for_each(|c| acc.push(c));
        let resp = acc.finish();
        assert_eq!(resp.id, exp.id);
        assert_eq!(resp.choices.len(), exp.choices.len(), "{}", exp.file);
        for (choice, (content, refusal, calls, finish)) in resp.choices.iter().zip(&exp.choices) {
            assert_eq!(choice.message.content.as_deref(), *content, "{}", exp.file);
            assert_eq!(choice.message.refusal.as_deref(), *refusal, "{}", exp.file);
            let got: Vec<(&str, &str, &str)> = choice
                .message
                .tool_calls
                .iter()
                .flatten()
                .map(|t| {
                    (
                        t.id.as_str(),
                        t.function.name.as_str(),
                        t.function.arguments.as_str(),
                    )
                })
                .collect();
            assert_eq!(&got, calls, "{}", exp.file);
            assert_eq!(choice.finish_reason, Some(*finish), "{}", exp.file);
        }
        let usage = resp.usage.expect("usage");
        assert_eq!(
            (
                usage.prompt_tokens.get(),
                usage.completion_tokens.get(),
                usage.total_tokens.get()
            ),
            exp.usage,
            "{}",
            exp.file
        );
        assert_eq!(usage.reasoning_tokens(), TokenCount(0));
    }
}

#[test]
fn every_chunk_re_serialized_follows_the_published_schema() {
    let a = adapter();
    for exp in expectations() {
        let events = split(&fixture(&format!("openai-python/{}", exp.file)));
        let (chunks, _) = decode_all(a.stream_decoder(MODEL).as_mut(), &events);
        for chunk in &chunks {
            let value = serde_json::to_value(chunk).expect("serializes");
            assert_valid(Spec::OpenAi, "CreateChatCompletionStreamResponse", &value);
        }
    }
}

#[test]
fn logprobs_pass_through_on_chunks() {
    let events = split(&fixture(
        "openai-python/83b060bae42eb41c4f1edbb7c1542b954b37d9dfd1910b964ddebc9677e6ae85.sse",
    ));
    let (chunks, _) = decode_all(adapter().stream_decoder(MODEL).as_mut(), &events);
    let logprobs = chunks[1].choices[0].logprobs.as_ref().expect("logprobs");
    assert_eq!(logprobs["content"][0]["token"], json!("Foo"));
    assert_eq!(logprobs["content"][0]["logprob"], json!(-0.0025094282));
}

#[test]
fn a_stream_cut_before_done_ends_in_a_connection_error() {
    let mut events = split(&fixture(
        "openai-python/83b060bae42eb41c4f1edbb7c1542b954b37d9dfd1910b964ddebc9677e6ae85.sse",
    ));
    assert_eq!(events.pop().map(|e| e.1).as_deref(), Some("[DONE]"));
    let (chunks, end) = decode_all(adapter().stream_decoder(MODEL).as_mut(), &events);
    assert_eq!(chunks.len(), 5);
    let err = end.expect_err("cut stream");
    assert_eq!(err.kind, ErrorKind::Connection);
    assert_eq!(err.provider.as_deref(), Some("openai"));
    assert_eq!(
        err.message,
        "stream ended before the provider's end marker ([DONE])"
    );
}

#[test]
fn an_error_event_mid_stream_is_the_typed_error() {
    let mut decoder = adapter().stream_decoder(MODEL);
    let mut out = Vec::new();
    let first = r#"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}"#;
    assert_eq!(
        decoder.on_event(
            StreamEvent {
                event: "",
                data: first
            },
            &mut out
        ),
        Ok(StreamStep::Continue)
    );
    let failure = r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#;
    let err = decoder
        .on_event(
            StreamEvent {
                event: "",
                data: failure,
            },
            &mut out,
        )
        .expect_err("error event");
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(err.code.as_deref(), Some("server_error"));
    assert_eq!(err.status, None);
    assert_eq!(
        err.message,
        "The server had an error while processing your request. Sorry about that!"
    );
    assert_eq!(out.len(), 1);
}

#[test]
fn garbage_in_a_stream_is_an_invalid_response() {
    let mut decoder = adapter().stream_decoder(MODEL);
    let err = decoder
        .on_event(
            StreamEvent {
                event: "",
                data: "{\"id\": 12",
            },
            &mut Vec::new(),
        )
        .expect_err("not JSON");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert_eq!(err.provider.as_deref(), Some("openai"));
}

#[test]
fn irregular_chunks_from_compatible_hosts_are_repaired() {
    let mut decoder = adapter().stream_decoder("mistral-small");
    let mut out = Vec::new();
    let events = [
        r#"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"mistral-small","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#,
        // No `delta`, no `model`, a Mistral finish reason.
        r#"{"id":"c1","object":"chat.completion.chunk","created":7,"choices":[{"index":0,"finish_reason":"model_length"}]}"#,
        "[DONE]",
    ];
    let steps: Vec<StreamStep> = events
        .iter()
        .map(|data| {
            decoder
                .on_event(StreamEvent { event: "", data }, &mut out)
                .expect("ok")
        })
        .collect();
    assert_eq!(
        steps,
        [StreamStep::Continue, StreamStep::Continue, StreamStep::Done]
    );
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].model, "mistral-small");
    assert_eq!(out[1].choices[0].finish_reason, Some(FinishReason::Length));
    assert_eq!(decoder.on_end(&mut out), Ok(()));
}

// ---------------------------------------------------------------------------------------
// Embeddings
// ---------------------------------------------------------------------------------------

#[test]
fn embeddings_request_follows_the_published_schema() {
    let req: EmbeddingRequest = serde_json::from_value(json!({
        "model": "embedder",
        "input": ["The food was delicious.", "The waiter was friendly."],
        "dimensions": 256,
        "encoding_format": "float",
        "user": "user-1234"
    }))
    .expect("valid");
    let http = adapter()
        .embed_request(&req, "text-embedding-3-small")
        .expect("builds");
    assert_eq!(
        http.uri().to_string(),
        "https://api.openai.com/v1/embeddings"
    );
    assert_eq!(http.headers()["authorization"], "Bearer sk-test-secret");
    let body = body_json(&http);
    assert_eq!(
        body,
        json!({
            "model": "text-embedding-3-small",
            "input": ["The food was delicious.", "The waiter was friendly."],
            "dimensions": 256,
            "encoding_format": "float",
            "user": "user-1234"
        })
    );
    assert_valid(Spec::OpenAi, "CreateEmbeddingRequest", &body);

    // Provider parameters for compatible hosts pass through.
    let req: EmbeddingRequest = serde_json::from_value(json!({
        "model": "embedder", "input": "query text", "extra_body": {"input_type": "query"}
    }))
    .expect("valid");
    let body = body_json(&adapter().embed_request(&req, "nv-embed").expect("builds"));
    assert_eq!(
        body,
        json!({"model": "nv-embed", "input": "query text", "input_type": "query"})
    );
}

#[test]
fn embeddings_response_parses() {
    let body = br#"{
      "object": "list",
      "data": [
        {"object": "embedding", "index": 0, "embedding": [0.0023064255, -0.009327292, 0.015797347]},
        {"object": "embedding", "index": 1, "embedding": [-0.0045, 0.0213, 0.0]}
      ],
      "model": "text-embedding-3-small",
      "usage": {"prompt_tokens": 10, "total_tokens": 10}
    }"#;
    let resp = adapter()
        .parse_embed(body, "text-embedding-3-small")
        .expect("parses");
    assert_eq!(resp.model, "text-embedding-3-small");
    assert_eq!(resp.data.len(), 2);
    assert_eq!(resp.data[1].index, 1);
    assert_eq!(
        resp.data[0].embedding,
        EmbeddingVector::Float(vec![0.0023064255, -0.009327292, 0.015797347])
    );
    assert_eq!(resp.usage.prompt_tokens, TokenCount(10));
    assert_valid(
        Spec::OpenAi,
        "CreateEmbeddingResponse",
        &serde_json::to_value(&resp).expect("serializes"),
    );

    let b64 = br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AACAPwAAAEA="}],"model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}}"#;
    let resp = adapter().parse_embed(b64, "m").expect("parses");
    assert_eq!(
        resp.data[0].embedding,
        EmbeddingVector::Base64("AACAPwAAAEA=".to_string())
    );

    let err = adapter()
        .parse_embed(br#"{"object":"list","data":[]}"#, "m")
        .expect_err("no model, no usage");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// One error answer and what it must become.
struct ErrorCase {
    status: u16,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    kind: ErrorKind,
    code: Option<&'static str>,
    param: Option<&'static str>,
    retry_after: Option<Duration>,
}

fn error_cases() -> Vec<ErrorCase> {
    let case = |status, body, kind, code| ErrorCase {
        status,
        headers: &[],
        body,
        kind,
        code,
        param: None,
        retry_after: None,
    };
    vec![
        case(
            401,
            r#"{"error":{"message":"Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
            ErrorKind::Auth,
            Some("invalid_api_key"),
        ),
        case(
            403,
            r#"{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}"#,
            ErrorKind::PermissionDenied,
            Some("unsupported_country_region_territory"),
        ),
        case(
            404,
            r#"{"error":{"message":"The model `gpt-5-turbo` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#,
            ErrorKind::NotFound,
            Some("model_not_found"),
        ),
        ErrorCase {
            headers: &[
                ("retry-after-ms", "1400"),
                ("x-ratelimit-reset-requests", "120ms"),
                ("x-ratelimit-reset-tokens", "1.4s"),
            ],
            retry_after: Some(Duration::from_millis(1400)),
            ..case(
                429,
                r#"{"error":{"message":"Rate limit reached for gpt-4o in organization org-xyz on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#,
                ErrorKind::RateLimited,
                Some("rate_limit_exceeded"),
            )
        },
        ErrorCase {
            headers: &[("x-ratelimit-reset-requests", "6m0s")],
            retry_after: Some(Duration::from_secs(360)),
            ..case(
                429,
                r#"{"error":{"message":"Rate limit reached for gpt-4o on requests per day (RPD): Limit 10000, Used 10000, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
                ErrorKind::RateLimited,
                Some("rate_limit_exceeded"),
            )
        },
        // Billing, not a rate: kept as rate_limited with its own code (see parse_error).
        case(
            429,
            r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
            ErrorKind::RateLimited,
            Some("insufficient_quota"),
        ),
        ErrorCase {
            param: Some("messages"),
            // Rate headers come with every answer; a 400 must not turn them into a delay.
            headers: &[("x-ratelimit-reset-requests", "120ms")],
            ..case(
                400,
                r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
                ErrorKind::ContextWindowExceeded,
                Some("context_length_exceeded"),
            )
        },
        case(
            400,
            r#"{"error":{"message":"Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.","type":"invalid_request_error","param":null,"code":"content_policy_violation"}}"#,
            ErrorKind::ContentFiltered,
            Some("content_policy_violation"),
        ),
        ErrorCase {
            param: Some("temperature"),
            ..case(
                400,
                r#"{"error":{"message":"Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.","type":"invalid_request_error","param":"temperature","code":"decimal_above_max_value"}}"#,
                ErrorKind::BadRequest,
                Some("decimal_above_max_value"),
            )
        },
        case(
            500,
            r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#,
            ErrorKind::Unavailable,
            Some("server_error"),
        ),
        ErrorCase {
            headers: &[("retry-after", "2")],
            retry_after: Some(Duration::from_secs(2)),
            ..case(
                503,
                r#"{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}"#,
                ErrorKind::Unavailable,
                Some("server_error"),
            )
        },
        case(
            529,
            r#"{"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":null}}"#,
            ErrorKind::Unavailable,
            Some("overloaded_error"),
        ),
    ]
}

fn header_map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
        .collect()
}

#[test]
fn every_error_answer_maps_to_its_kind_with_status_code_and_delay() {
    let a = adapter();
    for case in error_cases() {
        let body: Value = serde_json::from_str(case.body).expect("case body is JSON");
        assert_valid(Spec::OpenAi, "ErrorResponse", &body);
        let err = a.parse_error(case.status, &header_map(case.headers), case.body.as_bytes());
        let ctx = format!("HTTP {}: {err:?}", case.status);
        assert_eq!(err.kind, case.kind, "{ctx}");
        assert_eq!(err.status, Some(case.status), "{ctx}");
        assert_eq!(err.code.as_deref(), case.code, "{ctx}");
        assert_eq!(err.param.as_deref(), case.param, "{ctx}");
        assert_eq!(err.retry_after, case.retry_after, "{ctx}");
        assert_eq!(err.provider.as_deref(), Some("openai"), "{ctx}");
        assert_eq!(
            err.message,
            body["error"]["message"].as_str().expect("message"),
            "{ctx}"
        );
    }
}

#[test]
fn a_context_overflow_without_a_code_is_recognised_by_its_message() {
    // vLLM-style body: top-level message, numeric code.
    let body = br#"{"object":"error","message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (8000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}"#;
    let err = adapter().parse_error(400, &HeaderMap::new(), body);
    assert_eq!(err.kind, ErrorKind::ContextWindowExceeded);
    assert_eq!(err.code.as_deref(), Some("BadRequestError"));
}

#[test]
fn an_html_error_page_keeps_a_short_excerpt() {
    let body = format!(
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n{}</body>\r\n</html>\r\n",
        "<!-- a padding comment to make the page long -->\r\n".repeat(20)
    );
    let err = adapter().parse_error(502, &HeaderMap::new(), body.as_bytes());
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(err.status, Some(502));
    assert_eq!(err.code, None);
    assert!(err.message.chars().count() <= 200, "{}", err.message);
    assert!(
        err.message
            .starts_with("502 Bad Gateway 502 Bad Gateway cloudflare"),
        "{}",
        err.message
    );
}

#[test]
fn the_fixture_splitter_joins_data_lines_and_skips_comments() {
    let events = split(": keep-alive\nevent: ping\ndata: a\ndata: b\n\ndata: [DONE]\n");
    assert_eq!(
        events,
        vec![
            ("ping".to_string(), "a\nb".to_string()),
            (String::new(), "[DONE]".to_string())
        ]
    );
}
