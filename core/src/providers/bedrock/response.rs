//! Bedrock `ConverseResponse` -> unified chat response, and the usage and stop-reason mappings
//! the stream decoder shares.

use super::super::now_unix;
use crate::api::{
    ChatResponse, Choice, Error, FinishReason, FunctionCall, JsonMap, PromptTokensDetails,
    ResponseMessage, Role, TokenCount, ToolCall, ToolKind, Usage, CHAT_COMPLETION_OBJECT,
};
use serde::Deserialize;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

/// The parts of a `ConverseResponse` the unified response needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResponse {
    output: WireOutput,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// `ConverseOutput`, a union whose one member today is `message`.
#[derive(Debug, Deserialize)]
struct WireOutput {
    #[serde(default)]
    message: Option<WireMessage>,
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Vec<WireBlock>,
}

/// A `ContentBlock` union member; members the unified API has no place for are skipped.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBlock {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    tool_use: Option<WireToolUse>,
    #[serde(default)]
    reasoning_content: Option<WireReasoning>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireToolUse {
    tool_use_id: String,
    name: String,
    #[serde(default)]
    input: Value,
}

/// `ReasoningContentBlock`: readable reasoning text (or encrypted content, skipped).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireReasoning {
    #[serde(default)]
    reasoning_text: Option<WireReasoningText>,
}

#[derive(Debug, Deserialize)]
struct WireReasoningText {
    #[serde(default)]
    text: String,
}

/// `TokenUsage`. `inputTokens` excludes cache reads and writes, which are counted apart.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireUsage {
    #[serde(default)]
    pub(super) input_tokens: u64,
    #[serde(default)]
    pub(super) output_tokens: u64,
    #[serde(default)]
    pub(super) cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) cache_write_input_tokens: Option<u64>,
}

impl WireUsage {
    /// OpenAI-shaped usage: `prompt_tokens` includes cache reads and writes (as OpenAI's prompt
    /// count includes cached tokens, and as the Anthropic adapter reports it), both broken
    /// out in `prompt_tokens_details`.
    pub(super) fn to_usage(self) -> Usage {
        let read = self.cache_read_input_tokens;
        let write = self.cache_write_input_tokens;
        let prompt = self
            .input_tokens
            .saturating_add(read.unwrap_or(0))
            .saturating_add(write.unwrap_or(0));
        let mut usage = Usage::new(prompt, self.output_tokens);
        if read.is_some() || write.is_some() {
            usage.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: Some(TokenCount(read.unwrap_or(0))),
                cache_creation_tokens: Some(TokenCount(write.unwrap_or(0))),
                ..PromptTokensDetails::default()
            });
        }
        usage
    }
}

/// Converse's `stopReason` as an OpenAI finish reason; unknown future reasons count as `stop`.
pub(super) fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

/// An id for an answer: Converse answers carry none in the body (the request id is a header).
pub(super) fn answer_id() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("chatcmpl-bedrock-{:x}-{n}", now_unix())
}

/// Parses a successful `Converse` answer.
pub(super) fn parse_converse(body: &[u8], model: &str) -> Result<ChatResponse, Error> {
    let wire: WireResponse = serde_json::from_slice(body).map_err(|e| {
        Error::invalid_response(format!("the answer is not a Bedrock ConverseResponse: {e}"))
    })?;
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut tool_calls = Vec::new();
    for block in wire.output.message.map(|m| m.content).unwrap_or_default() {
        if let Some(t) = block.text {
            text.push_str(&t);
        }
        if let Some(call) = block.tool_use {
            let input = if call.input.is_null() {
                Value::Object(JsonMap::new())
            } else {
                call.input
            };
            tool_calls.push(ToolCall {
                id: call.tool_use_id,
                kind: ToolKind::Function,
                function: FunctionCall {
                    name: call.name,
                    arguments: input.to_string(),
                },
                extra: JsonMap::new(),
            });
        }
        if let Some(r) = block.reasoning_content.and_then(|r| r.reasoning_text) {
            reasoning.push_str(&r.text);
        }
    }
    let mut extra = JsonMap::new();
    if !reasoning.is_empty() {
        extra.insert("reasoning_content".into(), Value::String(reasoning));
    }
    Ok(ChatResponse {
        id: answer_id(),
        object: CHAT_COMPLETION_OBJECT.to_string(),
        created: now_unix(),
        model: model.to_string(),
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: Role::Assistant,
                content: (!text.is_empty()).then_some(text),
                refusal: None,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                extra,
            },
            finish_reason: Some(
                wire.stop_reason
                    .as_deref()
                    .map_or(FinishReason::Stop, finish_reason),
            ),
            logprobs: None,
            extra: JsonMap::new(),
        }],
        usage: wire.usage.map(WireUsage::to_usage),
        system_fingerprint: None,
        switchpoint: None,
        extra: JsonMap::new(),
    })
}
