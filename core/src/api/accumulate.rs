//! Assembling a stream's chunks into the complete response they add up to.

use super::JsonMap;
use super::{
    ChatChunk, ChatResponse, Choice, FinishReason, FunctionCall, ResponseMessage, Role, ToolCall,
    ToolKind, Usage, CHAT_COMPLETION_OBJECT,
};

/// Folds chunks into a [`ChatResponse`]: text concatenated per choice, tool-call arguments
/// concatenated per call index, finish reason and usage taken from where they arrive.
#[derive(Debug, Default)]
pub struct StreamAccumulator {
    id: String,
    created: u64,
    model: String,
    system_fingerprint: Option<String>,
    choices: Vec<ChoiceState>,
    usage: Option<Usage>,
    chunks: usize,
}

#[derive(Debug, Default)]
struct ChoiceState {
    content: Option<String>,
    refusal: Option<String>,
    tool_calls: Vec<ToolCallState>,
    finish_reason: Option<FinishReason>,
}

#[derive(Debug, Default)]
struct ToolCallState {
    id: String,
    name: String,
    arguments: String,
}

impl StreamAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many chunks were folded in.
    pub fn chunk_count(&self) -> usize {
        self.chunks
    }

    /// Folds one chunk in.
    pub fn push(&mut self, chunk: &ChatChunk) {
        self.chunks += 1;
        if self.id.is_empty() {
            self.id.clone_from(&chunk.id);
            self.created = chunk.created;
            self.model.clone_from(&chunk.model);
        }
        if chunk.system_fingerprint.is_some() {
            self.system_fingerprint
                .clone_from(&chunk.system_fingerprint);
        }
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        for c in &chunk.choices {
            let idx = c.index as usize;
            if self.choices.len() <= idx {
                self.choices.resize_with(idx + 1, ChoiceState::default);
            }
            let st = &mut self.choices[idx];
            if let Some(t) = &c.delta.content {
                st.content.get_or_insert_with(String::new).push_str(t);
            }
            if let Some(t) = &c.delta.refusal {
                st.refusal.get_or_insert_with(String::new).push_str(t);
            }
            for tc in c.delta.tool_calls.iter().flatten() {
                let ti = tc.index as usize;
                if st.tool_calls.len() <= ti {
                    st.tool_calls.resize_with(ti + 1, ToolCallState::default);
                }
                let call = &mut st.tool_calls[ti];
                if let Some(id) = &tc.id {
                    call.id.clone_from(id);
                }
                if let Some(f) = &tc.function {
                    if let Some(n) = &f.name {
                        call.name.push_str(n);
                    }
                    if let Some(a) = &f.arguments {
                        call.arguments.push_str(a);
                    }
                }
            }
            if c.finish_reason.is_some() {
                st.finish_reason = c.finish_reason;
            }
        }
    }

    /// The complete response the chunks add up to.
    pub fn finish(self) -> ChatResponse {
        let choices = self
            .choices
            .into_iter()
            .enumerate()
            .map(|(i, st)| {
                let tool_calls = (!st.tool_calls.is_empty()).then(|| {
                    st.tool_calls
                        .into_iter()
                        .map(|t| ToolCall {
                            extra: Default::default(),
                            id: t.id,
                            kind: ToolKind::Function,
                            function: FunctionCall {
                                name: t.name,
                                arguments: t.arguments,
                            },
                        })
                        .collect()
                });
                Choice {
                    extra: Default::default(),
                    index: i as u32,
                    message: ResponseMessage {
                        role: Role::Assistant,
                        content: st.content,
                        refusal: st.refusal,
                        tool_calls,
                        extra: JsonMap::new(),
                    },
                    finish_reason: st.finish_reason,
                    logprobs: None,
                }
            })
            .collect();
        ChatResponse {
            id: self.id,
            object: CHAT_COMPLETION_OBJECT.to_string(),
            created: self.created,
            model: self.model,
            choices,
            usage: self.usage,
            system_fingerprint: self.system_fingerprint,
            switchpoint: None,
            extra: JsonMap::new(),
        }
    }
}
