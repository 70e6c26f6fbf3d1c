//! Chat-completions answer -> Response object; and the Response "shell" (the request
//! parameters every Response echoes) shared with the stream.

use super::object::{
    FunctionCallOutput, IncompleteDetails, OutputContent, OutputItem, OutputMessage,
    ResponseObject, ResponseStatus, ResponseUsage, RESPONSE_OBJECT,
};
use super::request::ResponsesRequest;
use crate::api::{ChatResponse, FinishReason, JsonMap, ToolCall, Usage};
use serde_json::Value;

/// A Response id from an answer id: kept when it already is one (`resp_...`), else prefixed.
pub fn response_id(chat_id: &str) -> String {
    if chat_id.starts_with("resp_") {
        chat_id.to_string()
    } else {
        format!("resp_{chat_id}")
    }
}

/// The id of the message item of a Response.
pub fn message_id(response_id: &str) -> String {
    format!("msg_{}", response_id.trim_start_matches("resp_"))
}

/// The id of a function-call item, from its call id.
pub fn function_call_id(call_id: &str) -> String {
    format!("fc_{call_id}")
}

/// An empty Response echoing the request's parameters (status `in_progress`).
pub fn shell(req: &ResponsesRequest, id: String, created_at: u64, model: String) -> ResponseObject {
    ResponseObject {
        id,
        object: RESPONSE_OBJECT.to_string(),
        created_at,
        status: ResponseStatus::InProgress,
        model,
        output: Vec::new(),
        usage: None,
        incomplete_details: None,
        error: None,
        instructions: req.instructions.clone(),
        tools: req.tools.iter().flatten().filter_map(echo_tool).collect(),
        tool_choice: req
            .tool_choice
            .as_ref()
            .and_then(|c| serde_json::to_value(c).ok())
            .unwrap_or_else(|| Value::String("auto".into())),
        temperature: req.temperature,
        top_p: req.top_p,
        max_output_tokens: req.max_output_tokens,
        parallel_tool_calls: req.parallel_tool_calls.unwrap_or(true),
        metadata: req.metadata.clone().unwrap_or_default(),
        previous_response_id: req.previous_response_id.clone(),
        text: Some(
            req.text
                .as_ref()
                .and_then(|t| serde_json::to_value(t).ok())
                .unwrap_or_else(|| serde_json::json!({"format": {"type": "text"}})),
        ),
        user: req.user.clone(),
        store: req.store,
        switchpoint: None,
        extra: JsonMap::new(),
    }
}

/// A tool as a Response echoes it: function tools always carry `parameters` and `strict`
/// (null when unset), as the spec's `FunctionTool` requires.
fn echo_tool(t: &super::request::ResponsesTool) -> Option<Value> {
    let mut v = serde_json::to_value(t).ok()?;
    if t.kind == "function" {
        if let Some(o) = v.as_object_mut() {
            o.entry("parameters").or_insert(Value::Null);
            o.entry("strict").or_insert(Value::Null);
        }
    }
    Some(v)
}

/// Chat usage as Response usage (the same counts under Responses names).
pub fn usage_from_chat(u: &Usage) -> ResponseUsage {
    let mut usage = ResponseUsage {
        input_tokens: u.prompt_tokens.get(),
        output_tokens: u.completion_tokens.get(),
        total_tokens: u.total_tokens.get(),
        ..ResponseUsage::default()
    };
    usage.input_tokens_details.cached_tokens = u.cached_tokens().get();
    usage.output_tokens_details.reasoning_tokens = u.reasoning_tokens().get();
    usage.input_tokens_details.cache_write_tokens = u
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cache_creation_tokens)
        .map_or(0, |w| w.get());
    usage
}

/// Status and incomplete reason for a finish reason.
pub fn status_for(finish: Option<FinishReason>) -> (ResponseStatus, Option<IncompleteDetails>) {
    let incomplete = |reason: &str| {
        (
            ResponseStatus::Incomplete,
            Some(IncompleteDetails {
                reason: reason.to_string(),
            }),
        )
    };
    match finish {
        Some(FinishReason::Length) => incomplete("max_output_tokens"),
        Some(FinishReason::ContentFilter) => incomplete("content_filter"),
        _ => (ResponseStatus::Completed, None),
    }
}

