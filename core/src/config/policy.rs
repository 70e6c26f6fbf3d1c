//! The policy sections: where shared state lives, virtual keys, budgets and rate limits.
//!
//! ```yaml
//! state:
//!   backend: redis                      # memory (default) | redis
//!   redis: { url: "env:REDIS_URL", prefix: "switchpoint:", timeout: 250ms }
//!   on_unavailable: closed              # closed (refuse requests) | open (admit uncounted)
//! virtual_keys:
//!   required: true                      # every request must carry a valid virtual key
//!   keys:
//!     - { key: "env:APP_KEY", user: svc-search, team: search, models: ["gpt-4o*"],
//!         budgets: [{ period: day, limit_usd: 20 }], limits: { rpm: 600 } }
//! budgets:
//!   - { scope: team, id: research, period: month, limit_usd: 500, soft_limit_usd: 400 }
//!   - { scope: user, period: day, limit_usd: 5 }        # every user, each their own
//! limits:
//!   - { scope: key, rpm: 60, tpm: 100000, in_flight: 8 }
//!   - { scope: route, id: gpt-4o, rpm: 1000 }
//! ```

use super::schema::duration;
use crate::api::JsonMap;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::time::Duration;

/// The `state:` section.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    #[serde(default)]
    pub backend: StateBackendKind,
    #[serde(default)]
    pub redis: Option<RedisConfig>,
    /// What admission does when the shared state cannot be reached.
    #[serde(default)]
    pub on_unavailable: OnUnavailable,
}

/// Where shared state lives.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StateBackendKind {
    /// In this process only.
    #[default]
    Memory,
    /// On a Redis server every process shares.
    Redis,
}

/// Connection settings of the Redis backend.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://[:password@]host:port/db`, or `env:NAME` / `file:PATH` holding it.
    pub url: String,
    /// Prefix of every key switchpoint writes (several gateways may share one Redis).
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// How long one operation may take before the store counts as unreachable.
    #[serde(default, deserialize_with = "duration")]
    pub timeout: Option<Duration>,
}

fn default_prefix() -> String {
    "switchpoint:".to_string()
}

/// Fail open (admit, uncounted) or closed (refuse) when the shared state is unreachable.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnUnavailable {
    /// Refuse requests with an `unavailable` error (code `state_unavailable`).
    #[default]
    Closed,
    /// Admit requests without counting them against limits and budgets.
    Open,
}

/// The `virtual_keys:` section: keys the gateway issues to applications and users.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VirtualKeysConfig {
    /// Refuse requests without a valid virtual key (otherwise a request without one is
    /// admitted with the identity its context gives; a request with one is always checked).
    #[serde(default)]
    pub required: bool,
    /// Keys defined in config (more can be created at runtime).
    #[serde(default)]
    pub keys: Vec<KeyEntry>,
}

/// One virtual key in config: a [`KeySpec`] with `key` or `hash` set.
pub type KeyEntry = KeySpec;

/// What a virtual key allows and who it speaks for (config, create and update take this).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// The key itself. In config: `env:NAME`, `file:PATH`, `cmd:...` or the value, hashed at
    /// load and never kept. On create: a key of your own instead of a generated one.
    #[serde(default, skip_serializing)]
    pub key: Option<String>,
    /// Or (config only) the key's BLAKE3 hash, 64 hex digits, so config need not hold the key.
    #[serde(default, skip_serializing)]
    pub hash: Option<String>,
    /// A label for people (`search-service`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Model names (as requested) the key may use; `*` matches any run of characters.
    /// Empty: every model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Routes the key may reach; empty: every route.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<String>,
    /// The key's own budgets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<KeyBudget>,
    /// The key's own rate limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitValues>,
    /// Unix seconds, or an RFC 3339 time, after which the key is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Expiry>,
    #[serde(default, skip_serializing_if = "JsonMap::is_empty")]
    pub metadata: JsonMap,
}

/// An expiry time as unix seconds or RFC 3339 text.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum Expiry {
    Unix(f64),
    Text(String),
}

