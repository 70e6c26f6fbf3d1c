//! The pipeline that ties the stages together: admit, cache, route, execute, settle.
//!
//! Each stage is one function here so later concerns (policies, caching, fallback,
//! telemetry) slot in at their boundary without reshaping the call.

mod context;
mod stream;

pub use context::RequestContext;
pub use stream::ChatStream;

use crate::api::{
    validate_chat, validate_embed, AttemptFact, AttemptOutcome, ChatRequest, ChatResponse,
    EmbeddingRequest, EmbeddingResponse, Error, Facts,
};
use crate::config::{self, ResolvedConfig};
use crate::routing::{Router, Target};
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

    /// One chat completion (the request's `stream` flag is ignored; see [`Gateway::chat_stream`]).
    pub async fn chat(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<ChatResponse, Error> {
        let start = Instant::now();
        self.admit_chat(req)?;
        let target = self.inner.router.resolve(&req.model)?;
        let up = target.upstream;
        let deadline = up.deadline(start, ctx.timeout);
        let http = up.adapter.chat_request(req, target.model, false)?;
        let mut facts = new_facts(req.model.as_str(), target);
        let answer = up.send(http, deadline).await;
        let result = match answer {
            Ok(a) => {
                let sent_at = a.sent_at;
                let body = up.body(a).await;
                let waited = sent_at.elapsed();
                body.and_then(|b| up.adapter.parse_chat(&b, target.model))
                    .map(|r| (r, waited))
            }
            Err(e) => Err(e),
        };
        match result {
            Ok((mut resp, waited)) => {
                settle(&mut facts, start, waited, None);
                resp.switchpoint = Some(facts);
                Ok(resp)
            }
            Err(e) => Err(e),
        }
    }

    /// A streamed chat completion. Errors before the first chunk (including a non-2xx
    /// answer) come back here; later ones arrive in the stream, which always ends with an
    /// error rather than silently when the provider cuts it.
    pub async fn chat_stream(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<ChatStream, Error> {
        let start = Instant::now();
        self.admit_chat(req)?;
        let target = self.inner.router.resolve(&req.model)?;
        let up = target.upstream;
        let deadline = up.deadline(start, ctx.timeout);
        let http = up.adapter.chat_request(req, target.model, true)?;
        let mut facts = new_facts(req.model.as_str(), target);
        facts
            .attempts
            .push(stream::pending_attempt(&up.name, target.model));
        let answer = up.send(http, deadline).await?;
        let sent_at = answer.sent_at;
        facts.overhead_us = (sent_at - start).as_secs_f64() * 1e6;
        let chunks = up.stream(answer, target.model, deadline);
        Ok(ChatStream::new(
            chunks,
            facts,
            start,
            sent_at,
            req.wants_stream_usage(),
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
        let target = self.inner.router.resolve(&req.model)?;
        let up = target.upstream;
        let deadline = up.deadline(start, ctx.timeout);
        let http = up.adapter.embed_request(req, target.model)?;
        let mut facts = new_facts(req.model.as_str(), target);
        let answer = up.send(http, deadline).await?;
        let sent_at = answer.sent_at;
        let body = up.body(answer).await?;
        let waited = sent_at.elapsed();
        let mut resp = up.adapter.parse_embed(&body, target.model)?;
        settle(&mut facts, start, waited, None);
        resp.switchpoint = Some(facts);
        Ok(resp)
    }

    /// Stage 1 (admit): the request is well-formed. Policies join here.
    fn admit_chat(&self, req: &ChatRequest) -> Result<(), Error> {
        validate_chat(req)
    }
}

fn new_facts(model: &str, target: Target<'_>) -> Facts {
    Facts {
        provider: target.upstream.name.clone(),
        provider_model: target.model.to_string(),
        model: model.to_string(),
        ..Facts::default()
    }
}

/// Stage 5 (settle): the facts of a finished call.
fn settle(facts: &mut Facts, start: Instant, waited: Duration, error: Option<&Error>) {
    let total = start.elapsed();
    facts.latency_ms = total.as_secs_f64() * 1000.0;
    facts.overhead_us = total.saturating_sub(waited).as_secs_f64() * 1e6;
    facts.attempts.push(AttemptFact {
        provider: facts.provider.clone(),
        provider_model: facts.provider_model.clone(),
        outcome: error.map_or(AttemptOutcome::Ok, |e| AttemptOutcome::Error(e.kind)),
        latency_ms: waited.as_secs_f64() * 1000.0,
    });
}
