//! The pipeline that ties the stages together: admit, cache, route, execute, settle.
//!
//! Each stage is one function here so later concerns (policies, caching, telemetry) slot in
//! at their boundary without reshaping the call. Route (stage 3) is `routing`; execute
//! (stage 4: retries, failover, cooldowns, hedging, fallbacks) is `resilience`.

mod calls;
mod context;
mod stream;

pub use context::RequestContext;
pub use stream::ChatStream;

use crate::api::{
    validate_chat, validate_embed, AttemptFact, ChatRequest, ChatResponse, EmbeddingRequest,
    EmbeddingResponse, Error, Facts,
};
use crate::config::{self, ResolvedConfig};
use crate::resilience::{Executor, Served};
use crate::routing::{Features, Route, Router, Selected, TargetHealth};
use calls::{ChatCall, EmbedCall, StreamCall};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The gateway: cheap to clone, safe to share across threads and tasks.
#[derive(Debug, Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    router: Router,
    /// Kept to build a fresh gateway (new connection pools) in a forked child.
    config: ResolvedConfig,
}

impl Gateway {
    /// A gateway from a resolved configuration.
    pub fn from_config(cfg: ResolvedConfig) -> Result<Gateway, Error> {
        Ok(Gateway {
            inner: Arc::new(Inner {
                router: Router::new(cfg.clone())?,
                config: cfg,
            }),
        })
    }

    /// A fresh gateway from the same configuration, with new connection pools: what a
    /// forked child needs, since pooled connections belong to the parent's runtime.
    pub fn rebuild(&self) -> Result<Gateway, Error> {
        Gateway::from_config(self.inner.config.clone())
    }

    /// A gateway from a YAML or JSON config file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Gateway, Error> {
        Gateway::from_config(config::load_file(path)?)
    }

    /// A gateway from YAML or JSON config text.
    pub fn from_text(text: &str) -> Result<Gateway, Error> {
        Gateway::from_config(config::load_text(text)?)
    }

    /// A gateway from an already-parsed config object (a Python dict, a JS object).
    pub fn from_value(value: serde_json::Value) -> Result<Gateway, Error> {
        Gateway::from_config(config::resolve(
            config::parse_value(value)?,
            &config::process_env,
        )?)
    }

    /// A gateway with no config: `provider/model` names, keys from the environment.
    pub fn from_env() -> Result<Gateway, Error> {
        Gateway::from_config(config::resolve(
            config::ConfigFile::default(),
            &config::process_env,
        )?)
    }

    /// Every target's state: healthy, cooling down (until when) or half-open, latency,
    /// recent error rate and requests in flight. Plain data, serializable to JSON.
    pub fn health(&self) -> Vec<TargetHealth> {
        self.inner.router.health()
    }

    /// The routing table, for benchmarks and diagnostics (the decision alone, health).
    pub fn router(&self) -> &Router {
        &self.inner.router
    }

    /// One chat completion (the request's `stream` flag is ignored; see [`Gateway::chat_stream`]).
    pub async fn chat(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<ChatResponse, Error> {
        let start = Instant::now();
        self.admit_chat(req)?;
        let features = Features::of(req);
        let sel = self.route(&req.model, ctx, &features)?;
        let deadline = deadline(start, ctx, &sel.route);
        let mut ex = Executor::new(&self.inner.router, ctx, features, deadline);
        let served = ex.run(&ChatCall { req }, sel).await?;
        let mut facts = new_facts(&req.model, &served, ex.via, ex.attempts);
        let Served { mut output, .. } = served;
        settle(&mut facts, start);
        output.switchpoint = Some(facts);
        Ok(output)
    }

    /// A streamed chat completion. Errors before the first chunk (including a non-2xx
    /// answer) fail over and, when every target failed, come back here; later ones arrive in
    /// the stream, which always ends with an error rather than silently when cut.
    pub async fn chat_stream(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<ChatStream, Error> {
        let start = Instant::now();
        self.admit_chat(req)?;
        let features = Features::of(req);
        let sel = self.route(&req.model, ctx, &features)?;
        let deadline = deadline(start, ctx, &sel.route);
        let mut ex = Executor::new(&self.inner.router, ctx, features, deadline);
        let served = ex.run(&StreamCall { req }, sel).await?;
        let mut facts = new_facts(&req.model, &served, ex.via, ex.attempts);
        facts.overhead_us = overhead(start, &facts.attempts);
        let resume = served
            .route
            .policy
            .stream_resume
            .then(|| stream::ResumeCtx {
                gateway: self.clone(),
                req: req.clone(),
                ctx: ctx.clone(),
                deadline,
            });
        Ok(ChatStream::new(
            served,
            facts,
            start,
            req.wants_stream_usage(),
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
        validate_embed(req)?;
        let features = Features::none();
        let sel = self.route(&req.model, ctx, &features)?;
        let deadline = deadline(start, ctx, &sel.route);
        let mut ex = Executor::new(&self.inner.router, ctx, features, deadline);
        let served = ex.run(&EmbedCall { req }, sel).await?;
        let mut facts = new_facts(&req.model, &served, ex.via, ex.attempts);
        let Served { mut output, .. } = served;
        settle(&mut facts, start);
        output.switchpoint = Some(facts);
        Ok(output)
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

/// Stage 5 (settle): the facts of a finished call.
fn settle(facts: &mut Facts, start: Instant) {
    facts.latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    facts.overhead_us = overhead(start, &facts.attempts);
}
