//! The OpenAI Responses API (`POST /v1/responses`, Azure `POST /openai/v1/responses`):
//! reading the request, writing the Response object and its named event stream.

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
    pub created: u64,
    pub tool_ids: &'a AtomicU64,
}

/// Text of a message content or a call output (string, or parts whose text is joined).
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => join_texts(
            parts
                .iter()
                .filter(|p| {
                    matches!(
                        p.get("type").and_then(Value::as_str),
                        Some("input_text" | "output_text")
                    )
                })
                .filter_map(|p| p.get("text").and_then(Value::as_str)),
        ),
        _ => String::new(),
    }
}

/// Reads the conversation from a Responses body; `Err` names the problem like OpenAI.
pub(crate) fn conversation(body: &Value) -> Result<Conversation, (String, &'static str)> {
    let items: Vec<Value> = match body.get("input") {
        Some(Value::String(text)) => vec![json!({"role": "user", "content": text})],
        Some(Value::Array(items)) => items.clone(),
        _ => return Err(("Missing required parameter: 'input'.".into(), "input")),
    };
    let mut prompt_words = body
        .get("instructions")
        .and_then(Value::as_str)
        .map_or(0, word_count);
    let mut user_text = String::new();
    let mut last = Last::Other;
    for item in &items {
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("message");
        match kind {
            "message" => {
                let text = item.get("content").map(content_text).unwrap_or_default();
                prompt_words += word_count(&text);
                if item.get("role").and_then(Value::as_str) == Some("user") {
                    user_text = text;
                    last = Last::User;
                } else {
                    last = Last::Other;
                }
            }
            "function_call_output" => {
                let text = item.get("output").map(content_text).unwrap_or_default();
                prompt_words += word_count(&text);
                last = Last::ToolResult(text);
            }
            _ => last = Last::Other,
        }
    }
    let tools: Vec<ToolDef> = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
                .map(|t| ToolDef {
                    name: t
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    schema: t.get("parameters").cloned().unwrap_or(Value::Null),
                })
                .collect()
        })
        .unwrap_or_default();
    let mode = match body.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => ToolMode::None,
        Some(Value::String(s)) if s == "required" => ToolMode::Required,
        Some(Value::Object(o)) => match o.get("name").and_then(Value::as_str) {
            Some(name) => ToolMode::Named(name.to_string()),
            None => ToolMode::Auto,
        },
        _ => ToolMode::Auto,
    };
    Ok(Conversation {
        last,
        user_text,
        prompt_words,
        tools,
        mode,
        cap: body.get("max_output_tokens").and_then(Value::as_u64),
    })
}

/// Responses usage: `input_tokens` = P+K, `output_tokens` = C+R.
fn usage(u: &Usage) -> Value {
    let input = u.prompt + u.cached;
    let output = u.completion + u.reasoning;
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": u.cached},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": u.reasoning},
        "total_tokens": input + output
    })
}

fn next_call_id(reply: &Reply<'_>) -> String {
    format!(
        "call_mock_{}",
        reply.tool_ids.fetch_add(1, Ordering::Relaxed) + 1
    )
}

