//! azure. Placeholder until written.
use super::*;
use crate::api::*;
/// Adapter for the OpenAI wire format.
#[derive(Debug)]
pub struct AzureAdapter {
    settings: ProviderSettings,
}
impl AzureAdapter {
    /// Builds the adapter.
    pub fn new(settings: ProviderSettings) -> Self {
        Self { settings }
    }
}
impl Adapter for AzureAdapter {
    fn settings(&self) -> &ProviderSettings {
        &self.settings
    }
    fn chat_request(
        &self,
        _req: &ChatRequest,
        _model: &str,
        _stream: bool,
    ) -> Result<HttpRequest, Error> {
        unimplemented!()
    }
    fn parse_chat(&self, _body: &[u8], _model: &str) -> Result<ChatResponse, Error> {
        unimplemented!()
    }
    fn stream_decoder(&self, _model: &str) -> Box<dyn StreamDecoder> {
        unimplemented!()
    }
    fn embed_request(&self, _req: &EmbeddingRequest, _model: &str) -> Result<HttpRequest, Error> {
        unimplemented!()
    }
    fn parse_embed(&self, _body: &[u8], _model: &str) -> Result<EmbeddingResponse, Error> {
        unimplemented!()
    }
    fn parse_error(&self, _status: u16, _headers: &http::HeaderMap, _body: &[u8]) -> Error {
        unimplemented!()
    }
}
