//! Feeding records to observers off the hot path.
//!
//! A request hands its record to a bounded queue with `try_send` (never blocks, never waits
//! on an observer); one worker thread drains the queue and calls every observer in turn.
//! When the queue is full the record is dropped and counted, so a slow observer costs
//! records, never latency. The worker is a plain OS thread rather than a tokio task: host
//! callbacks (a Python callable, a file write) block, and the thread needs no runtime.
//!
//! The request path never wakes the worker (waking a sleeping thread is a syscall, about a
//! microsecond): the worker polls the queue, every 2 ms while records flow and backing off to
//! 50 ms when idle, and is woken only when the queue is half full or when someone waits for
//! it (`flush`, `sync`).

use super::pending::{PendingHit, PendingRecord};
use super::record::RequestRecord;
use crate::api::Error;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Something that receives every request record: a metrics registry, a log file, an OTLP
/// exporter, a host-language callback. Called on the telemetry worker thread, one record at
/// a time; a panic is caught and counted.
pub trait Observer: Send + Sync + 'static {
    /// One finished request.
    fn on_record(&self, record: &RequestRecord);
    /// Make everything received so far durable or visible (files flushed, spans exported).
    fn flush(&self) {}
}

/// A closure as an observer (what bindings wrap host callbacks in).
pub struct FnObserver<F>(pub F);

impl<F: Fn(&RequestRecord) + Send + Sync + 'static> Observer for FnObserver<F> {
    fn on_record(&self, record: &RequestRecord) {
        (self.0)(record)
    }
}

impl<F> std::fmt::Debug for FnObserver<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnObserver")
    }
}

/// A handle to remove an observer added with [`Hub::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObserverId(u64);

type Observers = RwLock<Vec<(ObserverId, Arc<dyn Observer>)>>;

// A hit travels by value in the queue's slot (that is the point: no heap block crosses to
// the worker), so every slot is the hit's size: ~250 bytes, 2.5 MB for the default 10,000.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Record(Box<RequestRecord>),
    /// A request's record, built on the worker from its packed parts.
    Pending(Box<PendingRecord>),
    /// A cache hit's record, built on the worker; carried in the queue's slot (no heap block).
    Hit(PendingHit),
    /// Flush every observer, then answer.
    Flush(mpsc::Sender<()>),
    /// Answer once every record queued before it was delivered (no observer flush).
    Sync(mpsc::Sender<()>),
}

/// Counters about the hub itself.
#[derive(Debug, Default)]
pub struct HubStats {
    /// Records dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Records handed to the observers.
    pub delivered: AtomicU64,
    /// Observer calls that panicked.
    pub observer_panics: AtomicU64,
}

/// The worker's polling interval while records flow, and the longest one when idle.
const POLL_BUSY: Duration = Duration::from_millis(2);
const POLL_IDLE: Duration = Duration::from_millis(50);

/// The bounded queue and its worker thread.
pub struct Hub {
    tx: SyncSender<Msg>,
    observers: Arc<Observers>,
    /// Raised whenever the observer list changes, so the worker re-reads it only then.
    version: Arc<AtomicU64>,
    stats: Arc<HubStats>,
    next_id: AtomicU64,
    /// Records queued and not yet taken by the worker (to wake it when half full).
    queued: Arc<AtomicUsize>,
    capacity: usize,
    worker: std::thread::Thread,
}

impl Drop for Hub {
    fn drop(&mut self) {
        // The channel closes with `tx`; wake the worker so it drains and ends now.
        self.worker.unpark();
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field(
                "observers",
                &self.observers.read().map(|o| o.len()).unwrap_or(0),
            )
            .field("stats", &self.stats)
            .finish()
    }
}

