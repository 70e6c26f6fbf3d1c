//! OpenAI chat completions and embeddings, also spoken by Groq, Mistral, Together, DeepSeek,
//! Fireworks, xAI, OpenRouter, vLLM and Ollama at their own base URLs.
//!
//! The unified API is the OpenAI wire shape, so this adapter mostly passes things through:
//! the body is the request with the provider's model id and `extra_body` merged, answers and
//! chunks deserialize straight into the unified types. The pieces are `pub(crate)` so the
//! Azure adapter composes them instead of copying them.

mod error;
mod request;
mod response;
pub(crate) mod responses;
mod stream;

pub(crate) use error::parse_error;
pub(crate) use request::{auth_header, chat_body, embed_body, AuthScheme, ModelField};
pub(crate) use response::{parse_chat, parse_embed};
pub(crate) use stream::OpenAiStreamDecoder;

use super::{Adapter, HttpRequest, KeyedPost, ProviderSettings, StreamDecoder};
use crate::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error};
use http::HeaderMap;

/// Adapter for the OpenAI wire format; URLs and the auth header are built once, here.
#[derive(Debug)]
pub struct OpenAiAdapter {
    settings: ProviderSettings,
    chat_url: String,
    embed_url: String,
    responses_url: String,
    /// The key and configured headers every request carries.
    post: KeyedPost,
}

impl OpenAiAdapter {
    /// Builds the adapter for `settings.base_url` (e.g. `https://api.openai.com/v1`).
    pub fn new(settings: ProviderSettings) -> Self {
        let base = settings.base_url.trim_end_matches('/');
        let chat_url = format!("{base}/chat/completions");
        let embed_url = format!("{base}/embeddings");
        let responses_url = format!("{base}/responses");
        let post = KeyedPost::new(&settings, AuthScheme::Bearer);
        OpenAiAdapter {
            settings,
            chat_url,
            embed_url,
            responses_url,
            post,
        }
    }
}

impl Adapter for OpenAiAdapter {
    fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        model: &str,
        stream: bool,
    ) -> Result<HttpRequest, Error> {
        let body = chat_body(req, ModelField::Set(model), stream)
            .map_err(|e| e.with_provider(&self.settings.name))?;
        self.post.bytes(&self.chat_url, body)
    }

    fn parse_chat(&self, body: &[u8], _model: &str) -> Result<ChatResponse, Error> {
        parse_chat(body, &self.settings.name)
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecoder> {
        Box::new(OpenAiStreamDecoder::new(&self.settings.name, model))
    }

    fn embed_request(&self, req: &EmbeddingRequest, model: &str) -> Result<HttpRequest, Error> {
        let body = embed_body(req, ModelField::Set(model))
            .map_err(|e| e.with_provider(&self.settings.name))?;
        self.post.bytes(&self.embed_url, body)
    }

    fn parse_embed(&self, body: &[u8], _model: &str) -> Result<EmbeddingResponse, Error> {
        parse_embed(body, &self.settings.name)
    }

    fn parse_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        parse_error(&self.settings.name, status, headers, body)
    }

    fn responses_request(
        &self,
        req: &crate::api::responses::ResponsesRequest,
        model: &str,
        stream: bool,
    ) -> Option<Result<HttpRequest, Error>> {
        Some(
            responses::native_body(req, model, stream)
                .map_err(|e| e.with_provider(&self.settings.name))
                .and_then(|body| self.post.bytes(&self.responses_url, body)),
        )
    }
}
