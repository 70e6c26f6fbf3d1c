//! The exact cache: complete answers by key, bounded by bytes and by entries, each with its
//! own time to live.
//!
//! moka bounds the total *weight*; an entry weighs its estimated heap size, but never less
//! than `max_bytes / max_entries`, so the same bound also caps the entry count.

use super::key::{CacheKey, KeyBits};
use crate::api::{ChatChunk, ChatResponse, StreamAccumulator};
use moka::sync::Cache;
use moka::Expiry;
use std::mem::size_of;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A stored answer: the complete response and, for a streamed original, its chunks.
#[derive(Debug, Clone)]
pub struct CachedAnswer {
    /// The complete answer (a streamed one assembled), without the gateway's facts.
    pub response: ChatResponse,
    /// The original chunks of a streamed answer, replayed as they came.
    pub chunks: Option<Vec<ChatChunk>>,
    /// When it was stored (Unix ms) and for how long it lives.
    pub stored_at_ms: u64,
    pub ttl: Duration,
    /// Who made the answer and what it cost then (for the facts and records of hits).
    pub origin: Origin,
    bytes: u64,
}

/// Where a stored answer came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub provider: String,
    pub provider_model: String,
    pub provider_kind: String,
    /// What the answer cost when it was made; a hit saves this much.
    pub cost_usd: Option<rust_decimal::Decimal>,
}

impl CachedAnswer {
    /// A non-streamed answer.
    pub fn from_response(mut response: ChatResponse, ttl: Duration) -> CachedAnswer {
        response.switchpoint = None;
        let bytes = response_bytes(&response);
        CachedAnswer {
            response,
            chunks: None,
            stored_at_ms: super::now_ms(),
            ttl,
            origin: Origin::default(),
            bytes,
        }
    }

    /// The same answer, marked with where it came from.
    pub fn with_origin(mut self, origin: Origin) -> CachedAnswer {
        self.bytes += (origin.provider.len()
            + origin.provider_model.len()
            + origin.provider_kind.len()) as u64;
        self.origin = origin;
        self
    }

    /// A streamed answer, from all its chunks (facts stripped).
    pub fn from_chunks(mut chunks: Vec<ChatChunk>, ttl: Duration) -> CachedAnswer {
        let mut acc = StreamAccumulator::new();
        for c in &mut chunks {
            c.switchpoint = None;
            acc.push(c);
        }
        let response = acc.finish();
        let bytes = response_bytes(&response) + chunks.iter().map(chunk_bytes).sum::<u64>();
        CachedAnswer {
            response,
            chunks: Some(chunks),
            stored_at_ms: super::now_ms(),
            ttl,
            origin: Origin::default(),
            bytes,
        }
    }

    /// The estimated heap size the entry holds (what the weigher counts).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// Allocator and moka bookkeeping per entry: the Arc, the key, moka's node, deque and
/// timer-wheel entries and its hash-table slot.
const ENTRY_OVERHEAD: u64 = 384;
/// Per heap allocation (allocator header and rounding).
const ALLOC: u64 = 16;

fn string_bytes(s: &str) -> u64 {
    if s.is_empty() {
        0
    } else {
        s.len() as u64 + ALLOC
    }
}

fn json_bytes(m: &crate::api::JsonMap) -> u64 {
    if m.is_empty() {
        0
    } else {
        // A parsed JSON tree takes about three times its text.
        serde_json::to_string(m).map_or(0, |t| 3 * t.len() as u64 + 64)
    }
}

fn response_bytes(r: &ChatResponse) -> u64 {
    let mut n = ENTRY_OVERHEAD
        + size_of::<CachedAnswer>() as u64
        + string_bytes(&r.id)
        + string_bytes(&r.object)
        + string_bytes(&r.model)
        + r.system_fingerprint.as_deref().map_or(0, string_bytes)
        + json_bytes(&r.extra);
    for c in &r.choices {
        n += size_of::<crate::api::Choice>() as u64 + ALLOC + json_bytes(&c.extra);
        let m = &c.message;
        n += m.content.as_deref().map_or(0, string_bytes)
            + m.refusal.as_deref().map_or(0, string_bytes)
            + json_bytes(&m.extra);
        for t in m.tool_calls.iter().flatten() {
            n += size_of::<crate::api::ToolCall>() as u64
                + string_bytes(&t.id)
                + string_bytes(&t.function.name)
                + string_bytes(&t.function.arguments)
                + json_bytes(&t.extra);
        }
        if let Some(l) = &c.logprobs {
            n += 3 * l.to_string().len() as u64;
        }
    }
    if let Some(u) = &r.usage {
        n += size_of::<crate::api::PromptTokensDetails>() as u64
            + size_of::<crate::api::CompletionTokensDetails>() as u64
            + 2 * ALLOC
            + json_bytes(&u.extra);
    }
    n
}

fn chunk_bytes(c: &ChatChunk) -> u64 {
    let mut n = size_of::<ChatChunk>() as u64
        + string_bytes(&c.id)
        + string_bytes(&c.object)
        + string_bytes(&c.model)
        + c.system_fingerprint.as_deref().map_or(0, string_bytes)
        + json_bytes(&c.extra);
    for ch in &c.choices {
        n += size_of::<crate::api::ChunkChoice>() as u64 + ALLOC + json_bytes(&ch.extra);
        let d = &ch.delta;
        n += d.content.as_deref().map_or(0, string_bytes)
            + d.refusal.as_deref().map_or(0, string_bytes)
            + json_bytes(&d.extra);
        for t in d.tool_calls.iter().flatten() {
            n += size_of::<crate::api::ToolCallDelta>() as u64
                + t.id.as_deref().map_or(0, string_bytes)
                + t.function.as_ref().map_or(0, |f| {
                    f.name.as_deref().map_or(0, string_bytes)
                        + f.arguments.as_deref().map_or(0, string_bytes)
                });
        }
        if let Some(l) = &ch.logprobs {
            n += 3 * l.to_string().len() as u64;
        }
    }
    if let Some(u) = &c.usage {
        n += size_of::<crate::api::Usage>() as u64 + 2 * ALLOC + json_bytes(&u.extra);
    }
    n
}

/// Limits of the exact cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExactLimits {
    pub max_bytes: u64,
    pub max_entries: u64,
    pub max_entry_bytes: u64,
}

