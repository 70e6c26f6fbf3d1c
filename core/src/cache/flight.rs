//! Single-flight: identical requests already in flight share one upstream call.
//!
//! - [`Flights`] (complete answers): the first caller's future is shared; later callers
//!   with the same key await the same result. Whoever polls drives it, so the call goes on
//!   while any caller still waits; when every caller has gone the call is dropped.
//! - [`StreamFlights`] (streams): the first caller starts a driver task that reads the
//!   upstream stream onto a tape; every caller (including ones joining mid-way) reads the
//!   tape from the first chunk. When every reader has gone the upstream stream is dropped
//!   (cancelling the provider's request); when it completes the whole tape is handed to a
//!   callback (the cache store).
//!
//! A flight leaves the table as soon as it finishes, so a finished flight never serves as
//! a cache of its own.

use super::key::CacheKey;
use crate::api::{Error, ErrorKind};
use futures_util::future::{BoxFuture, FutureExt, Shared, WeakShared};
use futures_util::stream::{BoxStream, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::Notify;

/// Whether a caller started the upstream call or joined one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Leader,
    Follower,
}

type Call<T> = BoxFuture<'static, Result<T, Error>>;

/// In-flight calls for complete answers.
pub struct Flights<T: Clone + Send + Sync + 'static> {
    table: Mutex<HashMap<CacheKey, WeakShared<Call<T>>>>,
}

impl<T: Clone + Send + Sync + 'static> std::fmt::Debug for Flights<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flights")
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl<T: Clone + Send + Sync + 'static> Default for Flights<T> {
    fn default() -> Self {
        Flights {
            table: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Flights<T> {
    /// Runs `start()` unless an identical call is in flight, in which case joins it.
    pub async fn run<F>(&self, key: CacheKey, start: F) -> (Result<T, Error>, Role)
    where
        F: FnOnce() -> Call<T>,
    {
        let joined = self.table.lock().ok().map(|mut table| {
            match table.get(&key).and_then(WeakShared::upgrade) {
                Some(call) => (call, Role::Follower),
                None => {
                    let call = start().shared();
                    if let Some(weak) = call.downgrade() {
                        table.insert(key, weak);
                    }
                    (call, Role::Leader)
                }
            }
        });
        let Some((call, role)) = joined else {
            return (
                Err(Error::new(ErrorKind::Internal, "flight table poisoned")),
                Role::Leader,
            );
        };
        let out = call.clone().await;
        if let Ok(mut table) = self.table.lock() {
            let same = table
                .get(&key)
                .and_then(WeakShared::upgrade)
                .is_some_and(|c| Shared::ptr_eq(&c, &call));
            if same {
                table.remove(&key);
            }
            table.retain(|_, w| w.upgrade().is_some());
        }
        (out, role)
    }

    /// Calls in flight now.
    pub fn in_flight(&self) -> usize {
        self.table
            .lock()
            .map(|t| t.values().filter(|w| w.upgrade().is_some()).count())
            .unwrap_or(0)
    }
}

/// A stream being read once from upstream and replayed to every reader.
struct Tape<T> {
    state: Mutex<TapeState<T>>,
    /// Wakes readers when the tape grows or ends.
    grew: Notify,
    /// Wakes the driver when the last reader left.
    abandoned: Notify,
    readers: AtomicUsize,
}

struct TapeState<T> {
    opened: Option<Result<(), Error>>,
    items: Vec<T>,
    end: Option<Result<(), Error>>,
}

impl<T> Tape<T> {
    fn update(&self, f: impl FnOnce(&mut TapeState<T>)) {
        if let Ok(mut st) = self.state.lock() {
            f(&mut st);
        }
        self.grew.notify_waiters();
    }
}

/// The callback given a completed stream's items (to store them).
pub type OnComplete<T> = Box<dyn FnOnce(Vec<T>) + Send>;

/// Opens the upstream stream (errors before the first item come back from here).
pub type Open<T> = BoxFuture<'static, Result<BoxStream<'static, Result<T, Error>>, Error>>;

/// In-flight streams.
pub struct StreamFlights<T> {
    table: Mutex<HashMap<CacheKey, Weak<Tape<T>>>>,
}

impl<T> std::fmt::Debug for StreamFlights<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamFlights")
    }
}

