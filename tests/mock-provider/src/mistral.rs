//! Mistral: the OpenAI chat shape with Mistral's rules. The mock rejects what Mistral rejects
//! (fields it does not know, tool-call ids that are not 9 alphanumeric characters), accepts
//! `tool_choice: "any"`, answers with 9-character tool-call ids and puts stream usage on the
//! finish chunk (Mistral sends no separate usage chunk and has no `stream_options`).

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use crate::convo::{Conversation, Plan, ToolMode};
use crate::openai;
use crate::sse::Event;

/// Top-level fields the mock refuses like Mistral's validation does (OpenAI-only fields).
const FORBIDDEN: &[&str] = &[
    "stream_options",
    "seed",
    "user",
    "max_completion_tokens",
    "metadata",
];

/// A rejected request: status and body as Mistral sends them.
pub(crate) struct Rejection {
    pub status: u16,
    pub body: Value,
}

fn is_mistral_id(id: &str) -> bool {
    id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Checks a chat or embeddings body the way Mistral's validation does.
pub(crate) fn validate(body: &Value) -> Result<(), Rejection> {
    let mut detail = Vec::new();
    for field in FORBIDDEN {
        if let Some(v) = body.get(*field) {
            detail.push(json!({"type": "extra_forbidden", "loc": ["body", field],
                "msg": "Extra inputs are not permitted", "input": v}));
        }
    }
    if !detail.is_empty() {
        return Err(Rejection {
            status: 422,
            body: json!({ "detail": detail }),
        });
    }
    for (i, m) in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let mut ids: Vec<&str> = m
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("id").and_then(Value::as_str))
            .collect();
        ids.extend(m.get("tool_call_id").and_then(Value::as_str));
        if let Some(bad) = ids.into_iter().find(|id| !is_mistral_id(id)) {
            return Err(Rejection {
                status: 400,
                body: json!({"object": "error", "type": "invalid_request_message_order", "param": null, "code": "3230",
                    "message": format!("Tool call id was {bad} but must be a-z, A-Z, 0-9, with a length of 9. (message {i})")}),
            });
        }
    }
    Ok(())
}

/// The conversation, with Mistral's `tool_choice: "any"` read as "some tool must be called".
pub(crate) fn conversation(body: &Value) -> Result<Conversation, (String, &'static str)> {
    let mut conv = openai::conversation(body)?;
    if body.get("tool_choice").and_then(Value::as_str) == Some("any") {
        conv.mode = ToolMode::Required;
    }
    Ok(conv)
}

fn mistral_id(ids: &AtomicU64) -> String {
    format!("mock{:05}", ids.fetch_add(1, Ordering::Relaxed) + 1)
}

/// Gives every tool call in a completion or chunk a 9-character id.
fn fix_ids(value: &mut Value, ids: &AtomicU64) {
    let Some(choices) = value.get_mut("choices").and_then(Value::as_array_mut) else {
        return;
    };
    for choice in choices {
        for key in ["message", "delta"] {
            let calls = choice
                .get_mut(key)
                .and_then(|m| m.get_mut("tool_calls"))
                .and_then(Value::as_array_mut);
            for call in calls.into_iter().flatten() {
                if call.get("id").is_some() {
                    call["id"] = json!(mistral_id(ids));
                }
            }
        }
    }
}

/// The non-stream chat completion (OpenAI's shape, Mistral's ids, no OpenAI extras).
pub(crate) fn response(plan: &Plan, choices: u64, reply: &openai::Reply<'_>) -> Value {
    let mut body = openai::response(plan, choices, reply);
    fix_ids(&mut body, reply.tool_ids);
    if let Some(obj) = body.as_object_mut() {
        obj.remove("system_fingerprint");
        obj.remove("service_tier");
    }
    body
}

/// The stream: OpenAI's chunks with Mistral's ids, usage on the finish chunk, then `[DONE]`.
pub(crate) fn stream(plan: &Plan, choices: u64, reply: &openai::Reply<'_>) -> Vec<Event> {
    let mut usage = None;
    let mut events = Vec::new();
    for event in openai::stream(plan, choices, true, reply) {
        let Ok(mut value) = serde_json::from_str::<Value>(&event.data) else {
            events.push(event);
            continue;
        };
        let empty = value
            .get("choices")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty);
        if empty {
            // The include_usage chunk: Mistral has none; its usage moves to the finish chunk.
            usage = value.get("usage").cloned();
            continue;
        }
        if let Some(obj) = value.as_object_mut() {
            obj.remove("usage");
            obj.remove("system_fingerprint");
        }
        fix_ids(&mut value, reply.tool_ids);
        events.push(Event {
            name: None,
            data: value.to_string(),
            content: event.content,
        });
    }
    // The last chunk with a finish_reason gets the usage.
    if let Some(usage) = usage {
        if let Some(last) = events
            .iter_mut()
            .rev()
            .find(|e| e.data.contains("\"finish_reason\":\""))
        {
            if let Ok(mut value) = serde_json::from_str::<Value>(&last.data) {
                value["usage"] = usage;
                last.data = value.to_string();
            }
        }
    }
    events
}
