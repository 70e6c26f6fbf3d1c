//! The Redis state backend: many gateway processes share limits, budgets, keys, cooldowns,
//! cache entries and the audit log through one Redis.
//!
//! Admission is one Lua script (one EVALSHA round trip) that checks every counter and then
//! applies them all on the server's clock. Every operation fails within the operation timeout
//! when Redis cannot be reached ([`StateError::Unavailable`]); the connection is re-established
//! in the background, so the next operation after Redis returns succeeds.
//!
//! Layout, all under the prefix (default `switchpoint:`): counters at `c:<caller key>`
//! (windows are hashes of unix second -> units, budgets and in-flight counts are integers),
//! keys at `key:<id>` (hash: hash, rev, revoked, expires_at_ms, body) listed in the set
//! `keys`, cooldowns at `cool:<target>` (published on the channel `cooldowns`), cache entries
//! at `cache:<key>`, the audit stream at `audit`.

mod redact;
mod reply;
mod watch;

use super::memory::window_secs;
use super::{Adjust, Check, Cooldown, CooldownSink, StateBackend, StateError, StoredKey, Verdict};
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, ErrorKind, RedisError, RedisResult, Script, ServerErrorKind, Value};
use async_trait::async_trait;
use redact::Redactor;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;
use tokio::task::AbortHandle;

/// The key prefix when the configuration names none.
pub const DEFAULT_PREFIX: &str = "switchpoint:";
/// How long one operation may take before it fails as unavailable, when not configured.
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_millis(250);
/// Audit entries kept in the stream (approximately: trimmed with `MAXLEN ~`).
pub const AUDIT_MAXLEN: u64 = 100_000;
/// How far the audit stream is read before `since_ms`: records carry the caller's clock,
/// stream ids the server's, and the two may differ by this much.
const AUDIT_CLOCK_SLACK_MS: u64 = 5 * 60 * 1000;

static ADMIT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/admit.lua")));
static SETTLE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/settle.lua")));
static COUNTER: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/counter.lua")));
static KEY_PUT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/key_put.lua")));

/// Shared state in Redis, for gateways that run as many processes.
pub struct RedisState {
    conn: ConnectionManager,
    /// For the pub/sub connections of cooldown watchers.
    client: Client,
    names: Names,
    op_timeout: Duration,
    redactor: Redactor,
    reachable: AtomicBool,
    watchers: Mutex<Vec<AbortHandle>>,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("url", &self.redactor.shown)
            .field("prefix", &self.names.prefix)
            .field("op_timeout", &self.op_timeout)
            .field("reachable", &self.reachable())
            .finish()
    }
}

impl Drop for RedisState {
    fn drop(&mut self) {
        let watchers = match self.watchers.get_mut() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        for watcher in watchers.drain(..) {
            watcher.abort();
        }
    }
}

/// Where each kind of record lives under the prefix.
#[derive(Debug)]
struct Names {
    prefix: String,
}

impl Names {
    fn counter(&self, key: &str) -> String {
        format!("{}c:{key}", self.prefix)
    }
    fn key(&self, id: &str) -> String {
        format!("{}key:{id}", self.prefix)
    }
    fn key_ids(&self) -> String {
        format!("{}keys", self.prefix)
    }
    fn cooldown(&self, target: &str) -> String {
        format!("{}cool:{target}", self.prefix)
    }
    /// A SCAN pattern for every cooldown (the prefix's glob characters escaped).
    fn cooldown_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.prefix.len() + 8);
        for c in self.prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push_str("cool:*");
        pattern
    }
    fn cooldown_channel(&self) -> String {
        format!("{}cooldowns", self.prefix)
    }
    fn cache(&self, key: &str) -> String {
        format!("{}cache:{key}", self.prefix)
    }
    fn audit(&self) -> String {
        format!("{}audit", self.prefix)
    }
}

/// Whether an error means the store could not be reached (as opposed to a bad answer).
fn is_unreachable(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_unrecoverable_error()
        || matches!(
            e.kind(),
            ErrorKind::AuthenticationFailed
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::ReadOnly
                )
        )
        || matches!(e.code(), Some("NOAUTH" | "WRONGPASS"))
}

