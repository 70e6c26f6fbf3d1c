//! Walking a request through its routes: pick, attempt, retry, fail over, wait, hedge, fall
//! back. Generic over the kind of call (chat, stream opening, embeddings).

use super::backoff::retry_delay;
use super::policy::{disposition, fails_over, Disposition, HedgeAfter};
use crate::api::{AttemptFact, AttemptOutcome, Error, ErrorKind};
use crate::gateway::RequestContext;
use crate::routing::{
    with_thread_rng, Availability, Clock, Exclusion, Features, Lease, Pick, Plan, Rng, Route,
    Router, Selected,
};
use crate::transport::{AfterKey, Upstream};
use futures_util::future::{select, Either};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How many times one request may wait for a resting target.
const MAX_WAITS: u32 = 4;

/// How many times one visit to a target may move to the provider's next key after a key was
/// refused (each refusal rests that key, so the provider's keys bound it first).
const MAX_KEY_SWITCHES: u32 = 16;

/// The deadlines one attempt runs under (std instants, as the transport takes them).
#[derive(Debug, Clone, Copy)]
pub struct AttemptDeadlines {
    /// When the answer (for streams: the first chunk) must be there.
    pub answer: Option<std::time::Instant>,
    /// When the whole request must be over (a stream's body runs to this).
    pub overall: Option<std::time::Instant>,
}

/// A successful attempt: its output, the time spent waiting on the provider, and the
/// tokens it used when known (for tokens-per-minute limits).
#[derive(Debug)]
pub struct Answer<T> {
    pub output: T,
    pub waited: Duration,
    pub tokens: Option<u64>,
}

/// One kind of upstream call, tried on one target at a time.
pub trait Call: Sync {
    type Output: Send;

    /// One attempt at `model` on `upstream`.
    fn attempt(
        &self,
        upstream: Arc<Upstream>,
        model: &str,
        limits: AttemptDeadlines,
    ) -> impl Future<Output = Result<Answer<Self::Output>, Error>> + Send;
}

/// The answer and the target that gave it; the lease keeps the target counted in flight
/// (a stream holds it until it ends).
#[derive(Debug)]
pub struct Served<T> {
    pub output: T,
    pub route: Arc<Route>,
    pub slot: usize,
    pub lease: Lease,
}

/// One request's walk through its routes.
#[derive(Debug)]
pub struct Executor<'a> {
    router: &'a Router,
    ctx: &'a RequestContext,
    features: Features,
    deadline: Option<Instant>,
    rng: Rng,
    /// Every attempt made, in order.
    pub attempts: Vec<AttemptFact>,
    /// Routes that passed the request on (rules, defaults, fallbacks).
    pub via: Vec<String>,
}

impl<'a> Executor<'a> {
    /// An executor for one request with an overall deadline.
    pub fn new(
        router: &'a Router,
        ctx: &'a RequestContext,
        features: Features,
        deadline: Option<Instant>,
    ) -> Self {
        Executor {
            router,
            ctx,
            features,
            deadline,
            rng: with_thread_rng(|r| Rng::seeded(r.next_u64())),
            attempts: Vec::new(),
            via: Vec::new(),
        }
    }

    /// Runs the call on the selected route, then on its fallbacks by error kind.
    pub async fn run<C: Call>(
        &mut self,
        call: &C,
        selected: Selected,
    ) -> Result<Served<C::Output>, Error> {
        self.via.extend(selected.via);
        let mut route = selected.route;
        let mut visited = vec![route.name.clone()];
        let mut pending: VecDeque<String> = VecDeque::new();
        loop {
            let plan = route.plan(self.features);
            let err = match self.run_plan(call, &route, plan).await {
                Ok(s) => return Ok(s),
                Err(e) => e,
            };
            if disposition(err.kind) == Disposition::Stop || self.expired() {
                return Err(err);
            }
            if let Some(list) = route.policy.fallbacks_for(err.kind) {
                for name in list.iter().rev() {
                    if !visited.contains(name) && !pending.contains(name) {
                        pending.push_front(name.clone());
                    }
                }
            }
            let Some(next) = pending.pop_front() else {
                return Err(err);
            };
            visited.push(next.clone());
            let sel = self.router.select(&next, self.ctx, &self.features)?;
            self.via.push(route.name.clone());
            self.via.extend(sel.via);
            route = sel.route;
        }
    }