impl Hub {
    /// A hub with a queue of `capacity` records and its worker thread started.
    pub fn new(capacity: usize) -> Result<Hub, Error> {
        let capacity = capacity.max(1);
        let (tx, rx) = mpsc::sync_channel(capacity);
        let observers: Arc<Observers> = Arc::default();
        let stats = Arc::new(HubStats::default());
        let queued = Arc::new(AtomicUsize::new(0));
        let version = Arc::new(AtomicU64::new(0));
        let shared = Shared {
            observers: observers.clone(),
            version: version.clone(),
            stats: stats.clone(),
            queued: queued.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("switchpoint-telemetry".into())
            .spawn(move || worker(rx, shared))
            .map_err(|e| {
                Error::new(
                    crate::api::ErrorKind::Internal,
                    format!("cannot start the telemetry thread: {e}"),
                )
            })?;
        Ok(Hub {
            tx,
            observers,
            version,
            stats,
            next_id: AtomicU64::new(1),
            queued,
            capacity,
            worker: handle.thread().clone(),
        })
    }

    /// Queues a record for the observers; drops it (counted) when the queue is full.
    #[inline]
    pub fn emit(&self, record: RequestRecord) {
        self.queue(Msg::Record(Box::new(record)));
    }

    /// Queues a request's record, built on the worker; dropped like `emit`.
    #[inline]
    pub fn emit_pending(&self, pending: Box<PendingRecord>) {
        self.queue(Msg::Pending(pending));
    }

    /// Queues a cache hit's record, built on the worker; dropped like `emit`.
    #[inline]
    pub fn emit_hit(&self, hit: PendingHit) {
        self.queue(Msg::Hit(hit));
    }

    #[inline]
    fn queue(&self, msg: Msg) {
        match self.tx.try_send(msg) {
            Ok(()) => {
                // The worker may take the record (and count it out) before this count goes in,
                // so the counter can briefly wrap below zero: compare with wrapping arithmetic.
                let queued = self.queued.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
                if queued == self.capacity / 2 + 1 {
                    self.worker.unpark();
                }
            }
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Adds an observer; it receives records emitted from now on.
    pub fn add(&self, observer: Arc<dyn Observer>) -> ObserverId {
        let id = ObserverId(self.next_id.fetch_add(1, Ordering::Relaxed));
        if let Ok(mut list) = self.observers.write() {
            list.push((id, observer));
        }
        self.version.fetch_add(1, Ordering::Release);
        id
    }

    /// Removes an observer; false if it was not registered.
    pub fn remove(&self, id: ObserverId) -> bool {
        match self.observers.write() {
            Ok(mut list) => {
                let before = list.len();
                list.retain(|(i, _)| *i != id);
                self.version.fetch_add(1, Ordering::Release);
                list.len() != before
            }
            Err(_) => false,
        }
    }

    /// Waits until every record queued before this call has reached every observer and the
    /// observers flushed; false on timeout. Blocks the calling thread (tests, shutdown).
    pub fn flush(&self, timeout: Duration) -> bool {
        self.round_trip(Msg::Flush, timeout)
    }

    /// Waits until every record queued before this call has reached every observer (no
    /// observer flush), so a usage query or a metrics scrape sees the requests that already
    /// returned; false on timeout. Blocks the calling thread.
    pub fn sync(&self, timeout: Duration) -> bool {
        self.round_trip(Msg::Sync, timeout)
    }

    fn round_trip(&self, make: fn(mpsc::Sender<()>) -> Msg, timeout: Duration) -> bool {
        let (done_tx, done_rx) = mpsc::channel();
        let deadline = std::time::Instant::now() + timeout;
        let mut msg = make(done_tx);
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => {
                    self.worker.unpark();
                    break;
                }
                Err(TrySendError::Full(m)) => {
                    if std::time::Instant::now() >= deadline {
                        return false;
                    }
                    msg = m;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(TrySendError::Disconnected(_)) => return false,
            }
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        done_rx.recv_timeout(left).is_ok()
    }

    /// The hub's own counters.
    pub fn stats(&self) -> &HubStats {
        &self.stats
    }
}

/// Hands one record to every observer; a panicking observer is counted, the others still run.
fn deliver(list: &[Arc<dyn Observer>], record: &RequestRecord, stats: &HubStats) {
    for o in list {
        if catch_unwind(AssertUnwindSafe(|| o.on_record(record))).is_err() {
            stats.observer_panics.fetch_add(1, Ordering::Relaxed);
        }
    }
    stats.delivered.fetch_add(1, Ordering::Relaxed);
}

/// What the worker shares with the hub.
struct Shared {
    observers: Arc<Observers>,
    version: Arc<AtomicU64>,
    stats: Arc<HubStats>,
    queued: Arc<AtomicUsize>,
}

impl Shared {
    /// The observers, re-read only when the list changed since `seen`.
    fn refresh(&self, list: &mut Vec<Arc<dyn Observer>>, seen: &mut Option<u64>) {
        let now = self.version.load(Ordering::Acquire);
        if *seen == Some(now) {
            return;
        }
        if let Ok(l) = self.observers.read() {
            *list = l.iter().map(|(_, o)| o.clone()).collect();
        }
        *seen = Some(now);
    }
}

/// Builds a record the request handed over in parts, then delivers it; a panic while
/// building is counted like an observer's.
fn build_and_deliver(
    list: &[Arc<dyn Observer>],
    stats: &HubStats,
    build: impl FnOnce() -> RequestRecord,
) {
    match catch_unwind(AssertUnwindSafe(build)) {
        Ok(record) => deliver(list, &record, stats),
        Err(_) => {
            stats.observer_panics.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn worker(rx: Receiver<Msg>, shared: Shared) {
    let Shared {
        ref observers,
        ref stats,
        ref queued,
        ..
    } = shared;
    let (mut list, mut seen) = (Vec::new(), None);
    // Ends when the hub (the only sender) is dropped and the queue is drained.
    let mut idle = POLL_BUSY;
    // Records taken since the shared count was last lowered: lowered once per batch, so the
    // counter's cache line stays with the request threads that raise it.
    let mut taken = 0usize;
    loop {
        let msg = match rx.try_recv() {
            Ok(msg) => {
                idle = POLL_BUSY;
                if taken >= 256 {
                    queued.fetch_sub(std::mem::take(&mut taken), Ordering::Relaxed);
                }
                msg
            }
            Err(TryRecvError::Empty) => {
                queued.fetch_sub(std::mem::take(&mut taken), Ordering::Relaxed);
                std::thread::park_timeout(idle);
                idle = (idle * 2).min(POLL_IDLE);
                continue;
            }
            Err(TryRecvError::Disconnected) => break,
        };
        shared.refresh(&mut list, &mut seen);
        match msg {
            Msg::Record(record) => {
                taken += 1;
                deliver(&list, &record, stats);
            }
            Msg::Pending(pending) => {
                taken += 1;
                build_and_deliver(&list, stats, || pending.record());
            }
            Msg::Hit(hit) => {
                taken += 1;
                build_and_deliver(&list, stats, || hit.record());
            }
            Msg::Flush(done) => {
                for o in &list {
                    if catch_unwind(AssertUnwindSafe(|| o.flush())).is_err() {
                        stats.observer_panics.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let _ = done.send(());
            }
            Msg::Sync(done) => {
                let _ = done.send(());
            }
        }
    }
    for (_, o) in observers.read().map(|l| l.clone()).unwrap_or_default() {
        let _ = catch_unwind(AssertUnwindSafe(|| o.flush()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn record(id: &str) -> RequestRecord {
        RequestRecord {
            id: id.to_string(),
            ..RequestRecord::default()
        }
    }

    #[test]
    fn a_queue_slot_stays_small() {
        // Every slot of the bounded queue is allocated up front at this size.
        assert!(
            std::mem::size_of::<Msg>() <= 320,
            "{}",
            std::mem::size_of::<Msg>()
        );
    }

    #[test]
    fn every_observer_receives_every_record_in_order() {
        let hub = Hub::new(16).expect("hub");
        let seen_a = Arc::new(Mutex::new(Vec::new()));
        let seen_b = Arc::new(Mutex::new(Vec::new()));
        let (a, b) = (seen_a.clone(), seen_b.clone());
        hub.add(Arc::new(FnObserver(move |r: &RequestRecord| {
            a.lock().expect("lock").push(r.id.clone())
        })));
        let id_b = hub.add(Arc::new(FnObserver(move |r: &RequestRecord| {
            b.lock().expect("lock").push(r.id.clone())
        })));
        for i in 0..5 {
            hub.emit(record(&format!("r{i}")));
        }
        assert!(hub.flush(Duration::from_secs(5)));
        let want: Vec<String> = (0..5).map(|i| format!("r{i}")).collect();
        assert_eq!(*seen_a.lock().expect("lock"), want);
        assert_eq!(*seen_b.lock().expect("lock"), want);
        assert!(hub.remove(id_b));
        hub.emit(record("r5"));
        assert!(hub.flush(Duration::from_secs(5)));
        assert_eq!(seen_a.lock().expect("lock").len(), 6);
        assert_eq!(seen_b.lock().expect("lock").len(), 5);
        assert_eq!(hub.stats().delivered.load(Ordering::Relaxed), 6);
    }

    #[test]
    fn a_slow_observer_drops_records_instead_of_blocking() {
        let hub = Hub::new(4).expect("hub");
        let gate = Arc::new(Mutex::new(()));
        let held = gate.lock().expect("lock");
        let g = gate.clone();
        hub.add(Arc::new(FnObserver(move |_: &RequestRecord| {
            drop(g.lock());
        })));
        let start = std::time::Instant::now();
        for i in 0..100 {
            hub.emit(record(&i.to_string()));
        }
        // 100 emits against a stuck observer return at once.
        assert!(start.elapsed() < Duration::from_secs(1));
        drop(held);
        assert!(hub.flush(Duration::from_secs(5)));
        let dropped = hub.stats().dropped.load(Ordering::Relaxed);
        let delivered = hub.stats().delivered.load(Ordering::Relaxed);
        assert_eq!(dropped + delivered, 100);
        // At most the queue (4) plus the one record the worker held were delivered.
        assert!(delivered <= 5 && dropped >= 95, "{delivered} delivered");
    }

    #[test]
    fn a_panicking_observer_is_counted_and_others_still_run() {
        let hub = Hub::new(8).expect("hub");
        hub.add(Arc::new(FnObserver(|_: &RequestRecord| {
            panic!("host callback failed")
        })));
        let count = Arc::new(AtomicU64::new(0));
        let c = count.clone();
        hub.add(Arc::new(FnObserver(move |_: &RequestRecord| {
            c.fetch_add(1, Ordering::Relaxed);
        })));
        hub.emit(record("a"));
        hub.emit(record("b"));
        assert!(hub.flush(Duration::from_secs(5)));
        assert_eq!(count.load(Ordering::Relaxed), 2);
        assert_eq!(hub.stats().observer_panics.load(Ordering::Relaxed), 2);
    }
}
