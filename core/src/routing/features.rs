//! What a request needs from a target, computed once per request: capabilities, an
//! estimate of its tokens, and the features rules match on.

use crate::api::{ChatRequest, Content, ContentPart, ResponseFormat};
use serde_json::Value;

/// Capabilities as a bit set, so checking a target is one AND.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Caps(u8);

impl Caps {
    pub const NONE: Caps = Caps(0);
    /// Function/tool calling.
    pub const TOOLS: Caps = Caps(1);
    /// Image input.
    pub const VISION: Caps = Caps(2);
    /// Structured output against a JSON schema.
    pub const JSON_SCHEMA: Caps = Caps(4);
    pub const ALL: Caps = Caps(7);

    /// Both sets together.
    pub const fn union(self, other: Caps) -> Caps {
        Caps(self.0 | other.0)
    }

    /// The capabilities in both sets.
    pub const fn intersect(self, other: Caps) -> Caps {
        Caps(self.0 & other.0)
    }

    /// Whether every capability in `need` is in `self`.
    #[inline]
    pub const fn covers(self, need: Caps) -> bool {
        self.0 & need.0 == need.0
    }

    /// The capabilities of `self` missing from `have`, each with its config name.
    pub fn missing_from(self, have: Caps) -> impl Iterator<Item = (Caps, &'static str)> {
        [
            (Caps::TOOLS, "tools"),
            (Caps::VISION, "vision"),
            (Caps::JSON_SCHEMA, "json_schema"),
        ]
        .into_iter()
        .filter(move |(c, _)| self.covers(*c) && !have.covers(*c))
    }
}

/// Output tokens assumed for cost estimates when the request sets no cap.
pub const DEFAULT_COMPLETION_ESTIMATE: u64 = 256;

/// The facts about a request that routing decides on.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Features {
    /// Capabilities the request needs.
    pub needs: Caps,
    pub has_tools: bool,
    pub has_images: bool,
    /// Asks for JSON output (`json_object` or `json_schema`).
    pub json: bool,
    /// Asks for medium or high reasoning effort.
    pub reasoning: bool,
    /// Estimated prompt tokens (about 4 characters a token, plus per-message and image costs).
    pub prompt_tokens: u64,
    /// The output cap the request set.
    pub max_output: Option<u64>,
}

impl Features {
    /// A request with no needs (embeddings).
    pub fn none() -> Features {
        Features::default()
    }

    /// Reads a chat request once.
    pub fn of(req: &ChatRequest) -> Features {
        let mut chars = 0usize;
        let mut images = 0u64;
        for m in &req.messages {
            chars += 16; // role and framing, about 4 tokens
            match &m.content {
                Some(Content::Text(t)) => chars += t.len(),
                Some(Content::Parts(parts)) => {
                    for p in parts {
                        match p {
                            ContentPart::Text { text } => chars += text.len(),
                            ContentPart::ImageUrl { .. } => images += 1,
                            ContentPart::Other(_) => {}
                        }
                    }
                }
                None => {}
            }
            for c in m.tool_calls.iter().flatten() {
                chars += c.function.name.len() + c.function.arguments.len();
            }
        }
        let tools = req.tools.as_deref().unwrap_or_default();
        for t in tools {
            chars += t.function.name.len()
                + t.function.description.as_deref().map_or(0, str::len)
                + t.function.parameters.as_ref().map_or(0, json_len);
        }
        let has_tools = !tools.is_empty();
        let has_images = images > 0;
        let schema = matches!(req.response_format, Some(ResponseFormat::JsonSchema { .. }));
        let json = schema || matches!(req.response_format, Some(ResponseFormat::JsonObject));
        let reasoning = matches!(
            req.extra.get("reasoning_effort").and_then(Value::as_str),
            Some("medium" | "high")
        );
        let mut needs = Caps::NONE;
        if has_tools {
            needs = needs.union(Caps::TOOLS);
        }
        if has_images {
            needs = needs.union(Caps::VISION);
        }
        if schema {
            needs = needs.union(Caps::JSON_SCHEMA);
        }
        Features {
            needs,
            has_tools,
            has_images,
            json,
            reasoning,
            prompt_tokens: (chars as u64).div_ceil(4) + images * 765,
            max_output: req.max_output_tokens().map(u64::from),
        }
    }

    /// The context a target needs: the prompt plus the output cap.
    pub fn context_needed(&self) -> u64 {
        self.prompt_tokens + self.max_output.unwrap_or(0)
    }

    /// Output tokens assumed for cost: the cap, or a typical answer.
    pub fn completion_estimate(&self) -> u64 {
        self.max_output.unwrap_or(DEFAULT_COMPLETION_ESTIMATE)
    }
}

/// About how many characters a JSON value takes when serialized, without serializing it.
fn json_len(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 4,
        Value::String(s) => s.len() + 2,
        Value::Array(a) => 2 + a.iter().map(|x| json_len(x) + 1).sum::<usize>(),
        Value::Object(o) => {
            2 + o
                .iter()
                .map(|(k, x)| k.len() + 4 + json_len(x))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::from_json_value;
    use serde_json::json;

    fn req(v: Value) -> ChatRequest {
        from_json_value(v).expect("valid request")
    }

    #[test]
    fn a_plain_prompt_needs_nothing() {
        let f = Features::of(&req(
            json!({"model": "m", "messages": [{"role": "user", "content": "a".repeat(400)}]}),
        ));
        assert_eq!(f.needs, Caps::NONE);
        assert_eq!(f.prompt_tokens, 104);
        assert!(!f.json && !f.reasoning && !f.has_tools);
    }

    #[test]
    fn tools_images_schema_and_reasoning_are_seen() {
        let f = Features::of(&req(json!({
            "model": "m",
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "what is this"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
            ]}],
            "tools": [{"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "x"}},
            "reasoning_effort": "high",
            "max_tokens": 100
        })));
        assert_eq!(f.needs, Caps::ALL);
        assert!(f.has_tools && f.has_images && f.json && f.reasoning);
        assert!(f.prompt_tokens > 765);
        assert_eq!(f.context_needed(), f.prompt_tokens + 100);
        assert_eq!(f.completion_estimate(), 100);
    }

    #[test]
    fn missing_capabilities_are_named() {
        let need = Caps::TOOLS.union(Caps::JSON_SCHEMA);
        let names: Vec<_> = need.missing_from(Caps::TOOLS).map(|(_, n)| n).collect();
        assert_eq!(names, ["json_schema"]);
        assert!(Caps::ALL.covers(need));
    }
}
