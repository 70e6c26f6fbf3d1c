//! Provider adapters: one module per wire format, pure translation, no I/O.
//!
//! An adapter turns a unified request into an `http::Request`, a provider body into a unified
//! response, each stream event into unified chunks, and an error answer into a typed [`Error`].
//! Transport, retries and timing live elsewhere, so every adapter is tested from recorded
//! wire data alone.

pub mod anthropic;
pub mod azure;
pub mod bedrock;
pub mod cohere;
mod embed_batch;
pub mod gemini;
mod http_util;
mod kind;
pub mod mistral;
pub mod ollama;
pub mod openai;
mod presets;
mod retry_after;
pub mod vertex;

pub(crate) use embed_batch::batches;
pub use embed_batch::merge_embeddings;
pub use http_util::{header_value, json_post, now_unix, HttpRequest};
pub(crate) use http_util::{system_text, KeyedPost};
pub use kind::ProviderKind;
pub use presets::{Preset, PRESETS};
pub use retry_after::retry_after;

use crate::api::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error,
};
use crate::config::Secret;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::fmt::Debug;
use std::sync::Arc;

/// What one configured provider needs to build its requests: where, with which key, how.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// The provider's name in config (`openai`, `my-azure`, ...), reported in errors and facts.
    pub name: String,
    pub kind: ProviderKind,
    /// Base URL without a trailing slash (`https://api.openai.com/v1`, `https://api.anthropic.com`;
    /// Vertex AI: the location's prefix `{endpoint}/v1/projects/{project}/locations/{location}`).
    pub base_url: String,
    pub api_key: Option<Secret>,
    /// Extra headers sent with every request (organization, project, beta flags).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Azure's `api-version` query parameter; Anthropic's `anthropic-version` header.
    pub api_version: Option<String>,
}

/// How a provider frames its stream on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `text/event-stream` (OpenAI, Azure, Anthropic, Gemini with `alt=sse`, Cohere, Mistral,
    /// Vertex).
    Sse,
    /// Newline-delimited JSON (Ollama's native API): each line reaches the decoder as one
    /// event with an empty `event` name and the line (without its newline) as `data`.
    Ndjson,
    /// `application/vnd.amazon.eventstream` (Bedrock ConverseStream): binary messages whose
    /// `:event-type` (or `:exception-type`) header becomes [`StreamEvent::event`] and whose
    /// JSON payload becomes [`StreamEvent::data`].
    AwsEventStream,
}

/// One decoded stream event, as the framing layer hands it to a [`StreamDecoder`].
#[derive(Debug, Clone, Copy)]
pub struct StreamEvent<'a> {
    /// The SSE `event:` name; empty when the provider sends none (OpenAI, Gemini).
    pub event: &'a str,
    /// The SSE `data:` payload (multi-line data joined with `\n`).
    pub data: &'a str,
}

/// Whether a stream goes on after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStep {
    Continue,
    /// The provider's end-of-stream marker arrived (`[DONE]`, `message_stop`, last Gemini chunk).
    Done,
}

/// Turns one provider's stream events into unified chunks; one instance per stream, stateful.
pub trait StreamDecoder: Send + Debug {
    /// Translates one event, pushing zero or more chunks to `out`.
    fn on_event(
        &mut self,
        event: StreamEvent<'_>,
        out: &mut Vec<ChatChunk>,
    ) -> Result<StreamStep, Error>;

    /// Called when the byte stream ended; an error when the provider's end marker never came
    /// (a cut stream always ends in a typed error, never silently).
    fn on_end(&mut self, out: &mut Vec<ChatChunk>) -> Result<(), Error>;
}

/// The translation between the unified API and one wire format.
pub trait Adapter: Send + Sync + Debug {
    /// The settings this adapter was built from.
    fn settings(&self) -> &ProviderSettings;

    /// The HTTP request for a chat call to `model` (the provider's model id).
    fn chat_request(
        &self,
        req: &ChatRequest,
        model: &str,
        stream: bool,
    ) -> Result<HttpRequest, Error>;

    /// Parses a successful (2xx) non-streaming chat answer.
    fn parse_chat(&self, body: &[u8], model: &str) -> Result<ChatResponse, Error>;

    /// A decoder for one streamed chat answer.
    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecoder>;

    /// How the stream is framed.
    fn framing(&self) -> Framing {
        Framing::Sse
    }

    /// The HTTP request for an embeddings call.
    fn embed_request(&self, req: &EmbeddingRequest, model: &str) -> Result<HttpRequest, Error>;

    /// Parses a successful embeddings answer.
    fn parse_embed(&self, body: &[u8], model: &str) -> Result<EmbeddingResponse, Error>;

    /// The HTTP requests for one embeddings call, each answered by one body that
    /// [`Adapter::parse_embed`] reads; the answers are joined in this order
    /// ([`merge_embeddings`]). One request unless the provider embeds one text (or a bounded
    /// batch) per call, like Amazon Titan and `gemini-embedding-001` on Vertex AI.
    fn embed_requests(
        &self,
        req: &EmbeddingRequest,
        model: &str,
    ) -> Result<Vec<HttpRequest>, Error> {
        Ok(vec![self.embed_request(req, model)?])
    }

    /// Classifies a non-2xx answer into a typed error carrying the provider's message,
    /// status, code and retry delay.
    fn parse_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error;

    /// The HTTP request for the OpenAI Responses API, for wire formats that have one
    /// (OpenAI, Azure OpenAI); `None`, the default, means Responses calls are translated to
    /// chat completions. Answers and errors are OpenAI-shaped (`openai::responses`).
    fn responses_request(
        &self,
        _req: &crate::api::responses::ResponsesRequest,
        _model: &str,
        _stream: bool,
    ) -> Option<Result<HttpRequest, Error>> {
        None
    }
}

/// The error for a stream whose bytes ended before the provider's end marker: a cut stream
/// always ends in a typed error, never silently.
pub fn cut_stream(provider: &str, marker: &str) -> Error {
    Error::new(
        crate::api::ErrorKind::Connection,
        format!("stream ended before the provider's end marker ({marker})"),
    )
    .with_provider(provider)
}

/// Builds the adapter for a provider's wire format.
pub fn adapter_for(settings: ProviderSettings) -> Arc<dyn Adapter> {
    match settings.kind {
        ProviderKind::OpenAi => Arc::new(openai::OpenAiAdapter::new(settings)),
        ProviderKind::AzureOpenAi => Arc::new(azure::AzureAdapter::new(settings)),
        ProviderKind::Anthropic => Arc::new(anthropic::AnthropicAdapter::new(settings)),
        ProviderKind::Gemini => Arc::new(gemini::GeminiAdapter::new(settings)),
        ProviderKind::Cohere => Arc::new(cohere::CohereAdapter::new(settings)),
        ProviderKind::Mistral => Arc::new(mistral::MistralAdapter::new(settings)),
        ProviderKind::Ollama => Arc::new(ollama::OllamaAdapter::new(settings)),
        ProviderKind::Bedrock => Arc::new(bedrock::BedrockAdapter::new(settings)),
        ProviderKind::Vertex => Arc::new(vertex::VertexAdapter::new(settings)),
    }
}
