//! Anthropic `Message` -> unified chat response, and the usage and stop-reason mappings the
//! stream decoder shares.

use super::super::now_unix;
use crate::api::{
    ChatResponse, Choice, Error, FinishReason, FunctionCall, JsonMap, PromptTokensDetails,
    ResponseMessage, Role, TokenCount, ToolCall, ToolKind, Usage, CHAT_COMPLETION_OBJECT,
};
use serde::Deserialize;
use serde_json::Value;

/// The parts of a `Message` the unified response needs.
#[derive(Debug, Deserialize)]
struct WireMessage {
    id: String,
    #[serde(default)]
    model: Option<String>,
    content: Vec<WireBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// A response content block; kinds the unified API has no place for are skipped.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    Thinking {
        thinking: String,
        #[serde(default)]
        signature: Option<String>,
    },
    RedactedThinking {
        data: String,
    },
    Fallback {
        #[serde(default)]
        to: Option<ModelRef>,
    },
    #[serde(other)]
    Other,
}

/// `{"model": "..."}`, as a fallback block names the models involved.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct ModelRef {
    #[serde(default)]
    pub(super) model: Option<String>,
}

/// Token counts as Anthropic reports them; every field may be absent or null in a stream.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub(super) input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) output_tokens: Option<u64>,
    #[serde(default)]
    pub(super) cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Takes every count `newer` reports (message_delta counts are cumulative).
    pub(super) fn update(&mut self, newer: &WireUsage) {
        self.input_tokens = newer.input_tokens.or(self.input_tokens);
        self.output_tokens = newer.output_tokens.or(self.output_tokens);
        self.cache_creation_input_tokens = newer
            .cache_creation_input_tokens
            .or(self.cache_creation_input_tokens);
        self.cache_read_input_tokens = newer
            .cache_read_input_tokens
            .or(self.cache_read_input_tokens);
    }

    /// OpenAI-shaped usage: `prompt_tokens` includes cache reads and writes (OpenAI's prompt
    /// count includes cached tokens), with both broken out in `prompt_tokens_details`.
    pub(super) fn to_usage(self) -> Usage {
        let read = self.cache_read_input_tokens;
        let created = self.cache_creation_input_tokens;
        let prompt = self
            .input_tokens
            .unwrap_or(0)
            .saturating_add(read.unwrap_or(0))
            .saturating_add(created.unwrap_or(0));
        let mut usage = Usage::new(prompt, self.output_tokens.unwrap_or(0));
        if read.is_some() || created.is_some() {
            usage.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: Some(TokenCount(read.unwrap_or(0))),
                cache_creation_tokens: Some(TokenCount(created.unwrap_or(0))),
                ..PromptTokensDetails::default()
            });
        }
        usage
    }
}

/// Anthropic's `stop_reason` as an OpenAI finish reason. `pause_turn` (a server tool paused
/// a long turn) ends this answer normally; unknown future reasons count as `stop`.
pub(super) fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

/// Parses a successful non-streaming answer.
pub(super) fn parse_message(body: &[u8], model: &str) -> Result<ChatResponse, Error> {
    let msg: WireMessage = serde_json::from_slice(body).map_err(|e| {
        Error::invalid_response(format!("the answer is not an Anthropic Message: {e}"))
    })?;
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut tool_calls = Vec::new();
    let mut answered_by = msg.model.unwrap_or_else(|| model.to_string());
    for block in msg.content {
        match block {
            WireBlock::Text { text: t } => text.push_str(&t),
            WireBlock::ToolUse { id, name, input } => {
                let input = if input.is_null() {
                    Value::Object(JsonMap::new())
                } else {
                    input
                };
                tool_calls.push(ToolCall {
                    extra: Default::default(),
                    id,
                    kind: ToolKind::Function,
                    function: FunctionCall {
                        name,
                        arguments: input.to_string(),
                    },
                });
            }
            WireBlock::Thinking {
                thinking,
                signature,
            } => {
                reasoning.push_str(&thinking);
                thinking_blocks.push(serde_json::json!({
                    "type": "thinking",
                    "thinking": thinking,
                    "signature": signature.unwrap_or_default(),
                }));
            }
            WireBlock::RedactedThinking { data } => {
                thinking_blocks
                    .push(serde_json::json!({ "type": "redacted_thinking", "data": data }));
            }
            WireBlock::Fallback { to } => {
                if let Some(m) = to.and_then(|t| t.model) {
                    answered_by = m;
                }
            }
            WireBlock::Other => {}
        }
    }
    let mut extra = JsonMap::new();
    if !reasoning.is_empty() {
        extra.insert("reasoning_content".into(), Value::String(reasoning));
    }
    if !thinking_blocks.is_empty() {
        extra.insert("thinking_blocks".into(), Value::Array(thinking_blocks));
    }
    let message = ResponseMessage {
        role: Role::Assistant,
        content: (!text.is_empty()).then_some(text),
        refusal: None,
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        extra,
    };
    Ok(ChatResponse {
        id: msg.id,
        object: CHAT_COMPLETION_OBJECT.to_string(),
        created: now_unix(),
        model: answered_by,
        choices: vec![Choice {
            extra: Default::default(),
            index: 0,
            message,
            finish_reason: Some(
                msg.stop_reason
                    .as_deref()
                    .map_or(FinishReason::Stop, finish_reason),
            ),
            logprobs: None,
        }],
        usage: msg.usage.map(WireUsage::to_usage),
        system_fingerprint: None,
        switchpoint: None,
        extra: JsonMap::new(),
    })
}
