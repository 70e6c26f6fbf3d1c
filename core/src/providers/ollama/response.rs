//! Ollama `/api/chat` objects (a whole answer, or one NDJSON line of a stream) -> unified
//! answers, and the pieces the stream decoder shares.

use super::error::{excerpt, stream_error};
use crate::api::{
    ChatResponse, Choice, Error, FinishReason, FunctionCall, JsonMap, ResponseMessage, Role,
    ToolCall, ToolKind, Usage, CHAT_COMPLETION_OBJECT,
};
use crate::providers::now_unix;
use serde::Deserialize;
use serde_json::Value;

/// One `/api/chat` object: the whole answer, or one line of a stream.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireChat {
    #[serde(default)]
    pub(super) model: Option<String>,
    #[serde(default)]
    pub(super) created_at: Option<String>,
    #[serde(default)]
    pub(super) message: Option<WireMessage>,
    #[serde(default)]
    pub(super) done: bool,
    #[serde(default)]
    pub(super) done_reason: Option<String>,
    #[serde(default)]
    pub(super) prompt_eval_count: Option<u64>,
    #[serde(default)]
    pub(super) eval_count: Option<u64>,
    #[serde(default)]
    pub(super) error: Option<Value>,
}

/// The assistant message (or its piece, in a stream).
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireMessage {
    #[serde(default)]
    pub(super) content: Option<String>,
    #[serde(default)]
    pub(super) thinking: Option<String>,
    #[serde(default)]
    pub(super) tool_calls: Vec<WireToolCall>,
}

/// A tool call: whole, arguments as a JSON object.
#[derive(Debug, Deserialize)]
pub(super) struct WireToolCall {
    #[serde(default)]
    pub(super) id: Option<String>,
    pub(super) function: WireFunction,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireFunction {
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) arguments: Value,
}

impl WireChat {
    /// Parses one object; an `{"error": ...}` object is the typed error it carries.
    pub(super) fn parse(text: &[u8]) -> Result<WireChat, Error> {
        let wire: WireChat = serde_json::from_slice(text).map_err(|e| {
            Error::invalid_response(format!(
                "the answer is not an Ollama chat object ({e}): {}",
                excerpt(text)
            ))
        })?;
        if let Some(err) = wire.error.as_ref() {
            return Err(stream_error(err));
        }
        Ok(wire)
    }

    /// Usage when Ollama reported counts (the final object does).
    pub(super) fn usage(&self) -> Option<Usage> {
        if self.prompt_eval_count.is_none() && self.eval_count.is_none() {
            return None;
        }
        Some(Usage::new(
            self.prompt_eval_count.unwrap_or(0),
            self.eval_count.unwrap_or(0),
        ))
    }
}

/// The finish reason: `length` from `done_reason`, `tool_calls` when the answer called tools
/// (Ollama says `stop` then), `stop` otherwise (`stop`, `load`, `unload`, ...).
pub(super) fn finish_reason(done_reason: Option<&str>, called_tools: bool) -> FinishReason {
    match done_reason {
        Some("length") => FinishReason::Length,
        _ if called_tools => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// A tool call's id: Ollama's own when it sent one, else `call_<digest>_<n>` built from the
/// answer's timestamp, so ids differ between answers and stay unique within one.
pub(super) fn call_id(given: Option<String>, created_at: &str, ordinal: usize) -> String {
    if let Some(id) = given.filter(|i| !i.is_empty()) {
        return id;
    }
    let digest = blake3::hash(created_at.as_bytes()).to_hex();
    format!("call_{}_{ordinal}", &digest.as_str()[..12])
}

/// A tool call's arguments as the JSON text OpenAI clients expect (`{}` when absent).
pub(super) fn arguments_text(arguments: &Value) -> String {
    match arguments {
        Value::Null => "{}".to_string(),
        // Some models put the arguments in a string already.
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A stable id for an answer from its timestamp.
pub(super) fn answer_id(created_at: &str) -> String {
    let digest = blake3::hash(created_at.as_bytes()).to_hex();
    format!("ollama-{}", &digest.as_str()[..16])
}

/// Parses a successful non-streaming answer.
pub(super) fn parse_chat(body: &[u8], model: &str) -> Result<ChatResponse, Error> {
    let wire = WireChat::parse(body)?;
    let created_at = wire.created_at.clone().unwrap_or_default();
    let msg = wire.message.as_ref();
    let text = msg.and_then(|m| m.content.clone()).unwrap_or_default();
    let thinking = msg.and_then(|m| m.thinking.clone()).unwrap_or_default();
    let tool_calls: Vec<ToolCall> = wire
        .message
        .as_ref()
        .map(|m| &m.tool_calls)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| ToolCall {
            id: call_id(c.id.clone(), &created_at, i),
            kind: ToolKind::Function,
            function: FunctionCall {
                name: c.function.name.clone(),
                arguments: arguments_text(&c.function.arguments),
            },
            extra: JsonMap::new(),
        })
        .collect();
    let mut extra = JsonMap::new();
    if !thinking.is_empty() {
        extra.insert("reasoning_content".into(), Value::String(thinking));
    }
    Ok(ChatResponse {
        id: answer_id(&created_at),
        object: CHAT_COMPLETION_OBJECT.to_string(),
        created: now_unix(),
        model: wire.model.clone().unwrap_or_else(|| model.to_string()),
        choices: vec![Choice {
            index: 0,
            finish_reason: Some(finish_reason(
                wire.done_reason.as_deref(),
                !tool_calls.is_empty(),
            )),
            message: ResponseMessage {
                role: Role::Assistant,
                content: (!text.is_empty() || tool_calls.is_empty()).then_some(text),
                refusal: None,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                extra,
            },
            logprobs: None,
            extra: JsonMap::new(),
        }],
        usage: wire.usage(),
        system_fingerprint: None,
        switchpoint: None,
        extra: JsonMap::new(),
    })
}
