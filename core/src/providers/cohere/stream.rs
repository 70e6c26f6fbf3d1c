//! Cohere v2 stream events -> unified chunks.
//!
//! `message-start` names the answer; `content-delta` adds text (or thinking, when its
//! `content-start` opened a `thinking` block); `tool-plan-delta` adds the model's tool plan
//! as `reasoning_content`; `tool-call-start` opens a tool call (id, name) and
//! `tool-call-delta` adds argument fragments; `citation-start` citations are collected and
//! rendered as text (as in non-streamed answers) just before the finish; `message-end` carries
//! the finish reason, usage and, for a failed answer, an error. `content-end`,
//! `tool-call-end`, `citation-end` and unknown events carry nothing to translate.

use super::response::{finish_reason, render_citations, WireCitation, WireUsage};
use crate::api::{
    ChatChunk, Delta, Error, FinishReason, FunctionCallDelta, Role, ToolCallDelta, ToolKind,
};
use crate::providers::{cut_stream, now_unix, StreamDecoder, StreamEvent, StreamStep};
use serde::Deserialize;
use serde_json::Value;

/// One event, by its `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum WireEvent {
    MessageStart {
        #[serde(default)]
        id: Option<String>,
    },
    ContentStart {
        #[serde(default)]
        index: Option<u64>,
        #[serde(default)]
        delta: Option<Envelope<StartMessage>>,
    },
    ContentDelta {
        #[serde(default)]
        index: Option<u64>,
        #[serde(default)]
        delta: Option<Envelope<ContentMessage>>,
    },
    ToolPlanDelta {
        #[serde(default)]
        delta: Option<Envelope<PlanMessage>>,
    },
    ToolCallStart {
        #[serde(default)]
        index: Option<u64>,
        #[serde(default)]
        delta: Option<Envelope<ToolCallMessage>>,
    },
    ToolCallDelta {
        #[serde(default)]
        index: Option<u64>,
        #[serde(default)]
        delta: Option<Envelope<ToolCallMessage>>,
    },
    CitationStart {
        #[serde(default)]
        delta: Option<Envelope<CitationMessage>>,
    },
    MessageEnd {
        #[serde(default)]
        delta: Option<EndDelta>,
    },
    #[serde(other)]
    Ignored,
}

/// `delta: {message: ...}`, the wrapper every event uses.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    message: Option<T>,
}

#[derive(Debug, Deserialize)]
struct StartMessage {
    #[serde(default)]
    content: Option<StartContent>,
}

#[derive(Debug, Deserialize)]
struct StartContent {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ContentMessage {
    #[serde(default)]
    content: Option<StartContent>,
}

#[derive(Debug, Deserialize)]
struct PlanMessage {
    #[serde(default)]
    tool_plan: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ToolCallMessage {
    #[serde(default)]
    tool_calls: Option<WireCallPiece>,
}

#[derive(Debug, Deserialize)]
struct WireCallPiece {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<WireFunctionPiece>,
}

#[derive(Debug, Deserialize)]
struct WireFunctionPiece {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CitationMessage {
    #[serde(default)]
    citations: Option<CitationField>,
}

/// Cohere sends one citation per `citation-start`; a list is accepted too.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CitationField {
    One(WireCitation),
    Many(Vec<WireCitation>),
}

#[derive(Debug, Deserialize)]
struct EndDelta {
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<String>,
}

/// Decoder state for one Cohere stream.
#[derive(Debug)]
pub(super) struct CohereStream {
    provider: String,
    id: String,
    model: String,
    created: u64,
    started: bool,
    /// Content block indexes opened as `thinking`.
    thinking_blocks: Vec<u64>,
    /// Cohere tool-call index -> ordinal among this answer's tool calls.
    tool_calls: Vec<(u64, u32)>,
    citations: Vec<WireCitation>,
    done: bool,
}

impl CohereStream {
    pub(super) fn new(provider: &str, model: &str) -> Self {
        CohereStream {
            provider: provider.to_string(),
            id: String::new(),
            model: model.to_string(),
            created: now_unix(),
            started: false,
            thinking_blocks: Vec::new(),
            tool_calls: Vec::new(),
            citations: Vec::new(),
            done: false,
        }
    }

