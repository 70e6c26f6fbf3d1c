//! Several keys for one provider (`api_keys`), taken in rotation.
//!
//! Each attempt takes the next key, round robin, that has room in its own per-minute window
//! (`rpm` requests, `tpm` tokens, counted in this process over the last 60 seconds) and is not
//! resting. A key rests after the provider refuses it: a 429 for the answer's Retry-After (else
//! [`RATE_LIMIT_REST`]), a 401 for [`AUTH_REST`]. When no key is usable the attempt fails with
//! `rate_limited` and the time the first key has room again, so routing fails over as it does
//! for a provider's own 429.
//!
//! Every key has its own [`Upstream`] (the same pooled client, an adapter built with that key),
//! made once at start, so adapters stay pure and an attempt only picks one.

use super::Upstream;
use crate::api::{Error, ErrorKind};
use crate::config::ApiKeySpec;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long a key rests after a 429 that carries no Retry-After: provider limits are per
/// minute, so a minute is when the spent quota is surely back.
pub const RATE_LIMIT_REST: Duration = Duration::from_secs(60);

/// How long a key the provider refused (401) rests before one attempt tries it again (a
/// revoked key stays out; a passing glitch costs five minutes of one key).
pub const AUTH_REST: Duration = Duration::from_secs(300);

/// The shortest rest, so a `Retry-After: 0` cannot make keys spin.
const MIN_REST_MS: u64 = 1000;

/// Seconds in the usage window.
const WINDOW_SECS: u64 = 60;

/// A provider's keys, their per-minute usage and their rests.
#[derive(Debug)]
pub struct KeyRing {
    provider: String,
    keys: Box<[RingKey]>,
    state: Mutex<RingState>,
}

#[derive(Debug)]
struct RingKey {
    name: String,
    rpm: Option<u64>,
    tpm: Option<u64>,
    upstream: Arc<Upstream>,
}

#[derive(Debug)]
struct RingState {
    /// The key the next attempt starts looking at.
    next: usize,
    keys: Box<[KeyState]>,
}

#[derive(Debug, Default)]
struct KeyState {
    window: Window,
    /// Clock ms the key rests until (0: not resting).
    rest_until: u64,
    /// Why it rests (`RateLimited` or `Auth`).
    reason: Option<ErrorKind>,
}

/// The key one attempt uses: its upstream, and where its outcome is reported.
#[derive(Debug)]
pub struct KeyPick {
    ring: Arc<KeyRing>,
    index: usize,
}

/// What a finished attempt means for the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterKey {
    /// Nothing key-specific: success, or an error about the request or the provider.
    Same,
    /// The provider refused this key (429, 401) and another key has room: the next attempt
    /// uses it, and the target is not blamed.
    NextKey,
    /// The provider refused this key and no key has room; the first has room after this.
    Exhausted(Duration),
}

impl KeyRing {
    /// A ring over `keys`, each with the upstream that sends it.
    pub fn new(provider: &str, keys: Vec<(ApiKeySpec, Arc<Upstream>)>) -> KeyRing {
        let states = keys.iter().map(|_| KeyState::default()).collect();
        KeyRing {
            provider: provider.to_string(),
            keys: keys
                .into_iter()
                .map(|(k, upstream)| RingKey {
                    name: k.name,
                    rpm: k.rpm,
                    tpm: k.tpm,
                    upstream,
                })
                .collect(),
            state: Mutex::new(RingState {
                next: 0,
                keys: states,
            }),
        }
    }

    /// How many keys the ring holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the ring holds no key (never, for a ring built from config).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, RingState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Takes the next key with room at clock time `now` (ms) and counts the request against
    /// it; `rate_limited` (or `auth` when every key was refused) when none is usable.
    pub fn checkout(self: &Arc<Self>, now: u64) -> Result<KeyPick, Error> {
        let mut st = self.lock();
        let n = self.keys.len();
        let start = st.next;
        for k in 0..n {
            let i = (start + k) % n;
            if self.wait_for(&st.keys[i], i, now).is_none() {
                st.keys[i].window.add(now, 1, 0);
                st.next = (i + 1) % n;
                return Ok(KeyPick {
                    ring: Arc::clone(self),
                    index: i,
                });
            }
        }
        Err(self.exhausted(&st, now))
    }

