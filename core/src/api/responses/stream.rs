//! Chat chunks -> Responses stream events: the event sequence OpenAI sends
//! (`response.created`, `response.in_progress`, items and parts opened, deltas, parts and
//! items done, then `response.completed` / `.incomplete` / `.failed`), numbered in order.

use super::events::ResponseStreamEvent as Ev;
use super::from_chat::{
    function_call_id, message_id, response_id, shell, status_for, usage_from_chat,
};
use super::object::{
    FunctionCallOutput, OutputContent, OutputItem, OutputMessage, ResponseError, ResponseObject,
    ResponseStatus,
};
use super::request::ResponsesRequest;
use crate::api::{ChatChunk, Error, FinishReason, JsonMap};
use std::collections::BTreeMap;

/// The message item being streamed.
#[derive(Debug)]
struct OpenMessage {
    output_index: u32,
    id: String,
    /// Parts so far: (`output_text` | `refusal`, text); the last one is open.
    parts: Vec<(&'static str, String)>,
}

/// A function-call item being streamed.
#[derive(Debug)]
struct OpenCall {
    output_index: u32,
    id: String,
    call_id: String,
    name: String,
    arguments: String,
}

/// Builds the events of one streamed Response from the chat chunks of its answer.
#[derive(Debug)]
pub struct EventBuilder {
    req: ResponsesRequest,
    seq: u64,
    response: Option<ResponseObject>,
    message: Option<OpenMessage>,
    /// Chat tool-call index -> the call's item.
    calls: BTreeMap<u32, OpenCall>,
    finish: Option<FinishReason>,
    ended: bool,
}

impl EventBuilder {
    /// A builder for the answer to `req`.
    pub fn new(req: &ResponsesRequest) -> Self {
        EventBuilder {
            req: req.clone(),
            seq: 0,
            response: None,
            message: None,
            calls: BTreeMap::new(),
            finish: None,
            ended: false,
        }
    }

    fn next_seq(&mut self) -> u64 {
        let s = self.seq;
        self.seq += 1;
        s
    }

    /// Starts the Response (`created`, `in_progress`) at the first chunk.
    fn start(&mut self, chunk: &ChatChunk, out: &mut Vec<Ev>) {
        if self.response.is_some() {
            return;
        }
        let r = shell(
            &self.req,
            response_id(&chunk.id),
            chunk.created,
            chunk.model.clone(),
        );
        let created = Ev::Created {
            response: Box::new(r.clone()),
            sequence_number: self.next_seq(),
        };
        out.push(created);
        let progress = Ev::InProgress {
            response: Box::new(r.clone()),
            sequence_number: self.next_seq(),
        };
        out.push(progress);
        self.response = Some(r);
    }

    fn next_output_index(&self) -> u32 {
        let done = self.response.as_ref().map_or(0, |r| r.output.len());
        let open = usize::from(self.message.is_some()) + self.calls.len();
        u32::try_from(done + open).unwrap_or(u32::MAX)
    }

