//! The Responses API request (`POST /responses`), as callers write it.
//!
//! Shapes follow `CreateResponse` in the OpenAI OpenAPI spec. Items and parts are kept as
//! flat structs with a `type` string (plus `extra`), so every item type OpenAI adds later
//! still round-trips to a native Responses provider untouched; the translation to chat
//! decides what it can carry.

use crate::api::JsonMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A Responses API request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesRequest {
    pub model: String,
    /// A string (one user message) or a list of input items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Input>,
    /// A system (developer) message put before the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ResponsesTool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ResponsesToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// `text.format`: text, json_object or json_schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Server-side conversation state: only a native Responses provider has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonMap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Everything else (`reasoning`, `include`, `truncation`, ...), passed through to native
    /// Responses providers.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl ResponsesRequest {
    /// Parses a request from JSON text; errors name the field path.
    pub fn from_json(text: &str) -> Result<Self, crate::api::Error> {
        crate::api::from_json_str(text)
    }
}

/// `input`: one user text or a list of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Input {
    Text(String),
    Items(Vec<InputItem>),
}

/// One input item: a message, a function call the model made, or its output.
#[derive(Debug, Clone, PartialEq)]
pub enum InputItem {
    /// `type: "message"` (or no `type` with a `role`).
    Message(InputMessage),
    /// `type: "function_call"`: a call from an earlier answer.
    FunctionCall(FunctionCallItem),
    /// `type: "function_call_output"`: the caller's result for a call.
    FunctionCallOutput(FunctionCallOutputItem),
    /// Any other item (`reasoning`, `item_reference`, built-in tool calls), kept whole.
    Other(Value),
}

/// A message item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputMessage {
    /// `user`, `assistant`, `system` or `developer`.
    pub role: String,
    pub content: MessageContent,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A message's content: a string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    Text(String),
    Parts(Vec<ContentItem>),
}

impl Default for MessageContent {
    fn default() -> Self {
        MessageContent::Text(String::new())
    }
}

/// One content part: `input_text`, `input_image`, `input_file`, `output_text`, `refusal`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentItem {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `input_image`: a URL or a `data:` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl ContentItem {
    /// An `input_text` part.
    pub fn input_text(text: impl Into<String>) -> Self {
        ContentItem {
            kind: "input_text".into(),
            text: Some(text.into()),
            ..ContentItem::default()
        }
    }
}

/// A `function_call` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallItem {
    pub call_id: String,
    pub name: String,
    /// The arguments as a JSON string, as the model wrote them.
    pub arguments: String,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A `function_call_output` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallOutputItem {
    pub call_id: String,
    /// A string, or a list of content parts.
    pub output: MessageContent,
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl InputItem {
    /// The item's `type` on the wire.
    pub fn kind(&self) -> &str {
        match self {
            InputItem::Message(_) => "message",
            InputItem::FunctionCall(_) => "function_call",
            InputItem::FunctionCallOutput(_) => "function_call_output",
            InputItem::Other(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

impl<'de> Deserialize<'de> for InputItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut value = Value::deserialize(d)?;
        let kind = match value.get("type") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(D::Error::custom("`type` must be a string")),
            None if value.get("role").is_some() => "message".to_string(),
            None => return Err(D::Error::custom("an input item needs `type` or `role`")),
        };
        let strip = |v: &mut Value| {
            if let Some(o) = v.as_object_mut() {
                o.remove("type");
            }
        };
        Ok(match kind.as_str() {
            "message" => {
                strip(&mut value);
                InputItem::Message(serde_json::from_value(value).map_err(D::Error::custom)?)
            }
            "function_call" => {
                strip(&mut value);
                InputItem::FunctionCall(serde_json::from_value(value).map_err(D::Error::custom)?)
            }
            "function_call_output" => {
                strip(&mut value);
                InputItem::FunctionCallOutput(
                    serde_json::from_value(value).map_err(D::Error::custom)?,
                )
            }
            _ => InputItem::Other(value),
        })
    }
}

impl Serialize for InputItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let tagged = |kind: &str, v: Result<Value, serde_json::Error>| {
            let mut v = v.map_err(S::Error::custom)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("type".into(), Value::String(kind.into()));
            }
            Ok::<Value, S::Error>(v)
        };
        let value = match self {
            InputItem::Message(m) => tagged("message", serde_json::to_value(m))?,
            InputItem::FunctionCall(f) => tagged("function_call", serde_json::to_value(f))?,
            InputItem::FunctionCallOutput(f) => {
                tagged("function_call_output", serde_json::to_value(f))?
            }
            InputItem::Other(v) => v.clone(),
        };
        value.serialize(s)
    }
}

/// A tool offered to the model: `function` tools translate to chat; built-in tools
/// (`web_search`, `file_search`, ...) only pass through to a native provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesTool {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `tool_choice`: `"none"`, `"auto"`, `"required"`, or an object (`{"type":"function","name":..}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponsesToolChoice {
    Mode(String),
    Object(ToolChoiceObject),
}

/// The object form of `tool_choice`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolChoiceObject {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// The `text` parameter: the output format (and future text options in `extra`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TextFormat>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `text.format`: `text`, `json_object`, or `json_schema` (fields flat, unlike chat).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_parse_by_type_and_messages_without_type() {
        let req: ResponsesRequest = serde_json::from_value(json!({
            "model": "gpt-4.1",
            "input": [
                {"role": "user", "content": "hi"},
                {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "ok"},
                {"type": "reasoning", "id": "rs_1", "summary": []}
            ],
            "reasoning": {"effort": "low"}
        }))
        .expect("parses");
        let Some(Input::Items(items)) = &req.input else {
            panic!("items expected")
        };
        let kinds: Vec<&str> = items.iter().map(InputItem::kind).collect();
        assert_eq!(
            kinds,
            [
                "message",
                "function_call",
                "function_call_output",
                "reasoning"
            ]
        );
        assert_eq!(req.extra["reasoning"], json!({"effort": "low"}));
        let back = serde_json::to_value(&req).expect("serializes");
        assert_eq!(back["input"][0]["type"], "message");
        assert_eq!(back["input"][1]["call_id"], "c1");
        assert_eq!(
            back["input"][3],
            json!({"type": "reasoning", "id": "rs_1", "summary": []})
        );
    }
}
