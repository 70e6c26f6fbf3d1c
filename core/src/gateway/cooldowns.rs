//! Cooldowns shared between processes: a target one process benches is benched by every
//! process on the same shared state, for the same time.
//!
//! A watcher scans the router's targets a few times a second and publishes rests that
//! began here; rests published by others are applied to the local target (and remembered,
//! so they are not published back).

use crate::api::ErrorKind;
use crate::routing::{HealthState, Router};
use crate::state::{Cooldown, StateBackend};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the watcher looks for new rests.
const SCAN: Duration = Duration::from_millis(100);

/// Rest ends (clock ms) already known to every process, by target label.
type Known = Arc<Mutex<HashMap<String, u64>>>;

/// Starts sharing the router's cooldowns through the backend (not for the memory backend,
/// which has no other process); stops when the router is dropped (a reload replaced it).
pub(super) fn share(router: &Arc<Router>, backend: &Arc<dyn StateBackend>) {
    if backend.name() == "memory" {
        return;
    }
    let known: Known = Arc::default();
    let weak = Arc::downgrade(router);
    let (k, w) = (known.clone(), weak.clone());
    backend.watch_cooldowns(Arc::new(move |c: Cooldown| {
        if let Some(r) = w.upgrade() {
            apply(&r, &c, &k);
        }
    }));
    let backend = backend.clone();
    let run = async move {
        if let Ok(list) = backend.cooldowns().await {
            if let Some(r) = weak.upgrade() {
                for c in &list {
                    apply(&r, c, &known);
                }
            }
        }
        loop {
            tokio::time::sleep(SCAN).await;
            let Some(router) = weak.upgrade() else { break };
            for c in new_rests(&router, &known) {
                let _ = backend.publish_cooldown(&c).await;
            }
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(h) => drop(h.spawn(run)),
        Err(_) => drop(crate::runtime::runtime().spawn(run)),
    }
}

/// Rests that began here since the last scan.
fn new_rests(router: &Router, known: &Known) -> Vec<Cooldown> {
    let clock = router.clock();
    let now = clock.now_ms();
    let mut out = Vec::new();
    let Ok(mut known) = known.lock() else {
        return out;
    };
    for t in router.targets() {
        let s = t.health.snapshot(now);
        let (HealthState::CoolingDown, Some(until)) = (s.state, s.until_ms) else {
            continue;
        };
        let label = t.label();
        if known.get(&label).is_some_and(|k| *k >= until) {
            continue;
        }
        known.insert(label.clone(), until);
        out.push(Cooldown {
            target: label,
            until_ms: clock.unix_ms(until),
            reason: s
                .reason
                .map_or("unavailable", ErrorKind::as_str)
                .to_string(),
        });
    }
    out
}

/// Benches the local target a peer benched.
fn apply(router: &Router, c: &Cooldown, known: &Known) {
    let clock = router.clock();
    let now = clock.now_ms();
    let now_unix = clock.unix_ms(now);
    if c.until_ms <= now_unix {
        return;
    }
    let Some(t) = router.targets().into_iter().find(|t| t.label() == c.target) else {
        return;
    };
    let rest = Duration::from_millis(c.until_ms - now_unix);
    let reason = ErrorKind::ALL
        .into_iter()
        .find(|k| k.as_str() == c.reason)
        .unwrap_or(ErrorKind::Unavailable);
    t.health.trip(now, rest, reason);
    if let Ok(mut k) = known.lock() {
        let until = now + rest.as_millis() as u64;
        let e = k.entry(c.target.clone()).or_insert(0);
        *e = (*e).max(until);
    }
}