impl Expiry {
    /// Unix milliseconds, or why the text is not a time.
    pub fn unix_ms(&self) -> Result<u64, String> {
        match self {
            Expiry::Unix(s) if s.is_finite() && *s >= 0.0 => Ok((s * 1000.0) as u64),
            Expiry::Unix(s) => Err(format!("{s} is not a time (unix seconds >= 0)")),
            Expiry::Text(t) => humantime::parse_rfc3339_weak(t)
                .map(crate::telemetry::record::unix_ms)
                .map_err(|e| format!("`{t}` is not an RFC 3339 time ({e})")),
        }
    }
}

/// A budget a key carries (its scope is the key).
#[derive(Debug, Clone, Deserialize, PartialEq, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBudget {
    pub period: Period,
    pub limit_usd: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_limit_usd: Option<Decimal>,
}

/// How long a budget's spending accumulates before it starts again (UTC calendar periods).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    /// ISO weeks, from Monday 00:00 UTC.
    Week,
    Month,
    /// Never resets.
    Total,
}

/// Who a budget or a limit applies to.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Key,
    User,
    Team,
    Route,
    Gateway,
}

/// One `budgets:` entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BudgetEntry {
    pub scope: Scope,
    /// One key id, user, team or route; omitted: each of them separately.
    #[serde(default)]
    pub id: Option<String>,
    pub period: Period,
    pub limit_usd: Decimal,
    /// Spending past this only alerts (a warning log, a metric, an audit record).
    #[serde(default)]
    pub soft_limit_usd: Option<Decimal>,
}

/// Rate-limit values.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitValues {
    /// Requests per minute (any trailing 60 seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Tokens (prompt estimate plus the output cap when admitted, the real total when
    /// settled) per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Requests in flight at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<u64>,
}

/// One `limits:` entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LimitEntry {
    pub scope: Scope,
    /// One key id, user, team or route; omitted: each of them separately.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub rpm: Option<u64>,
    #[serde(default)]
    pub tpm: Option<u64>,
    #[serde(default)]
    pub in_flight: Option<u64>,
}

impl LimitEntry {
    /// The entry's values.
    pub fn values(&self) -> LimitValues {
        LimitValues {
            rpm: self.rpm,
            tpm: self.tpm,
            in_flight: self.in_flight,
        }
    }
}

/// The policy sections with secrets resolved: key references read and hashed, the Redis URL
/// read. Nothing here holds a key's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyConfig {
    pub state: StateConfig,
    /// The Redis URL, read from its reference (may hold a password: never printed).
    pub redis_url: Option<super::Secret>,
    pub require_key: bool,
    /// Whether virtual keys are in use (the section is present).
    pub keys_enabled: bool,
    /// Config keys: (BLAKE3 hash hex, spec without `key`/`hash`).
    pub keys: Vec<(String, KeySpec)>,
    pub budgets: Vec<BudgetEntry>,
    pub limits: Vec<LimitEntry>,
}

impl PolicyConfig {
    /// Whether any request must pass through policy admission.
    pub fn is_active(&self) -> bool {
        self.keys_enabled || !self.budgets.is_empty() || !self.limits.is_empty()
    }
}

/// The BLAKE3 hash (hex) a virtual key is stored under.
pub fn key_hash(key: &str) -> String {
    blake3::hash(key.as_bytes()).to_hex().to_string()
}

