//! Mistral's own API (`https://api.mistral.ai/v1`): the OpenAI chat-completions shape with a
//! few differences that break an OpenAI-compatible client in practice.
//!
//! - Tool-call ids must be exactly 9 alphanumeric characters: foreign ids are mapped to that
//!   form deterministically, Mistral's own ids pass unchanged (`ids`).
//! - `seed` is `random_seed`, `tool_choice: "required"` is `"any"`, `max_completion_tokens`
//!   is `max_tokens`; `stream_options`, `user` and `metadata` are not sent (`request`).
//! - `safe_prompt` (and any other Mistral parameter) is passed from `extra_body` or from an
//!   unknown top-level field of the request, untouched.
//! - Streams report usage on their last choice chunk; it is moved to its own chunk (`stream`).
//! - 422 validation errors come as FastAPI `detail` lists (`error`).
//!
//! Answers, chunks and embeddings otherwise follow the OpenAI shape and are parsed by the
//! OpenAI adapter's pieces (Mistral's `model_length` finish reason becomes `length` there).
//! The `mistral` preset uses this kind; `kind: openai` with Mistral's base URL still reaches
//! its OpenAI-compatible behaviour.

mod error;
mod ids;
mod request;
mod stream;

pub use ids::{is_mistral_id, to_mistral};

use super::openai::{parse_chat, parse_embed, AuthScheme};
use super::{Adapter, HttpRequest, KeyedPost, ProviderSettings, StreamDecoder};
use crate::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error};
use http::HeaderMap;

/// Adapter for Mistral's API; URLs and the auth header are built once, here.
#[derive(Debug)]
pub struct MistralAdapter {
    settings: ProviderSettings,
    chat_url: String,
    embed_url: String,
    /// The key and configured headers every request carries.
    post: KeyedPost,
}

impl MistralAdapter {
    /// Builds the adapter for `settings.base_url` (`https://api.mistral.ai/v1`).
    pub fn new(settings: ProviderSettings) -> Self {
        let base = settings.base_url.trim_end_matches('/');
        let chat_url = format!("{base}/chat/completions");
        let embed_url = format!("{base}/embeddings");
        let post = KeyedPost::new(&settings, AuthScheme::Bearer);
        MistralAdapter {
            settings,
            chat_url,
            embed_url,
            post,
        }
    }
}

impl Adapter for MistralAdapter {
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

    fn parse_chat(&self, body: &[u8], _model: &str) -> Result<ChatResponse, Error> {
        parse_chat(body, &self.settings.name)
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecoder> {
        Box::new(stream::MistralStream::new(&self.settings.name, model))
    }

    fn embed_request(&self, req: &EmbeddingRequest, model: &str) -> Result<HttpRequest, Error> {
        let body =
            request::embed_body(req, model).map_err(|e| e.with_provider(&self.settings.name))?;
        self.post.json(&self.embed_url, &body)
    }

    fn parse_embed(&self, body: &[u8], _model: &str) -> Result<EmbeddingResponse, Error> {
        parse_embed(body, &self.settings.name)
    }

    fn parse_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        error::parse_error(&self.settings.name, status, headers, body)
    }
}
