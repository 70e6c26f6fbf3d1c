//! The semantic cache: a previous answer is reused when its prompt's embedding is close
//! enough (cosine similarity at or above the route's threshold) to the new prompt's.
//!
//! Entries are scoped by the key of everything but the conversation (namespace, route,
//! tools, sampling and format parameters; see [`super::key::params_key`]), so a match never
//! crosses tenants, routes or parameter sets. Each entry points at an exact-cache entry
//! (the answer is stored once, bounded by the exact cache's limits); a match whose answer
//! has been evicted is a miss. Memory is bounded per scope (`max_entries`, oldest dropped)
//! and in total (oldest scopes dropped whole).

use super::key::CacheKey;
use crate::api::{ChatRequest, Error};
use futures_util::future::BoxFuture;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Embeds text (a configured embedding route, or anything else a host supplies).
pub trait Embedder: Send + Sync {
    /// The embedding of `text`.
    fn embed(&self, text: String) -> BoxFuture<'static, Result<Vec<f32>, Error>>;
}

impl<F, Fut> Embedder for F
where
    F: Fn(String) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Vec<f32>, Error>> + Send + 'static,
{
    fn embed(&self, text: String) -> BoxFuture<'static, Result<Vec<f32>, Error>> {
        Box::pin(self(text))
    }
}

/// The text embedded for a request: each message as `role: text` on its own line (images
/// and other parts are not text and are left out).
pub fn prompt_text(req: &ChatRequest) -> String {
    let mut s = String::new();
    for m in &req.messages {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(m.role.as_str());
        s.push_str(": ");
        s.push_str(&m.text_content());
    }
    s
}

/// Scales `v` to unit length; false for a zero or non-finite vector (never matches).
pub fn normalize(v: &mut [f32]) -> bool {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if !(norm.is_finite() && norm > 0.0) {
        return false;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    true
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

struct Entry {
    vector: Box<[f32]>,
    answer: CacheKey,
    expires: Instant,
}

#[derive(Default)]
struct Scope {
    entries: VecDeque<Entry>,
}

/// Remembered prompt embeddings by scope.
pub struct SemanticCache {
    scopes: Mutex<Scopes>,
    max_total: usize,
}

#[derive(Default)]
struct Scopes {
    by_key: HashMap<CacheKey, Arc<RwLock<Scope>>>,
    /// Scope keys, oldest first, for dropping whole scopes beyond `max_total`.
    order: VecDeque<CacheKey>,
    total: usize,
}

impl std::fmt::Debug for SemanticCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemanticCache")
            .field("entries", &self.len())
            .field("max_total", &self.max_total)
            .finish()
    }
}

/// A semantic match: the exact-cache key of the answer and how similar its prompt was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    pub answer: CacheKey,
    pub similarity: f32,
}

impl SemanticCache {
    /// An empty cache holding at most `max_total` prompts across all scopes.
    pub fn new(max_total: usize) -> SemanticCache {
        SemanticCache {
            scopes: Mutex::new(Scopes::default()),
            max_total: max_total.max(1),
        }
    }

    /// The most similar live prompt in `scope` at or above `threshold`. `vector` must be
    /// normalized (see [`normalize`]).
    pub fn lookup(&self, scope: &CacheKey, vector: &[f32], threshold: f32) -> Option<Match> {
        let s = self.scopes.lock().ok()?.by_key.get(scope)?.clone();
        let s = s.read().ok()?;
        let now = Instant::now();
        s.entries
            .iter()
            .filter(|e| e.expires > now && e.vector.len() == vector.len())
            .map(|e| Match {
                answer: e.answer,
                similarity: dot(&e.vector, vector),
            })
            .filter(|m| m.similarity >= threshold)
            .max_by(|a, b| a.similarity.total_cmp(&b.similarity))
    }