struct PerEntryTtl;

impl Expiry<CacheKey, Arc<CachedAnswer>> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &Arc<CachedAnswer>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &CacheKey,
        value: &Arc<CachedAnswer>,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The in-memory exact cache.
#[derive(Clone)]
pub struct ExactCache {
    inner: Cache<CacheKey, Arc<CachedAnswer>, KeyBits>,
    limits: ExactLimits,
}

impl std::fmt::Debug for ExactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactCache")
            .field("limits", &self.limits)
            .field("entries", &self.inner.entry_count())
            .field("weighted_bytes", &self.inner.weighted_size())
            .finish()
    }
}

impl ExactCache {
    /// An empty cache with these limits.
    pub fn new(limits: ExactLimits) -> ExactCache {
        let floor = limits.max_bytes.div_ceil(limits.max_entries.max(1));
        let floor = u32::try_from(floor).unwrap_or(u32::MAX);
        let inner = Cache::builder()
            .max_capacity(limits.max_bytes)
            .weigher(move |_k: &CacheKey, v: &Arc<CachedAnswer>| {
                u32::try_from(v.bytes).unwrap_or(u32::MAX).max(floor)
            })
            .expire_after(PerEntryTtl)
            .build_with_hasher(KeyBits);
        ExactCache { inner, limits }
    }

    /// The answer stored under `key`, if it has not expired.
    #[inline]
    pub fn get(&self, key: &CacheKey) -> Option<Arc<CachedAnswer>> {
        self.inner.get(key)
    }

    /// Stores an answer; false (not stored) when it weighs more than `max_entry_bytes` or
    /// its TTL is zero.
    pub fn insert(&self, key: CacheKey, answer: CachedAnswer) -> bool {
        if answer.bytes > self.limits.max_entry_bytes || answer.ttl.is_zero() {
            return false;
        }
        self.inner.insert(key, Arc::new(answer));
        true
    }

    /// Stores an answer already shared (a copy of a shared-state entry).
    pub fn insert_shared(&self, key: CacheKey, answer: Arc<CachedAnswer>) {
        if answer.bytes <= self.limits.max_entry_bytes && !answer.ttl.is_zero() {
            self.inner.insert(key, answer);
        }
    }

    /// Forgets one entry.
    pub fn invalidate(&self, key: &CacheKey) {
        self.inner.invalidate(key);
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.inner.invalidate_all();
    }

    /// Entries and total weight in bytes, after pending evictions are applied.
    pub fn usage(&self) -> (u64, u64) {
        self.inner.run_pending_tasks();
        (self.inner.entry_count(), self.inner.weighted_size())
    }

    /// The configured limits.
    pub fn limits(&self) -> ExactLimits {
        self.limits
    }
}

