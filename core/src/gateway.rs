//! The pipeline that ties the stages together: admit, cache, route, execute, settle.
//!
//! Each stage is one function here so later concerns (policies, caching, telemetry) slot in
//! at their boundary without reshaping the call. Route (stage 3) is `routing`; execute
//! (stage 4: retries, failover, cooldowns, hedging, fallbacks) is `resilience`.

mod admin;
mod admit;
mod build;
mod calls;
mod chat_stream;
mod context;
mod cooldowns;
mod guard;
mod public;
mod responses;
mod settle;
mod shared_cache;
mod stream;

pub use chat_stream::ChatStream;
pub use context::RequestContext;
pub use responses::ResponseStream;

use crate::api::{
    validate_chat, validate_embed, AttemptFact, ChatRequest, ChatResponse, EmbeddingRequest,
    EmbeddingResponse, EmbeddingVector, Error, Facts, Usage,
};
use crate::cache::semantic::prompt_text;
use crate::cache::{
    replay, CachedAnswer, Lookup, Origin, ResponseCache, Role, SemanticOutcome, Tenant,
};
use crate::config::ResolvedConfig;
use crate::policy::{Policy, Ticket};
use crate::resilience::{Executor, Served};
use crate::routing::{Features, Route, Router, Selected};
use crate::telemetry::{price_tables, CacheStatus, Caller, Telemetry};
use arc_swap::ArcSwap;
use calls::{ChatCall, EmbedCall, NativeResponses, StreamCall};
use chat_stream::Source;
use futures_util::{FutureExt, StreamExt};
use settle::{AnswerMeta, PricingNames, Settle};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The gateway: cheap to clone, safe to share across threads and tasks. Its configuration
/// can be swapped at runtime ([`Gateway::reload`]); requests in flight finish on the one
/// they started with.
#[derive(Debug, Clone)]
pub struct Gateway {
    live: Arc<Live>,
}

/// What every clone of a gateway shares: the configuration in force and what outlives it.
#[derive(Debug)]
struct Live {
    current: ArcSwap<Inner>,
    /// Records and observers outlive reloads (metrics and usage keep counting).
    telemetry: Arc<Telemetry>,
    /// Host guardrail callbacks outlive reloads too.
    hooks: Arc<guard::HookSet>,
    /// One reload at a time.
    reloading: std::sync::Mutex<()>,
}

/// The pipeline on one configuration (what a request runs on from start to end).
#[derive(Debug, Clone)]
pub(crate) struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    router: Arc<Router>,
    /// Stage 2: the response cache, when any route caches.
    cache: Option<Arc<ResponseCache>>,
    /// Stage 5: prices, records and their observers.
    telemetry: Arc<Telemetry>,
    pricing_names: Arc<PricingNames>,
    /// Stage 1: keys, limits, budgets, on the shared state.
    policy: Arc<Policy>,
    /// Host guardrail callbacks (shared across reloads).
    hooks: Arc<guard::HookSet>,
    /// Makes private single-flight keys for requests that skip the cache read.
    bypass: AtomicU64,
    /// Kept to build a fresh gateway (new connection pools) in a forked child, and to
    /// compare with on reload.
    config: ResolvedConfig,
}

/// What a chat request the cache did not answer carries from admission to its upstream call.
struct Miss {
    call: &'static str,
    started: SystemTime,
    start: Instant,
    sel: Selected,
    caller: Caller,
    ticket: Option<Ticket>,
    route: String,
    lookup: Option<Lookup>,
    status: CacheStatus,
    embedding: Option<Vec<f32>>,
}

impl Engine {
    /// The routing table.
    pub fn router(&self) -> &Router {
        &self.inner.router
    }

