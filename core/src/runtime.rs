//! The one tokio runtime the bindings run the gateway on.
//!
//! Python, Node and C callers have no runtime of their own (or one we must not block), so the
//! core keeps one multi-threaded runtime per process. A runtime inherited across `fork()` has
//! no worker threads in the child and would hang every call, so a child gets a fresh runtime
//! the first time it asks; the parent's copy is leaked in the child, never dropped, because
//! dropping it would try to join threads that do not exist there.

use std::sync::{Arc, Mutex, OnceLock};
use tokio::runtime::{Builder, Runtime};

struct Current {
    pid: u32,
    runtime: Arc<Runtime>,
}

static CURRENT: OnceLock<Mutex<Current>> = OnceLock::new();

/// This process's id, without a system call on every ask (glibc no longer caches it, and the
/// bindings ask on every call to notice a fork): kept in memory and forgotten in a forked
/// child by an at-fork handler, so the child asks the system once.
pub fn process_id() -> u32 {
    #[cfg(unix)]
    {
        use std::sync::atomic::{AtomicU32, Ordering};
        static PID: AtomicU32 = AtomicU32::new(0);
        static HANDLER: std::sync::Once = std::sync::Once::new();
        extern "C" fn forget_in_child() {
            PID.store(0, Ordering::Relaxed);
        }
        // Registered before the first id is kept, so no fork after it can leave a stale one.
        HANDLER.call_once(|| {
            // SAFETY: registers a handler that only stores to an atomic (async-signal-safe).
            unsafe {
                libc::pthread_atfork(None, None, Some(forget_in_child));
            }
        });
        match PID.load(Ordering::Relaxed) {
            0 => {
                let pid = std::process::id();
                PID.store(pid, Ordering::Relaxed);
                pid
            }
            pid => pid,
        }
    }
    #[cfg(not(unix))]
    {
        std::process::id()
    }
}

/// The process's runtime, created on first use and recreated in a forked child.
pub fn runtime() -> Arc<Runtime> {
    let pid = process_id();
    let cell = CURRENT.get_or_init(|| {
        Mutex::new(Current {
            pid,
            runtime: Arc::new(build()),
        })
    });
    let mut cur = match cell.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if cur.pid != pid {
        let fresh = Arc::new(build());
        let inherited = std::mem::replace(&mut cur.runtime, fresh);
        std::mem::forget(inherited);
        cur.pid = pid;
    }
    cur.runtime.clone()
}

/// Whether this process is not the one the runtime was first made in (a forked child that
/// has not made a call yet), so a binding can rebuild objects holding connection pools.
pub fn forked_since_start() -> bool {
    CURRENT
        .get()
        .and_then(|c| c.lock().ok().map(|g| g.pid != process_id()))
        .unwrap_or(false)
}

fn build() -> Runtime {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 16);
    match Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("switchpoint")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        // Creating worker threads failed (resource limits): fall back to a current-thread
        // runtime, which still works for blocking callers.
        Err(_) => Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("switchpoint cannot create a tokio runtime: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_runtime_per_process() {
        let a = runtime();
        let b = runtime();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.block_on(async { 1 + 1 }), 2);
        assert!(!forked_since_start());
    }

    #[test]
    fn the_kept_process_id_is_the_systems() {
        assert_eq!(process_id(), std::process::id());
        assert_eq!(process_id(), std::process::id());
    }
}
