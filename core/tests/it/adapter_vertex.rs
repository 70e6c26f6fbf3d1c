//! The Vertex AI adapter: publisher URLs under the project/location prefix, the Gemini body as
//! the Gemini adapter builds it, the Anthropic body without `model` and with
//! `anthropic_version: vertex-2023-10-16`, and answers, streams and errors decoded by the
//! publisher's own translation (tested here from the recorded Gemini and Anthropic fixtures).

use http::HeaderMap;
use serde_json::{json, Value};
use switchpoint_core::api::{ChatRequest, ErrorKind, FinishReason, StreamAccumulator};
use switchpoint_core::providers::{
    adapter_for, Adapter, Framing, ProviderKind, ProviderSettings, StreamEvent, StreamStep,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures");
const PREFIX: &str =
    "https://us-east5-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-east5";

fn adapter(api_version: Option<&str>) -> std::sync::Arc<dyn Adapter> {
    adapter_for(ProviderSettings {
        name: "vx".into(),
        kind: ProviderKind::Vertex,
        base_url: PREFIX.into(),
        api_key: None,
        headers: Vec::new(),
        api_version: api_version.map(str::to_string),
    })
}

fn request(v: Value) -> ChatRequest {
    serde_json::from_value(v).expect("valid request")
}

fn chat() -> ChatRequest {
    request(json!({
        "model": "x",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"}
        ],
        "max_tokens": 100
    }))
}

fn body(req: &http::Request<bytes::Bytes>) -> Value {
    serde_json::from_slice(req.body()).expect("JSON")
}

#[test]
fn gemini_models_use_generate_content_under_the_location() {
    let a = adapter(None);
    assert_eq!(a.framing(), Framing::Sse);
    let req = a
        .chat_request(&chat(), "gemini-2.5-flash", false)
        .expect("request");
    assert_eq!(
        req.uri().to_string(),
        format!("{PREFIX}/publishers/google/models/gemini-2.5-flash:generateContent")
    );
    assert!(req.headers().get("x-goog-api-key").is_none());
    assert!(
        req.headers().get("authorization").is_none(),
        "the token is added by the transport"
    );
    let b = body(&req);
    assert_eq!(
        b["contents"],
        json!([{"role": "user", "parts": [{"text": "Hello"}]}])
    );
    assert_eq!(b["systemInstruction"]["parts"][0]["text"], "Be brief.");
    assert_eq!(b["generationConfig"]["maxOutputTokens"], 100);
    let req = a
        .chat_request(&chat(), "google/gemini-2.5-pro", true)
        .expect("request");
    assert_eq!(
        req.uri().to_string(),
        format!("{PREFIX}/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse")
    );
}

#[test]
fn anthropic_models_use_raw_predict_with_the_vertex_version() {
    let a = adapter(None);
    let req = a
        .chat_request(&chat(), "claude-sonnet-4-5@20250929", false)
        .expect("request");
    assert_eq!(
        req.uri().to_string(),
        format!("{PREFIX}/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict")
    );
    assert!(req.headers().get("anthropic-version").is_none());
    assert!(req.headers().get("x-api-key").is_none());
    assert_eq!(
        body(&req),
        json!({
            "anthropic_version": "vertex-2023-10-16",
            "messages": [{"role": "user", "content": "Hello"}],
            "system": "Be brief.",
            "max_tokens": 100
        })
    );
    let req = a
        .chat_request(
            &chat(),
            "publishers/anthropic/models/claude-haiku-4-5",
            true,
        )
        .expect("request");
    assert_eq!(
        req.uri().to_string(),
        format!("{PREFIX}/publishers/anthropic/models/claude-haiku-4-5:streamRawPredict")
    );
    let b = body(&req);
    assert_eq!(b["stream"], true);
    assert!(b.get("model").is_none());
    let req = adapter(Some("vertex-2099-01-01"))
        .chat_request(&chat(), "claude-x", false)
        .expect("request");
    assert_eq!(body(&req)["anthropic_version"], "vertex-2099-01-01");
}

