//! `GenerateContentResponse` on the wire, and its translation to the unified response.
//!
//! - Each candidate is a choice (`index` = `candidate.index`, else its position).
//! - Text parts are concatenated; parts with `thought: true` are the model's reasoning
//!   summary and are kept out of `content` (the unified shape has no field for them; their
//!   cost is in `reasoning_tokens`).
//! - `functionCall` parts become tool calls: id = the part's `id` when Gemini sends one,
//!   else `call_<candidate>_<n>` (deterministic, unique within one answer), arguments =
//!   compact JSON of `args`.
//! - Usage: `prompt_tokens` = `promptTokenCount`; `completion_tokens` =
//!   `candidatesTokenCount + thoughtsTokenCount` (Gemini counts thoughts apart from
//!   candidates, OpenAI counts reasoning inside completion tokens); `total_tokens` =
//!   `totalTokenCount`; `cached_tokens` = `cachedContentTokenCount`; `reasoning_tokens` =
//!   `thoughtsTokenCount`.

use super::error::excerpt;
use crate::api::{
    ChatResponse, Choice, CompletionTokensDetails, Error, ErrorKind, FinishReason, FunctionCall,
    JsonMap, PromptTokensDetails, ResponseMessage, Role, TokenCount, ToolCall, ToolKind, Usage,
    CHAT_COMPLETION_OBJECT,
};
use crate::providers::now_unix;
use serde::Deserialize;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

/// One `GenerateContentResponse` (a whole answer, or one stream event).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireResponse {
    #[serde(default)]
    pub candidates: Vec<WireCandidate>,
    pub prompt_feedback: Option<WirePromptFeedback>,
    pub usage_metadata: Option<WireUsage>,
    pub model_version: Option<String>,
    pub response_id: Option<String>,
}

/// One `Candidate`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireCandidate {
    pub index: Option<u32>,
    pub content: Option<WireContent>,
    pub finish_reason: Option<String>,
}

/// A `Content`: only its parts matter in an answer.
#[derive(Debug, Deserialize)]
pub(super) struct WireContent {
    #[serde(default)]
    pub parts: Vec<WirePart>,
}

/// A `Part`: text (possibly a thought) or a function call; other kinds are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WirePart {
    pub text: Option<String>,
    pub thought: Option<bool>,
    pub function_call: Option<WireFunctionCall>,
}

/// A `FunctionCall`.
#[derive(Debug, Deserialize)]
pub(super) struct WireFunctionCall {
    pub id: Option<String>,
    pub name: String,
    pub args: Option<Value>,
}

/// `PromptFeedback`: set when the prompt itself was blocked.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WirePromptFeedback {
    pub block_reason: Option<String>,
}

/// `UsageMetadata`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireUsage {
    pub prompt_token_count: Option<u64>,
    pub cached_content_token_count: Option<u64>,
    pub candidates_token_count: Option<u64>,
    pub thoughts_token_count: Option<u64>,
    pub total_token_count: Option<u64>,
}

impl WireCandidate {
    /// The choice index: Gemini's, else the candidate's position.
    pub fn choice_index(&self, position: usize) -> u32 {
        self.index
            .unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX))
    }

    /// The candidate's parts (none when it has no content, as after a safety stop).
    pub fn parts(&self) -> &[WirePart] {
        self.content.as_ref().map_or(&[], |c| c.parts.as_slice())
    }
}

impl WirePart {
    /// The visible text of this part (thoughts are not visible text).
    pub fn visible_text(&self) -> Option<&str> {
        if self.thought == Some(true) {
            return None;
        }
        self.text.as_deref()
    }
}

impl WireFunctionCall {
    /// The unified tool call: the part's id or `call_<candidate>_<n>`, arguments as compact JSON.
    pub fn to_tool_call(&self, candidate: u32, n: u32) -> ToolCall {
        ToolCall {
            extra: Default::default(),
            id: self
                .id
                .clone()
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| format!("call_{candidate}_{n}")),
            kind: ToolKind::Function,
            function: FunctionCall {
                name: self.name.clone(),
                arguments: self.arguments(),
            },
        }
    }

    /// `args` as a compact JSON string; `{}` when absent.
    fn arguments(&self) -> String {
        match &self.args {
            None | Some(Value::Null) => "{}".to_string(),
            Some(v) => v.to_string(),
        }
    }
}

/// Parses a complete `generateContent` answer.
pub(super) fn parse_chat(body: &[u8], model: &str) -> Result<ChatResponse, Error> {
    let wire: WireResponse = serde_json::from_slice(body).map_err(|e| {
        Error::invalid_response(format!(
            "Gemini answer is not a GenerateContentResponse ({e}): {}",
            excerpt(body)
        ))
    })?;
    if wire.candidates.is_empty() {
        return Err(no_candidates(&wire));
    }
    let choices = wire
        .candidates
        .iter()
        .enumerate()
        .map(|(pos, c)| choice(c, pos))
        .collect();
    Ok(ChatResponse {
        id: wire.response_id.clone().unwrap_or_else(generated_id),
        object: CHAT_COMPLETION_OBJECT.to_string(),
        created: now_unix(),
        model: wire
            .model_version
            .clone()
            .unwrap_or_else(|| model.to_string()),
        choices,
        usage: wire.usage_metadata.as_ref().map(usage),
        system_fingerprint: None,
        switchpoint: None,
        extra: JsonMap::new(),
    })
}

