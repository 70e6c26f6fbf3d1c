//! The unified chat request as a Gemini `GenerateContentRequest` body.
//!
//! - `system` and `developer` messages, wherever they appear, join `systemInstruction`
//!   (Gemini takes system text only, so images there are a bad request).
//! - `user` -> role `user`, `assistant` -> role `model`; `tool` results -> role `user` with
//!   `functionResponse` parts named after the call they answer (looked up by
//!   `tool_call_id` in the assistant messages before them). Consecutive turns of one role
//!   are merged, so parallel tool results form one turn, as Gemini expects.
//! - A replayed `functionCall` carries no `thoughtSignature` (the unified tool call has no
//!   field for it), and Gemini 3 and later reject a function-call turn without one. For
//!   those models the first `functionCall` part of each model turn gets Google's documented
//!   placeholder signature [`SKIP_SIGNATURE`] (ai.google.dev/gemini-api/docs/thought-signatures).
//! - Not sent (Gemini has no equivalent): `parallel_tool_calls`, `user`, `metadata`,
//!   `stream_options` (Gemini always reports usage), and unknown OpenAI fields in `extra`.
//! - `extra_body` keys are merged into the top level last: a key whose value and ours are
//!   both objects (`generationConfig`, `toolConfig`) has its members merged in, the caller's
//!   members winning; any other key replaces ours untouched.

use super::schema::to_gemini_schema;
use crate::api::{
    ChatRequest, Content, ContentPart, Error, ImageSource, ImageUrl, Message, ResponseFormat, Role,
    Tool, ToolChoice, ToolChoiceMode,
};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Google's placeholder for a `thoughtSignature` the client does not have.
pub(super) const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// The `GenerateContentRequest` body for `req` sent to `model`.
pub(super) fn chat_body(req: &ChatRequest, model: &str) -> Result<Value, Error> {
    let mut body = Map::new();
    let (system, contents) = conversation(&req.messages, needs_signature(model))?;
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({ "parts": system }));
    }
    body.insert("contents".into(), Value::Array(contents));
    if let Some(tools) = req.tools.as_deref().filter(|t| !t.is_empty()) {
        body.insert("tools".into(), tool_declarations(tools));
    }
    if let Some(choice) = &req.tool_choice {
        body.insert("toolConfig".into(), tool_config(choice));
    }
    let config = generation_config(req);
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    if let Some(extra) = &req.extra_body {
        merge_extra(&mut body, extra);
    }
    Ok(Value::Object(body))
}

/// Whether the model validates thought signatures on replayed function calls (Gemini 3+).
fn needs_signature(model: &str) -> bool {
    let model = model.strip_prefix("models/").unwrap_or(model);
    match model.strip_prefix("gemini-") {
        Some(rest) => {
            !(rest.starts_with("1.") || rest.starts_with("2.") || rest.starts_with("pro"))
        }
        None => false,
    }
}

/// One `Content` turn under construction.
struct Turn {
    role: &'static str,
    parts: Vec<Value>,
}

/// System parts and the `contents` turns.
fn conversation(messages: &[Message], sign_calls: bool) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let mut system = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    let mut call_names: HashMap<&str, &str> = HashMap::new();
    for (i, msg) in messages.iter().enumerate() {
        match msg.role {
            Role::System | Role::Developer => system.extend(system_parts(msg, i)?),
            Role::User => {
                let parts = match &msg.content {
                    Some(c) => content_parts(c, i)?,
                    None => Vec::new(),
                };
                push_turn(&mut turns, "user", parts);
            }
            Role::Assistant => {
                let mut parts = match &msg.content {
                    Some(c) => content_parts(c, i)?,
                    None => Vec::new(),
                };
                let mut signed = false;
                for (k, call) in msg.tool_calls.iter().flatten().enumerate() {
                    call_names.insert(call.id.as_str(), call.function.name.as_str());
                    let args = call_arguments(&call.function.arguments, i, k)?;
                    let mut part = Map::new();
                    part.insert(
                        "functionCall".into(),
                        json!({ "name": call.function.name, "args": args }),
                    );
                    if sign_calls && !signed {
                        part.insert("thoughtSignature".into(), json!(SKIP_SIGNATURE));
                        signed = true;
                    }
                    parts.push(Value::Object(part));
                }
                push_turn(&mut turns, "model", parts);
            }
            Role::Tool => {
                let id = msg.tool_call_id.as_deref().ok_or_else(|| {
                    Error::bad_request(
                        format!("messages[{i}].tool_call_id"),
                        "a tool message needs the tool_call_id of the call it answers",
                    )
                })?;
                let name = call_names.get(id).ok_or_else(|| {
                    Error::bad_request(
                        format!("messages[{i}].tool_call_id"),
                        format!("no earlier assistant message has a tool call with id `{id}`"),
                    )
                })?;
                let part = json!({
                    "functionResponse": { "name": name, "response": tool_response(&msg.text_content()) }
                });
                push_turn(&mut turns, "user", vec![part]);
            }
        }
    }
    let contents = turns
        .into_iter()
        .map(|t| json!({ "role": t.role, "parts": t.parts }))
        .collect();
    Ok((system, contents))
}

