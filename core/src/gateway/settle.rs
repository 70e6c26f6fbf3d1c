//! Stage 5 (settle): what a finished request cost, its cache outcome in the facts, and its
//! record handed to the observers.

use crate::api::{CostFact, ErrorKind, Facts, FinishReason, Usage};
use crate::cache::CachedAnswer;
use crate::config::Secret;
use crate::telemetry::record::unix_ms;
use crate::telemetry::{
    CacheOutcome, CacheStatus, Caller, Cost, RecordedContent, RequestRecord, Status, Telemetry,
    TokenSplit,
};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

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
        let ended = SystemTime::now();
        let record = RequestRecord {
            id: answer.id.unwrap_or_default().to_string(),
            call: self.call,
            started_at_ms: unix_ms(self.started),
            ended_at_ms: unix_ms(ended),
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
    /// hit copies no names for its record while the caller waits. The closure holds no
    /// handle the request path counts (telemetry, price names): their reference counts stay
    /// on this thread instead of bouncing between cores.
    pub fn finish_hit(mut self, facts: &mut Facts, answer: Arc<CachedAnswer>, route: String) {
        self.annotate(facts, None, None);
        // A hit is a request (it counted against request limits) that cost nothing.
        if let Some(t) = self.ticket.take() {
            t.settle(Decimal::ZERO, 0);
        }
        // Content recording is opt-in; when on, the redaction runs here.
        let content = self.content(answer.response.text());
        let names = Packed::new([
            Some(self.model.as_str()),
            Some(route.as_str()),
            self.caller.key_id.as_deref(),
            self.caller.user.as_deref(),
            self.caller.team.as_deref(),
            self.caller.tier.as_deref(),
        ]);
        let hit = Hit {
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
        self.telemetry.emit_with(move || hit.record());
    }
}

/// Short texts packed into one allocation. A hit hands the worker this one buffer rather
/// than a handful of small strings: glibc returns a freed block to the cache of the thread
/// that frees it, so every small string freed on the worker is one the request thread later
/// has to take from the allocator's slow, locked path (seen as most of a hit's malloc time).
struct Packed<const N: usize> {
    text: String,
    /// Each field's end in `text`, or `u32::MAX` when it is absent.
    ends: [u32; N],
}

impl<const N: usize> Packed<N> {
    fn new(fields: [Option<&str>; N]) -> Self {
        let mut text = String::with_capacity(fields.iter().flatten().map(|f| f.len()).sum());
        let mut ends = [u32::MAX; N];
        for (end, field) in ends.iter_mut().zip(fields) {
            if let Some(f) = field {
                text.push_str(f);
                *end = u32::try_from(text.len()).unwrap_or(u32::MAX);
            }
        }
        Packed { text, ends }
    }

    /// Field `i`, when it was present.
    fn get(&self, i: usize) -> Option<String> {
        let end = *self.ends.get(i)?;
        if end == u32::MAX {
            return None;
        }
        let start = self.ends[..i]
            .iter()
            .rev()
            .find(|e| **e != u32::MAX)
            .map_or(0, |e| *e as usize);
        self.text.get(start..end as usize).map(str::to_string)
    }
}

/// What a cache hit's record is built from, on the telemetry worker.
struct Hit {
    call: &'static str,
    started: SystemTime,
    latency_ms: f64,
    /// The model asked for, the route, then the caller's key id, user, team and tier.
    names: Packed<6>,
    tags: Vec<String>,
    status: CacheStatus,
    saved: Option<Decimal>,
    content: Option<RecordedContent>,
    answer: Arc<CachedAnswer>,
}

impl Hit {
    /// A hit's record: who made the answer, no attempt or tokens of its own, the cost saved.
    fn record(self) -> RequestRecord {
        let (resp, origin) = (&self.answer.response, &self.answer.origin);
        // The end is the start plus the latency (one clock read fewer while the caller waits).
        let ended = self.started + Duration::from_secs_f64(self.latency_ms.max(0.0) / 1000.0);
        RequestRecord {
            id: resp.id.clone(),
            call: self.call,
            started_at_ms: unix_ms(self.started),
            ended_at_ms: unix_ms(ended),
            latency_ms: self.latency_ms,
            ttft_ms: None,
            model: self.names.get(0).unwrap_or_default(),
            route: self.names.get(1).unwrap_or_default(),
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
                status: self.status,
                saved_usd: self.saved,
            },
            caller: Caller {
                key_id: self.names.get(2),
                user: self.names.get(3),
                team: self.names.get(4),
                tier: self.names.get(5),
            },
            tags: self.tags,
            status: Status::Ok,
            content: self.content,
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

#[cfg(test)]
mod tests {
    use super::Packed;

    #[test]
    fn packed_fields_come_back_as_given_absent_and_empty_ones_included() {
        let p = Packed::new([
            Some("gpt"),
            None,
            Some(""),
            Some("alice"),
            None,
            Some("pro"),
        ]);
        let got: Vec<Option<String>> = (0..6).map(|i| p.get(i)).collect();
        assert_eq!(
            got,
            vec![
                Some("gpt".into()),
                None,
                Some(String::new()),
                Some("alice".into()),
                None,
                Some("pro".into())
            ]
        );
        assert_eq!(p.get(6), None);
        let none = Packed::new([None::<&str>; 3]);
        assert_eq!(none.text.capacity(), 0);
        assert_eq!((none.get(0), none.get(2)), (None, None));
    }
}
