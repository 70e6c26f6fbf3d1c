//! The caller's view of a stream: unified chunks plus the gateway's facts once it ends.
//!
//! Failover happens before the first chunk is handed out (the executor reads it). After
//! that, a cut stream ends with its typed error, or, when the route opts in with
//! `stream_resume`, continues on another target of the route: the text so far is sent as
//! the start of the assistant's answer and the new target's chunks follow in the same
//! stream, under the first chunk's id, created time and model.

use super::calls::{Opened, StreamCall};
use super::{Engine, RequestContext};
use crate::api::{AttemptOutcome, ChatChunk, ChatRequest, Error, Facts, Message, Role, Usage};
use crate::resilience::{CooldownPolicy, Executor, Served};
use crate::routing::{Clock, Features, Lease, Route};
use crate::transport::ChunkStream;
use futures_util::Stream;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

type Resumed = (Result<Served<Opened>, Error>, Vec<crate::api::AttemptFact>);

/// What a stream needs to continue on another target after a cut.
pub(crate) struct ResumeCtx {
    pub gateway: Engine,
    pub req: ChatRequest,
    pub ctx: RequestContext,
    pub deadline: Option<tokio::time::Instant>,
}

/// A stream from upstream (the caller sees it through [`super::ChatStream`]). Dropping it
/// cancels the upstream request.
///
/// The provider is always asked for usage; the usage chunk is passed on only when the caller
/// asked for it (`stream_options.include_usage`), and then carries the facts.
pub(crate) struct UpstreamStream {
    inner: Option<ChunkStream>,
    /// The first chunk of the current attempt, read before the stream was handed out.
    pending: Option<ChatChunk>,
    facts: Facts,
    /// Index in `facts.attempts` of the attempt now streaming.
    current: usize,
    start: Instant,
    sent_at: Instant,
    wants_usage: bool,
    usage: Option<Usage>,
    done: bool,
    lease: Option<Lease>,
    route: Arc<Route>,
    slot: usize,
    tried: Vec<usize>,
    cooldown: CooldownPolicy,
    clock: Clock,
    /// id, created and model of the first chunk the caller saw.
    identity: Option<(String, u64, String)>,
    /// Text of choice 0 so far, for resuming.
    text: String,
    /// Still resumable: one choice, no tool calls, no finish reason yet.
    resumable: bool,
    resume: Option<ResumeCtx>,
    resuming: Option<Pin<Box<dyn Future<Output = Resumed> + Send>>>,
    /// The error that cut the stream while a resume runs.
    cut: Option<Error>,
    /// Chunks come from a resumed attempt and take the first attempt's identity.
    rewrite: bool,
}

impl std::fmt::Debug for UpstreamStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamStream")
            .field("facts", &self.facts)
            .field("done", &self.done)
            .field("resuming", &self.resuming.is_some())
            .finish()
    }
}

impl UpstreamStream {
    pub(crate) fn new(
        served: Served<Opened>,
        facts: Facts,
        start: Instant,
        wants_usage: bool,
        clock: Clock,
        resume: Option<ResumeCtx>,
    ) -> Self {
        let Served {
            output,
            route,
            slot,
            lease,
        } = served;
        let current = facts.attempts.len().saturating_sub(1);
        UpstreamStream {
            inner: Some(output.chunks),
            pending: Some(output.first),
            current,
            facts,
            start,
            sent_at: output.sent_at,
            wants_usage,
            usage: None,
            done: false,
            lease: Some(lease),
            cooldown: route.policy.cooldown,
            tried: vec![slot],
            route,
            slot,
            clock,
            identity: None,
            text: String::new(),
            resumable: true,
            resume,
            resuming: None,
            cut: None,
            rewrite: false,
        }
    }

    /// What the gateway did; latency and outcome are final once the stream ended.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }
    /// Ends the current attempt's record: its full time and outcome.
    fn close_attempt(&mut self, error: Option<&Error>) {
        let latency = ms(self.sent_at.elapsed());
        if let Some(a) = self.facts.attempts.get_mut(self.current) {
            a.latency_ms = latency;
            if let Some(e) = error {
                a.outcome = AttemptOutcome::Error(e.kind);
                a.message = Some(e.message.clone());
            }
        }
        if let (Some(e), Some(lease)) = (error, self.lease.as_mut()) {
            lease.failed_after_success(self.clock.now_ms(), e.kind, &self.cooldown);
        }
        self.lease = None;
    }

    fn finish(&mut self, error: Option<&Error>) {
        self.close_attempt(error);
        self.done = true;
        self.inner = None;
        self.facts.latency_ms = ms(self.start.elapsed());
    }