    /// Walks one route's plan (also used to resume a stream on the rest of its route).
    pub async fn run_plan<C: Call>(
        &mut self,
        call: &C,
        route: &Arc<Route>,
        mut plan: Plan<'_>,
    ) -> Result<Served<C::Output>, Error> {
        let clock = *self.router.clock();
        let mut last: Option<Error> = None;
        let mut waits = 0;
        loop {
            if self.expired() {
                return Err(last.unwrap_or_else(|| {
                    Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "the request's deadline passed before route `{}` answered",
                            route.name
                        ),
                    )
                }));
            }
            let now = clock.now_ms();
            match plan.next(now, &mut self.rng) {
                Pick::NoFit => return Err(route.no_fit_error(&self.features)),
                Pick::Exhausted => {
                    // Every target failed and now rests: wait for the first, if allowed.
                    let back = last
                        .as_ref()
                        .filter(|e| fails_over(e.kind) && route.slots.len() > 1)
                        .and_then(|_| first_back(route, now));
                    if let Some((until_ms, _)) = back {
                        if waits < MAX_WAITS && self.may_wait(route, until_ms, now) {
                            waits += 1;
                            tokio::time::sleep_until(clock.instant(until_ms)).await;
                            plan.forget_tried();
                            continue;
                        }
                    }
                    return Err(exhausted(route, last, now));
                }
                Pick::Resting { until_ms } => {
                    if waits < MAX_WAITS && self.may_wait(route, until_ms, now) {
                        waits += 1;
                        tokio::time::sleep_until(clock.instant(until_ms)).await;
                        continue;
                    }
                    return Err(all_resting(route, until_ms, now, last));
                }
                Pick::Target(i) => {
                    plan.mark_tried(i);
                    let Some(lease) = route.slots[i].target.health.acquire(now, plan.forced())
                    else {
                        continue; // another request took the half-open probe first
                    };
                    let result = if route.policy.hedge.is_some() && !plan.forced() {
                        self.hedged(call, route, &mut plan, i, lease).await
                    } else {
                        self.with_retries(call, route, &mut plan, i, lease).await
                    };
                    match result {
                        Ok(s) => return Ok(s),
                        Err(e) if disposition(e.kind) == Disposition::Stop => return Err(e),
                        Err(e) => last = Some(e),
                    }
                }
            }
        }
    }

    /// One target: the attempt, then same-target retries while errors are transient.
    async fn with_retries<C: Call>(
        &mut self,
        call: &C,
        route: &Arc<Route>,
        plan: &mut Plan<'_>,
        i: usize,
        lease: Lease,
    ) -> Result<Served<C::Output>, Error> {
        let clock = *self.router.clock();
        let mut lease = lease;
        let mut retry = 0;
        let mut key_switches = 0;
        let mut waited = Duration::ZERO;
        loop {
            let Outcome {
                result: res,
                mut fact,
                lease: back,
                next_key,
            } = attempt(call, route, i, lease, self.deadline, clock).await;
            fact.waited_ms = ms(waited);
            self.attempts.push(fact);
            let e = match res {
                Ok(a) => {
                    return Ok(Served {
                        output: a.output,
                        route: Arc::clone(route),
                        slot: i,
                        lease: back,
                    })
                }
                Err(e) => e,
            };
            drop(back);
            if next_key && key_switches < MAX_KEY_SWITCHES && !self.expired() {
                // The provider refused that key; another of its keys has room: try it now.
                key_switches += 1;
                waited = Duration::ZERO;
                lease = match route.slots[i]
                    .target
                    .health
                    .acquire(clock.now_ms(), plan.forced())
                {
                    Some(l) => l,
                    None => return Err(e),
                };
                continue;
            }
            let delay = (disposition(e.kind) == Disposition::RetrySame
                && retry < route.policy.retries.max)
                .then(|| retry_delay(&route.policy.retries, retry, e.retry_after, &mut self.rng))
                .flatten()
                .filter(|d| self.fits_deadline(*d));
            let Some(delay) = delay else {
                exclude(plan, route, i, &e);
                return Err(e);
            };
            tokio::time::sleep(delay).await;
            retry += 1;
            waited = delay;
            let now = clock.now_ms();
            lease = match route.slots[i].target.health.acquire(now, plan.forced()) {
                Some(l) => l,
                None => return Err(e), // it went to rest meanwhile: the next target
            };
        }
    }

    /// A target raced against the next one if it has not answered by its hedge delay.
    async fn hedged<C: Call>(
        &mut self,
        call: &C,
        route: &Arc<Route>,
        plan: &mut Plan<'_>,
        i: usize,
        lease: Lease,
    ) -> Result<Served<C::Output>, Error> {
        let clock = *self.router.clock();
        let delay = match route.policy.hedge {
            Some(h) => match h.after {
                HedgeAfter::Fixed(d) => d,
                HedgeAfter::Quantile(q) => route.slots[i]
                    .target
                    .health
                    .latency_quantile(q)
                    .unwrap_or(h.initial),
            },
            None => Duration::MAX,
        };
        let deadline = self.deadline;
        let first = Box::pin(attempt(call, route, i, lease, deadline, clock));
        let first = match select(first, Box::pin(tokio::time::sleep(delay))).await {
            Either::Left((out, _)) => return self.settle_one(route, plan, i, out),
            Either::Right((_, first)) => first,
        };
        let now = clock.now_ms();
        let second = match plan.next(now, &mut self.rng) {
            Pick::Target(j) => {
                plan.mark_tried(j);
                route.slots[j]
                    .target
                    .health
                    .acquire(now, false)
                    .map(|l| (j, l))
            }
            _ => None,
        };
        let Some((j, lease_b)) = second else {
            let out = first.await;
            return self.settle_one(route, plan, i, out);
        };
        let started = Instant::now();
        let hedge = Box::pin(async move {
            let mut out = attempt(call, route, j, lease_b, deadline, clock).await;
            out.fact.hedge = true;
            out
        });
        match select(first, hedge).await {
            Either::Left((out, other)) => {
                if out.result.is_ok() {
                    drop(other);
                    self.attempts.push(cancelled(route, j, started, true));
                    return self.settle_one(route, plan, i, out);
                }
                let _ = self.settle_one(route, plan, i, out);
                let out = other.await;
                self.settle_one(route, plan, j, out)
            }
            Either::Right((out, other)) => {
                if out.result.is_ok() {
                    drop(other);
                    self.attempts.push(cancelled(route, i, started, false));
                    return self.settle_one(route, plan, j, out);
                }
                let _ = self.settle_one(route, plan, j, out);
                let out = other.await;
                self.settle_one(route, plan, i, out)
            }
        }
    }

    fn settle_one<T>(
        &mut self,
        route: &Arc<Route>,
        plan: &mut Plan<'_>,
        i: usize,
        Outcome {
            result,
            fact,
            lease,
            ..
        }: Outcome<T>,
    ) -> Result<Served<T>, Error> {
        self.attempts.push(fact);
        match result {
            Ok(a) => Ok(Served {
                output: a.output,
                route: Arc::clone(route),
                slot: i,
                lease,
            }),
            Err(e) => {
                exclude(plan, route, i, &e);
                Err(e)
            }
        }
    }

    /// Whether the route lets a request wait until `until_ms` for a resting target.
    fn may_wait(&self, route: &Route, until_ms: u64, now: u64) -> bool {
        let wait = Duration::from_millis(until_ms.saturating_sub(now));
        let max = route.policy.cooldown.wait;
        !max.is_zero() && wait <= max && self.fits_deadline(wait)
    }

    fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn fits_deadline(&self, wait: Duration) -> bool {
        self.deadline.is_none_or(|d| Instant::now() + wait < d)
    }
}