    /// A chunk with one delta for choice 0; the first carries the role.
    fn chunk(&mut self, mut delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
        if !self.started {
            self.started = true;
            delta.role = Some(Role::Assistant);
        }
        ChatChunk::new(&self.id, self.created, &self.model).with_delta(0, delta, finish)
    }

    fn text(
        &mut self,
        index: Option<u64>,
        content: Option<StartContent>,
        out: &mut Vec<ChatChunk>,
    ) {
        let Some(c) = content else { return };
        let thinking = c.kind.as_deref() == Some("thinking")
            || index.is_some_and(|i| self.thinking_blocks.contains(&i));
        let piece = if thinking {
            c.thinking.or(c.text)
        } else {
            c.text
        };
        let Some(piece) = piece.filter(|p| !p.is_empty()) else {
            return;
        };
        let delta = if thinking {
            reasoning(piece)
        } else {
            Delta::content(piece)
        };
        let chunk = self.chunk(delta, None);
        out.push(chunk);
    }

    fn ordinal(&mut self, index: Option<u64>, open: bool) -> u32 {
        let index = index.unwrap_or(self.tool_calls.len() as u64);
        if let Some((_, o)) = self.tool_calls.iter().find(|(i, _)| *i == index) {
            return *o;
        }
        let ordinal = u32::try_from(self.tool_calls.len()).unwrap_or(u32::MAX);
        if open {
            self.tool_calls.push((index, ordinal));
        }
        ordinal
    }

    fn tool_start(&mut self, index: Option<u64>, piece: WireCallPiece, out: &mut Vec<ChatChunk>) {
        let ordinal = self.ordinal(index, true);
        let function = piece.function.unwrap_or(WireFunctionPiece {
            name: None,
            arguments: None,
        });
        let delta = tool_delta(ToolCallDelta {
            index: ordinal,
            id: Some(piece.id.unwrap_or_default()),
            kind: Some(ToolKind::Function),
            function: Some(FunctionCallDelta {
                name: Some(function.name.unwrap_or_default()),
                arguments: Some(String::new()),
            }),
        });
        let c = self.chunk(delta, None);
        out.push(c);
        if let Some(args) = function.arguments.filter(|a| !a.is_empty()) {
            self.tool_args(ordinal, args, out);
        }
    }

    fn tool_args(&mut self, ordinal: u32, args: String, out: &mut Vec<ChatChunk>) {
        let delta = tool_delta(ToolCallDelta {
            index: ordinal,
            function: Some(FunctionCallDelta {
                name: None,
                arguments: Some(args),
            }),
            ..ToolCallDelta::default()
        });
        let c = self.chunk(delta, None);
        out.push(c);
    }

