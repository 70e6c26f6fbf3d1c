//! `streamGenerateContent?alt=sse`: every SSE `data:` payload is a whole
//! `GenerateContentResponse` carrying the next piece of each candidate.
//!
//! Gemini sends no end marker: the event in which every candidate seen so far has a
//! `finishReason` is the end. Then the last `usageMetadata` seen (Gemini repeats it,
//! growing, on many events) goes out as one final chunk with `choices: []`, and the
//! decoder reports [`StreamStep::Done`]. Bytes ending before that are a cut stream and
//! [`StreamDecoder::on_end`] reports a `connection` error.
//!
//! Chunks: the first chunk of each candidate carries `role: assistant`; text parts (not
//! thoughts) are `content` deltas; each `functionCall` part arrives whole, so it becomes one
//! complete tool-call delta (id, type, name and all arguments), indexed by its ordinal among
//! the candidate's calls; a `finishReason` becomes a chunk of its own with an empty delta.
//! A blocked prompt (`promptFeedback.blockReason`, no candidates) is a `content_filtered`
//! error; an `{"error": ...}` event is the typed error it describes.

use super::error::{excerpt, stream_error};
use super::response::{finish_reason, generated_id, no_candidates, usage, WireResponse};
use crate::api::{
    ChatChunk, Delta, Error, FunctionCallDelta, Role, ToolCallDelta, ToolKind, Usage,
};
use crate::providers::{now_unix, StreamDecoder, StreamEvent, StreamStep};
use serde_json::Value;

/// Decoder state for one Gemini stream.
#[derive(Debug)]
pub(super) struct GeminiStreamDecoder {
    provider: String,
    requested_model: String,
    created: u64,
    /// Set from the first event: `responseId` (or generated) and `modelVersion`.
    identity: Option<(String, String)>,
    candidates: Vec<CandidateState>,
    usage: Option<Usage>,
    done: bool,
}

/// What the decoder knows about one candidate so far.
#[derive(Debug, Default, Clone)]
struct CandidateState {
    seen: bool,
    calls: u32,
    finished: bool,
}

impl GeminiStreamDecoder {
    /// A decoder for a stream from `provider` asked for `model`.
    pub(super) fn new(provider: &str, model: &str) -> Self {
        GeminiStreamDecoder {
            provider: provider.to_string(),
            requested_model: model.to_string(),
            created: now_unix(),
            identity: None,
            candidates: Vec::new(),
            usage: None,
            done: false,
        }
    }

    /// An empty chunk with this stream's id, created and model.
    fn chunk(&self) -> ChatChunk {
        let (id, model) = self
            .identity
            .clone()
            .unwrap_or_else(|| (String::new(), self.requested_model.clone()));
        ChatChunk::new(id, self.created, model)
    }

    /// The state of candidate `index`, created on first sight.
    fn state(&mut self, index: u32) -> &mut CandidateState {
        let i = usize::try_from(index).unwrap_or(usize::MAX);
        if self.candidates.len() <= i {
            self.candidates
                .resize(i.saturating_add(1), CandidateState::default());
        }
        &mut self.candidates[i]
    }

    /// Translates one parsed event.
    fn on_response(
        &mut self,
        wire: WireResponse,
        out: &mut Vec<ChatChunk>,
    ) -> Result<StreamStep, Error> {
        if self.identity.is_none() {
            self.identity = Some((
                wire.response_id.clone().unwrap_or_else(generated_id),
                wire.model_version
                    .clone()
                    .unwrap_or_else(|| self.requested_model.clone()),
            ));
        }
        if let Some(u) = &wire.usage_metadata {
            self.usage = Some(usage(u));
        }
        if wire.candidates.is_empty() {
            if wire
                .prompt_feedback
                .as_ref()
                .is_some_and(|f| f.block_reason.is_some())
            {
                return Err(no_candidates(&wire));
            }
            return Ok(StreamStep::Continue);
        }
        let mut any_finished = false;
        for (pos, cand) in wire.candidates.iter().enumerate() {
            let index = cand.choice_index(pos);
            let first = !self.state(index).seen;
            let mut delta = Delta {
                role: first.then_some(Role::Assistant),
                ..Delta::default()
            };
            let mut calls = Vec::new();
            for part in cand.parts() {
                if let Some(t) = part.visible_text() {
                    delta.content.get_or_insert_with(String::new).push_str(t);
                }
                if let Some(fc) = &part.function_call {
                    let n = self.state(index).calls;
                    self.state(index).calls = n.saturating_add(1);
                    let call = fc.to_tool_call(index, n);
                    calls.push(ToolCallDelta {
                        index: n,
                        id: Some(call.id),
                        kind: Some(ToolKind::Function),
                        function: Some(FunctionCallDelta {
                            name: Some(call.function.name),
                            arguments: Some(call.function.arguments),
                        }),
                    });
                }
            }
            if !calls.is_empty() {
                delta.tool_calls = Some(calls);
            }
            self.state(index).seen = true;
            if delta.role.is_some() || delta.content.is_some() || delta.tool_calls.is_some() {
                out.push(self.chunk().with_delta(index, delta, None));
            }
            if cand.finish_reason.is_some() {
                let has_calls = self.state(index).calls > 0;
                let reason = finish_reason(cand.finish_reason.as_deref(), has_calls);
                out.push(
                    self.chunk()
                        .with_delta(index, Delta::default(), Some(reason)),
                );
                self.state(index).finished = true;
                any_finished = true;
            }
        }
        let all_finished = self.candidates.iter().all(|c| !c.seen || c.finished);
        if any_finished && all_finished {
            if let Some(u) = self.usage.take() {
                let mut last = self.chunk();
                last.usage = Some(u);
                out.push(last);
            }
            self.done = true;
            return Ok(StreamStep::Done);
        }
        Ok(StreamStep::Continue)
    }
}

impl StreamDecoder for GeminiStreamDecoder {
    fn on_event(
        &mut self,
        event: StreamEvent<'_>,
        out: &mut Vec<ChatChunk>,
    ) -> Result<StreamStep, Error> {
        if self.done {
            return Ok(StreamStep::Done);
        }
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(StreamStep::Continue);
        }
        let value: Value = serde_json::from_str(data).map_err(|e| {
            Error::invalid_response(format!(
                "Gemini stream event is not JSON ({e}): {}",
                excerpt(data.as_bytes())
            ))
            .with_provider(&self.provider)
        })?;
        if let Some(err) = stream_error(&value) {
            return Err(err.with_provider(&self.provider));
        }
        let wire: WireResponse = serde_json::from_value(value).map_err(|e| {
            Error::invalid_response(format!(
                "Gemini stream event is not a GenerateContentResponse ({e}): {}",
                excerpt(data.as_bytes())
            ))
            .with_provider(&self.provider)
        })?;
        self.on_response(wire, out)
            .map_err(|e| e.with_provider(&self.provider))
    }

    fn on_end(&mut self, _out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        Err(crate::providers::cut_stream(
            &self.provider,
            "no chunk with a finishReason",
        ))
    }
}