    /// Translates one chat chunk (choice 0 only: a Response has one output).
    pub fn on_chunk(&mut self, chunk: &ChatChunk, out: &mut Vec<Ev>) {
        if self.ended {
            return;
        }
        self.start(chunk, out);
        if let Some(u) = &chunk.usage {
            if let Some(r) = self.response.as_mut() {
                r.usage = Some(usage_from_chat(u));
            }
        }
        for c in chunk.choices.iter().filter(|c| c.index == 0) {
            if let Some(t) = c.delta.content.as_deref().filter(|t| !t.is_empty()) {
                self.text_delta("output_text", t, out);
            }
            if let Some(t) = c.delta.refusal.as_deref().filter(|t| !t.is_empty()) {
                self.text_delta("refusal", t, out);
            }
            for tc in c.delta.tool_calls.iter().flatten() {
                if !self.calls.contains_key(&tc.index) {
                    self.close_message(out);
                    let call_id = tc.id.clone().unwrap_or_default();
                    let name = tc
                        .function
                        .as_ref()
                        .and_then(|f| f.name.clone())
                        .unwrap_or_default();
                    let call = OpenCall {
                        output_index: self.next_output_index(),
                        id: function_call_id(&call_id),
                        call_id,
                        name,
                        arguments: String::new(),
                    };
                    let ev = Ev::OutputItemAdded {
                        output_index: call.output_index,
                        item: call_item(&call, "in_progress"),
                        sequence_number: self.next_seq(),
                    };
                    out.push(ev);
                    self.calls.insert(tc.index, call);
                }
                let frag = tc
                    .function
                    .as_ref()
                    .and_then(|f| f.arguments.clone())
                    .unwrap_or_default();
                if frag.is_empty() {
                    continue;
                }
                let seq = self.next_seq();
                if let Some(call) = self.calls.get_mut(&tc.index) {
                    call.arguments.push_str(&frag);
                    out.push(Ev::FunctionCallArgumentsDelta {
                        item_id: call.id.clone(),
                        output_index: call.output_index,
                        delta: frag,
                        sequence_number: seq,
                    });
                }
            }
            if let Some(f) = c.finish_reason {
                self.finish = Some(f);
                self.close_all(out);
            }
        }
    }

    /// Adds text to the message's open part of `kind`, opening item and part as needed.
    fn text_delta(&mut self, kind: &'static str, text: &str, out: &mut Vec<Ev>) {
        if self.message.is_none() {
            let id = message_id(self.response.as_ref().map_or("", |r| r.id.as_str()));
            let m = OpenMessage {
                output_index: self.next_output_index(),
                id,
                parts: Vec::new(),
            };
            let ev = Ev::OutputItemAdded {
                output_index: m.output_index,
                item: message_item(&m, "in_progress"),
                sequence_number: self.next_seq(),
            };
            out.push(ev);
            self.message = Some(m);
        }
        let needs_part = self
            .message
            .as_ref()
            .is_some_and(|m| m.parts.last().is_none_or(|(k, _)| *k != kind));
        if needs_part {
            self.close_part(out);
            let seq = self.next_seq();
            if let Some(m) = self.message.as_mut() {
                m.parts.push((kind, String::new()));
                out.push(Ev::ContentPartAdded {
                    item_id: m.id.clone(),
                    output_index: m.output_index,
                    content_index: part_index(m),
                    part: part(kind, ""),
                    sequence_number: seq,
                });
            }
        }
        let seq = self.next_seq();
        if let Some(m) = self.message.as_mut() {
            let content_index = part_index(m);
            if let Some((_, acc)) = m.parts.last_mut() {
                acc.push_str(text);
            }
            out.push(if kind == "refusal" {
                Ev::RefusalDelta {
                    item_id: m.id.clone(),
                    output_index: m.output_index,
                    content_index,
                    delta: text.to_string(),
                    sequence_number: seq,
                }
            } else {
                Ev::OutputTextDelta {
                    item_id: m.id.clone(),
                    output_index: m.output_index,
                    content_index,
                    delta: text.to_string(),
                    logprobs: Vec::new(),
                    sequence_number: seq,
                }
            });
        }
    }

    /// Ends the message's last part (`output_text.done`, `content_part.done`).
    fn close_part(&mut self, out: &mut Vec<Ev>) {
        let Some(m) = self.message.as_ref() else {
            return;
        };
        let Some((kind, text)) = m.parts.last().cloned() else {
            return;
        };
        let (item_id, output_index, content_index) = (m.id.clone(), m.output_index, part_index(m));
        let seq = self.next_seq();
        out.push(if kind == "refusal" {
            Ev::RefusalDone {
                item_id: item_id.clone(),
                output_index,
                content_index,
                refusal: text.clone(),
                sequence_number: seq,
            }
        } else {
            Ev::OutputTextDone {
                item_id: item_id.clone(),
                output_index,
                content_index,
                text: text.clone(),
                logprobs: Vec::new(),
                sequence_number: seq,
            }
        });
        let seq = self.next_seq();
        out.push(Ev::ContentPartDone {
            item_id,
            output_index,
            content_index,
            part: part(kind, &text),
            sequence_number: seq,
        });
    }

