//! The cache stage of the pipeline: what the gateway asks of the cache for one request.
//!
//! [`ResponseCache::plan`] decides whether the route caches at all and computes the key in
//! the caller's namespace; the gateway then reads ([`ResponseCache::get`], semantic lookup),
//! runs the upstream call through single-flight, and stores the complete answer.

use super::exact::{CachedAnswer, ExactCache, ExactLimits};
use super::flight::{Flights, StreamFlights};
use super::key::{params_key, request_key, CacheKey};
use super::semantic::{normalize, prompt_text, Embedder, Match, SemanticCache};
use super::{namespace, CacheControl, Tenant};
use crate::api::{ChatChunk, ChatRequest, ChatResponse, Error};
use crate::config::{CacheConfig, CachePolicy, SemanticPolicy};
use std::sync::Arc;
use std::time::Duration;

/// Prompts the semantic caches remember across all routes and tenants.
const SEMANTIC_TOTAL: usize = 100_000;

/// The response cache of one gateway.
#[derive(Debug)]
pub struct ResponseCache {
    config: CacheConfig,
    exact: ExactCache,
    semantic: SemanticCache,
    flights: Flights<ChatResponse>,
    streams: Arc<StreamFlights<ChatChunk>>,
}

/// One request's cache decisions.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub key: CacheKey,
    pub namespace: String,
    pub route: String,
    pub policy: CachePolicy,
    pub control: CacheControl,
}

impl Lookup {
    /// The TTL a stored answer gets: the request's, else the route's.
    pub fn ttl(&self) -> Duration {
        self.control.ttl.unwrap_or(self.policy.ttl)
    }

    /// The route's semantic cache policy, when reading is allowed.
    pub fn semantic(&self) -> Option<&SemanticPolicy> {
        self.policy
            .semantic
            .as_ref()
            .filter(|_| self.control.may_read() || self.control.may_store())
    }
}

/// A semantic lookup's outcome: a hit, or the prompt's embedding to remember after a miss.
#[derive(Debug)]
pub enum SemanticOutcome {
    Hit(Arc<CachedAnswer>, Match),
    Miss(Vec<f32>),
}

impl ResponseCache {
    /// The cache for a config; `None` when no route caches.
    pub fn new(config: &CacheConfig) -> Option<ResponseCache> {
        config.any_enabled().then(|| ResponseCache {
            exact: ExactCache::new(ExactLimits {
                max_bytes: config.max_bytes,
                max_entries: config.max_entries,
                max_entry_bytes: config.max_entry_bytes,
            }),
            semantic: SemanticCache::new(SEMANTIC_TOTAL),
            flights: Flights::default(),
            streams: Arc::default(),
            config: config.clone(),
        })
    }

    /// The cache decisions for a request on `route`; `None` when the route does not cache.
    pub fn plan(
        &self,
        route: &str,
        tenant: Tenant<'_>,
        control: &CacheControl,
        req: &ChatRequest,
    ) -> Option<Lookup> {
        let policy = self.config.route(route);
        if !policy.enabled {
            return None;
        }
        let ns = namespace(tenant, policy.shared, control.namespace.as_deref());
        Some(Lookup {
            key: request_key(&ns, route, req),
            namespace: ns,
            route: route.to_string(),
            policy,
            control: control.clone(),
        })
    }

    /// The stored answer, when reading is allowed and one is live.
    #[inline]
    pub fn get(&self, l: &Lookup) -> Option<Arc<CachedAnswer>> {
        if l.control.may_read() {
            self.exact.get(&l.key)
        } else {
            None
        }
    }

    /// Keeps an answer another process stored (read from the shared state) in the local
    /// cache too, and hands it back for serving.
    pub fn adopt(&self, l: &Lookup, answer: CachedAnswer) -> Arc<CachedAnswer> {
        let answer = Arc::new(answer);
        if l.control.may_store() {
            self.exact.insert_shared(l.key, answer.clone());
        }
        answer
    }

    /// Embeds the prompt and looks for a similar one in the same tenant, route and
    /// parameters. Returns the embedding on a miss, to remember once the answer is stored.
    pub async fn semantic_get(
        &self,
        l: &Lookup,
        req: &ChatRequest,
        embedder: &dyn Embedder,
    ) -> Result<Option<SemanticOutcome>, Error> {
        let Some(policy) = l.semantic() else {
            return Ok(None);
        };
        let mut v = embedder.embed(prompt_text(req)).await?;
        if !normalize(&mut v) {
            return Ok(None);
        }
        if l.control.may_read() {
            let scope = params_key(&l.namespace, &l.route, req);
            if let Some(m) = self.semantic.lookup(&scope, &v, policy.threshold) {
                if let Some(a) = self.exact.get(&m.answer) {
                    return Ok(Some(SemanticOutcome::Hit(a, m)));
                }
            }
        }
        Ok(Some(SemanticOutcome::Miss(v)))
    }

    /// Stores a complete answer (unless `no_store`), and remembers its prompt's embedding
    /// for the semantic cache when one was made. False when not stored.
    pub fn store(
        &self,
        l: &Lookup,
        answer: CachedAnswer,
        req: &ChatRequest,
        embedding: Option<Vec<f32>>,
    ) -> bool {
        if !l.control.may_store() || !is_complete(&answer.response) {
            return false;
        }
        let ttl = answer.ttl;
        let stored = self.exact.insert(l.key, answer);
        if let (true, Some(v), Some(p)) = (stored, embedding, l.policy.semantic.as_ref()) {
            let scope = params_key(&l.namespace, &l.route, req);
            self.semantic.insert(scope, v, l.key, ttl, p.max_entries);
        }
        stored
    }

