//! Ollama's native API: `/api/chat` (NDJSON streams, one JSON object per line) and
//! `/api/embed`.

use serde_json::{json, Value};

use crate::convo::{word_count, word_pieces, Conversation, Last, Output, Plan, ToolDef, ToolMode};
use crate::embed::{dimensions, embedding};
use crate::sse::Event;

/// Facts of one answer shared by the body and the stream.
#[derive(Debug)]
pub(crate) struct Reply<'a> {
    pub model: &'a str,
    pub seq: u64,
}

impl Reply<'_> {
    /// A fixed timestamp that differs per request (Ollama's `created_at`).
    fn created_at(&self) -> String {
        format!("2025-01-01T00:00:00.{:09}Z", self.seq)
    }
}

/// Reads the conversation; `Err` is the message of Ollama's 400 `{"error": ...}`.
pub(crate) fn conversation(body: &Value) -> Result<Conversation, String> {
    if body.get("model").and_then(Value::as_str).is_none() {
        return Err("model is required".into());
    }
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut prompt_words = 0;
    let mut user_text = String::new();
    for m in &messages {
        let content = match m.get("content") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err("json: cannot unmarshal array into Go struct field Message.messages.content of type string".into())
            }
        };
        for call in m
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let args = call.get("function").and_then(|f| f.get("arguments"));
            if !matches!(args, None | Some(Value::Object(_))) {
                return Err("json: cannot unmarshal string into Go struct field ToolCallFunction.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments".into());
            }
        }
        prompt_words += word_count(&content);
        if m.get("role").and_then(Value::as_str) == Some("user") {
            user_text = content;
        }
    }
    let last = match messages.last() {
        Some(m) => match m.get("role").and_then(Value::as_str) {
            Some("user") => Last::User,
            Some("tool") => Last::ToolResult(
                m.get("content")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            _ => Last::Other,
        },
        None => Last::Other,
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
    Ok(Conversation {
        last,
        user_text,
        prompt_words,
        tools,
        mode: ToolMode::Auto,
        cap: body
            .get("options")
            .and_then(|o| o.get("num_predict"))
            .and_then(Value::as_u64),
    })
}

fn done_reason(output: &Output) -> &'static str {
    match output {
        Output::Text {
            truncated: true, ..
        } => "length",
        _ => "stop",
    }
}

fn tool_calls(output: &Output) -> Option<Value> {
    match output {
        Output::Tools(calls) => Some(
            calls
                .iter()
                .map(|c| json!({"function": {"name": c.name, "arguments": c.arguments}}))
                .collect(),
        ),
        _ => None,
    }
}

/// The final object's statistics and counts.
fn finish(plan: &Plan, reply: &Reply<'_>, message: Value) -> Value {
    let u = &plan.usage;
    json!({
        "model": reply.model,
        "created_at": reply.created_at(),
        "message": message,
        "done_reason": done_reason(&plan.output),
        "done": true,
        "total_duration": 1_000_000,
        "load_duration": 1000,
        "prompt_eval_count": u.prompt + u.cached,
        "prompt_eval_duration": 1000,
        "eval_count": u.completion + u.reasoning,
        "eval_duration": 1000
    })
}

/// The non-stream answer (`"stream": false`).
pub(crate) fn response(plan: &Plan, reply: &Reply<'_>) -> Value {
    let mut message = json!({"role": "assistant", "content": ""});
    match &plan.output {
        Output::Text { text, .. } => message["content"] = json!(text),
        Output::Tools(_) => {
            if let Some(calls) = tool_calls(&plan.output) {
                message["tool_calls"] = calls;
            }
        }
        Output::Filtered => {}
    }
    finish(plan, reply, message)
}

/// The NDJSON lines of a streamed answer: one per word (tool calls whole in one line), then
/// the final `done: true` object.
pub(crate) fn stream(plan: &Plan, reply: &Reply<'_>) -> Vec<Event> {
    let line = |message: Value| json!({"model": reply.model, "created_at": reply.created_at(), "message": message, "done": false});
    let mut events = Vec::new();
    match &plan.output {
        Output::Text { text, .. } => {
            for piece in word_pieces(text) {
                events.push(Event::data(
                    &line(json!({"role": "assistant", "content": piece})),
                    true,
                ));
            }
        }
        Output::Tools(_) => {
            if let Some(calls) = tool_calls(&plan.output) {
                events.push(Event::data(
                    &line(json!({"role": "assistant", "content": "", "tool_calls": calls})),
                    true,
                ));
            }
        }
        Output::Filtered => {}
    }
    events.push(Event::data(
        &finish(plan, reply, json!({"role": "assistant", "content": ""})),
        false,
    ));
    events
}

/// One event as an NDJSON line.
pub(crate) fn encode_line(event: &Event) -> bytes::Bytes {
    let mut out = String::with_capacity(event.data.len() + 1);
    out.push_str(&event.data);
    out.push('\n');
    bytes::Bytes::from(out)
}

/// The `/api/embed` answer; `Err` is the message of Ollama's 400.
pub(crate) fn embed_response(body: &Value, model: &str) -> Result<Value, String> {
    let texts: Vec<String> = match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| t.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or("invalid input type")?,
        _ => return Err("invalid input type".into()),
    };
    let dims = dimensions(body.get("dimensions"))?;
    let words: u64 = texts.iter().map(|t| word_count(t)).sum();
    Ok(json!({
        "model": model,
        "embeddings": texts.iter().map(|t| embedding(t, dims)).collect::<Vec<_>>(),
        "total_duration": 1_000_000,
        "load_duration": 1000,
        "prompt_eval_count": words
    }))
}
