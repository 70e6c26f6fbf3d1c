//! The provider-neutral view of a chat request and the deterministic reply planned from it.

use serde_json::{Map, Value};

use crate::fault::{Fault, FaultError};

/// A tool offered to the model.
#[derive(Clone, Debug)]
pub(crate) struct ToolDef {
    pub name: String,
    /// JSON schema of the arguments (its `properties` decide the mock's arguments).
    pub schema: Value,
}

/// How the request lets the model use tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ToolMode {
    Auto,
    None,
    /// Some tool must be called.
    Required,
    /// This tool must be called.
    Named(String),
}

/// What the conversation's last message is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Last {
    User,
    /// A tool result, with its content as text.
    ToolResult(String),
    Other,
}

/// Everything the reply depends on, extracted from any format.
#[derive(Clone, Debug)]
pub(crate) struct Conversation {
    pub last: Last,
    /// Text of the last user message (text parts joined by a space).
    pub user_text: String,
    /// Words across all message texts and the system prompt.
    pub prompt_words: u64,
    pub tools: Vec<ToolDef>,
    pub mode: ToolMode,
    /// Output cap in tokens (= words here).
    pub cap: Option<u64>,
}

/// A tool call the mock makes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ToolCall {
    pub name: String,
    pub arguments: Value,
}

/// What the reply consists of.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Output {
    Text {
        text: String,
        truncated: bool,
    },
    Tools(Vec<ToolCall>),
    /// Refused by the content filter (fault `error: content_filter`).
    Filtered,
}

/// Token counts for one answer (one choice), before each format arranges them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Words of the prompt (not counting cached tokens).
    pub prompt: u64,
    pub cached: u64,
    pub cache_write: u64,
    /// Visible completion tokens: reply words, or 1 per tool call.
    pub completion: u64,
    pub reasoning: u64,
}

/// The planned reply.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Plan {
    pub output: Output,
    pub usage: Usage,
}

/// Counts whitespace-separated words, the mock's notion of a token.
pub(crate) fn word_count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Splits text into stream pieces: each word with the whitespace after it (leading whitespace
/// goes with the first piece), so the pieces concatenate back to the exact text.
pub(crate) fn word_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    let mut seen_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_word = false;
        } else {
            if !in_word && seen_word {
                pieces.push(&text[start..i]);
                start = i;
            }
            in_word = true;
            seen_word = true;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// Splits a tool's argument JSON into at least two fragments (when it has two characters),
/// the way providers stream arguments.
pub(crate) fn json_fragments(json: &str) -> Vec<String> {
    let chars: Vec<char> = json.chars().collect();
    let size = chars.len().div_ceil(2).clamp(1, 12);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// Plans the deterministic reply for a conversation under an optional fault.
pub(crate) fn plan(conv: &Conversation, fault: Option<&Fault>) -> Plan {
    let mut usage = Usage {
        prompt: conv.prompt_words,
        cached: fault.and_then(|f| f.cached_tokens).unwrap_or(0),
        cache_write: fault.and_then(|f| f.cache_write_tokens).unwrap_or(0),
        completion: 0,
        reasoning: fault.and_then(|f| f.reasoning_tokens).unwrap_or(0),
    };
    if fault.and_then(|f| f.error) == Some(FaultError::ContentFilter) {
        return Plan {
            output: Output::Filtered,
            usage,
        };
    }
    let calls = tool_calls(conv);
    if !calls.is_empty() {
        usage.completion = calls.len() as u64;
        return Plan {
            output: Output::Tools(calls),
            usage,
        };
    }
    let full = match &conv.last {
        Last::ToolResult(content) => format!("tool result: {content}"),
        _ => conv.user_text.clone(),
    };
    let pieces = word_pieces(&full);
    let words = word_count(&full);
    let (text, truncated) = match conv.cap {
        Some(cap) if cap < words => {
            let kept: String = pieces.iter().take(cap as usize).copied().collect();
            (kept.trim_end().to_string(), true)
        }
        _ => (full.clone(), false),
    };
    usage.completion = word_count(&text);
    Plan {
        output: Output::Text { text, truncated },
        usage,
    }
}

fn tool_calls(conv: &Conversation) -> Vec<ToolCall> {
    if conv.tools.is_empty() || conv.mode == ToolMode::None || conv.last != Last::User {
        return Vec::new();
    }
    let chosen: Vec<&ToolDef> = match &conv.mode {
        ToolMode::Named(name) => conv.tools.iter().filter(|t| &t.name == name).collect(),
        mode => {
            let mentioned: Vec<&ToolDef> = conv
                .tools
                .iter()
                .filter(|t| !t.name.is_empty() && conv.user_text.contains(&t.name))
                .collect();
            if mentioned.is_empty() && *mode == ToolMode::Required {
                conv.tools.iter().take(1).collect()
            } else {
                mentioned
            }
        }
    };
    chosen
        .into_iter()
        .map(|tool| ToolCall {
            name: tool.name.clone(),
            arguments: arguments(&tool.schema, &conv.user_text),
        })
        .collect()
}

/// One argument per schema property: strings get the user text, numbers 42, booleans true.
fn arguments(schema: &Value, user_text: &str) -> Value {
    let mut args = Map::new();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            args.insert(name.clone(), sample(property, user_text));
        }
    }
    Value::Object(args)
}

