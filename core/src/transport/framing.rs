//! A streaming body as named events, whatever its wire framing: SSE (eventsource-stream),
//! NDJSON lines ([`super::ndjson`]) or the AWS binary event stream ([`super::eventstream`]). The chunk stream reads [`Frame`]s and
//! never sees the framing.

use super::classify;
use super::eventstream::EventStreamDecoder;
use super::ndjson;
use crate::api::{Error, ErrorKind};
use crate::providers::Framing;
use bytes::Bytes;
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::stream::{self, BoxStream, StreamExt};

/// One decoded event: its name and its data, as a [`crate::providers::StreamEvent`] carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub event: String,
    pub data: String,
}

/// Events of a framed body; a transport or framing failure is the last item.
pub(super) type Frames = BoxStream<'static, Result<Frame, Error>>;

/// Decodes `response`'s body per `framing`.
pub(super) fn frames(framing: Framing, response: reqwest::Response, provider: &str) -> Frames {
    match framing {
        Framing::Sse => sse_frames(response, provider.to_string()),
        Framing::Ndjson => ndjson::lines(response.bytes_stream().boxed(), provider),
        Framing::AwsEventStream => aws_frames(response.bytes_stream().boxed(), provider),
    }
}

/// SSE events. The body gets one trailing blank line, so a last event the server ended the
/// body with but did not terminate (`data: ...` and then a clean end) is dispatched rather
/// than dropped; after a terminated event it dispatches nothing. A body cut by the network
/// ends in a transport error before that point and stays an error.
fn sse_frames(response: reqwest::Response, provider: String) -> Frames {
    let tail = stream::once(async { Ok(Bytes::from_static(b"\n\n")) });
    response
        .bytes_stream()
        .chain(tail)
        .eventsource()
        .map(move |item| match item {
            Ok(ev) => Ok(Frame {
                event: ev.event,
                data: ev.data,
            }),
            Err(EventStreamError::Transport(t)) => Err(classify(&t, &provider)),
            Err(EventStreamError::Utf8(u)) => Err(Error::new(
                ErrorKind::InvalidResponse,
                format!("stream is not UTF-8: {u}"),
            )
            .with_provider(provider.clone())),
            Err(EventStreamError::Parser(p)) => Err(Error::new(
                ErrorKind::InvalidResponse,
                format!("malformed SSE: {p}"),
            )
            .with_provider(provider.clone())),
        })
        .boxed()
}

/// State of the AWS event-stream reader between polls.
struct AwsState {
    body: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    decoder: EventStreamDecoder,
    provider: String,
    done: bool,
}

/// AWS event-stream messages. A body that ends inside a message is a `connection` error (the
/// stream was cut mid-message); one that ends between messages ends the frames, and the
/// provider's decoder decides whether its end marker came.
pub(super) fn aws_frames(
    body: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    provider: &str,
) -> Frames {
    let state = AwsState {
        body,
        decoder: EventStreamDecoder::new(),
        provider: provider.to_string(),
        done: false,
    };
    stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        loop {
            match st.decoder.next_frame() {
                Ok(Some(frame)) => return Some((Ok(frame), st)),
                Ok(None) => {}
                Err(e) => {
                    st.done = true;
                    return Some((Err(e.with_provider(st.provider.clone())), st));
                }
            }
            match st.body.next().await {
                Some(Ok(bytes)) => st.decoder.push(&bytes),
                Some(Err(e)) => {
                    st.done = true;
                    let err = classify(&e, &st.provider);
                    return Some((Err(err), st));
                }
                None => {
                    st.done = true;
                    if st.decoder.has_partial() {
                        let err = Error::new(
                            ErrorKind::Connection,
                            "stream ended inside an event-stream message",
                        )
                        .with_provider(st.provider.clone());
                        return Some((Err(err), st));
                    }
                    return None;
                }
            }
        }
    })
    .boxed()
}