    /// A chat completion, or a Responses call riding on one (`native`: sent whole to
    /// targets with a native Responses API, see [`Gateway::responses`]).
    pub(crate) async fn chat_via(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
        native: Option<Arc<NativeResponses>>,
    ) -> Result<ChatResponse, Error> {
        let call = if native.is_some() {
            "responses"
        } else {
            "chat"
        };
        // Stages 1-2 stay inline rather than in one async helper: an extra async layer measured
        // 0.1-0.2 µs on a cache hit (its state moves and polls), more than the lines it saves.
        let (start, started, features, sel) = self.admit_and_route(call, req, ctx)?;
        let policy = self.admit_policy(&req.model, &sel, &features, ctx).await;
        let policy = self.or_refused(call, &req.model, ctx, started, start, policy)?;
        let ctx = policy.ctx.as_deref().unwrap_or(ctx);
        let mut ticket = policy.ticket;
        let caller = settle::caller(ctx);
        let rewritten = self
            .checked_input(call, req, ctx, &caller, (started, start), &mut ticket)
            .await?;
        let req = rewritten.as_deref().unwrap_or(req);
        let route = sel.route.name.clone();
        // Stage 2 (cache): the exact cache, then the semantic one, then single-flight.
        let lookup = self.plan(&route, &caller, ctx, req);
        let (status, embedding) = match &lookup {
            Some(l) => match self.read_cache(l, req).await {
                Ok((status, answer)) => {
                    let out_caller = self.guards_output().then(|| caller.clone());
                    let resp = self.serve_hit(
                        answer, status, req, ctx, caller, started, start, route, call, ticket,
                    );
                    return match out_caller {
                        // Boxed with the answer it checks (only when output checks are on).
                        Some(c) => {
                            Box::pin(async move {
                                let mut resp = resp;
                                self.guard_output(&req.model, &mut resp, ctx, &c).await?;
                                Ok(resp)
                            })
                            .await
                        }
                        None => Ok(resp),
                    };
                }
                Err(embedding) => (Self::miss_status(l), embedding),
            },
            None => (CacheStatus::Off, None),
        };
        let miss = Miss {
            call,
            started,
            start,
            sel,
            caller,
            ticket,
            route,
            lookup,
            status,
            embedding,
        };
        // Boxed: the provider call's state is most of this function's size, and a cache hit
        // (which never makes it) would otherwise carry it and copy it on every move.
        Box::pin(self.chat_miss(req, ctx, native, miss)).await
    }

    /// Stages 3-5 of a chat request the cache did not answer: the upstream call (shared with
    /// identical requests in flight), the output checks, the answer stored and settled.
    async fn chat_miss(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
        native: Option<Arc<NativeResponses>>,
        miss: Miss,
    ) -> Result<ChatResponse, Error> {
        let Miss {
            call,
            started,
            start,
            sel,
            caller,
            mut ticket,
            route,
            lookup,
            status,
            embedding,
        } = miss;
        let (result, role) = match (&self.inner.cache, &lookup) {
            (Some(cache), Some(l)) if l.control.may_read() => {
                let (gw, req2, ctx2, n2) = (self.clone(), req.clone(), ctx.clone(), native.clone());
                let run = move || {
                    async move {
                        gw.execute_chat(&req2, &ctx2, sel, start, n2.as_deref())
                            .await
                    }
                    .boxed()
                };
                cache.flights().run(l.key, run).await
            }
            _ => (
                self.execute_chat(req, ctx, sel, start, native.as_deref())
                    .await,
                Role::Leader,
            ),
        };
        let status = if role == Role::Follower {
            CacheStatus::Coalesced
        } else {
            status
        };
        let out_caller = self.guards_output().then(|| caller.clone());
        let settle = self
            .settle(call, req, ctx, caller, started, status, None)
            .with_ticket(ticket.take());
        match result {
            Ok(mut resp) => {
                if let Some(c) = out_caller {
                    // Settled as answered (the provider was paid) even when the check refuses it.
                    if let Err(e) = self.guard_output(&req.model, &mut resp, ctx, &c).await {
                        let mut facts = resp.switchpoint.take().unwrap_or_default();
                        let meta = AnswerMeta {
                            id: Some(&resp.id),
                            model: Some(&resp.model),
                            ..AnswerMeta::default()
                        };
                        settle.finish(&mut facts, resp.usage.as_ref(), meta, Some(e.kind));
                        return Err(e);
                    }
                }
                let mut facts = resp.switchpoint.take().unwrap_or_default();
                if role == Role::Follower {
                    facts.attempts.clear();
                    facts.latency_ms = start.elapsed().as_secs_f64() * 1000.0;
                    facts.overhead_us = facts.latency_ms * 1000.0;
                } else if let (Some(cache), Some(l)) = (&self.inner.cache, &lookup) {
                    let origin =
                        self.origin(&settle, &facts, resp.usage.as_ref(), Some(&resp.model));
                    let answer =
                        CachedAnswer::from_response(resp.clone(), l.ttl()).with_origin(origin);
                    self.shared_cache_put(l, req, &answer);
                    cache.store(l, answer, req, embedding);
                }
                let meta = AnswerMeta {
                    id: Some(&resp.id),
                    model: Some(&resp.model),
                    finish_reasons: resp
                        .choices
                        .iter()
                        .filter_map(|c| c.finish_reason)
                        .collect(),
                    text: settle
                        .prompt
                        .as_ref()
                        .map(|_| resp.text().unwrap_or("").to_string()),
                };
                settle.finish(&mut facts, resp.usage.as_ref(), meta, None);
                resp.switchpoint = Some(facts);
                Ok(resp)
            }
            Err(e) => {
                let mut facts = failed_facts(req, &route, start, &e);
                settle.finish(&mut facts, None, AnswerMeta::default(), Some(e.kind));
                Err(e)
            }
        }
    }