    /// How long until key `i` is usable (`None`: now).
    fn wait_for(&self, s: &KeyState, i: usize, now: u64) -> Option<u64> {
        if s.rest_until > now {
            return Some(s.rest_until - now);
        }
        let k = &self.keys[i];
        s.window.wait(now, k.rpm, k.tpm)
    }

    /// The soonest time any key is usable again, in ms (`None`: one is usable now).
    fn soonest(&self, st: &RingState, now: u64) -> Option<u64> {
        let mut min = u64::MAX;
        for (i, s) in st.keys.iter().enumerate() {
            min = min.min(self.wait_for(s, i, now)?);
        }
        Some(min)
    }

    /// The error for an attempt that found no usable key.
    fn exhausted(&self, st: &RingState, now: u64) -> Error {
        let mut parts = Vec::with_capacity(self.keys.len());
        let mut soonest = u64::MAX;
        let mut all_refused = true;
        for (i, s) in st.keys.iter().enumerate() {
            let k = &self.keys[i];
            let wait = self.wait_for(s, i, now).unwrap_or(0);
            soonest = soonest.min(wait);
            let resting = s.rest_until > now;
            all_refused &= resting && s.reason == Some(ErrorKind::Auth);
            let why = match (resting, s.reason) {
                (true, Some(ErrorKind::Auth)) => "refused (auth)".to_string(),
                (true, _) => "rate limited by the provider".to_string(),
                (false, _) => {
                    let (req, tok) = s.window.used(now);
                    match (k.rpm, k.tpm) {
                        (Some(r), _) if req >= r => format!("at its rpm limit ({r})"),
                        (_, Some(t)) if tok >= t => format!("at its tpm limit ({t})"),
                        _ => "at its limit".to_string(),
                    }
                }
            };
            parts.push(format!("`{}` {why} for {}", k.name, secs(wait)));
        }
        let wait = Duration::from_millis(soonest.max(1));
        let (kind, code) = if all_refused {
            (ErrorKind::Auth, "all_keys_refused")
        } else {
            (ErrorKind::RateLimited, "all_keys_exhausted")
        };
        Error::new(
            kind,
            format!(
                "no key of provider `{}` is usable now: {}",
                self.provider,
                parts.join(", ")
            ),
        )
        .with_provider(&self.provider)
        .with_retry_after(Some(wait))
        .with_code(code)
    }

    fn settle(&self, i: usize, now: u64, outcome: Result<Option<u64>, &Error>) -> AfterKey {
        let mut st = self.lock();
        let e = match outcome {
            Ok(tokens) => {
                if let Some(t) = tokens {
                    st.keys[i].window.add(now, 0, t);
                }
                return AfterKey::Same;
            }
            Err(e) => e,
        };
        let rest = match e.kind {
            ErrorKind::RateLimited => e.retry_after.unwrap_or(RATE_LIMIT_REST),
            ErrorKind::Auth => AUTH_REST,
            _ => return AfterKey::Same,
        };
        let s = &mut st.keys[i];
        s.rest_until = s
            .rest_until
            .max(now + (rest.as_millis() as u64).max(MIN_REST_MS));
        s.reason = Some(e.kind);
        tracing::debug!(provider = %self.provider, key = %self.keys[i].name, kind = %e.kind, rest_s = rest.as_secs_f64(), "key rests");
        match self.soonest(&st, now) {
            None => AfterKey::NextKey,
            Some(ms) => AfterKey::Exhausted(Duration::from_millis(ms.max(1))),
        }
    }
}

impl KeyPick {
    /// The upstream whose adapter sends this key.
    pub fn upstream(&self) -> Arc<Upstream> {
        Arc::clone(&self.ring.keys[self.index].upstream)
    }

    /// The key's name (never its value), for facts and messages.
    pub fn name(&self) -> &str {
        &self.ring.keys[self.index].name
    }

    /// Reports the attempt's outcome at clock time `now`: the tokens it used, or the error
    /// (a 429 or 401 makes the key rest).
    pub fn settle(&self, now: u64, outcome: Result<Option<u64>, &Error>) -> AfterKey {
        self.ring.settle(self.index, now, outcome)
    }
}

