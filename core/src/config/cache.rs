//! The `cache:` section: the exact response cache, per-route sharing and the semantic cache.
//!
//! ```yaml
//! cache:
//!   enabled: true          # exact cache on for every route (default false: opt-in)
//!   max_bytes: 256MiB      # memory bound, by a byte weigher (number or text)
//!   max_entries: 100000    # entry bound
//!   ttl: 1h                # default time to live
//!   max_entry_bytes: 4MiB  # larger answers are not stored
//!   routes:
//!     faq-bot:
//!       shared: true       # one cache for all tenants on this route
//!       ttl: 24h
//!       semantic: { embedding_model: embedder, threshold: 0.95 }
//!     creative: { enabled: false }
//! ```

use super::schema::duration;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::time::Duration;

/// The response cache settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// The exact cache is on for every route unless the route turns it off.
    #[serde(default)]
    pub enabled: bool,
    /// Memory bound in bytes (answers are weighed by their estimated heap size).
    #[serde(default = "default_max_bytes", deserialize_with = "byte_size")]
    pub max_bytes: u64,
    /// Entry bound.
    #[serde(default = "default_max_entries")]
    pub max_entries: u64,
    /// Time to live of an entry unless the route or the request says otherwise.
    #[serde(default = "default_ttl", deserialize_with = "required_duration")]
    pub ttl: Duration,
    /// Answers weighing more are not stored.
    #[serde(default = "default_max_entry_bytes", deserialize_with = "byte_size")]
    pub max_entry_bytes: u64,
    /// One namespace for every tenant, on every route (default: a namespace per tenant).
    #[serde(default)]
    pub shared: bool,
    /// Per-route settings, by model name.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteCache>,
}

/// One route's cache settings; unset fields take the section's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteCache {
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Share the cache across tenants on this route (answers do not depend on the caller).
    #[serde(default)]
    pub shared: Option<bool>,
    #[serde(default, deserialize_with = "duration")]
    pub ttl: Option<Duration>,
    /// Opt-in semantic cache for this route.
    #[serde(default)]
    pub semantic: Option<SemanticCacheConfig>,
}

/// The semantic cache of one route.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticCacheConfig {
    /// The configured model name (an embedding route) that embeds prompts.
    pub embedding_model: String,
    /// Cosine similarity at or above which a previous answer is reused (0 < t <= 1).
    #[serde(default = "default_threshold")]
    pub threshold: f32,
    /// Prompts remembered per tenant and route (oldest forgotten first).
    #[serde(default = "default_semantic_entries")]
    pub max_entries: usize,
}

/// A route's effective cache policy.
#[derive(Debug, Clone, PartialEq)]
pub struct CachePolicy {
    pub enabled: bool,
    pub shared: bool,
    pub ttl: Duration,
    pub semantic: Option<SemanticPolicy>,
}

/// A route's effective semantic cache policy.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticPolicy {
    pub embedding_model: String,
    pub threshold: f32,
    pub max_entries: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: false,
            max_bytes: default_max_bytes(),
            max_entries: default_max_entries(),
            ttl: default_ttl(),
            max_entry_bytes: default_max_entry_bytes(),
            shared: false,
            routes: BTreeMap::new(),
        }
    }
}

impl CacheConfig {
    /// The policy for a route (by the model name it was configured under).
    pub fn route(&self, name: &str) -> CachePolicy {
        let r = self.routes.get(name);
        let semantic = r.and_then(|r| r.semantic.as_ref()).map(|s| SemanticPolicy {
            embedding_model: s.embedding_model.clone(),
            threshold: s.threshold,
            max_entries: s.max_entries,
        });
        CachePolicy {
            // Configuring a semantic cache for a route turns caching on for it.
            enabled: r
                .and_then(|r| r.enabled)
                .unwrap_or(self.enabled || semantic.is_some()),
            shared: r.and_then(|r| r.shared).unwrap_or(self.shared),
            ttl: r.and_then(|r| r.ttl).unwrap_or(self.ttl),
            semantic,
        }
    }

    /// Whether any route can use the cache (so the gateway builds one at all).
    pub fn any_enabled(&self) -> bool {
        self.enabled
            || self
                .routes
                .values()
                .any(|r| r.enabled == Some(true) || r.semantic.is_some())
    }

