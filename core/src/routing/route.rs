//! A route: the targets behind one model name, the strategy that orders them, and the plan
//! that hands out one target after another for a request.

use super::{Caps, Features, ProviderCell, Rng, Rule, Slot};
use crate::api::{Error, ErrorKind};
use crate::resilience::RoutePolicy;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// How a route orders its targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// In order; the next only when the previous failed or rests.
    #[default]
    Priority,
    /// At random, in proportion to `weight`, among healthy targets.
    Weighted,
    /// The cheapest for this request (price x estimated tokens).
    LowestCost,
    /// The fastest by latency EWMA (time to first token for streams): power of two choices
    /// plus a little exploration so a recovered target gets traffic again.
    LowestLatency,
    /// The fewest requests in flight.
    LeastBusy,
    /// The most headroom under the targets' requests- and tokens-per-minute limits.
    UsageBased,
}

impl Strategy {
    /// The config name.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Priority => "priority",
            Strategy::Weighted => "weighted",
            Strategy::LowestCost => "lowest_cost",
            Strategy::LowestLatency => "lowest_latency",
            Strategy::LeastBusy => "least_busy",
            Strategy::UsageBased => "usage_based",
        }
    }
}

/// One in this many lowest_latency decisions sends the request to the slower candidate.
pub const EXPLORE_EVERY: u64 = 10;

/// Up to this many targets, least_busy and usage_based compare every target; above it they
/// compare [`SAMPLE`] random eligible ones (power-of-d choices), keeping the decision O(1).
pub const SCAN_LIMIT: usize = 128;
/// Targets compared per decision above [`SCAN_LIMIT`].
pub const SAMPLE: usize = 32;

/// A model name's route.
#[derive(Debug)]
pub struct Route {
    pub name: String,
    pub strategy: Strategy,
    pub slots: Vec<Slot>,
    /// Running sums of weights, for weighted picks by binary search.
    cum_weight: Vec<f64>,
    /// Capabilities every target has, and the smallest window: a request within both fits
    /// every target, so the per-target check is skipped.
    common_caps: Caps,
    min_window: u64,
    /// Slot indices by input and by output price, for lowest_cost's threshold search.
    by_input: Vec<u32>,
    by_output: Vec<u32>,
    /// Rules evaluated before the strategy; the first match sends the request elsewhere.
    pub rules: Vec<Rule>,
    /// Where requests go when no rule matches and the route has no targets.
    pub default: Option<String>,
    pub policy: RoutePolicy,
    decisions: AtomicU64,
}

/// What the plan offers next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Try this slot.
    Target(usize),
    /// Every target still worth trying rests; the first is back at this clock time.
    Resting { until_ms: u64 },
    /// Every target that fits was tried or excluded.
    Exhausted,
    /// No target of the route can serve this request at all.
    NoFit,
}

enum Check {
    Yes,
    Resting(u64),
    No,
}

/// Targets a failed attempt rules out for the rest of a request.
#[derive(Debug, Clone)]
pub enum Exclusion {
    /// Every target on this provider (credentials, filters, a request it rejects).
    Provider(Arc<ProviderCell>),
    /// Targets whose context window is at most this (the request did not fit).
    WindowAtMost(u64),
    /// Targets serving this provider model id.
    Model(String),
}

impl Route {
    /// A route from its parts; `slots` keep their config order.
    pub fn new(
        name: String,
        strategy: Strategy,
        slots: Vec<Slot>,
        rules: Vec<Rule>,
        default: Option<String>,
        policy: RoutePolicy,
    ) -> Route {
        let mut sum = 0.0;
        let cum_weight = slots
            .iter()
            .map(|s| {
                sum += s.weight.max(0.0);
                sum
            })
            .collect();
        let common_caps = slots.iter().fold(Caps::ALL, |c, s| c.intersect(s.caps));
        let min_window = slots
            .iter()
            .map(|s| s.context_window)
            .min()
            .unwrap_or(u64::MAX);
        let price = |s: &Slot, out: bool| {
            s.price
                .map_or(f64::INFINITY, |p| if out { p.output } else { p.input })
        };
        let order = |out: bool| -> Vec<u32> {
            if strategy != Strategy::LowestCost || slots.len() <= SCAN_LIMIT {
                return Vec::new();
            }
            let mut v: Vec<u32> = (0..slots.len() as u32).collect();
            v.sort_by(|&a, &b| {
                price(&slots[a as usize], out).total_cmp(&price(&slots[b as usize], out))
            });
            v
        };
        let (by_input, by_output) = (order(false), order(true));
        Route {
            name,
            strategy,
            slots,
            cum_weight,
            common_caps,
            min_window,
            by_input,
            by_output,
            rules,
            default,
            policy,
            decisions: AtomicU64::new(0),
        }
    }