    /// Remembers a prompt (normalized `vector`) whose answer is stored under `answer`.
    pub fn insert(
        &self,
        scope: CacheKey,
        vector: Vec<f32>,
        answer: CacheKey,
        ttl: Duration,
        max_per_scope: usize,
    ) {
        let Ok(mut scopes) = self.scopes.lock() else {
            return;
        };
        let s = match scopes.by_key.get(&scope) {
            Some(s) => s.clone(),
            None => {
                let s = Arc::new(RwLock::new(Scope::default()));
                scopes.by_key.insert(scope, s.clone());
                scopes.order.push_back(scope);
                s
            }
        };
        let delta = {
            let Ok(mut s) = s.write() else {
                return;
            };
            let before = s.entries.len();
            let now = Instant::now();
            s.entries.retain(|e| e.expires > now && e.answer != answer);
            s.entries.push_back(Entry {
                vector: vector.into_boxed_slice(),
                answer,
                expires: now + ttl,
            });
            while s.entries.len() > max_per_scope.max(1) {
                s.entries.pop_front();
            }
            s.entries.len() as isize - before as isize
        };
        scopes.total = (scopes.total as isize + delta).max(0) as usize;
        while scopes.total > self.max_total && scopes.order.len() > 1 {
            let Some(old) = scopes.order.pop_front() else {
                break;
            };
            if let Some(s) = scopes.by_key.remove(&old) {
                let n = s.read().map(|s| s.entries.len()).unwrap_or(0);
                scopes.total = scopes.total.saturating_sub(n);
            }
        }
    }

    /// Prompts remembered across all scopes.
    pub fn len(&self) -> usize {
        self.scopes.lock().map(|s| s.total).unwrap_or(0)
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(i: u8) -> CacheKey {
        CacheKey([i; 16])
    }

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        assert!(normalize(&mut v));
        v
    }

    #[test]
    fn hits_at_and_above_the_threshold_only() {
        let c = SemanticCache::new(100);
        c.insert(k(1), unit(&[1.0, 0.0]), k(10), Duration::from_secs(60), 10);
        // cos(angle) for (0.8, 0.6) against (1, 0) is exactly 0.8.
        let q = unit(&[0.8, 0.6]);
        let m = c.lookup(&k(1), &q, 0.8).expect("hit at the threshold");
        assert_eq!(m.answer, k(10));
        assert!((m.similarity - 0.8).abs() < 1e-6);
        assert!(c.lookup(&k(1), &q, 0.81).is_none(), "miss just above it");
        // Another scope (tenant, route or parameters) never matches.
        assert!(c.lookup(&k(2), &q, 0.1).is_none());
        // Dimension mismatch never matches.
        assert!(c.lookup(&k(1), &unit(&[1.0, 0.0, 0.0]), 0.1).is_none());
    }

    #[test]
    fn the_closest_prompt_wins_and_entries_expire() {
        let c = SemanticCache::new(100);
        c.insert(k(1), unit(&[1.0, 0.0]), k(10), Duration::from_secs(60), 10);
        c.insert(
            k(1),
            unit(&[0.0, 1.0]),
            k(11),
            Duration::from_millis(30),
            10,
        );
        let m = c.lookup(&k(1), &unit(&[0.1, 1.0]), 0.5).expect("hit");
        assert_eq!(m.answer, k(11));
        std::thread::sleep(Duration::from_millis(60));
        assert!(c.lookup(&k(1), &unit(&[0.1, 1.0]), 0.5).is_none());
    }

    #[test]
    fn memory_is_bounded_per_scope_and_in_total() {
        let c = SemanticCache::new(25);
        for i in 0..30u8 {
            c.insert(
                k(1),
                unit(&[1.0, f32::from(i)]),
                k(100 + i),
                Duration::from_secs(60),
                10,
            );
        }
        assert_eq!(c.len(), 10);
        // The oldest were forgotten: the first vector no longer matches exactly.
        assert!(c.lookup(&k(1), &unit(&[1.0, 0.0]), 0.9999).is_none());
        for s in 2..6u8 {
            for i in 0..10u8 {
                c.insert(
                    k(s),
                    unit(&[1.0, f32::from(i)]),
                    k(i),
                    Duration::from_secs(60),
                    10,
                );
            }
        }
        assert!(c.len() <= 25, "{}", c.len());
        assert!(
            c.lookup(&k(1), &unit(&[1.0, 29.0]), 0.999).is_none(),
            "oldest scope dropped"
        );
    }

    #[test]
    fn prompt_text_and_zero_vectors() {
        let r: ChatRequest = crate::api::from_json_value(serde_json::json!({
            "model": "m", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
        }))
        .expect("request");
        assert_eq!(prompt_text(&r), "system: be brief\nuser: hi");
        assert!(!normalize(&mut [0.0, 0.0]));
    }
}
