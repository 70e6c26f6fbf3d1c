//! One request's admission plan: the counters it moves (limits, budgets, its key's
//! liveness), why each is there, and the refusal each one turns into.

use super::keys::ActiveKey;
use super::period;
use super::ticket::{Reserved, Ticket, TokensCounted};
use super::{nano_ceil, usd, Request, Shared};
use crate::api::{Error, ErrorKind};
use crate::config::{LimitValues, Period, PolicyConfig, Scope};
use crate::state::{Check, KeyState, NanoUsd, StateBackend};
use std::sync::Arc;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

/// Why a check is in the plan (to explain a refusal and settle it later).
#[derive(Debug, Clone)]
enum Why {
    Key,
    Limit {
        what: LimitKind,
        scope: Scope,
        id: String,
        limit: u64,
    },
    Budget {
        scope: Scope,
        id: String,
        period: Period,
        limit: NanoUsd,
        soft: Option<NanoUsd>,
        /// When the period ends (unix ms; `None` for `total`): when a refusal may retry.
        ends: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LimitKind {
    Rpm,
    Tpm,
    InFlight,
}

/// The checks of one admission.
#[derive(Debug)]
pub(crate) struct Plan {
    pub checks: Vec<Check>,
    whys: Vec<Why>,
    /// The context with the key's identity, when the key changed it.
    pub ctx: Option<crate::gateway::RequestContext>,
}

/// Who the request is, each scope's value.
struct Who<'a> {
    key: Option<&'a str>,
    user: Option<&'a str>,
    team: Option<&'a str>,
    route: &'a str,
}

impl Who<'_> {
    fn of(&self, scope: Scope) -> Option<&str> {
        match scope {
            Scope::Key => self.key,
            Scope::User => self.user,
            Scope::Team => self.team,
            Scope::Route => Some(self.route),
            Scope::Gateway => Some("*"),
        }
    }
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Key => "key",
        Scope::User => "user",
        Scope::Team => "team",
        Scope::Route => "route",
        Scope::Gateway => "gateway",
    }
}

fn period_name(p: Period) -> &'static str {
    match p {
        Period::Day => "day",
        Period::Week => "week",
        Period::Month => "month",
        Period::Total => "total",
    }
}

impl Plan {
    /// The checks for a request from a caller (with its key, if any).
    pub fn build(cfg: &PolicyConfig, key: Option<&ActiveKey>, r: &Request<'_>) -> Plan {
        let ctx = key.and_then(|k| bound_context(k, r.ctx));
        let c = ctx.as_ref().unwrap_or(r.ctx);
        let who = Who {
            key: key.map(|k| k.id.as_str()),
            user: c.user.as_deref(),
            team: c.team.as_deref(),
            route: r.route,
        };
        let mut plan = Plan {
            checks: Vec::new(),
            whys: Vec::new(),
            ctx: None,
        };
        if let Some(k) = key {
            if let Some(rev) = k.rev {
                plan.push(
                    Check::KeyLive {
                        id: k.id.clone(),
                        rev,
                    },
                    Why::Key,
                );
            }
        }
        let key_limits = key.and_then(|k| k.spec.limits.map(|l| (Scope::Key, k.id.as_str(), l)));
        let cfg_limits = cfg.limits.iter().filter_map(|l| {
            let id = who.of(l.scope)?;
            l.id.as_deref()
                .is_none_or(|want| want == id)
                .then(|| (l.scope, id, l.values()))
        });
        for (scope, id, values) in key_limits.into_iter().chain(cfg_limits) {
            plan.limits(scope, id, values, r.tokens);
        }
        let now = crate::telemetry::record::unix_ms(std::time::SystemTime::now());
        let mut worst: Option<NanoUsd> = None;
        let mut reserve = || *worst.get_or_insert_with(|| nano_ceil((r.worst_cost)()));
        if let Some(k) = key {
            for b in &k.spec.budgets {
                let soft = b.soft_limit_usd.map(super::nano_round);
                let limit = super::nano_round(b.limit_usd);
                plan.budget(Scope::Key, &k.id, b.period, limit, soft, reserve(), now);
            }
        }
        for b in &cfg.budgets {
            let Some(id) = who.of(b.scope) else { continue };
            if b.id.as_deref().is_some_and(|want| want != id) {
                continue;
            }
            let soft = b.soft_limit_usd.map(super::nano_round);
            let limit = super::nano_round(b.limit_usd);
            plan.budget(b.scope, id, b.period, limit, soft, reserve(), now);
        }
        plan.ctx = ctx;
        plan
    }

    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    /// Adds a check; a second rule on the same counter keeps the tighter limit (and the
    /// request is counted once).
    fn push(&mut self, check: Check, why: Why) {
        let key = counter_key(&check);
        if let Some(i) = self.checks.iter().position(|c| counter_key(c) == key) {
            let tighter = match (&mut self.checks[i], &check) {
                (Check::Window { limit: a, .. }, Check::Window { limit: b, .. })
                | (Check::InFlight { limit: a, .. }, Check::InFlight { limit: b, .. }) => {
                    let t = *b < *a;
                    *a = (*a).min(*b);
                    t
                }
                (Check::Budget { limit: a, .. }, Check::Budget { limit: b, .. }) => {
                    let t = *b < *a;
                    *a = (*a).min(*b);
                    t
                }
                _ => false,
            };
            if tighter {
                self.whys[i] = why;
            }
            return;
        }
        self.checks.push(check);
        self.whys.push(why);
    }

