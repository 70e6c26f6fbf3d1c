//! The native Ollama adapter, tested from wire data in tests/fixtures/ollama (the examples of
//! Ollama's docs/api.md; see the README there), and the NDJSON framing through the real
//! transport with lines split across reads.

use bytes::Bytes;
use futures_util::StreamExt;
use http::HeaderMap;
use serde_json::{json, Value};
use switchpoint_core::api::{
    ChatChunk, ChatRequest, EmbeddingRequest, Error, ErrorKind, FinishReason, StreamAccumulator,
};
use switchpoint_core::providers::ollama::OllamaAdapter;
use switchpoint_core::providers::{
    Adapter, Framing, ProviderKind, ProviderSettings, StreamEvent, StreamStep,
};
use switchpoint_core::transport::ChunkStream;

fn adapter_at(base: &str) -> OllamaAdapter {
    OllamaAdapter::new(ProviderSettings {
        name: "ollama".into(),
        kind: ProviderKind::Ollama,
        base_url: base.into(),
        api_key: None,
        headers: Vec::new(),
        api_version: None,
    })
}

fn adapter() -> OllamaAdapter {
    adapter_at("http://localhost:11434")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/fixtures/ollama/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).expect("fixture exists")
}

fn body(req: &ChatRequest, stream: bool) -> Value {
    let http = adapter()
        .chat_request(req, "llama3.2", stream)
        .expect("request");
    assert_eq!(http.uri(), "http://localhost:11434/api/chat");
    assert!(http.headers().get("authorization").is_none());
    serde_json::from_slice(http.body()).expect("json")
}

/// Runs `body`, delivered in `pieces`, through the transport's NDJSON framing and the decoder.
fn through_transport(pieces: Vec<Bytes>) -> Vec<Result<ChatChunk, Error>> {
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(
        pieces.into_iter().map(Ok::<Bytes, std::io::Error>),
    ));
    let response = reqwest::Response::from(http::Response::new(body));
    let a = adapter();
    assert_eq!(a.framing(), Framing::Ndjson);
    let stream = ChunkStream::new(
        response,
        a.framing(),
        a.stream_decoder("llama3.2"),
        "ollama".into(),
        None,
    );
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(stream.collect())
}

fn fold(chunks: &[ChatChunk]) -> switchpoint_core::api::ChatResponse {
    let mut acc = StreamAccumulator::new();
    for c in chunks {
        acc.push(c);
    }
    acc.finish()
}

#[test]
fn request_puts_sampling_in_options_and_images_in_images() {
    let req: ChatRequest = serde_json::from_value(json!({
        "model": "m",
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_9", "type": "function", "function": {"name": "look", "arguments": "{\"x\":1}"}}]},
            {"role": "tool", "tool_call_id": "call_9", "content": "a cat"}
        ],
        "temperature": 0.1, "top_p": 0.8, "seed": 5, "max_tokens": 20, "stop": ["\n\n"],
        "response_format": {"type": "json_object"},
        "tools": [{"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}],
        "extra_body": {"keep_alive": "10m", "options": {"num_ctx": 8192, "seed": 6}}
    }))
    .expect("request");
    assert_eq!(
        body(&req, false),
        json!({
            "model": "llama3.2",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "what is this?", "images": ["iVBORw0KGgo="]},
                {"role": "assistant", "content": "", "tool_calls": [
                    {"id": "call_9", "function": {"name": "look", "arguments": {"x": 1}}}]},
                {"role": "tool", "content": "a cat", "tool_call_id": "call_9", "tool_name": "look"}
            ],
            "tools": [{"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}],
            "format": "json",
            "stream": false,
            "keep_alive": "10m",
            "options": {"temperature": 0.1, "top_p": 0.8, "seed": 6, "num_predict": 20,
                        "stop": ["\n\n"], "num_ctx": 8192}
        })
    );
    assert_eq!(body(&req, true)["stream"], true);
}

#[test]
fn url_images_and_bad_arguments_are_refused_and_v1_is_trimmed() {
    let req: ChatRequest = serde_json::from_value(json!({"model": "m", "messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/a.png"}}]}]}))
    .expect("request");
    let err = adapter()
        .chat_request(&req, "m", false)
        .expect_err("url image");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.param.as_deref(), Some("messages[0].content[0]"));
    let http = adapter_at("http://gpu-box:11434/v1/")
        .chat_request(
            &serde_json::from_value(
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
            )
            .expect("request"),
            "m",
            false,
        )
        .expect("request");
    assert_eq!(http.uri(), "http://gpu-box:11434/api/chat");
}

#[test]
fn tool_calling_answer_gets_ids_and_json_text_arguments() {
    let resp = adapter()
        .parse_chat(&fixture("chat_tool_calls.json"), "llama3.2")
        .expect("parsed");
    let choice = &resp.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(choice.message.content, None);
    let call = &choice.message.tool_calls.as_ref().expect("calls")[0];
    assert!(
        call.id.starts_with("call_") && call.id.ends_with("_0"),
        "{}",
        call.id
    );
    assert_eq!(call.function.name, "get_current_weather");
    let args: Value = serde_json::from_str(&call.function.arguments).expect("json");
    assert_eq!(args, json!({"format": "celsius", "location": "Paris, FR"}));
    let usage = resp.usage.expect("usage");
    assert_eq!(
        (usage.prompt_tokens.get(), usage.completion_tokens.get()),
        (122, 33)
    );
    assert_eq!(resp.model, "llama3.2");
}

