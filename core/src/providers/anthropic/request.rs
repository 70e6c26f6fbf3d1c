//! Unified chat request -> Anthropic `CreateMessageParams` body.

use super::DEFAULT_MAX_TOKENS;
use crate::api::{
    ChatRequest, Content, ContentPart, Error, ImageSource, Message, ResponseFormat, Role, Tool,
    ToolChoice, ToolChoiceMode,
};
use crate::providers::system_text;
use serde_json::{json, Map, Value};

/// Builds the JSON body for `POST /v1/messages`.
pub(super) fn build_body(req: &ChatRequest, model: &str, stream: bool) -> Result<Value, Error> {
    if let Some(n) = req.n.filter(|n| *n > 1) {
        return Err(Error::bad_request(
            "n",
            format!("Anthropic returns one answer per request; n = {n} is not supported"),
        ));
    }
    let (system, turns) = conversation(&req.messages)?;

    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(turns));
    body.insert(
        "max_tokens".into(),
        json!(req.max_output_tokens().unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    if let Some(system) = system {
        body.insert("system".into(), system);
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(stop) = &req.stop {
        let seqs = stop.to_vec();
        if !seqs.is_empty() {
            body.insert("stop_sequences".into(), json!(seqs));
        }
    }
    if let Some(user) = &req.user {
        body.insert("metadata".into(), json!({ "user_id": user }));
    }
    if let Some(tools) = req.tools.as_ref().filter(|t| !t.is_empty()) {
        body.insert(
            "tools".into(),
            Value::Array(tools.iter().map(tool).collect()),
        );
    }
    if let Some(choice) = tool_choice(req) {
        body.insert("tool_choice".into(), choice);
    }
    if let Some(ResponseFormat::JsonSchema { json_schema }) = &req.response_format {
        let schema = json_schema.schema.clone().ok_or_else(|| {
            Error::bad_request(
                "response_format.json_schema.schema",
                "a json_schema response format needs a schema",
            )
        })?;
        body.insert(
            "output_config".into(),
            json!({ "format": { "type": "json_schema", "schema": schema } }),
        );
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

/// One Anthropic turn being assembled.
struct Turn {
    role: &'static str,
    blocks: Vec<Value>,
}

/// Splits the conversation into the top-level `system` and alternating user/assistant turns.
fn conversation(messages: &[Message]) -> Result<(Option<Value>, Vec<Value>), Error> {
    let mut system: Vec<String> = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        match m.role {
            Role::System | Role::Developer => {
                let text = system_text(m, i, "Anthropic")?;
                if !text.is_empty() {
                    system.push(text);
                }
            }
            Role::User => push(&mut turns, "user", content_blocks(m.content.as_ref(), i)?),
            Role::Assistant => push(&mut turns, "assistant", assistant_blocks(m, i)?),
            Role::Tool => push(&mut turns, "user", vec![tool_result(m, i)?]),
        }
    }
    let system = match system.len() {
        0 => None,
        1 => system.pop().map(Value::String),
        _ => Some(Value::Array(
            system
                .into_iter()
                .map(|text| json!({ "type": "text", "text": text }))
                .collect(),
        )),
    };
    let turns = turns
        .into_iter()
        .map(|t| json!({ "role": t.role, "content": turn_content(t.blocks) }))
        .collect();
    Ok((system, turns))
}

/// A turn's content: a plain string when it is one text block (the form Anthropic's own SDKs
/// send), the block list otherwise.
fn turn_content(mut blocks: Vec<Value>) -> Value {
    if let [Value::Object(block)] = blocks.as_mut_slice() {
        if block.len() == 2 && block.get("type").and_then(Value::as_str) == Some("text") {
            if let Some(text @ Value::String(_)) = block.remove("text") {
                return text;
            }
        }
    }
    Value::Array(blocks)
}

/// Appends blocks as a turn, merging into the previous turn when the role repeats.
fn push(turns: &mut Vec<Turn>, role: &'static str, blocks: Vec<Value>) {
    if blocks.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some(last) if last.role == role => last.blocks.extend(blocks),
        _ => turns.push(Turn { role, blocks }),
    }
}

/// Text, image and pass-through blocks for message `i`'s content; empty text is skipped
/// (Anthropic rejects empty text blocks).
fn content_blocks(content: Option<&Content>, i: usize) -> Result<Vec<Value>, Error> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(t)) if t.is_empty() => Ok(Vec::new()),
        Some(Content::Text(t)) => Ok(vec![text_block(t)]),
        Some(Content::Parts(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                if let Some(block) = part_block(part, i, j)? {
                    blocks.push(block);
                }
            }
            Ok(blocks)
        }
    }
}

fn text_block(text: &str) -> Value {
    json!({ "type": "text", "text": text })
}