/// One attempt's result, its fact and its hold on the target.
struct Outcome<T> {
    result: Result<Answer<T>, Error>,
    fact: AttemptFact,
    lease: Lease,
    /// The provider refused this attempt's key (429, 401) and another of its keys has room:
    /// the same target is tried again with that key, and was not blamed.
    next_key: bool,
}

/// One attempt on slot `i`, with the route's attempt timeout; health and facts recorded.
async fn attempt<C: Call>(
    call: &C,
    route: &Route,
    i: usize,
    mut lease: Lease,
    overall: Option<Instant>,
    clock: Clock,
) -> Outcome<C::Output> {
    let slot = &route.slots[i];
    let target = &slot.target;
    let started = Instant::now();
    let per_attempt = route.policy.timeouts.attempt.map(|d| started + d);
    let answer_by = match (per_attempt, overall) {
        (Some(a), Some(o)) => Some(a.min(o)),
        (a, o) => a.or(o),
    };
    let picked = target
        .provider
        .upstream()
        .and_then(|up| up.for_attempt(clock.now_ms()));
    let (result, key) = match picked {
        Err(e) => (Err(e), None),
        Ok((up, key)) => {
            let limits = AttemptDeadlines {
                answer: answer_by.map(Instant::into_std),
                overall: overall.map(Instant::into_std),
            };
            let fut = call.attempt(up, &target.model, limits);
            let result = match answer_by {
                None => fut.await,
                Some(by) => match tokio::time::timeout_at(by, fut).await {
                    Ok(r) => r,
                    Err(_) => {
                        let what = if per_attempt == answer_by {
                            "the route's attempt timeout"
                        } else {
                            "the request's deadline"
                        };
                        Err(Error::new(
                            ErrorKind::Timeout,
                            format!(
                                "no answer within {:.3}s ({what})",
                                (by - started).as_secs_f64()
                            ),
                        )
                        .with_provider(&target.provider.name))
                    }
                },
            };
            (result, key)
        }
    };
    let clock_now = clock.now_ms();
    let after_key = key.as_ref().map_or(AfterKey::Same, |k| {
        k.settle(clock_now, result.as_ref().map(|a| a.tokens))
    });
    let mut fact = AttemptFact::new(
        &target.provider.name,
        &target.model,
        AttemptOutcome::Ok,
        ms(started.elapsed()),
    );
    fact.route = Some(route.name.clone());
    match &result {
        Ok(a) => {
            lease.succeeded(a.waited);
            fact.latency_ms = ms(a.waited);
            if let Some(t) = a.tokens {
                target.health.add_tokens(clock_now, t);
            }
        }
        Err(e) => {
            match after_key {
                // Another key has room: the target is not to blame for this key's refusal.
                AfterKey::NextKey => {}
                // Every key is refused or full: the target rests until the first is back.
                AfterKey::Exhausted(wait) => {
                    lease.failed(clock_now, e.kind, Some(wait), &route.policy.cooldown)
                }
                AfterKey::Same => {
                    lease.failed(clock_now, e.kind, e.retry_after, &route.policy.cooldown)
                }
            }
            fact.outcome = AttemptOutcome::Error(e.kind);
            fact.message = Some(match &key {
                Some(k) => format!("{} (key `{}`)", e.message, k.name()),
                None => e.message.clone(),
            });
        }
    }
    Outcome {
        result,
        fact,
        lease,
        next_key: after_key == AfterKey::NextKey,
    }
}

