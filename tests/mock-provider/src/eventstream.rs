//! The `application/vnd.amazon.eventstream` framing of Bedrock's ConverseStream, written with
//! AWS's own `aws-smithy-eventstream` crate (the one the core decodes with).

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;

use crate::fault::Fault;
use crate::sse::{assemble_with, Assembled, Event};

/// One event as a binary message: events carry `:event-type`, exceptions (names ending in
/// `Exception`) `:message-type: exception` and `:exception-type`.
pub(crate) fn encode(event: &Event) -> Bytes {
    let name = event.name.unwrap_or("event");
    let string = |v: &str| HeaderValue::String(v.to_string().into());
    let (message_type, name_header) = if name.ends_with("Exception") {
        ("exception", ":exception-type")
    } else {
        ("event", ":event-type")
    };
    let message = Message::new(event.data.clone().into_bytes())
        .add_header(Header::new(name_header, string(name)))
        .add_header(Header::new(":content-type", string("application/json")))
        .add_header(Header::new(":message-type", string(message_type)));
    let mut out = Vec::with_capacity(event.data.len() + 96);
    // Writing to a Vec fails only for a message over 16 MB, which the mock never builds.
    let _ = write_message_to(&message, &mut out);
    Bytes::from(out)
}

/// Applies `malformed` and `cut_after` (as for SSE) and frames each event as a message.
pub(crate) fn assemble(events: Vec<Event>, fault: Option<&Fault>) -> Assembled {
    assemble_with(events, fault, encode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::read_message_from;
    use serde_json::json;

    #[test]
    fn events_and_exceptions_round_trip() {
        let bytes = encode(&Event::named(
            "messageStop",
            &json!({"stopReason": "end_turn"}),
            false,
        ));
        let message = read_message_from(bytes).expect("valid message");
        let header = |n: &str| {
            message
                .headers()
                .iter()
                .find(|h| h.name().as_str() == n)
                .and_then(|h| h.value().as_string().ok())
                .map(|s| s.as_str().to_string())
        };
        assert_eq!(header(":event-type").as_deref(), Some("messageStop"));
        assert_eq!(header(":message-type").as_deref(), Some("event"));
        assert_eq!(&message.payload()[..], br#"{"stopReason":"end_turn"}"#);
        let bytes = encode(&Event::named(
            "throttlingException",
            &json!({"message": "slow"}),
            false,
        ));
        let message = read_message_from(bytes).expect("valid message");
        assert!(message
            .headers()
            .iter()
            .any(|h| h.name().as_str() == ":exception-type"));
    }
}