#[test]
fn answers_are_parsed_by_the_publishers_translation() {
    let a = adapter(None);
    let gemini = std::fs::read(format!("{FIXTURES}/gemini/generate_text.json")).expect("fixture");
    let resp = a
        .parse_chat(&gemini, "gemini-2.0-flash")
        .expect("gemini answer");
    assert_eq!(
        resp.choices[0].message.content.as_deref(),
        Some("The capital of France is Paris.")
    );
    assert_eq!(resp.usage.as_ref().map(|u| u.total_tokens.0), Some(17));
    let claude = json!({
        "id": "msg_vrtx_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "Hi there"}], "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 3}
    });
    let resp = a
        .parse_chat(claude.to_string().as_bytes(), "claude-sonnet-4-5@20250929")
        .expect("anthropic answer");
    assert_eq!(resp.id, "msg_vrtx_01");
    assert_eq!(resp.choices[0].message.content.as_deref(), Some("Hi there"));
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Stop));
}

/// (event name, data) pairs of an SSE body.
fn sse(text: &str) -> Vec<(String, String)> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .filter_map(|block| {
            let mut name = String::new();
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            (!data.is_empty()).then(|| (name, data.join("\n")))
        })
        .collect()
}

fn play(model: &str, file: &str) -> switchpoint_core::api::ChatResponse {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{file}")).expect("fixture");
    let mut d = adapter(None).stream_decoder(model);
    let mut out = Vec::new();
    for (event, data) in sse(&text) {
        let step = d
            .on_event(
                StreamEvent {
                    event: &event,
                    data: &data,
                },
                &mut out,
            )
            .expect("event");
        if step == StreamStep::Done {
            break;
        }
    }
    d.on_end(&mut out).expect("complete");
    let mut acc = StreamAccumulator::new();
    for c in &out {
        acc.push(c);
    }
    acc.finish()
}

#[test]
fn streams_are_decoded_by_the_publishers_translation() {
    let g = play("gemini-2.0-flash", "gemini/stream_text.sse");
    assert_eq!(
        g.choices[0].message.content.as_deref(),
        Some("The capital of France is Paris.")
    );
    let c = play(
        "claude-sonnet-4-5",
        "anthropic-sdk-python/tool_use_response.sse",
    );
    assert_eq!(c.choices[0].finish_reason, Some(FinishReason::ToolCalls));
    assert!(c.choices[0].message.tool_calls.is_some());
}

#[test]
fn errors_of_both_shapes_are_classified() {
    let a = adapter(None);
    let google = std::fs::read(format!(
        "{FIXTURES}/gemini/errors/429_resource_exhausted.json"
    ))
    .expect("fixture");
    let err = a.parse_error(429, &HeaderMap::new(), &google);
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.code.as_deref(), Some("RESOURCE_EXHAUSTED"));
    assert_eq!(err.provider.as_deref(), Some("vx"));
    let overloaded =
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let err = a.parse_error(529, &HeaderMap::new(), overloaded);
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(err.code.as_deref(), Some("overloaded_error"));
    assert_eq!(err.provider.as_deref(), Some("vx"));
    let too_long = br#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;
    assert_eq!(
        a.parse_error(400, &HeaderMap::new(), too_long).kind,
        ErrorKind::ContextWindowExceeded
    );
    let unauth = br#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#;
    let err = a.parse_error(401, &HeaderMap::new(), unauth);
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.status, Some(401));
    assert_eq!(
        a.parse_error(502, &HeaderMap::new(), b"<html>").kind,
        ErrorKind::Unavailable
    );
}

#[test]
fn claude_models_have_no_embeddings() {
    let req: switchpoint_core::api::EmbeddingRequest =
        serde_json::from_value(json!({"model": "m", "input": "x"})).expect("req");
    let err = adapter(None)
        .embed_request(&req, "anthropic/claude-haiku-4-5")
        .expect_err("refused");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.param.as_deref(), Some("model"));
    // Google's text-embedding models go to :predict (tests in adapter_cloud_embed.rs).
    let ok = adapter(None)
        .embed_request(&req, "text-embedding-005")
        .expect("predict");
    assert!(ok
        .uri()
        .path()
        .ends_with("/publishers/google/models/text-embedding-005:predict"));
}