    /// Stages 3-4 for a chat completion: the route's targets walked until one answers.
    async fn execute_chat(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
        sel: Selected,
        start: Instant,
        native: Option<&NativeResponses>,
    ) -> Result<ChatResponse, Error> {
        let features = Features::of(req);
        let deadline = deadline(start, ctx, &sel.route);
        let mut ex = Executor::new(&self.inner.router, ctx, features, deadline);
        let served = ex.run(&ChatCall { req, native }, sel).await?;
        let mut facts = new_facts(&req.model, &served, ex.via, ex.attempts);
        let Served { mut output, .. } = served;
        settle(&mut facts, start);
        output.switchpoint = Some(facts);
        Ok(output)
    }

    /// A chat stream, or a Responses stream riding on one (see [`Gateway::chat_via`]).
    pub(crate) async fn chat_stream_via(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
        native: Option<Arc<NativeResponses>>,
    ) -> Result<ChatStream, Error> {
        let call = if native.is_some() {
            "responses_stream"
        } else {
            "chat_stream"
        };
        // Stages 1-2 stay inline rather than in one async helper: an extra async layer measured
        // 0.1-0.2 µs on a cache hit (its state moves and polls), more than the lines it saves.
        let (start, started, features, sel) = self.admit_and_route(call, req, ctx)?;
        let policy = self.admit_policy(&req.model, &sel, &features, ctx).await;
        let policy = self.or_refused(call, &req.model, ctx, started, start, policy)?;
        let ctx = policy.ctx.as_deref().unwrap_or(ctx);
        let mut ticket = policy.ticket;
        let caller = settle::caller(ctx);
        let rewritten = self
            .checked_input(call, req, ctx, &caller, (started, start), &mut ticket)
            .await?;
        let req = rewritten.as_deref().unwrap_or(req);
        let route = sel.route.name.clone();
        let wants_usage = req.wants_stream_usage();
        let lookup = self.plan(&route, &caller, ctx, req);
        let (status, embedding) = match &lookup {
            Some(l) => match self.read_cache(l, req).await {
                Ok((status, answer)) => {
                    let facts = settle::hit_facts(req.model.clone(), route, &answer, start);
                    let mut settle = self
                        .settle(call, req, ctx, caller, started, status, None)
                        .with_ticket(ticket.take());
                    settle.saved = answer.origin.cost_usd;
                    let chunks = replay::replay_stream(answer).map(Ok).boxed();
                    return Ok(ChatStream::new(
                        Source::Shared(chunks),
                        facts,
                        start,
                        wants_usage,
                        settle,
                    )
                    .with_output_guard(self.output_guard()));
                }
                Err(embedding) => (Self::miss_status(l), embedding),
            },
            None => (CacheStatus::Off, None),
        };
        let (Some(cache), Some(l)) = (&self.inner.cache, lookup) else {
            let up = self
                .open_stream(req, ctx, sel, start, native.as_deref())
                .await;
            let settle = self
                .settle(call, req, ctx, caller, started, status, None)
                .with_ticket(ticket.take());
            return match up {
                Ok(up) => {
                    let facts = up.facts().clone();
                    Ok(ChatStream::new(
                        Source::Upstream(Box::new(up)),
                        facts,
                        start,
                        wants_usage,
                        settle,
                    )
                    .with_output_guard(self.output_guard()))
                }
                Err(e) => {
                    let mut facts = failed_facts(req, &route, start, &e);
                    settle.finish(&mut facts, None, AnswerMeta::default(), Some(e.kind));
                    Err(e)
                }
            };
        };
        // Single-flight: requests that skip the read get a private flight (never joined).
        let flight = if l.control.may_read() {
            l.key
        } else {
            l.key
                .private(self.inner.bypass.fetch_add(1, Ordering::Relaxed))
        };
        let (gw, req2, ctx2, n2) = (self.clone(), req.clone(), ctx.clone(), native.clone());
        let open = move || {
            async move {
                let up = gw
                    .open_stream(&req2, &ctx2, sel, start, n2.as_deref())
                    .await?;
                // The first chunk carries the upstream call's facts to every reader.
                let mut facts = Some(up.facts().clone());
                let s = up.map(move |item| {
                    item.map(|mut c| {
                        if let Some(f) = facts.take() {
                            c.switchpoint = Some(f);
                        }
                        c
                    })
                });
                Ok(s.boxed())
            }
            .boxed()
        };
        let (gw, req2) = (self.clone(), req.clone());
        let settle_names = self.settle(call, req, ctx, Caller::default(), started, status, None);
        let store: Box<dyn FnOnce(Vec<crate::api::ChatChunk>) + Send> = Box::new(move |chunks| {
            let Some(cache) = &gw.inner.cache else { return };
            let facts = chunks
                .first()
                .and_then(|c| c.switchpoint.clone())
                .unwrap_or_default();
            let usage = chunks.iter().rev().find_map(|c| c.usage.clone());
            let model = chunks.first().map(|c| c.model.clone());
            let origin = gw.origin(&settle_names, &facts, usage.as_ref(), model.as_deref());
            let answer = CachedAnswer::from_chunks(chunks, l.ttl()).with_origin(origin);
            gw.shared_cache_put(&l, &req2, &answer);
            cache.store(&l, answer, &req2, embedding);
        });
        let (reader, role) = cache.streams().join_or_start(flight, open, store)?;
        let status = if role == Role::Follower {
            CacheStatus::Coalesced
        } else {
            status
        };
        let settle = self
            .settle(call, req, ctx, caller, started, status, None)
            .with_ticket(ticket.take());
        if let Err(e) = reader.opened().await {
            let mut facts = failed_facts(req, &route, start, &e);
            settle.finish(&mut facts, None, AnswerMeta::default(), Some(e.kind));
            return Err(e);
        }
        let facts = Facts {
            model: req.model.clone(),
            route: Some(route),
            ..Facts::default()
        };
        Ok(ChatStream::new(
            Source::Shared(reader.into_stream()),
            facts,
            start,
            wants_usage,
            settle,
        )
        .with_output_guard(self.output_guard()))
    }

