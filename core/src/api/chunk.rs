//! The chat-completions stream chunk.

use super::{Facts, FinishReason, JsonMap, Role, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One streamed chunk in the OpenAI wire shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    pub id: String,
    /// Always `"chat.completion.chunk"`.
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChunkChoice>,
    /// Set only on the final usage chunk (whose `choices` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// The gateway's facts, attached to the last chunk of a stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switchpoint: Option<Facts>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// The object name of a stream chunk.
pub const CHAT_CHUNK_OBJECT: &str = "chat.completion.chunk";

impl ChatChunk {
    /// An empty chunk with the stream's identity, to be filled by an adapter.
    pub fn new(id: impl Into<String>, created: u64, model: impl Into<String>) -> Self {
        ChatChunk {
            id: id.into(),
            object: CHAT_CHUNK_OBJECT.to_string(),
            created,
            model: model.into(),
            choices: Vec::new(),
            usage: None,
            system_fingerprint: None,
            switchpoint: None,
            extra: JsonMap::new(),
        }
    }

    /// A chunk carrying one delta for choice `index`.
    pub fn with_delta(
        mut self,
        index: u32,
        delta: Delta,
        finish_reason: Option<FinishReason>,
    ) -> Self {
        self.choices.push(ChunkChoice {
            extra: JsonMap::new(),
            index,
            delta,
            finish_reason,
            logprobs: None,
        });
        self
    }

    /// The text this chunk adds across choices (for logging and tests).
    pub fn text(&self) -> String {
        self.choices
            .iter()
            .filter_map(|c| c.delta.content.as_deref())
            .collect()
    }
}

/// One choice's part of a chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    pub index: u32,
    pub delta: Delta,
    pub finish_reason: Option<FinishReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
    /// Provider extras on the choice (Azure's `content_filter_results`).
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// What a chunk adds to one choice's message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl Delta {
    /// A delta adding text.
    pub fn content(text: impl Into<String>) -> Self {
        Delta {
            content: Some(text.into()),
            ..Delta::default()
        }
    }
}

/// A piece of a tool call, addressed by its index within the message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    pub index: u32,
    /// Set on the first piece of each call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `"function"` on the first piece.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<super::ToolKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
}

/// A piece of a function call: the name once, then argument text in fragments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}