/// Requests and tokens per second over the last minute, in a fixed ring of buckets.
#[derive(Debug)]
struct Window {
    /// The second (clock ms / 1000) each bucket counts; a stale one is reset on reuse.
    stamp: [u64; WINDOW_SECS as usize],
    requests: [u64; WINDOW_SECS as usize],
    tokens: [u64; WINDOW_SECS as usize],
}

impl Default for Window {
    fn default() -> Self {
        Window {
            stamp: [0; WINDOW_SECS as usize],
            requests: [0; WINDOW_SECS as usize],
            tokens: [0; WINDOW_SECS as usize],
        }
    }
}

impl Window {
    fn live(&self, sec: u64, i: usize) -> bool {
        self.stamp[i] + WINDOW_SECS > sec && self.stamp[i] <= sec
    }

    fn add(&mut self, now: u64, requests: u64, tokens: u64) {
        let sec = now / 1000;
        let i = (sec % WINDOW_SECS) as usize;
        if self.stamp[i] != sec {
            self.stamp[i] = sec;
            self.requests[i] = 0;
            self.tokens[i] = 0;
        }
        self.requests[i] += requests;
        self.tokens[i] = self.tokens[i].saturating_add(tokens);
    }

    /// Requests and tokens in the last minute.
    fn used(&self, now: u64) -> (u64, u64) {
        let sec = now / 1000;
        (0..WINDOW_SECS as usize)
            .filter(|&i| self.live(sec, i))
            .fold((0, 0), |(r, t), i| {
                (r + self.requests[i], t.saturating_add(self.tokens[i]))
            })
    }

    /// Ms until both limits have room (`None`: they have now).
    fn wait(&self, now: u64, rpm: Option<u64>, tpm: Option<u64>) -> Option<u64> {
        if rpm.is_none() && tpm.is_none() {
            return None;
        }
        let fits = |(r, t): (u64, u64)| rpm.is_none_or(|l| r < l) && tpm.is_none_or(|l| t < l);
        let (mut r, mut t) = self.used(now);
        if fits((r, t)) {
            return None;
        }
        let sec = now / 1000;
        let mut live: Vec<usize> = (0..WINDOW_SECS as usize)
            .filter(|&i| self.live(sec, i))
            .collect();
        live.sort_unstable_by_key(|&i| self.stamp[i]);
        for i in live {
            r -= self.requests[i];
            t = t.saturating_sub(self.tokens[i]);
            if fits((r, t)) {
                // The bucket leaves the window when its second is a minute old.
                let free_at = (self.stamp[i] + WINDOW_SECS) * 1000;
                return Some(free_at.saturating_sub(now).max(1));
            }
        }
        Some(WINDOW_SECS * 1000)
    }
}