impl RedisState {
    /// A backend for `url` (`redis://[:password@]host[:port][/db]`) that connects on first
    /// use, so a gateway can start while Redis is down. Each operation fails after
    /// `op_timeout` when Redis does not answer. Outside a tokio runtime the connection's
    /// tasks run on the core's runtime.
    pub fn new(url: &str, prefix: &str, op_timeout: Duration) -> Result<RedisState, StateError> {
        let redactor = Redactor::new(url);
        let client = Client::open(url).map_err(|e| {
            StateError::Unavailable(format!(
                "invalid Redis URL {}: {}",
                redactor.shown,
                redactor.scrub(&e.to_string())
            ))
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(op_timeout))
            .set_response_timeout(Some(op_timeout))
            // One quick retry per reconnection; a failed operation triggers the next one.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let manager = match tokio::runtime::Handle::try_current() {
            Ok(_) => ConnectionManager::new_lazy_with_config(client.clone(), config),
            Err(_) => {
                let rt = crate::runtime::runtime();
                let _entered = rt.enter();
                ConnectionManager::new_lazy_with_config(client.clone(), config)
            }
        };
        let conn = manager.map_err(|e| {
            StateError::Unavailable(format!(
                "cannot set up Redis at {}: {}",
                redactor.shown,
                redactor.scrub(&e.to_string())
            ))
        })?;
        Ok(RedisState {
            conn,
            client,
            names: Names {
                prefix: prefix.to_owned(),
            },
            op_timeout,
            redactor,
            reachable: AtomicBool::new(true),
            watchers: Mutex::new(Vec::new()),
        })
    }

    /// [`RedisState::new`], then a PING: fails (unavailable) if Redis does not answer now.
    pub async fn connect(
        url: &str,
        prefix: &str,
        op_timeout: Duration,
    ) -> Result<RedisState, StateError> {
        let state = RedisState::new(url, prefix, op_timeout)?;
        let mut conn = state.conn.clone();
        let _: Value = state
            .run(::redis::cmd("PING").query_async(&mut conn))
            .await?;
        Ok(state)
    }

    /// The URL with its password masked, for logs.
    pub fn url(&self) -> &str {
        &self.redactor.shown
    }

    /// Runs one operation within the timeout, classifies its error and records reachability.
    async fn run<T>(&self, op: impl Future<Output = RedisResult<T>>) -> Result<T, StateError> {
        let out = match tokio::time::timeout(self.op_timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                let msg = format!("{} ({})", self.redactor.scrub(&e.to_string()), self.url());
                Err(if is_unreachable(&e) {
                    StateError::Unavailable(msg)
                } else {
                    StateError::Protocol(msg)
                })
            }
            Err(_) => Err(StateError::Unavailable(format!(
                "no answer from {} within {:?}",
                self.url(),
                self.op_timeout
            ))),
        };
        let reached = !matches!(out, Err(StateError::Unavailable(_)));
        self.reachable.store(reached, Ordering::Relaxed);
        out
    }
}

#[async_trait]
impl StateBackend for RedisState {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn admit(&self, checks: &[Check]) -> Result<Verdict, StateError> {
        if checks.is_empty() {
            return Ok(Verdict::Admitted {
                window_seconds: Vec::new(),
            });
        }
        let mut inv = ADMIT.prepare_invoke();
        for check in checks {
            match check {
                Check::Window {
                    key,
                    limit,
                    cost,
                    window,
                } => inv
                    .key(self.names.counter(key))
                    .arg("w")
                    .arg(*limit)
                    .arg(*cost)
                    .arg(window_secs(*window)),
                Check::InFlight { key, limit } => inv
                    .key(self.names.counter(key))
                    .arg("f")
                    .arg(*limit)
                    .arg("")
                    .arg(""),
                Check::Budget {
                    key,
                    limit,
                    reserve,
                    expires_at_ms,
                } => inv
                    .key(self.names.counter(key))
                    .arg("b")
                    .arg(*limit)
                    .arg(*reserve)
                    .arg(opt(*expires_at_ms)),
                Check::KeyLive { id, rev } => inv
                    .key(self.names.key(id))
                    .arg("k")
                    .arg(*rev)
                    .arg("")
                    .arg(""),
            };
        }
        let mut conn = self.conn.clone();
        let reply: Value = self.run(inv.invoke_async(&mut conn)).await?;
        reply::verdict(&reply, checks)
    }

