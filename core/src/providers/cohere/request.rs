//! Unified chat request -> Cohere v2 `POST /v2/chat` body.
//!
//! - `system` / `developer` messages -> `role: system`; user content keeps text and
//!   `image_url` parts (Cohere's vision models take http(s) and `data:` URLs alike);
//!   assistant tool calls keep their OpenAI shape (Cohere v2 uses it), with any text sent as
//!   `tool_plan` (Cohere's place for what the model says before calling tools); tool results
//!   are `role: tool` messages with `tool_call_id` and the result text.
//! - `top_p` -> `p`, `stop` -> `stop_sequences`; `seed`, penalties, `max_tokens`,
//!   `temperature` keep their names.
//! - `tool_choice`: `none` -> `NONE`, `required` -> `REQUIRED`, `auto` -> left out (Cohere's
//!   default); a named function -> `REQUIRED` with `tools` narrowed to that function, since
//!   Cohere cannot name one.
//! - `response_format`: `json_object` -> `{type: json_object}`, `json_schema` ->
//!   `{type: json_object, json_schema: <schema>}`.
//! - `n > 1` is refused (`bad_request` naming `n`); `parallel_tool_calls`, `user` and OpenAI's
//!   `metadata` are dropped (Cohere has no such fields). `extra_body` keys are merged last
//!   (`safety_mode`, `documents`, `citation_options`, `thinking`, `k`, ...).

use crate::api::{
    ChatRequest, Content, ContentPart, Error, Message, ResponseFormat, Role, Tool, ToolChoice,
    ToolChoiceMode,
};
use serde_json::{json, Map, Value};

/// Builds the JSON body for `POST /v2/chat`.
pub(super) fn chat_body(req: &ChatRequest, model: &str, stream: bool) -> Result<Value, Error> {
    if let Some(n) = req.n.filter(|n| *n > 1) {
        return Err(Error::bad_request(
            "n",
            format!("Cohere returns one answer per request; n = {n} is not supported"),
        ));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    let messages = req
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| message(m, i))
        .collect::<Result<Vec<_>, _>>()?;
    body.insert("messages".into(), Value::Array(messages));
    let (tools, choice) = tools_and_choice(req);
    if let Some(tools) = tools {
        body.insert("tools".into(), tools);
    }
    if let Some(choice) = choice {
        body.insert("tool_choice".into(), json!(choice));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("p".into(), json!(p));
    }
    if let Some(max) = req.max_output_tokens() {
        body.insert("max_tokens".into(), json!(max));
    }
    if let Some(stop) = &req.stop {
        let seqs = stop.to_vec();
        if !seqs.is_empty() {
            body.insert("stop_sequences".into(), json!(seqs));
        }
    }
    if let Some(seed) = req.seed {
        body.insert("seed".into(), json!(seed));
    }
    if let Some(p) = req.presence_penalty {
        body.insert("presence_penalty".into(), json!(p));
    }
    if let Some(p) = req.frequency_penalty {
        body.insert("frequency_penalty".into(), json!(p));
    }
    if let Some(format) = response_format(req.response_format.as_ref())? {
        body.insert("response_format".into(), format);
    }
    if stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    if let Some(extra) = &req.extra_body {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(body))
}

/// One message in Cohere's v2 shape.
fn message(m: &Message, i: usize) -> Result<Value, Error> {
    match m.role {
        Role::System | Role::Developer => Ok(json!({
            "role": "system",
            "content": text_only(m, i)?,
        })),
        Role::User => Ok(json!({ "role": "user", "content": user_content(m, i)? })),
        Role::Assistant => {
            let mut out = Map::new();
            out.insert("role".into(), json!("assistant"));
            let text = text_only(m, i)?;
            match m.tool_calls.as_ref().filter(|c| !c.is_empty()) {
                Some(calls) => {
                    let calls: Vec<Value> = calls
                        .iter()
                        .map(|c| {
                            json!({
                                "id": c.id,
                                "type": "function",
                                "function": {
                                    "name": c.function.name,
                                    "arguments": c.function.arguments,
                                },
                            })
                        })
                        .collect();
                    out.insert("tool_calls".into(), Value::Array(calls));
                    if !text.is_empty() {
                        out.insert("tool_plan".into(), json!(text));
                    }
                }
                None => {
                    out.insert("content".into(), json!(text));
                }
            }
            Ok(Value::Object(out))
        }
        Role::Tool => {
            let id = m.tool_call_id.as_deref().ok_or_else(|| {
                Error::bad_request(
                    format!("messages[{i}].tool_call_id"),
                    "a tool message needs the tool_call_id of the call it answers",
                )
            })?;
            Ok(json!({
                "role": "tool",
                "tool_call_id": id,
                "content": text_only(m, i)?,
            }))
        }
    }
}