    /// Stages 3-4 for a stream: opened on the first target that sends a first chunk.
    async fn open_stream(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
        sel: Selected,
        start: Instant,
        native: Option<&NativeResponses>,
    ) -> Result<stream::UpstreamStream, Error> {
        let features = Features::of(req);
        let deadline = deadline(start, ctx, &sel.route);
        let mut ex = Executor::new(&self.inner.router, ctx, features, deadline);
        let served = ex.run(&StreamCall { req, native }, sel).await?;
        let mut facts = new_facts(&req.model, &served, ex.via, ex.attempts);
        facts.overhead_us = overhead(start, &facts.attempts);
        let resume = served
            .route
            .policy
            .stream_resume
            // A Responses stream is not resumed: the resumed request would be chat-only.
            .then_some(())
            .filter(|()| native.is_none())
            .map(|()| stream::ResumeCtx {
                gateway: self.clone(),
                req: req.clone(),
                ctx: ctx.clone(),
                deadline,
            });
        // Usage is always passed on here; the caller's ChatStream filters it.
        Ok(stream::UpstreamStream::new(
            served,
            facts,
            start,
            true,
            *self.inner.router.clock(),
            resume,
        ))
    }

    /// Embeddings for one or more inputs.
    pub async fn embed(
        &self,
        req: &EmbeddingRequest,
        ctx: &RequestContext,
    ) -> Result<EmbeddingResponse, Error> {
        let start = Instant::now();
        let started = SystemTime::now();
        let features = Features::none();
        let admitted = validate_embed(req).and_then(|()| self.route(&req.model, ctx, &features));
        let sel = self.or_refused("embed", &req.model, ctx, started, start, admitted)?;
        let policy = self.admit_embed(req, &sel, ctx).await;
        let policy = self.or_refused("embed", &req.model, ctx, started, start, policy)?;
        let ctx = policy.ctx.as_deref().unwrap_or(ctx);
        let route = sel.route.name.clone();
        let deadline = deadline(start, ctx, &sel.route);
        let mut ex = Executor::new(&self.inner.router, ctx, features, deadline);
        let result = ex.run(&EmbedCall { req }, sel).await;
        let settler = self
            .settle_plain("embed", &req.model, ctx, settle::caller(ctx), started)
            .with_ticket(policy.ticket);
        match result {
            Ok(served) => {
                let mut facts = new_facts(&req.model, &served, ex.via, ex.attempts);
                let Served { mut output, .. } = served;
                settle(&mut facts, start);
                let usage = Usage::new(output.usage.prompt_tokens.get(), 0);
                let meta = AnswerMeta {
                    model: Some(&output.model),
                    ..AnswerMeta::default()
                };
                settler.finish(&mut facts, Some(&usage), meta, None);
                output.switchpoint = Some(facts);
                Ok(output)
            }
            Err(e) => {
                let mut facts = Facts {
                    provider: e.provider.clone().unwrap_or_default(),
                    model: req.model.clone(),
                    route: Some(route),
                    latency_ms: start.elapsed().as_secs_f64() * 1000.0,
                    attempts: ex.attempts,
                    ..Facts::default()
                };
                settler.finish(&mut facts, None, AnswerMeta::default(), Some(e.kind));
                Err(e)
            }
        }
    }

