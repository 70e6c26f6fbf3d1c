//! OpenAI (and Azure OpenAI) chat completions: reading the request, writing the answer and
//! its stream.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};

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
    pub azure: bool,
    pub tool_ids: &'a AtomicU64,
}

/// Text of an OpenAI `content` (string, or array of parts whose text parts are joined).
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => join_texts(
            parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str).unwrap_or("text") == "text")
                .filter_map(|p| p.get("text").and_then(Value::as_str)),
        ),
        _ => String::new(),
    }
}

/// Reads the conversation from a chat-completions body; `Err` names the problem like OpenAI.
pub(crate) fn conversation(body: &Value) -> Result<Conversation, (String, &'static str)> {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err(("Missing required parameter: 'messages'.".into(), "messages"));
    };
    let mut prompt_words = 0;
    let mut user_text = String::new();
    for message in messages {
        let text = message.get("content").map(content_text).unwrap_or_default();
        prompt_words += word_count(&text);
        if message.get("role").and_then(Value::as_str) == Some("user") {
            user_text = text;
        }
    }
    let last = match messages.last() {
        Some(m) => match m.get("role").and_then(Value::as_str) {
            Some("user") => Last::User,
            Some("tool") => {
                Last::ToolResult(m.get("content").map(content_text).unwrap_or_default())
            }
            _ => Last::Other,
        },
        None => Last::Other,
    };
    let tools: Vec<ToolDef> = body
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
    let mode = match body.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => ToolMode::None,
        Some(Value::String(s)) if s == "required" => ToolMode::Required,
        Some(Value::Object(o)) => match o
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
        {
            Some(name) => ToolMode::Named(name.to_string()),
            None => ToolMode::Auto,
        },
        _ => ToolMode::Auto,
    };
    let cap = body
        .get("max_completion_tokens")
        .and_then(Value::as_u64)
        .or_else(|| body.get("max_tokens").and_then(Value::as_u64));
    Ok(Conversation {
        last,
        user_text,
        prompt_words,
        tools,
        mode,
        cap,
    })
}

/// `n`: how many identical choices to send.
pub(crate) fn choice_count(body: &Value) -> u64 {
    body.get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 128)
}

/// Whether the stream should end with a usage chunk.
pub(crate) fn include_usage(body: &Value) -> bool {
    body.get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn finish_reason(output: &Output) -> &'static str {
    match output {
        Output::Text {
            truncated: true, ..
        } => "length",
        Output::Text { .. } => "stop",
        Output::Tools(_) => "tool_calls",
        Output::Filtered => "content_filter",
    }
}

/// OpenAI usage object; `choices` multiplies the completion (every choice is generated).
fn usage(u: &Usage, choices: u64) -> Value {
    let prompt = u.prompt + u.cached;
    let completion = u.completion * choices + u.reasoning;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": u.cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": u.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

fn next_call_id(reply: &Reply<'_>) -> String {
    format!(
        "call_mock_{}",
        reply.tool_ids.fetch_add(1, Ordering::Relaxed) + 1
    )
}

fn safe_filter_results() -> Value {
    let safe = json!({"filtered": false, "severity": "safe"});
    json!({"hate": safe.clone(), "self_harm": safe.clone(), "sexual": safe.clone(), "violence": safe})
}

fn prompt_filter_results() -> Value {
    json!([{"prompt_index": 0, "content_filter_results": safe_filter_results()}])
}

/// The non-stream `chat.completion` object.
pub(crate) fn response(plan: &Plan, choices: u64, reply: &Reply<'_>) -> Value {
    let finish = finish_reason(&plan.output);
    let list: Vec<Value> = (0..choices)
        .map(|index| {
            let mut message = json!({"role": "assistant", "content": null, "refusal": null, "annotations": []});
            match &plan.output {
                Output::Text { text, .. } => message["content"] = Value::String(text.clone()),
                Output::Tools(calls) => {
                    message["tool_calls"] = calls
                        .iter()
                        .map(|c| {
                            json!({
                                "id": next_call_id(reply),
                                "type": "function",
                                "function": {"name": c.name, "arguments": c.arguments.to_string()}
                            })
                        })
                        .collect();
                }
                Output::Filtered => {}
            }
            let mut choice = json!({"index": index, "message": message, "logprobs": null, "finish_reason": finish});
            if reply.azure {
                choice["content_filter_results"] = safe_filter_results();
            }
            choice
        })
        .collect();
    let mut body = json!({
        "id": format!("chatcmpl-mock-{}", reply.seq),
        "object": "chat.completion",
        "created": reply.created,
        "model": reply.model,
        "choices": list,
        "usage": usage(&plan.usage, choices),
        "service_tier": "default",
        "system_fingerprint": "fp_mock"
    });
    if reply.azure {
        body["prompt_filter_results"] = prompt_filter_results();
    }
    body
}

/// The `chat.completion.chunk` events of a streamed answer, ending with `[DONE]`.
pub(crate) fn stream(plan: &Plan, choices: u64, with_usage: bool, reply: &Reply<'_>) -> Vec<Event> {
    let chunk = |choice_list: Vec<Value>| {
        let mut value = json!({
            "id": format!("chatcmpl-mock-{}", reply.seq),
            "object": "chat.completion.chunk",
            "created": reply.created,
            "model": reply.model,
            "system_fingerprint": "fp_mock",
            "choices": choice_list,
        });
        if with_usage {
            value["usage"] = Value::Null;
        }
        value
    };
    let choice = |index: u64, delta: Value, finish: Option<&str>| json!({"index": index, "delta": delta, "logprobs": null, "finish_reason": finish});
    let mut events = Vec::new();
    if reply.azure {
        events.push(Event::data(
            &json!({
                "choices": [], "created": 0, "id": "", "model": "", "object": "",
                "prompt_filter_results": prompt_filter_results()
            }),
            false,
        ));
    }
    for index in 0..choices {
        let content = match plan.output {
            Output::Tools(_) => Value::Null,
            _ => Value::String(String::new()),
        };
        let delta = json!({"role": "assistant", "content": content, "refusal": null});
        events.push(Event::data(&chunk(vec![choice(index, delta, None)]), false));
    }
    match &plan.output {
        Output::Text { text, .. } => {
            for piece in word_pieces(text) {
                for index in 0..choices {
                    let delta = json!({"content": piece});
                    events.push(Event::data(&chunk(vec![choice(index, delta, None)]), true));
                }
            }
        }
        Output::Tools(calls) => {
            for index in 0..choices {
                for (k, call) in calls.iter().enumerate() {
                    let head = json!({"tool_calls": [{
                        "index": k, "id": next_call_id(reply), "type": "function",
                        "function": {"name": call.name, "arguments": ""}
                    }]});
                    events.push(Event::data(&chunk(vec![choice(index, head, None)]), false));
                    for fragment in json_fragments(&call.arguments.to_string()) {
                        let delta = json!({"tool_calls": [{"index": k, "function": {"arguments": fragment}}]});
                        events.push(Event::data(&chunk(vec![choice(index, delta, None)]), true));
                    }
                }
            }
        }
        Output::Filtered => {}
    }
    let finish = finish_reason(&plan.output);
    for index in 0..choices {
        events.push(Event::data(
            &chunk(vec![choice(index, Value::Object(Map::new()), Some(finish))]),
            false,
        ));
    }
    if with_usage {
        let mut last = chunk(Vec::new());
        last["usage"] = usage(&plan.usage, choices);
        events.push(Event::data(&last, false));
    }
    events.push(Event::raw("[DONE]"));
    events
}
