//! Stage 5 (settle): what a finished request cost, its cache outcome in the facts, and its
//! record handed to the observers.

use crate::api::{CostFact, ErrorKind, Facts, FinishReason, Usage};
use crate::cache::CachedAnswer;
use crate::config::Secret;
use crate::telemetry::{
    CacheOutcome, CacheStatus, Caller, Cost, RecordedContent, RequestRecord, Status, Telemetry,
    TokenSplit,
};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use super::RequestContext;

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
        self,
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
        let content = self.content(answer.text.as_deref());
        let ended = SystemTime::now();
        let record = RequestRecord {
            id: answer.id.unwrap_or_default().to_string(),
            call: self.call,
            started_at_ms: crate::telemetry::record::unix_ms(self.started),
            ended_at_ms: crate::telemetry::record::unix_ms(ended),
            latency_ms: facts.latency_ms,
            ttft_ms: facts.ttft_ms,
            model: self.model.clone(),
            route: facts.route.clone().unwrap_or_else(|| self.model.clone()),
            provider: facts.provider.clone(),
            provider_model: facts.provider_model.clone(),
            provider_kind: self.provider_kind(&facts.provider),
            response_id: answer.id.map(str::to_string),
            response_model: answer.model.map(str::to_string),
            finish_reasons: answer.finish_reasons,
            attempts: facts.attempts.clone(),
            tokens,
            cost,
            cache: CacheOutcome {
                status: self.cache,
                saved_usd: if served_here { None } else { self.saved },
            },
            caller: self.caller,
            tags: self.tags,
            status: error.map_or(Status::Ok, Status::Error),
            content,
        };
        self.telemetry.emit(record);
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
    /// from what the request already owns (the answer is shared, the route name moved), so a
    /// hit copies no names for its record while the caller waits.
    pub fn finish_hit(self, facts: &mut Facts, answer: Arc<CachedAnswer>, route: String) {
        self.annotate(facts, None, None);
        let (latency_ms, ended) = (facts.latency_ms, SystemTime::now());
        let telemetry = self.telemetry.clone();
        telemetry.emit_with(move || self.hit_record(&answer, route, latency_ms, ended));
    }

    /// A hit's record: who made the answer, no attempt or tokens of its own, the cost saved.
    fn hit_record(
        self,
        answer: &CachedAnswer,
        route: String,
        latency_ms: f64,
        ended: SystemTime,
    ) -> RequestRecord {
        let (resp, origin) = (&answer.response, &answer.origin);
        RequestRecord {
            id: resp.id.clone(),
            call: self.call,
            started_at_ms: crate::telemetry::record::unix_ms(self.started),
            ended_at_ms: crate::telemetry::record::unix_ms(ended),
            latency_ms,
            ttft_ms: None,
            route,
            provider: origin.provider.clone(),
            provider_model: origin.provider_model.clone(),
            provider_kind: origin.provider_kind.clone(),
            response_id: Some(resp.id.clone()),
            response_model: Some(resp.model.clone()),
            finish_reasons: resp
                .choices
                .iter()
                .filter_map(|c| c.finish_reason)
                .collect(),
            attempts: Vec::new(),
            tokens: TokenSplit::default(),
            cost: None,
            cache: CacheOutcome {
                status: self.cache,
                saved_usd: self.saved,
            },
            content: self.content(resp.text()),
            model: self.model,
            caller: self.caller,
            tags: self.tags,
            status: Status::Ok,
        }
    }
}

/// The facts of an answer served from the cache: who made it, no attempt of its own.
pub(crate) fn hit_facts(
    model: &str,
    route: &str,
    answer: &CachedAnswer,
    start: std::time::Instant,
) -> Facts {
    let latency = start.elapsed().as_secs_f64();
    Facts {
        provider: answer.origin.provider.clone(),
        provider_model: answer.origin.provider_model.clone(),
        model: model.to_string(),
        latency_ms: latency * 1000.0,
        overhead_us: latency * 1e6,
        route: Some(route.to_string()),
        ..Facts::default()
    }
}