    /// Stage 2: the cache decisions for a request on its route.
    fn plan(
        &self,
        route: &str,
        caller: &Caller,
        ctx: &RequestContext,
        req: &ChatRequest,
    ) -> Option<Lookup> {
        let cache = self.inner.cache.as_ref()?;
        let tenant = Tenant::of(caller.key_id.as_deref(), caller.team.as_deref());
        cache.plan(route, tenant, &ctx.cache, req)
    }

    /// Reads the exact, then the semantic cache: the answer and how it was found, or (on a
    /// miss) the prompt's embedding to remember with the answer.
    async fn read_cache(
        &self,
        l: &Lookup,
        req: &ChatRequest,
    ) -> Result<(CacheStatus, Arc<CachedAnswer>), Option<Vec<f32>>> {
        let Some(cache) = &self.inner.cache else {
            return Err(None);
        };
        if let Some(hit) = cache.get(l) {
            return Ok((CacheStatus::Hit, hit));
        }
        if let Some(hit) = self.shared_cache_get(cache, l, req).await {
            return Ok((CacheStatus::Hit, hit));
        }
        let Some(policy) = l.semantic() else {
            return Err(None);
        };
        let embedder = self.embedder(policy.embedding_model.clone());
        // Boxed for the same reason as the provider call: an embedding call is large.
        match Box::pin(cache.semantic_get(l, req, &embedder)).await {
            Ok(Some(SemanticOutcome::Hit(answer, _))) => Ok((CacheStatus::SemanticHit, answer)),
            Ok(Some(SemanticOutcome::Miss(v))) => Err(Some(v)),
            // An embedding failure only costs the semantic lookup, never the request.
            Ok(None) | Err(_) => Err(None),
        }
    }

    fn miss_status(l: &Lookup) -> CacheStatus {
        if l.control.may_read() {
            CacheStatus::Miss
        } else {
            CacheStatus::Bypass
        }
    }