/// Appends parts to the last turn when it has the same role, else starts a turn; empty
/// part lists are dropped (Gemini rejects a turn without parts).
fn push_turn(turns: &mut Vec<Turn>, role: &'static str, parts: Vec<Value>) {
    if parts.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some(last) if last.role == role => last.parts.extend(parts),
        _ => turns.push(Turn { role, parts }),
    }
}

/// A system or developer message as text parts.
fn system_parts(msg: &Message, i: usize) -> Result<Vec<Value>, Error> {
    match &msg.content {
        None => Ok(Vec::new()),
        Some(Content::Text(t)) => Ok(text_part(t).into_iter().collect()),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::new();
            for (j, part) in parts.iter().enumerate() {
                match part {
                    ContentPart::Text { text } => out.extend(text_part(text)),
                    _ => {
                        return Err(Error::bad_request(
                            format!("messages[{i}].content[{j}]"),
                            "Gemini system instructions take text only",
                        ))
                    }
                }
            }
            Ok(out)
        }
    }
}

/// User or assistant content as text, `inlineData` and `fileData` parts.
fn content_parts(content: &Content, i: usize) -> Result<Vec<Value>, Error> {
    match content {
        Content::Text(t) => Ok(text_part(t).into_iter().collect()),
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                match part {
                    ContentPart::Text { text } => out.extend(text_part(text)),
                    ContentPart::ImageUrl { image_url } => out.push(image_part(image_url, i, j)?),
                    ContentPart::Other(other) => {
                        let kind = other
                            .get("type")
                            .and_then(Value::as_str)
                            .unwrap_or("unknown");
                        return Err(Error::bad_request(
                            format!("messages[{i}].content[{j}]"),
                            format!("content parts of type `{kind}` are not supported for Gemini"),
                        ));
                    }
                }
            }
            Ok(out)
        }
    }
}

/// A `{"text"}` part, none for empty text (Gemini rejects empty text parts).
fn text_part(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({ "text": text }))
}

/// A data URI as `inlineData`, an http(s) URL as `fileData` with a MIME type from the extension.
fn image_part(image: &ImageUrl, i: usize, j: usize) -> Result<Value, Error> {
    match image.source() {
        Some(ImageSource::Base64 { media_type, data }) if !media_type.is_empty() => {
            Ok(json!({ "inlineData": { "mimeType": media_type, "data": data } }))
        }
        Some(ImageSource::Url(url)) => {
            Ok(json!({ "fileData": { "mimeType": image_mime(url), "fileUri": url } }))
        }
        _ => Err(Error::bad_request(
            format!("messages[{i}].content[{j}].image_url"),
            "malformed data URI: expected `data:<media type>;base64,<data>`",
        )),
    }
}

/// The image MIME type a URL's extension names; `image/jpeg` when it names none known.
fn image_mime(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        _ => "image/jpeg",
    }
}

/// A tool call's JSON-string arguments as the object `functionCall.args` takes.
fn call_arguments(arguments: &str, i: usize, k: usize) -> Result<Value, Error> {
    let param = || format!("messages[{i}].tool_calls[{k}].function.arguments");
    if arguments.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(Error::bad_request(
            param(),
            "tool call arguments must be a JSON object for Gemini",
        )),
        Err(e) => Err(Error::bad_request(
            param(),
            format!("tool call arguments are not valid JSON: {e}"),
        )),
    }
}

/// A tool result as `functionResponse.response`: the JSON object it is, or `{"content": text}`.
fn tool_response(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({ "content": text }),
    }
}

