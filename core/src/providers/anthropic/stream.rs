//! Anthropic stream events (`message_start` ... `message_stop`) -> unified chunks.

use super::super::{now_unix, StreamDecoder, StreamEvent, StreamStep};
use super::error::{stream_error, ErrorBody};
use super::response::{finish_reason, ModelRef, WireUsage};
use crate::api::{
    ChatChunk, Delta, Error, FinishReason, FunctionCallDelta, Role, ToolCallDelta, ToolKind,
};
use serde::Deserialize;
use serde_json::Value;

/// One stream event, by its `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: u64,
        content_block: StartBlock,
    },
    ContentBlockDelta {
        index: u64,
        delta: BlockDelta,
    },
    MessageDelta {
        delta: MessageDelta,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop {},
    Error {
        #[serde(flatten)]
        body: ErrorBody,
    },
    /// `ping`, `content_block_stop` and event types added later: nothing to translate.
    #[serde(other)]
    Ignored,
}

/// The `message` of `message_start`: identity and input usage.
#[derive(Debug, Deserialize)]
struct StartMessage {
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// The block a `content_block_start` opens.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StartBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
    },
    Fallback {
        #[serde(default)]
        to: Option<ModelRef>,
    },
    #[serde(other)]
    Other,
}

/// What a `content_block_delta` adds to its block.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    /// `signature_delta`, `citations_delta`, `compaction_delta`, ...
    #[serde(other)]
    Other,
}

/// The `delta` of `message_delta`: why the message ended.
#[derive(Debug, Deserialize)]
struct MessageDelta {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// Decoder state for one streamed Message.
#[derive(Debug)]
pub(super) struct MessageStream {
    provider: String,
    id: String,
    model: String,
    created: u64,
    /// Whether a chunk went out (the first carries the role; the model is fixed from then on).
    started: bool,
    /// Anthropic block index -> the tool call's ordinal among this message's tool calls.
    tool_blocks: Vec<(u64, u32)>,
    usage: WireUsage,
    saw_usage: bool,
    done: bool,
}

impl MessageStream {
    /// A decoder for one stream; `model` names the answer until `message_start` says otherwise.
    pub(super) fn new(provider: &str, model: &str) -> Self {
        MessageStream {
            provider: provider.to_string(),
            id: String::new(),
            model: model.to_string(),
            created: now_unix(),
            started: false,
            tool_blocks: Vec::new(),
            usage: WireUsage::default(),
            saw_usage: false,
            done: false,
        }
    }

    /// A chunk with one delta for choice 0; the stream's first chunk carries the role.
    fn chunk(&mut self, mut delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
        if !self.started {
            self.started = true;
            delta.role = Some(Role::Assistant);
        }
        ChatChunk::new(&self.id, self.created, &self.model).with_delta(0, delta, finish)
    }

    fn tool_ordinal(&self, block: u64) -> Option<u32> {
        self.tool_blocks
            .iter()
            .find(|(b, _)| *b == block)
            .map(|(_, o)| *o)
    }

    fn record_usage(&mut self, usage: Option<&WireUsage>) {
        if let Some(u) = usage {
            self.usage.update(u);
            self.saw_usage = true;
        }
    }

    fn block_start(&mut self, index: u64, block: StartBlock, out: &mut Vec<ChatChunk>) {
        match block {
            StartBlock::Text { text } if !text.is_empty() => {
                let c = self.chunk(Delta::content(text), None);
                out.push(c);
            }
            StartBlock::ToolUse { id, name } => {
                let ordinal = u32::try_from(self.tool_blocks.len()).unwrap_or(u32::MAX);
                self.tool_blocks.push((index, ordinal));
                let delta = Delta {
                    tool_calls: Some(vec![ToolCallDelta {
                        index: ordinal,
                        id: Some(id),
                        kind: Some(ToolKind::Function),
                        function: Some(FunctionCallDelta {
                            name: Some(name),
                            arguments: Some(String::new()),
                        }),
                    }]),
                    ..Delta::default()
                };
                let c = self.chunk(delta, None);
                out.push(c);
            }
            StartBlock::Thinking { thinking } if !thinking.is_empty() => {
                let c = self.chunk(reasoning(thinking), None);
                out.push(c);
            }
            StartBlock::Fallback { to } => {
                // Relabel to the model that answers, unless chunks already named the other.
                if let (false, Some(m)) = (self.started, to.and_then(|t| t.model)) {
                    self.model = m;
                }
            }
            _ => {}
        }
    }

