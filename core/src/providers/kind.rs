use serde::{Deserialize, Serialize};
use std::fmt;

/// The wire formats switchpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProviderKind {
    /// OpenAI chat completions, and every OpenAI-compatible host.
    #[serde(rename = "openai")]
    OpenAi,
    /// Azure OpenAI: deployment URLs, `api-version`, `api-key` header.
    #[serde(rename = "azure_openai")]
    AzureOpenAi,
    /// Anthropic Messages API.
    #[serde(rename = "anthropic")]
    Anthropic,
    /// Google Gemini API (generateContent).
    #[serde(rename = "gemini")]
    Gemini,
    /// Cohere v2 API (`/v2/chat`, `/v2/embed`).
    #[serde(rename = "cohere")]
    Cohere,
    /// Mistral's own API: OpenAI-like, with its tool-call ids, `random_seed` and `safe_prompt`.
    #[serde(rename = "mistral")]
    Mistral,
    /// Ollama's native API (`/api/chat` with NDJSON streams, `/api/embed`).
    #[serde(rename = "ollama")]
    Ollama,
    /// Amazon Bedrock Converse / ConverseStream, SigV4-signed, AWS event-stream framing.
    #[serde(rename = "bedrock")]
    Bedrock,
    /// Google Vertex AI: Gemini and Anthropic publisher models, OAuth bearer tokens.
    #[serde(rename = "vertex")]
    Vertex,
}

impl ProviderKind {
    /// Every kind, for error messages listing what is allowed.
    pub const ALL: [ProviderKind; 9] = [
        ProviderKind::OpenAi,
        ProviderKind::AzureOpenAi,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
        ProviderKind::Cohere,
        ProviderKind::Mistral,
        ProviderKind::Ollama,
        ProviderKind::Bedrock,
        ProviderKind::Vertex,
    ];

    /// The config name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::AzureOpenAi => "azure_openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Cohere => "cohere",
            ProviderKind::Mistral => "mistral",
            ProviderKind::Ollama => "ollama",
            ProviderKind::Bedrock => "bedrock",
            ProviderKind::Vertex => "vertex",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
