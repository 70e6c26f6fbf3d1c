//! Model names -> routes -> an ordered plan of targets; and the health of every target.
//!
//! Built once at start from config: one pooled upstream per provider, one health record per
//! (provider, model) shared by every route that uses it. Zero-config `provider/model` names
//! become one-target routes on first use, with a preset provider whose key is read from the
//! environment then.

mod clock;
mod features;
mod health;
mod pricing;
mod rng;
mod route;
mod rules;
mod target;

pub use clock::Clock;
pub use features::{Caps, Features, DEFAULT_COMPLETION_ESTIMATE};
pub use health::{Availability, Health, HealthSnapshot, HealthState, Lease};
pub use pricing::{builtin_price, Price};
pub use rng::{with_thread_rng, Rng};
pub use route::{Exclusion, Pick, Plan, Route, Strategy, EXPLORE_EVERY};
pub use rules::{AutoSpec, Match, Rule};
pub use target::{ProviderCell, Slot, Target};

use crate::api::{Error, ErrorKind};
use crate::config::{closest, ResolvedConfig, RouteSpec, TargetSpec};
use crate::gateway::RequestContext;
use crate::providers::{Preset, PRESETS};
use crate::resilience::RoutePolicy;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// How many rule or default hops a request may take before it must reach targets.
const MAX_HOPS: usize = 16;
/// Targets made on the fly for `provider/model` names that get their own health record.
const MAX_DYNAMIC: usize = 4096;

/// One target's state, as `Gateway::health()` reports it (serializable for the bindings).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetHealth {
    pub provider: String,
    pub model: String,
    /// The routes that use this target.
    pub routes: Vec<String>,
    pub tags: Vec<String>,
    pub state: HealthState,
    /// When a resting target comes back: Unix time in ms, and seconds from now.
    pub cooling_until_unix_ms: Option<u64>,
    pub cooldown_remaining_s: Option<f64>,
    /// The error that made it rest.
    pub cooldown_reason: Option<ErrorKind>,
    pub ewma_latency_ms: Option<f64>,
    pub p95_latency_ms: Option<f64>,
    /// Share of recent attempts that failed (an EWMA, 0..1).
    pub error_rate: f64,
    pub in_flight: u32,
    pub requests: u64,
    pub failures: u64,
    pub requests_last_minute: f64,
    pub tokens_last_minute: f64,
}

/// The route a request ends up on after rules, and the routes it passed through.
#[derive(Debug, Clone)]
pub struct Selected {
    pub route: Arc<Route>,
    /// Routes whose rules or default sent the request on, in order.
    pub via: Vec<String>,
}

#[derive(Debug)]
struct Registered {
    target: Arc<Target>,
    routes: Vec<String>,
    tags: Vec<String>,
}

#[derive(Debug, Default)]
struct Registry {
    by_key: HashMap<(String, String), usize>,
    list: Vec<Registered>,
}

/// The routing table: providers, routes by name and alias, and every target's health.
#[derive(Debug)]
pub struct Router {
    providers: HashMap<String, Arc<ProviderCell>>,
    routes: HashMap<String, Arc<Route>>,
    dynamic: RwLock<HashMap<String, Arc<Route>>>,
    registry: RwLock<Registry>,
    route_defaults: RoutePolicy,
    clock: Clock,
}

impl Router {
    /// Builds one pooled upstream per configured provider and every configured route.
    pub fn new(cfg: ResolvedConfig) -> Result<Router, Error> {
        let mut providers = HashMap::new();
        for (name, p) in cfg.providers {
            providers.insert(name, Arc::new(ProviderCell::configured(p)?));
        }
        for preset in PRESETS {
            providers
                .entry(preset.name.to_string())
                .or_insert_with(|| Arc::new(ProviderCell::preset(preset, cfg.defaults)));
        }
        let mut router = Router {
            providers,
            routes: HashMap::new(),
            dynamic: RwLock::new(HashMap::new()),
            registry: RwLock::new(Registry::default()),
            route_defaults: cfg.route_defaults,
            clock: Clock::new(),
        };
        for spec in cfg.routes {
            let route = Arc::new(router.build(&spec)?);
            for name in std::iter::once(&spec.name).chain(&spec.aliases) {
                router.routes.insert(name.clone(), Arc::clone(&route));
            }
        }
        Ok(router)
    }

