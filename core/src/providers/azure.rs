//! Azure OpenAI: the OpenAI wire format behind deployment URLs.
//!
//! Differences from OpenAI, and nothing else: the URL names the deployment and carries
//! `api-version`, the key goes in an `api-key` header, and the body has no `model` field.
//! Bodies, answers, streams and errors are handled by the OpenAI adapter's pieces; Azure's
//! extra fields (`prompt_filter_results`, `content_filter_results`) are kept in `extra`, its
//! filter-only first stream chunk is skipped, and its `content_filter` 400 maps to
//! `content_filtered` there.

use super::openai::{
    chat_body, embed_body, parse_chat, parse_embed, parse_error, AuthScheme, ModelField,
    OpenAiStreamDecoder,
};
use super::{Adapter, HttpRequest, KeyedPost, ProviderSettings, StreamDecoder};
use crate::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error};
use http::HeaderMap;

/// The `api-version` used when the settings name none (the GA version current at writing).
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// Adapter for Azure OpenAI deployments.
#[derive(Debug)]
pub struct AzureAdapter {
    settings: ProviderSettings,
    /// `{base_url}/openai/deployments/`, the deployment name is appended per request.
    deployments_url: String,
    /// `api-version=...`, percent-encoded once.
    version_query: String,
    /// `{base_url}/openai/v1/responses`: the v1 API has no deployment in the path (the
    /// deployment is the body's `model`); `?api-version=` only for `preview` / `latest`.
    responses_url: String,
    /// The key and configured headers every request carries.
    post: KeyedPost,
}

impl AzureAdapter {
    /// Builds the adapter for `settings.base_url` (`https://<resource>.openai.azure.com`).
    pub fn new(settings: ProviderSettings) -> Self {
        let base = settings.base_url.trim_end_matches('/');
        let deployments_url = format!("{base}/openai/deployments/");
        let version = settings
            .api_version
            .as_deref()
            .unwrap_or(DEFAULT_API_VERSION);
        let version_query = format!("api-version={}", encode(version));
        let responses_url = match settings.api_version.as_deref() {
            Some(v @ ("preview" | "latest")) => {
                format!("{base}/openai/v1/responses?api-version={v}")
            }
            _ => format!("{base}/openai/v1/responses"),
        };
        let post = KeyedPost::new(&settings, AuthScheme::ApiKey);
        AzureAdapter {
            settings,
            deployments_url,
            version_query,
            responses_url,
            post,
        }
    }

    /// `{base}/openai/deployments/{deployment}/{operation}?api-version=...`.
    fn url(&self, deployment: &str, operation: &str) -> String {
        format!(
            "{}{}/{operation}?{}",
            self.deployments_url,
            encode(deployment),
            self.version_query
        )
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a deployment name or
/// version can never change the URL's structure.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Adapter for AzureAdapter {
    fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        model: &str,
        stream: bool,
    ) -> Result<HttpRequest, Error> {
        let body = chat_body(req, ModelField::Omit, stream)
            .map_err(|e| e.with_provider(&self.settings.name))?;
        self.post.bytes(&self.url(model, "chat/completions"), body)
    }

    fn parse_chat(&self, body: &[u8], _model: &str) -> Result<ChatResponse, Error> {
        parse_chat(body, &self.settings.name)
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecoder> {
        Box::new(OpenAiStreamDecoder::new(&self.settings.name, model))
    }

    fn embed_request(&self, req: &EmbeddingRequest, model: &str) -> Result<HttpRequest, Error> {
        let body =
            embed_body(req, ModelField::Omit).map_err(|e| e.with_provider(&self.settings.name))?;
        self.post.bytes(&self.url(model, "embeddings"), body)
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
            super::openai::responses::native_body(req, model, stream)
                .map_err(|e| e.with_provider(&self.settings.name))
                .and_then(|body| self.post.bytes(&self.responses_url, body)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn encodes_everything_but_unreserved() {
        assert_eq!(encode("gpt-4o_prod.v2~x"), "gpt-4o_prod.v2~x");
        assert_eq!(encode("a/b?c d"), "a%2Fb%3Fc%20d");
    }
}