/// `tools: [{"functionDeclarations": [...]}]`.
fn tool_declarations(tools: &[Tool]) -> Value {
    let declarations: Vec<Value> = tools
        .iter()
        .map(|t| {
            let mut d = Map::new();
            d.insert("name".into(), json!(t.function.name));
            // The spec marks `description` required; proto3 cannot tell "" from unset, so
            // an empty one satisfies the schema without changing what the server sees.
            d.insert(
                "description".into(),
                json!(t.function.description.as_deref().unwrap_or("")),
            );
            if let Some(params) = t.function.parameters.as_ref().map(to_gemini_schema) {
                // Gemini rejects an OBJECT without properties: a function without
                // parameters is declared without `parameters`.
                let empty_object = params
                    .get("properties")
                    .is_none_or(|p| p.as_object().is_some_and(Map::is_empty))
                    && params.get("type").and_then(Value::as_str) == Some("OBJECT");
                if !empty_object {
                    d.insert("parameters".into(), params);
                }
            }
            Value::Object(d)
        })
        .collect();
    json!([{ "functionDeclarations": declarations }])
}

/// `toolConfig.functionCallingConfig` for `tool_choice`.
fn tool_config(choice: &ToolChoice) -> Value {
    let config = match choice {
        ToolChoice::Mode(ToolChoiceMode::None) => json!({ "mode": "NONE" }),
        ToolChoice::Mode(ToolChoiceMode::Auto) => json!({ "mode": "AUTO" }),
        ToolChoice::Mode(ToolChoiceMode::Required) => json!({ "mode": "ANY" }),
        ToolChoice::Named(named) => {
            json!({ "mode": "ANY", "allowedFunctionNames": [named.function.name] })
        }
    };
    json!({ "functionCallingConfig": config })
}

/// `generationConfig` from the sampling, length, stop and format parameters.
fn generation_config(req: &ChatRequest) -> Map<String, Value> {
    let mut c = Map::new();
    let mut set = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            c.insert(key.into(), v);
        }
    };
    set("temperature", req.temperature.map(|v| json!(v)));
    set("topP", req.top_p.map(|v| json!(v)));
    set("maxOutputTokens", req.max_output_tokens().map(|v| json!(v)));
    set(
        "stopSequences",
        req.stop.as_ref().map(|s| json!(s.to_vec())),
    );
    set("candidateCount", req.n.map(|v| json!(v)));
    set("seed", req.seed.map(|v| json!(v)));
    set("presencePenalty", req.presence_penalty.map(|v| json!(v)));
    set("frequencyPenalty", req.frequency_penalty.map(|v| json!(v)));
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            set("responseMimeType", Some(json!("application/json")));
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            set("responseMimeType", Some(json!("application/json")));
            // `responseJsonSchema` takes standard JSON Schema as is (unlike `responseSchema`,
            // which takes the OpenAPI subset).
            set("responseJsonSchema", json_schema.schema.clone());
        }
        Some(ResponseFormat::Text) | None => {}
    }
    c
}

/// Merges `extra_body` into the top level (see the module doc for the rule).
fn merge_extra(body: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (key, value) in extra {
        match (body.get_mut(key), value) {
            (Some(Value::Object(ours)), Value::Object(theirs)) => {
                for (k, v) in theirs {
                    ours.insert(k.clone(), v.clone());
                }
            }
            _ => {
                body.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_placeholder_only_for_gemini_3_and_later() {
        assert!(!needs_signature("gemini-2.5-flash"));
        assert!(!needs_signature("models/gemini-1.5-pro"));
        assert!(!needs_signature("gemini-pro"));
        assert!(!needs_signature("gemma-3-27b-it"));
        assert!(needs_signature("gemini-3-pro-preview"));
        assert!(needs_signature("gemini-3.1-flash"));
        assert!(needs_signature("gemini-flash-latest"));
    }

    #[test]
    fn guesses_image_types_from_extensions() {
        assert_eq!(image_mime("https://x.test/a.PNG?size=2"), "image/png");
        assert_eq!(image_mime("https://x.test/a.webp#f"), "image/webp");
        assert_eq!(image_mime("https://x.test/a.gif"), "image/gif");
        assert_eq!(image_mime("https://x.test/a.jpeg"), "image/jpeg");
        assert_eq!(image_mime("https://x.test/photo"), "image/jpeg");
    }

    #[test]
    fn tool_results_wrap_non_objects() {
        assert_eq!(tool_response(r#"{"t":21}"#), json!({"t": 21}));
        assert_eq!(tool_response("[1,2]"), json!({"content": "[1,2]"}));
        assert_eq!(tool_response("sunny"), json!({"content": "sunny"}));
    }
}