    /// The clock health runs on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn build(&self, spec: &RouteSpec) -> Result<Route, Error> {
        let mut slots = Vec::with_capacity(spec.targets.len());
        for t in &spec.targets {
            let target = self
                .target(t, &spec.name, true)
                .ok_or_else(|| Error::config("", format!("unknown provider `{}`", t.provider)))?;
            slots.push(Slot {
                health: Arc::clone(&target.health),
                target,
                weight: t.weight,
                caps: t.caps,
                context_window: t.context_window.unwrap_or(u64::MAX),
                price: t.price,
                rpm: t.rpm,
                tpm: t.tpm,
                tags: t.tags.clone(),
            });
        }
        Ok(Route::new(
            spec.name.clone(),
            spec.strategy,
            slots,
            spec.rules.clone(),
            spec.default.clone(),
            spec.policy.clone(),
        ))
    }

    /// The shared target for (provider, model), registered for `health()`.
    fn target(&self, t: &TargetSpec, route: &str, always: bool) -> Option<Arc<Target>> {
        let provider = Arc::clone(self.providers.get(&t.provider)?);
        let key = (t.provider.clone(), t.model.clone());
        let mut reg = match self.registry.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(&i) = reg.by_key.get(&key) {
            let r = &mut reg.list[i];
            if !r.routes.iter().any(|x| x == route) {
                r.routes.push(route.to_string());
            }
            for tag in &t.tags {
                if !r.tags.contains(tag) {
                    r.tags.push(tag.clone());
                }
            }
            return Some(Arc::clone(&r.target));
        }
        let target = Arc::new(Target {
            provider,
            model: t.model.clone(),
            health: Arc::new(Health::new()),
        });
        if always || reg.list.len() < MAX_DYNAMIC {
            let i = reg.list.len();
            reg.list.push(Registered {
                target: Arc::clone(&target),
                routes: vec![route.to_string()],
                tags: t.tags.clone(),
            });
            reg.by_key.insert(key, i);
        }
        Some(target)
    }

    /// The route for a model name, an alias or `provider/model`.
    pub fn route(&self, model: &str) -> Result<Arc<Route>, Error> {
        if let Some(r) = self.routes.get(model) {
            return Ok(Arc::clone(r));
        }
        if let Some(r) = read(&self.dynamic).get(model) {
            return Ok(Arc::clone(r));
        }
        let Some((provider, id)) = model.split_once('/') else {
            return Err(self.unknown_model(model));
        };
        if !self.providers.contains_key(provider) {
            return Err(self.unknown_model(model));
        }
        if id.is_empty() {
            return Err(Error::bad_request(
                "model",
                format!("`{model}` names no model after `{provider}/`"),
            ));
        }
        let spec = RouteSpec {
            name: model.to_string(),
            aliases: Vec::new(),
            strategy: Strategy::Priority,
            targets: vec![TargetSpec {
                price: builtin_price(id),
                ..TargetSpec::plain(provider, id)
            }],
            rules: Vec::new(),
            default: None,
            policy: self.route_defaults.clone(),
        };
        let target = self
            .target(&spec.targets[0], model, false)
            .ok_or_else(|| self.unknown_model(model))?;
        let route = Arc::new(Route::new(
            spec.name,
            spec.strategy,
            vec![Slot {
                health: Arc::clone(&target.health),
                target,
                weight: 1.0,
                caps: Caps::ALL,
                context_window: u64::MAX,
                price: spec.targets[0].price,
                rpm: None,
                tpm: None,
                tags: Vec::new(),
            }],
            Vec::new(),
            None,
            spec.policy,
        ));
        let mut dynamic = match self.dynamic.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if dynamic.len() < MAX_DYNAMIC {
            dynamic.insert(model.to_string(), Arc::clone(&route));
        }
        Ok(route)
    }

    /// Applies rules (and defaults) from the named route until a route with targets.
    pub fn select(
        &self,
        model: &str,
        ctx: &RequestContext,
        features: &Features,
    ) -> Result<Selected, Error> {
        let mut route = self.route(model)?;
        let mut via = Vec::new();
        for _ in 0..MAX_HOPS {
            let next = match route.rules.iter().find(|r| r.when.matches(ctx, features)) {
                Some(rule) => Some(rule.route.as_str()),
                None if route.slots.is_empty() => route.default.as_deref(),
                None => return Ok(Selected { route, via }),
            };
            let Some(next) = next else {
                return Err(Error::config(
                    "model",
                    format!("route `{}` has no targets and no default", route.name),
                ));
            };
            let next = self.route(next)?;
            via.push(std::mem::replace(&mut route, next).name.clone());
        }
        Err(Error::config(
            "model",
            format!(
                "rules sent `{model}` through more than {MAX_HOPS} routes: {}",
                via.join(" -> ")
            ),
        ))
    }

    /// The routing decision alone (rules, filters, strategy) for a request's features:
    /// what benchmarks measure and share tests sample.
    pub fn decide(
        &self,
        model: &str,
        ctx: &RequestContext,
        features: &Features,
        rng: &mut Rng,
    ) -> Result<(Arc<Route>, Pick), Error> {
        let sel = self.select(model, ctx, features)?;
        let now = self.clock.now_ms();
        let pick = sel.route.plan(*features).next(now, rng);
        Ok((sel.route, pick))
    }

    /// Every known target, configured ones first (for sharing cooldowns between processes).
    pub fn targets(&self) -> Vec<Arc<Target>> {
        read(&self.registry)
            .list
            .iter()
            .map(|r| r.target.clone())
            .collect()
    }

    /// Every known target's health, configured ones first, in config order.
    pub fn health(&self) -> Vec<TargetHealth> {
        let now = self.clock.now_ms();
        let reg = read(&self.registry);
        reg.list
            .iter()
            .map(|r| {
                let s = r.target.health.snapshot(now);
                TargetHealth {
                    provider: r.target.provider.name.clone(),
                    model: r.target.model.clone(),
                    routes: r.routes.clone(),
                    tags: r.tags.clone(),
                    state: s.state,
                    cooling_until_unix_ms: s.until_ms.map(|u| self.clock.unix_ms(u)),
                    cooldown_remaining_s: s.until_ms.map(|u| u.saturating_sub(now) as f64 / 1000.0),
                    cooldown_reason: s.reason,
                    ewma_latency_ms: s.ewma_latency_ms,
                    p95_latency_ms: s.p95_latency_ms,
                    error_rate: s.error_rate,
                    in_flight: s.in_flight,
                    requests: s.requests,
                    failures: s.failures,
                    requests_last_minute: s.requests_last_minute,
                    tokens_last_minute: s.tokens_last_minute,
                }
            })
            .collect()
    }

    fn unknown_model(&self, model: &str) -> Error {
        let mut names: Vec<&str> = self.routes.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut msg = format!("unknown model `{model}`");
        if let Some(s) = closest(model, names.iter().copied()) {
            msg.push_str(&format!("; did you mean `{s}`?"));
        }
        msg.push_str(&format!(
            "; configured: {}; or use `provider/model`",
            names.join(", ")
        ));
        let mut providers: Vec<&str> = self
            .providers
            .keys()
            .map(String::as_str)
            .chain(Preset::names())
            .collect();
        providers.sort_unstable();
        providers.dedup();
        msg.push_str(&format!(" with a provider among {}", providers.join(", ")));
        Error::new(ErrorKind::NotFound, msg).with_param("model")
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    match l.read() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}
