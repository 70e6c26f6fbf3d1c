//! The in-process state backend: one mutex around plain maps, for a gateway that runs as a
//! single process (the default). Admission takes the lock once, checks every counter, then
//! applies them all, so concurrent admissions in this process never overshoot.

use super::{
    Adjust, Check, Cooldown, CooldownSink, KeyState, StateBackend, StateError, StoredKey, Verdict,
};
use async_trait::async_trait;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many audit records the memory backend keeps (the oldest are dropped first).
pub const AUDIT_CAPACITY: usize = 10_000;

/// The wall clock in unix milliseconds (0 before 1970, which no real clock reports).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A window's length in whole seconds (rounded up, at least one), as both backends count it.
pub(crate) fn window_secs(window: Duration) -> u64 {
    let secs = window.as_secs() + u64::from(window.subsec_nanos() > 0);
    secs.max(1)
}

/// Shared state for one process: counters, keys, cooldowns and audit records in memory.
pub struct MemoryState {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for MemoryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("MemoryState")
            .field("counters", &inner.counters.len())
            .field("keys", &inner.keys.len())
            .field("cooldowns", &inner.cooldowns.len())
            .field("audit", &inner.audit.len())
            .finish()
    }
}

impl Default for MemoryState {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryState {
    /// An empty state.
    pub fn new() -> Self {
        MemoryState {
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a counter half-applied in a way later
        // admissions could not live with, so a poisoned lock is used as it is.
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// [`StateBackend::admit`] at an explicit time (unix ms), for tests and benchmarks.
    pub fn admit_at(&self, checks: &[Check], now_ms: u64) -> Verdict {
        self.lock().admit(checks, now_ms)
    }

    /// [`StateBackend::settle`] at an explicit time (unix ms), for tests and benchmarks.
    pub fn settle_at(&self, adjustments: &[Adjust], now_ms: u64) {
        self.lock().settle(adjustments, now_ms)
    }
}

#[derive(Default)]
struct Inner {
    counters: HashMap<String, Counter, ahash::RandomState>,
    keys: HashMap<String, StoredKey, ahash::RandomState>,
    cooldowns: HashMap<String, Cooldown>,
    audit: VecDeque<(u64, String)>,
    /// Kept so the watcher's lifetime matches the Redis backend's; nothing publishes to it.
    sink: Option<CooldownSink>,
}

/// A counter under one caller key: windows keep per-second buckets, the others one number.
enum Counter {
    Window(Buckets),
    Plain(Plain),
}

/// A window's units per second, oldest first, with their running total.
#[derive(Default)]
struct Buckets {
    buckets: VecDeque<(u64, u64)>,
    total: u64,
}

impl Buckets {
    /// Units counted in seconds after `cutoff` (the seconds still inside the window).
    fn sum_after(&self, cutoff: u64) -> u64 {
        let aged: u64 = self
            .buckets
            .iter()
            .take_while(|(s, _)| *s <= cutoff)
            .map(|(_, v)| *v)
            .sum();
        self.total - aged
    }

    /// How long until `excess` units have aged out of a `w`-second window.
    fn retry_after(&self, now_ms: u64, w: u64, excess: u64) -> Option<Duration> {
        let cutoff = (now_ms / 1000).saturating_sub(w);
        let mut freed = 0u64;
        for &(s, v) in self.buckets.iter().filter(|(s, _)| *s > cutoff) {
            freed = freed.saturating_add(v);
            if freed >= excess {
                let at_ms = s.saturating_add(w).saturating_mul(1000);
                return Some(Duration::from_millis(at_ms.saturating_sub(now_ms)));
            }
        }
        None
    }

    /// Moves `second`'s units by `delta`, never below zero.
    fn add(&mut self, second: u64, delta: i64) {
        // Buckets are sorted; the current second is almost always the last one.
        let pos = self.buckets.iter().rposition(|(s, _)| *s <= second);
        let slot = match pos {
            Some(i) if self.buckets[i].0 == second => i,
            _ => {
                if delta <= 0 {
                    return;
                }
                let at = pos.map_or(0, |i| i + 1);
                self.buckets.insert(at, (second, 0));
                at
            }
        };
        let old = self.buckets[slot].1;
        let new = if delta >= 0 {
            old.saturating_add(delta.unsigned_abs())
        } else {
            old.saturating_sub(delta.unsigned_abs())
        };
        self.buckets[slot].1 = new;
        self.total = self.total - old + new;
    }

    /// Drops buckets at or before `cutoff`.
    fn prune(&mut self, cutoff: u64) {
        while let Some(&(s, v)) = self.buckets.front() {
            if s > cutoff {
                break;
            }
            self.total -= v;
            self.buckets.pop_front();
        }
    }
}

/// An in-flight count or a budget, with the unix ms it lapses at.
#[derive(Default)]
struct Plain {
    value: i64,
    expires_at_ms: Option<u64>,
}

impl Plain {
    fn current(&self, now_ms: u64) -> i64 {
        match self.expires_at_ms {
            Some(at) if at <= now_ms => 0,
            _ => self.value,
        }
    }
}

impl Inner {
    fn window(&self, key: &str) -> Option<&Buckets> {
        match self.counters.get(key) {
            Some(Counter::Window(b)) => Some(b),
            _ => None,
        }
    }

    fn plain(&self, key: &str, now_ms: u64) -> i64 {
        match self.counters.get(key) {
            Some(Counter::Plain(p)) => p.current(now_ms),
            _ => 0,
        }
    }

    /// Runs `f` on the window counter under `key`, created (or replacing another kind) if
    /// needed: one lookup when it exists, and the key is copied only when it does not.
    fn with_window(&mut self, key: &str, f: impl FnOnce(&mut Buckets)) {
        if let Some(Counter::Window(b)) = self.counters.get_mut(key) {
            return f(b);
        }
        let mut b = Buckets::default();
        f(&mut b);
        self.counters.insert(key.to_owned(), Counter::Window(b));
    }

    /// Runs `f` on the plain counter under `key`, reset to zero first if it lapsed (or held
    /// another kind); one lookup when it exists.
    fn with_plain(&mut self, key: &str, now_ms: u64, f: impl FnOnce(&mut Plain)) {
        if let Some(Counter::Plain(p)) = self.counters.get_mut(key) {
            if p.expires_at_ms.is_some_and(|at| at <= now_ms) {
                *p = Plain::default();
            }
            return f(p);
        }
        let mut p = Plain::default();
        f(&mut p);
        self.counters.insert(key.to_owned(), Counter::Plain(p));
    }

    /// The verdict for `checks` if any fails, without changing anything.
    fn refusal(&self, checks: &[Check], now_ms: u64) -> Option<Verdict> {
        let now_s = now_ms / 1000;
        for (index, check) in checks.iter().enumerate() {
            match check {
                Check::Window {
                    key,
                    limit,
                    cost,
                    window,
                } => {
                    let w = window_secs(*window);
                    let buckets = self.window(key);
                    let sum = buckets.map_or(0, |b| b.sum_after(now_s.saturating_sub(w)));
                    if sum.saturating_add(*cost) > *limit {
                        let retry_after = if cost > limit {
                            None
                        } else {
                            let excess = sum + cost - limit;
                            buckets.and_then(|b| b.retry_after(now_ms, w, excess))
                        };
                        return Some(Verdict::Refused {
                            index,
                            retry_after,
                            current: i64::try_from(sum).unwrap_or(i64::MAX),
                        });
                    }
                }
                Check::InFlight { key, limit } => {
                    let current = self.plain(key, now_ms);
                    if current >= i64::try_from(*limit).unwrap_or(i64::MAX) {
                        return Some(Verdict::Refused {
                            index,
                            retry_after: None,
                            current,
                        });
                    }
                }
                Check::Budget {
                    key,
                    limit,
                    reserve,
                    expires_at_ms,
                } => {
                    let current = self.plain(key, now_ms);
                    if current.saturating_add(*reserve) > *limit {
                        return Some(Verdict::Refused {
                            index,
                            retry_after: expires_at_ms
                                .map(|at| Duration::from_millis(at.saturating_sub(now_ms))),
                            current,
                        });
                    }
                }
                Check::KeyLive { id, rev } => {
                    let reason = match self.keys.get(id.as_str()) {
                        None => Some(KeyState::Unknown),
                        Some(k) if k.revoked => Some(KeyState::Revoked),
                        Some(k) if k.expires_at_ms.is_some_and(|at| at <= now_ms) => {
                            Some(KeyState::Expired)
                        }
                        Some(k) if k.rev != *rev => return Some(Verdict::KeyStale { index }),
                        Some(_) => None,
                    };
                    if let Some(reason) = reason {
                        return Some(Verdict::KeyRefused { index, reason });
                    }
                }
            }
        }
        None
    }

    fn admit(&mut self, checks: &[Check], now_ms: u64) -> Verdict {
        if let Some(refused) = self.refusal(checks, now_ms) {
            return refused;
        }
        let now_s = now_ms / 1000;
        let mut window_seconds = Vec::with_capacity(checks.len());
        for check in checks {
            match check {
                Check::Window {
                    key, cost, window, ..
                } => {
                    let cutoff = now_s.saturating_sub(window_secs(*window));
                    self.with_window(key, |b| {
                        b.add(now_s, i64::try_from(*cost).unwrap_or(i64::MAX));
                        b.prune(cutoff);
                    });
                    window_seconds.push(now_s);
                }
                Check::InFlight { key, .. } => {
                    self.with_plain(key, now_ms, |p| p.value = p.value.saturating_add(1));
                    window_seconds.push(0);
                }
                Check::Budget {
                    key,
                    reserve,
                    expires_at_ms,
                    ..
                } => {
                    self.add_budget(key, *reserve, *expires_at_ms, now_ms);
                    window_seconds.push(0);
                }
                Check::KeyLive { .. } => window_seconds.push(0),
            }
        }
        Verdict::Admitted { window_seconds }
    }

    fn add_budget(&mut self, key: &str, delta: i64, expires_at_ms: Option<u64>, now_ms: u64) {
        if expires_at_ms.is_some_and(|at| at <= now_ms) {
            // The period is over: the counter is gone (Redis's PEXPIREAT in the past deletes).
            self.counters.remove(key);
            return;
        }
        self.with_plain(key, now_ms, |p| {
            p.value = p.value.saturating_add(delta);
            if expires_at_ms.is_some() {
                p.expires_at_ms = expires_at_ms;
            }
        });
    }

    fn settle(&mut self, adjustments: &[Adjust], now_ms: u64) {
        let now_s = now_ms / 1000;
        for adjust in adjustments {
            match adjust {
                Adjust::Release { key } => {
                    if let Some(Counter::Plain(p)) = self.counters.get_mut(key.as_str()) {
                        if p.current(now_ms) > 0 {
                            p.value -= 1;
                        }
                    }
                }
                Adjust::Budget {
                    key,
                    delta,
                    expires_at_ms,
                } => {
                    // An adjustment for a period that already ended changes nothing.
                    if expires_at_ms.is_none_or(|at| at > now_ms) {
                        self.add_budget(key, *delta, *expires_at_ms, now_ms);
                    }
                }
                Adjust::Window {
                    key,
                    second,
                    delta,
                    window,
                } => {
                    let cutoff = now_s.saturating_sub(window_secs(*window));
                    if *second > cutoff {
                        self.with_window(key, |b| b.add(*second, *delta));
                    }
                }
            }
        }
    }

    fn counter(&self, key: &str, window: Option<Duration>, now_ms: u64) -> i64 {
        match self.counters.get(key) {
            Some(Counter::Window(b)) => {
                let sum = match window {
                    Some(w) => b.sum_after((now_ms / 1000).saturating_sub(window_secs(w))),
                    None => b.total,
                };
                i64::try_from(sum).unwrap_or(i64::MAX)
            }
            Some(Counter::Plain(p)) => p.current(now_ms),
            None => 0,
        }
    }
}

#[async_trait]
impl StateBackend for MemoryState {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn admit(&self, checks: &[Check]) -> Result<Verdict, StateError> {
        Ok(self.admit_at(checks, now_ms()))
    }

    async fn settle(&self, adjustments: &[Adjust]) -> Result<(), StateError> {
        self.settle_at(adjustments, now_ms());
        Ok(())
    }

    async fn counter(&self, key: &str, window: Option<Duration>) -> Result<i64, StateError> {
        Ok(self.lock().counter(key, window, now_ms()))
    }

    async fn key_put(&self, key: &StoredKey) -> Result<u64, StateError> {
        let mut inner = self.lock();
        let rev = inner.keys.get(key.id.as_str()).map_or(0, |k| k.rev) + 1;
        let stored = StoredKey { rev, ..key.clone() };
        inner.keys.insert(key.id.clone(), stored);
        Ok(rev)
    }

    async fn key_get(&self, id: &str) -> Result<Option<StoredKey>, StateError> {
        Ok(self.lock().keys.get(id).cloned())
    }

    async fn key_list(&self) -> Result<Vec<StoredKey>, StateError> {
        let mut keys: Vec<StoredKey> = self.lock().keys.values().cloned().collect();
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(keys)
    }

    async fn publish_cooldown(&self, cooldown: &Cooldown) -> Result<(), StateError> {
        self.lock()
            .cooldowns
            .insert(cooldown.target.clone(), cooldown.clone());
        Ok(())
    }

    async fn cooldowns(&self) -> Result<Vec<Cooldown>, StateError> {
        let now = now_ms();
        let mut inner = self.lock();
        inner.cooldowns.retain(|_, c| c.until_ms > now);
        let mut list: Vec<Cooldown> = inner.cooldowns.values().cloned().collect();
        list.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(list)
    }

    fn watch_cooldowns(&self, sink: CooldownSink) {
        self.lock().sink = Some(sink);
    }

    async fn cache_get(&self, _key: &str) -> Result<Option<Vec<u8>>, StateError> {
        // The in-process cache (moka) already holds entries; nothing is shared here.
        Ok(None)
    }

    async fn cache_put(&self, _key: &str, _value: &[u8], _ttl: Duration) -> Result<(), StateError> {
        Ok(())
    }

    async fn audit_append(&self, at_ms: u64, record: &str) -> Result<(), StateError> {
        let mut inner = self.lock();
        if inner.audit.len() >= AUDIT_CAPACITY {
            inner.audit.pop_front();
        }
        inner.audit.push_back((at_ms, record.to_owned()));
        Ok(())
    }

    async fn audit_since(&self, since_ms: u64) -> Result<Vec<String>, StateError> {
        Ok(self
            .lock()
            .audit
            .iter()
            .filter(|(at, _)| *at >= since_ms)
            .map(|(_, r)| r.clone())
            .collect())
    }

    fn reachable(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(key: &str, limit: u64, cost: u64, secs: u64) -> Check {
        Check::Window {
            key: key.into(),
            limit,
            cost,
            window: Duration::from_secs(secs),
        }
    }

    #[test]
    fn window_units_age_out_after_the_window() {
        let s = MemoryState::new();
        let t0 = 1_000_000_000;
        assert!(matches!(
            s.admit_at(&[window("w", 3, 2, 10)], t0),
            Verdict::Admitted { .. }
        ));
        assert!(matches!(
            s.admit_at(&[window("w", 3, 1, 10)], t0 + 4_000),
            Verdict::Admitted { .. }
        ));
        // 3 units counted: one more must wait until the first two age out at t0 + 10 s.
        assert_eq!(
            s.admit_at(&[window("w", 3, 1, 10)], t0 + 5_250),
            Verdict::Refused {
                index: 0,
                retry_after: Some(Duration::from_millis(4_750)),
                current: 3
            }
        );
        assert!(matches!(
            s.admit_at(&[window("w", 3, 2, 10)], t0 + 10_000),
            Verdict::Admitted { .. }
        ));
        assert_eq!(
            s.lock()
                .counter("w", Some(Duration::from_secs(10)), t0 + 10_000),
            3
        );
    }

    #[test]
    fn window_settle_clamps_at_zero_and_ignores_aged_seconds() {
        let s = MemoryState::new();
        let t0 = 2_000_000_000;
        s.admit_at(&[window("w", 100, 5, 60)], t0);
        let adjust = |delta, second| Adjust::Window {
            key: "w".into(),
            second,
            delta,
            window: Duration::from_secs(60),
        };
        s.settle_at(&[adjust(-8, t0 / 1000)], t0 + 1_000);
        assert_eq!(s.lock().counter("w", None, t0 + 1_000), 0);
        s.settle_at(&[adjust(7, t0 / 1000)], t0 + 2_000);
        assert_eq!(
            s.lock()
                .counter("w", Some(Duration::from_secs(60)), t0 + 2_000),
            7
        );
        // A second that has left the window is not counted again.
        s.settle_at(&[adjust(9, t0 / 1000 - 120)], t0 + 2_000);
        assert_eq!(s.lock().counter("w", None, t0 + 2_000), 7);
    }

    #[test]
    fn sub_second_windows_round_up() {
        assert_eq!(window_secs(Duration::from_millis(1)), 1);
        assert_eq!(window_secs(Duration::from_millis(1_500)), 2);
        assert_eq!(window_secs(Duration::from_secs(60)), 60);
    }
}