    /// Embeds text through a configured embedding route (for the semantic cache).
    fn embedder(&self, model: String) -> impl crate::cache::Embedder {
        let gw = self.clone();
        move |text: String| {
            let (gw, model) = (gw.clone(), model.clone());
            async move {
                let req: EmbeddingRequest = crate::api::from_json_value(
                    serde_json::json!({"model": model, "input": text}),
                )?;
                let resp = gw.embed(&req, &RequestContext::default()).await?;
                match resp.data.into_iter().next().map(|e| e.embedding) {
                    Some(EmbeddingVector::Float(v)) => Ok(v),
                    _ => Err(Error::invalid_response(
                        "the embedding route answered without a float vector",
                    )),
                }
            }
        }
    }

    /// A cached answer served as this request's response.
    #[allow(clippy::too_many_arguments)]
    fn serve_hit(
        &self,
        answer: Arc<CachedAnswer>,
        status: CacheStatus,
        req: &ChatRequest,
        ctx: &RequestContext,
        caller: Caller,
        started: SystemTime,
        start: Instant,
        route: String,
        call: &'static str,
        ticket: Option<Ticket>,
    ) -> ChatResponse {
        let mut resp = answer.response.clone();
        let mut settle = self
            .settle(call, req, ctx, caller, started, status, None)
            .with_ticket(ticket);
        settle.saved = answer.origin.cost_usd;
        // The settle's copy of the model name and the route move into the facts.
        let model = std::mem::take(&mut settle.model);
        let mut facts = settle::hit_facts(model, route, &answer, start);
        settle.finish_hit(&mut facts, answer);
        resp.switchpoint = Some(facts);
        resp
    }

    /// What settling a chat request needs.
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &self,
        call: &'static str,
        req: &ChatRequest,
        ctx: &RequestContext,
        caller: Caller,
        started: SystemTime,
        cache: CacheStatus,
        saved: Option<rust_decimal::Decimal>,
    ) -> Settle {
        let t = &self.inner.telemetry;
        Settle {
            cache,
            saved,
            prompt: t.content_recording().map(|_| prompt_text(req)),
            ..self.settle_plain(call, &req.model, ctx, caller, started)
        }
    }

    /// What settling needs for a call with no cache and no recorded prompt (embeddings,
    /// requests refused before any provider).
    fn settle_plain(
        &self,
        call: &'static str,
        model: &str,
        ctx: &RequestContext,
        caller: Caller,
        started: SystemTime,
    ) -> Settle {
        Settle {
            telemetry: self.inner.telemetry.clone(),
            names: self.inner.pricing_names.clone(),
            call,
            model: model.to_string(),
            started,
            caller,
            tags: ctx.tags.clone(),
            cache: CacheStatus::Off,
            saved: None,
            prompt: None,
            ticket: None,
        }
    }

    /// Who made an answer and what it cost, stored with it.
    fn origin(
        &self,
        settle: &Settle,
        facts: &Facts,
        usage: Option<&Usage>,
        model: Option<&str>,
    ) -> Origin {
        Origin {
            provider: facts.provider.clone(),
            provider_model: facts.provider_model.clone(),
            provider_kind: settle.provider_kind(&facts.provider),
            cost_usd: usage
                .and_then(|u| settle.price(facts, model, u))
                .map(|c| c.total),
        }
    }

    /// Passes an admitted request on; a request the gateway refused before any provider
    /// (invalid, unknown model, no capable target) still leaves its record, so usage, error
    /// metrics and observers count it.
    fn or_refused<T>(
        &self,
        call: &'static str,
        model: &str,
        ctx: &RequestContext,
        started: SystemTime,
        start: Instant,
        admitted: Result<T, Error>,
    ) -> Result<T, Error> {
        admitted.inspect_err(|e| {
            let settler = self.settle_plain(call, model, ctx, settle::caller(ctx), started);
            let mut facts = Facts {
                model: model.to_string(),
                latency_ms: start.elapsed().as_secs_f64() * 1000.0,
                ..Facts::default()
            };
            settler.finish(&mut facts, None, AnswerMeta::default(), Some(e.kind));
        })
    }

    /// Stage 1 and the routing decision of a chat request, plain or streamed, with the
    /// clocks its record needs; a refusal leaves its record.
    fn admit_and_route(
        &self,
        call: &'static str,
        req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<(Instant, SystemTime, Features, Selected), Error> {
        let start = Instant::now();
        let started = SystemTime::now();
        let features = Features::of(req);
        let admitted = self
            .admit_chat(req)
            .and_then(|()| self.route(&req.model, ctx, &features));
        let sel = self.or_refused(call, &req.model, ctx, started, start, admitted)?;
        Ok((start, started, features, sel))
    }

    /// The request as the input guardrails and hooks rewrote it (`None`: unchanged, always so
    /// when none are on; boxed, since it rides in the request's future); one they refuse
    /// releases its counters (nothing was spent) and leaves its record.
    async fn checked_input(
        &self,
        call: &'static str,
        req: &ChatRequest,
        ctx: &RequestContext,
        caller: &Caller,
        (started, start): (SystemTime, Instant),
        ticket: &mut Option<Ticket>,
    ) -> Result<Option<Box<ChatRequest>>, Error> {
        if !self.guards_input() {
            return Ok(None);
        }
        // Boxed (only when guardrails are on), for the same reason as the policy admission.
        let checked = Box::pin(self.guard_input(req, ctx, caller)).await;
        if checked.is_err() {
            if let Some(t) = ticket.take() {
                t.settle(rust_decimal::Decimal::ZERO, 0);
            }
        }
        self.or_refused(call, &req.model, ctx, started, start, checked)
            .map(|r| Some(Box::new(r)))
    }

    /// Stage 1 (admit): the request is well-formed. Policies join here.
    fn admit_chat(&self, req: &ChatRequest) -> Result<(), Error> {
        validate_chat(req)
    }

    /// Stage 3 (route): the model name through rules to the route that will serve it.
    fn route(
        &self,
        model: &str,
        ctx: &RequestContext,
        features: &Features,
    ) -> Result<Selected, Error> {
        self.inner.router.select(model, ctx, features)
    }
}

