//! Responses request -> chat-completions request, for providers without a Responses API.
//!
//! Malformed requests fail here (a bad_request naming the field). What is well-formed but
//! has no chat equivalent (built-in tools, `previous_response_id`, stored item references)
//! does not fail yet: it becomes the `blocker`, raised only when the request meets a
//! target that translates, so a native Responses target still gets it whole.

use super::request::{
    ContentItem, Input, InputItem, MessageContent, ResponsesRequest, ResponsesToolChoice,
};
use crate::api::{ChatRequest, Error, JsonMap};
use serde_json::{json, Value};

/// A Responses request as a chat request, and why it cannot be translated (if it cannot).
#[derive(Debug, Clone)]
pub struct Translated {
    pub chat: ChatRequest,
    /// The error a translating target answers with; `None` when nothing was lost.
    pub blocker: Option<Error>,
}

/// Translates a Responses request into the unified chat request.
pub fn to_chat(req: &ResponsesRequest) -> Result<Translated, Error> {
    if req.model.trim().is_empty() {
        return Err(Error::bad_request("model", "`model` is required"));
    }
    let mut blocker: Option<Error> = None;
    let mut block = |e: Error| {
        if blocker.is_none() {
            blocker = Some(e);
        }
    };
    if req.previous_response_id.is_some() {
        block(Error::bad_request(
            "previous_response_id",
            "`previous_response_id` needs a provider with a native Responses API (OpenAI or Azure OpenAI with `responses: native`); send the whole conversation in `input` instead",
        ));
    }
    let mut messages: Vec<Value> = Vec::new();
    if let Some(i) = &req.instructions {
        messages.push(json!({"role": "system", "content": i}));
    }
    match &req.input {
        None => {}
        Some(Input::Text(t)) => messages.push(json!({"role": "user", "content": t})),
        Some(Input::Items(items)) => {
            for (i, item) in items.iter().enumerate() {
                add_item(&mut messages, item, i, &mut block)?;
            }
        }
    }
    if messages.is_empty() {
        return Err(Error::bad_request("input", "`input` is required"));
    }
    let mut body = JsonMap::new();
    body.insert("model".into(), Value::String(req.model.clone()));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(tools) = &req.tools {
        let mut out = Vec::new();
        for (i, t) in tools.iter().enumerate() {
            if t.kind != "function" {
                block(Error::bad_request(
                    format!("tools[{i}].type"),
                    format!(
                        "`tools[{i}].type` is `{}`: built-in tools need a provider with a native Responses API; only `function` tools are translated to chat completions",
                        t.kind
                    ),
                ));
                continue;
            }
            let Some(name) = t.name.as_deref().filter(|n| !n.is_empty()) else {
                return Err(Error::bad_request(
                    format!("tools[{i}].name"),
                    format!("`tools[{i}].name` is required for a function tool"),
                ));
            };
            let mut f = JsonMap::new();
            f.insert("name".into(), Value::String(name.to_string()));
            if let Some(d) = &t.description {
                f.insert("description".into(), Value::String(d.clone()));
            }
            if let Some(p) = &t.parameters {
                f.insert("parameters".into(), p.clone());
            }
            if let Some(s) = t.strict {
                f.insert("strict".into(), Value::Bool(s));
            }
            out.push(json!({"type": "function", "function": f}));
        }
        if !out.is_empty() {
            body.insert("tools".into(), Value::Array(out));
        }
    }
    match &req.tool_choice {
        None => {}
        Some(ResponsesToolChoice::Mode(m)) => match m.as_str() {
            "none" | "auto" | "required" => {
                body.insert("tool_choice".into(), Value::String(m.clone()));
            }
            other => {
                return Err(Error::bad_request(
                    "tool_choice",
                    format!("`tool_choice` `{other}` is not one of none, auto, required"),
                ))
            }
        },
        Some(ResponsesToolChoice::Object(o)) => match (o.kind.as_str(), &o.name) {
            ("function", Some(name)) => {
                body.insert(
                    "tool_choice".into(),
                    json!({"type": "function", "function": {"name": name}}),
                );
            }
            ("function", None) => {
                return Err(Error::bad_request(
                    "tool_choice.name",
                    "`tool_choice.name` is required when `tool_choice.type` is `function`",
                ))
            }
            (other, _) => block(Error::bad_request(
                "tool_choice.type",
                format!("`tool_choice.type` `{other}` has no chat-completions equivalent; it needs a provider with a native Responses API"),
            )),
        },
    }
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            body.insert(k.into(), v);
        }
    };
    set("temperature", req.temperature.map(Value::from));
    set("top_p", req.top_p.map(Value::from));
    set(
        "max_completion_tokens",
        req.max_output_tokens.map(Value::from),
    );
    set(
        "parallel_tool_calls",
        req.parallel_tool_calls.map(Value::from),
    );
    set("user", req.user.clone().map(Value::String));
    if let Some(format) = req.text.as_ref().and_then(|t| t.format.as_ref()) {
        let rf = match format.kind.as_str() {
            "text" => json!({"type": "text"}),
            "json_object" => json!({"type": "json_object"}),
            "json_schema" => {
                let Some(name) = &format.name else {
                    return Err(Error::bad_request(
                        "text.format.name",
                        "`text.format.name` is required for `json_schema`",
                    ));
                };
                let mut s = JsonMap::new();
                s.insert("name".into(), Value::String(name.clone()));
                if let Some(d) = &format.description {
                    s.insert("description".into(), Value::String(d.clone()));
                }
                if let Some(schema) = &format.schema {
                    s.insert("schema".into(), schema.clone());
                }
                if let Some(strict) = format.strict {
                    s.insert("strict".into(), Value::Bool(strict));
                }
                json!({"type": "json_schema", "json_schema": s})
            }
            other => {
                return Err(Error::bad_request(
                    "text.format.type",
                    format!(
                        "`text.format.type` `{other}` is not one of text, json_object, json_schema"
                    ),
                ))
            }
        };
        body.insert("response_format".into(), rf);
    }
    let chat: ChatRequest = crate::api::from_json_value(Value::Object(body))?;
    Ok(Translated { chat, blocker })
}

