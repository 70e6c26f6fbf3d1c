//! Records the telemetry worker builds itself from what a request already owns, so the
//! request's thread copies nothing for them while the caller waits.
//!
//! A cache hit hands over a [`PendingHit`] by value, inside the queue's own slot: no heap
//! block crosses threads. That matters with glibc's allocator, which returns a freed block
//! to the cache of the thread that frees it: every block the request thread allocates and
//! the worker frees is one the request thread later takes from the allocator's slow, locked
//! path (it was most of a hit's malloc time).

use super::record::{unix_ms, CacheOutcome, CacheStatus, Caller, RecordedContent};
use super::{Cost, RequestRecord, Status, TokenSplit};
use crate::api::{AttemptFact, FinishReason};
use crate::cache::CachedAnswer;
use rust_decimal::Decimal;
use smallvec::SmallVec;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// `N` short texts packed into one buffer, inline up to `B` bytes (sized so the usual
/// names fit) and on the heap beyond.
#[derive(Debug)]
pub struct Packed<const N: usize, const B: usize = 96> {
    text: SmallVec<[u8; B]>,
    /// Each field's end in `text`, or `u32::MAX` when it is absent.
    ends: [u32; N],
}

impl<const N: usize, const B: usize> Packed<N, B> {
    /// Packs the fields given; `None` stays absent.
    pub fn new(fields: [Option<&str>; N]) -> Self {
        let mut text = SmallVec::new();
        let mut ends = [u32::MAX; N];
        for (end, field) in ends.iter_mut().zip(fields) {
            if let Some(f) = field {
                text.extend_from_slice(f.as_bytes());
                *end = u32::try_from(text.len()).unwrap_or(u32::MAX);
            }
        }
        Packed { text, ends }
    }

    /// Field `i`, when it was present.
    pub fn get(&self, i: usize) -> Option<String> {
        let end = *self.ends.get(i)?;
        if end == u32::MAX {
            return None;
        }
        let start = self.ends[..i]
            .iter()
            .rev()
            .find(|e| **e != u32::MAX)
            .map_or(0, |e| *e as usize);
        // Fields are whole `&str`s, so every boundary is a character boundary.
        let bytes = self.text.get(start..end as usize)?;
        std::str::from_utf8(bytes).ok().map(str::to_string)
    }

    /// True when the fields spilled to the heap (for tests).
    pub fn spilled(&self) -> bool {
        self.text.spilled()
    }
}

/// What a cache hit's record is built from, on the telemetry worker.
#[derive(Debug)]
pub struct PendingHit {
    pub call: &'static str,
    pub started: SystemTime,
    pub latency_ms: f64,
    /// The model asked for, the route, then the caller's key id, user, team and tier.
    pub names: Packed<6>,
    pub tags: Vec<String>,
    pub status: CacheStatus,
    pub saved: Option<Decimal>,
    /// Only with content recording on (rare), so boxed to keep the queue's slots small.
    pub content: Option<Box<RecordedContent>>,
    pub answer: Arc<CachedAnswer>,
}

impl PendingHit {
    /// A hit's record: who made the answer, no attempt or tokens of its own, the cost saved.
    pub fn record(self) -> RequestRecord {
        let (resp, origin) = (&self.answer.response, &self.answer.origin);
        // The end is the start plus the latency (one clock read fewer while the caller waits).
        let ended = self.started + Duration::from_secs_f64(self.latency_ms.max(0.0) / 1000.0);
        RequestRecord {
            id: resp.id.clone(),
            call: self.call,
            started_at_ms: unix_ms(self.started),
            ended_at_ms: unix_ms(ended),
            latency_ms: self.latency_ms,
            ttft_ms: None,
            model: self.names.get(0).unwrap_or_default(),
            route: self.names.get(1).unwrap_or_default(),
            provider: origin.provider.clone(),
            provider_model: origin.provider_model.clone(),
            provider_kind: origin.provider_kind.clone(),
            response_id: Some(resp.id.clone()),
            response_model: Some(resp.model.clone()),
            finish_reasons: resp
                .choices
                .iter()
                .filter_map(|c| c.finish_reason)
                .collect(),
            attempts: Vec::new(),
            tokens: TokenSplit::default(),
            cost: None,
            cache: CacheOutcome {
                status: self.status,
                saved_usd: self.saved,
            },
            caller: Caller {
                key_id: self.names.get(2),
                user: self.names.get(3),
                team: self.names.get(4),
                tier: self.names.get(5),
            },
            tags: self.tags,
            status: Status::Ok,
            content: self.content.map(|c| *c),
        }
    }
}

