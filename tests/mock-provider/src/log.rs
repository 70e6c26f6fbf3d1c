//! The record of requests received, and the guards that note how each one ended.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde_json::Value;

use crate::fault::Fault;

/// Most entries kept; older ones are dropped so a long soak cannot grow memory without bound.
pub const LOG_CAPACITY: usize = 100_000;

/// One provider request as the mock saw it and answered it.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    /// Arrival order, from 1; not reset by clearing the log.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// URL path (percent-encoded as received).
    pub path: String,
    /// URL query string without `?`, may be empty.
    pub query: String,
    /// Wire format: openai, azure, anthropic, gemini (or unknown for an unrouted path).
    pub provider: String,
    /// chat or embeddings (or unknown).
    pub endpoint: String,
    /// Model (Azure: deployment) with any fault suffix stripped.
    pub model: String,
    /// Whether a streamed answer was asked for.
    pub stream: bool,
    /// All request headers, lowercase name to value.
    pub headers: BTreeMap<String, String>,
    /// The parsed JSON body, or the raw text when it is not JSON.
    pub body: Value,
    /// The fault applied to this request, if any.
    pub fault: Option<Fault>,
    /// Status answered; 0 while pending or when the connection was reset.
    pub status: u16,
    /// The whole response was handed to the connection.
    pub completed: bool,
    /// The client went away before the response was complete.
    pub client_closed_early: bool,
}

/// Bounded, shared request log.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    inner: Mutex<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    next_seq: u64,
    entries: VecDeque<LogEntry>,
}

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, LogInner> {
        // A panic while holding the lock cannot leave an entry half-written, so keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends an entry, assigning its `seq`.
    pub(crate) fn push(&self, mut entry: LogEntry) -> u64 {
        let mut inner = self.lock();
        inner.next_seq += 1;
        entry.seq = inner.next_seq;
        if inner.entries.len() >= LOG_CAPACITY {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
        inner.next_seq
    }

    /// Changes the entry `seq` if it is still in the log.
    pub(crate) fn update(&self, seq: u64, change: impl FnOnce(&mut LogEntry)) {
        let mut inner = self.lock();
        let Some(first) = inner.entries.front().map(|e| e.seq) else {
            return;
        };
        // Entries are in seq order without gaps, so the position is an offset from the first.
        let Some(offset) = seq.checked_sub(first) else {
            return;
        };
        if let Some(entry) = usize::try_from(offset)
            .ok()
            .and_then(|i| inner.entries.get_mut(i))
        {
            if entry.seq == seq {
                change(entry);
            }
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<LogEntry> {
        self.lock().entries.iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        self.lock().entries.clear();
    }
}

/// Marks a request's entry when the handler or its response body goes away unfinished.
#[derive(Debug)]
pub(crate) struct Tracker {
    log: Arc<RequestLog>,
    seq: u64,
    settled: bool,
}

impl Tracker {
    pub(crate) fn new(log: Arc<RequestLog>, seq: u64) -> Tracker {
        Tracker {
            log,
            seq,
            settled: false,
        }
    }

    pub(crate) fn update(&self, change: impl FnOnce(&mut LogEntry)) {
        self.log.update(self.seq, change);
    }

    /// Records the final outcome; nothing more is recorded on drop.
    pub(crate) fn settle(mut self, completed: bool) {
        self.settled = true;
        self.update(|e| e.completed = completed);
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        if !self.settled {
            self.log.update(self.seq, |e| e.client_closed_early = true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> LogEntry {
        LogEntry {
            seq: 0,
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            provider: "openai".into(),
            endpoint: "chat".into(),
            model: "m".into(),
            stream: false,
            headers: BTreeMap::new(),
            body: Value::Null,
            fault: None,
            status: 0,
            completed: false,
            client_closed_early: false,
        }
    }

    #[test]
    fn bounded_and_updatable() {
        let log = RequestLog::default();
        for _ in 0..LOG_CAPACITY + 3 {
            log.push(entry());
        }
        let entries = log.snapshot();
        assert_eq!(entries.len(), LOG_CAPACITY);
        assert_eq!(entries[0].seq, 4);
        log.update(10, |e| e.status = 201);
        log.update(2, |e| e.status = 500); // already dropped: ignored
        let entries = log.snapshot();
        assert_eq!(entries[6].seq, 10);
        assert_eq!(entries[6].status, 201);
    }

    #[test]
    fn dropped_tracker_marks_client_gone() {
        let log = Arc::new(RequestLog::default());
        let a = log.push(entry());
        let b = log.push(entry());
        drop(Tracker::new(log.clone(), a));
        Tracker::new(log.clone(), b).settle(true);
        let entries = log.snapshot();
        assert!(entries[0].client_closed_early && !entries[0].completed);
        assert!(!entries[1].client_closed_early && entries[1].completed);
    }
}