    fn item_status(&self) -> &'static str {
        match status_for(self.finish).0 {
            ResponseStatus::Incomplete => "incomplete",
            _ => "completed",
        }
    }

    /// Ends the message item.
    fn close_message(&mut self, out: &mut Vec<Ev>) {
        self.close_part(out);
        let Some(m) = self.message.take() else {
            return;
        };
        let item = message_item(&m, self.item_status());
        let ev = Ev::OutputItemDone {
            output_index: m.output_index,
            item: item.clone(),
            sequence_number: self.next_seq(),
        };
        out.push(ev);
        if let Some(r) = self.response.as_mut() {
            r.output.push(item);
        }
    }

    /// Ends every open item, in output order.
    fn close_all(&mut self, out: &mut Vec<Ev>) {
        self.close_message(out);
        let calls = std::mem::take(&mut self.calls);
        for call in calls.into_values() {
            let seq = self.next_seq();
            out.push(Ev::FunctionCallArgumentsDone {
                item_id: call.id.clone(),
                name: call.name.clone(),
                output_index: call.output_index,
                arguments: call.arguments.clone(),
                sequence_number: seq,
            });
            let item = call_item(&call, "completed");
            let seq = self.next_seq();
            out.push(Ev::OutputItemDone {
                output_index: call.output_index,
                item: item.clone(),
                sequence_number: seq,
            });
            if let Some(r) = self.response.as_mut() {
                r.output.push(item);
            }
        }
    }

    /// The answer ended: closes what is open and emits `response.completed` (or
    /// `response.incomplete` when the answer was cut by the token cap or a filter).
    pub fn finish(&mut self, out: &mut Vec<Ev>) {
        if self.ended {
            return;
        }
        self.close_all(out);
        self.ended = true;
        let (status, incomplete) = status_for(self.finish);
        let seq = self.next_seq();
        let Some(mut r) = self.response.take() else {
            return;
        };
        r.status = status;
        r.incomplete_details = incomplete;
        out.push(if status == ResponseStatus::Incomplete {
            Ev::Incomplete {
                response: Box::new(r),
                sequence_number: seq,
            }
        } else {
            Ev::Completed {
                response: Box::new(r),
                sequence_number: seq,
            }
        });
    }

    /// The answer failed mid-stream: emits `response.failed` carrying the error.
    pub fn fail(&mut self, err: &Error, out: &mut Vec<Ev>) {
        if self.ended {
            return;
        }
        self.ended = true;
        let seq = self.next_seq();
        let Some(mut r) = self.response.take() else {
            return;
        };
        r.status = ResponseStatus::Failed;
        // The spec's error codes; the typed error after this event has the exact kind.
        let code = match err.kind {
            crate::api::ErrorKind::RateLimited => "rate_limit_exceeded",
            crate::api::ErrorKind::BadRequest => "invalid_prompt",
            _ => "server_error",
        };
        r.error = Some(ResponseError {
            code: code.to_string(),
            message: format!("{}: {}", err.kind.as_str(), err.message),
        });
        out.push(Ev::Failed {
            response: Box::new(r),
            sequence_number: seq,
        });
    }
}

fn part_index(m: &OpenMessage) -> u32 {
    u32::try_from(m.parts.len().saturating_sub(1)).unwrap_or(u32::MAX)
}

fn part(kind: &str, text: &str) -> OutputContent {
    if kind == "refusal" {
        OutputContent::refusal(text)
    } else {
        OutputContent::text(text)
    }
}

fn message_item(m: &OpenMessage, status: &str) -> OutputItem {
    let content = if status == "in_progress" {
        Vec::new()
    } else {
        m.parts.iter().map(|(k, t)| part(k, t)).collect()
    };
    OutputItem::Message(OutputMessage {
        id: m.id.clone(),
        role: "assistant".into(),
        status: status.into(),
        content,
        extra: JsonMap::new(),
    })
}