/// A function-call output item from a chat tool call.
pub fn function_call_item(call: &ToolCall) -> OutputItem {
    OutputItem::FunctionCall(FunctionCallOutput {
        id: Some(function_call_id(&call.id)),
        call_id: call.id.clone(),
        name: call.function.name.clone(),
        arguments: call.function.arguments.clone(),
        status: Some("completed".into()),
        extra: JsonMap::new(),
    })
}

/// The Response for a chat answer to `req` (choice 0; Responses have one output).
pub fn from_chat(resp: &ChatResponse, req: &ResponsesRequest) -> ResponseObject {
    let id = response_id(&resp.id);
    let mut out = shell(req, id.clone(), resp.created, resp.model.clone());
    let choice = resp.choices.iter().find(|c| c.index == 0);
    let finish = choice.and_then(|c| c.finish_reason);
    let (status, incomplete) = status_for(finish);
    if let Some(c) = choice {
        let m = &c.message;
        let calls = m.tool_calls.as_deref().unwrap_or(&[]);
        let text = m.content.as_deref().unwrap_or("");
        let mut content = Vec::new();
        if !text.is_empty() || (calls.is_empty() && m.refusal.is_none()) {
            content.push(OutputContent::text(text));
        }
        if let Some(r) = &m.refusal {
            content.push(OutputContent::refusal(r.clone()));
        }
        if !content.is_empty() {
            out.output.push(OutputItem::Message(OutputMessage {
                id: message_id(&id),
                role: "assistant".into(),
                status: if status == ResponseStatus::Incomplete {
                    "incomplete".into()
                } else {
                    "completed".into()
                },
                content,
                extra: JsonMap::new(),
            }));
        }
        out.output.extend(calls.iter().map(function_call_item));
    }
    out.status = status;
    out.incomplete_details = incomplete;
    out.usage = resp.usage.as_ref().map(usage_from_chat);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chat(v: Value) -> ChatResponse {
        serde_json::from_value(v).expect("chat response")
    }

    #[test]
    fn text_answer_becomes_a_completed_message() {
        let req: ResponsesRequest =
            serde_json::from_value(json!({"model": "m", "input": "hi", "metadata": {"k": "v"}}))
                .expect("request");
        let resp = chat(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 7, "model": "gpt-x",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "hello"}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13,
                      "prompt_tokens_details": {"cached_tokens": 4},
                      "completion_tokens_details": {"reasoning_tokens": 1}}
        }));
        let r = from_chat(&resp, &req);
        let v = serde_json::to_value(&r).expect("serializes");
        assert_eq!(v["id"], "resp_chatcmpl-1");
        assert_eq!(v["object"], "response");
        assert_eq!(v["status"], "completed");
        assert_eq!(v["created_at"], 7);
        assert_eq!(v["metadata"], json!({"k": "v"}));
        assert_eq!(
            v["output"],
            json!([{"type": "message", "id": "msg_chatcmpl-1", "role": "assistant",
                    "status": "completed", "content": [{"type": "output_text", "text": "hello",
                    "annotations": [], "logprobs": []}]}])
        );
        assert_eq!(
            v["usage"],
            json!({"input_tokens": 10, "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
                   "output_tokens": 3, "output_tokens_details": {"reasoning_tokens": 1},
                   "total_tokens": 13})
        );
        assert_eq!(r.output_text(), "hello");
    }

    #[test]
    fn tool_calls_and_length_map_to_items_and_incomplete() {
        let req = ResponsesRequest {
            model: "m".into(),
            ..ResponsesRequest::default()
        };
        let resp = chat(json!({
            "id": "msg_9", "object": "chat.completion", "created": 1, "model": "claude",
            "choices": [{"index": 0, "finish_reason": "tool_calls",
                         "message": {"role": "assistant", "content": null, "tool_calls": [
                            {"id": "toolu_1", "type": "function",
                             "function": {"name": "f", "arguments": "{\"a\":1}"}}]}}]
        }));
        let r = from_chat(&resp, &req);
        assert_eq!(
            serde_json::to_value(&r.output).expect("serializes"),
            json!([{"type": "function_call", "id": "fc_toolu_1", "call_id": "toolu_1",
                    "name": "f", "arguments": "{\"a\":1}", "status": "completed"}])
        );
        let cut = chat(json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "length",
                         "message": {"role": "assistant", "content": "partial"}}]
        }));
        let r = from_chat(&cut, &req);
        assert_eq!(r.status, ResponseStatus::Incomplete);
        assert_eq!(
            r.incomplete_details.map(|d| d.reason),
            Some("max_output_tokens".to_string())
        );
    }
}