    /// Starts continuing on another target of the route, when the route allows it and
    /// the answer so far can be continued.
    fn try_resume(&mut self, err: &Error) -> bool {
        if self.resume.is_none() || !self.resumable || !crate::resilience::fails_over(err.kind) {
            return false;
        }
        self.close_attempt(Some(err));
        let Some(r) = self.resume.as_ref() else {
            return false;
        };
        self.inner = None;
        let mut req = r.req.clone();
        if !self.text.is_empty() {
            req.messages
                .push(Message::text(Role::Assistant, self.text.clone()));
        }
        let gateway = r.gateway.clone();
        let ctx = r.ctx.clone();
        let deadline = r.deadline;
        let route = Arc::clone(&self.route);
        let tried = self.tried.clone();
        self.resuming = Some(Box::pin(async move {
            let features = Features::of(&req);
            let router = gateway.router();
            let mut ex = Executor::new(router, &ctx, features, deadline);
            let mut plan = route.plan(features);
            for i in tried {
                plan.mark_tried(i);
            }
            let res = ex
                .run_plan(
                    &StreamCall {
                        req: &req,
                        native: None,
                    },
                    &route,
                    plan,
                )
                .await;
            (res, ex.attempts)
        }));
        self.cut = Some(err.clone());
        true
    }

    fn install(&mut self, served: Served<Opened>) {
        self.slot = served.slot;
        self.tried.push(served.slot);
        let t = &served.route.slots[served.slot].target;
        self.facts.provider = t.provider.name.clone();
        self.facts.provider_model = t.model.clone();
        self.current = self.facts.attempts.len().saturating_sub(1);
        self.sent_at = served.output.sent_at;
        self.inner = Some(served.output.chunks);
        self.pending = Some(served.output.first);
        self.lease = Some(served.lease);
        self.rewrite = true;
    }

    /// Records what a chunk tells about the answer, and rewrites a resumed one; false when
    /// the chunk carries nothing for the caller.
    fn observe(&mut self, chunk: &mut ChatChunk) -> bool {
        if self.resume.is_none() {
            return true; // nothing to resume: no bookkeeping per chunk
        }
        if self.rewrite {
            if let Some((id, created, model)) = &self.identity {
                chunk.id.clone_from(id);
                chunk.created = *created;
                chunk.model.clone_from(model);
            }
            for c in &mut chunk.choices {
                c.delta.role = None;
            }
            let empty = chunk.usage.is_none()
                && chunk.choices.iter().all(|c| {
                    c.finish_reason.is_none()
                        && c.delta.content.as_deref().is_none_or(str::is_empty)
                        && c.delta.tool_calls.is_none()
                        && c.delta.refusal.is_none()
                });
            if empty {
                return false;
            }
        } else if self.identity.is_none() {
            self.identity = Some((chunk.id.clone(), chunk.created, chunk.model.clone()));
        }
        for c in &chunk.choices {
            if c.index != 0 || c.delta.tool_calls.is_some() || c.finish_reason.is_some() {
                self.resumable = false;
            }
            if let Some(t) = &c.delta.content {
                if c.index == 0 {
                    self.text.push_str(t);
                }
            }
        }
        true
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Stream for UpstreamStream {
    type Item = Result<ChatChunk, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(fut) = this.resuming.as_mut() {
                let (res, attempts) = ready!(fut.as_mut().poll(cx));
                this.resuming = None;
                this.facts
                    .attempts
                    .extend(attempts.into_iter().map(|mut a| {
                        a.resumed = true;
                        a
                    }));
                let cut = this.cut.take();
                match res {
                    Ok(served) => {
                        this.install(served);
                        continue;
                    }
                    Err(e) => {
                        let err = match cut {
                            Some(mut c) => {
                                c.message
                                    .push_str(&format!("; resuming on another target failed: {e}"));
                                c
                            }
                            None => e,
                        };
                        this.done = true;
                        this.facts.latency_ms = ms(this.start.elapsed());
                        return Poll::Ready(Some(Err(err)));
                    }
                }
            }
            let item = match this.pending.take() {
                Some(c) => Some(Ok(c)),
                None => match this.inner.as_mut() {
                    Some(s) => ready!(Pin::new(s).poll_next(cx)),
                    None => None,
                },
            };
            match item {
                None => {
                    this.finish(None);
                    return Poll::Ready(None);
                }
                Some(Err(e)) => {
                    if this.try_resume(&e) {
                        continue;
                    }
                    this.finish(Some(&e));
                    return Poll::Ready(Some(Err(e)));
                }
                Some(Ok(mut chunk)) => {
                    if !this.observe(&mut chunk) {
                        continue;
                    }
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
