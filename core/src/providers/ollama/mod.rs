//! Ollama's native API: `POST /api/chat` (NDJSON streams, `Framing::Ndjson`) and
//! `POST /api/embed`.
//!
//! The `ollama` kind and preset speak this API (base URL `http://localhost:11434`; a base URL
//! ending in `/v1`, Ollama's OpenAI-compatible path, is trimmed so older configs keep
//! working). The `ollama_openai` preset reaches the OpenAI-compatible endpoint instead.
//! A key, when configured (Ollama behind a proxy, Ollama's cloud), is sent as a bearer token.
//! Ollama runs models locally: the catalogue has no prices for it, and cost is reported as
//! absent.

mod embed;
mod error;
mod request;
mod response;
mod stream;

use super::openai::AuthScheme;
use super::{Adapter, Framing, HttpRequest, KeyedPost, ProviderSettings, StreamDecoder};
use crate::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error};
use http::HeaderMap;

/// Adapter for Ollama's native wire format.
#[derive(Debug)]
pub struct OllamaAdapter {
    settings: ProviderSettings,
    chat_url: String,
    embed_url: String,
    /// The key and configured headers every request carries.
    post: KeyedPost,
}

impl OllamaAdapter {
    /// Builds the adapter for `settings.base_url` (`http://localhost:11434`).
    pub fn new(settings: ProviderSettings) -> Self {
        let base = settings.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        let chat_url = format!("{base}/api/chat");
        let embed_url = format!("{base}/api/embed");
        let post = KeyedPost::new(&settings, AuthScheme::Bearer);
        OllamaAdapter {
            settings,
            chat_url,
            embed_url,
            post,
        }
    }
}

impl Adapter for OllamaAdapter {
    fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        model: &str,
        stream: bool,
    ) -> Result<HttpRequest, Error> {
        let body = request::chat_body(req, model, stream)
            .map_err(|e| e.with_provider(&self.settings.name))?;
        self.post.json(&self.chat_url, &body)
    }

    fn parse_chat(&self, body: &[u8], model: &str) -> Result<ChatResponse, Error> {
        response::parse_chat(body, model).map_err(|e| e.with_provider(&self.settings.name))
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecoder> {
        Box::new(stream::OllamaStream::new(&self.settings.name, model))
    }

    fn framing(&self) -> Framing {
        Framing::Ndjson
    }

    fn embed_request(&self, req: &EmbeddingRequest, model: &str) -> Result<HttpRequest, Error> {
        let body =
            embed::embed_body(req, model).map_err(|e| e.with_provider(&self.settings.name))?;
        self.post.json(&self.embed_url, &body)
    }

    fn parse_embed(&self, body: &[u8], model: &str) -> Result<EmbeddingResponse, Error> {
        embed::parse_embed(body, model).map_err(|e| e.with_provider(&self.settings.name))
    }

    fn parse_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        error::parse_error(&self.settings.name, status, headers, body)
    }
}