/// Appends one input item to the chat messages.
fn add_item(
    messages: &mut Vec<Value>,
    item: &InputItem,
    i: usize,
    block: &mut impl FnMut(Error),
) -> Result<(), Error> {
    match item {
        InputItem::Message(m) => {
            let role = match m.role.as_str() {
                r @ ("user" | "assistant" | "system" | "developer") => r,
                other => {
                    return Err(Error::bad_request(
                        format!("input[{i}].role"),
                        format!("`input[{i}].role` `{other}` is not one of user, assistant, system, developer"),
                    ))
                }
            };
            let mut msg = JsonMap::new();
            msg.insert("role".into(), Value::String(role.into()));
            match &m.content {
                MessageContent::Text(t) => {
                    msg.insert("content".into(), Value::String(t.clone()));
                }
                MessageContent::Parts(parts) if role == "assistant" => {
                    let mut text = String::new();
                    for p in parts {
                        match p.kind.as_str() {
                            "output_text" | "input_text" => {
                                text.push_str(p.text.as_deref().unwrap_or(""))
                            }
                            "refusal" => {
                                msg.insert(
                                    "refusal".into(),
                                    Value::String(p.refusal.clone().unwrap_or_default()),
                                );
                            }
                            _ => {}
                        }
                    }
                    msg.insert("content".into(), Value::String(text));
                }
                MessageContent::Parts(parts) => {
                    let mut out = Vec::new();
                    for (j, p) in parts.iter().enumerate() {
                        if let Some(part) = chat_part(p, &format!("input[{i}].content[{j}]"), block)? {
                            out.push(part);
                        }
                    }
                    msg.insert("content".into(), Value::Array(out));
                }
            }
            messages.push(Value::Object(msg));
        }
        InputItem::FunctionCall(f) => {
            let call = json!({
                "id": f.call_id,
                "type": "function",
                "function": {"name": f.name, "arguments": f.arguments}
            });
            // Calls right after an assistant turn belong to it (one turn: text and calls).
            let joins = messages
                .last()
                .is_some_and(|m| m.get("role").and_then(Value::as_str) == Some("assistant"));
            if joins {
                if let Some(Value::Object(last)) = messages.last_mut() {
                    match last.get_mut("tool_calls") {
                        Some(Value::Array(calls)) => calls.push(call),
                        _ => {
                            last.insert("tool_calls".into(), Value::Array(vec![call]));
                        }
                    }
                    if last.get("content").and_then(Value::as_str) == Some("") {
                        last.insert("content".into(), Value::Null);
                    }
                }
            } else {
                messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
            }
        }
        InputItem::FunctionCallOutput(o) => {
            let text = match &o.output {
                MessageContent::Text(t) => t.clone(),
                MessageContent::Parts(parts) => parts
                    .iter()
                    .filter_map(|p| p.text.as_deref())
                    .collect::<Vec<_>>()
                    .join(""),
            };
            messages.push(json!({"role": "tool", "tool_call_id": o.call_id, "content": text}));
        }
        // Reasoning items only help the model that wrote them; another model reads without.
        InputItem::Other(v) if v.get("type").and_then(Value::as_str) == Some("reasoning") => {}
        InputItem::Other(_) => block(Error::bad_request(
            format!("input[{i}].type"),
            format!(
                "`input[{i}].type` `{}` has no chat-completions equivalent; it needs a provider with a native Responses API",
                item.kind()
            ),
        )),
    }
    Ok(())
}

