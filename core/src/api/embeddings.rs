//! The embeddings request and response.

use super::{JsonMap, TokenCount};
use serde::{Deserialize, Serialize};

/// An embeddings request in the OpenAI wire shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingRequest {
    pub model: String,
    pub input: EmbeddingInput,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<EncodingFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Provider-specific parameters, merged into the provider's body untouched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_body: Option<JsonMap>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// What to embed: one string, several, or pre-tokenized input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    One(String),
    Many(Vec<String>),
    Tokens(Vec<u32>),
    ManyTokens(Vec<Vec<u32>>),
}

impl EmbeddingInput {
    /// The inputs as texts; None for token-id input, which only OpenAI-shaped hosts accept.
    pub fn texts(&self) -> Option<Vec<&str>> {
        match self {
            EmbeddingInput::One(s) => Some(vec![s.as_str()]),
            EmbeddingInput::Many(v) => Some(v.iter().map(String::as_str).collect()),
            _ => None,
        }
    }
}

/// How vectors are encoded in the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    Float,
    Base64,
}

/// An embeddings response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    /// Always `"list"`.
    pub object: String,
    pub data: Vec<Embedding>,
    pub model: String,
    pub usage: EmbeddingUsage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switchpoint: Option<super::Facts>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// One input's vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// Always `"embedding"`.
    pub object: String,
    pub index: u32,
    pub embedding: EmbeddingVector,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A vector as floats, or as base64 of little-endian f32 when asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingVector {
    Float(Vec<f32>),
    Base64(String),
}

/// Tokens read to make the embeddings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingUsage {
    pub prompt_tokens: TokenCount,
    pub total_tokens: TokenCount,
}
