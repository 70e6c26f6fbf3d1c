//! The Response object (`object: "response"`), as the spec's `Response` schema describes it.

use crate::api::{Facts, JsonMap};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `object` value of every Response.
pub const RESPONSE_OBJECT: &str = "response";

/// A model response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseObject {
    pub id: String,
    pub object: String,
    pub created_at: u64,
    pub status: ResponseStatus,
    pub model: String,
    pub output: Vec<OutputItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<ResponseUsage>,
    /// Why the answer stopped early (`max_output_tokens`, `content_filter`); null otherwise.
    #[serde(default)]
    pub incomplete_details: Option<IncompleteDetails>,
    /// What went wrong when `status` is `failed`; null otherwise.
    #[serde(default)]
    pub error: Option<ResponseError>,
    // The request parameters every Response echoes (required by the spec, null when unset).
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub tools: Vec<Value>,
    #[serde(default)]
    pub tool_choice: Value,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    #[serde(default)]
    pub parallel_tool_calls: bool,
    #[serde(default)]
    pub metadata: JsonMap,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// What the gateway did (target, attempts, cache, cost, latency); not part of OpenAI's
    /// shape, so it is omitted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switchpoint: Option<Facts>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl ResponseObject {
    /// The text of every `output_text` part, concatenated (the SDKs' `output_text`).
    pub fn output_text(&self) -> String {
        let mut out = String::new();
        for item in &self.output {
            if let OutputItem::Message(m) = item {
                for part in &m.content {
                    if part.kind == "output_text" {
                        out.push_str(part.text.as_deref().unwrap_or(""));
                    }
                }
            }
        }
        out
    }

    /// The function calls the model made, in order.
    pub fn function_calls(&self) -> Vec<&FunctionCallOutput> {
        self.output
            .iter()
            .filter_map(|i| match i {
                OutputItem::FunctionCall(f) => Some(f),
                _ => None,
            })
            .collect()
    }
}

/// Where a Response is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    Completed,
    Failed,
    InProgress,
    Cancelled,
    Queued,
    Incomplete,
}

/// `incomplete_details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncompleteDetails {
    /// `max_output_tokens` or `content_filter`.
    pub reason: String,
}

/// `error` of a failed Response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseError {
    pub code: String,
    pub message: String,
}

/// One output item: an assistant message, a function call, or anything else (kept whole).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputItem {
    Message(OutputMessage),
    FunctionCall(FunctionCallOutput),
    #[serde(untagged)]
    Other(Value),
}

/// An assistant message item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputMessage {
    pub id: String,
    pub role: String,
    /// `in_progress`, `completed` or `incomplete`.
    pub status: String,
    pub content: Vec<OutputContent>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A content part of an output message: `output_text` (with `annotations` and `logprobs`)
/// or `refusal`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputContent {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl OutputContent {
    /// An `output_text` part (empty annotations and logprobs, as OpenAI sends them).
    pub fn text(text: impl Into<String>) -> Self {
        OutputContent {
            kind: "output_text".into(),
            text: Some(text.into()),
            annotations: Some(Vec::new()),
            logprobs: Some(Vec::new()),
            refusal: None,
            extra: JsonMap::new(),
        }
    }

    /// A `refusal` part.
    pub fn refusal(text: impl Into<String>) -> Self {
        OutputContent {
            kind: "refusal".into(),
            text: None,
            annotations: None,
            logprobs: None,
            refusal: Some(text.into()),
            extra: JsonMap::new(),
        }
    }
}

/// A `function_call` output item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub call_id: String,
    pub name: String,
    pub arguments: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// Token usage of a Response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseUsage {
    /// All input tokens, cached ones included.
    pub input_tokens: u64,
    #[serde(default)]
    pub input_tokens_details: InputTokensDetails,
    /// All output tokens, reasoning ones included.
    pub output_tokens: u64,
    #[serde(default)]
    pub output_tokens_details: OutputTokensDetails,
    pub total_tokens: u64,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `input_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputTokensDetails {
    #[serde(default)]
    pub cached_tokens: u64,
    /// Input tokens written to the provider's prompt cache (Anthropic's cache writes).
    #[serde(default)]
    pub cache_write_tokens: u64,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `output_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
    #[serde(flatten)]
    pub extra: JsonMap,
}