/// Unix ms of a stored answer's expiry (for display).
pub fn expires_at_ms(a: &CachedAnswer) -> u64 {
    a.stored_at_ms
        .saturating_add(u64::try_from(a.ttl.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{from_json_value, ChatChunk, Delta, FinishReason};

    fn answer(text: &str) -> ChatResponse {
        from_json_value(serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
        }))
        .expect("response")
    }

    fn k(i: u32) -> CacheKey {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&i.to_le_bytes());
        CacheKey(b)
    }

    fn limits(max_bytes: u64, max_entries: u64) -> ExactLimits {
        ExactLimits {
            max_bytes,
            max_entries,
            max_entry_bytes: 1 << 20,
        }
    }

    #[test]
    fn stores_and_returns_answers_without_facts() {
        let c = ExactCache::new(limits(1 << 20, 100));
        let mut r = answer("hello");
        r.switchpoint = Some(Default::default());
        assert!(c.insert(
            k(1),
            CachedAnswer::from_response(r, Duration::from_secs(60))
        ));
        let got = c.get(&k(1)).expect("hit");
        assert_eq!(got.response.text(), Some("hello"));
        assert!(got.response.switchpoint.is_none());
        assert!(c.get(&k(2)).is_none());
    }

    #[test]
    fn per_entry_ttl_expires_entries() {
        let c = ExactCache::new(limits(1 << 20, 100));
        c.insert(
            k(1),
            CachedAnswer::from_response(answer("short"), Duration::from_millis(50)),
        );
        c.insert(
            k(2),
            CachedAnswer::from_response(answer("long"), Duration::from_secs(60)),
        );
        assert!(c.get(&k(1)).is_some());
        std::thread::sleep(Duration::from_millis(120));
        assert!(c.get(&k(1)).is_none(), "expired");
        assert!(c.get(&k(2)).is_some());
        assert!(!c.insert(
            k(3),
            CachedAnswer::from_response(answer("x"), Duration::ZERO)
        ));
    }

    #[test]
    fn byte_bound_holds() {
        let one = CachedAnswer::from_response(answer(&"x".repeat(1000)), Duration::from_secs(60));
        let w = one.bytes();
        assert!(w > 1000, "{w}");
        let max = w * 10;
        let c = ExactCache::new(limits(max, 1_000_000));
        for i in 0..200 {
            c.insert(
                k(i),
                CachedAnswer::from_response(answer(&"x".repeat(1000)), Duration::from_secs(60)),
            );
        }
        let (entries, weight) = c.usage();
        assert!(weight <= max, "{weight} > {max}");
        assert!((1..=10).contains(&entries), "{entries}");
    }

    #[test]
    fn entry_bound_holds_for_small_answers() {
        let c = ExactCache::new(limits(1 << 30, 5));
        for i in 0..100 {
            c.insert(
                k(i),
                CachedAnswer::from_response(answer("hi"), Duration::from_secs(60)),
            );
        }
        let (entries, _) = c.usage();
        assert!((1..=5).contains(&entries), "{entries}");
    }

    #[test]
    fn oversized_answers_are_not_stored() {
        let c = ExactCache::new(ExactLimits {
            max_bytes: 1 << 20,
            max_entries: 10,
            max_entry_bytes: 2000,
        });
        assert!(!c.insert(
            k(1),
            CachedAnswer::from_response(answer(&"y".repeat(5000)), Duration::from_secs(60))
        ));
        assert!(c.get(&k(1)).is_none());
    }

    #[test]
    fn streamed_answers_keep_their_chunks_and_assemble() {
        let chunks = vec![
            ChatChunk::new("c1", 1, "gpt").with_delta(
                0,
                Delta {
                    role: Some(crate::api::Role::Assistant),
                    ..Delta::default()
                },
                None,
            ),
            ChatChunk::new("c1", 1, "gpt").with_delta(0, Delta::content("Hel"), None),
            ChatChunk::new("c1", 1, "gpt").with_delta(0, Delta::content("lo"), None),
            ChatChunk::new("c1", 1, "gpt").with_delta(
                0,
                Delta::default(),
                Some(FinishReason::Stop),
            ),
        ];
        let a = CachedAnswer::from_chunks(chunks.clone(), Duration::from_secs(1));
        assert_eq!(a.response.text(), Some("Hello"));
        assert_eq!(a.chunks.as_deref(), Some(&chunks[..]));
        assert!(
            a.bytes()
                > CachedAnswer::from_response(a.response.clone(), Duration::from_secs(1)).bytes()
        );
    }
}
