//! Cohere v2: reading `/v2/chat` and `/v2/embed` requests, writing the chat answer, its
//! typed SSE events, and embeddings.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use crate::convo::{
    join_texts, json_fragments, word_count, word_pieces, Conversation, Last, Output, Plan, ToolDef,
    ToolMode, Usage,
};
use crate::embed::{dimensions, embedding};
use crate::sse::Event;

/// Prompt-template tokens Cohere counts in `usage.tokens` but does not bill: the mock adds
/// this many to `tokens.input_tokens` so tests can tell billed units from raw tokens.
pub(crate) const TEMPLATE_TOKENS: u64 = 5;

/// Facts of one answer shared by the body and the stream.
#[derive(Debug)]
pub(crate) struct Reply<'a> {
    pub seq: u64,
    pub tool_ids: &'a AtomicU64,
}

/// Text of a Cohere `content`: a string, or parts whose `text` (and tool-result documents'
/// `data`) are joined.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => join_texts(parts.iter().filter_map(|p| {
            p.get("text")
                .and_then(Value::as_str)
                .or_else(|| p.get("document")?.get("data")?.as_str())
        })),
        _ => String::new(),
    }
}

/// What a tool result answered, for the citation the reply makes of it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cited {
    pub call_id: String,
}

/// Reads the conversation from a `/v2/chat` body; `Err` is Cohere's 400 message.
pub(crate) fn conversation(body: &Value) -> Result<(Conversation, Option<Cited>), String> {
    if body.get("model").and_then(Value::as_str).is_none() {
        return Err("invalid request: model must be specified".into());
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err("invalid request: messages must be specified".into());
    };
    let mut prompt_words = 0;
    let mut user_text = String::new();
    for m in messages {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if !matches!(role, "system" | "user" | "assistant" | "tool") {
            return Err(format!(
                "invalid request: role must be one of system, user, assistant, tool; got {role:?}"
            ));
        }
        if role == "tool" && m.get("tool_call_id").and_then(Value::as_str).is_none() {
            return Err("invalid request: tool messages need a tool_call_id".into());
        }
        let text = m.get("content").map(content_text).unwrap_or_default();
        prompt_words += word_count(&text);
        if let Some(plan) = m.get("tool_plan").and_then(Value::as_str) {
            prompt_words += word_count(plan);
        }
        if role == "user" {
            user_text = text;
        }
    }
    let (last, cited) = match messages.last() {
        Some(m) => match m.get("role").and_then(Value::as_str) {
            Some("user") => (Last::User, None),
            Some("tool") => (
                Last::ToolResult(m.get("content").map(content_text).unwrap_or_default()),
                Some(Cited {
                    call_id: m
                        .get("tool_call_id")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                }),
            ),
            _ => (Last::Other, None),
        },
        None => (Last::Other, None),
    };
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t.get("function"))
                .map(|f| ToolDef {
                    name: f
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    schema: f.get("parameters").cloned().unwrap_or(Value::Null),
                })
                .collect()
        })
        .unwrap_or_default();
    let mode = match body.get("tool_choice").and_then(Value::as_str) {
        Some("NONE") => ToolMode::None,
        Some("REQUIRED") => ToolMode::Required,
        Some(other) => {
            return Err(format!(
                "invalid request: tool_choice must be one of REQUIRED, NONE; got {other:?}"
            ))
        }
        None => ToolMode::Auto,
    };
    Ok((
        Conversation {
            last,
            user_text,
            prompt_words,
            tools,
            mode,
            cap: body.get("max_tokens").and_then(Value::as_u64),
        },
        cited,
    ))
}

fn finish_reason(output: &Output) -> &'static str {
    match output {
        Output::Text {
            truncated: true, ..
        } => "MAX_TOKENS",
        Output::Tools(_) => "TOOL_CALL",
        _ => "COMPLETE",
    }
}

/// Cohere usage: billed units are what the mock counts; `tokens` adds the prompt template.
fn usage(u: &Usage) -> Value {
    json!({
        "billed_units": {"input_tokens": u.prompt, "output_tokens": u.completion + u.reasoning},
        "tokens": {
            "input_tokens": u.prompt + TEMPLATE_TOKENS,
            "output_tokens": u.completion + u.reasoning
        }
    })
}

fn next_call_id(reply: &Reply<'_>, name: &str) -> String {
    format!(
        "{name}_mock{}",
        reply.tool_ids.fetch_add(1, Ordering::Relaxed) + 1
    )
}

/// The citation of a tool result the reply quotes: the span after `tool result: `.
fn citation(text: &str, cited: &Cited) -> Option<Value> {
    let quoted = text.strip_prefix("tool result: ")?;
    if quoted.is_empty() {
        return None;
    }
    let start = text.len() - quoted.len();
    Some(json!({
        "start": start,
        "end": text.len(),
        "text": quoted,
        "sources": [{"type": "tool", "id": format!("{}:0", cited.call_id), "tool_output": {"content": quoted}}],
        "type": "TEXT_CONTENT"
    }))
}