    /// A plan for one request.
    pub fn plan(&self, features: Features) -> Plan<'_> {
        Plan {
            route: self,
            check_fit: !(self.common_caps.covers(features.needs)
                && self.min_window >= features.context_needed()),
            features,
            tried: Vec::new(),
            excluded: Vec::new(),
            force: self.slots.len() == 1,
        }
    }

    /// The error for a request no target can serve, naming each requirement and target.
    pub fn no_fit_error(&self, f: &Features) -> Error {
        let mut reasons = Vec::new();
        let mut param = None;
        let mut only_context = true;
        for s in &self.slots {
            let label = s.target.label();
            for (cap, name) in f.needs.missing_from(s.caps) {
                only_context = false;
                param.get_or_insert(match cap {
                    Caps::TOOLS => "tools",
                    Caps::JSON_SCHEMA => "response_format",
                    _ => "messages",
                });
                reasons.push(format!("`{label}` lacks {name}"));
            }
            if s.context_window < f.context_needed() {
                param.get_or_insert(if f.max_output.is_some() {
                    "max_tokens"
                } else {
                    "messages"
                });
                reasons.push(format!(
                    "`{label}` has a {}-token context window but the request needs about {} (prompt ~{} + max_tokens {})",
                    s.context_window,
                    f.context_needed(),
                    f.prompt_tokens,
                    f.max_output.unwrap_or(0)
                ));
            }
        }
        let kind = if only_context {
            ErrorKind::ContextWindowExceeded
        } else {
            ErrorKind::BadRequest
        };
        let shown = reasons.len().min(10);
        let mut msg = format!(
            "no target of route `{}` can serve this request: {}",
            self.name,
            reasons[..shown].join("; ")
        );
        if reasons.len() > shown {
            msg.push_str(&format!(" (and {} more)", reasons.len() - shown));
        }
        Error::new(kind, msg).with_param(param.unwrap_or("model"))
    }
}

/// The order of targets for one request, computed lazily: each call to [`Plan::next`]
/// applies the strategy to the targets not yet tried, so the first decision costs one pick,
/// not a sort of the whole route.
#[derive(Debug)]
pub struct Plan<'r> {
    route: &'r Route,
    features: Features,
    /// Some target may not fit this request (else the per-target check is skipped).
    check_fit: bool,
    tried: Vec<u32>,
    excluded: Vec<Exclusion>,
    /// A one-target route tries its target even while it rests.
    force: bool,
}

