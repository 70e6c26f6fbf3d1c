//! Who may use what: virtual keys, budgets, rate limits, guardrails, the audit log.
//!
//! Admission (pipeline stage 1) resolves the caller's key and identity, checks the model is
//! allowed, and moves every limit and budget counter the request is subject to in one step
//! of the state backend (all or none); the returned [`Ticket`] settles them with the real
//! cost and tokens when the request ends, or releases them if it is dropped.

mod admin;
mod audit;
pub mod guardrails;
mod keys;
mod period;
mod plan;
mod ticket;

pub use crate::config::KeySpec;
pub use audit::AuditRecord;
pub use keys::{CreatedKey, KeyInfo, KeySource};
pub(crate) use ticket::run_detached;
pub use ticket::Ticket;

use crate::api::{Error, ErrorKind};
use crate::config::{OnUnavailable, PolicyConfig};
use crate::gateway::RequestContext;
use crate::state::{StateBackend, StateError, Verdict};
use keys::{ActiveKey, KeyRef};
use plan::Plan;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Counters the metrics exposition reads.
#[derive(Debug, Default)]
pub struct PolicyStats {
    /// Admissions that found the shared state unreachable.
    pub state_unavailable: AtomicU64,
    /// Budgets whose spending passed their soft limit (one alert per counter and period).
    pub soft_limit_alerts: AtomicU64,
    /// Requests refused by a rate limit, a budget, a key check or an allow-list.
    pub refused: AtomicU64,
}

/// The policy in force: built from config, sharing the state backend across reloads.
#[derive(Debug)]
pub struct Policy {
    cfg: PolicyConfig,
    backend: Arc<dyn StateBackend>,
    /// Config keys by id: (hash, key).
    config_keys: HashMap<String, (String, KeyRef)>,
    shared: Arc<Shared>,
}

/// What outlives a reload: the key cache, the stats, whether keys were created at runtime.
#[derive(Debug, Default)]
pub struct Shared {
    /// Stored keys read so far, by id (a revision check at admission keeps them honest).
    cache: RwLock<HashMap<String, KeyRef>>,
    /// Keys were created through the admin API: presented keys are checked from now on.
    created: AtomicBool,
    pub stats: PolicyStats,
    /// Budget counters that already alerted in their period.
    alerted: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// What admission hands to the rest of the pipeline.
#[derive(Debug, Default)]
pub struct Admitted {
    /// The caller's context with the identity its key binds (when a key changed it); boxed,
    /// since it rides in every request's future and is rarely there.
    pub ctx: Option<Box<RequestContext>>,
    /// The counters to settle when the request ends.
    pub ticket: Option<Ticket>,
}

/// What admission needs to know about a request.
pub struct Request<'a> {
    /// The model name as requested.
    pub model: &'a str,
    /// The route that will serve it.
    pub route: &'a str,
    pub ctx: &'a RequestContext,
    /// Prompt tokens (estimated) plus the output cap, for tokens-per-minute limits.
    pub tokens: u64,
    /// The most the request can cost (USD), for budget reservations; asked only when a
    /// budget applies.
    pub worst_cost: &'a (dyn Fn() -> Decimal + Sync),
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("model", &self.model)
            .field("route", &self.route)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// The policy of a config on a backend (the backend outlives reloads; so does `shared`).
    pub fn new(cfg: PolicyConfig, backend: Arc<dyn StateBackend>, shared: Arc<Shared>) -> Policy {
        let config_keys = cfg
            .keys
            .iter()
            .map(|(hash, spec)| {
                let key = Arc::new(ActiveKey::from_config(hash, spec));
                (key.id.clone(), (hash.clone(), key))
            })
            .collect();
        Policy {
            cfg,
            backend,
            config_keys,
            shared,
        }
    }

    /// The state backend (for cooldown sharing and the shared cache).
    pub fn backend(&self) -> &Arc<dyn StateBackend> {
        &self.backend
    }

    /// What outlives a reload.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Whether admission has anything to do.
    pub fn is_active(&self) -> bool {
        self.cfg.is_active() || self.shared.created.load(Ordering::Relaxed)
    }

