//! The binary `application/vnd.amazon.eventstream` framing (Bedrock ConverseStream), decoded
//! with AWS's maintained `aws-smithy-eventstream` crate, which checks both CRCs.
//!
//! Each message becomes one [`Frame`]: for `:message-type: event` the `:event-type` header
//! names it and the payload is its JSON; for `:message-type: exception` the
//! `:exception-type` header names it (`throttlingException`, ...) and the payload is the
//! exception's JSON; for `:message-type: error` the `:error-code` header names it and the
//! data is `{"message": <:error-message>}`. Bytes are buffered only until a message is
//! complete, so a message split across reads at any offset decodes the same.

use super::framing::Frame;
use crate::api::{Error, ErrorKind};
use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::{Buf, BytesMut};

/// Incremental decoder: push bytes as they arrive, take frames as they complete.
#[derive(Debug, Default)]
pub struct EventStreamDecoder {
    buf: BytesMut,
    frames: MessageFrameDecoder,
    /// Bytes of a message taken from `buf` by the frame decoder (its 12-byte prelude).
    in_message: bool,
}

impl EventStreamDecoder {
    /// A decoder with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the body.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete message, `None` when more bytes are needed; an error for a message
    /// that is not valid event-stream (bad length, CRC mismatch, bad header).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, Error> {
        let before = self.buf.remaining();
        let decoded = self.frames.decode_frame(&mut self.buf).map_err(|e| {
            Error::new(
                ErrorKind::InvalidResponse,
                format!("malformed event-stream message: {e}"),
            )
        })?;
        match decoded {
            DecodedFrame::Incomplete => {
                if self.buf.remaining() < before {
                    self.in_message = true;
                }
                Ok(None)
            }
            DecodedFrame::Complete(message) => {
                self.in_message = false;
                to_frame(&message).map(Some)
            }
        }
    }

    /// Whether bytes of an unfinished message are pending (a body that ends here was cut).
    pub fn has_partial(&self) -> bool {
        self.in_message || self.buf.has_remaining()
    }
}

/// A string header's value.
fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

