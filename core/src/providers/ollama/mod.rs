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

use super::openai::{auth_header, AuthScheme};
use super::{json_post, Adapter, Framing, HttpRequest, ProviderSettings, StreamDecoder};
use crate::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Adapter for Ollama's native wire format.
#[derive(Debug)]
pub struct OllamaAdapter {
    settings: ProviderSettings,
    chat_url: String,
    embed_url: String,
    auth: Result<Option<(HeaderName, HeaderValue)>, Error>,
}

impl OllamaAdapter {
    /// Builds the adapter for `settings.base_url` (`http://localhost:11434`).
    pub fn new(settings: ProviderSettings) -> Self {
        let base = settings.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        let chat_url = format!("{base}/api/chat");
        let embed_url = format!("{base}/api/embed");
        let auth = auth_header(
            AuthScheme::Bearer,
            settings.api_key.as_ref().map(|k| k.expose()),
        )
        .map_err(|e| e.with_provider(&settings.name));
        OllamaAdapter {
            settings,
            chat_url,
            embed_url,
            auth,
        }
    }

    fn post(&self, url: &str, body: &serde_json::Value) -> Result<HttpRequest, Error> {
        let name = &self.settings.name;
        let bytes = serde_json::to_vec(body).map_err(|e| {
            Error::bad_request("messages", format!("cannot encode the request: {e}"))
                .with_provider(name)
        })?;
        let auth = self.auth.clone()?;
        let headers = auth
            .into_iter()
            .chain(self.settings.headers.iter().cloned());
        json_post(url, headers, bytes).map_err(|e| e.with_provider(name))
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
        self.post(&self.chat_url, &body)
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
        self.post(&self.embed_url, &body)
    }

    fn parse_embed(&self, body: &[u8], model: &str) -> Result<EmbeddingResponse, Error> {
        embed::parse_embed(body, model).map_err(|e| e.with_provider(&self.settings.name))
    }

    fn parse_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        error::parse_error(&self.settings.name, status, headers, body)
    }
}