/// Status and incomplete details of the planned output.
fn outcome(output: &Output) -> (&'static str, Value) {
    match output {
        Output::Text {
            truncated: true, ..
        } => ("incomplete", json!({"reason": "max_output_tokens"})),
        Output::Filtered => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

/// The Response object around `output`, echoing the request's parameters.
fn envelope(body: &Value, reply: &Reply<'_>, status: &str, output: Vec<Value>) -> Value {
    let get = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "id": format!("resp_mock_{}", reply.seq),
        "object": "response",
        "created_at": reply.created,
        "status": status,
        "error": null,
        "incomplete_details": null,
        "instructions": get("instructions"),
        "max_output_tokens": get("max_output_tokens"),
        "model": reply.model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls").cloned().unwrap_or(Value::Bool(true)),
        "previous_response_id": get("previous_response_id"),
        "reasoning": {"effort": null, "summary": null},
        "store": body.get("store").cloned().unwrap_or(Value::Bool(true)),
        "temperature": body.get("temperature").cloned().unwrap_or(json!(1.0)),
        "text": body.get("text").cloned().unwrap_or(json!({"format": {"type": "text"}})),
        "tool_choice": body.get("tool_choice").cloned().unwrap_or(json!("auto")),
        "tools": body.get("tools").cloned().unwrap_or(json!([])),
        "top_p": body.get("top_p").cloned().unwrap_or(json!(1.0)),
        "truncation": "disabled",
        "usage": null,
        "user": get("user"),
        "metadata": body.get("metadata").cloned().unwrap_or(json!({}))
    })
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

fn message(reply: &Reply<'_>, status: &str, content: Vec<Value>) -> Value {
    json!({"type": "message", "id": format!("msg_mock_{}", reply.seq), "status": status,
           "role": "assistant", "content": content})
}

fn call_item(call_id: &str, name: &str, arguments: &str, status: &str) -> Value {
    json!({"type": "function_call", "id": format!("fc_{call_id}"), "call_id": call_id,
           "name": name, "arguments": arguments, "status": status})
}

/// The final Response: status, output items, usage.
fn finished(body: &Value, plan: &Plan, reply: &Reply<'_>, output: Vec<Value>) -> Value {
    let (status, details) = outcome(&plan.output);
    let mut r = envelope(body, reply, status, output);
    r["incomplete_details"] = details;
    r["usage"] = usage(&plan.usage);
    r
}

/// The non-stream Response.
pub(crate) fn response(body: &Value, plan: &Plan, reply: &Reply<'_>) -> Value {
    let (status, _) = outcome(&plan.output);
    let output = match &plan.output {
        Output::Text { text, .. } => vec![message(reply, status, vec![text_part(text)])],
        Output::Tools(calls) => calls
            .iter()
            .map(|c| {
                call_item(
                    &next_call_id(reply),
                    &c.name,
                    &c.arguments.to_string(),
                    "completed",
                )
            })
            .collect(),
        Output::Filtered => Vec::new(),
    };
    finished(body, plan, reply, output)
}

/// The named events of a streamed Response, numbered from 0.
pub(crate) fn stream(body: &Value, plan: &Plan, reply: &Reply<'_>) -> Vec<Event> {
    let mut events = Vec::new();
    let mut seq = 0u64;
    let mut push = |name: &'static str, mut value: Value, content: bool| {
        value["type"] = Value::String(name.to_string());
        value["sequence_number"] = Value::from(seq);
        seq += 1;
        events.push(Event::named(name, &value, content));
    };
    let progress = envelope(body, reply, "in_progress", Vec::new());
    push("response.created", json!({"response": progress}), false);
    push("response.in_progress", json!({"response": progress}), false);
    let (status, _) = outcome(&plan.output);
    let mut output = Vec::new();
    match &plan.output {
        Output::Text { text, .. } => {
            let id = format!("msg_mock_{}", reply.seq);
            let at = |extra: Value| {
                let mut v = json!({"item_id": id, "output_index": 0, "content_index": 0});
                if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
                    o.extend(e);
                }
                v
            };
            push(
                "response.output_item.added",
                json!({"output_index": 0, "item": message(reply, "in_progress", Vec::new())}),
                false,
            );
            push(
                "response.content_part.added",
                at(json!({"part": text_part("")})),
                false,
            );
            for piece in word_pieces(text) {
                push(
                    "response.output_text.delta",
                    at(json!({"delta": piece, "logprobs": []})),
                    true,
                );
            }
            push(
                "response.output_text.done",
                at(json!({"text": text, "logprobs": []})),
                false,
            );
            push(
                "response.content_part.done",
                at(json!({"part": text_part(text)})),
                false,
            );
            let item = message(reply, status, vec![text_part(text)]);
            push(
                "response.output_item.done",
                json!({"output_index": 0, "item": item}),
                false,
            );
            output.push(item);
        }
        Output::Tools(calls) => {
            for (k, call) in calls.iter().enumerate() {
                let call_id = next_call_id(reply);
                let args = call.arguments.to_string();
                let item_id = format!("fc_{call_id}");
                push(
                    "response.output_item.added",
                    json!({"output_index": k, "item": call_item(&call_id, &call.name, "", "in_progress")}),
                    false,
                );
                for fragment in json_fragments(&args) {
                    push(
                        "response.function_call_arguments.delta",
                        json!({"item_id": item_id, "output_index": k, "delta": fragment}),
                        true,
                    );
                }
                push(
                    "response.function_call_arguments.done",
                    json!({"item_id": item_id, "output_index": k, "name": call.name, "arguments": args}),
                    false,
                );
                let item = call_item(&call_id, &call.name, &args, "completed");
                push(
                    "response.output_item.done",
                    json!({"output_index": k, "item": item}),
                    false,
                );
                output.push(item);
            }
        }
        Output::Filtered => {}
    }
    let last = if status == "completed" {
        "response.completed"
    } else {
        "response.incomplete"
    };
    push(
        last,
        json!({"response": finished(body, plan, reply, output)}),
        false,
    );
    events
}
