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
//! Embeddings (Google publisher only): `:predict` with `instances`/`parameters`, translated in
//! `embed.rs`; errors in Google's shape, classified by the Gemini parser.
//!
//! The publisher is chosen per model: an explicit `publishers/{p}/models/{m}` or `{p}/{m}`
//! prefix (`google`, `anthropic`), else `claude*` models are Anthropic's and the rest Google's.

mod embed;
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

    /// The `:predict` requests for an embeddings call (Google's text-embedding models only).
    fn predict_requests(
        &self,
        req: &EmbeddingRequest,
        model: &str,
    ) -> Result<Vec<HttpRequest>, Error> {
        let name = &self.settings.name;
        let id = match Publisher::of(model) {
            (Publisher::Google, id) => id,
            (Publisher::Anthropic, _) => {
                return Err(Error::bad_request(
                    "model",
                    format!("`{model}` is a Claude model; Vertex AI embeddings come from Google's text-embedding models (text-embedding-005, gemini-embedding-001, ...)"),
                )
                .with_provider(name))
            }
        };
        let url = self.url(Publisher::Google, id, "predict");
        embed::predict_bodies(req, id)
            .map_err(|e| e.with_provider(name))?
            .into_iter()
            .map(|body| {
                let bytes = serde_json::to_vec(&body).map_err(|e| {
                    Error::bad_request("input", format!("cannot encode the request: {e}"))
                        .with_provider(name)
                })?;
                self.post(&url, bytes)
            })
            .collect()
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

    /// One `:predict` request; a bad request naming `input` when the inputs need several
    /// (more than one for `gemini-embedding-*`, more than 250 otherwise), which
    /// [`Adapter::embed_requests`] sends instead.
    fn embed_request(&self, req: &EmbeddingRequest, model: &str) -> Result<HttpRequest, Error> {
        let mut requests = self.predict_requests(req, model)?;
        match requests.len() {
            1 => Ok(requests.remove(0)),
            n => Err(Error::bad_request(
                "input",
                format!("`{model}` embeds these inputs in {n} :predict calls; send them with embed_requests"),
            )
            .with_provider(&self.settings.name)),
        }
    }

    fn embed_requests(
        &self,
        req: &EmbeddingRequest,
        model: &str,
    ) -> Result<Vec<HttpRequest>, Error> {
        self.predict_requests(req, model)
    }

    fn parse_embed(&self, body: &[u8], model: &str) -> Result<EmbeddingResponse, Error> {
        let (_, id) = Publisher::of(model);
        embed::parse_predict(body, id).map_err(|e| e.with_provider(&self.settings.name))
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