/// One user-side content part as a chat part (`None` when it is dropped for a blocker).
fn chat_part(
    p: &ContentItem,
    at: &str,
    block: &mut impl FnMut(Error),
) -> Result<Option<Value>, Error> {
    Ok(Some(match p.kind.as_str() {
        "input_text" | "output_text" | "text" => {
            json!({"type": "text", "text": p.text.clone().unwrap_or_default()})
        }
        "input_image" => {
            let Some(url) = &p.image_url else {
                block(Error::bad_request(
                    format!("{at}.image_url"),
                    format!("`{at}` has no `image_url` (a `file_id` image needs a provider with a native Responses API)"),
                ));
                return Ok(None);
            };
            let mut image = JsonMap::new();
            image.insert("url".into(), Value::String(url.clone()));
            if let Some(d) = &p.detail {
                image.insert("detail".into(), Value::String(d.clone()));
            }
            json!({"type": "image_url", "image_url": image})
        }
        other => {
            block(Error::bad_request(
                format!("{at}.type"),
                format!("`{at}.type` `{other}` has no chat-completions equivalent; it needs a provider with a native Responses API"),
            ));
            return Ok(None);
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorKind;

    fn req(v: Value) -> ResponsesRequest {
        serde_json::from_value(v).expect("request parses")
    }

    fn chat_json(v: Value) -> Value {
        let t = to_chat(&req(v)).expect("translates");
        assert!(t.blocker.is_none(), "{:?}", t.blocker);
        serde_json::to_value(&t.chat).expect("serializes")
    }

    #[test]
    fn string_input_and_instructions_become_system_and_user() {
        let chat = chat_json(json!({
            "model": "m", "instructions": "be brief", "input": "hi",
            "max_output_tokens": 50, "temperature": 0.2, "top_p": 0.9, "user": "u1",
            "parallel_tool_calls": false
        }));
        assert_eq!(
            chat["messages"],
            json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}])
        );
        assert_eq!(chat["max_completion_tokens"], 50);
        assert_eq!(chat["temperature"], 0.2);
        assert_eq!(chat["top_p"], 0.9);
        assert_eq!(chat["user"], "u1");
        assert_eq!(chat["parallel_tool_calls"], false);
    }

    #[test]
    fn items_become_messages_with_tool_calls_and_results() {
        let chat = chat_json(json!({
            "model": "m",
            "input": [
                {"role": "user", "content": [
                    {"type": "input_text", "text": "weather in"},
                    {"type": "input_image", "image_url": "https://x/y.png", "detail": "low"}
                ]},
                {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                {"type": "function_call", "call_id": "c2", "name": "get_time", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
                {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "noon"}]},
                {"type": "reasoning", "id": "rs_1", "summary": []}
            ]
        }));
        assert_eq!(
            chat["messages"],
            json!([
                {"role": "user", "content": [
                    {"type": "text", "text": "weather in"},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}
                ]},
                {"role": "assistant", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
                {"role": "tool", "tool_call_id": "c2", "content": "noon"}
            ])
        );
    }

    #[test]
    fn function_tools_choice_and_json_schema_translate() {
        let chat = chat_json(json!({
            "model": "m", "input": "x",
            "tools": [{"type": "function", "name": "f", "description": "d",
                       "parameters": {"type": "object"}, "strict": true}],
            "tool_choice": {"type": "function", "name": "f"},
            "text": {"format": {"type": "json_schema", "name": "out",
                                "schema": {"type": "object"}, "strict": true}}
        }));
        assert_eq!(
            chat["tools"],
            json!([{"type": "function", "function": {"name": "f", "description": "d",
                    "parameters": {"type": "object"}, "strict": true}}])
        );
        assert_eq!(
            chat["tool_choice"],
            json!({"type": "function", "function": {"name": "f"}})
        );
        assert_eq!(
            chat["response_format"],
            json!({"type": "json_schema", "json_schema": {"name": "out",
                   "schema": {"type": "object"}, "strict": true}})
        );
        let json_object = chat_json(json!({"model": "m", "input": "x",
            "text": {"format": {"type": "json_object"}}, "tool_choice": "required"}));
        assert_eq!(
            json_object["response_format"],
            json!({"type": "json_object"})
        );
        assert_eq!(json_object["tool_choice"], "required");
    }

    #[test]
    fn built_in_tools_and_previous_response_id_block_translation_only() {
        let t = to_chat(&req(json!({
            "model": "m", "input": "x",
            "tools": [{"type": "function", "name": "f"}, {"type": "web_search"}]
        })))
        .expect("well-formed");
        let b = t.blocker.expect("blocked");
        assert_eq!(b.kind, ErrorKind::BadRequest);
        assert_eq!(b.param.as_deref(), Some("tools[1].type"));
        assert!(b.message.contains("web_search"), "{}", b.message);
        assert_eq!(t.chat.tools.as_ref().map(Vec::len), Some(1));

        let t = to_chat(&req(
            json!({"model": "m", "input": "x", "previous_response_id": "resp_1"}),
        ))
        .expect("well-formed");
        assert_eq!(
            t.blocker.and_then(|b| b.param),
            Some("previous_response_id".to_string())
        );
    }

    #[test]
    fn malformed_requests_fail_with_the_field() {
        let e = to_chat(&req(json!({"model": "m"}))).expect_err("no input");
        assert_eq!(e.param.as_deref(), Some("input"));
        let e = to_chat(&req(
            json!({"model": "m", "input": [{"role": "robot", "content": "x"}]}),
        ))
        .expect_err("bad role");
        assert_eq!(e.param.as_deref(), Some("input[0].role"));
        let e = to_chat(&req(json!({"model": "m", "input": "x",
            "text": {"format": {"type": "json_schema"}}})))
        .expect_err("no name");
        assert_eq!(e.param.as_deref(), Some("text.format.name"));
    }
}
