//! The OpenAI Responses API (`POST /responses`) as a second unified surface.
//!
//! Requests, Response objects and stream events follow the OpenAI OpenAPI spec
//! (`CreateResponse`, `Response`, `ResponseStreamEvent`). Every call runs through the chat
//! pipeline (routing, fallback, cache, cost, records): the request is translated to a chat
//! request (`to_chat`), answers come back as Responses (`from_chat`, `stream`). Targets
//! with a native Responses API get the request itself (`answer_to_chat` brings their answer
//! into the pipeline). See docs/responses.md.

mod answer_to_chat;
mod events;
mod from_chat;
mod object;
mod request;
mod stream;
mod to_chat;

pub use answer_to_chat::{failed_error, finish_reason, response_to_chat, usage_to_chat};
pub use events::ResponseStreamEvent;
pub use from_chat::{
    from_chat, function_call_id, message_id, response_id, shell, status_for, usage_from_chat,
};
pub use object::*;
pub use request::*;
pub use stream::EventBuilder;
pub use to_chat::{to_chat, Translated};