    fn block_delta(&mut self, index: u64, delta: BlockDelta, out: &mut Vec<ChatChunk>) {
        let delta = match delta {
            BlockDelta::TextDelta { text } if !text.is_empty() => Delta::content(text),
            BlockDelta::ThinkingDelta { thinking } if !thinking.is_empty() => reasoning(thinking),
            BlockDelta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                // Fragments of server tools (web search) have no client tool call: skipped.
                let Some(ordinal) = self.tool_ordinal(index) else {
                    return;
                };
                Delta {
                    tool_calls: Some(vec![ToolCallDelta {
                        index: ordinal,
                        function: Some(FunctionCallDelta {
                            name: None,
                            arguments: Some(partial_json),
                        }),
                        ..ToolCallDelta::default()
                    }]),
                    ..Delta::default()
                }
            }
            _ => return,
        };
        let c = self.chunk(delta, None);
        out.push(c);
    }
}

/// A delta carrying reasoning text, where DeepSeek-style clients look for it.
fn reasoning(text: String) -> Delta {
    let mut d = Delta::default();
    d.extra
        .insert("reasoning_content".into(), Value::String(text));
    d
}

impl StreamDecoder for MessageStream {
    fn on_event(
        &mut self,
        event: StreamEvent<'_>,
        out: &mut Vec<ChatChunk>,
    ) -> Result<StreamStep, Error> {
        if self.done {
            return Ok(StreamStep::Done);
        }
        let mut value: Value = serde_json::from_str(event.data).map_err(|e| {
            Error::invalid_response(format!("stream event `{}` is not JSON: {e}", event.event))
                .with_provider(&self.provider)
        })?;
        // The `type` field names the event; fall back to the SSE event name if it is missing.
        if let Some(obj) = value.as_object_mut() {
            if !obj.contains_key("type") && !event.event.is_empty() {
                obj.insert("type".into(), Value::String(event.event.to_string()));
            }
        }
        let parsed: WireEvent = serde_json::from_value(value).map_err(|e| {
            Error::invalid_response(format!(
                "stream event `{}` does not follow the Messages stream format: {e}",
                event.event
            ))
            .with_provider(&self.provider)
        })?;
        match parsed {
            WireEvent::MessageStart { message } => {
                self.id = message.id;
                if let Some(m) = message.model {
                    self.model = m;
                }
                self.record_usage(message.usage.as_ref());
            }
            WireEvent::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, content_block, out),
            WireEvent::ContentBlockDelta { index, delta } => self.block_delta(index, delta, out),
            WireEvent::MessageDelta { delta, usage } => {
                self.record_usage(usage.as_ref());
                if let Some(reason) = delta.stop_reason.as_deref() {
                    let c = self.chunk(Delta::default(), Some(finish_reason(reason)));
                    out.push(c);
                }
            }
            WireEvent::MessageStop {} => {
                self.done = true;
                if self.saw_usage {
                    let mut c = ChatChunk::new(&self.id, self.created, &self.model);
                    c.usage = Some(self.usage.to_usage());
                    out.push(c);
                }
                return Ok(StreamStep::Done);
            }
            WireEvent::Error { body } => return Err(stream_error(&self.provider, &body)),
            WireEvent::Ignored => {}
        }
        Ok(StreamStep::Continue)
    }

    fn on_end(&mut self, _out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        Err(crate::providers::cut_stream(&self.provider, "message_stop"))
    }
}