impl<'r> Plan<'r> {
    /// The route this plan walks.
    pub fn route(&self) -> &'r Route {
        self.route
    }

    /// Whether resting targets are tried anyway (one-target routes).
    pub fn forced(&self) -> bool {
        self.force
    }

    /// Marks a slot as tried (it is not offered again).
    pub fn mark_tried(&mut self, i: usize) {
        self.tried.push(i as u32);
    }

    /// Makes tried targets eligible again (after waiting for a resting one to come back).
    pub fn forget_tried(&mut self) {
        self.tried.clear();
    }

    /// Rules out more targets for the rest of this request.
    pub fn exclude(&mut self, e: Exclusion) {
        self.excluded.push(e);
    }

    /// Whether any untried, fitting, non-excluded target remains (resting or not).
    pub fn has_more(&self, now: u64) -> bool {
        (0..self.route.slots.len()).any(|i| !matches!(self.check(i, now), Check::No))
    }

    #[inline]
    fn check(&self, i: usize, now: u64) -> Check {
        if !self.tried.is_empty() && self.tried.contains(&(i as u32)) {
            return Check::No;
        }
        let s = &self.route.slots[i];
        if self.check_fit && !s.fits(&self.features) {
            return Check::No;
        }
        if !self.excluded.is_empty() && self.is_excluded(s) {
            return Check::No;
        }
        if self.force {
            return Check::Yes;
        }
        let h = &s.health;
        if !h.is_available(now) {
            return match h.availability(now) {
                super::Availability::Resting { until_ms } => Check::Resting(until_ms),
                _ => Check::Yes,
            };
        }
        if s.limited() && s.headroom(now) <= 0.0 {
            return Check::Resting(now + 60_000 - now % 60_000);
        }
        Check::Yes
    }

    fn is_excluded(&self, s: &Slot) -> bool {
        self.excluded.iter().any(|e| match e {
            Exclusion::Provider(p) => Arc::ptr_eq(p, &s.target.provider),
            Exclusion::WindowAtMost(w) => s.context_window <= *w,
            Exclusion::Model(m) => *m == s.target.model,
        })
    }

    fn fits_any(&self) -> bool {
        !self.check_fit || self.route.slots.iter().any(|s| s.fits(&self.features))
    }

    /// What the strategy picks next at clock time `now`.
    pub fn next(&mut self, now: u64, rng: &mut Rng) -> Pick {
        let n = self.route.slots.len();
        if n == 0 {
            return Pick::Exhausted;
        }
        let pick = match self.route.strategy {
            Strategy::Priority => self.first(now),
            Strategy::Weighted => self.weighted(now, rng),
            Strategy::LowestLatency => self.lowest_latency(now, rng),
            Strategy::LowestCost => self.lowest_cost(now),
            Strategy::LeastBusy => {
                self.min_or_sample(now, rng, |s| f64::from(s.health.in_flight()))
            }
            Strategy::UsageBased => self.min_or_sample(now, rng, |s| -s.headroom(now)),
        };
        match pick {
            Pick::Exhausted if self.tried.is_empty() && !self.fits_any() => Pick::NoFit,
            p => p,
        }
    }

    fn first(&self, now: u64) -> Pick {
        let mut resting = u64::MAX;
        for i in 0..self.route.slots.len() {
            match self.check(i, now) {
                Check::Yes => return Pick::Target(i),
                Check::Resting(u) => resting = resting.min(u),
                Check::No => {}
            }
        }
        none_left(resting)
    }

    /// The eligible slot with the lowest score, scanning from `start` (a random start
    /// spreads ties); resting slots give the earliest return when none is eligible.
    fn min_by(&self, now: u64, start: usize, score: impl Fn(&Slot) -> f64) -> Pick {
        let n = self.route.slots.len();
        let mut best: Option<(usize, f64)> = None;
        let mut resting = u64::MAX;
        for k in 0..n {
            let i = if start + k >= n {
                start + k - n
            } else {
                start + k
            };
            match self.check(i, now) {
                Check::Yes => {
                    let s = score(&self.route.slots[i]);
                    if best.is_none_or(|(_, b)| s < b) {
                        best = Some((i, s));
                    }
                }
                Check::Resting(u) => resting = resting.min(u),
                Check::No => {}
            }
        }
        best.map_or_else(|| none_left(resting), |(i, _)| Pick::Target(i))
    }

    /// The lowest-scoring eligible slot: exactly for small routes, among [`SAMPLE`] random
    /// eligible slots for large ones (falling back to a scan when sampling finds none).
    fn min_or_sample(&self, now: u64, rng: &mut Rng, score: impl Fn(&Slot) -> f64) -> Pick {
        let n = self.route.slots.len();
        if n > SCAN_LIMIT {
            let mut best: Option<(usize, f64)> = None;
            let mut found = 0;
            for _ in 0..4 * SAMPLE {
                let i = rng.below(n);
                if let Check::Yes = self.check(i, now) {
                    let s = score(&self.route.slots[i]);
                    if best.is_none_or(|(_, b)| s < b) {
                        best = Some((i, s));
                    }
                    found += 1;
                    if found == SAMPLE {
                        break;
                    }
                }
            }
            if let Some((i, _)) = best {
                return Pick::Target(i);
            }
        }
        self.min_by(now, rng.below(n), score)
    }

    /// The cheapest eligible slot for this request's token estimate. Large routes walk the
    /// input-price and output-price orders together (Fagin's threshold algorithm): no unseen
    /// target can cost less than `input x prompt + output x completion` at the current
    /// positions, so the walk stops as soon as the best found is within that bound. Exact,
    /// and typically a few steps.
    fn lowest_cost(&self, now: u64) -> Pick {
        let (p, c) = (
            self.features.prompt_tokens,
            self.features.completion_estimate(),
        );
        let cost = |s: &Slot| s.price.map_or(f64::INFINITY, |price| price.cost(p, c));
        let r = self.route;
        if r.by_input.is_empty() {
            return self.min_by(now, 0, cost);
        }
        let mut best: Option<(usize, f64)> = None;
        for (&a, &b) in r.by_input.iter().zip(&r.by_output) {
            for i in [a as usize, b as usize] {
                if let Check::Yes = self.check(i, now) {
                    let c = cost(&r.slots[i]);
                    if best.is_none_or(|(bi, bc)| c < bc || (c == bc && i < bi)) {
                        best = Some((i, c));
                    }
                }
            }
            let floor = match (r.slots[a as usize].price, r.slots[b as usize].price) {
                (Some(x), Some(y)) => (x.input * p as f64 + y.output * c as f64) / 1e6,
                _ => f64::INFINITY,
            };
            if best.is_some_and(|(_, bc)| bc <= floor) {
                break;
            }
        }
        match best {
            Some((i, _)) => Pick::Target(i),
            None => self.min_by(now, 0, cost),
        }
    }

    fn weighted(&self, now: u64, rng: &mut Rng) -> Pick {
        let cum = &self.route.cum_weight;
        let total = cum.last().copied().unwrap_or(0.0);
        if total > 0.0 && self.tried.is_empty() && self.excluded.is_empty() {
            for _ in 0..16 {
                let r = rng.next_f64() * total;
                let i = cum.partition_point(|c| *c <= r).min(cum.len() - 1);
                if self.route.slots[i].weight > 0.0 && matches!(self.check(i, now), Check::Yes) {
                    return Pick::Target(i);
                }
            }
        }
        // Some targets are out: weigh the eligible ones only (two passes, no allocation).
        let mut sum = 0.0;
        let mut first = None;
        let mut resting = u64::MAX;
        for i in 0..self.route.slots.len() {
            match self.check(i, now) {
                Check::Yes => {
                    first.get_or_insert(i);
                    sum += self.route.slots[i].weight.max(0.0);
                }
                Check::Resting(u) => resting = resting.min(u),
                Check::No => {}
            }
        }
        let Some(first) = first else {
            return none_left(resting);
        };
        if sum <= 0.0 {
            return Pick::Target(first); // only zero-weight (standby) targets are left
        }
        let mut r = rng.next_f64() * sum;
        let mut last = first;
        for i in first..self.route.slots.len() {
            if let Check::Yes = self.check(i, now) {
                let w = self.route.slots[i].weight.max(0.0);
                if w > 0.0 {
                    last = i;
                    if r < w {
                        return Pick::Target(i);
                    }
                    r -= w;
                }
            }
        }
        Pick::Target(last)
    }

    fn lowest_latency(&self, now: u64, rng: &mut Rng) -> Pick {
        let n = self.route.slots.len();
        let score = |i: usize| {
            let h = &self.route.slots[i].health;
            h.ewma_us() * f64::from(h.in_flight() + 1)
        };
        let (a, b) = match self.two_random(now, rng) {
            Ok(pair) => pair,
            Err(p) => return p,
        };
        let Some(b) = b else {
            return Pick::Target(a);
        };
        let (win, lose) = if score(b) < score(a) { (b, a) } else { (a, b) };
        let explore = self.tried.is_empty()
            && n > 1
            && self.route.decisions.fetch_add(1, Relaxed) % EXPLORE_EVERY == EXPLORE_EVERY - 1;
        Pick::Target(if explore { lose } else { win })
    }

    /// Two distinct eligible slots at random (by rejection, then by rank if many are out);
    /// one when only one is eligible; the final pick when none is.
    fn two_random(&self, now: u64, rng: &mut Rng) -> Result<(usize, Option<usize>), Pick> {
        let n = self.route.slots.len();
        if self.tried.is_empty() && self.excluded.is_empty() && n >= 2 {
            let mut got: [usize; 2] = [usize::MAX; 2];
            let mut k = 0;
            for _ in 0..32 {
                let i = rng.below(n);
                if i != got[0] && matches!(self.check(i, now), Check::Yes) {
                    got[k] = i;
                    k += 1;
                    if k == 2 {
                        return Ok((got[0], Some(got[1])));
                    }
                }
            }
        }
        let mut count = 0usize;
        let mut resting = u64::MAX;
        for i in 0..n {
            match self.check(i, now) {
                Check::Yes => count += 1,
                Check::Resting(u) => resting = resting.min(u),
                Check::No => {}
            }
        }
        match count {
            0 => Err(none_left(resting)),
            1 => Ok((self.nth_eligible(now, 0).unwrap_or(0), None)),
            _ => {
                let r1 = rng.below(count);
                let mut r2 = rng.below(count - 1);
                if r2 >= r1 {
                    r2 += 1;
                }
                let a = self.nth_eligible(now, r1).unwrap_or(0);
                let b = self.nth_eligible(now, r2).unwrap_or(a);
                Ok((a, (b != a).then_some(b)))
            }
        }
    }

    fn nth_eligible(&self, now: u64, nth: usize) -> Option<usize> {
        (0..self.route.slots.len())
            .filter(|&i| matches!(self.check(i, now), Check::Yes))
            .nth(nth)
    }
}

fn none_left(resting: u64) -> Pick {
    if resting == u64::MAX {
        Pick::Exhausted
    } else {
        Pick::Resting { until_ms: resting }
    }
}
