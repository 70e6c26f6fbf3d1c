//! Stage 5 (settle): what a finished request cost, its cache outcome in the facts, and its
//! record handed to the observers.

use crate::api::{CostFact, ErrorKind, Facts, FinishReason, Usage};
use crate::cache::CachedAnswer;
use crate::config::Secret;
use crate::telemetry::pending::{Packed, PendingHit, PendingRecord};
use crate::telemetry::{
    CacheOutcome, CacheStatus, Caller, Cost, RecordedContent, Status, Telemetry, TokenSplit,
};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use super::RequestContext;
use crate::policy::Ticket;

/// Provider config name -> the names its prices are looked up under (itself, its preset,
/// its wire format).
pub(crate) type PricingNames = HashMap<String, Vec<String>>;

/// A non-secret id for a virtual key: `key-` and 16 hex digits of its BLAKE3 hash.
pub(crate) fn key_id(key: &Secret) -> String {
    let h = blake3::hash(key.expose().as_bytes());
    let hex: String = h.as_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("key-{hex}")
}

/// Who is asking, as records and cache namespaces name them (never the key itself).
pub(crate) fn caller(ctx: &RequestContext) -> Caller {
    Caller {
        key_id: ctx.api_key.as_ref().map(key_id),
        user: ctx.user.clone(),
        team: ctx.team.clone(),
        tier: ctx.tier.clone(),
    }
}

/// What settling needs to know about a request, gathered when it starts.
pub(crate) struct Settle {
    pub telemetry: Arc<Telemetry>,
    pub names: Arc<PricingNames>,
    pub call: &'static str,
    pub model: String,
    pub started: SystemTime,
    pub caller: Caller,
    pub tags: Vec<String>,
    pub cache: CacheStatus,
    /// For hits and coalesced requests: what the answer cost when it was made.
    pub saved: Option<Decimal>,
    /// The prompt text, when content recording is on.
    pub prompt: Option<String>,
    /// The limit and budget counters admission moved, settled with the real cost.
    pub ticket: Option<Ticket>,
}

/// The parts of an answer a record describes.
#[derive(Default)]
pub(crate) struct AnswerMeta<'a> {
    pub id: Option<&'a str>,
    pub model: Option<&'a str>,
    pub finish_reasons: Vec<FinishReason>,
    pub text: Option<String>,
}

impl std::fmt::Debug for Settle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settle")
            .field("call", &self.call)
            .field("cache", &self.cache)
            .finish()
    }
}

impl Settle {
    /// Carries the admission's counters to the end of the request.
    pub fn with_ticket(mut self, ticket: Option<Ticket>) -> Settle {
        self.ticket = ticket;
        self
    }

    fn names_of<'a>(&'a self, provider: &'a str) -> Vec<&'a str> {
        match self.names.get(provider) {
            Some(n) => n.iter().map(String::as_str).collect(),
            None => vec![provider],
        }
    }

    /// The price of `usage` on the provider that served it (by its model id, then by the
    /// model the answer names).
    pub fn price(&self, facts: &Facts, answer_model: Option<&str>, usage: &Usage) -> Option<Cost> {
        let names = self.names_of(&facts.provider);
        self.telemetry
            .cost(&names, &facts.provider_model, usage)
            .or_else(|| answer_model.and_then(|m| self.telemetry.cost(&names, m, usage)))
    }

    /// The provider's preset or wire-format name (the last pricing name).
    pub fn provider_kind(&self, provider: &str) -> String {
        self.names_of(provider)
            .last()
            .map_or_else(|| provider.to_string(), |s| s.to_string())
    }

    /// Sets the facts' cache outcome and cost; returns the cost when this request paid one.
    pub fn annotate(
        &self,
        facts: &mut Facts,
        usage: Option<&Usage>,
        answer_model: Option<&str>,
    ) -> Option<Cost> {
        let served_here = !self.cache.is_hit();
        let cost = if served_here {
            usage.and_then(|u| self.price(facts, answer_model, u))
        } else {
            None
        };
        if self.cache != CacheStatus::Off {
            facts.cache = Some(self.cache);
        }
        facts.cost = match (&cost, self.saved) {
            (Some(c), _) => Some(CostFact {
                usd: c.total,
                saved_usd: None,
            }),
            (None, Some(saved)) if !served_here => Some(CostFact {
                usd: Decimal::ZERO,
                saved_usd: Some(saved),
            }),
            _ => None,
        };
        cost
    }