/// The error for an answer without candidates: a blocked prompt, or a malformed answer.
pub(super) fn no_candidates(wire: &WireResponse) -> Error {
    match wire
        .prompt_feedback
        .as_ref()
        .and_then(|f| f.block_reason.as_deref())
    {
        Some(reason) => Error::new(
            ErrorKind::ContentFiltered,
            format!("Gemini blocked the prompt (blockReason {reason})"),
        )
        .with_code(reason),
        None => Error::invalid_response("Gemini answered without candidates or a block reason"),
    }
}

/// One candidate as a choice.
fn choice(c: &WireCandidate, position: usize) -> Choice {
    let index = c.choice_index(position);
    let mut text: Option<String> = None;
    let mut calls = Vec::new();
    for part in c.parts() {
        if let Some(t) = part.visible_text() {
            text.get_or_insert_with(String::new).push_str(t);
        }
        if let Some(fc) = &part.function_call {
            let n = u32::try_from(calls.len()).unwrap_or(u32::MAX);
            calls.push(fc.to_tool_call(index, n));
        }
    }
    let finish = finish_reason(c.finish_reason.as_deref(), !calls.is_empty());
    Choice {
        extra: Default::default(),
        index,
        message: ResponseMessage {
            role: Role::Assistant,
            content: text,
            refusal: None,
            tool_calls: (!calls.is_empty()).then_some(calls),
            extra: JsonMap::new(),
        },
        finish_reason: Some(finish),
        logprobs: None,
    }
}

/// Gemini's `finishReason` in OpenAI's terms.
///
/// `MAX_TOKENS` is `length`; the safety family (`SAFETY`, `RECITATION`, `BLOCKLIST`,
/// `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`,
/// `IMAGE_RECITATION`) is `content_filter`. Everything else (`STOP`, `MALFORMED_FUNCTION_CALL`,
/// `OTHER`, `LANGUAGE`, `UNEXPECTED_TOOL_CALL`, unknown values, or none) is `tool_calls` when
/// the candidate holds function calls and `stop` otherwise: real Gemini ends a tool-calling
/// answer with `STOP`, and the third-party mock `@copilotkit/aimock` ends one with a
/// `FUNCTION_CALL` reason Gemini never sends, which this rule also covers.
pub(super) fn finish_reason(raw: Option<&str>, has_calls: bool) -> FinishReason {
    match raw {
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(
            "SAFETY"
            | "RECITATION"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT"
            | "IMAGE_RECITATION",
        ) => FinishReason::ContentFilter,
        _ if has_calls => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// `UsageMetadata` as unified usage (mapping in the module doc).
pub(super) fn usage(u: &WireUsage) -> Usage {
    let prompt = u.prompt_token_count.unwrap_or(0);
    let thoughts = u.thoughts_token_count;
    let completion = u
        .candidates_token_count
        .unwrap_or(0)
        .saturating_add(thoughts.unwrap_or(0));
    Usage {
        prompt_tokens: TokenCount(prompt),
        completion_tokens: TokenCount(completion),
        total_tokens: TokenCount(
            u.total_token_count
                .unwrap_or_else(|| prompt.saturating_add(completion)),
        ),
        prompt_tokens_details: u.cached_content_token_count.map(|c| PromptTokensDetails {
            cached_tokens: Some(TokenCount(c)),
            ..PromptTokensDetails::default()
        }),
        completion_tokens_details: thoughts.map(|t| CompletionTokensDetails {
            reasoning_tokens: Some(TokenCount(t)),
            ..CompletionTokensDetails::default()
        }),
        extra: JsonMap::new(),
    }
}

/// An id for an answer Gemini sent without `responseId`: unique within the process.
pub(super) fn generated_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "gemini-{}-{}",
        now_unix(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_finish_reasons() {
        assert_eq!(finish_reason(Some("STOP"), false), FinishReason::Stop);
        assert_eq!(finish_reason(Some("STOP"), true), FinishReason::ToolCalls);
        assert_eq!(
            finish_reason(Some("MAX_TOKENS"), true),
            FinishReason::Length
        );
        assert_eq!(
            finish_reason(Some("SPII"), false),
            FinishReason::ContentFilter
        );
        assert_eq!(
            finish_reason(Some("FUNCTION_CALL"), true),
            FinishReason::ToolCalls
        );
        assert_eq!(
            finish_reason(Some("FUNCTION_CALL"), false),
            FinishReason::Stop
        );
        assert_eq!(
            finish_reason(Some("MALFORMED_FUNCTION_CALL"), false),
            FinishReason::Stop
        );
        assert_eq!(finish_reason(None, false), FinishReason::Stop);
    }
}