    async fn settle(&self, adjustments: &[Adjust]) -> Result<(), StateError> {
        if adjustments.is_empty() {
            return Ok(());
        }
        let mut inv = SETTLE.prepare_invoke();
        for adjust in adjustments {
            match adjust {
                Adjust::Release { key } => inv
                    .key(self.names.counter(key))
                    .arg("r")
                    .arg("")
                    .arg("")
                    .arg(""),
                Adjust::Budget {
                    key,
                    delta,
                    expires_at_ms,
                } => inv
                    .key(self.names.counter(key))
                    .arg("b")
                    .arg(*delta)
                    .arg(opt(*expires_at_ms))
                    .arg(""),
                Adjust::Window {
                    key,
                    second,
                    delta,
                    window,
                } => inv
                    .key(self.names.counter(key))
                    .arg("w")
                    .arg(*second)
                    .arg(*delta)
                    .arg(window_secs(*window)),
            };
        }
        let mut conn = self.conn.clone();
        let _: Value = self.run(inv.invoke_async(&mut conn)).await?;
        Ok(())
    }

    async fn counter(&self, key: &str, window: Option<Duration>) -> Result<i64, StateError> {
        let mut inv = COUNTER.prepare_invoke();
        inv.key(self.names.counter(key))
            .arg(opt(window.map(window_secs)));
        let mut conn = self.conn.clone();
        let reply: Value = self.run(inv.invoke_async(&mut conn)).await?;
        reply::int(&reply)
            .ok_or_else(|| StateError::Protocol(format!("counter: unexpected reply {reply:?}")))
    }

    async fn key_put(&self, key: &StoredKey) -> Result<u64, StateError> {
        let mut inv = KEY_PUT.prepare_invoke();
        inv.key(self.names.key(&key.id))
            .key(self.names.key_ids())
            .arg(&key.id)
            .arg(&key.hash)
            .arg(if key.revoked { "1" } else { "0" })
            .arg(opt(key.expires_at_ms))
            .arg(&key.body);
        let mut conn = self.conn.clone();
        let reply: Value = self.run(inv.invoke_async(&mut conn)).await?;
        reply::int(&reply)
            .and_then(|r| u64::try_from(r).ok())
            .ok_or_else(|| StateError::Protocol(format!("key_put: unexpected reply {reply:?}")))
    }

    async fn key_get(&self, id: &str) -> Result<Option<StoredKey>, StateError> {
        let mut conn = self.conn.clone();
        let reply: Value = self
            .run(
                ::redis::cmd("HGETALL")
                    .arg(self.names.key(id))
                    .query_async(&mut conn),
            )
            .await?;
        reply::stored_key(id, &reply)
    }

