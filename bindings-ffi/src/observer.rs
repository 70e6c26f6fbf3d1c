//! Host record callbacks (C function pointers, uniffi listeners) as core observers, with a
//! removal that guarantees no call starts after it returns.
//!
//! The core's hub snapshots its observer list per record, so a bare `remove_observer` can
//! still be followed by one call. Each host observer here is gated: a call runs holding the
//! gate and only while the observer is active; removal clears the flag and then takes the
//! gate once, waiting for a call in progress. Inside the observer's own call (the telemetry
//! thread removing the observer that is running) the wait is skipped: that call ends when
//! the host returns and no other starts.

use crate::registry::{Attach, HostRegistry};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use switchpoint_core::telemetry::{Observer, ObserverId, RequestRecord};
use switchpoint_core::Gateway;

thread_local! {
    /// The gated observer whose host call is running on this thread (null outside one).
    static RUNNING: Cell<*const ()> = const { Cell::new(std::ptr::null()) };
}

/// Whether this thread is inside a host record callback (the gateway's telemetry thread):
/// calls that wait for that thread (usage, metrics, flush) must be refused there.
pub(crate) fn in_record_callback() -> bool {
    RUNNING.with(|r| !r.get().is_null())
}

/// Resets [`RUNNING`] when the host call returns or unwinds.
struct Running(*const ());

impl Running {
    fn enter(me: *const ()) -> Running {
        Running(RUNNING.with(|r| r.replace(me)))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.with(|r| r.set(self.0));
    }
}

/// How a record reaches the host: its JSON text, borrowed for the call.
type Deliver = Box<dyn Fn(&str) + Send + Sync>;

/// A host callback that receives each record as JSON text.
pub(crate) struct Gated {
    deliver: Deliver,
    active: AtomicBool,
    gate: Mutex<()>,
}

impl Gated {
    /// A new, active observer around `deliver`.
    pub(crate) fn new(deliver: impl Fn(&str) + Send + Sync + 'static) -> Arc<Gated> {
        Arc::new(Gated {
            deliver: Box::new(deliver),
            active: AtomicBool::new(true),
            gate: Mutex::new(()),
        })
    }

    /// Stops delivery: once this returns no call of `deliver` is running (unless this is
    /// called from inside that very call) and none starts. Idempotent.
    pub(crate) fn deactivate(&self) {
        self.active.store(false, Ordering::SeqCst);
        let me = (self as *const Self).cast::<()>();
        if RUNNING.with(|r| r.get()) != me {
            drop(self.gate.lock().unwrap_or_else(PoisonError::into_inner));
        }
    }
}

impl Observer for Gated {
    fn on_record(&self, record: &RequestRecord) {
        if !self.active.load(Ordering::SeqCst) {
            return;
        }
        // A record always serializes (strings, numbers, decimals); skip it if not.
        let Ok(json) = serde_json::to_string(record) else {
            return;
        };
        // A panic in a host call (a uniffi listener that raised) poisons nothing we rely on.
        let _held = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        if !self.active.load(Ordering::SeqCst) {
            return;
        }
        let _running = Running::enter((self as *const Self).cast::<()>());
        (self.deliver)(&json);
    }
}

impl std::fmt::Debug for Gated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gated")
            .field("active", &self.active.load(Ordering::Relaxed))
            .finish()
    }
}

/// A record callback: deactivated first (see [`Gated`]), then taken off the gateway.
impl Attach for Gated {
    type CoreId = ObserverId;

    fn attach(self: &Arc<Self>, gw: &Gateway) -> ObserverId {
        gw.add_observer(self.clone())
    }

    fn detach(&self, gw: &Gateway, id: ObserverId) {
        self.deactivate();
        gw.remove_observer(id);
    }
}

/// The host record callbacks added through one handle.
pub(crate) type HostObservers = HostRegistry<Gated>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;
    use std::time::Duration;

    fn record(id: &str) -> RequestRecord {
        RequestRecord {
            id: id.into(),
            ..RequestRecord::default()
        }
    }

    #[test]
    fn delivers_json_until_deactivated() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let obs = Gated::new(move |json: &str| {
            assert!(in_record_callback());
            let v: serde_json::Value = serde_json::from_str(json).expect("json");
            s.lock()
                .expect("lock")
                .push(v["id"].as_str().map(str::to_owned));
        });
        obs.on_record(&record("a"));
        assert!(!in_record_callback());
        obs.deactivate();
        obs.on_record(&record("b"));
        obs.deactivate();
        assert_eq!(*seen.lock().expect("lock"), vec![Some("a".to_string())]);
    }

    #[test]
    fn deactivate_waits_for_a_running_call() {
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let finished = Arc::new(AtomicUsize::new(0));
        let f = finished.clone();
        let obs = Gated::new(move |_: &str| {
            let _ = entered_tx.send(());
            let _ = release_rx.lock().expect("lock").recv();
            f.fetch_add(1, Ordering::SeqCst);
        });
        let o = obs.clone();
        let worker = std::thread::spawn(move || o.on_record(&record("x")));
        entered_rx.recv().expect("call started");
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let _ = release_tx.send(());
        });
        obs.deactivate();
        // Deactivation returned only after the running call finished.
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        worker.join().expect("worker");
        releaser.join().expect("releaser");
    }

    #[test]
    fn deactivating_itself_inside_its_call_does_not_deadlock() {
        let me: Arc<std::sync::OnceLock<std::sync::Weak<Gated>>> = Arc::default();
        let m = me.clone();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let obs = Gated::new(move |_: &str| {
            c.fetch_add(1, Ordering::SeqCst);
            if let Some(o) = m.get().and_then(std::sync::Weak::upgrade) {
                o.deactivate();
            }
        });
        me.set(Arc::downgrade(&obs)).expect("set once");
        obs.on_record(&record("1"));
        obs.on_record(&record("2"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
