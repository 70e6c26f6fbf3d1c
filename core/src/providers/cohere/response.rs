//! Cohere v2 chat answers -> unified responses, and the pieces the stream decoder shares
//! (usage, finish reasons, citations rendered as text).

use super::error::excerpt;
use crate::api::{
    ChatResponse, Choice, Error, ErrorKind, FinishReason, FunctionCall, JsonMap, ResponseMessage,
    Role, ToolCall, ToolKind, Usage, CHAT_COMPLETION_OBJECT,
};
use crate::providers::now_unix;
use serde::Deserialize;
use serde_json::Value;

/// The non-streamed chat answer.
#[derive(Debug, Deserialize)]
struct WireResponse {
    #[serde(default)]
    id: String,
    #[serde(default)]
    finish_reason: Option<String>,
    message: WireMessage,
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// The assistant message of an answer.
#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Vec<WireContent>,
    #[serde(default)]
    tool_calls: Vec<WireToolCall>,
    #[serde(default)]
    tool_plan: Option<String>,
    #[serde(default)]
    citations: Vec<WireCitation>,
}

/// One content block: `text`, or `thinking` from reasoning models.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireContent {
    Text {
        #[serde(default)]
        text: String,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
    },
    #[serde(other)]
    Other,
}

/// A tool call in the OpenAI-like shape Cohere v2 uses.
#[derive(Debug, Deserialize)]
struct WireToolCall {
    #[serde(default)]
    id: String,
    function: WireFunction,
}

#[derive(Debug, Deserialize)]
struct WireFunction {
    #[serde(default)]
    name: String,
    #[serde(default)]
    arguments: Option<String>,
}

/// A citation: the cited span of the answer and the sources backing it.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct WireCitation {
    #[serde(default)]
    pub(super) text: Option<String>,
    #[serde(default)]
    pub(super) sources: Vec<WireSource>,
}

/// A citation source: a tool result (`type: tool`) or a document (`type: document`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct WireSource {
    #[serde(rename = "type", default)]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) document: Option<Value>,
}

/// `usage`: billed units (what Cohere charges) and raw token counts.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    billed_units: Option<WireCounts>,
    #[serde(default)]
    tokens: Option<WireCounts>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct WireCounts {
    #[serde(default)]
    input_tokens: Option<f64>,
    #[serde(default)]
    output_tokens: Option<f64>,
}

impl WireUsage {
    /// Unified usage from the billed units (the counts Cohere charges for; `tokens` also counts
    /// tokens Cohere adds itself, such as its prompt template), falling back to the raw token
    /// counts per field when a billed count is missing.
    pub(super) fn to_usage(&self) -> Usage {
        let pick = |f: fn(&WireCounts) -> Option<f64>| {
            self.billed_units
                .as_ref()
                .and_then(f)
                .or_else(|| self.tokens.as_ref().and_then(f))
                .map_or(0, |v| {
                    if v.is_finite() && v > 0.0 {
                        v as u64
                    } else {
                        0
                    }
                })
        };
        Usage::new(pick(|c| c.input_tokens), pick(|c| c.output_tokens))
    }
}

/// Cohere's finish reason as an OpenAI one; `ERROR` and `TIMEOUT` (the answer failed) are
/// typed errors carrying `detail`, Cohere's error text when it sent one.
pub(super) fn finish_reason(reason: &str, detail: Option<&str>) -> Result<FinishReason, Error> {
    match reason {
        "MAX_TOKENS" => Ok(FinishReason::Length),
        "TOOL_CALL" => Ok(FinishReason::ToolCalls),
        "ERROR" | "TIMEOUT" => {
            let kind = if reason == "TIMEOUT" {
                ErrorKind::Timeout
            } else {
                ErrorKind::Unavailable
            };
            let msg = detail.filter(|d| !d.is_empty()).map_or_else(
                || format!("Cohere ended the answer with finish_reason {reason}"),
                str::to_string,
            );
            Err(Error::new(kind, msg).with_code(reason))
        }
        // COMPLETE, STOP_SEQUENCE and reasons added later.
        _ => Ok(FinishReason::Stop),
    }
}

/// Citations as text appended to the answer: a blank line, `Citations:`, then one line per
/// citation, `[n] "<cited text>" (<source>, ...)`. Empty when there are none.
pub(super) fn render_citations(citations: &[WireCitation]) -> String {
    if citations.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n\nCitations:");
    for (i, c) in citations.iter().enumerate() {
        out.push_str(&format!(
            "\n[{}] \"{}\"",
            i + 1,
            c.text.as_deref().unwrap_or("")
        ));
        let sources: Vec<String> = c.sources.iter().map(source_label).collect();
        if !sources.is_empty() {
            out.push_str(&format!(" ({})", sources.join(", ")));
        }
    }
    out
}

/// `tool: <id>` / `document: <id or title>`.
fn source_label(s: &WireSource) -> String {
    let doc_field = |k: &str| {
        s.document
            .as_ref()
            .and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let name =
        s.id.clone()
            .or_else(|| doc_field("id"))
            .or_else(|| doc_field("title"))
            .unwrap_or_default();
    match s.kind.as_deref() {
        Some(kind) if !name.is_empty() => format!("{kind}: {name}"),
        Some(kind) => kind.to_string(),
        None => name,
    }
}

/// Parses a successful non-streaming answer.
pub(super) fn parse_chat(body: &[u8], model: &str) -> Result<ChatResponse, Error> {
    let wire: WireResponse = serde_json::from_slice(body).map_err(|e| {
        Error::invalid_response(format!(
            "the answer is not a Cohere chat response ({e}): {}",
            excerpt(body)
        ))
    })?;
    let finish = wire
        .finish_reason
        .as_deref()
        .map(|r| finish_reason(r, None))
        .transpose()?
        .unwrap_or(FinishReason::Stop);
    let mut text = String::new();
    let mut reasoning = wire.message.tool_plan.unwrap_or_default();
    for block in wire.message.content {
        match block {
            WireContent::Text { text: t } => text.push_str(&t),
            WireContent::Thinking { thinking } => reasoning.push_str(&thinking),
            WireContent::Other => {}
        }
    }
    text.push_str(&render_citations(&wire.message.citations));
    let tool_calls: Vec<ToolCall> = wire
        .message
        .tool_calls
        .into_iter()
        .map(|c| ToolCall {
            id: c.id,
            kind: ToolKind::Function,
            function: FunctionCall {
                name: c.function.name,
                arguments: c
                    .function
                    .arguments
                    .filter(|a| !a.is_empty())
                    .unwrap_or_else(|| "{}".to_string()),
            },
            extra: JsonMap::new(),
        })
        .collect();
    let mut extra = JsonMap::new();
    if !reasoning.is_empty() {
        extra.insert("reasoning_content".into(), Value::String(reasoning));
    }
    Ok(ChatResponse {
        id: wire.id,
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
            finish_reason: Some(finish),
            logprobs: None,
            extra: JsonMap::new(),
        }],
        usage: wire.usage.as_ref().map(WireUsage::to_usage),
        system_fingerprint: None,
        switchpoint: None,
        extra: JsonMap::new(),
    })
}