    /// Two round trips: the id set, then every record in one pipeline.
    async fn key_list(&self) -> Result<Vec<StoredKey>, StateError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = self
            .run(
                ::redis::cmd("SMEMBERS")
                    .arg(self.names.key_ids())
                    .query_async(&mut conn),
            )
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = ::redis::pipe();
        for id in &ids {
            pipe.cmd("HGETALL").arg(self.names.key(id));
        }
        let replies: Vec<Value> = self.run(pipe.query_async(&mut conn)).await?;
        let mut keys = Vec::with_capacity(ids.len());
        for (id, reply) in ids.iter().zip(&replies) {
            if let Some(key) = reply::stored_key(id, reply)? {
                keys.push(key);
            }
        }
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(keys)
    }

    async fn publish_cooldown(&self, cooldown: &Cooldown) -> Result<(), StateError> {
        let payload = reply::cooldown_json(cooldown);
        let mut pipe = ::redis::pipe();
        pipe.cmd("SET")
            .arg(self.names.cooldown(&cooldown.target))
            .arg(&payload)
            .arg("PXAT")
            .arg(cooldown.until_ms.max(1))
            .ignore()
            .cmd("PUBLISH")
            .arg(self.names.cooldown_channel())
            .arg(&payload)
            .ignore();
        let mut conn = self.conn.clone();
        self.run(pipe.query_async::<()>(&mut conn)).await
    }

    async fn cooldowns(&self) -> Result<Vec<Cooldown>, StateError> {
        let mut conn = self.conn.clone();
        let pattern = self.names.cooldown_pattern();
        let scan = async {
            let mut keys: Vec<String> = Vec::new();
            let mut cursor: u64 = 0;
            loop {
                let (next, batch): (u64, Vec<String>) = ::redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut conn)
                    .await?;
                keys.extend(batch);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            ::redis::cmd("MGET")
                .arg(&keys)
                .query_async::<Vec<Option<Vec<u8>>>>(&mut conn)
                .await
        };
        let payloads = self.run(scan).await?;
        let mut list: Vec<Cooldown> = payloads
            .iter()
            .flatten()
            .filter_map(|p| reply::parse_cooldown(p))
            .collect();
        list.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(list)
    }

    fn watch_cooldowns(&self, sink: CooldownSink) {
        let handle = watch::spawn(watch::Watch {
            client: self.client.clone(),
            channel: self.names.cooldown_channel(),
            sink,
            op_timeout: self.op_timeout,
            redactor: self.redactor.clone(),
        });
        match self.watchers.lock() {
            Ok(mut w) => w.push(handle),
            Err(poisoned) => poisoned.into_inner().push(handle),
        }
    }

    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let mut conn = self.conn.clone();
        self.run(
            ::redis::cmd("GET")
                .arg(self.names.cache(key))
                .query_async(&mut conn),
        )
        .await
    }

    async fn cache_put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StateError> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut conn = self.conn.clone();
        self.run(
            ::redis::cmd("SET")
                .arg(self.names.cache(key))
                .arg(value)
                .arg("PX")
                .arg(ttl_ms)
                .query_async::<()>(&mut conn),
        )
        .await
    }

    async fn audit_append(&self, at_ms: u64, record: &str) -> Result<(), StateError> {
        let mut conn = self.conn.clone();
        let _: Value = self
            .run(
                ::redis::cmd("XADD")
                    .arg(self.names.audit())
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(AUDIT_MAXLEN)
                    .arg("*")
                    .arg("at")
                    .arg(at_ms)
                    .arg("r")
                    .arg(record)
                    .query_async(&mut conn),
            )
            .await?;
        Ok(())
    }

    async fn audit_since(&self, since_ms: u64) -> Result<Vec<String>, StateError> {
        let mut conn = self.conn.clone();
        let reply: Value = self
            .run(
                ::redis::cmd("XRANGE")
                    .arg(self.names.audit())
                    .arg(since_ms.saturating_sub(AUDIT_CLOCK_SLACK_MS))
                    .arg("+")
                    .query_async(&mut conn),
            )
            .await?;
        reply::audit_records(&reply, since_ms)
    }

    fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }
}

/// An optional number as a script argument (`''` for none).
fn opt(value: Option<u64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_live_under_the_prefix() {
        let names = Names {
            prefix: "app*1:".into(),
        };
        assert_eq!(names.counter("rpm:key-1"), "app*1:c:rpm:key-1");
        assert_eq!(names.key("key-1"), "app*1:key:key-1");
        assert_eq!(names.cooldown_pattern(), "app\\*1:cool:*");
        assert_eq!(names.cooldown_channel(), "app*1:cooldowns");
    }

    #[test]
    fn a_bad_url_is_refused_without_showing_it() {
        let err = RedisState::new("redis://:hunter2@[::1", DEFAULT_PREFIX, DEFAULT_OP_TIMEOUT)
            .expect_err("invalid URL");
        let StateError::Unavailable(msg) = err else {
            panic!("expected unavailable, got {err:?}");
        };
        assert!(!msg.contains("hunter2"), "{msg}");
    }
}