/// The overall deadline: the sooner of the caller's timeout and the route's total.
fn deadline(start: Instant, ctx: &RequestContext, route: &Route) -> Option<tokio::time::Instant> {
    let limit = match (ctx.timeout, route.policy.timeouts.total) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }?;
    let elapsed = start.elapsed();
    Some(tokio::time::Instant::now() + limit.saturating_sub(elapsed))
}

fn new_facts<T>(
    model: &str,
    served: &Served<T>,
    via: Vec<String>,
    attempts: Vec<AttemptFact>,
) -> Facts {
    let t = &served.route.slots[served.slot].target;
    Facts {
        provider: t.provider.name.clone(),
        provider_model: t.model.clone(),
        model: model.to_string(),
        attempts,
        route: Some(served.route.name.clone()),
        routed_via: via,
        ..Facts::default()
    }
}

/// Time not spent waiting on providers or in backoff, µs.
fn overhead(start: Instant, attempts: &[AttemptFact]) -> f64 {
    let waited: f64 = attempts
        .iter()
        .map(|a| a.latency_ms + a.waited_ms)
        .sum::<f64>()
        / 1000.0;
    start
        .elapsed()
        .saturating_sub(Duration::from_secs_f64(waited.max(0.0)))
        .as_secs_f64()
        * 1e6
}

/// The facts of a request that failed before any answer.
fn failed_facts(req: &ChatRequest, route: &str, start: Instant, e: &Error) -> Facts {
    Facts {
        // The provider whose answer failed the request (none when the gateway refused it).
        provider: e.provider.clone().unwrap_or_default(),
        model: req.model.clone(),
        route: Some(route.to_string()),
        latency_ms: start.elapsed().as_secs_f64() * 1000.0,
        ..Facts::default()
    }
}

/// Provider config name -> names its prices are looked up under: itself, the preset it
/// uses (by name or by base URL), its wire format.
fn pricing_names(cfg: &ResolvedConfig) -> PricingNames {
    cfg.providers
        .iter()
        .map(|(name, p)| (name.clone(), price_tables(name, &p.settings)))
        .collect()
}

/// Stage 5 (settle): the facts of a finished call.
fn settle(facts: &mut Facts, start: Instant) {
    facts.latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    facts.overhead_us = overhead(start, &facts.attempts);
}
