//! Shared harness code for the fuzz targets: adapters for every wire format, a tiny SSE
//! splitter for the decoder targets, and the checks every decoded stream must pass.
//!
//! The checks are properties, not just "does not panic": every chunk a decoder emits must
//! serialize to JSON and parse back as the same `ChatChunk` (bindings serialize them), and
//! the same bytes cut at different places must decode to the same chunks.

use bytes::Bytes;
use futures_util::StreamExt;
use std::sync::{Arc, OnceLock};
use switchpoint_core::config::Secret;
use switchpoint_core::providers::{
    adapter_for, Adapter, ProviderKind, ProviderSettings, StreamEvent, StreamStep,
};
use switchpoint_core::transport::ChunkStream;
use switchpoint_core::{ChatChunk, Error};

/// The provider model id each wire format is called with.
pub fn model(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::OpenAi => "gpt-4o-mini",
        ProviderKind::AzureOpenAi => "gpt4o-deploy",
        ProviderKind::Anthropic => "claude-sonnet-4-5",
        ProviderKind::Gemini => "gemini-2.5-flash",
        ProviderKind::Cohere => "command-a-03-2025",
        ProviderKind::Mistral => "mistral-small-latest",
        ProviderKind::Ollama => "llama3.2",
        ProviderKind::Bedrock => "anthropic.claude-haiku-4-5-20251001-v1:0",
        ProviderKind::Vertex => "gemini-2.5-flash",
    }
}

/// An adapter with plausible settings for `kind`.
pub fn adapter(kind: ProviderKind) -> Arc<dyn Adapter> {
    let (base_url, api_version) = match kind {
        ProviderKind::OpenAi => ("https://api.openai.com/v1", None),
        ProviderKind::AzureOpenAi => ("https://fuzz.openai.azure.com", Some("2024-10-21")),
        ProviderKind::Anthropic => ("https://api.anthropic.com", Some("2023-06-01")),
        ProviderKind::Gemini => ("https://generativelanguage.googleapis.com", None),
        ProviderKind::Cohere => ("https://api.cohere.com", None),
        ProviderKind::Mistral => ("https://api.mistral.ai/v1", None),
        ProviderKind::Ollama => ("http://localhost:11434", None),
        ProviderKind::Bedrock => ("https://bedrock-runtime.us-east-1.amazonaws.com", None),
        ProviderKind::Vertex => (
            "https://us-central1-aiplatform.googleapis.com/v1/projects/fuzz/locations/us-central1",
            None,
        ),
    };
    adapter_for(ProviderSettings {
        name: format!("fuzz-{kind}"),
        kind,
        base_url: base_url.to_string(),
        api_key: Some(Secret::new("sk-fuzz")),
        headers: Vec::new(),
        api_version: api_version.map(str::to_string),
    })
}

/// Splits SSE text into (event name, data) pairs the way the transport's framing does:
/// `event:` sets the name, `data:` lines are joined with `\n`, a blank line dispatches.
pub fn sse_events(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (mut event, mut data, mut has_data) = (String::new(), String::new(), false);
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            if has_data {
                out.push((std::mem::take(&mut event), std::mem::take(&mut data)));
            }
            event.clear();
            has_data = false;
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => event = value.to_string(),
            "data" => {
                if has_data {
                    data.push('\n');
                }
                data.push_str(value);
                has_data = true;
            }
            _ => {}
        }
    }
    if has_data {
        out.push((event, data));
    }
    out
}

/// Feeds SSE text through `kind`'s decoder as the transport would: stop at `Done` or the
/// first error, call `on_end` when the events run out.
pub fn decode_sse_text(kind: ProviderKind, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let adapter = adapter(kind);
    let mut decoder = adapter.stream_decoder(model(kind));
    let mut out = Vec::new();
    let mut ended = false;
    for (event, data) in sse_events(&text) {
        match decoder.on_event(
            StreamEvent {
                event: &event,
                data: &data,
            },
            &mut out,
        ) {
            Ok(StreamStep::Continue) => {}
            Ok(StreamStep::Done) | Err(_) => {
                ended = true;
                break;
            }
        }
    }
    if !ended {
        // The result may be an error (no end marker); either way it must not panic.
        let _ = decoder.on_end(&mut out);
    }
    for chunk in &out {
        check_chunk(chunk);
    }
}

/// Every emitted chunk survives a JSON round trip unchanged (the bindings serialize them).
/// (`object` is not checked: the OpenAI decoder passes the provider's value through.)
pub fn check_chunk(chunk: &ChatChunk) {
    let json = serde_json::to_string(chunk).expect("a chunk always serializes");
    let back: ChatChunk = serde_json::from_str(&json).expect("a serialized chunk parses back");
    assert_eq!(&back, chunk, "chunk JSON round trip changed it: {json}");
}

/// One item of a decoded stream, normalized for comparing two decodings of the same bytes
/// (ids and timestamps a decoder may synthesize are blanked).
#[derive(Debug, PartialEq)]
pub enum Item {
    Chunk(serde_json::Value),
    Error(String),
}

fn item(r: Result<ChatChunk, Error>) -> Item {
    match r {
        Ok(chunk) => {
            check_chunk(&chunk);
            let mut v = serde_json::to_value(&chunk).expect("a chunk always serializes");
            if let Some(o) = v.as_object_mut() {
                o.insert("id".into(), serde_json::Value::Null);
                o.insert("created".into(), serde_json::Value::Null);
            }
            Item::Chunk(v)
        }
        Err(e) => Item::Error(format!("{:?}: {}", e.kind, e.message)),
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio runtime")
    })
}

/// Decodes `pieces` (one HTTP body delivered in those reads) through the real transport
/// framing (`ChunkStream`) and `kind`'s decoder.
pub fn decode_body(kind: ProviderKind, pieces: Vec<Bytes>) -> Vec<Item> {
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(
        pieces.into_iter().map(Ok::<Bytes, std::io::Error>),
    ));
    let response = reqwest::Response::from(http::Response::new(body));
    let adapter = adapter(kind);
    let stream = ChunkStream::new(
        response,
        adapter.framing(),
        adapter.stream_decoder(model(kind)),
        "fuzz".to_string(),
        None,
    );
    runtime().block_on(stream.map(item).collect())
}

/// Cuts `body` at the offsets `cuts` names (each byte of `cuts` advances by 1..=256 bytes).
pub fn split(body: &[u8], cuts: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut at = 0;
    for c in cuts {
        if at >= body.len() {
            break;
        }
        let end = (at + *c as usize + 1).min(body.len());
        pieces.push(Bytes::copy_from_slice(&body[at..end]));
        at = end;
    }
    if at < body.len() {
        pieces.push(Bytes::copy_from_slice(&body[at..]));
    }
    pieces
}
