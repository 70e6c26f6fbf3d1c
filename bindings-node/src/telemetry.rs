//! Observability from JS: the Prometheus text, usage queries, request-record callbacks and
//! flushing the observers.
//!
//! Records reach JS through a *weak* threadsafe function per callback (it never keeps node
//! alive) called in non-blocking mode from the core's telemetry thread, with a bounded queue:
//! when the JS thread falls that far behind, records for that callback are dropped and
//! counted instead of blocking the telemetry worker or growing without bound.

use crate::gateway::{to_json, Gateway};
use crate::task::{guard_sync, spawn_promise, throw};
use napi::bindgen_prelude::{Env, Function, Object, Result};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchpoint_core::telemetry::{FnObserver, GroupBy, ObserverId, RequestRecord};
use switchpoint_core::{Error, ErrorKind};

/// Records waiting for the JS thread, per callback, before new ones are dropped.
const RECORD_QUEUE: usize = 10_000;

/// A JS callback taking one record's JSON text: weak, errors not passed to the callee.
type RecordFn = ThreadsafeFunction<String, (), String, Status, false, true, RECORD_QUEUE>;

/// What happened to the records meant for one callback.
#[derive(Debug, Default)]
struct Counters {
    /// Queued for the JS thread.
    sent: AtomicU64,
    /// Not queued: the JS thread's queue was full (or node is shutting down).
    dropped: AtomicU64,
}

/// One registered record callback; `remove()` unregisters it. Dropping this object does
/// not: a callback stays registered until removed (or the gateway is gone).
#[napi]
#[derive(Debug)]
pub struct RecordSubscription {
    gw: switchpoint_core::Gateway,
    id: Mutex<Option<ObserverId>>,
    counters: Arc<Counters>,
}

#[napi]
impl RecordSubscription {
    /// Unregisters the callback; true the first time, false afterwards. Records already
    /// queued for the JS thread may still arrive (the wrapper ignores them).
    #[napi]
    pub fn remove(&self) -> bool {
        let id = self.id.lock().map(|mut id| id.take()).unwrap_or(None);
        id.is_some_and(|id| self.gw.remove_observer(id))
    }

    /// Records queued for the callback so far (the wrapper compares it with what arrived
    /// to know when `flushTelemetry()` reached every callback).
    #[napi(getter)]
    pub fn sent(&self) -> f64 {
        self.counters.sent.load(Ordering::Relaxed) as f64
    }

    /// Records dropped for this callback because the JS thread fell behind.
    #[napi(getter)]
    pub fn dropped(&self) -> f64 {
        self.counters.dropped.load(Ordering::Relaxed) as f64
    }
}

#[napi]
impl Gateway {
    /// The Prometheus text exposition of the gateway's metrics. Waits (up to a second) for
    /// records still queued, so calls that already returned are counted; the telemetry
    /// worker never waits on JS, so this cannot deadlock with a record callback.
    #[napi]
    pub fn metrics_text(&self, env: &Env) -> Result<String> {
        guard_sync(env, || Ok(self.core().metrics_text()))
    }

    /// Usage rows as JSON text (most expensive first) since `since_ms` (Unix ms), grouped by
    /// `group_by`; a bad `group_by` throws the core's `bad_request` (param `group_by`).
    #[napi]
    pub fn usage(&self, env: &Env, since_ms: f64, group_by: String) -> Result<String> {
        guard_sync(env, || {
            let rows = GroupBy::from_param(&group_by)
                .and_then(|g| Ok((g, unix_ms("since", since_ms)?)))
                .and_then(|(g, since)| to_json(&self.core().usage(since, g)));
            rows.map_err(|e| throw(env, e))
        })
    }

    /// Calls `callback` with each request record's JSON text, on the JS thread, from now on.
    #[napi(ts_args_type = "callback: (record: string) => void")]
    pub fn on_record(
        &self,
        env: &Env,
        callback: Function<String, ()>,
    ) -> Result<RecordSubscription> {
        guard_sync(env, || {
            let tsfn: RecordFn = callback
                .build_threadsafe_function::<String>()
                .weak::<true>()
                .max_queue_size::<RECORD_QUEUE>()
                .build_callback(|ctx| Ok(ctx.value))?;
            let counters = Arc::new(Counters::default());
            let c = counters.clone();
            let observer = FnObserver(move |record: &RequestRecord| {
                let queued = serde_json::to_string(record).is_ok_and(|json| {
                    tsfn.call(json, ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
                });
                let counter = if queued { &c.sent } else { &c.dropped };
                counter.fetch_add(1, Ordering::Relaxed);
            });
            let id = self.core().add_observer(Arc::new(observer));
            Ok(RecordSubscription {
                gw: self.core().clone(),
                id: Mutex::new(Some(id)),
                counters,
            })
        })
    }

    /// Resolves to true once every record so far reached every observer (and log files and
    /// exporters flushed), false after `timeout_ms`. Waits on a blocking thread, never on
    /// the event loop.
    #[napi(ts_return_type = "Promise<boolean | NativeError>")]
    pub fn flush_telemetry<'env>(&self, env: &'env Env, timeout_ms: f64) -> Result<Object<'env>> {
        guard_sync(env, || {
            let gw = self.core().clone();
            spawn_promise(env, None, async move {
                let timeout = duration_ms("timeout", timeout_ms)?;
                tokio::task::spawn_blocking(move || gw.flush_telemetry(timeout))
                    .await
                    .map_err(|e| Error::new(ErrorKind::Internal, format!("flush failed: {e}")))
            })
        })
    }
}

/// A non-negative, finite number of milliseconds, or `bad_request` naming `param`.
fn duration_ms(param: &str, ms: f64) -> std::result::Result<Duration, Error> {
    if ms.is_finite() && ms >= 0.0 {
        if let Ok(d) = Duration::try_from_secs_f64(ms / 1000.0) {
            return Ok(d);
        }
    }
    Err(Error::new(
        ErrorKind::BadRequest,
        format!("{param}: expected a non-negative number of milliseconds, got {ms}"),
    )
    .with_param(param))
}

/// A Unix time in milliseconds as a wall-clock time.
pub(crate) fn unix_ms(param: &str, ms: f64) -> std::result::Result<SystemTime, Error> {
    let d = duration_ms(param, ms)?;
    UNIX_EPOCH.checked_add(d).ok_or_else(|| {
        Error::new(
            ErrorKind::BadRequest,
            format!("{param}: {ms} ms is past the end of time"),
        )
        .with_param(param)
    })
}