impl<T> Default for StreamFlights<T> {
    fn default() -> Self {
        StreamFlights {
            table: Mutex::new(HashMap::new()),
        }
    }
}

/// One caller's view of a shared stream.
pub struct TapeReader<T> {
    tape: Arc<Tape<T>>,
}

impl<T> std::fmt::Debug for TapeReader<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TapeReader")
    }
}

impl<T> Drop for TapeReader<T> {
    fn drop(&mut self) {
        if self.tape.readers.fetch_sub(1, Ordering::AcqRel) == 1 {
            // notify_one keeps a permit, so the driver sees it even if not waiting yet.
            self.tape.abandoned.notify_one();
        }
    }
}

impl<T: Clone + Send + Sync + 'static> StreamFlights<T> {
    /// Joins the identical stream in flight, or opens one with `open` on a driver task.
    /// Needs a tokio runtime (the driver is spawned on it).
    pub fn join_or_start(
        self: &Arc<Self>,
        key: CacheKey,
        open: impl FnOnce() -> Open<T>,
        on_complete: OnComplete<T>,
    ) -> Result<(TapeReader<T>, Role), Error> {
        let mut table = self
            .table
            .lock()
            .map_err(|_| Error::new(ErrorKind::Internal, "stream flight table poisoned"))?;
        if let Some(tape) = table.get(&key).and_then(Weak::upgrade) {
            tape.readers.fetch_add(1, Ordering::AcqRel);
            return Ok((TapeReader { tape }, Role::Follower));
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::new(ErrorKind::Internal, "streams need a tokio runtime"))?;
        let tape = Arc::new(Tape {
            state: Mutex::new(TapeState {
                opened: None,
                items: Vec::new(),
                end: None,
            }),
            grew: Notify::new(),
            abandoned: Notify::new(),
            readers: AtomicUsize::new(1),
        });
        table.insert(key, Arc::downgrade(&tape));
        table.retain(|_, w| w.strong_count() > 0);
        drop(table);
        let driver = drive(tape.clone(), open(), on_complete, Arc::downgrade(self), key);
        runtime.spawn(driver);
        Ok((TapeReader { tape }, Role::Leader))
    }

    /// Streams in flight now.
    pub fn in_flight(&self) -> usize {
        self.table
            .lock()
            .map(|t| t.values().filter(|w| w.strong_count() > 0).count())
            .unwrap_or(0)
    }

    fn forget(&self, key: &CacheKey, tape: &Arc<Tape<T>>) {
        if let Ok(mut table) = self.table.lock() {
            remove_if_same(&mut table, key, tape);
        }
    }

    /// True when no reader is left; then the flight is removed from the table. Decided under
    /// the table lock, which joiners also hold, so no reader can join a flight that stops.
    fn abandon_if_unread(&self, key: &CacheKey, tape: &Arc<Tape<T>>) -> bool {
        let Ok(mut table) = self.table.lock() else {
            return tape.readers.load(Ordering::Acquire) == 0;
        };
        if tape.readers.load(Ordering::Acquire) > 0 {
            return false;
        }
        remove_if_same(&mut table, key, tape);
        true
    }
}

fn remove_if_same<T>(
    table: &mut HashMap<CacheKey, Weak<Tape<T>>>,
    key: &CacheKey,
    tape: &Arc<Tape<T>>,
) {
    let same = table
        .get(key)
        .and_then(Weak::upgrade)
        .is_some_and(|t| Arc::ptr_eq(&t, tape));
    if same {
        table.remove(key);
    }
}

