//! Sending adapter-built requests: one pooled HTTP client per provider, deadlines, the
//! provider's keys in rotation, and incremental stream decoding (SSE, NDJSON, AWS event
//! stream) into unified chunks.

pub mod eventstream;
mod framing;
pub mod keyring;
mod ndjson;
mod sse;
mod upstream;

pub use eventstream::EventStreamDecoder;
pub use framing::Frame;
pub use keyring::{AfterKey, KeyPick, KeyRing};
pub use sse::ChunkStream;
pub use upstream::{Upstream, UpstreamAnswer};

use crate::api::{Error, ErrorKind};
use std::time::Duration;

/// Maps a reqwest failure to the error kinds callers act on.
pub(crate) fn classify(e: &reqwest::Error, provider: &str) -> Error {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Connection
    };
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    Error::new(kind, msg).with_provider(provider)
}

/// The error for a deadline that passed.
pub(crate) fn deadline_error(what: &str, after: Duration, provider: &str) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!("no {what} within {:.3}s", after.as_secs_f64()),
    )
    .with_provider(provider)
}
