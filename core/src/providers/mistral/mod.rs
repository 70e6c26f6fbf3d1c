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

use super::openai::{auth_header, parse_chat, parse_embed, AuthScheme};
use super::{json_post, Adapter, HttpRequest, ProviderSettings, StreamDecoder};
use crate::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Adapter for Mistral's API; URLs and the auth header are built once, here.
#[derive(Debug)]
pub struct MistralAdapter {
    settings: ProviderSettings,
    chat_url: String,
    embed_url: String,
    /// `Authorization: Bearer <key>`, or the error a bad key gives on every request.
    auth: Result<Option<(HeaderName, HeaderValue)>, Error>,
}

impl MistralAdapter {
    /// Builds the adapter for `settings.base_url` (`https://api.mistral.ai/v1`).
    pub fn new(settings: ProviderSettings) -> Self {
        let base = settings.base_url.trim_end_matches('/');
        let chat_url = format!("{base}/chat/completions");
        let embed_url = format!("{base}/embeddings");
        let auth = auth_header(
            AuthScheme::Bearer,
            settings.api_key.as_ref().map(|k| k.expose()),
        )
        .map_err(|e| e.with_provider(&settings.name));
        MistralAdapter {
            settings,
            chat_url,
            embed_url,
            auth,
        }
    }

    /// A POST of `body` to `url` with the auth and configured headers.
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
        self.post(&self.chat_url, &body)
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
        self.post(&self.embed_url, &body)
    }

    fn parse_embed(&self, body: &[u8], _model: &str) -> Result<EmbeddingResponse, Error> {
        parse_embed(body, &self.settings.name)
    }

    fn parse_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        error::parse_error(&self.settings.name, status, headers, body)
    }
}