fn call_item(c: &OpenCall, status: &str) -> OutputItem {
    OutputItem::FunctionCall(FunctionCallOutput {
        id: Some(c.id.clone()),
        call_id: c.call_id.clone(),
        name: c.name.clone(),
        arguments: c.arguments.clone(),
        status: Some(status.into()),
        extra: JsonMap::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Delta, FunctionCallDelta, Role, ToolCallDelta, ToolKind, Usage};

    fn chunk() -> ChatChunk {
        ChatChunk::new("chatcmpl-1", 5, "m")
    }

    fn types(evs: &[Ev]) -> Vec<String> {
        evs.iter().map(|e| e.event_type().to_string()).collect()
    }

    #[test]
    fn text_stream_has_the_openai_event_sequence() {
        let req = ResponsesRequest {
            model: "m".into(),
            ..ResponsesRequest::default()
        };
        let mut b = EventBuilder::new(&req);
        let mut out = Vec::new();
        let first = Delta {
            role: Some(Role::Assistant),
            content: Some(String::new()),
            ..Delta::default()
        };
        b.on_chunk(&chunk().with_delta(0, first, None), &mut out);
        b.on_chunk(
            &chunk().with_delta(0, Delta::content("Hel"), None),
            &mut out,
        );
        b.on_chunk(&chunk().with_delta(0, Delta::content("lo"), None), &mut out);
        b.on_chunk(
            &chunk().with_delta(0, Delta::default(), Some(FinishReason::Stop)),
            &mut out,
        );
        let mut u = chunk();
        u.usage = Some(Usage::new(4, 2));
        b.on_chunk(&u, &mut out);
        b.finish(&mut out);
        assert_eq!(
            types(&out),
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed"
            ]
        );
        let seqs: Vec<u64> = out.iter().map(Ev::sequence_number).collect();
        assert_eq!(seqs, (0..10).collect::<Vec<u64>>());
        let done = out.last().and_then(Ev::final_response).expect("final");
        assert_eq!(done.output_text(), "Hello");
        assert_eq!(done.usage.as_ref().map(|u| u.total_tokens), Some(6));
        assert_eq!(done.id, "resp_chatcmpl-1");
    }

    #[test]
    fn tool_calls_stream_arguments_and_length_is_incomplete() {
        let req = ResponsesRequest::default();
        let mut b = EventBuilder::new(&req);
        let mut out = Vec::new();
        let head = Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index: 0,
                id: Some("call_1".into()),
                kind: Some(ToolKind::Function),
                function: Some(FunctionCallDelta {
                    name: Some("f".into()),
                    arguments: Some(String::new()),
                }),
            }]),
            ..Delta::default()
        };
        let frag = |a: &str| Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index: 0,
                function: Some(FunctionCallDelta {
                    name: None,
                    arguments: Some(a.into()),
                }),
                ..ToolCallDelta::default()
            }]),
            ..Delta::default()
        };
        b.on_chunk(&chunk().with_delta(0, head, None), &mut out);
        b.on_chunk(&chunk().with_delta(0, frag("{\"a\":"), None), &mut out);
        b.on_chunk(&chunk().with_delta(0, frag("1}"), None), &mut out);
        b.on_chunk(
            &chunk().with_delta(0, Delta::default(), Some(FinishReason::ToolCalls)),
            &mut out,
        );
        b.finish(&mut out);
        assert_eq!(
            types(&out),
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed"
            ]
        );
        let done = out.last().and_then(Ev::final_response).expect("final");
        let calls = done.function_calls();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].arguments, "{\"a\":1}");
        assert_eq!(calls[0].call_id, "call_1");

        let mut b = EventBuilder::new(&req);
        let mut out = Vec::new();
        b.on_chunk(&chunk().with_delta(0, Delta::content("x"), None), &mut out);
        b.on_chunk(
            &chunk().with_delta(0, Delta::default(), Some(FinishReason::Length)),
            &mut out,
        );
        b.finish(&mut out);
        assert_eq!(out.last().map(Ev::event_type), Some("response.incomplete"));
    }
}
