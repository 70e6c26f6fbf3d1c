//! Shared state: what many gateway processes must agree on (limit and budget counters,
//! virtual keys, target cooldowns, cache entries, the audit log), behind one trait with an
//! in-memory backend (one process, the default) and a Redis backend (many processes).
//!
//! Admission is one call ([`StateBackend::admit`]) that checks every counter a request is
//! subject to and applies them all or none, so concurrent requests never overshoot a limit
//! or a budget; on Redis it is one script, one round trip.

pub mod memory;
pub mod redis;

pub use self::memory::MemoryState;
pub use self::redis::RedisState;

use async_trait::async_trait;
use std::time::Duration;

/// Money in the counters: billionths of a US dollar (integers add exactly on every backend;
/// an i64 holds 9.2 billion dollars).
pub type NanoUsd = i64;

/// One counter an admission checks and moves; all of a request's checks pass together or
/// none is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// At most `limit` units within any trailing `window` (counted in one-second buckets);
    /// admitting adds `cost` units in the current second (requests: 1; tokens: an estimate).
    Window {
        key: String,
        limit: u64,
        cost: u64,
        window: Duration,
    },
    /// At most `limit` requests in flight; admitting adds one, [`Adjust::Release`] removes it.
    InFlight { key: String, limit: u64 },
    /// Spent plus reserved must stay within `limit`; admitting reserves `reserve`. The
    /// counter lives until `expires_at_ms` (unix ms: the end of its period), or forever.
    Budget {
        key: String,
        limit: NanoUsd,
        reserve: NanoUsd,
        expires_at_ms: Option<u64>,
    },
    /// The virtual key `id` exists, is not revoked or expired, and is at revision `rev`
    /// (checked in the same step, so a revocation anywhere is seen by the next admission).
    KeyLive { id: String, rev: u64 },
}

/// What admission decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every check passed and was applied. `window_seconds[i]` is the unix second the i-th
    /// check's units were counted in (for [`Adjust::Window`] at settle; 0 for other checks).
    Admitted { window_seconds: Vec<u64> },
    /// Check `index` failed; nothing was applied.
    Refused {
        index: usize,
        /// When the failed check would pass (windows: when enough units age out; in
        /// flight: unknown; budgets: the period's end).
        retry_after: Option<Duration>,
        /// The counter's value when refused (units, requests in flight, or nano-USD).
        current: i64,
    },
    /// The key named by a [`Check::KeyLive`] is unknown, revoked or expired.
    KeyRefused { index: usize, reason: KeyState },
    /// The key's record changed since it was read (`rev` differs): read it again and retry.
    KeyStale { index: usize },
}

/// Why a key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Unknown,
    Revoked,
    Expired,
}

/// A correction when a request ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adjust {
    /// Ends an in-flight slot taken by [`Check::InFlight`].
    Release { key: String },
    /// Moves a budget counter by `delta` (real cost minus the reservation; may be negative).
    Budget {
        key: String,
        delta: NanoUsd,
        expires_at_ms: Option<u64>,
    },
    /// Moves the units counted in `second` by `delta` (real tokens minus the estimate).
    Window {
        key: String,
        second: u64,
        delta: i64,
        window: Duration,
    },
}

/// A virtual key as stored: the policy layer owns `body` (JSON); the backend needs only what
/// admission checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The key id (`key-` + 16 hex of the key's BLAKE3 hash): what records name.
    pub id: String,
    /// The full BLAKE3 hash of the key (hex); the key itself is never stored.
    pub hash: String,
    /// Bumped by every change; admissions carry the revision they read.
    pub rev: u64,
    pub revoked: bool,
    /// Unix ms after which the key is refused.
    pub expires_at_ms: Option<u64>,
    /// The policy layer's record (identity, allowed models, budgets, limits, metadata).
    pub body: String,
}

/// A target benched by some process until a unix ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cooldown {
    pub target: String,
    pub until_ms: u64,
    /// Why (an error kind's name).
    pub reason: String,
}

/// Why the state could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The store cannot be reached (connection refused, timed out, dropped).
    #[error("shared state unavailable: {0}")]
    Unavailable(String),
    /// The store answered something this version does not understand.
    #[error("shared state answered unexpectedly: {0}")]
    Protocol(String),
}

/// Receives cooldowns other processes published.
pub type CooldownSink = std::sync::Arc<dyn Fn(Cooldown) + Send + Sync>;

/// Where shared state lives. Every method is safe to call concurrently.
#[async_trait]
pub trait StateBackend: Send + Sync + std::fmt::Debug {
    /// A short name for errors and metrics (`memory`, `redis`).
    fn name(&self) -> &'static str;

    /// Checks every counter and applies them all, or none (see [`Verdict`]).
    async fn admit(&self, checks: &[Check]) -> Result<Verdict, StateError>;

    /// Applies the corrections of finished requests.
    async fn settle(&self, adjustments: &[Adjust]) -> Result<(), StateError>;

    /// A counter's current value (budget spent+reserved in nano-USD, window units within
    /// `window` if given, in-flight requests), for usage reports and tests.
    async fn counter(&self, key: &str, window: Option<Duration>) -> Result<i64, StateError>;

    /// Stores a key record, bumping its revision; returns the new revision.
    async fn key_put(&self, key: &StoredKey) -> Result<u64, StateError>;
    /// A key record by id.
    async fn key_get(&self, id: &str) -> Result<Option<StoredKey>, StateError>;
    /// Every key record.
    async fn key_list(&self) -> Result<Vec<StoredKey>, StateError>;

    /// Tells every process a target is benched (and remembers it until `until_ms`).
    async fn publish_cooldown(&self, cooldown: &Cooldown) -> Result<(), StateError>;
    /// Cooldowns in force now (for a process that starts while a target is benched).
    async fn cooldowns(&self) -> Result<Vec<Cooldown>, StateError>;
    /// Calls `sink` with every cooldown other processes publish from now on (the backend
    /// keeps listening across reconnects). The memory backend has no other processes.
    fn watch_cooldowns(&self, sink: CooldownSink);

    /// A shared cache entry.
    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError>;
    /// Stores a shared cache entry for `ttl`.
    async fn cache_put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StateError>;

    /// Appends an audit record (JSON text) stamped with `at_ms`.
    async fn audit_append(&self, at_ms: u64, record: &str) -> Result<(), StateError>;
    /// Audit records since a unix ms, oldest first.
    async fn audit_since(&self, since_ms: u64) -> Result<Vec<String>, StateError>;

    /// Whether the last operation reached the store (for health and metrics).
    fn reachable(&self) -> bool;
}
