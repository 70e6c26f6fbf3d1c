//! switchpoint-core: an LLM gateway that runs inside the application's process.
//!
//! One unified API (the OpenAI chat-completions shape) over many providers, with the gateway's
//! pipeline (admit, cache, route, execute, settle) around every call. Bindings for Python,
//! Node and C wrap this crate and add no behaviour of their own.

pub mod api;
pub mod auth;
pub mod cache;
pub mod config;
pub mod gateway;
pub mod policy;
pub mod providers;
pub mod resilience;
pub mod routing;
pub mod runtime;
pub mod state;
pub mod telemetry;
pub mod transport;

pub use api::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error, ErrorKind,
};
pub use gateway::{ChatStream, Gateway, RequestContext, ResponseStream};
pub use routing::TargetHealth;