    fn limits(&mut self, scope: Scope, id: &str, v: LimitValues, tokens: u64) {
        let s = scope_name(scope);
        let why = |what, limit| Why::Limit {
            what,
            scope,
            id: id.to_string(),
            limit,
        };
        if let Some(limit) = v.rpm {
            let check = Check::Window {
                key: format!("rpm:{s}:{id}"),
                limit,
                cost: 1,
                window: MINUTE,
            };
            self.push(check, why(LimitKind::Rpm, limit));
        }
        if let Some(limit) = v.tpm {
            let check = Check::Window {
                key: format!("tpm:{s}:{id}"),
                limit,
                cost: tokens,
                window: MINUTE,
            };
            self.push(check, why(LimitKind::Tpm, limit));
        }
        if let Some(limit) = v.in_flight {
            let check = Check::InFlight {
                key: format!("inflight:{s}:{id}"),
                limit,
            };
            self.push(check, why(LimitKind::InFlight, limit));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn budget(
        &mut self,
        scope: Scope,
        id: &str,
        p: Period,
        limit: NanoUsd,
        soft: Option<NanoUsd>,
        reserve: NanoUsd,
        now: u64,
    ) {
        let (label, ends) = period::current(p, now);
        let check = Check::Budget {
            key: format!("budget:{}:{id}:{label}", scope_name(scope)),
            limit,
            reserve,
            // Counters outlive their period by a day, for reports on the one just ended.
            expires_at_ms: ends.map(|t| t + 86_400_000),
        };
        let why = Why::Budget {
            scope,
            id: id.to_string(),
            period: p,
            limit,
            soft,
            ends,
        };
        self.push(check, why);
    }

    /// The error for a refused check.
    pub fn refused(&self, index: usize, retry_after: Option<Duration>, current: i64) -> Error {
        let (Some(check), Some(why)) = (self.checks.get(index), self.whys.get(index)) else {
            return Error::new(ErrorKind::Internal, "admission refused an unknown check");
        };
        let wait = retry_after
            .map(|d| format!("; retry in {:.1} s", d.as_secs_f64()))
            .unwrap_or_default();
        match why {
            Why::Key => Error::new(ErrorKind::Auth, "virtual key refused").with_status(401),
            Why::Limit {
                what,
                scope,
                id,
                limit,
            } => {
                let (unit, code) = match what {
                    LimitKind::Rpm => ("requests per minute", "rpm"),
                    LimitKind::Tpm => ("tokens per minute", "tpm"),
                    LimitKind::InFlight => ("requests in flight", "in_flight"),
                };
                let cost = match check {
                    Check::Window { cost, .. } if *what == LimitKind::Tpm => {
                        format!(" ({current} used, this request needs about {cost})")
                    }
                    _ => String::new(),
                };
                let mut e = Error::new(
                    ErrorKind::RateLimitExceeded,
                    format!(
                        "rate limit reached: {} `{id}` may make {limit} {unit}{cost}{wait}",
                        scope_name(*scope)
                    ),
                )
                .with_status(429)
                .with_code(code);
                e.retry_after = retry_after;
                e
            }
            Why::Budget {
                scope,
                id,
                period,
                limit,
                ends,
                ..
            } => {
                // The counter outlives its period by a day (for reports); the refusal
                // lifts when the period ends.
                let now = crate::telemetry::record::unix_ms(std::time::SystemTime::now());
                let retry_after = ends.map(|e| Duration::from_millis(e.saturating_sub(now)));
                let wait = retry_after
                    .map(|d| format!("; retry in {:.1} s", d.as_secs_f64()))
                    .unwrap_or_default();
                let reserve = match check {
                    Check::Budget { reserve, .. } => *reserve,
                    _ => 0,
                };
                let per = match period {
                    Period::Total => "in total".to_string(),
                    p => format!("per {}", period_name(*p)),
                };
                let mut e = Error::new(
                    ErrorKind::BudgetExceeded,
                    format!(
                        "budget exhausted: {} `{id}` may spend ${} {per}; ${} is spent or reserved and this request may cost up to ${}{wait}",
                        scope_name(*scope),
                        usd(*limit).normalize(),
                        usd(current).round_dp(6).normalize(),
                        usd(reserve).round_dp(6).normalize(),
                    ),
                )
                .with_status(429)
                .with_code(format!("budget_{}", period_name(*period)));
                e.retry_after = retry_after;
                e
            }
        }
    }

    /// The ticket that settles this plan's counters.
    pub fn ticket(
        &self,
        window_seconds: &[u64],
        backend: &Arc<dyn StateBackend>,
        shared: &Arc<Shared>,
    ) -> Ticket {
        let mut t = Ticket::new(backend.clone(), shared.clone());
        for (i, (check, why)) in self.checks.iter().zip(&self.whys).enumerate() {
            match (check, why) {
                (Check::InFlight { key, .. }, _) => t.in_flight.push(key.clone()),
                (
                    Check::Window {
                        key, cost, window, ..
                    },
                    Why::Limit {
                        what: LimitKind::Tpm,
                        ..
                    },
                ) => t.tokens.push(TokensCounted {
                    key: key.clone(),
                    second: window_seconds.get(i).copied().unwrap_or(0),
                    estimate: *cost,
                    window: *window,
                }),
                (
                    Check::Budget {
                        key,
                        reserve,
                        expires_at_ms,
                        ..
                    },
                    Why::Budget {
                        soft, scope, id, ..
                    },
                ) => t.budgets.push(Reserved {
                    key: key.clone(),
                    reserved: *reserve,
                    expires_at_ms: *expires_at_ms,
                    soft: *soft,
                    label: format!("{} `{id}`", scope_name(*scope)),
                }),
                _ => {}
            }
        }
        t
    }
}

/// The refusal of a key the store says is unknown, revoked or expired.
pub(crate) fn key_refused(id: &str, state: KeyState) -> Error {
    let (msg, code) = match state {
        KeyState::Unknown => (
            "unknown virtual key: it was never issued by this gateway".to_string(),
            "invalid_api_key",
        ),
        KeyState::Revoked => (format!("virtual key {id} was revoked"), "key_revoked"),
        KeyState::Expired => (format!("virtual key {id} has expired"), "key_expired"),
    };
    Error::new(ErrorKind::Auth, msg)
        .with_status(401)
        .with_code(code)
}

/// The caller's context with the identity the key binds (the key's user, team and tier win
/// over what the request says); `None` when nothing changes.
fn bound_context(
    key: &ActiveKey,
    ctx: &crate::gateway::RequestContext,
) -> Option<crate::gateway::RequestContext> {
    let s = &key.spec;
    let differs = |bound: &Option<String>, given: &Option<String>| {
        bound.is_some() && bound.as_deref() != given.as_deref()
    };
    if !differs(&s.user, &ctx.user) && !differs(&s.team, &ctx.team) && !differs(&s.tier, &ctx.tier)
    {
        return None;
    }
    let mut c = ctx.clone();
    if s.user.is_some() {
        c.user = s.user.clone();
    }
    if s.team.is_some() {
        c.team = s.team.clone();
    }
    if s.tier.is_some() {
        c.tier = s.tier.clone();
    }
    Some(c)
}

fn counter_key(c: &Check) -> &str {
    match c {
        Check::Window { key, .. } | Check::InFlight { key, .. } | Check::Budget { key, .. } => key,
        Check::KeyLive { id, .. } => id,
    }
}