/// A message's text; non-text parts are refused where Cohere takes text only.
fn text_only(m: &Message, i: usize) -> Result<String, Error> {
    match &m.content {
        None => Ok(String::new()),
        Some(Content::Text(t)) => Ok(t.clone()),
        Some(Content::Parts(parts)) => {
            let mut text = String::new();
            for (j, part) in parts.iter().enumerate() {
                match part {
                    ContentPart::Text { text: t } => text.push_str(t),
                    _ => {
                        return Err(Error::bad_request(
                            format!("messages[{i}].content[{j}]"),
                            format!("Cohere takes only text in a {} message", m.role.as_str()),
                        ))
                    }
                }
            }
            Ok(text)
        }
    }
}

/// User content: a string, or text and image parts.
fn user_content(m: &Message, i: usize) -> Result<Value, Error> {
    let Some(Content::Parts(parts)) = &m.content else {
        return Ok(json!(text_only(m, i)?));
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        out.push(match part {
            ContentPart::Text { text } => json!({ "type": "text", "text": text }),
            ContentPart::ImageUrl { image_url } => {
                let mut img = Map::new();
                img.insert("url".into(), json!(image_url.url));
                if let Some(d) = &image_url.detail {
                    img.insert("detail".into(), json!(d));
                }
                json!({ "type": "image_url", "image_url": img })
            }
            ContentPart::Other(_) => {
                return Err(Error::bad_request(
                    format!("messages[{i}].content[{j}]"),
                    "Cohere takes text and image_url parts only",
                ))
            }
        });
    }
    Ok(Value::Array(out))
}

/// `tools` and `tool_choice` as Cohere takes them.
fn tools_and_choice(req: &ChatRequest) -> (Option<Value>, Option<&'static str>) {
    let tools: &[Tool] = req.tools.as_deref().unwrap_or(&[]);
    let mut named = None;
    let choice = match &req.tool_choice {
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => Some("NONE"),
        Some(ToolChoice::Mode(ToolChoiceMode::Required)) => Some("REQUIRED"),
        Some(ToolChoice::Named(n)) => {
            named = Some(n.function.name.as_str());
            Some("REQUIRED")
        }
        Some(ToolChoice::Mode(ToolChoiceMode::Auto)) | None => None,
    };
    if tools.is_empty() {
        return (None, None);
    }
    let list: Vec<Value> = tools
        .iter()
        .filter(|t| named.is_none_or(|n| t.function.name == n))
        .map(|t| {
            let mut f = Map::new();
            f.insert("name".into(), json!(t.function.name));
            if let Some(d) = &t.function.description {
                f.insert("description".into(), json!(d));
            }
            f.insert(
                "parameters".into(),
                t.function
                    .parameters
                    .clone()
                    .unwrap_or_else(|| json!({ "type": "object", "properties": {} })),
            );
            json!({ "type": "function", "function": f })
        })
        .collect();
    (Some(Value::Array(list)), choice)
}

/// `response_format` in Cohere's shape; None for plain text.
fn response_format(format: Option<&ResponseFormat>) -> Result<Option<Value>, Error> {
    Ok(match format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => Some(json!({ "type": "json_object" })),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let schema = json_schema.schema.clone().ok_or_else(|| {
                Error::bad_request(
                    "response_format.json_schema.schema",
                    "a json_schema response format needs a schema",
                )
            })?;
            Some(json!({ "type": "json_object", "json_schema": schema }))
        }
    })
}
