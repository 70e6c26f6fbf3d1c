//! Ollama NDJSON stream lines -> unified chunks.
//!
//! Every line is an `/api/chat` object: `done: false` lines carry a piece of the message
//! (`content`, `thinking`, or whole `tool_calls`), the `done: true` line carries
//! `done_reason` and the token counts. A line `{"error": "..."}` is a failure reported
//! mid-stream. Tool calls arrive whole; each becomes a first piece (id, name, empty arguments)
//! and one arguments fragment, the unified convention.

use super::response::{answer_id, arguments_text, call_id, finish_reason, WireChat};
use crate::api::{ChatChunk, Delta, Error, FunctionCallDelta, Role, ToolCallDelta, ToolKind};
use crate::providers::{cut_stream, now_unix, StreamDecoder, StreamEvent, StreamStep};
use serde_json::Value;

/// Decoder state for one Ollama stream.
#[derive(Debug)]
pub(super) struct OllamaStream {
    provider: String,
    id: Option<String>,
    model: String,
    created: u64,
    started: bool,
    tool_calls: usize,
    done: bool,
}

impl OllamaStream {
    pub(super) fn new(provider: &str, model: &str) -> Self {
        OllamaStream {
            provider: provider.to_string(),
            id: None,
            model: model.to_string(),
            created: now_unix(),
            started: false,
            tool_calls: 0,
            done: false,
        }
    }

    fn chunk(&mut self, mut delta: Delta, finish: Option<crate::api::FinishReason>) -> ChatChunk {
        if !self.started {
            self.started = true;
            delta.role = Some(Role::Assistant);
        }
        ChatChunk::new(self.id.as_deref().unwrap_or(""), self.created, &self.model)
            .with_delta(0, delta, finish)
    }

    fn push_tool(&mut self, index: u32, piece: ToolCallDelta, out: &mut Vec<ChatChunk>) {
        let delta = Delta {
            tool_calls: Some(vec![ToolCallDelta { index, ..piece }]),
            ..Delta::default()
        };
        let c = self.chunk(delta, None);
        out.push(c);
    }
}

impl StreamDecoder for OllamaStream {
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
        let line = WireChat::parse(event.data.as_bytes()).map_err(|e| {
            if e.provider.is_none() {
                e.with_provider(&self.provider)
            } else {
                e
            }
        })?;
        let created_at = line.created_at.clone().unwrap_or_default();
        if self.id.is_none() {
            self.id = Some(answer_id(&created_at));
            if let Some(m) = &line.model {
                self.model = m.clone();
            }
        }
        if let Some(msg) = line.message.as_ref() {
            if let Some(t) = msg.thinking.as_ref().filter(|t| !t.is_empty()) {
                let mut d = Delta::default();
                d.extra
                    .insert("reasoning_content".into(), Value::String(t.clone()));
                let c = self.chunk(d, None);
                out.push(c);
            }
            if let Some(t) = msg.content.as_ref().filter(|t| !t.is_empty()) {
                let c = self.chunk(Delta::content(t.clone()), None);
                out.push(c);
            }
            for call in &msg.tool_calls {
                let ordinal = self.tool_calls;
                self.tool_calls += 1;
                let index = u32::try_from(ordinal).unwrap_or(u32::MAX);
                let head = ToolCallDelta {
                    index,
                    id: Some(call_id(call.id.clone(), &created_at, ordinal)),
                    kind: Some(ToolKind::Function),
                    function: Some(FunctionCallDelta {
                        name: Some(call.function.name.clone()),
                        arguments: Some(String::new()),
                    }),
                };
                self.push_tool(index, head, out);
                let args = ToolCallDelta {
                    index,
                    function: Some(FunctionCallDelta {
                        name: None,
                        arguments: Some(arguments_text(&call.function.arguments)),
                    }),
                    ..ToolCallDelta::default()
                };
                self.push_tool(index, args, out);
            }
        }
        if line.done {
            self.done = true;
            let finish = finish_reason(line.done_reason.as_deref(), self.tool_calls > 0);
            let c = self.chunk(Delta::default(), Some(finish));
            out.push(c);
            if let Some(usage) = line.usage() {
                let mut c =
                    ChatChunk::new(self.id.as_deref().unwrap_or(""), self.created, &self.model);
                c.usage = Some(usage);
                out.push(c);
            }
            return Ok(StreamStep::Done);
        }
        Ok(StreamStep::Continue)
    }

    fn on_end(&mut self, _out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        Err(cut_stream(&self.provider, "a line with \"done\": true"))
    }
}
