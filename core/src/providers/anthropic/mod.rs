//! Anthropic Messages API (`POST /v1/messages`): pure translation to and from the unified API.
//!
//! Translation decisions, where the two APIs differ:
//! - `system` and `developer` messages are lifted, in order, into the top-level `system`
//!   (a string when there is one, a list of text blocks when several); tool messages become
//!   `tool_result` blocks in a user turn; consecutive same-role turns are merged, because
//!   Anthropic requires user and assistant turns to alternate.
//! - `max_tokens` is required by Anthropic: the caller's cap, or [`DEFAULT_MAX_TOKENS`].
//! - `n > 1` is refused (`bad_request` naming `n`): Anthropic returns one answer per call.
//! - `seed`, `presence_penalty`, `frequency_penalty`, OpenAI's `metadata` and unknown OpenAI
//!   fields are dropped without error: Anthropic has no equivalent (LiteLLM drops them too).
//! - `response_format: json_schema` maps to structured outputs,
//!   `output_config: {format: {type: "json_schema", schema}}` (generally available since late
//!   2025 and recorded against the live API in
//!   `tests/fixtures/anthropic-sdk-python/rate-limited-then-stream.json`; the bundled spec
//!   snapshot only knows the older beta `output_format`). Models without structured outputs
//!   answer 400, which arrives as `bad_request`. `json_object` and `text` add nothing:
//!   Anthropic has no "any JSON" mode, and refusing would break callers that set it by habit.
//! - Answers: `thinking` text goes to `message.reasoning_content` (as DeepSeek and LiteLLM
//!   expose it) and the signed blocks to `message.thinking_blocks`, which are sent back
//!   unchanged when that assistant message returns in a later request (Anthropic requires them
//!   for tool use with extended thinking). Streams carry `delta.reasoning_content`; signatures
//!   are not streamed.
//! - A `fallback` block (the API answered with another model) relabels the answer's `model`
//!   to the model that answered, so usage is priced right.

mod error;
mod request;
mod response;
mod stream;

use super::{header_value, json_post, Adapter, HttpRequest, ProviderSettings, StreamDecoder};
use crate::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error};
use http::{HeaderMap, HeaderName, HeaderValue};

/// The `anthropic-version` sent when the settings name none: the only stable version.
pub const DEFAULT_API_VERSION: &str = "2023-06-01";

/// The `max_tokens` sent when the caller sets no cap (Anthropic requires one).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Adapter for the Anthropic Messages wire format.
#[derive(Debug)]
pub struct AnthropicAdapter {
    settings: ProviderSettings,
}

impl AnthropicAdapter {
    /// Builds the adapter from its provider settings.
    pub fn new(settings: ProviderSettings) -> Self {
        Self { settings }
    }

    /// The auth, version and configured headers every request carries.
    fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
        let mut headers = Vec::with_capacity(2 + self.settings.headers.len());
        if let Some(key) = &self.settings.api_key {
            headers.push((
                HeaderName::from_static("x-api-key"),
                header_value("x-api-key", key.expose())?,
            ));
        }
        let version = self
            .settings
            .api_version
            .as_deref()
            .unwrap_or(DEFAULT_API_VERSION);
        let version = HeaderValue::from_str(version).map_err(|_| {
            Error::config(
                "api_version",
                "the anthropic-version value has characters HTTP headers cannot carry",
            )
        })?;
        headers.push((HeaderName::from_static("anthropic-version"), version));
        headers.extend(self.settings.headers.iter().cloned());
        Ok(headers)
    }

    /// The error every embeddings call gets: Anthropic has no embeddings endpoint.
    fn no_embeddings(&self) -> Error {
        Error::bad_request(
            "model",
            "Anthropic has no embeddings API; route embeddings to a provider that has one",
        )
        .with_provider(&self.settings.name)
    }
}

impl Adapter for AnthropicAdapter {
    fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        model: &str,
        stream: bool,
    ) -> Result<HttpRequest, Error> {
        let name = &self.settings.name;
        let body = request::build_body(req, model, stream).map_err(|e| e.with_provider(name))?;
        let bytes = serde_json::to_vec(&body).map_err(|e| {
            Error::bad_request("messages", format!("cannot encode the request: {e}"))
                .with_provider(name)
        })?;
        let url = format!(
            "{}/v1/messages",
            self.settings.base_url.trim_end_matches('/')
        );
        json_post(&url, self.headers()?, bytes).map_err(|e| e.with_provider(name))
    }

    fn parse_chat(&self, body: &[u8], model: &str) -> Result<ChatResponse, Error> {
        response::parse_message(body, model).map_err(|e| e.with_provider(&self.settings.name))
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecoder> {
        Box::new(stream::MessageStream::new(&self.settings.name, model))
    }

    fn embed_request(&self, _req: &EmbeddingRequest, _model: &str) -> Result<HttpRequest, Error> {
        Err(self.no_embeddings())
    }

    fn parse_embed(&self, _body: &[u8], _model: &str) -> Result<EmbeddingResponse, Error> {
        Err(self.no_embeddings())
    }

    fn parse_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        error::parse_error(&self.settings.name, status, headers, body)
    }
}
