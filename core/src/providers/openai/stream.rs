//! Decoding OpenAI-shaped SSE streams: each `data:` payload is a chat-completion chunk,
//! `[DONE]` ends the stream.

use super::error::error_from_value;
use super::response::{choices_mut, normalize_finish_reason};
use crate::api::{ChatChunk, Error, CHAT_CHUNK_OBJECT};
use crate::providers::{now_unix, StreamDecoder, StreamEvent, StreamStep};
use serde_json::Value;

/// The end-of-stream marker.
const DONE: &str = "[DONE]";

/// Turns OpenAI stream events into unified chunks (they already are, nearly).
#[derive(Debug)]
pub(crate) struct OpenAiStreamDecoder {
    provider: String,
    /// The model asked for, used when a host leaves a chunk's `model` out.
    model: String,
    /// The identity of the first chunk passed on, lent to irregular chunks that lack one.
    identity: Option<(String, u64, String)>,
    done: bool,
}

impl OpenAiStreamDecoder {
    /// A decoder for one stream from `provider`.
    pub(crate) fn new(provider: &str, model: &str) -> Self {
        OpenAiStreamDecoder {
            provider: provider.to_string(),
            model: model.to_string(),
            identity: None,
            done: false,
        }
    }

    /// The slow path for a payload that is not a plain chunk: an error object, a chunk with
    /// parts left out (Azure's filter-only choices without `delta`), or garbage.
    fn irregular(&self, data: &str, first: serde_json::Error) -> Result<ChatChunk, Error> {
        let invalid = |msg: String| {
            Error::invalid_response(format!(
                "a stream event is not a chat-completion chunk: {msg}"
            ))
            .with_provider(&self.provider)
        };
        let mut value: Value = serde_json::from_str(data).map_err(|e| invalid(e.to_string()))?;
        if let Some(err) = value.get("error").filter(|e| !e.is_null()) {
            return Err(error_from_value(&self.provider, None, err));
        }
        let Some(obj) = value.as_object_mut() else {
            return Err(invalid(first.to_string()));
        };
        let (id, created, model) = match &self.identity {
            Some((id, created, model)) => (id.clone(), *created, model.clone()),
            None => (String::new(), now_unix(), self.model.clone()),
        };
        fill(obj, "id", Value::String(id));
        fill(obj, "object", Value::String(CHAT_CHUNK_OBJECT.to_string()));
        fill(obj, "created", Value::from(created));
        fill(obj, "model", Value::String(model));
        fill(obj, "choices", Value::Array(Vec::new()));
        for choice in choices_mut(&mut value) {
            choice
                .entry("delta")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            choice.entry("finish_reason").or_insert(Value::Null);
            normalize_finish_reason(choice).map_err(|e| e.with_provider(&self.provider))?;
        }
        serde_json::from_value(value).map_err(|_| invalid(first.to_string()))
    }
}

/// Sets `key` when it is missing, null or an empty string.
fn fill(obj: &mut serde_json::Map<String, Value>, key: &str, default: Value) {
    let missing = match obj.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    };
    if missing {
        obj.insert(key.to_string(), default);
    }
}

impl StreamDecoder for OpenAiStreamDecoder {
    fn on_event(
        &mut self,
        event: StreamEvent<'_>,
        out: &mut Vec<ChatChunk>,
    ) -> Result<StreamStep, Error> {
        if self.done {
            return Ok(StreamStep::Done);
        }
        let data = event.data.trim();
        if data == DONE {
            self.done = true;
            return Ok(StreamStep::Done);
        }
        if data.is_empty() {
            return Ok(StreamStep::Continue);
        }
        let chunk = match serde_json::from_str::<ChatChunk>(data) {
            Ok(chunk) => chunk,
            Err(first) => self.irregular(data, first)?,
        };
        if let Some(err) = chunk.extra.get("error").filter(|e| !e.is_null()) {
            return Err(error_from_value(&self.provider, None, err));
        }
        // Azure's first chunk carries only prompt_filter_results: nothing for the caller.
        if chunk.choices.is_empty() && chunk.usage.is_none() {
            return Ok(StreamStep::Continue);
        }
        if self.identity.is_none() {
            self.identity = Some((chunk.id.clone(), chunk.created, chunk.model.clone()));
        }
        out.push(chunk);
        Ok(StreamStep::Continue)
    }

    fn on_end(&mut self, _out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        Err(crate::providers::cut_stream(&self.provider, "[DONE]"))
    }
}
