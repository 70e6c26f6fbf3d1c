//! Google Gemini API (Generative Language API, `v1beta`): `generateContent`,
//! `streamGenerateContent?alt=sse` and `batchEmbedContents`.
//!
//! Wire format: `tests/specs/gemini-openapi.json` (`GenerateContentRequest`,
//! `GenerateContentResponse`, `BatchEmbedContentsRequest`, `Status`). The key travels in the
//! `x-goog-api-key` header, never in the URL, so it cannot leak through logged URLs.
//!
//! Modules: `request` builds the chat body, `schema` turns JSON Schema into Gemini's
//! `Schema` subset, `response` parses answers, `stream` decodes SSE events,
//! `embed` handles embeddings and `error` classifies error bodies.

mod embed;
mod error;
mod request;
mod response;
mod schema;
mod stream;

use super::{header_value, json_post, Adapter, HttpRequest, ProviderSettings, StreamDecoder};
use crate::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error};
use http::{HeaderMap, HeaderName, HeaderValue};

/// The API version used in paths when the settings name none.
const DEFAULT_API_VERSION: &str = "v1beta";

/// Adapter for the Google Gemini API wire format.
#[derive(Debug)]
pub struct GeminiAdapter {
    settings: ProviderSettings,
}

impl GeminiAdapter {
    /// Builds the adapter from its provider settings.
    pub fn new(settings: ProviderSettings) -> Self {
        Self { settings }
    }

    /// `{base_url}/{version}/models/{model}:{method}`; `settings.api_version` overrides the
    /// version (`v1`), and a `models/` prefix on the model id is not doubled.
    fn url(&self, model: &str, method: &str) -> String {
        let version = self
            .settings
            .api_version
            .as_deref()
            .filter(|v| !v.is_empty())
            .unwrap_or(DEFAULT_API_VERSION);
        let model = model.strip_prefix("models/").unwrap_or(model);
        format!(
            "{}/{version}/models/{model}:{method}",
            self.settings.base_url.trim_end_matches('/')
        )
    }

    /// The key header (when a key is configured) followed by the configured extra headers.
    fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
        let mut headers = Vec::with_capacity(self.settings.headers.len() + 1);
        if let Some(key) = &self.settings.api_key {
            headers.push((
                HeaderName::from_static("x-goog-api-key"),
                header_value("x-goog-api-key", key.expose())
                    .map_err(|e| e.with_provider(&self.settings.name))?,
            ));
        }
        headers.extend(self.settings.headers.iter().cloned());
        Ok(headers)
    }

    /// Serializes a body; a failure here is a bug in building it, reported as a typed error.
    fn post(&self, url: &str, body: &serde_json::Value) -> Result<HttpRequest, Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            Error::new(
                crate::api::ErrorKind::Internal,
                format!("cannot serialize the Gemini request body: {e}"),
            )
            .with_provider(&self.settings.name)
        })?;
        json_post(url, self.headers()?, bytes).map_err(|e| e.with_provider(&self.settings.name))
    }
}

impl Adapter for GeminiAdapter {
    fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        model: &str,
        stream: bool,
    ) -> Result<HttpRequest, Error> {
        let body =
            request::chat_body(req, model).map_err(|e| e.with_provider(&self.settings.name))?;
        let url = if stream {
            format!("{}?alt=sse", self.url(model, "streamGenerateContent"))
        } else {
            self.url(model, "generateContent")
        };
        self.post(&url, &body)
    }

    fn parse_chat(&self, body: &[u8], model: &str) -> Result<ChatResponse, Error> {
        response::parse_chat(body, model).map_err(|e| e.with_provider(&self.settings.name))
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecoder> {
        Box::new(stream::GeminiStreamDecoder::new(&self.settings.name, model))
    }

    fn embed_request(&self, req: &EmbeddingRequest, model: &str) -> Result<HttpRequest, Error> {
        let body =
            embed::embed_body(req, model).map_err(|e| e.with_provider(&self.settings.name))?;
        self.post(&self.url(model, "batchEmbedContents"), &body)
    }

    fn parse_embed(&self, body: &[u8], model: &str) -> Result<EmbeddingResponse, Error> {
        embed::parse_embed(body, model).map_err(|e| e.with_provider(&self.settings.name))
    }

    fn parse_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        error::parse_error(status, headers, body).with_provider(&self.settings.name)
    }
}