/// What any other request's record is built from, on the telemetry worker: the request
/// hands over its names packed in one buffer and the few values only it knows, in one box.
#[derive(Debug)]
pub struct PendingRecord {
    pub call: &'static str,
    pub started: SystemTime,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    /// See [`PendingRecord::NAMES`] for the order (boxed with the rest, so roomier).
    pub names: Packed<11, 192>,
    pub finish_reasons: SmallVec<[FinishReason; 2]>,
    pub attempts: Vec<AttemptFact>,
    pub tokens: TokenSplit,
    pub cost: Option<Cost>,
    pub cache: CacheOutcome,
    pub tags: Vec<String>,
    pub status: Status,
    pub content: Option<RecordedContent>,
}

impl PendingRecord {
    /// The order of [`PendingRecord::names`].
    pub const NAMES: [&'static str; 11] = [
        "model",
        "route",
        "provider",
        "provider_model",
        "provider_kind",
        "response_id",
        "response_model",
        "key_id",
        "user",
        "team",
        "tier",
    ];

    /// The record, built on the worker. The end is the start plus the latency (one clock
    /// read fewer on the request's thread).
    pub fn record(self) -> RequestRecord {
        let n = |i: usize| self.names.get(i);
        let ended = self.started + Duration::from_secs_f64(self.latency_ms.max(0.0) / 1000.0);
        let response_id = n(5);
        RequestRecord {
            id: response_id.clone().unwrap_or_default(),
            call: self.call,
            started_at_ms: unix_ms(self.started),
            ended_at_ms: unix_ms(ended),
            latency_ms: self.latency_ms,
            ttft_ms: self.ttft_ms,
            model: n(0).unwrap_or_default(),
            route: n(1).unwrap_or_default(),
            provider: n(2).unwrap_or_default(),
            provider_model: n(3).unwrap_or_default(),
            provider_kind: n(4).unwrap_or_default(),
            response_id,
            response_model: n(6),
            finish_reasons: self.finish_reasons.into_vec(),
            attempts: self.attempts,
            tokens: self.tokens,
            cost: self.cost,
            cache: self.cache,
            caller: Caller {
                key_id: n(7),
                user: n(8),
                team: n(9),
                tier: n(10),
            },
            tags: self.tags,
            status: self.status,
            content: self.content,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Packed;

    #[test]
    fn packed_fields_come_back_as_given_absent_and_empty_ones_included() {
        let p: Packed<6> = Packed::new([
            Some("gpt"),
            None,
            Some(""),
            Some("alice"),
            None,
            Some("pro"),
        ]);
        let got: Vec<Option<String>> = (0..6).map(|i| p.get(i)).collect();
        assert_eq!(
            got,
            vec![
                Some("gpt".into()),
                None,
                Some(String::new()),
                Some("alice".into()),
                None,
                Some("pro".into())
            ]
        );
        assert_eq!(p.get(6), None);
        assert!(!p.spilled());
        let none: Packed<3> = Packed::new([None::<&str>; 3]);
        assert_eq!((none.get(0), none.get(2)), (None, None));
    }

    #[test]
    fn long_fields_spill_to_the_heap_and_still_come_back() {
        let long = "é".repeat(80);
        let p: Packed<3> = Packed::new([Some(long.as_str()), Some("route"), Some("ünïcode")]);
        assert!(p.spilled());
        assert_eq!(p.get(0).as_deref(), Some(long.as_str()));
        assert_eq!(p.get(1).as_deref(), Some("route"));
        assert_eq!(p.get(2).as_deref(), Some("ünïcode"));
    }
}