/// One content part as an Anthropic block. Parts switchpoint does not model pass through
/// untouched (an Anthropic-native `document` block, say), except OpenAI's audio and file
/// parts, which Anthropic cannot take in that form.
fn part_block(part: &ContentPart, i: usize, j: usize) -> Result<Option<Value>, Error> {
    match part {
        ContentPart::Text { text } if text.is_empty() => Ok(None),
        ContentPart::Text { text } => Ok(Some(text_block(text))),
        ContentPart::ImageUrl { image_url } => {
            let param = || format!("messages[{i}].content[{j}].image_url");
            let source = match image_url.source() {
                Some(ImageSource::Base64 { media_type, data }) => {
                    json!({ "type": "base64", "media_type": media_type, "data": data })
                }
                Some(ImageSource::Url(url))
                    if url.starts_with("https://") || url.starts_with("http://") =>
                {
                    json!({ "type": "url", "url": url })
                }
                Some(ImageSource::Url(_)) => {
                    return Err(Error::bad_request(
                        param(),
                        "an image URL must be http(s) or a data: URI",
                    ))
                }
                None => {
                    return Err(Error::bad_request(
                        param(),
                        "malformed data URI: expected data:<media type>;base64,<data>",
                    ))
                }
            };
            Ok(Some(json!({ "type": "image", "source": source })))
        }
        ContentPart::Other(map) => {
            let kind = map.get("type").and_then(Value::as_str).unwrap_or("");
            if matches!(kind, "input_audio" | "file") {
                return Err(Error::bad_request(
                    format!("messages[{i}].content[{j}]"),
                    format!("Anthropic does not accept `{kind}` content parts"),
                ));
            }
            Ok(Some(Value::Object(map.clone())))
        }
    }
}

/// An assistant message: thinking blocks sent back as received, then text, then tool calls.
fn assistant_blocks(m: &Message, i: usize) -> Result<Vec<Value>, Error> {
    let mut blocks: Vec<Value> = m
        .extra
        .get("thinking_blocks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    blocks.extend(content_blocks(m.content.as_ref(), i)?);
    for (k, call) in m.tool_calls.iter().flatten().enumerate() {
        let args = call.function.arguments.trim();
        let input = if args.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_str::<Value>(args).map_err(|e| {
                Error::bad_request(
                    format!("messages[{i}].tool_calls[{k}].function.arguments"),
                    format!("tool call arguments are not valid JSON: {e}"),
                )
            })?
        };
        if !input.is_object() {
            return Err(Error::bad_request(
                format!("messages[{i}].tool_calls[{k}].function.arguments"),
                "tool call arguments must be a JSON object",
            ));
        }
        blocks.push(json!({
            "type": "tool_use",
            "id": call.id,
            "name": call.function.name,
            "input": input,
        }));
    }
    Ok(blocks)
}

/// A tool message as a `tool_result` block answering its call.
fn tool_result(m: &Message, i: usize) -> Result<Value, Error> {
    let id = m.tool_call_id.as_deref().ok_or_else(|| {
        Error::bad_request(
            format!("messages[{i}].tool_call_id"),
            "a tool message needs the id of the call it answers",
        )
    })?;
    let mut block = Map::new();
    block.insert("type".into(), json!("tool_result"));
    block.insert("tool_use_id".into(), json!(id));
    match &m.content {
        Some(Content::Text(t)) if !t.is_empty() => {
            block.insert("content".into(), json!(t));
        }
        Some(Content::Parts(_)) => {
            let blocks = content_blocks(m.content.as_ref(), i)?;
            if !blocks.is_empty() {
                block.insert("content".into(), Value::Array(blocks));
            }
        }
        _ => {}
    }
    Ok(Value::Object(block))
}

/// A function tool as an Anthropic custom tool.
fn tool(t: &Tool) -> Value {
    let f = &t.function;
    let mut out = Map::new();
    out.insert("name".into(), json!(f.name));
    if let Some(d) = &f.description {
        out.insert("description".into(), json!(d));
    }
    out.insert(
        "input_schema".into(),
        f.parameters
            .clone()
            .unwrap_or_else(|| json!({ "type": "object", "properties": {} })),
    );
    if f.strict == Some(true) {
        out.insert("strict".into(), Value::Bool(true));
    }
    Value::Object(out)
}

/// `tool_choice` and `parallel_tool_calls` as Anthropic's `tool_choice`.
fn tool_choice(req: &ChatRequest) -> Option<Value> {
    let no_parallel = req.parallel_tool_calls == Some(false);
    let mut choice = match &req.tool_choice {
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => return Some(json!({ "type": "none" })),
        Some(ToolChoice::Mode(ToolChoiceMode::Auto)) => json!({ "type": "auto" }),
        Some(ToolChoice::Mode(ToolChoiceMode::Required)) => json!({ "type": "any" }),
        Some(ToolChoice::Named(named)) => json!({ "type": "tool", "name": named.function.name }),
        None if no_parallel && req.tools.as_ref().is_some_and(|t| !t.is_empty()) => {
            json!({ "type": "auto" })
        }
        None => return None,
    };
    if no_parallel {
        if let Some(obj) = choice.as_object_mut() {
            obj.insert("disable_parallel_tool_use".into(), Value::Bool(true));
        }
    }
    Some(choice)
}
