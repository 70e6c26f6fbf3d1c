//! Google Vertex AI: Gemini models (publisher `google`) and Anthropic's Claude models
//! (publisher `anthropic`) behind project- and location-scoped URLs, authorized with an OAuth
//! bearer token by the transport ([`crate::auth::GoogleAuth`]).
//!
//! `settings.base_url` is the location prefix `{endpoint}/v1/projects/{project}/locations/{location}`
//! (built by config from `project` and `location`); this adapter appends
//! `/publishers/{publisher}/models/{model}:{method}`:
//! - Gemini: `:generateContent`, `:streamGenerateContent?alt=sse`; bodies, answers, streams
//!   and errors are the Gemini API's, translated by the [`GeminiAdapter`].
//! - Anthropic: `:rawPredict`, `:streamRawPredict`; the Messages body without `model` (it is
//!   in the URL) and with `anthropic_version: vertex-2023-10-16` (or `api_version`), answers
//!   and SSE streams as the Messages API's, translated by the [`AnthropicAdapter`]. Errors
//!   arrive in Anthropic's shape (from the model) or Google's (from Vertex itself: quota,
//!   auth), and each is classified by its own parser.
//!
//! The publisher is chosen per model: an explicit `publishers/{p}/models/{m}` or `{p}/{m}`
//! prefix (`google`, `anthropic`), else `claude*` models are Anthropic's and the rest Google's.

mod publisher;

pub use publisher::Publisher;

use super::anthropic::AnthropicAdapter;
use super::gemini::GeminiAdapter;
use super::{json_post, Adapter, HttpRequest, ProviderSettings, StreamDecoder};
use crate::api::{
    ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error, ErrorKind,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// The `anthropic_version` Vertex requires in Anthropic request bodies.
pub const DEFAULT_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// Adapter for Vertex AI publisher models.
#[derive(Debug)]
pub struct VertexAdapter {
    settings: ProviderSettings,
    gemini: GeminiAdapter,
    anthropic: AnthropicAdapter,
}

impl VertexAdapter {
    /// Builds the adapter; the inner adapters get no key (the token is added by the transport).
    pub fn new(settings: ProviderSettings) -> Self {
        let inner = ProviderSettings {
            api_key: None,
            headers: Vec::new(),
            api_version: None,
            ..settings.clone()
        };
        VertexAdapter {
            gemini: GeminiAdapter::new(inner.clone()),
            anthropic: AnthropicAdapter::new(inner),
            settings,
        }
    }

    /// `{base}/publishers/{publisher}/models/{model}:{method}`.
    fn url(&self, publisher: Publisher, model: &str, method: &str) -> String {
        format!(
            "{}/publishers/{}/models/{model}:{method}",
            self.settings.base_url.trim_end_matches('/'),
            publisher.as_str()
        )
    }

    /// A POST of `body` with the configured headers (the bearer token comes later).
    fn post(&self, url: &str, body: Vec<u8>) -> Result<HttpRequest, Error> {
        let headers: Vec<(HeaderName, HeaderValue)> = self.settings.headers.clone();
        json_post(url, headers, body).map_err(|e| e.with_provider(&self.settings.name))
    }

    /// The Anthropic Messages body as Vertex takes it: no `model`, `anthropic_version` set.
    fn anthropic_body(&self, built: &HttpRequest) -> Result<Vec<u8>, Error> {
        let mut body: Value = serde_json::from_slice(built.body()).map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("cannot re-read the Anthropic request body: {e}"),
            )
            .with_provider(&self.settings.name)
        })?;
        if let Some(obj) = body.as_object_mut() {
            obj.remove("model");
            let version = self
                .settings
                .api_version
                .as_deref()
                .filter(|v| !v.is_empty())
                .unwrap_or(DEFAULT_ANTHROPIC_VERSION);
            obj.insert("anthropic_version".into(), Value::String(version.into()));
        }
        serde_json::to_vec(&body).map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("cannot encode the Anthropic request body: {e}"),
            )
            .with_provider(&self.settings.name)
        })
    }

    /// The error every embeddings call gets.
    fn no_embeddings(&self) -> Error {
        Error::bad_request(
            "model",
            "Vertex AI embeddings (the :predict method) are not supported; route embeddings to the gemini provider or another embeddings API",
        )
        .with_provider(&self.settings.name)
    }
}

impl Adapter for VertexAdapter {
    fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        model: &str,
        stream: bool,
    ) -> Result<HttpRequest, Error> {
        let (publisher, id) = Publisher::of(model);
        match publisher {
            Publisher::Google => {
                let built = self.gemini.chat_request(req, id, stream)?;
                let url = if stream {
                    format!(
                        "{}?alt=sse",
                        self.url(publisher, id, "streamGenerateContent")
                    )
                } else {
                    self.url(publisher, id, "generateContent")
                };
                self.post(&url, built.into_body().to_vec())
            }
            Publisher::Anthropic => {
                let built = self.anthropic.chat_request(req, id, stream)?;
                let body = self.anthropic_body(&built)?;
                let method = if stream {
                    "streamRawPredict"
                } else {
                    "rawPredict"
                };
                self.post(&self.url(publisher, id, method), body)
            }
        }
    }

    fn parse_chat(&self, body: &[u8], model: &str) -> Result<ChatResponse, Error> {
        match Publisher::of(model) {
            (Publisher::Google, id) => self.gemini.parse_chat(body, id),
            (Publisher::Anthropic, id) => self.anthropic.parse_chat(body, id),
        }
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecoder> {
        match Publisher::of(model) {
            (Publisher::Google, id) => self.gemini.stream_decoder(id),
            (Publisher::Anthropic, id) => self.anthropic.stream_decoder(id),
        }
    }

    fn embed_request(&self, _req: &EmbeddingRequest, _model: &str) -> Result<HttpRequest, Error> {
        Err(self.no_embeddings())
    }

    fn parse_embed(&self, _body: &[u8], _model: &str) -> Result<EmbeddingResponse, Error> {
        Err(self.no_embeddings())
    }

    /// Anthropic-shaped bodies (`"type": "error"`) go to the Anthropic parser, everything
    /// else (Google's `{"error": {"code", "message", "status"}}`, or no JSON) to Gemini's.
    fn parse_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        let anthropic_shaped = serde_json::from_slice::<Value>(body)
            .ok()
            .is_some_and(|v| v.get("type").and_then(Value::as_str) == Some("error"));
        if anthropic_shaped {
            self.anthropic.parse_error(status, headers, body)
        } else {
            self.gemini.parse_error(status, headers, body)
        }
    }
}
