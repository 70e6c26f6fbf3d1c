//! Cohere v2 API: `POST /v2/chat` (SSE streams with typed events) and `POST /v2/embed`.
//!
//! The key travels as `Authorization: Bearer <key>`. Modules: `request` builds the chat body,
//! `response` parses answers (usage from `billed_units`, finish reasons, citations rendered as
//! text), `stream` decodes the event stream, `embed` handles embeddings, `error` classifies
//! error bodies.
//!
//! Citations: Cohere answers grounded in documents or tool results with citations (cited span
//! plus sources). The unified API has no field for them, so they are appended to the answer's
//! text, after a blank line, as `Citations:` and one `[n] "<cited text>" (<source>, ...)` line
//! each, in streams (one content delta before the finish) and plain answers alike. Callers who
//! do not want them send `extra_body: {citation_options: {mode: "OFF"}}`.

mod embed;
mod error;
mod request;
mod response;
mod stream;

pub use embed::DEFAULT_INPUT_TYPE;

use super::openai::AuthScheme;
use super::{Adapter, HttpRequest, KeyedPost, ProviderSettings, StreamDecoder};
use crate::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error};
use http::HeaderMap;

/// Adapter for the Cohere v2 wire format.
#[derive(Debug)]
pub struct CohereAdapter {
    settings: ProviderSettings,
    chat_url: String,
    embed_url: String,
    /// The key and configured headers every request carries.
    post: KeyedPost,
}

impl CohereAdapter {
    /// Builds the adapter for `settings.base_url` (`https://api.cohere.com`).
    pub fn new(settings: ProviderSettings) -> Self {
        let base = settings.base_url.trim_end_matches('/');
        let chat_url = format!("{base}/v2/chat");
        let embed_url = format!("{base}/v2/embed");
        let post = KeyedPost::new(&settings, AuthScheme::Bearer);
        CohereAdapter {
            settings,
            chat_url,
            embed_url,
            post,
        }
    }
}

impl Adapter for CohereAdapter {
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
        Box::new(stream::CohereStream::new(&self.settings.name, model))
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
