//! The streamed events of a Response (`ResponseStreamEvent` in the spec), each with its
//! `sequence_number`.

use super::object::{OutputContent, OutputItem, ResponseObject};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One server-sent event of a streamed Response; serialized, it is the SSE `data:` payload
/// and [`ResponseStreamEvent::event_type`] is the SSE `event:` name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ResponseStreamEvent {
    #[serde(rename = "response.created")]
    Created {
        response: Box<ResponseObject>,
        sequence_number: u64,
    },
    #[serde(rename = "response.in_progress")]
    InProgress {
        response: Box<ResponseObject>,
        sequence_number: u64,
    },
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded {
        output_index: u32,
        item: OutputItem,
        sequence_number: u64,
    },
    #[serde(rename = "response.content_part.added")]
    ContentPartAdded {
        item_id: String,
        output_index: u32,
        content_index: u32,
        part: OutputContent,
        sequence_number: u64,
    },
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta {
        item_id: String,
        output_index: u32,
        content_index: u32,
        delta: String,
        #[serde(default)]
        logprobs: Vec<Value>,
        sequence_number: u64,
    },
    #[serde(rename = "response.output_text.done")]
    OutputTextDone {
        item_id: String,
        output_index: u32,
        content_index: u32,
        text: String,
        #[serde(default)]
        logprobs: Vec<Value>,
        sequence_number: u64,
    },
    #[serde(rename = "response.refusal.delta")]
    RefusalDelta {
        item_id: String,
        output_index: u32,
        content_index: u32,
        delta: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.refusal.done")]
    RefusalDone {
        item_id: String,
        output_index: u32,
        content_index: u32,
        refusal: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.content_part.done")]
    ContentPartDone {
        item_id: String,
        output_index: u32,
        content_index: u32,
        part: OutputContent,
        sequence_number: u64,
    },
    #[serde(rename = "response.function_call_arguments.delta")]
    FunctionCallArgumentsDelta {
        item_id: String,
        output_index: u32,
        delta: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.function_call_arguments.done")]
    FunctionCallArgumentsDone {
        item_id: String,
        #[serde(default)]
        name: String,
        output_index: u32,
        arguments: String,
        sequence_number: u64,
    },
    #[serde(rename = "response.output_item.done")]
    OutputItemDone {
        output_index: u32,
        item: OutputItem,
        sequence_number: u64,
    },
    #[serde(rename = "response.completed")]
    Completed {
        response: Box<ResponseObject>,
        sequence_number: u64,
    },
    #[serde(rename = "response.incomplete")]
    Incomplete {
        response: Box<ResponseObject>,
        sequence_number: u64,
    },
    #[serde(rename = "response.failed")]
    Failed {
        response: Box<ResponseObject>,
        sequence_number: u64,
    },
    /// A stream-level error (`type: "error"`).
    #[serde(rename = "error")]
    Error {
        #[serde(default)]
        code: Option<String>,
        message: String,
        #[serde(default)]
        param: Option<String>,
        sequence_number: u64,
    },
    /// Any event type not modelled here (reasoning summaries, built-in tool progress),
    /// kept whole.
    #[serde(untagged)]
    Other(Value),
}

impl ResponseStreamEvent {
    /// The event's `type` (also its SSE `event:` name).
    pub fn event_type(&self) -> &str {
        match self {
            ResponseStreamEvent::Created { .. } => "response.created",
            ResponseStreamEvent::InProgress { .. } => "response.in_progress",
            ResponseStreamEvent::OutputItemAdded { .. } => "response.output_item.added",
            ResponseStreamEvent::ContentPartAdded { .. } => "response.content_part.added",
            ResponseStreamEvent::OutputTextDelta { .. } => "response.output_text.delta",
            ResponseStreamEvent::OutputTextDone { .. } => "response.output_text.done",
            ResponseStreamEvent::RefusalDelta { .. } => "response.refusal.delta",
            ResponseStreamEvent::RefusalDone { .. } => "response.refusal.done",
            ResponseStreamEvent::ContentPartDone { .. } => "response.content_part.done",
            ResponseStreamEvent::FunctionCallArgumentsDelta { .. } => {
                "response.function_call_arguments.delta"
            }
            ResponseStreamEvent::FunctionCallArgumentsDone { .. } => {
                "response.function_call_arguments.done"
            }
            ResponseStreamEvent::OutputItemDone { .. } => "response.output_item.done",
            ResponseStreamEvent::Completed { .. } => "response.completed",
            ResponseStreamEvent::Incomplete { .. } => "response.incomplete",
            ResponseStreamEvent::Failed { .. } => "response.failed",
            ResponseStreamEvent::Error { .. } => "error",
            ResponseStreamEvent::Other(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// The event's position in its stream.
    pub fn sequence_number(&self) -> u64 {
        match self {
            ResponseStreamEvent::Created {
                sequence_number, ..
            }
            | ResponseStreamEvent::InProgress {
                sequence_number, ..
            }
            | ResponseStreamEvent::OutputItemAdded {
                sequence_number, ..
            }
            | ResponseStreamEvent::ContentPartAdded {
                sequence_number, ..
            }
            | ResponseStreamEvent::OutputTextDelta {
                sequence_number, ..
            }
            | ResponseStreamEvent::OutputTextDone {
                sequence_number, ..
            }
            | ResponseStreamEvent::RefusalDelta {
                sequence_number, ..
            }
            | ResponseStreamEvent::RefusalDone {
                sequence_number, ..
            }
            | ResponseStreamEvent::ContentPartDone {
                sequence_number, ..
            }
            | ResponseStreamEvent::FunctionCallArgumentsDelta {
                sequence_number, ..
            }
            | ResponseStreamEvent::FunctionCallArgumentsDone {
                sequence_number, ..
            }
            | ResponseStreamEvent::OutputItemDone {
                sequence_number, ..
            }
            | ResponseStreamEvent::Completed {
                sequence_number, ..
            }
            | ResponseStreamEvent::Incomplete {
                sequence_number, ..
            }
            | ResponseStreamEvent::Failed {
                sequence_number, ..
            }
            | ResponseStreamEvent::Error {
                sequence_number, ..
            } => *sequence_number,
            ResponseStreamEvent::Other(v) => v
                .get("sequence_number")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        }
    }

    /// The final Response carried by `response.completed` / `.incomplete` / `.failed`.
    pub fn final_response(&self) -> Option<&ResponseObject> {
        match self {
            ResponseStreamEvent::Completed { response, .. }
            | ResponseStreamEvent::Incomplete { response, .. }
            | ResponseStreamEvent::Failed { response, .. } => Some(response),
            _ => None,
        }
    }
}