    /// Checks values serde cannot: returns (field, message) for the first problem.
    pub fn check(&self, is_model: &dyn Fn(&str) -> bool) -> Result<(), (String, String)> {
        if self.max_bytes == 0 {
            return Err(("cache.max_bytes".into(), "must be more than 0".into()));
        }
        if self.max_entries == 0 {
            return Err(("cache.max_entries".into(), "must be more than 0".into()));
        }
        for (name, r) in &self.routes {
            if !is_model(name) {
                return Err((
                    format!("cache.routes.{name}"),
                    format!(
                        "`{name}` is not a configured model name or alias (nor `provider/model`)"
                    ),
                ));
            }
            if let Some(s) = &r.semantic {
                let field = format!("cache.routes.{name}.semantic");
                if !(s.threshold > 0.0 && s.threshold <= 1.0) {
                    return Err((
                        format!("{field}.threshold"),
                        format!("must be in (0, 1], got {}", s.threshold),
                    ));
                }
                if s.max_entries == 0 {
                    return Err((format!("{field}.max_entries"), "must be more than 0".into()));
                }
                if !is_model(&s.embedding_model) {
                    return Err((
                        format!("{field}.embedding_model"),
                        format!(
                            "`{}` is not a configured model name or alias (nor `provider/model`)",
                            s.embedding_model
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn default_max_bytes() -> u64 {
    256 * 1024 * 1024
}
fn default_max_entries() -> u64 {
    100_000
}
fn default_ttl() -> Duration {
    Duration::from_secs(3600)
}
fn default_max_entry_bytes() -> u64 {
    4 * 1024 * 1024
}
fn default_threshold() -> f32 {
    0.95
}
fn default_semantic_entries() -> usize {
    1000
}

fn required_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    duration(d)?.ok_or_else(|| serde::de::Error::custom("a duration is required"))
}

/// A byte size: a number, or text like `512KiB`, `256MiB`, `1GB`.
pub(super) fn byte_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Int(n) => Ok(n),
        Raw::Text(t) => parse_bytes(&t).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid size `{t}` (write bytes like 1048576 or text like \"512KiB\", \"256MiB\", \"1GB\")"
            ))
        }),
    }
}

fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" | "k" => 1 << 10,
        "mb" => 1_000_000,
        "mib" | "m" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" | "g" => 1 << 30,
        _ => return None,
    };
    let v = n * mult as f64;
    (v.is_finite() && v >= 0.0 && v < u64::MAX as f64).then_some(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_route_policies() {
        let cfg: CacheConfig = serde_json::from_value(serde_json::json!({
            "enabled": true, "max_bytes": "64MiB", "ttl": "10m",
            "routes": {
                "faq": {"shared": true, "ttl": 30, "semantic": {"embedding_model": "emb"}},
                "off": {"enabled": false}
            }
        }))
        .expect("parses");
        assert_eq!(cfg.max_bytes, 64 << 20);
        let faq = cfg.route("faq");
        assert!(faq.enabled && faq.shared);
        assert_eq!(faq.ttl, Duration::from_secs(30));
        assert_eq!(faq.semantic.as_ref().map(|s| s.threshold), Some(0.95));
        assert!(!cfg.route("off").enabled);
        let other = cfg.route("other");
        assert!(other.enabled && !other.shared);
        assert_eq!(other.ttl, Duration::from_secs(600));
        assert_eq!(parse_bytes("1.5KiB"), Some(1536));
        assert_eq!(parse_bytes("1GB"), Some(1_000_000_000));
        assert_eq!(parse_bytes("12 parsecs"), None);
    }

    #[test]
    fn check_names_the_field() {
        let cfg: CacheConfig = serde_json::from_value(serde_json::json!({
            "routes": {"faq": {"semantic": {"embedding_model": "emb", "threshold": 1.5}}}
        }))
        .expect("parses");
        let known = |n: &str| n == "faq" || n == "emb";
        let err = cfg.check(&known).expect_err("threshold out of range");
        assert_eq!(err.0, "cache.routes.faq.semantic.threshold");
        let cfg: CacheConfig =
            serde_json::from_value(serde_json::json!({"routes": {"nope": {}}})).expect("parses");
        assert_eq!(
            cfg.check(&known).expect_err("unknown").0,
            "cache.routes.nope"
        );
        // Semantic config alone turns the route's cache on.
        let cfg: CacheConfig = serde_json::from_value(serde_json::json!({
            "routes": {"faq": {"semantic": {"embedding_model": "emb"}}}
        }))
        .expect("parses");
        assert!(cfg.any_enabled() && cfg.route("faq").enabled && !cfg.route("x").enabled);
        assert!(serde_json::from_value::<CacheConfig>(serde_json::json!({"ttl_s": 3})).is_err());
    }
}
