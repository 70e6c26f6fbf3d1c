//! A tiny SSE splitter for fixture files, and a driver that runs a decoder over the events.
//!
//! The real transport frames bytes with eventsource-stream; fixtures are whole files, so
//! splitting on blank lines is enough here.

use switchpoint_core::api::{ChatChunk, Error};
use switchpoint_core::providers::{StreamDecoder, StreamEvent, StreamStep};

/// Splits SSE text into `(event, data)` pairs: events end at a blank line, multiple `data:`
/// lines are joined with `\n`, comments (`:`) and other fields are ignored.
pub fn split(text: &str) -> Vec<(String, String)> {
    let mut events = Vec::new();
    let mut event = String::new();
    let mut data: Vec<&str> = Vec::new();
    let mut has_data = false;
    for line in text.lines().chain(std::iter::once("")) {
        if line.is_empty() {
            if has_data || !event.is_empty() {
                events.push((std::mem::take(&mut event), data.join("\n")));
            }
            data.clear();
            has_data = false;
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => event = value.to_string(),
            "data" => {
                data.push(value);
                has_data = true;
            }
            _ => {}
        }
    }
    events
}

/// Feeds `events` to `decoder` until it reports the end marker or an error, then calls
/// `on_end` as the transport does when the bytes end; returns the chunks and the outcome.
pub fn decode_all(
    decoder: &mut dyn StreamDecoder,
    events: &[(String, String)],
) -> (Vec<ChatChunk>, Result<(), Error>) {
    let mut out = Vec::new();
    for (event, data) in events {
        let step = decoder.on_event(StreamEvent { event, data }, &mut out);
        match step {
            Ok(StreamStep::Continue) => {}
            Ok(StreamStep::Done) => break,
            Err(e) => return (out, Err(e)),
        }
    }
    let end = decoder.on_end(&mut out);
    (out, end)
}
