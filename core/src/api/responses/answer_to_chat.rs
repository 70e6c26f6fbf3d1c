//! Response object -> chat answer: how a native Responses answer enters the chat pipeline
//! (cache, cost, records) before it is turned back into a Response for the caller.

use super::object::{OutputItem, ResponseObject, ResponseStatus, ResponseUsage};
use crate::api::{
    ChatResponse, Choice, CompletionTokensDetails, Error, ErrorKind, FinishReason, FunctionCall,
    JsonMap, PromptTokensDetails, ResponseMessage, Role, TokenCount, ToolCall, ToolKind, Usage,
    CHAT_COMPLETION_OBJECT,
};

/// Response usage as chat usage.
pub fn usage_to_chat(u: &ResponseUsage) -> Usage {
    let mut usage = Usage::new(u.input_tokens, u.output_tokens);
    usage.total_tokens = TokenCount(u.total_tokens);
    usage.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(TokenCount(u.input_tokens_details.cached_tokens)),
        cache_creation_tokens: Some(u.input_tokens_details.cache_write_tokens)
            .filter(|w| *w > 0)
            .map(TokenCount),
        ..PromptTokensDetails::default()
    });
    usage.completion_tokens_details = Some(CompletionTokensDetails {
        reasoning_tokens: Some(TokenCount(u.output_tokens_details.reasoning_tokens)),
        ..CompletionTokensDetails::default()
    });
    usage
}

/// The error a `failed` Response stands for, by its error code.
pub fn failed_error(code: &str, message: &str) -> Error {
    let kind = match code {
        "rate_limit_exceeded" | "rate_limited" => ErrorKind::RateLimited,
        "server_error" | "unavailable" | "vector_store_timeout" => ErrorKind::Unavailable,
        "context_length_exceeded" | "context_window_exceeded" => ErrorKind::ContextWindowExceeded,
        "content_filter" | "content_filtered" => ErrorKind::ContentFiltered,
        "timeout" => ErrorKind::Timeout,
        "connection" => ErrorKind::Connection,
        c if c.starts_with("invalid") || c.starts_with("empty") || c == "bad_request" => {
            ErrorKind::BadRequest
        }
        _ => ErrorKind::Unavailable,
    };
    Error::new(kind, message.to_string()).with_code(code.to_string())
}

/// The finish reason a Response's outcome stands for.
pub fn finish_reason(r: &ResponseObject) -> FinishReason {
    match (
        r.status,
        r.incomplete_details.as_ref().map(|d| d.reason.as_str()),
    ) {
        (ResponseStatus::Incomplete, Some("content_filter")) => FinishReason::ContentFilter,
        (ResponseStatus::Incomplete, _) => FinishReason::Length,
        _ if !r.function_calls().is_empty() => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// A native Response as a chat answer (one choice; reasoning items are left out).
pub fn response_to_chat(r: &ResponseObject) -> Result<ChatResponse, Error> {
    if r.status == ResponseStatus::Failed {
        let (code, message) = r
            .error
            .as_ref()
            .map_or(("server_error", "the response failed"), |e| {
                (e.code.as_str(), e.message.as_str())
            });
        return Err(failed_error(code, message));
    }
    let mut text = String::new();
    let mut refusal: Option<String> = None;
    let mut calls = Vec::new();
    for item in &r.output {
        match item {
            OutputItem::Message(m) => {
                for p in &m.content {
                    match p.kind.as_str() {
                        "output_text" => text.push_str(p.text.as_deref().unwrap_or("")),
                        "refusal" => {
                            refusal
                                .get_or_insert_with(String::new)
                                .push_str(p.refusal.as_deref().unwrap_or(""));
                        }
                        _ => {}
                    }
                }
            }
            OutputItem::FunctionCall(f) => calls.push(ToolCall {
                id: f.call_id.clone(),
                kind: ToolKind::Function,
                function: FunctionCall {
                    name: f.name.clone(),
                    arguments: f.arguments.clone(),
                },
                extra: JsonMap::new(),
            }),
            OutputItem::Other(_) => {}
        }
    }
    let content = if text.is_empty() && !calls.is_empty() {
        None
    } else {
        Some(text)
    };
    Ok(ChatResponse {
        id: r.id.clone(),
        object: CHAT_COMPLETION_OBJECT.to_string(),
        created: r.created_at,
        model: r.model.clone(),
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: Role::Assistant,
                content,
                refusal,
                tool_calls: (!calls.is_empty()).then_some(calls),
                extra: JsonMap::new(),
            },
            finish_reason: Some(finish_reason(r)),
            logprobs: None,
            extra: JsonMap::new(),
        }],
        usage: r.usage.as_ref().map(usage_to_chat),
        system_fingerprint: None,
        switchpoint: None,
        extra: JsonMap::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn native_response_becomes_a_chat_answer() {
        let r: ResponseObject = serde_json::from_value(json!({
            "id": "resp_1", "object": "response", "created_at": 9, "status": "completed",
            "model": "gpt-4.1", "error": null, "incomplete_details": null,
            "output": [
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                 "content": [{"type": "output_text", "text": "hi", "annotations": []}]},
                {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f",
                 "arguments": "{}", "status": "completed"}
            ],
            "usage": {"input_tokens": 5, "input_tokens_details": {"cached_tokens": 2},
                      "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 3},
                      "total_tokens": 12},
            "tools": [], "tool_choice": "auto", "parallel_tool_calls": true, "metadata": {}
        }))
        .expect("response parses");
        let c = response_to_chat(&r).expect("converts");
        assert_eq!(c.id, "resp_1");
        assert_eq!(c.created, 9);
        assert_eq!(c.text(), Some("hi"));
        assert_eq!(c.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        let calls = c.choices[0].message.tool_calls.as_ref().expect("calls");
        assert_eq!(calls[0].id, "call_1");
        let u = c.usage.expect("usage");
        assert_eq!(
            (
                u.prompt_tokens.get(),
                u.completion_tokens.get(),
                u.total_tokens.get()
            ),
            (5, 7, 12)
        );
        assert_eq!(u.cached_tokens().get(), 2);
        assert_eq!(u.reasoning_tokens().get(), 3);
    }

    #[test]
    fn failed_response_is_a_typed_error() {
        let r: ResponseObject = serde_json::from_value(json!({
            "id": "resp_1", "object": "response", "created_at": 9, "status": "failed",
            "model": "m", "output": [],
            "error": {"code": "rate_limit_exceeded", "message": "slow down"}
        }))
        .expect("parses");
        let e = response_to_chat(&r).expect_err("failed");
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.code.as_deref(), Some("rate_limit_exceeded"));
    }
}
