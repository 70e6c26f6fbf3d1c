//! The native Responses API (`POST /responses`) of OpenAI and Azure OpenAI: the request
//! body, the answer, and the stream events, brought into the unified chat types so the
//! pipeline (cache, cost, records, failover) treats them like any answer.

use super::error::error_from_value;
use crate::api::responses::{
    failed_error, response_to_chat, usage_to_chat, OutputItem, ResponseObject, ResponseStatus,
    ResponseStreamEvent, ResponsesRequest,
};
use crate::api::{
    ChatChunk, ChatResponse, Delta, Error, FinishReason, FunctionCallDelta, Role, ToolCallDelta,
    ToolKind,
};
use crate::providers::{cut_stream, StreamDecoder, StreamEvent, StreamStep};
use serde_json::Value;
use std::collections::HashMap;

/// The JSON body: the caller's request with the target's model id and the stream flag.
pub(crate) fn native_body(
    req: &ResponsesRequest,
    model: &str,
    stream: bool,
) -> Result<Vec<u8>, Error> {
    let mut body = req.clone();
    body.model = model.to_string();
    body.stream = stream.then_some(true);
    serde_json::to_vec(&body)
        .map_err(|e| Error::bad_request("", format!("cannot encode the request: {e}")))
}

/// Parses a native Response body into a chat answer.
pub(crate) fn parse_native(body: &[u8], provider: &str) -> Result<ChatResponse, Error> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Error::invalid_response(format!("the answer is not a Response: {e}"))
            .with_provider(provider)
    })?;
    if let Some(err) = value.get("error").filter(|e| !e.is_null()) {
        if value.get("object").and_then(Value::as_str) != Some("response") {
            return Err(error_from_value(provider, None, err));
        }
    }
    let resp: ResponseObject = serde_json::from_value(value).map_err(|e| {
        Error::invalid_response(format!("the answer is not a Response: {e}"))
            .with_provider(provider)
    })?;
    response_to_chat(&resp).map_err(|e| e.with_provider(provider))
}

/// Turns Responses stream events into unified chat chunks.
#[derive(Debug)]
pub(crate) struct ResponsesStreamDecoder {
    provider: String,
    model: String,
    identity: Option<(String, u64, String)>,
    /// Output index of a function-call item -> its chat tool-call index.
    calls: HashMap<u32, u32>,
    done: bool,
}

impl ResponsesStreamDecoder {
    /// A decoder for one stream from `provider`.
    pub(crate) fn new(provider: &str, model: &str) -> Self {
        ResponsesStreamDecoder {
            provider: provider.to_string(),
            model: model.to_string(),
            identity: None,
            calls: HashMap::new(),
            done: false,
        }
    }

    fn chunk(&self) -> ChatChunk {
        match &self.identity {
            Some((id, created, model)) => ChatChunk::new(id.clone(), *created, model.clone()),
            None => ChatChunk::new("", crate::providers::now_unix(), self.model.clone()),
        }
    }

    fn invalid(&self, msg: String) -> Error {
        Error::invalid_response(format!("a stream event is not a Responses event: {msg}"))
            .with_provider(&self.provider)
    }

    /// The last chunks of a finished Response: the finish reason, then usage.
    fn end(&mut self, r: &ResponseObject, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if r.status == ResponseStatus::Failed {
            let (code, msg) = r
                .error
                .as_ref()
                .map_or(("server_error", "the response failed"), |e| {
                    (e.code.as_str(), e.message.as_str())
                });
            return Err(failed_error(code, msg).with_provider(&self.provider));
        }
        let finish = match crate::api::responses::finish_reason(r) {
            // The calls streamed as items; the final object may omit them.
            FinishReason::Stop if !self.calls.is_empty() => FinishReason::ToolCalls,
            f => f,
        };
        out.push(self.chunk().with_delta(0, Delta::default(), Some(finish)));
        if let Some(u) = &r.usage {
            let mut last = self.chunk();
            last.usage = Some(usage_to_chat(u));
            out.push(last);
        }
        self.done = true;
        Ok(())
    }
}