#[test]
fn ndjson_stream_split_at_every_offset_gives_the_same_answer() {
    let bytes = fixture("chat_stream.ndjson");
    let whole: Vec<_> = through_transport(vec![Bytes::from(bytes.clone())])
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("chunks");
    let answer = fold(&whole);
    assert_eq!(answer.text(), Some("The sky is blue."));
    assert_eq!(answer.choices[0].finish_reason, Some(FinishReason::Stop));
    let usage = answer.usage.as_ref().expect("usage");
    assert_eq!(
        (usage.prompt_tokens.get(), usage.completion_tokens.get()),
        (26, 282)
    );
    for cut in (1..bytes.len()).step_by(7) {
        let pieces = vec![
            Bytes::copy_from_slice(&bytes[..cut]),
            Bytes::copy_from_slice(&bytes[cut..]),
        ];
        let chunks: Vec<_> = through_transport(pieces)
            .into_iter()
            .collect::<Result<_, _>>()
            .expect("chunks");
        assert_eq!(chunks.len(), whole.len(), "cut at {cut}");
        assert_eq!(fold(&chunks).text(), Some("The sky is blue."));
    }
    // One byte per read.
    let singles: Vec<Bytes> = bytes
        .iter()
        .map(|b| Bytes::copy_from_slice(&[*b]))
        .collect();
    let chunks: Vec<_> = through_transport(singles)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("chunks");
    assert_eq!(chunks.len(), whole.len());
}

#[test]
fn cut_ndjson_stream_ends_in_a_connection_error() {
    let bytes = fixture("chat_stream.ndjson");
    let text = String::from_utf8(bytes).expect("utf8");
    let without_done: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
    let items = through_transport(vec![Bytes::from(without_done)]);
    let (last, first) = (items.last().expect("items"), &items[0]);
    assert!(first.is_ok());
    let err = last.as_ref().expect_err("cut");
    assert_eq!(err.kind, ErrorKind::Connection);
    assert_eq!(err.provider.as_deref(), Some("ollama"));
}

#[test]
fn streamed_tool_call_and_error_line() {
    let mut decoder = adapter().stream_decoder("qwen3");
    let mut out = Vec::new();
    let text = String::from_utf8(fixture("chat_stream_tools.ndjson")).expect("utf8");
    let mut done = false;
    for line in text.lines() {
        done = decoder
            .on_event(
                StreamEvent {
                    event: "",
                    data: line,
                },
                &mut out,
            )
            .expect("line")
            == StreamStep::Done;
    }
    assert!(done);
    let resp = fold(&out);
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::ToolCalls));
    let call = &resp.choices[0].message.tool_calls.as_ref().expect("calls")[0];
    assert_eq!(call.function.name, "get_current_weather");
    assert_eq!(
        call.function.arguments,
        "{\"format\":\"celsius\",\"location\":\"Toronto\"}"
    );

    let mut decoder = adapter().stream_decoder("llama3.2");
    let mut out = Vec::new();
    let text = String::from_utf8(fixture("chat_stream_error.ndjson")).expect("utf8");
    let mut lines = text.lines();
    decoder
        .on_event(
            StreamEvent {
                event: "",
                data: lines.next().expect("line"),
            },
            &mut out,
        )
        .expect("first line");
    let err = decoder
        .on_event(
            StreamEvent {
                event: "",
                data: lines.next().expect("line"),
            },
            &mut out,
        )
        .expect_err("error line");
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(
        err.message,
        "an error was encountered while running the model: unexpected EOF"
    );
    assert_eq!(err.provider.as_deref(), Some("ollama"));
}

#[test]
fn error_bodies_and_embeddings() {
    let h = HeaderMap::new();
    let err = adapter().parse_error(
        404,
        &h,
        br#"{"error":"model \"llama9\" not found, try pulling it first"}"#,
    );
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(
        err.message,
        "model \"llama9\" not found, try pulling it first"
    );
    let err = adapter().parse_error(
        400,
        &h,
        br#"{"error":"the input length exceeds the context length"}"#,
    );
    assert_eq!(err.kind, ErrorKind::ContextWindowExceeded);
    let err = adapter().parse_error(502, &h, b"");
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(err.message, "Ollama answered HTTP 502 with an empty body");

    let req: EmbeddingRequest =
        serde_json::from_value(json!({"model": "e", "input": "why is the sky blue?"}))
            .expect("req");
    let http = adapter()
        .embed_request(&req, "all-minilm")
        .expect("request");
    assert_eq!(http.uri(), "http://localhost:11434/api/embed");
    let b: Value = serde_json::from_slice(http.body()).expect("json");
    assert_eq!(
        b,
        json!({"model": "all-minilm", "input": ["why is the sky blue?"]})
    );
    let resp = adapter()
        .parse_embed(
            br#"{"model":"all-minilm","embeddings":[[0.010071029,-0.0017594862,0.05007221]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}"#,
            "all-minilm",
        )
        .expect("embed");
    assert_eq!(resp.usage.prompt_tokens.get(), 8);
    assert_eq!(resp.data.len(), 1);
}