/// Rules out, for the rest of the request, the targets a failure says cannot serve it.
fn exclude(plan: &mut Plan<'_>, route: &Route, i: usize, e: &Error) {
    let slot = &route.slots[i];
    match disposition(e.kind) {
        Disposition::NextProvider => {
            plan.exclude(Exclusion::Provider(Arc::clone(&slot.target.provider)))
        }
        Disposition::LargerContext if slot.context_window != u64::MAX => {
            plan.exclude(Exclusion::WindowAtMost(slot.context_window))
        }
        Disposition::LargerContext => plan.exclude(Exclusion::Model(slot.target.model.clone())),
        _ => {}
    }
}

/// The fact for an attempt hedging cancelled because the other answered first.
fn cancelled(route: &Route, i: usize, started: Instant, hedge: bool) -> AttemptFact {
    let t = &route.slots[i].target;
    let mut f = AttemptFact::new(
        &t.provider.name,
        &t.model,
        AttemptOutcome::Error(ErrorKind::Cancelled),
        ms(started.elapsed()),
    );
    f.route = Some(route.name.clone());
    f.hedge = hedge;
    f.message = Some("cancelled: another attempt answered first".into());
    f
}

/// The error when the plan ran out: the last failure, and when every target of a
/// multi-target route now rests, when the first comes back.
fn exhausted(route: &Route, last: Option<Error>, now: u64) -> Error {
    let Some(mut e) = last else {
        return Error::new(
            ErrorKind::Unavailable,
            format!("no target of route `{}` could take the request", route.name),
        );
    };
    if route.slots.len() > 1 && fails_over(e.kind) {
        if let Some((until, label)) = first_back(route, now) {
            let wait = Duration::from_millis(until.saturating_sub(now));
            e.message.push_str(&format!(
                "; every target of route `{}` is cooling down, the first (`{label}`) comes back in {:.3}s",
                route.name,
                wait.as_secs_f64()
            ));
            e.retry_after = Some(e.retry_after.map_or(wait, |r| r.min(wait)));
        }
    }
    e
}