    /// Completes the facts (cache outcome, cost) and emits the request's record.
    pub fn finish(
        mut self,
        facts: &mut Facts,
        usage: Option<&Usage>,
        answer: AnswerMeta<'_>,
        error: Option<ErrorKind>,
    ) {
        let served_here = !self.cache.is_hit();
        let cost = self.annotate(facts, usage, answer.model);
        let tokens = match (served_here, usage) {
            (true, Some(u)) => TokenSplit::from_usage(u),
            _ => TokenSplit::default(),
        };
        if let Some(t) = self.ticket.take() {
            let total = usage
                .filter(|_| served_here)
                .map_or(0, |u| u.prompt_tokens.get() + u.completion_tokens.get());
            t.settle(cost.as_ref().map_or(Decimal::ZERO, |c| c.total), total);
        }
        let content = self.content(answer.text.as_deref());
        let kind = self.provider_kind(&facts.provider);
        let c = &self.caller;
        let pending = PendingRecord {
            call: self.call,
            started: self.started,
            latency_ms: facts.latency_ms,
            ttft_ms: facts.ttft_ms,
            names: Packed::new([
                Some(self.model.as_str()),
                Some(facts.route.as_deref().unwrap_or(&self.model)),
                Some(facts.provider.as_str()),
                Some(facts.provider_model.as_str()),
                Some(kind.as_str()),
                answer.id,
                answer.model,
                c.key_id.as_deref(),
                c.user.as_deref(),
                c.team.as_deref(),
                c.tier.as_deref(),
            ]),
            finish_reasons: answer.finish_reasons.into_iter().collect(),
            attempts: facts.attempts.clone(),
            tokens,
            cost,
            cache: CacheOutcome {
                status: self.cache,
                saved_usd: if served_here { None } else { self.saved },
            },
            tags: std::mem::take(&mut self.tags),
            status: error.map_or(Status::Ok, Status::Error),
            content,
        };
        self.telemetry.emit_pending(pending);
    }
}

impl Settle {
    /// Prompt and answer text for the record, when content recording is on (redacted).
    fn content(&self, answer: Option<&str>) -> Option<RecordedContent> {
        match (self.telemetry.content_recording(), &self.prompt) {
            (Some(r), Some(p)) => Some(RecordedContent {
                prompt: r.redact(p),
                answer: r.redact(answer.unwrap_or("")),
            }),
            _ => None,
        }
    }

    /// Completes a cache hit's facts and queues its record, built on the telemetry worker
    /// from what the request already owns (the answer is shared, the names packed inline), so
    /// a hit allocates nothing for its record while the caller waits. The pending hit holds
    /// no handle the request path counts (telemetry, price names): their reference counts
    /// stay on this thread instead of bouncing between cores.
    pub fn finish_hit(mut self, facts: &mut Facts, answer: Arc<CachedAnswer>) {
        self.annotate(facts, None, None);
        // A hit is a request (it counted against request limits) that cost nothing.
        if let Some(t) = self.ticket.take() {
            t.settle(Decimal::ZERO, 0);
        }
        // Content recording is opt-in; when on, the redaction runs here.
        let content = self.content(answer.response.text()).map(Box::new);
        let names = Packed::new([
            Some(facts.model.as_str()),
            facts.route.as_deref(),
            self.caller.key_id.as_deref(),
            self.caller.user.as_deref(),
            self.caller.team.as_deref(),
            self.caller.tier.as_deref(),
        ]);
        let hit = PendingHit {
            call: self.call,
            started: self.started,
            latency_ms: facts.latency_ms,
            names,
            tags: self.tags,
            status: self.cache,
            saved: self.saved,
            content,
            answer,
        };
        self.telemetry.emit_hit(hit);
    }
}

/// The facts of an answer served from the cache: who made it, no attempt of its own.
pub(crate) fn hit_facts(
    model: String,
    route: String,
    answer: &CachedAnswer,
    start: std::time::Instant,
) -> Facts {
    let latency = start.elapsed().as_secs_f64();
    Facts {
        provider: answer.origin.provider.clone(),
        provider_model: answer.origin.provider_model.clone(),
        model,
        latency_ms: latency * 1000.0,
        overhead_us: latency * 1e6,
        route: Some(route),
        ..Facts::default()
    }
}