fn sample(property: &Value, user_text: &str) -> Value {
    let kind = match property.get("type") {
        Some(Value::String(kind)) => kind.to_ascii_lowercase(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| !k.eq_ignore_ascii_case("null"))
            .unwrap_or("null")
            .to_ascii_lowercase(),
        _ => String::new(),
    };
    match kind.as_str() {
        "string" => Value::String(user_text.to_string()),
        "integer" | "number" => Value::from(42),
        "boolean" => Value::Bool(true),
        "array" => Value::Array(Vec::new()),
        "object" => Value::Object(Map::new()),
        _ => Value::Null,
    }
}

/// Joins the `text` of text parts; used by every format's extractor.
pub(crate) fn join_texts<'a>(texts: impl Iterator<Item = &'a str>) -> String {
    texts.collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conv(text: &str) -> Conversation {
        Conversation {
            last: Last::User,
            user_text: text.into(),
            prompt_words: word_count(text),
            tools: Vec::new(),
            mode: ToolMode::Auto,
            cap: None,
        }
    }

    #[test]
    fn pieces_rebuild_the_text() {
        let text = "  Hello,  wide\nworld ";
        let pieces = word_pieces(text);
        assert_eq!(pieces, vec!["  Hello,  ", "wide\n", "world "]);
        assert_eq!(pieces.concat(), text);
        assert!(word_pieces("").is_empty());
    }

    #[test]
    fn fragments_are_at_least_two() {
        assert_eq!(json_fragments("{}"), vec!["{", "}"]);
        let long = r#"{"city":"Paris","days":42}"#;
        let parts = json_fragments(long);
        assert!(parts.len() >= 2);
        assert_eq!(parts.concat(), long);
    }

    #[test]
    fn cap_truncates_words() {
        let mut c = conv("one two three four");
        c.cap = Some(2);
        let plan = plan(&c, None);
        assert_eq!(
            plan.output,
            Output::Text {
                text: "one two".into(),
                truncated: true
            }
        );
        assert_eq!(plan.usage.completion, 2);
    }

    #[test]
    fn tools_by_mention_forced_and_named() {
        let schema = json!({"type":"object","properties":{
            "city":{"type":"string"},"days":{"type":"integer"},"metric":{"type":["boolean","null"]},
            "tags":{"type":"array"},"opts":{"type":"object"}}});
        let mut c = conv("use get_time then get_weather");
        c.tools = vec![
            ToolDef {
                name: "get_weather".into(),
                schema: schema.clone(),
            },
            ToolDef {
                name: "get_time".into(),
                schema: json!({}),
            },
            ToolDef {
                name: "other".into(),
                schema: json!({}),
            },
        ];
        let Output::Tools(calls) = plan(&c, None).output else {
            panic!("tools expected")
        };
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "get_weather");
        assert_eq!(
            calls[0].arguments,
            json!({"city":"use get_time then get_weather","days":42,"metric":true,"tags":[],"opts":{}})
        );
        assert_eq!(calls[1].name, "get_time");

        c.user_text = "nothing named".into();
        assert!(matches!(plan(&c, None).output, Output::Text { .. }));
        c.mode = ToolMode::Required;
        let Output::Tools(calls) = plan(&c, None).output else {
            panic!("forced")
        };
        assert_eq!(calls[0].name, "get_weather");
        c.mode = ToolMode::Named("other".into());
        let Output::Tools(calls) = plan(&c, None).output else {
            panic!("named")
        };
        assert_eq!(calls[0].name, "other");
        c.mode = ToolMode::None;
        c.user_text = "get_weather".into();
        assert!(matches!(plan(&c, None).output, Output::Text { .. }));
    }

    #[test]
    fn tool_result_is_echoed() {
        let mut c = conv("ignored");
        c.last = Last::ToolResult("sunny".into());
        let plan = plan(&c, None);
        assert_eq!(
            plan.output,
            Output::Text {
                text: "tool result: sunny".into(),
                truncated: false
            }
        );
    }
}
