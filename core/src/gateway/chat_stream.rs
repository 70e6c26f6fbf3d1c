//! The caller's view of a stream, whatever its source: the upstream provider, an identical
//! stream already in flight (single-flight), or a stored answer replayed from the cache.
//!
//! The provider is always asked for usage; the usage chunk is passed on only when the caller
//! asked for it (`stream_options.include_usage`), and then carries the facts (cache outcome
//! and cost included). When the stream ends, the request is settled: cost computed, facts
//! completed, one record emitted to the observers.

use super::settle::{AnswerMeta, Settle};
use super::stream::UpstreamStream;
use crate::api::{ChatChunk, Error, ErrorKind, Facts, FinishReason, Usage};
use futures_util::stream::BoxStream;
use futures_util::Stream;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

/// Where a stream's chunks come from.
pub(crate) enum Source {
    /// This request's own upstream call.
    Upstream(Box<UpstreamStream>),
    /// A shared tape (single-flight) or a cache replay. A chunk carrying `switchpoint`
    /// facts updates the stream's facts (the first chunk of a tape carries the upstream
    /// call's facts, the usage chunk its final ones).
    Shared(BoxStream<'static, Result<ChatChunk, Error>>),
}

/// A streamed chat answer. Dropping it cancels this caller's part of the upstream request.
pub struct ChatStream {
    source: Source,
    facts: Facts,
    start: Instant,
    wants_usage: bool,
    usage: Option<Usage>,
    settle: Option<Settle>,
    done: bool,
    id: Option<String>,
    model: Option<String>,
    finish: Vec<FinishReason>,
    text: Option<String>,
    /// Output guardrails, checked on the whole text when the stream ends (what was sent
    /// cannot be taken back: a block ends the stream with its error, redactions are flags).
    guard: Option<crate::policy::guardrails::Guardrails>,
    guard_text: String,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("facts", &self.facts)
            .field("done", &self.done)
            .finish()
    }
}

impl ChatStream {
    pub(crate) fn new(
        source: Source,
        facts: Facts,
        start: Instant,
        wants_usage: bool,
        settle: Settle,
    ) -> ChatStream {
        let record_text = settle.prompt.is_some();
        ChatStream {
            source,
            facts,
            start,
            wants_usage,
            usage: None,
            settle: Some(settle),
            done: false,
            id: None,
            model: None,
            finish: Vec::new(),
            text: record_text.then(String::new),
            guard: None,
            guard_text: String::new(),
        }
    }

    /// Checks the stream's text with these output guardrails when it ends.
    pub(crate) fn with_output_guard(
        mut self,
        guard: Option<crate::policy::guardrails::Guardrails>,
    ) -> ChatStream {
        self.guard = guard.filter(|g| g.checks_output());
        self
    }

    /// What the gateway did; latency, outcome, cache and cost are final once the stream ended.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The usage the provider reported, once its usage chunk arrived.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    fn current_facts(&mut self) {
        if let Source::Upstream(u) = &self.source {
            let (cache, cost, ttft) = (
                self.facts.cache,
                self.facts.cost.clone(),
                self.facts.ttft_ms,
            );
            self.facts = u.facts().clone();
            self.facts.cache = cache;
            self.facts.cost = cost;
            self.facts.ttft_ms = ttft.or(self.facts.ttft_ms);
        }
        self.facts.latency_ms = self.start.elapsed().as_secs_f64() * 1000.0;
    }

    fn end(&mut self, error: Option<ErrorKind>) {
        self.done = true;
        self.current_facts();
        if let Some(settle) = self.settle.take() {
            let meta = AnswerMeta {
                id: self.id.as_deref(),
                model: self.model.as_deref(),
                finish_reasons: std::mem::take(&mut self.finish),
                text: self.text.take(),
            };
            settle.finish(&mut self.facts, self.usage.as_ref(), meta, error);
        }
    }

    fn observe(&mut self, chunk: &mut ChatChunk) {
        if let Some(f) = chunk.switchpoint.take() {
            if matches!(self.source, Source::Shared(_)) {
                let (cache, cost, ttft) = (
                    self.facts.cache,
                    self.facts.cost.clone(),
                    self.facts.ttft_ms,
                );
                let (model, route) = (self.facts.model.clone(), self.facts.route.clone());
                self.facts = f;
                self.facts.model = model;
                self.facts.route = route.or(self.facts.route.take());
                self.facts.cache = cache;
                self.facts.cost = cost;
                self.facts.ttft_ms = ttft;
            }
        }
        if self.id.is_none() {
            self.id = Some(chunk.id.clone());
            self.model = Some(chunk.model.clone());
        }
        for c in &chunk.choices {
            if let Some(f) = c.finish_reason {
                self.finish.push(f);
            }
            if let (Some(t), Some(buf)) = (&c.delta.content, self.text.as_mut()) {
                buf.push_str(t);
            }
            if let (Some(t), Some(_)) = (&c.delta.content, &self.guard) {
                self.guard_text.push_str(t);
            }
        }
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let item = match &mut this.source {
                Source::Upstream(u) => ready!(Pin::new(u.as_mut()).poll_next(cx)),
                Source::Shared(s) => ready!(s.as_mut().poll_next(cx)),
            };
            match item {
                None => {
                    if let Some(g) = this.guard.take() {
                        match g.check_output_text(&this.guard_text) {
                            Err(e) => {
                                this.end(Some(e.kind));
                                return Poll::Ready(Some(Err(e)));
                            }
                            Ok(findings) => {
                                for f in findings {
                                    tracing::warn!(rule = %f.rule, location = %f.location, "guardrail finding in a stream");
                                }
                            }
                        }
                    }
                    this.end(None);
                    return Poll::Ready(None);
                }
                Some(Err(e)) => {
                    this.end(Some(e.kind));
                    return Poll::Ready(Some(Err(e)));
                }
                Some(Ok(mut chunk)) => {
                    this.observe(&mut chunk);
                    if this.facts.ttft_ms.is_none() {
                        this.facts.ttft_ms = Some(this.start.elapsed().as_secs_f64() * 1000.0);
                    }
                    if let Some(u) = &chunk.usage {
                        this.usage = Some(u.clone());
                        if chunk.choices.is_empty() {
                            if !this.wants_usage {
                                continue;
                            }
                            this.current_facts();
                            let mut facts = this.facts.clone();
                            if let Some(s) = &this.settle {
                                s.annotate(&mut facts, this.usage.as_ref(), this.model.as_deref());
                            }
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

impl Drop for ChatStream {
    fn drop(&mut self) {
        if !self.done && self.settle.is_some() {
            // The caller left before the end: settled as cancelled.
            self.end(Some(ErrorKind::Cancelled));
        }
    }
}