impl StreamDecoder for ResponsesStreamDecoder {
    fn on_event(
        &mut self,
        event: StreamEvent<'_>,
        out: &mut Vec<ChatChunk>,
    ) -> Result<StreamStep, Error> {
        if self.done {
            return Ok(StreamStep::Done);
        }
        let data = event.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(StreamStep::Continue);
        }
        let ev: ResponseStreamEvent =
            serde_json::from_str(data).map_err(|e| self.invalid(e.to_string()))?;
        match ev {
            ResponseStreamEvent::Created { response, .. } => {
                self.identity = Some((response.id.clone(), response.created_at, response.model));
                let first = Delta {
                    role: Some(Role::Assistant),
                    content: Some(String::new()),
                    ..Delta::default()
                };
                out.push(self.chunk().with_delta(0, first, None));
            }
            ResponseStreamEvent::OutputItemAdded {
                output_index,
                item: OutputItem::FunctionCall(f),
                ..
            } => {
                let index = u32::try_from(self.calls.len()).unwrap_or(u32::MAX);
                self.calls.insert(output_index, index);
                let head = ToolCallDelta {
                    index,
                    id: Some(f.call_id),
                    kind: Some(ToolKind::Function),
                    function: Some(FunctionCallDelta {
                        name: Some(f.name),
                        arguments: Some(String::new()),
                    }),
                };
                let delta = Delta {
                    tool_calls: Some(vec![head]),
                    ..Delta::default()
                };
                out.push(self.chunk().with_delta(0, delta, None));
            }
            ResponseStreamEvent::FunctionCallArgumentsDelta {
                output_index,
                delta,
                ..
            } => {
                let Some(index) = self.calls.get(&output_index).copied() else {
                    return Err(self.invalid(format!(
                        "arguments for output {output_index}, which is no function call"
                    )));
                };
                let piece = ToolCallDelta {
                    index,
                    function: Some(FunctionCallDelta {
                        name: None,
                        arguments: Some(delta),
                    }),
                    ..ToolCallDelta::default()
                };
                let delta = Delta {
                    tool_calls: Some(vec![piece]),
                    ..Delta::default()
                };
                out.push(self.chunk().with_delta(0, delta, None));
            }
            ResponseStreamEvent::OutputTextDelta { delta, .. } => {
                out.push(self.chunk().with_delta(0, Delta::content(delta), None));
            }
            ResponseStreamEvent::RefusalDelta { delta, .. } => {
                let d = Delta {
                    refusal: Some(delta),
                    ..Delta::default()
                };
                out.push(self.chunk().with_delta(0, d, None));
            }
            ResponseStreamEvent::Completed { response, .. }
            | ResponseStreamEvent::Incomplete { response, .. }
            | ResponseStreamEvent::Failed { response, .. } => {
                self.end(&response, out)?;
                return Ok(StreamStep::Done);
            }
            ResponseStreamEvent::Error { code, message, .. } => {
                let err = match code {
                    Some(c) => failed_error(&c, &message),
                    None => failed_error("server_error", &message),
                };
                return Err(err.with_provider(&self.provider));
            }
            _ => {}
        }
        Ok(StreamStep::Continue)
    }

    fn on_end(&mut self, _out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if self.done {
            Ok(())
        } else {
            Err(cut_stream(&self.provider, "response.completed"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ErrorKind, StreamAccumulator};

    fn feed(d: &mut ResponsesStreamDecoder, events: &[&str]) -> Result<Vec<ChatChunk>, Error> {
        let mut out = Vec::new();
        for e in events {
            d.on_event(StreamEvent { event: "", data: e }, &mut out)?;
        }
        Ok(out)
    }

    const CREATED: &str = r#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","created_at":5,"status":"in_progress","model":"gpt-4.1","output":[]}}"#;

    #[test]
    fn text_and_tool_events_become_chunks() {
        let mut d = ResponsesStreamDecoder::new("openai", "gpt-4.1");
        let chunks = feed(
            &mut d,
            &[
                CREATED,
                r#"{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi ","logprobs":[],"sequence_number":3}"#,
                r#"{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"there","logprobs":[],"sequence_number":4}"#,
                r#"{"type":"response.output_item.added","output_index":1,"sequence_number":5,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"","status":"in_progress"}}"#,
                r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":1,"delta":"{}","sequence_number":6}"#,
                r#"{"type":"response.completed","sequence_number":7,"response":{"id":"resp_1","object":"response","created_at":5,"status":"completed","model":"gpt-4.1","output":[],"usage":{"input_tokens":3,"input_tokens_details":{"cached_tokens":0},"output_tokens":4,"output_tokens_details":{"reasoning_tokens":1},"total_tokens":7}}}"#,
            ],
        )
        .expect("decodes");
        let mut acc = StreamAccumulator::new();
        for c in &chunks {
            acc.push(c);
        }
        let resp = acc.finish();
        assert_eq!(resp.id, "resp_1");
        assert_eq!(resp.text(), Some("Hi there"));
        assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        let calls = resp.choices[0].message.tool_calls.as_ref().expect("calls");
        assert_eq!(calls[0].function.arguments, "{}");
        assert_eq!(resp.usage.map(|u| u.reasoning_tokens().get()), Some(1));
        assert!(d.on_end(&mut Vec::new()).is_ok());
    }

    #[test]
    fn cut_and_failed_streams_are_typed_errors() {
        let mut d = ResponsesStreamDecoder::new("openai", "m");
        feed(&mut d, &[CREATED]).expect("decodes");
        let e = d.on_end(&mut Vec::new()).expect_err("cut");
        assert_eq!(e.kind, ErrorKind::Connection);
        let mut d = ResponsesStreamDecoder::new("openai", "m");
        let e = feed(
            &mut d,
            &[
                CREATED,
                r#"{"type":"response.failed","sequence_number":1,"response":{"id":"resp_1","object":"response","created_at":5,"status":"failed","model":"m","output":[],"error":{"code":"server_error","message":"boom"}}}"#,
            ],
        )
        .expect_err("failed");
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert_eq!(e.provider.as_deref(), Some("openai"));
    }
}
