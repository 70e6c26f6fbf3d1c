//! The chat-completions response.

use super::{Facts, JsonMap, TokenCount, ToolCall};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A complete chat-completions answer in the OpenAI wire shape, plus the gateway's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub id: String,
    /// Always `"chat.completion"`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model that answered, as the provider names it.
    pub model: String,
    pub choices: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// What the gateway did to produce this answer (absent in a provider's raw answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switchpoint: Option<Facts>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// The object name of a complete response.
pub const CHAT_COMPLETION_OBJECT: &str = "chat.completion";

impl ChatResponse {
    /// The first choice's text, the common case in one call.
    pub fn text(&self) -> Option<&str> {
        self.choices.first()?.message.content.as_deref()
    }
}

/// One alternative answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub index: u32,
    pub message: ResponseMessage,
    /// Null only while a stream is still running; complete answers always carry one.
    pub finish_reason: Option<FinishReason>,
    /// Null unless logprobs were asked for; always present, as the OpenAI schema requires.
    #[serde(default)]
    pub logprobs: Option<Value>,
    /// Provider extras on the choice (Azure's `content_filter_results`).
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// The assistant's message in a response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseMessage {
    /// Always `assistant`.
    pub role: super::Role,
    /// The text; null when the model only called tools or refused.
    pub content: Option<String>,
    /// The refusal text; null when the model did not refuse (always present, as OpenAI sends it).
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The output-token cap was hit.
    Length,
    /// The model called one or more tools.
    ToolCalls,
    /// Output was withheld by a safety filter.
    ContentFilter,
    /// Deprecated OpenAI form of `tool_calls`.
    FunctionCall,
}

impl FinishReason {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::FunctionCall => "function_call",
        }
    }
}

/// Token usage, with the cached and reasoning details cost depends on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: TokenCount,
    pub completion_tokens: TokenCount,
    pub total_tokens: TokenCount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl Usage {
    /// Usage from prompt and completion counts, total filled in.
    pub fn new(prompt: u64, completion: u64) -> Self {
        Usage {
            prompt_tokens: TokenCount(prompt),
            completion_tokens: TokenCount(completion),
            total_tokens: TokenCount(prompt.saturating_add(completion)),
            ..Usage::default()
        }
    }

    /// Prompt tokens read from the provider's cache (billed at the cached rate).
    pub fn cached_tokens(&self) -> TokenCount {
        self.prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .unwrap_or_default()
    }

    /// Completion tokens spent on hidden reasoning.
    pub fn reasoning_tokens(&self) -> TokenCount {
        self.completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or_default()
    }
}

/// Breakdown of prompt tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    /// Tokens read from the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<TokenCount>,
    /// Tokens written to the prompt cache (Anthropic's cache_creation_input_tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_tokens: Option<TokenCount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<TokenCount>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// Breakdown of completion tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<TokenCount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<TokenCount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_prediction_tokens: Option<TokenCount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_prediction_tokens: Option<TokenCount>,
    #[serde(flatten)]
    pub extra: JsonMap,
}
