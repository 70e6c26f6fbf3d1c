//! Amazon Bedrock Converse: reading the request, writing the `ConverseResponse`, the
//! ConverseStream events (framed by `eventstream.rs`) and the error bodies, in the shapes of
//! the botocore service description (`tests/specs/bedrock/service-2.json`).

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use crate::convo::{
    join_texts, json_fragments, word_count, word_pieces, Conversation, Last, Output, Plan, ToolDef,
    ToolMode, Usage,
};
use crate::errors::ErrorContext;
use crate::fault::FaultError;
use crate::sse::Event;

/// Bedrock's stream padding field (`p`), sent with every event; clients must ignore it.
const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGH";

/// Facts of one answer shared by the body and the stream.
#[derive(Debug)]
pub(crate) struct Reply<'a> {
    pub tool_ids: &'a AtomicU64,
}

fn blocks_text(content: &Value) -> String {
    join_texts(
        content
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| b.get("text").and_then(Value::as_str)),
    )
}

/// The text of the `toolResult` blocks of a message (`text` members, `json` as compact JSON).
fn tool_results(content: &Value) -> Vec<String> {
    content
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("toolResult"))
        .map(|r| {
            join_texts(
                r.get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|c| {
                        c.get("text")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .or_else(|| c.get("json").map(Value::to_string))
                    })
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            )
        })
        .collect()
}

/// Reads the conversation from a `ConverseRequest`; `Err` is the ValidationException message.
pub(crate) fn conversation(body: &Value) -> Result<Conversation, String> {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err("Malformed input request: #: required key [messages] not found".into());
    };
    if messages
        .first()
        .and_then(|m| m.get("role"))
        .and_then(Value::as_str)
        != Some("user")
    {
        return Err("A conversation must start with a user message. Try again with a conversation that starts with a user message.".into());
    }
    let mut prompt_words = body
        .get("system")
        .map_or(0, |s| word_count(&blocks_text(s)));
    let mut user_text = String::new();
    for message in messages {
        let content = message.get("content").unwrap_or(&Value::Null);
        if !content.is_array() {
            return Err("Malformed input request: #/messages: content must be an array".into());
        }
        let text = blocks_text(content);
        prompt_words += word_count(&text);
        prompt_words += tool_results(content)
            .iter()
            .map(|t| word_count(t))
            .sum::<u64>();
        if message.get("role").and_then(Value::as_str) == Some("user") && !text.is_empty() {
            user_text = text;
        }
    }
    let last = match messages.last() {
        Some(m) if m.get("role").and_then(Value::as_str) == Some("user") => {
            match tool_results(m.get("content").unwrap_or(&Value::Null)).pop() {
                Some(result) => Last::ToolResult(result),
                None => Last::User,
            }
        }
        _ => Last::Other,
    };
    let config = body.get("toolConfig");
    let tools = config
        .and_then(|c| c.get("tools"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("toolSpec"))
        .map(|spec| ToolDef {
            name: spec
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            schema: spec
                .get("inputSchema")
                .and_then(|s| s.get("json"))
                .cloned()
                .unwrap_or(Value::Null),
        })
        .collect();
    let choice = config.and_then(|c| c.get("toolChoice"));
    let mode = match choice {
        Some(c) if c.get("any").is_some() => ToolMode::Required,
        Some(c) if c.get("tool").is_some() => ToolMode::Named(
            c.pointer("/tool/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        _ => ToolMode::Auto,
    };
    Ok(Conversation {
        last,
        user_text,
        prompt_words,
        tools,
        mode,
        cap: body
            .pointer("/inferenceConfig/maxTokens")
            .and_then(Value::as_u64),
    })
}

fn stop_reason(output: &Output) -> &'static str {
    match output {
        Output::Text {
            truncated: true, ..
        } => "max_tokens",
        Output::Text { .. } => "end_turn",
        Output::Tools(_) => "tool_use",
        Output::Filtered => "guardrail_intervened",
    }
}

/// `TokenUsage`: `inputTokens` excludes cache reads and writes, which appear when non-zero.
fn usage(u: &Usage) -> Value {
    let output = u.completion + u.reasoning;
    let mut usage = json!({
        "inputTokens": u.prompt,
        "outputTokens": output,
        "totalTokens": u.prompt + u.cached + u.cache_write + output,
    });
    if let Some(obj) = usage.as_object_mut() {
        if u.cached > 0 {
            obj.insert("cacheReadInputTokens".into(), json!(u.cached));
        }
        if u.cache_write > 0 {
            obj.insert("cacheWriteInputTokens".into(), json!(u.cache_write));
        }
    }
    usage
}

fn next_tool_id(reply: &Reply<'_>) -> String {
    format!(
        "tooluse_mock_{}",
        reply.tool_ids.fetch_add(1, Ordering::Relaxed) + 1
    )
}

/// The non-stream `ConverseResponse`.
pub(crate) fn response(plan: &Plan, reply: &Reply<'_>) -> Value {
    let content: Vec<Value> = match &plan.output {
        Output::Text { text, .. } => vec![json!({ "text": text })],
        Output::Tools(calls) => calls
            .iter()
            .map(|c| json!({"toolUse": {"toolUseId": next_tool_id(reply), "name": c.name, "input": c.arguments}}))
            .collect(),
        Output::Filtered => Vec::new(),
    };
    json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason(&plan.output),
        "usage": usage(&plan.usage),
        "metrics": {"latencyMs": 1}
    })
}

