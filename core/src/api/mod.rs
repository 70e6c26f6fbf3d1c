//! The unified API: the OpenAI chat-completions and embeddings wire shape, exactly.
//!
//! Every type round-trips the official JSON: optional fields are omitted when absent, and
//! fields switchpoint does not model are kept in `extra` so nothing a caller sends is lost.

mod accumulate;
mod chat;
mod chunk;
mod decode;
mod embeddings;
mod error;
mod facts;
mod response;
pub mod responses;
mod tokens;
mod validate;

pub use accumulate::StreamAccumulator;
pub use chat::*;
pub use chunk::*;
pub use decode::{from_json_str, from_json_value};
pub use embeddings::*;
pub use error::{Error, ErrorKind};
pub use facts::{AttemptFact, AttemptOutcome, CostFact, Facts};
pub use response::*;
pub use tokens::TokenCount;
pub use validate::{validate_chat, validate_embed};

/// Extra JSON fields carried through untouched (unknown wire fields, provider extensions).
pub type JsonMap = serde_json::Map<String, serde_json::Value>;