fn secs(ms: u64) -> String {
    format!("{:.3}s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ResolvedProvider, Secret, DEFAULT_TIMEOUTS};
    use crate::providers::{ProviderKind, ProviderSettings};

    fn ring(limits: &[(Option<u64>, Option<u64>)]) -> Arc<KeyRing> {
        let keys = limits
            .iter()
            .enumerate()
            .map(|(i, (rpm, tpm))| {
                let spec = ApiKeySpec {
                    name: format!("k{i}"),
                    secret: Secret::new(format!("sk-{i}")),
                    rpm: *rpm,
                    tpm: *tpm,
                };
                let up = Upstream::new(ResolvedProvider {
                    settings: ProviderSettings {
                        name: "p".into(),
                        kind: ProviderKind::OpenAi,
                        base_url: "http://127.0.0.1:9".into(),
                        api_key: Some(spec.secret.clone()),
                        headers: Vec::new(),
                        api_version: None,
                    },
                    keys: Vec::new(),
                    timeouts: DEFAULT_TIMEOUTS,
                    responses_native: false,
                    auth: Default::default(),
                })
                .expect("upstream");
                (spec, Arc::new(up))
            })
            .collect();
        Arc::new(KeyRing::new("p", keys))
    }

    fn take(r: &Arc<KeyRing>, now: u64) -> Result<String, Error> {
        r.checkout(now).map(|p| p.name().to_string())
    }

    fn err(kind: ErrorKind, after: Option<Duration>) -> Error {
        Error::new(kind, "refused").with_retry_after(after)
    }

    #[test]
    fn round_robin_skips_a_full_key_without_favouring_its_neighbour() {
        let r = ring(&[(Some(1), None), (None, None), (None, None)]);
        let names: Vec<String> = (0..7).map(|i| take(&r, 1000 + i).expect("a key")).collect();
        assert_eq!(names, ["k0", "k1", "k2", "k1", "k2", "k1", "k2"]);
    }

    #[test]
    fn rpm_frees_a_minute_after_the_oldest_request() {
        let r = ring(&[(Some(2), None)]);
        assert_eq!(take(&r, 1_500).as_deref().ok(), Some("k0"));
        assert_eq!(take(&r, 10_200).as_deref().ok(), Some("k0"));
        let e = take(&r, 20_000).expect_err("full");
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.code.as_deref(), Some("all_keys_exhausted"));
        // The first request's second (1) leaves the window at 61 s.
        assert_eq!(e.retry_after, Some(Duration::from_millis(41_000)));
        assert_eq!(
            e.message,
            "no key of provider `p` is usable now: `k0` at its rpm limit (2) for 41.000s"
        );
        assert_eq!(take(&r, 61_000).as_deref().ok(), Some("k0"));
        assert!(take(&r, 61_500).is_err());
    }

    #[test]
    fn tpm_counts_reported_tokens() {
        let r = ring(&[(None, Some(100)), (None, None)]);
        let p = r.checkout(1_000).expect("k0");
        assert_eq!(p.name(), "k0");
        assert_eq!(p.settle(2_000, Ok(Some(100))), AfterKey::Same);
        assert_eq!(take(&r, 3_000).as_deref().ok(), Some("k1"));
        assert_eq!(take(&r, 4_000).as_deref().ok(), Some("k1"));
        assert_eq!(take(&r, 62_000).as_deref().ok(), Some("k0"));
    }

    #[test]
    fn a_refused_key_rests_and_the_next_takes_over() {
        let r = ring(&[(None, None), (None, None)]);
        let a = r.checkout(1_000).expect("k0");
        let after = a.settle(
            1_100,
            Err(&err(ErrorKind::RateLimited, Some(Duration::from_secs(5)))),
        );
        assert_eq!(after, AfterKey::NextKey);
        assert_eq!(take(&r, 1_200).as_deref().ok(), Some("k1"));
        assert_eq!(take(&r, 1_300).as_deref().ok(), Some("k1"));
        let b = r.checkout(1_400).expect("k1");
        assert_eq!(
            b.settle(1_500, Err(&err(ErrorKind::RateLimited, None))),
            AfterKey::Exhausted(Duration::from_millis(4_600))
        );
        let e = take(&r, 2_000).expect_err("both rest");
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after, Some(Duration::from_millis(4_100)));
        assert_eq!(
            e.message,
            "no key of provider `p` is usable now: `k0` rate limited by the provider for 4.100s, `k1` rate limited by the provider for 59.500s"
        );
        assert_eq!(take(&r, 6_100).as_deref().ok(), Some("k0"));
    }

    #[test]
    fn other_errors_leave_the_key_alone_and_auth_refusals_say_auth() {
        let r = ring(&[(None, None)]);
        let a = r.checkout(1_000).expect("k0");
        assert_eq!(
            a.settle(1_100, Err(&err(ErrorKind::Unavailable, None))),
            AfterKey::Same
        );
        let a = r.checkout(1_200).expect("still usable");
        assert_eq!(
            a.settle(1_300, Err(&err(ErrorKind::Auth, None))),
            AfterKey::Exhausted(AUTH_REST)
        );
        let e = take(&r, 1_300).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.code.as_deref(), Some("all_keys_refused"));
    }

    #[test]
    fn zero_retry_after_still_rests_a_second() {
        let r = ring(&[(None, None)]);
        let a = r.checkout(1_000).expect("k0");
        assert_eq!(
            a.settle(
                1_000,
                Err(&err(ErrorKind::RateLimited, Some(Duration::ZERO)))
            ),
            AfterKey::Exhausted(Duration::from_millis(1_000))
        );
    }
}
