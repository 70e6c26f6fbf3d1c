//! The response cache: exact answers by normalized request, an opt-in semantic cache, and
//! single-flight for identical requests in flight (streams included).
//!
//! - [`key`]: canonical request form and BLAKE3 keys (every normalization documented there).
//! - [`exact`]: moka-backed store bounded by bytes and entries, per-entry TTL.
//! - [`flight`]: identical in-flight requests share one upstream call.
//! - [`replay`]: stored answers served as streams.
//! - [`semantic`]: similar prompts (by embedding) reuse answers, scoped by tenant and route.
//! - [`stage`]: the pipeline's cache stage (plan, read, single-flight, store).
//!
//! Tenants are separated by a namespace (see [`namespace`]); a route configured as
//! `shared` uses one namespace for everybody.

mod canonical;
pub mod exact;
pub mod flight;
pub mod key;
pub mod replay;
pub mod semantic;
pub mod shared;
pub mod stage;

pub use exact::{CachedAnswer, ExactCache, ExactLimits, Origin};
pub use flight::{Flights, Role, StreamFlights, TapeReader};
pub use key::{canonical_json, params_key, request_key, shared_key, CacheKey};
pub use semantic::{Embedder, SemanticCache};
pub use stage::{Lookup, ResponseCache, SemanticOutcome};

use serde::{Deserialize, Deserializer};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Per-request cache controls (`RequestContext.cache`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheControl {
    /// Do not answer from the cache (the answer may still be stored).
    #[serde(default)]
    pub no_read: bool,
    /// Do not store this answer.
    #[serde(default)]
    pub no_store: bool,
    /// Time to live of the stored answer, seconds (overrides the route's).
    #[serde(default, deserialize_with = "secs")]
    pub ttl: Option<Duration>,
    /// Ask the provider again and replace the stored answer.
    #[serde(default)]
    pub refresh: bool,
    /// A sub-namespace inside the caller's own (never another tenant's).
    #[serde(default)]
    pub namespace: Option<String>,
}

impl CacheControl {
    /// Whether a stored answer may be served.
    pub fn may_read(&self) -> bool {
        !(self.no_read || self.refresh)
    }

    /// Whether the answer may be stored.
    pub fn may_store(&self) -> bool {
        !self.no_store
    }
}

fn secs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    match Option::<f64>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(serde::de::Error::custom(format!(
            "cache.ttl must be a non-negative number of seconds, got {s}"
        ))),
    }
}

/// Who a cached answer belongs to: the virtual key id, else the team, else everybody
/// anonymous. Built from ids only, never from a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenant<'a> {
    Key(&'a str),
    Team(&'a str),
    Anonymous,
}

impl<'a> Tenant<'a> {
    /// The tenant of a caller: key id first, then team.
    pub fn of(key_id: Option<&'a str>, team: Option<&'a str>) -> Tenant<'a> {
        match (key_id, team) {
            (Some(k), _) => Tenant::Key(k),
            (None, Some(t)) => Tenant::Team(t),
            (None, None) => Tenant::Anonymous,
        }
    }
}

/// The namespace a request's answer lives in: shared routes use one for everybody; other
/// routes one per tenant; a requested sub-namespace nests inside, so it can narrow the
/// caller's cache but never reach another tenant's.
pub fn namespace(tenant: Tenant<'_>, shared: bool, requested: Option<&str>) -> String {
    let mut ns = if shared {
        "shared".to_string()
    } else {
        match tenant {
            Tenant::Key(k) => format!("key:{}:{k}", k.len()),
            Tenant::Team(t) => format!("team:{}:{t}", t.len()),
            Tenant::Anonymous => "anonymous".to_string(),
        }
    };
    if let Some(sub) = requested {
        ns.push_str(&format!("/ns:{}:{sub}", sub.len()));
    }
    ns
}

/// Unix time now, milliseconds.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{from_json_value, ChatRequest};
    use std::time::Duration;

    fn req() -> ChatRequest {
        from_json_value(serde_json::json!({"model": "gpt", "messages": [{"role": "user", "content": "secret plans"}]}))
            .expect("request")
    }

    #[test]
    fn tenant_b_never_reads_tenant_a_answers() {
        let cache = ExactCache::new(ExactLimits {
            max_bytes: 1 << 20,
            max_entries: 100,
            max_entry_bytes: 1 << 20,
        });
        let answer: crate::api::ChatResponse = from_json_value(serde_json::json!({
            "id": "a", "object": "chat.completion", "created": 1, "model": "gpt",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "A's answer"}, "finish_reason": "stop"}]
        }))
        .expect("response");
        let ns_a = namespace(Tenant::of(None, Some("a")), false, None);
        let ns_b = namespace(Tenant::of(None, Some("b")), false, None);
        cache.insert(
            request_key(&ns_a, "gpt", &req()),
            CachedAnswer::from_response(answer, Duration::from_secs(60)),
        );
        assert!(cache.get(&request_key(&ns_a, "gpt", &req())).is_some());
        assert!(cache.get(&request_key(&ns_b, "gpt", &req())).is_none());
        // Nor can B name its way into A's namespace.
        let forged = namespace(Tenant::of(None, Some("b")), false, Some("../team:1:a"));
        assert!(cache.get(&request_key(&forged, "gpt", &req())).is_none());
        let anon = namespace(Tenant::Anonymous, false, None);
        assert!(cache.get(&request_key(&anon, "gpt", &req())).is_none());
        // A shared route is one namespace for everybody.
        assert_eq!(
            namespace(Tenant::of(Some("k1"), None), true, None),
            namespace(Tenant::of(None, Some("b")), true, None)
        );
    }

    #[test]
    fn namespaces_cannot_collide_through_separators() {
        assert_ne!(
            namespace(Tenant::Team("a/ns:1:b"), false, None),
            namespace(Tenant::Team("a"), false, Some("b"))
        );
        assert_ne!(
            namespace(Tenant::Key("x"), false, None),
            namespace(Tenant::Team("x"), false, None)
        );
    }

    #[test]
    fn controls_parse_strictly() {
        let c: CacheControl = serde_json::from_value(
            serde_json::json!({"no_store": true, "ttl": 2.5, "namespace": "exp"}),
        )
        .expect("parses");
        assert!(c.may_read() && !c.may_store());
        assert_eq!(c.ttl, Some(Duration::from_millis(2500)));
        let refresh: CacheControl =
            serde_json::from_value(serde_json::json!({"refresh": true})).expect("parses");
        assert!(!refresh.may_read() && refresh.may_store());
        assert!(serde_json::from_value::<CacheControl>(serde_json::json!({"skip": true})).is_err());
        assert!(serde_json::from_value::<CacheControl>(serde_json::json!({"ttl": -1})).is_err());
    }
}
