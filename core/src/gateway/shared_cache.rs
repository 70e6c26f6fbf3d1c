//! The response cache on the shared state: a local miss asks the shared store before any
//! provider, and every answer stored locally is stored there too (off the request's path).

use super::Engine;
use crate::api::ChatRequest;
use crate::cache::{shared, CachedAnswer, Lookup, ResponseCache};
use std::sync::Arc;

impl Engine {
    /// An answer another process stored, when the state is shared and reading is allowed.
    pub(super) async fn shared_cache_get(
        &self,
        cache: &ResponseCache,
        l: &Lookup,
        req: &ChatRequest,
    ) -> Option<Arc<CachedAnswer>> {
        let backend = self.inner.policy.backend();
        if backend.name() == "memory" || !l.control.may_read() {
            return None;
        }
        let bytes = backend.cache_get(&shared::entry_key(l, req)).await.ok()??;
        let answer = shared::decode(&bytes, crate::cache::now_ms())?;
        Some(cache.adopt(l, answer))
    }

    /// Stores an answer on the shared state too (a background write; a failure only costs
    /// other processes a hit).
    pub(super) fn shared_cache_put(&self, l: &Lookup, req: &ChatRequest, answer: &CachedAnswer) {
        let backend = self.inner.policy.backend().clone();
        if backend.name() == "memory" || !l.control.may_store() || answer.ttl.is_zero() {
            return;
        }
        let Some(bytes) = shared::encode(answer) else {
            return;
        };
        let (key, ttl) = (shared::entry_key(l, req), answer.ttl);
        crate::policy::run_detached(Box::pin(async move {
            let _ = backend.cache_put(&key, &bytes, ttl).await;
        }));
    }
}