    fn end(&mut self, delta: Option<EndDelta>, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        self.done = true;
        let delta = delta.unwrap_or(EndDelta {
            finish_reason: None,
            usage: None,
            error: None,
        });
        // An error text without a finish reason is a failed answer all the same.
        let reason = delta
            .finish_reason
            .as_deref()
            .or(delta.error.as_ref().map(|_| "ERROR"));
        let finish = match reason {
            Some(r) => finish_reason(r, delta.error.as_deref())
                .map_err(|e| e.with_provider(&self.provider))?,
            None => FinishReason::Stop,
        };
        let cited = render_citations(&self.citations);
        if !cited.is_empty() {
            let c = self.chunk(Delta::content(cited), None);
            out.push(c);
        }
        let c = self.chunk(Delta::default(), Some(finish));
        out.push(c);
        if let Some(usage) = delta.usage {
            let mut c = ChatChunk::new(&self.id, self.created, &self.model);
            c.usage = Some(usage.to_usage());
            out.push(c);
        }
        Ok(())
    }
}

fn tool_delta(piece: ToolCallDelta) -> Delta {
    Delta {
        tool_calls: Some(vec![piece]),
        ..Delta::default()
    }
}

/// A delta carrying reasoning text (thinking, tool plans), where DeepSeek-style clients look.
fn reasoning(text: String) -> Delta {
    let mut d = Delta::default();
    d.extra
        .insert("reasoning_content".into(), Value::String(text));
    d
}

impl StreamDecoder for CohereStream {
    fn on_event(
        &mut self,
        event: StreamEvent<'_>,
        out: &mut Vec<ChatChunk>,
    ) -> Result<StreamStep, Error> {
        if self.done {
            return Ok(StreamStep::Done);
        }
        if event.data.trim().is_empty() {
            return Ok(StreamStep::Continue);
        }
        let mut value: Value = serde_json::from_str(event.data).map_err(|e| {
            Error::invalid_response(format!("stream event `{}` is not JSON: {e}", event.event))
                .with_provider(&self.provider)
        })?;
        if let Some(obj) = value.as_object_mut() {
            if !obj.contains_key("type") && !event.event.is_empty() {
                obj.insert("type".into(), Value::String(event.event.to_string()));
            }
        }
        let parsed: WireEvent = serde_json::from_value(value).map_err(|e| {
            Error::invalid_response(format!(
                "stream event `{}` does not follow Cohere's chat stream format: {e}",
                event.event
            ))
            .with_provider(&self.provider)
        })?;
        match parsed {
            WireEvent::MessageStart { id } => {
                if let Some(id) = id {
                    self.id = id;
                }
            }
            WireEvent::ContentStart { index, delta } => {
                let content = delta.and_then(|d| d.message).and_then(|m| m.content);
                if let (Some(i), Some(c)) = (index, content.as_ref()) {
                    if c.kind.as_deref() == Some("thinking") {
                        self.thinking_blocks.push(i);
                    }
                }
                self.text(index, content, out);
            }
            WireEvent::ContentDelta { index, delta } => {
                let content = delta.and_then(|d| d.message).and_then(|m| m.content);
                self.text(index, content, out);
            }
            WireEvent::ToolPlanDelta { delta } => {
                let plan = delta.and_then(|d| d.message).and_then(|m| m.tool_plan);
                if let Some(plan) = plan.filter(|p| !p.is_empty()) {
                    let c = self.chunk(reasoning(plan), None);
                    out.push(c);
                }
            }
            WireEvent::ToolCallStart { index, delta } => {
                if let Some(piece) = delta.and_then(|d| d.message).and_then(|m| m.tool_calls) {
                    self.tool_start(index, piece, out);
                }
            }
            WireEvent::ToolCallDelta { index, delta } => {
                let args = delta
                    .and_then(|d| d.message)
                    .and_then(|m| m.tool_calls)
                    .and_then(|c| c.function)
                    .and_then(|f| f.arguments)
                    .filter(|a| !a.is_empty());
                if let Some(args) = args {
                    let ordinal = self.ordinal(index, true);
                    self.tool_args(ordinal, args, out);
                }
            }
            WireEvent::CitationStart { delta } => {
                match delta.and_then(|d| d.message).and_then(|m| m.citations) {
                    Some(CitationField::One(c)) => self.citations.push(c),
                    Some(CitationField::Many(cs)) => self.citations.extend(cs),
                    None => {}
                }
            }
            WireEvent::MessageEnd { delta } => {
                self.end(delta, out)?;
                return Ok(StreamStep::Done);
            }
            WireEvent::Ignored => {}
        }
        Ok(StreamStep::Continue)
    }

    fn on_end(&mut self, _out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        Err(cut_stream(&self.provider, "message-end"))
    }
}