async fn drive<T: Clone + Send + Sync + 'static>(
    tape: Arc<Tape<T>>,
    open: Open<T>,
    on_complete: OnComplete<T>,
    flights: Weak<StreamFlights<T>>,
    key: CacheKey,
) {
    let finish = |tape: &Arc<Tape<T>>| {
        if let Some(f) = flights.upgrade() {
            f.forget(&key, tape);
        }
    };
    let unread = |tape: &Arc<Tape<T>>| match flights.upgrade() {
        Some(f) => f.abandon_if_unread(&key, tape),
        None => tape.readers.load(Ordering::Acquire) == 0,
    };
    let mut open = open;
    let opened = loop {
        tokio::select! {
            r = &mut open => break r,
            _ = tape.abandoned.notified() => {
                if unread(&tape) {
                    return;
                }
            }
        }
    };
    let mut upstream = match opened {
        Ok(s) => {
            tape.update(|st| st.opened = Some(Ok(())));
            s
        }
        Err(e) => {
            finish(&tape);
            tape.update(|st| {
                st.opened = Some(Err(e.clone()));
                st.end = Some(Err(e));
            });
            return;
        }
    };
    loop {
        tokio::select! {
            item = upstream.next() => match item {
                Some(Ok(x)) => tape.update(|st| st.items.push(x)),
                Some(Err(e)) => {
                    finish(&tape);
                    tape.update(|st| st.end = Some(Err(e)));
                    return;
                }
                None => {
                    let items = tape.state.lock().map(|st| st.items.clone()).unwrap_or_default();
                    // Stored before the flight leaves the table: a new caller finds one or the other.
                    on_complete(items);
                    finish(&tape);
                    tape.update(|st| st.end = Some(Ok(())));
                    return;
                }
            },
            _ = tape.abandoned.notified() => {
                if unread(&tape) {
                    return;
                }
            }
        }
    }
}

