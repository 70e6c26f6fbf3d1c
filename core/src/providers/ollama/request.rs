//! Unified chat request -> Ollama `POST /api/chat` body.
//!
//! - Messages keep their roles (`developer` becomes `system`); images must be `data:` URIs
//!   and go to the message's `images` list as bare base64 (Ollama cannot fetch URLs, so an
//!   http(s) image is a `bad_request` naming the part).
//! - Assistant tool calls are sent with their arguments as a JSON object (Ollama's shape);
//!   a tool result carries `tool_name` (looked up from the call it answers) and
//!   `tool_call_id`.
//! - Sampling goes to `options`: `temperature`, `top_p`, `seed`, `num_predict` (the output
//!   cap), `stop`, `presence_penalty`, `frequency_penalty`; an `options` object in
//!   `extra_body` is merged into it (`num_ctx`, `top_k`, ...), its keys winning.
//! - `response_format`: `json_object` -> `format: "json"`, `json_schema` -> `format: <schema>`.
//! - `tool_choice`: Ollama has no such field. `none` leaves the tools out; a named function
//!   narrows the tools to that one; `required` cannot be enforced and sends the tools as they
//!   are.
//! - `stream` is always sent: Ollama streams unless told `false`.
//! - `n > 1` is refused (`bad_request` naming `n`); `user`, `metadata`, `parallel_tool_calls`
//!   are dropped.

use crate::api::{
    ChatRequest, Content, ContentPart, Error, ImageSource, Message, ResponseFormat, Role,
    ToolChoice, ToolChoiceMode,
};
use serde_json::{json, Map, Value};

/// Builds the JSON body for `POST /api/chat`.
pub(super) fn chat_body(req: &ChatRequest, model: &str, stream: bool) -> Result<Value, Error> {
    if let Some(n) = req.n.filter(|n| *n > 1) {
        return Err(Error::bad_request(
            "n",
            format!("Ollama returns one answer per request; n = {n} is not supported"),
        ));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    let mut messages = Vec::with_capacity(req.messages.len());
    for (i, m) in req.messages.iter().enumerate() {
        messages.push(message(m, i, &req.messages[..i])?);
    }
    body.insert("messages".into(), Value::Array(messages));
    if let Some(tools) = tools(req) {
        body.insert("tools".into(), tools);
    }
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            body.insert("format".into(), json!("json"));
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let schema = json_schema.schema.clone().ok_or_else(|| {
                Error::bad_request(
                    "response_format.json_schema.schema",
                    "a json_schema response format needs a schema",
                )
            })?;
            body.insert("format".into(), schema);
        }
        Some(ResponseFormat::Text) | None => {}
    }
    let mut options = options(req);
    body.insert("stream".into(), Value::Bool(stream));
    if let Some(extra) = &req.extra_body {
        for (k, v) in extra {
            match (k.as_str(), v) {
                ("options", Value::Object(o)) => {
                    options.extend(o.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                _ => {
                    body.insert(k.clone(), v.clone());
                }
            }
        }
    }
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
    }
    Ok(Value::Object(body))
}

/// Sampling parameters in Ollama's `options`.
fn options(req: &ChatRequest) -> Map<String, Value> {
    let mut o = Map::new();
    if let Some(t) = req.temperature {
        o.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        o.insert("top_p".into(), json!(p));
    }
    if let Some(s) = req.seed {
        o.insert("seed".into(), json!(s));
    }
    if let Some(n) = req.max_output_tokens() {
        o.insert("num_predict".into(), json!(n));
    }
    if let Some(stop) = &req.stop {
        let seqs = stop.to_vec();
        if !seqs.is_empty() {
            o.insert("stop".into(), json!(seqs));
        }
    }
    if let Some(p) = req.presence_penalty {
        o.insert("presence_penalty".into(), json!(p));
    }
    if let Some(p) = req.frequency_penalty {
        o.insert("frequency_penalty".into(), json!(p));
    }
    o
}

/// The tools to send, per `tool_choice` (see the module doc).
fn tools(req: &ChatRequest) -> Option<Value> {
    let tools = req.tools.as_ref().filter(|t| !t.is_empty())?;
    let named = match &req.tool_choice {
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => return None,
        Some(ToolChoice::Named(n)) => Some(n.function.name.as_str()),
        _ => None,
    };
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
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            );
            json!({ "type": "function", "function": f })
        })
        .collect();
    Some(Value::Array(list))
}

/// One message in Ollama's shape; `earlier` are the messages before it (to name tool results).
fn message(m: &Message, i: usize, earlier: &[Message]) -> Result<Value, Error> {
    let role = match m.role {
        Role::System | Role::Developer => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    let mut out = Map::new();
    out.insert("role".into(), json!(role));
    let (text, images) = content(m, i)?;
    out.insert("content".into(), json!(text));
    if !images.is_empty() {
        out.insert("images".into(), json!(images));
    }
    if let Some(calls) = m.tool_calls.as_ref().filter(|c| !c.is_empty()) {
        let list = calls
            .iter()
            .enumerate()
            .map(|(j, c)| {
                let args: Value = serde_json::from_str(&c.function.arguments).map_err(|e| {
                    Error::bad_request(
                        format!("messages[{i}].tool_calls[{j}].function.arguments"),
                        format!("tool call arguments are not JSON: {e}"),
                    )
                })?;
                Ok(json!({
                    "id": c.id,
                    "function": { "name": c.function.name, "arguments": args },
                }))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        out.insert("tool_calls".into(), Value::Array(list));
    }
    if let Some(id) = &m.tool_call_id {
        out.insert("tool_call_id".into(), json!(id));
        let name = earlier
            .iter()
            .rev()
            .flat_map(|e| e.tool_calls.iter().flatten())
            .find(|c| &c.id == id)
            .map(|c| c.function.name.clone());
        if let Some(name) = name {
            out.insert("tool_name".into(), json!(name));
        }
    }
    Ok(Value::Object(out))
}

/// A message's text and its images as bare base64.
fn content(m: &Message, i: usize) -> Result<(String, Vec<String>), Error> {
    match &m.content {
        None => Ok((String::new(), Vec::new())),
        Some(Content::Text(t)) => Ok((t.clone(), Vec::new())),
        Some(Content::Parts(parts)) => {
            let mut text = String::new();
            let mut images = Vec::new();
            for (j, part) in parts.iter().enumerate() {
                let field = || format!("messages[{i}].content[{j}]");
                match part {
                    ContentPart::Text { text: t } => text.push_str(t),
                    ContentPart::ImageUrl { image_url } => {
                        match image_url.source() {
                            Some(ImageSource::Base64 { data, .. }) => images.push(data.to_string()),
                            Some(ImageSource::Url(_)) => return Err(Error::bad_request(
                                field(),
                                "Ollama takes images as base64 data: send a data: URI, not a URL",
                            )),
                            None => {
                                return Err(Error::bad_request(
                                    field(),
                                    "the image data: URI is not base64 (data:<type>;base64,<data>)",
                                ))
                            }
                        }
                    }
                    ContentPart::Other(_) => {
                        return Err(Error::bad_request(
                            field(),
                            "Ollama takes text and image_url parts only",
                        ))
                    }
                }
            }
            Ok((text, images))
        }
    }
}
