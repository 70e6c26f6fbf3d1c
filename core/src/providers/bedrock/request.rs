//! Unified chat request -> Bedrock `ConverseRequest` body (`tests/specs/bedrock/service-2.json`).

use crate::api::{
    ChatRequest, Content, ContentPart, Error, ImageSource, Message, ResponseFormat, Role, Tool,
    ToolChoice, ToolChoiceMode,
};
use serde_json::{json, Map, Value};

/// Builds the JSON body for `POST /model/{modelId}/converse` (and `/converse-stream`, which
/// takes the same body). The model id travels in the URL, not the body.
pub(super) fn converse_body(req: &ChatRequest) -> Result<Value, Error> {
    if let Some(n) = req.n.filter(|n| *n > 1) {
        return Err(Error::bad_request(
            "n",
            format!("Bedrock Converse returns one answer per request; n = {n} is not supported"),
        ));
    }
    let (system, messages) = conversation(&req.messages)?;
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    if !system.is_empty() {
        body.insert(
            "system".into(),
            Value::Array(system.into_iter().map(|t| json!({ "text": t })).collect()),
        );
    }
    let mut inference = Map::new();
    if let Some(max) = req.max_output_tokens() {
        inference.insert("maxTokens".into(), json!(max));
    }
    if let Some(t) = req.temperature {
        inference.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        inference.insert("topP".into(), json!(p));
    }
    if let Some(stop) = &req.stop {
        let seqs = stop.to_vec();
        if !seqs.is_empty() {
            inference.insert("stopSequences".into(), json!(seqs));
        }
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if let Some(config) = tool_config(req) {
        body.insert("toolConfig".into(), config);
    }
    if let Some(ResponseFormat::JsonSchema { json_schema }) = &req.response_format {
        let schema = json_schema.schema.as_ref().ok_or_else(|| {
            Error::bad_request(
                "response_format.json_schema.schema",
                "a json_schema response format needs a schema",
            )
        })?;
        let mut def = Map::new();
        def.insert("schema".into(), Value::String(schema.to_string()));
        def.insert("name".into(), json!(json_schema.name));
        if let Some(d) = &json_schema.description {
            def.insert("description".into(), json!(d));
        }
        body.insert(
            "outputConfig".into(),
            json!({ "textFormat": { "type": "json_schema", "structure": { "jsonSchema": def } } }),
        );
    }
    if let Some(extra) = &req.extra_body {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(body))
}

/// System texts, and user/assistant messages with consecutive same-role turns merged (Converse
/// requires them to alternate); tool results join the user turn that follows the call.
fn conversation(messages: &[Message]) -> Result<(Vec<String>, Vec<Value>), Error> {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let (role, blocks) = match m.role {
            Role::System | Role::Developer => {
                let text = system_text(m, i)?;
                if !text.is_empty() {
                    system.push(text);
                }
                continue;
            }
            Role::User => ("user", content_blocks(m.content.as_ref(), i)?),
            Role::Assistant => ("assistant", assistant_blocks(m, i)?),
            Role::Tool => ("user", vec![tool_result(m, i)?]),
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((r, b)) if *r == role => b.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let messages = turns
        .into_iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect();
    Ok((system, messages))
}

/// A system or developer message's text (Converse's `system` blocks here carry text).
fn system_text(m: &Message, i: usize) -> Result<String, Error> {
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
                            "Bedrock takes only text in system and developer messages",
                        ))
                    }
                }
            }
            Ok(text)
        }
    }
}

/// Text and image blocks of message `i` (empty text is skipped: Converse rejects it).
fn content_blocks(content: Option<&Content>, i: usize) -> Result<Vec<Value>, Error> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(t)) if t.is_empty() => Ok(Vec::new()),
        Some(Content::Text(t)) => Ok(vec![json!({ "text": t })]),
        Some(Content::Parts(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                match part {
                    ContentPart::Text { text } if text.is_empty() => {}
                    ContentPart::Text { text } => blocks.push(json!({ "text": text })),
                    ContentPart::ImageUrl { image_url } => {
                        blocks.push(image_block(image_url.source(), i, j)?)
                    }
                    // A Converse-native block (document, video, cachePoint) passes through.
                    ContentPart::Other(map) => {
                        let kind = map.get("type").and_then(Value::as_str).unwrap_or("");
                        if matches!(kind, "input_audio" | "file") {
                            return Err(Error::bad_request(
                                format!("messages[{i}].content[{j}]"),
                                format!("Bedrock Converse does not accept `{kind}` content parts"),
                            ));
                        }
                        blocks.push(Value::Object(map.clone()));
                    }
                }
            }
            Ok(blocks)
        }
    }
}

