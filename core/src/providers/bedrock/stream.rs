//! ConverseStream events (`messageStart` ... `metadata`, one per AWS event-stream message)
//! -> unified chunks.
//!
//! The framing layer names each event by its `:event-type` header (or `:exception-type` for
//! exceptions) and hands over the JSON payload. A stream ends with `messageStop` (the stop
//! reason) and then `metadata` (usage); a byte stream that ends before `messageStop` was cut.

use super::super::{cut_stream, StreamDecoder, StreamEvent, StreamStep};
use super::error::stream_exception;
use super::response::{answer_id, finish_reason, WireUsage};
use crate::api::{ChatChunk, Delta, Error, FunctionCallDelta, Role, ToolCallDelta, ToolKind};
use serde::Deserialize;
use serde_json::Value;

/// `contentBlockStart`: a tool call opens (other starts carry nothing to translate).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStart {
    #[serde(default)]
    content_block_index: u64,
    #[serde(default)]
    start: StartUnion,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartUnion {
    #[serde(default)]
    tool_use: Option<ToolUseStart>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseStart {
    tool_use_id: String,
    name: String,
}

/// `contentBlockDelta`: text, tool input JSON or reasoning for one block.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockDelta {
    #[serde(default)]
    content_block_index: u64,
    #[serde(default)]
    delta: DeltaUnion,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeltaUnion {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    tool_use: Option<ToolUseDelta>,
    #[serde(default)]
    reasoning_content: Option<ReasoningDelta>,
}

#[derive(Debug, Deserialize)]
struct ToolUseDelta {
    #[serde(default)]
    input: String,
}

#[derive(Debug, Deserialize)]
struct ReasoningDelta {
    #[serde(default)]
    text: Option<String>,
}

/// `messageStop`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageStop {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// `metadata`: usage (and metrics, unused).
#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// Decoder state for one ConverseStream.
#[derive(Debug)]
pub(super) struct ConverseStream {
    provider: String,
    id: String,
    model: String,
    created: u64,
    started: bool,
    /// Converse block index -> the tool call's ordinal among this answer's tool calls.
    tool_blocks: Vec<(u64, u32)>,
    stopped: bool,
    done: bool,
}

impl ConverseStream {
    /// A decoder for one stream answered by `model`.
    pub(super) fn new(provider: &str, model: &str) -> Self {
        ConverseStream {
            provider: provider.to_string(),
            id: answer_id(),
            model: model.to_string(),
            created: super::super::now_unix(),
            started: false,
            tool_blocks: Vec::new(),
            stopped: false,
            done: false,
        }
    }

    /// A chunk with one delta for choice 0; the stream's first chunk carries the role.
    fn chunk(&mut self, mut delta: Delta, finish: Option<crate::api::FinishReason>) -> ChatChunk {
        if !self.started {
            self.started = true;
            delta.role = Some(Role::Assistant);
        }
        ChatChunk::new(&self.id, self.created, &self.model).with_delta(0, delta, finish)
    }

    fn parse<'a, T: Deserialize<'a>>(&self, event: &StreamEvent<'a>) -> Result<T, Error> {
        serde_json::from_str(event.data).map_err(|e| {
            Error::invalid_response(format!(
                "ConverseStream event `{}` does not follow the documented shape: {e}",
                event.event
            ))
            .with_provider(&self.provider)
        })
    }

    fn block_start(&mut self, start: BlockStart, out: &mut Vec<ChatChunk>) {
        let Some(tool) = start.start.tool_use else {
            return;
        };
        let ordinal = u32::try_from(self.tool_blocks.len()).unwrap_or(u32::MAX);
        self.tool_blocks.push((start.content_block_index, ordinal));
        let delta = Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index: ordinal,
                id: Some(tool.tool_use_id),
                kind: Some(ToolKind::Function),
                function: Some(FunctionCallDelta {
                    name: Some(tool.name),
                    arguments: Some(String::new()),
                }),
            }]),
            ..Delta::default()
        };
        let c = self.chunk(delta, None);
        out.push(c);
    }

    fn block_delta(&mut self, d: BlockDelta, out: &mut Vec<ChatChunk>) {
        let delta = if let Some(text) = d.delta.text.filter(|t| !t.is_empty()) {
            Delta::content(text)
        } else if let Some(tool) = d.delta.tool_use.filter(|t| !t.input.is_empty()) {
            let Some(ordinal) = self
                .tool_blocks
                .iter()
                .find(|(b, _)| *b == d.content_block_index)
                .map(|(_, o)| *o)
            else {
                return;
            };
            Delta {
                tool_calls: Some(vec![ToolCallDelta {
                    index: ordinal,
                    function: Some(FunctionCallDelta {
                        name: None,
                        arguments: Some(tool.input),
                    }),
                    ..ToolCallDelta::default()
                }]),
                ..Delta::default()
            }
        } else if let Some(text) = d
            .delta
            .reasoning_content
            .and_then(|r| r.text)
            .filter(|t| !t.is_empty())
        {
            let mut delta = Delta::default();
            delta
                .extra
                .insert("reasoning_content".into(), Value::String(text));
            delta
        } else {
            return;
        };
        let c = self.chunk(delta, None);
        out.push(c);
    }
}

impl StreamDecoder for ConverseStream {
    fn on_event(
        &mut self,
        event: StreamEvent<'_>,
        out: &mut Vec<ChatChunk>,
    ) -> Result<StreamStep, Error> {
        if self.done {
            return Ok(StreamStep::Done);
        }
        match event.event {
            "messageStart" | "contentBlockStop" => {}
            "contentBlockStart" => {
                let start: BlockStart = self.parse(&event)?;
                self.block_start(start, out);
            }
            "contentBlockDelta" => {
                let delta: BlockDelta = self.parse(&event)?;
                self.block_delta(delta, out);
            }
            "messageStop" => {
                let stop: MessageStop = self.parse(&event)?;
                self.stopped = true;
                let reason = stop
                    .stop_reason
                    .as_deref()
                    .map_or(crate::api::FinishReason::Stop, finish_reason);
                let c = self.chunk(Delta::default(), Some(reason));
                out.push(c);
            }
            "metadata" => {
                let meta: Metadata = self.parse(&event)?;
                self.done = true;
                if let Some(usage) = meta.usage {
                    let mut c = ChatChunk::new(&self.id, self.created, &self.model);
                    c.usage = Some(usage.to_usage());
                    out.push(c);
                }
                return Ok(StreamStep::Done);
            }
            // Exceptions (`throttlingException`, ...) and error messages (named by their
            // `:error-code`, `InternalFailure`, ...) end the stream.
            name if name.ends_with("Exception")
                || name.starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                return Err(stream_exception(&self.provider, name, event.data));
            }
            // Event types added to the union later: nothing to translate.
            _ => {}
        }
        Ok(StreamStep::Continue)
    }

    fn on_end(&mut self, _out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if self.done || self.stopped {
            return Ok(());
        }
        Err(cut_stream(&self.provider, "messageStop"))
    }
}
