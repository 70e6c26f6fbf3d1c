//! Amazon Bedrock Runtime: `Converse` (`POST /model/{modelId}/converse`) and `ConverseStream`
//! (`POST /model/{modelId}/converse-stream`, answered as an `application/vnd.amazon.eventstream`
//! binary stream) for chat; `InvokeModel` (`POST /model/{modelId}/invoke`) for the Titan and
//! Cohere embedding models (see `embed.rs`).
//!
//! Wire format: the botocore service description `tests/specs/bedrock/service-2.json`
//! (`ConverseRequest`, `ConverseResponse`, `ConverseStreamOutput`, the error shapes). Requests
//! are signed with SigV4 by the transport ([`crate::auth::SigV4Signer`]) after this adapter
//! built them, or carry a Bedrock API key as `Authorization: Bearer` when `api_key` is set
//! (the service's `smithy.api#httpBearerAuth` scheme).
//!
//! Translation decisions:
//! - System and developer messages become `system` text blocks; tool messages become
//!   `toolResult` blocks in a user turn; consecutive same-role turns are merged (Converse
//!   requires alternation). Images must be data: URIs (Converse takes bytes, not URLs).
//! - `max_tokens`/`max_completion_tokens`, `temperature`, `top_p`, `stop` go to
//!   `inferenceConfig`; `response_format: json_schema` to `outputConfig.textFormat`;
//!   `extra_body` keys (`additionalModelRequestFields`, `guardrailConfig`, ...) are merged
//!   into the body as given. `n > 1` is refused; `seed` and penalties are dropped.
//! - Usage: `prompt_tokens` = `inputTokens` + `cacheReadInputTokens` +
//!   `cacheWriteInputTokens`, with cached and cache-creation tokens broken out.
//! - Converse answers carry no id, so one is made up (`chatcmpl-bedrock-...`).
//! - Embeddings: one InvokeModel request per Titan text, per 96 Cohere texts; errors are
//!   classified like Converse's (same rest-json error shapes).

mod embed;
mod error;
mod request;
mod response;
mod stream;

use super::{
    header_value, json_post, Adapter, Framing, HttpRequest, ProviderSettings, StreamDecoder,
};
use crate::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Adapter for the Bedrock Converse wire format.
#[derive(Debug)]
pub struct BedrockAdapter {
    settings: ProviderSettings,
}

impl BedrockAdapter {
    /// Builds the adapter for `settings.base_url` (`https://bedrock-runtime.{region}.amazonaws.com`).
    pub fn new(settings: ProviderSettings) -> Self {
        BedrockAdapter { settings }
    }

    /// `{base}/model/{modelId}/{operation}`; the model id (which may be an ARN with `:` and
    /// `/`) is percent-encoded as one path segment.
    fn url(&self, model: &str, operation: &str) -> String {
        format!(
            "{}/model/{}/{operation}",
            self.settings.base_url.trim_end_matches('/'),
            encode(model)
        )
    }

    /// `accept`, the Bedrock API key when one is configured, and the configured headers.
    fn headers(&self, stream: bool) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
        let accept = if stream {
            "application/vnd.amazon.eventstream"
        } else {
            "application/json"
        };
        let mut headers = vec![(http::header::ACCEPT, HeaderValue::from_static(accept))];
        if let Some(key) = &self.settings.api_key {
            headers.push((
                http::header::AUTHORIZATION,
                header_value("api_key", &format!("Bearer {}", key.expose()))
                    .map_err(|e| e.with_provider(&self.settings.name))?,
            ));
        }
        headers.extend(self.settings.headers.iter().cloned());
        Ok(headers)
    }

    /// The InvokeModel requests for an embeddings call, one per body.
    fn invoke_requests(
        &self,
        req: &EmbeddingRequest,
        model: &str,
    ) -> Result<Vec<HttpRequest>, Error> {
        let name = &self.settings.name;
        let url = self.url(model, "invoke");
        embed::embed_bodies(req, model)
            .map_err(|e| e.with_provider(name))?
            .into_iter()
            .map(|body| {
                let bytes = serde_json::to_vec(&body).map_err(|e| {
                    Error::bad_request("input", format!("cannot encode the request: {e}"))
                        .with_provider(name)
                })?;
                json_post(&url, self.headers(false)?, bytes).map_err(|e| e.with_provider(name))
            })
            .collect()
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
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

impl Adapter for BedrockAdapter {
    fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        model: &str,
        stream: bool,
    ) -> Result<HttpRequest, Error> {
        let name = &self.settings.name;
        let body = request::converse_body(req).map_err(|e| e.with_provider(name))?;
        let bytes = serde_json::to_vec(&body).map_err(|e| {
            Error::bad_request("messages", format!("cannot encode the request: {e}"))
                .with_provider(name)
        })?;
        let op = if stream {
            "converse-stream"
        } else {
            "converse"
        };
        json_post(&self.url(model, op), self.headers(stream)?, bytes)
            .map_err(|e| e.with_provider(name))
    }

    fn parse_chat(&self, body: &[u8], model: &str) -> Result<ChatResponse, Error> {
        response::parse_converse(body, model).map_err(|e| e.with_provider(&self.settings.name))
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecoder> {
        Box::new(stream::ConverseStream::new(&self.settings.name, model))
    }

    fn framing(&self) -> Framing {
        Framing::AwsEventStream
    }

    /// One InvokeModel request; a bad request naming `input` when the model needs several
    /// (Titan with more than one text), which [`Adapter::embed_requests`] sends instead.
    fn embed_request(&self, req: &EmbeddingRequest, model: &str) -> Result<HttpRequest, Error> {
        let mut requests = self.invoke_requests(req, model)?;
        match requests.len() {
            1 => Ok(requests.remove(0)),
            n => Err(Error::bad_request(
                "input",
                format!("`{model}` embeds these inputs in {n} InvokeModel calls; send them with embed_requests"),
            )
            .with_provider(&self.settings.name)),
        }
    }

    fn embed_requests(
        &self,
        req: &EmbeddingRequest,
        model: &str,
    ) -> Result<Vec<HttpRequest>, Error> {
        self.invoke_requests(req, model)
    }

    fn parse_embed(&self, body: &[u8], model: &str) -> Result<EmbeddingResponse, Error> {
        embed::parse_embed(body, model).map_err(|e| e.with_provider(&self.settings.name))
    }

    fn parse_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        error::parse_error(&self.settings.name, status, headers, body)
    }
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn model_ids_and_arns_stay_one_segment() {
        assert_eq!(
            encode("anthropic.claude-3-haiku-20240307-v1:0"),
            "anthropic.claude-3-haiku-20240307-v1%3A0"
        );
        assert_eq!(
            encode("arn:aws:bedrock:us-east-1::foundation-model/x"),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A%3Afoundation-model%2Fx"
        );
    }
}
