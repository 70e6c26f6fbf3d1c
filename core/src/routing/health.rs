//! Per-target health: a cooldown circuit (healthy, resting, half-open), latency EWMA and
//! quantiles, recent error rate, requests in flight and a per-minute usage window.
//!
//! The fields routing reads on every request are atomics; the rarely-touched failure window
//! and latency samples sit behind a mutex held for a few instructions, never across an await.

use crate::api::ErrorKind;
use crate::resilience::{hurts_health, CooldownPolicy};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Weight of a new latency sample in the EWMA.
const LATENCY_ALPHA: f64 = 0.3;
/// Weight of a new outcome in the error-rate EWMA.
const ERROR_ALPHA: f64 = 0.1;
/// Latency samples kept for quantiles (hedging).
const RING: usize = 64;
/// Samples needed before a quantile is trusted.
const MIN_QUANTILE_SAMPLES: usize = 10;
/// How soon a half-open target whose probe is still running is expected back.
const PROBE_WAIT_MS: u64 = 1000;

/// Whether a target takes requests now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Healthy.
    Open,
    /// Its rest is over; the next request probes it.
    HalfOpen,
    /// Resting (or its probe is running) until this clock time.
    Resting { until_ms: u64 },
}

/// The state names `health()` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Healthy,
    CoolingDown,
    HalfOpen,
}

/// One target's health.
#[derive(Debug, Default)]
pub struct Health {
    /// Clock ms until which the target rests; 0 when healthy.
    cool_until: AtomicU64,
    /// A half-open probe is running.
    probing: AtomicBool,
    in_flight: AtomicU32,
    /// Latency EWMA in µs as f64 bits; 0 before the first sample.
    ewma_us: AtomicU64,
    /// Error-rate EWMA as f64 bits.
    error_rate: AtomicU64,
    /// Why the target rests (an `ErrorKind` index + 1; 0 = none).
    reason: AtomicU8,
    requests: AtomicU64,
    failures: AtomicU64,
    usage: UsageWindow,
    /// Boxed so the fields routing scans stay within two cache lines.
    cold: Box<Mutex<Cold>>,
}

#[derive(Debug)]
struct Cold {
    /// Times (clock ms) of recent failures, within the cooldown window.
    recent: VecDeque<u64>,
    /// Rests in a row without a success in between (for doubling).
    trips: u32,
    latencies_us: Box<[u32; RING]>,
    len: usize,
    pos: usize,
}

impl Default for Cold {
    fn default() -> Self {
        Cold {
            recent: VecDeque::new(),
            trips: 0,
            latencies_us: Box::new([0; RING]),
            len: 0,
            pos: 0,
        }
    }
}

/// A point-in-time view of a target's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthSnapshot {
    pub state: HealthState,
    /// Clock ms the rest ends (for `CoolingDown`).
    #[serde(skip)]
    pub until_ms: Option<u64>,
    pub reason: Option<ErrorKind>,
    pub ewma_latency_ms: Option<f64>,
    pub p95_latency_ms: Option<f64>,
    pub error_rate: f64,
    pub in_flight: u32,
    pub requests: u64,
    pub failures: u64,
    pub requests_last_minute: f64,
    pub tokens_last_minute: f64,
}

impl Health {
    /// A healthy target with no history.
    pub fn new() -> Health {
        Health::default()
    }

    fn cold(&self) -> MutexGuard<'_, Cold> {
        match self.cold.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Whether the target takes requests at clock time `now`.
    pub fn availability(&self, now: u64) -> Availability {
        let until = self.cool_until.load(Relaxed);
        if until == 0 {
            Availability::Open
        } else if now < until {
            Availability::Resting { until_ms: until }
        } else if self.probing.load(Relaxed) {
            Availability::Resting {
                until_ms: now + PROBE_WAIT_MS,
            }
        } else {
            Availability::HalfOpen
        }
    }

    /// The fast check routing makes per target.
    #[inline]
    pub fn is_available(&self, now: u64) -> bool {
        let until = self.cool_until.load(Relaxed);
        until == 0 || (now >= until && !self.probing.load(Relaxed))
    }

    /// Takes the target for one attempt: always when healthy, as the single probe when
    /// half-open, never while resting, unless `force` (a route with one target tries it anyway).
    pub fn acquire(self: &Arc<Self>, now: u64, force: bool) -> Option<Lease> {
        let probe = match self.availability(now) {
            Availability::Open => false,
            _ if force => false,
            Availability::HalfOpen => self
                .probing
                .compare_exchange(false, true, Relaxed, Relaxed)
                .map_or(None, |_| Some(true))?,
            Availability::Resting { .. } => return None,
        };
        self.in_flight.fetch_add(1, Relaxed);
        self.requests.fetch_add(1, Relaxed);
        self.usage.add(now, 1, 0);
        Some(Lease {
            health: Arc::clone(self),
            probe,
            settled: false,
        })
    }

