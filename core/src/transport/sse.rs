//! Incremental stream decoding: bytes -> events (eventsource-stream for SSE, which keeps
//! partial events across reads without re-parsing the buffer; the NDJSON line splitter for
//! Ollama; the AWS event-stream decoder for Bedrock) -> the adapter's decoder -> unified chunks.
//! The framings live in `super::framing`; this loop never sees which one is in use.

use super::deadline_error;
use super::framing::{frames, Frames};
use crate::api::{ChatChunk, Error};
use crate::providers::{Framing, StreamDecoder, StreamEvent, StreamStep};
use futures_util::stream::{Stream, StreamExt};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

type Events = Frames;

/// A provider's stream as unified chunks. Dropping it closes the upstream connection.
pub struct ChunkStream {
    events: Option<Events>,
    decoder: Box<dyn StreamDecoder>,
    /// Chunks (and at most one final error) decoded but not yet handed out.
    pending: VecDeque<Result<ChatChunk, Error>>,
    provider: String,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    deadline_len: std::time::Duration,
    finished: bool,
}

impl std::fmt::Debug for ChunkStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStream")
            .field("provider", &self.provider)
            .field("finished", &self.finished)
            .finish()
    }
}

impl ChunkStream {
    /// Wraps a 2xx streaming response framed as `framing`.
    pub fn new(
        response: reqwest::Response,
        framing: Framing,
        decoder: Box<dyn StreamDecoder>,
        provider: String,
        deadline: Option<Instant>,
    ) -> Self {
        let now = Instant::now();
        let deadline_len = deadline
            .map(|d| d.saturating_duration_since(now))
            .unwrap_or_default();
        ChunkStream {
            events: Some(frames(framing, response, &provider)),
            decoder,
            pending: VecDeque::new(),
            provider,
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
            deadline_len,
            finished: false,
        }
    }

    /// Queues a final error after whatever arrived before it, and stops reading.
    fn fail(&mut self, e: Error) {
        let e = if e.provider.is_none() {
            e.with_provider(self.provider.clone())
        } else {
            e
        };
        self.pending.push_back(Err(e));
        self.finished = true;
        self.events = None;
    }

    fn take(&mut self, out: Vec<ChatChunk>) {
        self.pending.extend(out.into_iter().map(Ok));
    }
}

impl Stream for ChunkStream {
    type Item = Result<ChatChunk, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.pending.pop_front() {
                return Poll::Ready(Some(item));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            if let Some(d) = this.deadline.as_mut() {
                if d.as_mut().poll(cx).is_ready() {
                    this.fail(deadline_error(
                        "end of stream",
                        this.deadline_len,
                        &this.provider,
                    ));
                    continue;
                }
            }
            let Some(events) = this.events.as_mut() else {
                this.finished = true;
                continue;
            };
            match events.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(ev))) => {
                    let mut out = Vec::new();
                    let step = this.decoder.on_event(
                        StreamEvent {
                            event: &ev.event,
                            data: &ev.data,
                        },
                        &mut out,
                    );
                    this.take(out);
                    match step {
                        Ok(StreamStep::Continue) => {}
                        Ok(StreamStep::Done) => {
                            this.finished = true;
                            this.events = None;
                        }
                        Err(e) => this.fail(e),
                    }
                }
                Poll::Ready(Some(Err(e))) => this.fail(e),
                Poll::Ready(None) => {
                    let mut out = Vec::new();
                    let r = this.decoder.on_end(&mut out);
                    this.take(out);
                    match r {
                        Ok(()) => {
                            this.finished = true;
                            this.events = None;
                        }
                        Err(e) => this.fail(e),
                    }
                }
            }
        }
    }
}