fn plan_text(calls: &[crate::convo::ToolCall]) -> String {
    let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    format!("I will call {}.", names.join(" and "))
}

/// The non-streamed chat answer.
pub(crate) fn response(plan: &Plan, cited: Option<&Cited>, reply: &Reply<'_>) -> Value {
    let mut message = json!({"role": "assistant"});
    match &plan.output {
        Output::Text { text, .. } => {
            message["content"] = json!([{"type": "text", "text": text}]);
            if let Some(c) = cited.and_then(|c| citation(text, c)) {
                message["citations"] = json!([c]);
            }
        }
        Output::Tools(calls) => {
            message["tool_plan"] = json!(plan_text(calls));
            message["tool_calls"] = calls
                .iter()
                .map(|c| {
                    json!({
                        "id": next_call_id(reply, &c.name),
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments.to_string()}
                    })
                })
                .collect();
        }
        Output::Filtered => message["content"] = json!([]),
    }
    json!({
        "id": format!("cohere-mock-{}", reply.seq),
        "finish_reason": finish_reason(&plan.output),
        "message": message,
        "usage": usage(&plan.usage)
    })
}

/// The typed events of a streamed answer, `message-start` to `message-end`.
pub(crate) fn stream(plan: &Plan, cited: Option<&Cited>, reply: &Reply<'_>) -> Vec<Event> {
    let mut events = vec![Event::named(
        "message-start",
        &json!({"type": "message-start", "id": format!("cohere-mock-{}", reply.seq),
            "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
        false,
    )];
    match &plan.output {
        Output::Text { text, .. } => {
            events.push(Event::named(
                "content-start",
                &json!({"type": "content-start", "index": 0,
                    "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
                false,
            ));
            for piece in word_pieces(text) {
                events.push(Event::named(
                    "content-delta",
                    &json!({"type": "content-delta", "index": 0,
                        "delta": {"message": {"content": {"text": piece}}}}),
                    true,
                ));
            }
            if let Some(c) = cited.and_then(|c| citation(text, c)) {
                events.push(Event::named(
                    "citation-start",
                    &json!({"type": "citation-start", "index": 0,
                        "delta": {"message": {"citations": c}}}),
                    false,
                ));
                events.push(Event::named(
                    "citation-end",
                    &json!({"type": "citation-end", "index": 0}),
                    false,
                ));
            }
            events.push(Event::named(
                "content-end",
                &json!({"type": "content-end", "index": 0}),
                false,
            ));
        }
        Output::Tools(calls) => {
            events.push(Event::named(
                "tool-plan-delta",
                &json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": plan_text(calls)}}}),
                false,
            ));
            for (index, call) in calls.iter().enumerate() {
                events.push(Event::named(
                    "tool-call-start",
                    &json!({"type": "tool-call-start", "index": index,
                        "delta": {"message": {"tool_calls": {"id": next_call_id(reply, &call.name), "type": "function",
                            "function": {"name": call.name, "arguments": ""}}}}}),
                    false,
                ));
                for fragment in json_fragments(&call.arguments.to_string()) {
                    events.push(Event::named(
                        "tool-call-delta",
                        &json!({"type": "tool-call-delta", "index": index,
                            "delta": {"message": {"tool_calls": {"function": {"arguments": fragment}}}}}),
                        true,
                    ));
                }
                events.push(Event::named(
                    "tool-call-end",
                    &json!({"type": "tool-call-end", "index": index}),
                    false,
                ));
            }
        }
        Output::Filtered => {}
    }
    events.push(Event::named(
        "message-end",
        &json!({"type": "message-end", "delta": {"finish_reason": finish_reason(&plan.output), "usage": usage(&plan.usage)}}),
        false,
    ));
    events
}

/// The `/v2/embed` answer (`embeddings_by_type`, floats); `Err` is Cohere's 400 message.
pub(crate) fn embed_response(body: &Value, seq: u64) -> Result<Value, String> {
    let texts: Vec<String> = body
        .get("texts")
        .and_then(Value::as_array)
        .ok_or("invalid request: texts must be specified")?
        .iter()
        .map(|t| t.as_str().map(str::to_string))
        .collect::<Option<_>>()
        .ok_or("invalid request: texts must be strings")?;
    if body.get("input_type").and_then(Value::as_str).is_none() {
        return Err(
            "invalid request: valid input_type must be provided with the provided model".into(),
        );
    }
    let types: Vec<&str> = body
        .get("embedding_types")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_else(|| vec!["float"]);
    let dims = dimensions(body.get("output_dimension"))?;
    let vectors: Vec<Vec<f32>> = texts.iter().map(|t| embedding(t, dims)).collect();
    let mut embeddings = serde_json::Map::new();
    for t in types {
        embeddings.insert(t.to_string(), json!(vectors));
    }
    let words: u64 = texts.iter().map(|t| word_count(t)).sum();
    Ok(json!({
        "id": format!("cohere-mock-{seq}"),
        "embeddings": embeddings,
        "texts": texts,
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": words}},
        "response_type": "embeddings_by_type"
    }))
}