impl<T: Clone + Send + Sync + 'static> TapeReader<T> {
    /// Waits until the upstream stream opened (Ok) or failed to (its error).
    pub async fn opened(&self) -> Result<(), Error> {
        loop {
            let grew = self.tape.grew.notified();
            if let Ok(st) = self.tape.state.lock() {
                if let Some(r) = &st.opened {
                    return r.clone();
                }
            }
            grew.await;
        }
    }

    /// The items from the first, then the end (an error item if the stream failed).
    pub fn into_stream(self) -> BoxStream<'static, Result<T, Error>> {
        futures_util::stream::unfold((self, 0usize, false), |(reader, i, done)| async move {
            if done {
                return None;
            }
            let tape = reader.tape.clone();
            loop {
                let grew = tape.grew.notified();
                let next = match tape.state.lock() {
                    Ok(st) => {
                        if let Some(x) = st.items.get(i) {
                            Some(Some(Ok(x.clone())))
                        } else {
                            match &st.end {
                                Some(Ok(())) => Some(None),
                                Some(Err(e)) => Some(Some(Err(e.clone()))),
                                None => None,
                            }
                        }
                    }
                    Err(_) => Some(Some(Err(Error::new(
                        ErrorKind::Internal,
                        "stream tape poisoned",
                    )))),
                };
                match next {
                    Some(Some(Ok(x))) => return Some((Ok(x), (reader, i + 1, false))),
                    Some(Some(Err(e))) => return Some((Err(e), (reader, i, true))),
                    Some(None) => return None,
                    None => grew.await,
                }
            }
        })
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;
    use std::time::Duration;

    fn k(i: u8) -> CacheKey {
        CacheKey([i; 16])
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn identical_calls_share_one_execution() {
        let flights: Arc<Flights<u32>> = Arc::default();
        let calls = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (f, c) = (flights.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                f.run(k(1), move || {
                    async move {
                        c.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Ok(42)
                    }
                    .boxed()
                })
                .await
            }));
        }
        let mut leaders = 0;
        for t in tasks {
            let (r, role) = t.await.expect("task");
            assert_eq!(r.expect("ok"), 42);
            leaders += u32::from(role == Role::Leader);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(leaders, 1);
        assert_eq!(flights.in_flight(), 0);
        // A finished flight is not reused: the next call runs again.
        let (r, role) = flights.run(k(1), || async { Ok(7) }.boxed()).await;
        assert_eq!((r.expect("ok"), role), (7, Role::Leader));
    }

    #[tokio::test]
    async fn errors_are_shared_and_different_keys_run_apart() {
        let flights: Flights<u32> = Flights::default();
        let (a, b) = tokio::join!(
            flights.run(k(1), || async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err(Error::new(ErrorKind::Timeout, "slow"))
            }
            .boxed()),
            flights.run(k(2), || async { Ok(2) }.boxed()),
        );
        assert_eq!(a.0.expect_err("error").kind, ErrorKind::Timeout);
        assert_eq!(b.0.expect("ok"), 2);
        assert_eq!(b.1, Role::Leader);
    }

    fn numbers(n: u32, delay_ms: u64, opens: Arc<AtomicU32>) -> Open<u32> {
        async move {
            opens.fetch_add(1, Ordering::SeqCst);
            let s = futures_util::stream::iter(0..n).then(move |i| async move {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                Ok(i)
            });
            Ok(s.boxed())
        }
        .boxed()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stream_readers_all_see_every_item_from_the_start() {
        let flights: Arc<StreamFlights<u32>> = Arc::default();
        let opens = Arc::new(AtomicU32::new(0));
        let stored = Arc::new(Mutex::new(None));
        let s = stored.clone();
        let (first, role) = flights
            .join_or_start(
                k(1),
                || numbers(10, 10, opens.clone()),
                Box::new(move |items| {
                    *s.lock().expect("lock") = Some(items);
                }),
            )
            .expect("start");
        assert_eq!(role, Role::Leader);
        first.opened().await.expect("opened");
        tokio::time::sleep(Duration::from_millis(35)).await;
        // Joins mid-way, still gets the whole stream.
        let (second, role) = flights
            .join_or_start(k(1), || numbers(10, 10, opens.clone()), Box::new(|_| {}))
            .expect("join");
        assert_eq!(role, Role::Follower);
        let (a, b) = tokio::join!(
            first.into_stream().collect::<Vec<_>>(),
            second.into_stream().collect::<Vec<_>>()
        );
        let want: Vec<u32> = (0..10).collect();
        assert_eq!(
            a.into_iter().map(|r| r.expect("item")).collect::<Vec<_>>(),
            want
        );
        assert_eq!(
            b.into_iter().map(|r| r.expect("item")).collect::<Vec<_>>(),
            want
        );
        assert_eq!(opens.load(Ordering::SeqCst), 1);
        assert_eq!(*stored.lock().expect("lock"), Some(want));
        assert_eq!(flights.in_flight(), 0);
    }

    #[tokio::test]
    async fn open_errors_and_stream_errors_reach_every_reader() {
        let flights: Arc<StreamFlights<u32>> = Arc::default();
        let (r, _) = flights
            .join_or_start(
                k(1),
                || async { Err(Error::new(ErrorKind::RateLimited, "429")) }.boxed(),
                Box::new(|_| panic!("not stored")),
            )
            .expect("start");
        assert_eq!(
            r.opened().await.expect_err("fails").kind,
            ErrorKind::RateLimited
        );

        let (r, _) = flights
            .join_or_start(
                k(2),
                || {
                    async {
                        let s = futures_util::stream::iter(vec![
                            Ok(1),
                            Err(Error::new(ErrorKind::Connection, "cut")),
                        ]);
                        Ok(s.boxed())
                    }
                    .boxed()
                },
                Box::new(|_| panic!("not stored")),
            )
            .expect("start");
        let items: Vec<_> = r.into_stream().collect().await;
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().ok(), Some(&1));
        assert_eq!(
            items[1].as_ref().map_err(|e| e.kind).err(),
            Some(ErrorKind::Connection)
        );
    }

    #[tokio::test]
    async fn the_upstream_stream_is_dropped_when_every_reader_leaves() {
        struct Guard(Arc<AtomicU32>);
        impl Drop for Guard {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(AtomicU32::new(0));
        let d = dropped.clone();
        let flights: Arc<StreamFlights<u32>> = Arc::default();
        let (r, _) = flights
            .join_or_start(
                k(1),
                move || {
                    async move {
                        let guard = Guard(d);
                        let s = futures_util::stream::iter(0..u32::MAX).then(move |i| {
                            let _keep = &guard;
                            async move {
                                tokio::time::sleep(Duration::from_millis(5)).await;
                                Ok(i)
                            }
                        });
                        Ok(s.boxed())
                    }
                    .boxed()
                },
                Box::new(|_| panic!("not stored")),
            )
            .expect("start");
        r.opened().await.expect("opened");
        let mut s = r.into_stream();
        assert_eq!(s.next().await.map(|r| r.ok()), Some(Some(0)));
        drop(s);
        for _ in 0..100 {
            if dropped.load(Ordering::SeqCst) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
        assert_eq!(flights.in_flight(), 0);
    }
}