    /// Requests running now.
    #[inline]
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Relaxed)
    }

    /// The latency EWMA in µs (0 before any sample).
    #[inline]
    pub fn ewma_us(&self) -> f64 {
        f64::from_bits(self.ewma_us.load(Relaxed))
    }

    /// Estimated requests and tokens used in the last minute (sliding window).
    pub fn usage(&self, now: u64) -> (f64, f64) {
        self.usage.estimate(now)
    }

    /// Counts tokens a finished request used, for tokens-per-minute limits.
    pub fn add_tokens(&self, now: u64, tokens: u64) {
        self.usage.add(now, 0, tokens);
    }

    /// The latency at quantile `q` (0..1) over recent samples, once there are enough.
    pub fn latency_quantile(&self, q: f64) -> Option<Duration> {
        let cold = self.cold();
        if cold.len < MIN_QUANTILE_SAMPLES {
            return None;
        }
        let mut v = *cold.latencies_us;
        let v = &mut v[..cold.len];
        let rank = ((q.clamp(0.0, 1.0) * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
        let (_, x, _) = v.select_nth_unstable(rank);
        Some(Duration::from_micros(u64::from(*x)))
    }

    /// Puts the target to rest until `now + rest` (keeping a later end already set).
    pub fn trip(&self, now: u64, rest: Duration, reason: ErrorKind) {
        let until = now + (rest.as_millis() as u64).max(1);
        self.reason.store(kind_index(reason), Relaxed);
        self.cool_until.fetch_max(until, Relaxed);
    }

    /// A snapshot for `health()`.
    pub fn snapshot(&self, now: u64) -> HealthSnapshot {
        let (state, until_ms) = match self.availability(now) {
            Availability::Open => (HealthState::Healthy, None),
            Availability::HalfOpen => (HealthState::HalfOpen, None),
            Availability::Resting { .. } if self.probing.load(Relaxed) => {
                (HealthState::HalfOpen, None)
            }
            Availability::Resting { until_ms } => (HealthState::CoolingDown, Some(until_ms)),
        };
        let ewma = self.ewma_us();
        let (rpm, tpm) = self.usage.estimate(now);
        HealthSnapshot {
            state,
            until_ms,
            reason: if state == HealthState::Healthy {
                None
            } else {
                self.reason()
            },
            ewma_latency_ms: (ewma > 0.0).then_some(ewma / 1000.0),
            p95_latency_ms: self
                .latency_quantile(0.95)
                .map(|d| d.as_secs_f64() * 1000.0),
            error_rate: f64::from_bits(self.error_rate.load(Relaxed)),
            in_flight: self.in_flight(),
            requests: self.requests.load(Relaxed),
            failures: self.failures.load(Relaxed),
            requests_last_minute: rpm,
            tokens_last_minute: tpm,
        }
    }

    /// Why the target rests, when it does.
    pub fn reason(&self) -> Option<ErrorKind> {
        match self.reason.load(Relaxed) {
            0 => None,
            i => ErrorKind::ALL.get(usize::from(i) - 1).copied(),
        }
    }

    fn record_error_rate(&self, failed: bool) {
        let x = if failed { 1.0 } else { 0.0 };
        let _ = self.error_rate.fetch_update(Relaxed, Relaxed, |bits| {
            let old = f64::from_bits(bits);
            Some((old + ERROR_ALPHA * (x - old)).to_bits())
        });
    }

    fn on_success(&self, latency: Duration) {
        self.record_error_rate(false);
        let us = latency.as_secs_f64() * 1e6;
        let _ = self.ewma_us.fetch_update(Relaxed, Relaxed, |bits| {
            let old = f64::from_bits(bits);
            let new = if old == 0.0 {
                us.max(1.0)
            } else {
                old + LATENCY_ALPHA * (us - old)
            };
            Some(new.to_bits())
        });
        let mut cold = self.cold();
        let pos = cold.pos;
        cold.latencies_us[pos] = us.min(f64::from(u32::MAX)) as u32;
        cold.pos = (pos + 1) % RING;
        cold.len = (cold.len + 1).min(RING);
        if self.cool_until.load(Relaxed) != 0 {
            cold.trips = 0;
            cold.recent.clear();
            self.cool_until.store(0, Relaxed);
        }
    }

    fn on_failure(
        &self,
        now: u64,
        kind: ErrorKind,
        retry_after: Option<Duration>,
        probe: bool,
        policy: &CooldownPolicy,
    ) {
        self.record_error_rate(true);
        self.failures.fetch_add(1, Relaxed);
        if !hurts_health(kind) {
            return;
        }
        let mut cold = self.cold();
        let window = policy.window.as_millis() as u64;
        while cold.recent.front().is_some_and(|t| t + window <= now) {
            cold.recent.pop_front();
        }
        cold.recent.push_back(now);
        let rest = if kind == ErrorKind::RateLimited {
            Some(retry_after.unwrap_or(policy.duration))
        } else if probe || cold.recent.len() >= policy.failures.max(1) as usize {
            let doubling = 1u32.checked_shl(cold.trips.min(31)).unwrap_or(u32::MAX);
            Some(policy.duration.saturating_mul(doubling))
        } else {
            None
        };
        if let Some(rest) = rest {
            cold.trips = cold.trips.saturating_add(1);
            cold.recent.clear();
            self.trip(now, rest.min(policy.max_duration), kind);
        }
    }
}

fn kind_index(kind: ErrorKind) -> u8 {
    ErrorKind::ALL
        .iter()
        .position(|k| *k == kind)
        .map_or(0, |i| i as u8 + 1)
}

/// One attempt's hold on a target: counted in flight until dropped; its outcome updates health.
#[derive(Debug)]
pub struct Lease {
    health: Arc<Health>,
    probe: bool,
    settled: bool,
}

impl Lease {
    /// Whether this attempt is the half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// The target's health.
    pub fn health(&self) -> &Arc<Health> {
        &self.health
    }

    /// The attempt answered (for streams: the first chunk arrived) after `latency`.
    pub fn succeeded(&mut self, latency: Duration) {
        if !self.settled {
            self.settled = true;
            self.health.on_success(latency);
            self.release_probe();
        }
    }

    /// The attempt failed with `kind`.
    pub fn failed(
        &mut self,
        now: u64,
        kind: ErrorKind,
        retry_after: Option<Duration>,
        policy: &CooldownPolicy,
    ) {
        if !self.settled {
            self.settled = true;
            self.health
                .on_failure(now, kind, retry_after, self.probe, policy);
            self.release_probe();
        }
    }

    /// A stream that had succeeded was cut later: count the failure against the target.
    pub fn failed_after_success(&mut self, now: u64, kind: ErrorKind, policy: &CooldownPolicy) {
        self.settled = false;
        self.probe = false;
        self.failed(now, kind, None, policy);
    }

    fn release_probe(&mut self) {
        if self.probe {
            self.probe = false;
            self.health.probing.store(false, Relaxed);
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.health.in_flight.fetch_sub(1, Relaxed);
        // An attempt cancelled without an outcome frees the probe slot for another request.
        self.release_probe();
    }
}

/// Requests and tokens in the current and previous minute, for a sliding-window estimate.
#[derive(Debug, Default)]
struct UsageWindow {
    minute: AtomicU64,
    cur_requests: AtomicU64,
    cur_tokens: AtomicU64,
    prev_requests: AtomicU64,
    prev_tokens: AtomicU64,
}

impl UsageWindow {
    fn rotate(&self, now: u64) {
        let m = now / 60_000;
        let cur = self.minute.load(Relaxed);
        if m != cur
            && self
                .minute
                .compare_exchange(cur, m, Relaxed, Relaxed)
                .is_ok()
        {
            let (r, t) = (
                self.cur_requests.swap(0, Relaxed),
                self.cur_tokens.swap(0, Relaxed),
            );
            let adjacent = m == cur + 1;
            self.prev_requests
                .store(if adjacent { r } else { 0 }, Relaxed);
            self.prev_tokens
                .store(if adjacent { t } else { 0 }, Relaxed);
        }
    }

    fn add(&self, now: u64, requests: u64, tokens: u64) {
        self.rotate(now);
        if requests > 0 {
            self.cur_requests.fetch_add(requests, Relaxed);
        }
        if tokens > 0 {
            self.cur_tokens.fetch_add(tokens, Relaxed);
        }
    }

    fn estimate(&self, now: u64) -> (f64, f64) {
        let m = now / 60_000;
        let frac = (now % 60_000) as f64 / 60_000.0;
        let stored = self.minute.load(Relaxed);
        let (cr, ct) = (
            self.cur_requests.load(Relaxed) as f64,
            self.cur_tokens.load(Relaxed) as f64,
        );
        if stored == m {
            let (pr, pt) = (
                self.prev_requests.load(Relaxed) as f64,
                self.prev_tokens.load(Relaxed) as f64,
            );
            (cr + pr * (1.0 - frac), ct + pt * (1.0 - frac))
        } else if stored + 1 == m {
            (cr * (1.0 - frac), ct * (1.0 - frac))
        } else {
            (0.0, 0.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CooldownPolicy {
        CooldownPolicy {
            failures: 3,
            window: Duration::from_secs(10),
            duration: Duration::from_secs(5),
            max_duration: Duration::from_secs(60),
            wait: Duration::ZERO,
        }
    }

    fn fail(h: &Arc<Health>, now: u64, kind: ErrorKind, after: Option<Duration>) {
        let mut lease = h.acquire(now, false).expect("available");
        lease.failed(now, kind, after, &policy());
    }

    #[test]
    fn failures_in_a_window_trip_then_half_open_admits_one_probe() {
        let h = Arc::new(Health::new());
        fail(&h, 1_000, ErrorKind::Unavailable, None);
        fail(&h, 2_000, ErrorKind::Unavailable, None);
        assert_eq!(h.availability(2_000), Availability::Open);
        fail(&h, 3_000, ErrorKind::Timeout, None);
        assert_eq!(
            h.availability(3_000),
            Availability::Resting { until_ms: 8_000 }
        );
        assert!(h.acquire(7_999, false).is_none());
        assert_eq!(h.availability(8_000), Availability::HalfOpen);
        let mut probe = h.acquire(8_000, false).expect("probe");
        assert!(probe.is_probe());
        assert!(h.acquire(8_000, false).is_none(), "one probe at a time");
        probe.succeeded(Duration::from_millis(20));
        drop(probe);
        assert_eq!(h.availability(8_001), Availability::Open);
        assert_eq!(h.in_flight(), 0);
    }

    #[test]
    fn old_failures_leave_the_window() {
        let h = Arc::new(Health::new());
        fail(&h, 1_000, ErrorKind::Unavailable, None);
        fail(&h, 2_000, ErrorKind::Unavailable, None);
        fail(&h, 12_500, ErrorKind::Unavailable, None);
        assert_eq!(h.availability(12_500), Availability::Open);
    }

    #[test]
    fn a_failed_probe_doubles_the_rest() {
        let h = Arc::new(Health::new());
        for t in [1, 2, 3] {
            fail(&h, t, ErrorKind::Unavailable, None);
        }
        assert_eq!(h.availability(4), Availability::Resting { until_ms: 5_003 });
        fail(&h, 5_003, ErrorKind::Unavailable, None);
        assert_eq!(
            h.availability(5_003),
            Availability::Resting { until_ms: 15_003 }
        );
    }

    #[test]
    fn rate_limits_rest_for_retry_after_at_once() {
        let h = Arc::new(Health::new());
        fail(
            &h,
            100,
            ErrorKind::RateLimited,
            Some(Duration::from_secs(2)),
        );
        assert_eq!(
            h.availability(100),
            Availability::Resting { until_ms: 2_100 }
        );
        assert_eq!(h.reason(), Some(ErrorKind::RateLimited));
        let snap = h.snapshot(1_100);
        assert_eq!(snap.state, HealthState::CoolingDown);
        assert_eq!(snap.until_ms, Some(2_100));
        assert_eq!(snap.failures, 1);
    }

    #[test]
    fn request_errors_do_not_hurt_health() {
        let h = Arc::new(Health::new());
        for t in 1..10 {
            fail(&h, t, ErrorKind::BadRequest, None);
        }
        assert_eq!(h.availability(10), Availability::Open);
    }

    #[test]
    fn a_dropped_probe_frees_the_slot() {
        let h = Arc::new(Health::new());
        h.trip(1, Duration::from_millis(10), ErrorKind::Unavailable);
        let probe = h.acquire(20, false).expect("probe");
        assert!(h.acquire(20, false).is_none());
        drop(probe);
        assert!(h.acquire(20, false).is_some());
    }

    #[test]
    fn latency_ewma_and_quantile() {
        let h = Arc::new(Health::new());
        for ms in 1..=20u64 {
            let mut l = h.acquire(1, false).expect("open");
            l.succeeded(Duration::from_millis(ms * 10));
        }
        assert!(h.ewma_us() > 100_000.0 && h.ewma_us() < 200_000.0);
        assert_eq!(h.latency_quantile(0.95), Some(Duration::from_millis(190)));
    }

    #[test]
    fn usage_window_slides() {
        let h = Arc::new(Health::new());
        for _ in 0..10 {
            drop(h.acquire(1_000, false));
        }
        h.add_tokens(1_000, 500);
        assert_eq!(h.usage(59_000), (10.0, 500.0));
        let (r, t) = h.usage(90_000);
        assert!(
            (r - 5.0).abs() < 1e-9 && (t - 250.0).abs() < 1e-9,
            "{r} {t}"
        );
        assert_eq!(h.usage(200_000), (0.0, 0.0));
    }
}
