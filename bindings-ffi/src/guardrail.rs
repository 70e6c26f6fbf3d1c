//! Host guardrail callbacks (C function pointers, uniffi hook objects) as core guardrail
//! hooks: each call runs on a blocking thread of the core's runtime (never on a worker that
//! drives I/O), and removal guarantees no call is running or starts after it returns.
//!
//! Calls of one hook run concurrently (one per request being checked), so the gate is a
//! read-write lock: a call holds it shared while the host runs; removal clears the active
//! flag and takes it exclusively once, waiting for the calls in progress. A hook removing
//! itself from inside its own call skips that wait (it would wait for itself); that call
//! ends when the host returns and no other starts. A removed hook that a request in flight
//! still holds allows without calling the host.

use crate::boundary::panic_message;
use crate::registry::{Attach, HostRegistry};
use futures_util::future::BoxFuture;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use switchpoint_core::policy::guardrails::{GuardrailHook, HookEvent, HookVerdict};
use switchpoint_core::{Error, ErrorKind, Gateway};

/// The error code of a host guardrail that failed (threw, raised, returned an error status).
pub(crate) const HOOK_FAILED: &str = "guardrail_hook_failed";

/// A host callback that failed: the request fails with this (kind `internal`).
pub(crate) fn hook_failed(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Internal, message).with_code(HOOK_FAILED)
}

/// A host answer this binding cannot read (not JSON): the application's hook is at fault.
pub(crate) fn invalid_answer(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Config, message).with_code("guardrail_hook_invalid")
}

thread_local! {
    /// The host hook whose call is running on this thread (null outside one).
    static RUNNING: Cell<*const ()> = const { Cell::new(std::ptr::null()) };
}

/// Restores [`RUNNING`] when the host call returns or unwinds.
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

/// How an event reaches the host: its JSON text in, the host's answer (JSON) out.
type Decide = Box<dyn Fn(&str) -> Result<serde_json::Value, Error> + Send + Sync>;

/// One host guardrail with its gate.
pub(crate) struct HostHook {
    decide: Decide,
    active: AtomicBool,
    gate: RwLock<()>,
}

impl HostHook {
    /// A new, active hook around `decide`.
    pub(crate) fn new(
        decide: impl Fn(&str) -> Result<serde_json::Value, Error> + Send + Sync + 'static,
    ) -> Arc<HostHook> {
        Arc::new(HostHook {
            decide: Box::new(decide),
            active: AtomicBool::new(true),
            gate: RwLock::new(()),
        })
    }

    /// Stops calls: once this returns no call of the host is running (unless this runs
    /// inside one of them) and none starts. Idempotent.
    pub(crate) fn deactivate(&self) {
        self.active.store(false, Ordering::SeqCst);
        if RUNNING.with(|r| r.get()) != self.me() {
            drop(self.gate.write().unwrap_or_else(PoisonError::into_inner));
        }
    }

    fn me(&self) -> *const () {
        (self as *const Self).cast::<()>()
    }

    /// Asks the host about one event (blocking: runs the host's code); a removed hook allows.
    fn ask(&self, event_json: &str) -> Result<serde_json::Value, Error> {
        if !self.active.load(Ordering::SeqCst) {
            return Ok(serde_json::Value::Null);
        }
        let _shared = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        if !self.active.load(Ordering::SeqCst) {
            return Ok(serde_json::Value::Null);
        }
        let _running = Running::enter(self.me());
        (self.decide)(event_json)
    }
}

impl std::fmt::Debug for HostHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostHook")
            .field("active", &self.active.load(Ordering::Relaxed))
            .finish()
    }
}

/// The core's view of a host hook (the future it returns owns an `Arc` of it).
#[derive(Debug)]
struct Registered(Arc<HostHook>);

impl GuardrailHook for Registered {
    fn check(&self, event: HookEvent) -> BoxFuture<'static, Result<HookVerdict, Error>> {
        let hook = self.0.clone();
        Box::pin(async move {
            let json = serde_json::to_string(&event).map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("cannot serialize the guardrail event: {e}"),
                )
            })?;
            let task = tokio::task::spawn_blocking(move || {
                catch_unwind(AssertUnwindSafe(|| hook.ask(&json)))
            });
            let answer = match task.await {
                Ok(Ok(answer)) => answer?,
                Ok(Err(payload)) => return Err(hook_failed(panic_message(payload.as_ref()))),
                Err(e) => return Err(hook_failed(format!("the guardrail call was lost: {e}"))),
            };
            HookVerdict::from_json(answer)
        })
    }
}