    /// The policy's counters in Prometheus text format.
    pub fn write_metrics(&self, out: &mut String) {
        use std::fmt::Write;
        let s = &self.shared.stats;
        let backend = self.backend.name();
        for (name, help, v) in [
            (
                "switchpoint_state_unavailable_total",
                "Shared-state operations that could not reach the store.",
                &s.state_unavailable,
            ),
            (
                "switchpoint_policy_refusals_total",
                "Requests refused by a key check, an allow-list, a rate limit or a budget.",
                &s.refused,
            ),
            (
                "switchpoint_budget_soft_limit_alerts_total",
                "Budgets whose spending passed their soft limit (once per period).",
                &s.soft_limit_alerts,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(
                out,
                "{name}{{backend=\"{backend}\"}} {}",
                v.load(Ordering::Relaxed)
            );
        }
        let name = "switchpoint_state_reachable";
        let _ = writeln!(
            out,
            "# HELP {name} Whether the last shared-state operation reached the store."
        );
        let _ = writeln!(out, "# TYPE {name} gauge");
        let up = u8::from(self.backend.reachable());
        let _ = writeln!(out, "{name}{{backend=\"{backend}\"}} {up}");
    }

    fn keys_checked(&self) -> bool {
        self.cfg.keys_enabled || self.shared.created.load(Ordering::Relaxed)
    }

    /// Stage 1: the caller's key and identity, the allow-lists, then every limit and budget
    /// in one step of the state backend.
    pub async fn admit(&self, r: Request<'_>) -> Result<Admitted, Error> {
        if !self.is_active() {
            return Ok(Admitted::default());
        }
        let mut key = self.resolve_key(r.ctx).await?;
        if let Some(k) = key.as_deref().filter(|k| !k.allows(r.model, r.route)) {
            return Err(self.refuse(
                Error::new(
                    ErrorKind::PolicyDenied,
                    format!(
                        "virtual key {} may not use model `{}` (route `{}`)",
                        k.id, r.model, r.route
                    ),
                )
                .with_status(403)
                .with_param("model")
                .with_code("model_not_allowed"),
            ));
        }
        for _ in 0..3 {
            let plan = Plan::build(&self.cfg, key.as_deref(), &r);
            if plan.is_empty() {
                return Ok(Admitted {
                    ctx: plan.ctx.map(Box::new),
                    ticket: None,
                });
            }
            let verdict = match self.backend.admit(&plan.checks).await {
                Ok(v) => v,
                Err(e) => return self.unavailable(e, plan),
            };
            match verdict {
                Verdict::Admitted { window_seconds } => {
                    let ticket = plan.ticket(&window_seconds, &self.backend, &self.shared);
                    return Ok(Admitted {
                        ctx: plan.ctx.map(Box::new),
                        ticket: Some(ticket),
                    });
                }
                Verdict::KeyStale { .. } => {
                    let id = key.as_ref().map(|k| k.id.clone()).unwrap_or_default();
                    self.forget(&id);
                    key = self.resolve_key(r.ctx).await?;
                }
                Verdict::KeyRefused { reason, .. } => {
                    let id = key.as_ref().map(|k| k.id.clone()).unwrap_or_default();
                    self.forget(&id);
                    return Err(self.refuse(plan::key_refused(&id, reason)));
                }
                Verdict::Refused {
                    index,
                    retry_after,
                    current,
                } => return Err(self.refuse(plan.refused(index, retry_after, current))),
            }
        }
        Err(Error::new(
            ErrorKind::Internal,
            "the virtual key kept changing during admission; try again",
        ))
    }

    fn refuse(&self, e: Error) -> Error {
        self.shared.stats.refused.fetch_add(1, Ordering::Relaxed);
        e
    }

    /// The state backend failed: admit uncounted or refuse, as configured.
    fn unavailable(&self, e: StateError, plan: Plan) -> Result<Admitted, Error> {
        self.shared
            .stats
            .state_unavailable
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(backend = self.backend.name(), error = %e, "shared state unreachable");
        match self.cfg.state.on_unavailable {
            OnUnavailable::Open => Ok(Admitted {
                ctx: plan.ctx.map(Box::new),
                ticket: None,
            }),
            OnUnavailable::Closed => Err(state_error(self.backend.name(), &e)),
        }
    }

    /// The key a request presents, checked: known, not revoked, not expired. `None` when
    /// the request has none (or keys are not in use and it is only an identity).
    async fn resolve_key(&self, ctx: &RequestContext) -> Result<Option<KeyRef>, Error> {
        let Some(presented) = &ctx.api_key else {
            if self.cfg.require_key {
                return Err(self.refuse(
                    Error::new(
                        ErrorKind::Auth,
                        "a virtual key is required: pass the key the gateway issued as api_key",
                    )
                    .with_status(401)
                    .with_code("missing_api_key"),
                ));
            }
            return Ok(None);
        };
        if !self.keys_checked() {
            return Ok(None);
        }
        let hash = crate::config::key_hash(presented.expose());
        let id = keys::id_of_hash(&hash);
        let key = if let Some((h, k)) = self.config_keys.get(&id).filter(|(h, _)| *h == hash) {
            debug_assert_eq!(h, &hash);
            Some(k.clone())
        } else {
            self.stored_key(&id, &hash).await?
        };
        let Some(key) = key else {
            return Err(self.refuse(
                Error::new(
                    ErrorKind::Auth,
                    "unknown virtual key: it was never issued by this gateway",
                )
                .with_status(401)
                .with_code("invalid_api_key"),
            ));
        };
        if key.revoked {
            return Err(self.refuse(plan::key_refused(&id, crate::state::KeyState::Revoked)));
        }
        if key
            .expires_at_ms
            .is_some_and(|t| t <= crate::telemetry::record::unix_ms(std::time::SystemTime::now()))
        {
            return Err(self.refuse(plan::key_refused(&id, crate::state::KeyState::Expired)));
        }
        Ok(Some(key))
    }

    /// A stored key by id, from the local cache or the backend (checking the hash).
    async fn stored_key(&self, id: &str, hash: &str) -> Result<Option<KeyRef>, Error> {
        if let Some(k) = self
            .shared
            .cache
            .read()
            .ok()
            .and_then(|c| c.get(id).cloned())
        {
            return Ok(Some(k));
        }
        let stored = match self.backend.key_get(id).await {
            Ok(s) => s,
            Err(e) => {
                self.shared
                    .stats
                    .state_unavailable
                    .fetch_add(1, Ordering::Relaxed);
                // Failing open cannot vouch for an unknown key: it is refused either way.
                return Err(state_error(self.backend.name(), &e));
            }
        };
        let Some(stored) = stored.filter(|s| s.hash == hash) else {
            return Ok(None);
        };
        let Some(key) = ActiveKey::from_stored(&stored) else {
            return Ok(None);
        };
        let key = Arc::new(key);
        if let Ok(mut c) = self.shared.cache.write() {
            c.insert(id.to_string(), key.clone());
        }
        Ok(Some(key))
    }

    fn forget(&self, id: &str) {
        if let Ok(mut c) = self.shared.cache.write() {
            c.remove(id);
        }
    }
}

/// The error a request gets when the shared state is unreachable and policy fails closed.
fn state_error(backend: &str, e: &StateError) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        format!(
            "{e} ({backend} backend); state.on_unavailable is `closed`, so requests are refused until it is back"
        ),
    )
    .with_code("state_unavailable")
}

/// USD to the counters' nano-dollars, rounded up (a reservation never falls short).
pub(crate) fn nano_ceil(usd: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (usd * Decimal::from(1_000_000_000u64))
        .ceil()
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// USD to nano-dollars, rounded to the nearest.
pub(crate) fn nano_round(usd: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (usd * Decimal::from(1_000_000_000u64))
        .round()
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// Nano-dollars as USD.
pub(crate) fn usd(nanos: i64) -> Decimal {
    Decimal::from(nanos) / Decimal::from(1_000_000_000u64)
}
