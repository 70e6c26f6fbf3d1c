//! Anthropic Messages: reading the request, writing the Message and its event stream.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use crate::convo::{
    join_texts, json_fragments, word_count, word_pieces, Conversation, Last, Output, Plan, ToolDef,
    ToolMode, Usage,
};
use crate::sse::Event;

/// Facts of one answer shared by the body and the stream.
#[derive(Debug)]
pub(crate) struct Reply<'a> {
    pub model: &'a str,
    pub seq: u64,
    pub tool_ids: &'a AtomicU64,
}

fn blocks_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => join_texts(
            blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str)),
        ),
        _ => String::new(),
    }
}

fn tool_results(content: &Value) -> Vec<String> {
    content
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
                .map(|b| b.get("content").map(blocks_text).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// Reads the conversation from a Messages body; `Err` is the message Anthropic would send.
pub(crate) fn conversation(body: &Value) -> Result<Conversation, String> {
    let Some(cap) = body.get("max_tokens") else {
        return Err("max_tokens: Field required".into());
    };
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err("messages: Field required".into());
    };
    let mut prompt_words = body
        .get("system")
        .map_or(0, |s| word_count(&blocks_text(s)));
    let mut user_text = String::new();
    for message in messages {
        let content = message.get("content").unwrap_or(&Value::Null);
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
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .map(|t| ToolDef {
                    name: t
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    schema: t.get("input_schema").cloned().unwrap_or(Value::Null),
                })
                .collect()
        })
        .unwrap_or_default();
    let choice = body.get("tool_choice");
    let mode = match choice.and_then(|c| c.get("type")).and_then(Value::as_str) {
        Some("none") => ToolMode::None,
        Some("any") => ToolMode::Required,
        Some("tool") => ToolMode::Named(
            choice
                .and_then(|c| c.get("name"))
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
        cap: cap.as_u64(),
    })
}

fn stop_reason(output: &Output) -> &'static str {
    match output {
        Output::Text {
            truncated: true, ..
        } => "max_tokens",
        Output::Text { .. } => "end_turn",
        Output::Tools(_) => "tool_use",
        Output::Filtered => "refusal",
    }
}

/// Anthropic usage: `input_tokens` excludes cache reads and writes; output includes thinking.
fn usage(u: &Usage, output_tokens: u64) -> Value {
    json!({
        "input_tokens": u.prompt,
        "cache_creation_input_tokens": u.cache_write,
        "cache_read_input_tokens": u.cached,
        "cache_creation": {"ephemeral_5m_input_tokens": u.cache_write, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "server_tool_use": null,
        "service_tier": "standard"
    })
}

fn output_tokens(u: &Usage) -> u64 {
    u.completion + u.reasoning
}

fn next_tool_id(reply: &Reply<'_>) -> String {
    format!(
        "toolu_mock_{}",
        reply.tool_ids.fetch_add(1, Ordering::Relaxed) + 1
    )
}

fn message(reply: &Reply<'_>, content: Value, stop: Value, usage: Value) -> Value {
    json!({
        "id": format!("msg_mock_{}", reply.seq),
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": null,
        "usage": usage
    })
}

/// The non-stream Message object.
pub(crate) fn response(plan: &Plan, reply: &Reply<'_>) -> Value {
    let content: Vec<Value> = match &plan.output {
        Output::Text { text, .. } => {
            vec![json!({"type": "text", "text": text, "citations": null})]
        }
        Output::Tools(calls) => calls
            .iter()
            .map(|c| json!({"type": "tool_use", "id": next_tool_id(reply), "name": c.name, "input": c.arguments}))
            .collect(),
        Output::Filtered => Vec::new(),
    };
    message(
        reply,
        Value::Array(content),
        Value::from(stop_reason(&plan.output)),
        usage(&plan.usage, output_tokens(&plan.usage)),
    )
}

/// The named events of a streamed Message, from `message_start` to `message_stop`.
pub(crate) fn stream(plan: &Plan, reply: &Reply<'_>) -> Vec<Event> {
    let mut events = vec![Event::named(
        "message_start",
        &json!({"type": "message_start", "message": message(reply, json!([]), Value::Null, usage(&plan.usage, 1))}),
        false,
    )];
    let ping = Event::named("ping", &json!({"type": "ping"}), false);
    let start = |index: usize, block: Value| {
        Event::named(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
            false,
        )
    };
    let delta = |index: usize, delta: Value| {
        Event::named(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
            true,
        )
    };
    let stop = |index: usize| {
        Event::named(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
            false,
        )
    };
    match &plan.output {
        Output::Text { text, .. } => {
            events.push(start(0, json!({"type": "text", "text": ""})));
            events.push(ping);
            for piece in word_pieces(text) {
                events.push(delta(0, json!({"type": "text_delta", "text": piece})));
            }
            events.push(stop(0));
        }
        Output::Tools(calls) => {
            for (index, call) in calls.iter().enumerate() {
                events.push(start(
                    index,
                    json!({"type": "tool_use", "id": next_tool_id(reply), "name": call.name, "input": {}}),
                ));
                if index == 0 {
                    events.push(ping.clone());
                }
                for fragment in json_fragments(&call.arguments.to_string()) {
                    events.push(delta(
                        index,
                        json!({"type": "input_json_delta", "partial_json": fragment}),
                    ));
                }
                events.push(stop(index));
            }
        }
        Output::Filtered => {
            events.push(start(0, json!({"type": "text", "text": ""})));
            events.push(ping);
            events.push(stop(0));
        }
    }
    let mut final_usage = usage(&plan.usage, output_tokens(&plan.usage));
    if let Some(obj) = final_usage.as_object_mut() {
        obj.remove("service_tier");
        obj.remove("cache_creation");
    }
    events.push(Event::named(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(&plan.output), "stop_sequence": null},
            "usage": final_usage
        }),
        false,
    ));
    events.push(Event::named(
        "message_stop",
        &json!({"type": "message_stop"}),
        false,
    ));
    events
}