/// One message as the name and data a stream decoder reads.
fn to_frame(message: &Message) -> Result<Frame, Error> {
    let kind = header(message, ":message-type").unwrap_or("event");
    let payload = || {
        std::str::from_utf8(message.payload())
            .map(str::to_string)
            .map_err(|_| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    "event-stream payload is not UTF-8",
                )
            })
    };
    match kind {
        "event" => Ok(Frame {
            event: header(message, ":event-type")
                .unwrap_or_default()
                .to_string(),
            data: payload()?,
        }),
        "exception" => Ok(Frame {
            event: header(message, ":exception-type")
                .unwrap_or("exception")
                .to_string(),
            data: payload()?,
        }),
        "error" => Ok(Frame {
            event: header(message, ":error-code")
                .unwrap_or("error")
                .to_string(),
            data: serde_json::json!({ "message": header(message, ":error-message") }).to_string(),
        }),
        other => Err(Error::new(
            ErrorKind::InvalidResponse,
            format!("unknown event-stream message type `{other}`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::write_message_to;
    use aws_smithy_types::event_stream::Header;

    fn event(kind: &str, name_header: &str, name: &str, payload: &str) -> Vec<u8> {
        let message = Message::new(payload.as_bytes().to_vec())
            .add_header(Header::new(
                ":message-type",
                HeaderValue::String(kind.to_string().into()),
            ))
            .add_header(Header::new(
                name_header.to_string(),
                HeaderValue::String(name.to_string().into()),
            ))
            .add_header(Header::new(
                ":content-type",
                HeaderValue::String("application/json".into()),
            ));
        let mut out = Vec::new();
        write_message_to(&message, &mut out).expect("encode");
        out
    }

    /// The recorded-shape stream of `tests/fixtures/bedrock/converse-stream.bin`.
    const FIXTURE: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/bedrock/converse-stream.bin"
    ));

    fn decode_in_pieces(bytes: &[u8], cuts: &mut dyn Iterator<Item = usize>) -> Vec<Frame> {
        let mut d = EventStreamDecoder::new();
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let n = cuts.next().unwrap_or(1).max(1);
            let end = (at + n).min(bytes.len());
            d.push(&bytes[at..end]);
            at = end;
            while let Some(f) = d.next_frame().expect("valid stream") {
                out.push(f);
            }
        }
        assert!(!d.has_partial(), "nothing may be left over");
        out
    }

    #[test]
    fn the_fixture_decodes_the_same_at_every_split() {
        let whole = decode_in_pieces(FIXTURE, &mut std::iter::once(FIXTURE.len()));
        let names: Vec<&str> = whole.iter().map(|f| f.event.as_str()).collect();
        assert_eq!(
            names,
            [
                "messageStart",
                "contentBlockDelta",
                "contentBlockDelta",
                "contentBlockStop",
                "contentBlockStart",
                "contentBlockDelta",
                "contentBlockDelta",
                "contentBlockStop",
                "messageStop",
                "metadata"
            ]
        );
        assert!(
            whole[1].data.contains(r#""text":"Hello"#),
            "{}",
            whole[1].data
        );
        // Pieces of 1..7 bytes in a repeating pattern: cuts land mid-prelude, mid-header,
        // mid-payload and mid-CRC of every message.
        for size in 1..=7 {
            let split = decode_in_pieces(FIXTURE, &mut std::iter::repeat(size));
            assert_eq!(split, whole, "pieces of {size} bytes");
        }
        let mut pattern = [3usize, 1, 7, 2, 5, 4, 6].into_iter().cycle();
        assert_eq!(decode_in_pieces(FIXTURE, &mut pattern), whole);
    }

    #[test]
    fn cuts_at_each_part_of_one_message_wait_for_the_rest() {
        let msg = event(
            "event",
            ":event-type",
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"hi"}}"#,
        );
        let total = msg.len();
        let header_len = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]) as usize;
        // Mid-prelude (5), just after the prelude CRC (12), mid-header, mid-payload, mid-CRC.
        for cut in [5, 12, 12 + header_len / 2, 12 + header_len + 3, total - 2] {
            let mut d = EventStreamDecoder::new();
            d.push(&msg[..cut]);
            assert_eq!(d.next_frame().expect("ok"), None, "cut at {cut}");
            assert!(d.has_partial(), "cut at {cut}");
            d.push(&msg[cut..]);
            let f = d.next_frame().expect("ok").expect("complete");
            assert_eq!(f.event, "contentBlockDelta");
            assert_eq!(f.data, r#"{"contentBlockIndex":0,"delta":{"text":"hi"}}"#);
            assert!(!d.has_partial());
        }
    }

    #[test]
    fn exceptions_and_errors_are_named_by_their_type() {
        let mut d = EventStreamDecoder::new();
        d.push(&event(
            "exception",
            ":exception-type",
            "throttlingException",
            r#"{"message":"slow down"}"#,
        ));
        let f = d.next_frame().expect("ok").expect("frame");
        assert_eq!(f.event, "throttlingException");
        assert_eq!(f.data, r#"{"message":"slow down"}"#);

        let message = Message::new(Vec::new())
            .add_header(Header::new(
                ":message-type",
                HeaderValue::String("error".into()),
            ))
            .add_header(Header::new(
                ":error-code",
                HeaderValue::String("InternalFailure".into()),
            ))
            .add_header(Header::new(
                ":error-message",
                HeaderValue::String("boom".into()),
            ));
        let mut bytes = Vec::new();
        write_message_to(&message, &mut bytes).expect("encode");
        d.push(&bytes);
        let f = d.next_frame().expect("ok").expect("frame");
        assert_eq!(f.event, "InternalFailure");
        assert_eq!(f.data, r#"{"message":"boom"}"#);
    }

    #[test]
    fn a_corrupted_crc_is_invalid_response() {
        let mut msg = event("event", ":event-type", "messageStop", "{}");
        let last = msg.len() - 1;
        msg[last] ^= 0xff;
        let mut d = EventStreamDecoder::new();
        d.push(&msg);
        let err = d.next_frame().expect_err("crc");
        assert_eq!(err.kind, ErrorKind::InvalidResponse);
        assert!(
            err.message.contains("malformed event-stream"),
            "{}",
            err.message
        );
    }
}