fn event(name: &'static str, mut payload: Value, content: bool) -> Event {
    if let Some(obj) = payload.as_object_mut() {
        obj.insert("p".into(), json!(PADDING));
    }
    Event::named(name, &payload, content)
}

/// The exception a fault sends inside a stream (`in_stream: true`), by fault kind.
fn stream_exception(kind: FaultError) -> (&'static str, &'static str) {
    match kind {
        FaultError::RateLimit => (
            "throttlingException",
            "Too many tokens, please wait before trying again.",
        ),
        FaultError::Overloaded => (
            "modelStreamErrorException",
            "The model encountered an error while streaming the response.",
        ),
        FaultError::Unavailable => (
            "serviceUnavailableException",
            "Bedrock is unable to process your request.",
        ),
        FaultError::BadRequest | FaultError::ContentFilter => (
            "validationException",
            "Malformed input request, please reformat your input and try again.",
        ),
        FaultError::ContextWindow => (
            "validationException",
            "Input is too long for requested model.",
        ),
        _ => (
            "internalServerException",
            "The server encountered an internal error while processing the request.",
        ),
    }
}

/// The ConverseStream events, `messageStart` to `metadata`; with `exception`, the stream
/// instead ends in that exception right after the first content event.
pub(crate) fn stream(plan: &Plan, reply: &Reply<'_>, exception: Option<FaultError>) -> Vec<Event> {
    let mut events = vec![event("messageStart", json!({"role": "assistant"}), false)];
    let delta = |index: usize, delta: Value| {
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": index, "delta": delta}),
            true,
        )
    };
    let stop = |index: usize| {
        event(
            "contentBlockStop",
            json!({"contentBlockIndex": index}),
            false,
        )
    };
    match &plan.output {
        Output::Text { text, .. } => {
            for piece in word_pieces(text) {
                events.push(delta(0, json!({"text": piece})));
            }
            events.push(stop(0));
        }
        Output::Tools(calls) => {
            for (index, call) in calls.iter().enumerate() {
                events.push(event(
                    "contentBlockStart",
                    json!({"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": next_tool_id(reply), "name": call.name}}}),
                    false,
                ));
                for fragment in json_fragments(&call.arguments.to_string()) {
                    events.push(delta(index, json!({"toolUse": {"input": fragment}})));
                }
                events.push(stop(index));
            }
        }
        Output::Filtered => {}
    }
    if let Some(kind) = exception {
        let at = events
            .iter()
            .position(|e| e.content)
            .map_or(events.len(), |i| i + 1);
        events.truncate(at);
        let (name, message) = stream_exception(kind);
        events.push(Event::named(name, &json!({ "message": message }), false));
        return events;
    }
    events.push(event(
        "messageStop",
        json!({"stopReason": stop_reason(&plan.output)}),
        false,
    ));
    events.push(event(
        "metadata",
        json!({"usage": usage(&plan.usage), "metrics": {"latencyMs": 1}}),
        false,
    ));
    events
}

/// The error body for a fault: `{"message"}` plus `__type`, which the handler moves to the
/// `x-amzn-ErrorType` header as Bedrock sends it.
pub(crate) fn fault_body(kind: FaultError, ctx: ErrorContext<'_>) -> Value {
    let (code, message) = match kind {
        FaultError::RateLimit => (
            "ThrottlingException",
            "Too many requests, please wait before trying again.".to_string(),
        ),
        FaultError::Overloaded | FaultError::Unavailable => (
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.".to_string(),
        ),
        FaultError::Server => (
            "InternalServerException",
            "The server encountered an internal error while processing the request.".to_string(),
        ),
        FaultError::Auth => (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".to_string(),
        ),
        FaultError::Permission => (
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.".to_string(),
        ),
        FaultError::NotFound => (
            "ResourceNotFoundException",
            format!(
                "Could not resolve the foundation model from the provided model identifier: {}",
                ctx.model
            ),
        ),
        FaultError::BadRequest | FaultError::ContentFilter => (
            "ValidationException",
            "Malformed input request, please reformat your input and try again.".to_string(),
        ),
        FaultError::ContextWindow => (
            "ValidationException",
            "Input is too long for requested model.".to_string(),
        ),
    };
    error(code, &message)
}

/// A Bedrock error body with its shape name (moved to the header when sent).
pub(crate) fn error(code: &str, message: &str) -> Value {
    json!({ "__type": code, "message": message })
}