/// A guardrail hook: taken off the gateway first, then deactivated (waits for a running
/// call).
impl Attach for HostHook {
    type CoreId = u64;

    fn attach(self: &Arc<Self>, gw: &Gateway) -> u64 {
        gw.add_guardrail(Arc::new(Registered(self.clone())))
    }

    fn detach(&self, gw: &Gateway, id: u64) {
        gw.remove_guardrail(id);
        self.deactivate();
    }
}

/// The host hooks added through one handle.
pub(crate) type HostHooks = HostRegistry<HostHook>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::{mpsc, Mutex};
    use std::time::Duration;
    use switchpoint_core::policy::guardrails::{HookCaller, Stage};
    use switchpoint_core::runtime::runtime;

    fn event(content: &str) -> HookEvent {
        HookEvent {
            stage: Stage::Output,
            messages: None,
            content: Some(content.into()),
            caller: HookCaller {
                model: "gpt".into(),
                ..HookCaller::default()
            },
        }
    }

    #[test]
    fn answers_become_verdicts_and_failures_errors() {
        let hook = Registered(HostHook::new(|json: &str| {
            let v: serde_json::Value = serde_json::from_str(json).expect("event json");
            assert_eq!(v["stage"], "output");
            assert_eq!(v["model"], "gpt");
            match v["content"].as_str() {
                Some("ok") => Ok(serde_json::Value::Null),
                Some("bad") => Ok(serde_json::json!({"action": "deny", "reason": "bad word"})),
                Some("fix") => Ok(serde_json::json!({"action": "rewrite", "content": "fixed"})),
                Some("boom") => panic!("host blew up"),
                _ => Err(hook_failed("the host raised")),
            }
        }));
        let rt = runtime();
        let check = |c: &str| rt.block_on(hook.check(event(c)));
        assert_eq!(check("ok").ok(), Some(HookVerdict::Allow));
        assert_eq!(
            check("bad").ok(),
            Some(HookVerdict::Deny {
                reason: "bad word".into()
            })
        );
        assert_eq!(
            check("fix").ok(),
            Some(HookVerdict::RewriteContent("fixed".into()))
        );
        let e = check("other").expect_err("failed");
        assert_eq!(
            (e.kind, e.code.as_deref(), e.message.as_str()),
            (ErrorKind::Internal, Some(HOOK_FAILED), "the host raised")
        );
        let e = check("boom").expect_err("panicked");
        assert_eq!(e.code.as_deref(), Some(HOOK_FAILED));
        assert!(e.message.contains("host blew up"), "{}", e.message);
    }

    #[test]
    fn deactivate_waits_for_running_calls_and_then_allows() {
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let finished = Arc::new(AtomicUsize::new(0));
        let f = finished.clone();
        let host = HostHook::new(move |_: &str| {
            let _ = entered_tx.send(());
            let _ = release_rx.lock().expect("lock").recv();
            f.fetch_add(1, Ordering::SeqCst);
            Ok(serde_json::json!(false))
        });
        let h = host.clone();
        let worker = std::thread::spawn(move || h.ask("{}"));
        entered_rx.recv().expect("call started");
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let _ = release_tx.send(());
        });
        host.deactivate();
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        assert_eq!(
            worker.join().expect("worker").ok(),
            Some(serde_json::json!(false))
        );
        // Removed: allows without calling the host.
        assert_eq!(host.ask("{}").ok(), Some(serde_json::Value::Null));
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        releaser.join().expect("releaser");
    }

    #[test]
    fn removing_itself_inside_its_call_does_not_deadlock() {
        let me: Arc<std::sync::OnceLock<std::sync::Weak<HostHook>>> = Arc::default();
        let m = me.clone();
        let host = HostHook::new(move |_: &str| {
            if let Some(h) = m.get().and_then(std::sync::Weak::upgrade) {
                h.deactivate();
            }
            Ok(serde_json::json!(true))
        });
        me.set(Arc::downgrade(&host)).expect("set once");
        assert_eq!(host.ask("{}").ok(), Some(serde_json::json!(true)));
        assert!(!host.active.load(Ordering::SeqCst));
    }
}