    /// Single-flight for complete answers.
    pub fn flights(&self) -> &Flights<ChatResponse> {
        &self.flights
    }

    /// Single-flight for streams.
    pub fn streams(&self) -> &Arc<StreamFlights<ChatChunk>> {
        &self.streams
    }

    /// The exact store (for stats and tests).
    pub fn exact(&self) -> &ExactCache {
        &self.exact
    }
}

/// Only finished answers are stored: every choice has a finish reason.
fn is_complete(r: &ChatResponse) -> bool {
    !r.choices.is_empty() && r.choices.iter().all(|c| c.finish_reason.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::from_json_value;
    use futures_util::FutureExt;

    fn cfg() -> CacheConfig {
        serde_json::from_value(serde_json::json!({
            "routes": {
                "gpt": {"enabled": true},
                "faq": {"shared": true, "semantic": {"embedding_model": "emb", "threshold": 0.9}}
            }
        }))
        .expect("config")
    }

    fn req(text: &str) -> ChatRequest {
        from_json_value(
            serde_json::json!({"model": "gpt", "messages": [{"role": "user", "content": text}]}),
        )
        .expect("request")
    }

    fn resp(text: &str, finished: bool) -> ChatResponse {
        from_json_value(serde_json::json!({
            "id": "c", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": if finished { serde_json::json!("stop") } else { serde_json::Value::Null }}]
        }))
        .expect("response")
    }

    #[test]
    fn routes_without_cache_get_no_plan_and_controls_apply() {
        let c = ResponseCache::new(&cfg()).expect("cache on");
        assert!(c
            .plan(
                "other",
                Tenant::Anonymous,
                &CacheControl::default(),
                &req("hi")
            )
            .is_none());
        let l = c
            .plan(
                "gpt",
                Tenant::Team("a"),
                &CacheControl::default(),
                &req("hi"),
            )
            .expect("plan");
        assert!(c.store(
            &l,
            CachedAnswer::from_response(resp("hello", true), l.ttl()),
            &req("hi"),
            None
        ));
        assert_eq!(
            c.get(&l).map(|a| a.response.text().map(str::to_string)),
            Some(Some("hello".into()))
        );
        // no_read skips the read; refresh too.
        for control in [
            CacheControl {
                no_read: true,
                ..CacheControl::default()
            },
            CacheControl {
                refresh: true,
                ..CacheControl::default()
            },
        ] {
            let l2 = c
                .plan("gpt", Tenant::Team("a"), &control, &req("hi"))
                .expect("plan");
            assert_eq!(l2.key, l.key);
            assert!(c.get(&l2).is_none());
        }
        // no_store stores nothing; unfinished answers are never stored.
        let ns = CacheControl {
            no_store: true,
            ..CacheControl::default()
        };
        let l3 = c
            .plan("gpt", Tenant::Team("a"), &ns, &req("other"))
            .expect("plan");
        assert!(!c.store(
            &l3,
            CachedAnswer::from_response(resp("x", true), l3.ttl()),
            &req("other"),
            None
        ));
        let l4 = c
            .plan(
                "gpt",
                Tenant::Team("a"),
                &CacheControl::default(),
                &req("cut"),
            )
            .expect("plan");
        assert!(!c.store(
            &l4,
            CachedAnswer::from_response(resp("x", false), l4.ttl()),
            &req("cut"),
            None
        ));
        // A per-request TTL wins over the route's.
        let t = CacheControl {
            ttl: Some(Duration::from_secs(5)),
            ..CacheControl::default()
        };
        assert_eq!(
            c.plan("gpt", Tenant::Anonymous, &t, &req("hi"))
                .expect("plan")
                .ttl(),
            Duration::from_secs(5)
        );
        assert!(ResponseCache::new(&CacheConfig::default()).is_none());
    }

    #[tokio::test]
    async fn semantic_lookup_after_store_on_a_shared_route() {
        let c = ResponseCache::new(&cfg()).expect("cache on");
        // A toy embedder: questions about opening hours point one way, anything else another.
        let emb = |t: String| {
            async move {
                Ok(if t.contains("open") {
                    vec![1.0, 0.1]
                } else {
                    vec![0.0, 1.0]
                })
            }
            .boxed()
        };
        let first = req("when do you open?");
        let l = c
            .plan("faq", Tenant::Team("a"), &CacheControl::default(), &first)
            .expect("plan");
        let v = match c.semantic_get(&l, &first, &emb).await.expect("embed") {
            Some(SemanticOutcome::Miss(v)) => v,
            other => panic!("expected a miss, got {other:?}"),
        };
        assert!(c.store(
            &l,
            CachedAnswer::from_response(resp("9 to 5", true), l.ttl()),
            &first,
            Some(v)
        ));
        // Another tenant, same shared route, similar question: a semantic hit.
        let similar = req("what time do you open");
        let l2 = c
            .plan("faq", Tenant::Team("b"), &CacheControl::default(), &similar)
            .expect("plan");
        assert!(c.get(&l2).is_none(), "not an exact match");
        match c.semantic_get(&l2, &similar, &emb).await.expect("embed") {
            Some(SemanticOutcome::Hit(a, m)) => {
                assert_eq!(a.response.text(), Some("9 to 5"));
                assert!(m.similarity > 0.99);
            }
            other => panic!("expected a hit, got {other:?}"),
        }
        let unrelated = req("do you ship abroad");
        let l3 = c
            .plan(
                "faq",
                Tenant::Team("b"),
                &CacheControl::default(),
                &unrelated,
            )
            .expect("plan");
        assert!(matches!(
            c.semantic_get(&l3, &unrelated, &emb).await.expect("embed"),
            Some(SemanticOutcome::Miss(_))
        ));
    }
}