/// An `image` block: Converse takes the bytes (base64 in JSON) and a format, not URLs.
fn image_block(source: Option<ImageSource<'_>>, i: usize, j: usize) -> Result<Value, Error> {
    let param = format!("messages[{i}].content[{j}].image_url");
    match source {
        Some(ImageSource::Base64 { media_type, data }) => {
            let format = match media_type {
                "image/png" => "png",
                "image/jpeg" | "image/jpg" => "jpeg",
                "image/gif" => "gif",
                "image/webp" => "webp",
                other => {
                    return Err(Error::bad_request(
                        param,
                        format!("Bedrock takes png, jpeg, gif or webp images, not `{other}`"),
                    ))
                }
            };
            Ok(json!({ "image": { "format": format, "source": { "bytes": data } } }))
        }
        Some(ImageSource::Url(_)) => Err(Error::bad_request(
            param,
            "Bedrock Converse takes images as data: URIs (base64), not URLs",
        )),
        None => Err(Error::bad_request(
            param,
            "malformed data URI: expected data:<media type>;base64,<data>",
        )),
    }
}

/// An assistant message: text, then its tool calls as `toolUse` blocks.
fn assistant_blocks(m: &Message, i: usize) -> Result<Vec<Value>, Error> {
    let mut blocks = content_blocks(m.content.as_ref(), i)?;
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
        blocks.push(json!({
            "toolUse": { "toolUseId": call.id, "name": call.function.name, "input": input }
        }));
    }
    Ok(blocks)
}

/// A tool message as a `toolResult` block answering its call.
fn tool_result(m: &Message, i: usize) -> Result<Value, Error> {
    let id = m.tool_call_id.as_deref().ok_or_else(|| {
        Error::bad_request(
            format!("messages[{i}].tool_call_id"),
            "a tool message needs the id of the call it answers",
        )
    })?;
    let content = match &m.content {
        Some(Content::Parts(_)) => content_blocks(m.content.as_ref(), i)?,
        Some(Content::Text(t)) => vec![json!({ "text": t })],
        None => vec![json!({ "text": "" })],
    };
    Ok(json!({ "toolResult": { "toolUseId": id, "content": content } }))
}

/// A function tool as a Converse `toolSpec`.
fn tool_spec(t: &Tool) -> Value {
    let f = &t.function;
    let mut spec = Map::new();
    spec.insert("name".into(), json!(f.name));
    if let Some(d) = f.description.as_ref().filter(|d| !d.is_empty()) {
        spec.insert("description".into(), json!(d));
    }
    let schema = f
        .parameters
        .clone()
        .unwrap_or_else(|| json!({ "type": "object", "properties": {} }));
    spec.insert("inputSchema".into(), json!({ "json": schema }));
    if f.strict == Some(true) {
        spec.insert("strict".into(), Value::Bool(true));
    }
    json!({ "toolSpec": spec })
}

/// `toolConfig` from `tools` and `tool_choice`. Converse has no "none" choice: with
/// `tool_choice: none` the tools are left out, unless the conversation already holds tool
/// calls (Converse then requires `toolConfig`), where they are sent without a choice.
fn tool_config(req: &ChatRequest) -> Option<Value> {
    let tools = req.tools.as_ref().filter(|t| !t.is_empty())?;
    let choice = match &req.tool_choice {
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => {
            let has_tool_blocks = req.messages.iter().any(|m| {
                m.role == Role::Tool || m.tool_calls.as_ref().is_some_and(|c| !c.is_empty())
            });
            if !has_tool_blocks {
                return None;
            }
            None
        }
        Some(ToolChoice::Mode(ToolChoiceMode::Auto)) => Some(json!({ "auto": {} })),
        Some(ToolChoice::Mode(ToolChoiceMode::Required)) => Some(json!({ "any": {} })),
        Some(ToolChoice::Named(named)) => Some(json!({ "tool": { "name": named.function.name } })),
        None => None,
    };
    let mut config = Map::new();
    config.insert(
        "tools".into(),
        Value::Array(tools.iter().map(tool_spec).collect()),
    );
    if let Some(c) = choice {
        config.insert("toolChoice".into(), c);
    }
    Some(Value::Object(config))
}
