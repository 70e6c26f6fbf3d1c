//! The caller's view of a stream: unified chunks plus the gateway's facts once it ends.

use crate::api::{AttemptFact, AttemptOutcome, ChatChunk, Error, Facts, Usage};
use crate::transport::ChunkStream;
use futures_util::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// A streamed chat answer. Dropping it cancels the upstream request.
///
/// The provider is always asked for usage; the usage chunk is passed on only when the caller
/// asked for it (`stream_options.include_usage`), and then carries the facts.
#[derive(Debug)]
pub struct ChatStream {
    inner: ChunkStream,
    facts: Facts,
    start: Instant,
    sent_at: Instant,
    wants_usage: bool,
    usage: Option<Usage>,
    done: bool,
}

impl ChatStream {
    pub(crate) fn new(
        inner: ChunkStream,
        facts: Facts,
        start: Instant,
        sent_at: Instant,
        wants_usage: bool,
    ) -> Self {
        ChatStream {
            inner,
            facts,
            start,
            sent_at,
            wants_usage,
            usage: None,
            done: false,
        }
    }

    /// What the gateway did; latency and outcome are final once the stream ended.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The usage the provider reported, once its usage chunk arrived.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    fn settle(&mut self, error: Option<&Error>) {
        self.done = true;
        let now = Instant::now();
        self.facts.latency_ms = ms(now - self.start);
        if let Some(a) = self.facts.attempts.last_mut() {
            a.latency_ms = ms(now - self.sent_at);
            a.outcome = match error {
                Some(e) => AttemptOutcome::Error(e.kind),
                None => AttemptOutcome::Ok,
            };
        }
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.settle(None);
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(e))) => {
                    this.settle(Some(&e));
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(mut chunk))) => {
                    if this.facts.ttft_ms.is_none() {
                        this.facts.ttft_ms = Some(ms(this.start.elapsed()));
                    }
                    if let Some(u) = &chunk.usage {
                        this.usage = Some(u.clone());
                        if chunk.choices.is_empty() {
                            if !this.wants_usage {
                                continue;
                            }
                            let mut facts = this.facts.clone();
                            facts.latency_ms = ms(this.start.elapsed());
                            chunk.switchpoint = Some(facts);
                        } else if !this.wants_usage {
                            chunk.usage = None;
                        }
                    }
                    return Poll::Ready(Some(Ok(chunk)));
                }
            }
        }
    }
}

/// The attempt record for a call that has just been sent.
pub(crate) fn pending_attempt(provider: &str, model: &str) -> AttemptFact {
    AttemptFact {
        provider: provider.to_string(),
        provider_model: model.to_string(),
        outcome: AttemptOutcome::Ok,
        latency_ms: 0.0,
    }
}