/// Reads the policy sections' references and checks their values.
pub fn resolve_policy(
    state: &StateConfig,
    keys: Option<&VirtualKeysConfig>,
    budgets: &[BudgetEntry],
    limits: &[LimitEntry],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PolicyConfig, crate::api::Error> {
    use crate::api::Error;
    let redis_url = match (state.backend, &state.redis) {
        (StateBackendKind::Redis, None) => {
            return Err(Error::config(
                "state.redis",
                "`state.backend: redis` needs `state.redis.url` (redis://host:port)",
            ))
        }
        (_, Some(r)) => {
            let url = super::resolve_secret(&r.url, "state.redis.url", env)?;
            let scheme = url.expose().split("://").next().unwrap_or("");
            if !matches!(scheme, "redis" | "rediss" | "unix" | "redis+unix") {
                return Err(Error::config(
                    "state.redis.url",
                    "`state.redis.url` must start with redis://, rediss:// or unix://",
                ));
            }
            Some(url)
        }
        (_, None) => None,
    };
    let mut resolved = Vec::new();
    for (i, entry) in keys
        .map(|k| k.keys.as_slice())
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let field = format!("virtual_keys.keys[{i}]");
        let hash = match (&entry.key, &entry.hash) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    &field,
                    format!("`{field}` sets both `key` and `hash`; set one"),
                ))
            }
            (None, None) => {
                return Err(Error::config(
                    &field,
                    format!("`{field}` needs `key` (env:NAME, file:PATH or the key) or `hash`"),
                ))
            }
            (Some(r), None) => {
                key_hash(super::resolve_secret(r, &format!("{field}.key"), env)?.expose())
            }
            (None, Some(h)) => {
                let h = h.trim().to_ascii_lowercase();
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(Error::config(
                        format!("{field}.hash"),
                        format!("`{field}.hash` must be a BLAKE3 hash: 64 hex digits"),
                    ));
                }
                h
            }
        };
        let spec = KeySpec {
            key: None,
            hash: None,
            ..entry.clone()
        };
        check_spec(&spec, &field)?;
        resolved.push((hash, spec));
    }
    for (i, b) in budgets.iter().enumerate() {
        check_budget(b.limit_usd, b.soft_limit_usd, &format!("budgets[{i}]"))?;
        if b.scope == Scope::Gateway && b.id.is_some() {
            return Err(Error::config(
                format!("budgets[{i}].id"),
                "a `gateway` budget has no `id` (it covers every request)",
            ));
        }
    }
    for (i, l) in limits.iter().enumerate() {
        check_limits(&l.values(), &format!("limits[{i}]"))?;
    }
    Ok(PolicyConfig {
        state: state.clone(),
        redis_url,
        require_key: keys.is_some_and(|k| k.required),
        keys_enabled: keys.is_some(),
        keys: resolved,
        budgets: budgets.to_vec(),
        limits: limits.to_vec(),
    })
}

/// Checks a key's settings (config entries and runtime create/update alike).
pub fn check_spec(spec: &KeySpec, field: &str) -> Result<(), crate::api::Error> {
    for (i, b) in spec.budgets.iter().enumerate() {
        check_budget(
            b.limit_usd,
            b.soft_limit_usd,
            &format!("{field}.budgets[{i}]"),
        )?;
    }
    if let Some(l) = &spec.limits {
        check_limits(l, &format!("{field}.limits"))?;
    }
    if let Some(e) = &spec.expires_at {
        e.unix_ms().map_err(|m| {
            crate::api::Error::config(
                format!("{field}.expires_at"),
                format!("`{field}.expires_at`: {m}"),
            )
        })?;
    }
    Ok(())
}

fn check_budget(
    limit: Decimal,
    soft: Option<Decimal>,
    field: &str,
) -> Result<(), crate::api::Error> {
    use crate::api::Error;
    if limit < Decimal::ZERO {
        return Err(Error::config(
            format!("{field}.limit_usd"),
            format!("`{field}.limit_usd` must be 0 or more, got {limit}"),
        ));
    }
    if let Some(s) = soft {
        if s < Decimal::ZERO || s > limit {
            return Err(Error::config(
                format!("{field}.soft_limit_usd"),
                format!(
                    "`{field}.soft_limit_usd` must be between 0 and limit_usd ({limit}), got {s}"
                ),
            ));
        }
    }
    Ok(())
}

fn check_limits(l: &LimitValues, field: &str) -> Result<(), crate::api::Error> {
    if l.rpm.is_none() && l.tpm.is_none() && l.in_flight.is_none() {
        return Err(crate::api::Error::config(
            field,
            format!("`{field}` sets no limit: give rpm, tpm or in_flight"),
        ));
    }
    Ok(())
}