/// When every target still worth trying rests: which comes back first and when.
fn all_resting(route: &Route, until_ms: u64, now: u64, last: Option<Error>) -> Error {
    let wait = Duration::from_millis(until_ms.saturating_sub(now));
    let mut states = Vec::new();
    let mut first_reason = None;
    let mut first_until = u64::MAX;
    for s in &route.slots {
        if let Availability::Resting { until_ms: u } = s.target.health.availability(now) {
            let reason = s.target.health.reason();
            states.push(format!(
                "`{}` {} for {:.3}s",
                s.target.label(),
                reason.map_or("resting", ErrorKind::as_str),
                Duration::from_millis(u.saturating_sub(now)).as_secs_f64()
            ));
            if u < first_until {
                first_until = u;
                first_reason = reason;
            }
        }
    }
    let kind = if first_reason == Some(ErrorKind::RateLimited) {
        ErrorKind::RateLimited
    } else {
        ErrorKind::Unavailable
    };
    let mut msg = format!(
        "every target of route `{}` is cooling down ({}); the first comes back in {:.3}s",
        route.name,
        states.join(", "),
        wait.as_secs_f64()
    );
    if let Some(l) = last {
        msg.push_str(&format!("; last error: {l}"));
    }
    Error::new(kind, msg)
        .with_retry_after(Some(wait))
        .with_code("all_targets_cooling_down")
}

fn first_back(route: &Route, now: u64) -> Option<(u64, String)> {
    let mut first: Option<(u64, String)> = None;
    for s in &route.slots {
        match s.target.health.availability(now) {
            Availability::Resting { until_ms } => {
                if first.as_ref().is_none_or(|(u, _)| until_ms < *u) {
                    first = Some((until_ms, s.target.label()));
                }
            }
            _ => return None,
        }
    }
    first
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
