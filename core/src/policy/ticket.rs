//! Settling an admitted request: budgets move from the reservation to the real cost, token
//! windows from the estimate to the real count, in-flight slots are released. A ticket
//! dropped without settling (an abandoned stream) releases its slots and keeps the
//! reservation, since the provider may bill for what it already generated.

use super::audit::AuditRecord;
use super::{nano_round, usd, Shared};
use crate::state::{Adjust, NanoUsd, StateBackend};
use rust_decimal::Decimal;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Duration;

/// A budget reservation to settle.
#[derive(Debug)]
pub(crate) struct Reserved {
    pub key: String,
    pub reserved: NanoUsd,
    pub expires_at_ms: Option<u64>,
    pub soft: Option<NanoUsd>,
    /// `team `research`` (for the soft-limit alert).
    pub label: String,
}

/// Tokens counted at admission (an estimate) in a tokens-per-minute window.
#[derive(Debug)]
pub(crate) struct TokensCounted {
    pub key: String,
    pub second: u64,
    pub estimate: u64,
    pub window: Duration,
}

/// The counters an admitted request moved, settled once when it ends.
#[derive(Debug)]
pub struct Ticket {
    backend: Arc<dyn StateBackend>,
    shared: Arc<Shared>,
    pub(crate) in_flight: Vec<String>,
    pub(crate) budgets: Vec<Reserved>,
    pub(crate) tokens: Vec<TokensCounted>,
    done: bool,
}

impl Ticket {
    pub(crate) fn new(backend: Arc<dyn StateBackend>, shared: Arc<Shared>) -> Ticket {
        Ticket {
            backend,
            shared,
            in_flight: Vec::new(),
            budgets: Vec::new(),
            tokens: Vec::new(),
            done: false,
        }
    }

    /// Settles with what the request really cost (USD; zero when it failed or had no
    /// price) and the tokens it really used.
    pub fn settle(mut self, cost: Decimal, tokens: u64) {
        self.finish(Some((cost, tokens)));
    }

    fn finish(&mut self, real: Option<(Decimal, u64)>) {
        if self.done {
            return;
        }
        self.done = true;
        let mut adjust: Vec<Adjust> = self
            .in_flight
            .drain(..)
            .map(|key| Adjust::Release { key })
            .collect();
        let mut alerts = Vec::new();
        if let Some((cost, tokens)) = real {
            let cost = nano_round(cost);
            for b in self.budgets.drain(..) {
                if cost != b.reserved {
                    adjust.push(Adjust::Budget {
                        key: b.key.clone(),
                        delta: cost - b.reserved,
                        expires_at_ms: b.expires_at_ms,
                    });
                }
                if b.soft.is_some() {
                    alerts.push(b);
                }
            }
            for t in self.tokens.drain(..) {
                let delta = tokens as i64 - t.estimate as i64;
                if delta != 0 {
                    adjust.push(Adjust::Window {
                        key: t.key,
                        second: t.second,
                        delta,
                        window: t.window,
                    });
                }
            }
        } else {
            alerts.extend(self.budgets.drain(..).filter(|b| b.soft.is_some()));
        }
        if adjust.is_empty() && alerts.is_empty() {
            return;
        }
        let backend = self.backend.clone();
        let shared = self.shared.clone();
        run_detached(Box::pin(async move {
            if !adjust.is_empty() {
                if let Err(e) = backend.settle(&adjust).await {
                    shared
                        .stats
                        .state_unavailable
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, "settling a request's counters failed");
                }
            }
            for b in alerts {
                soft_alert(&*backend, &shared, &b).await;
            }
        }));
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.finish(None);
    }
}

/// Alerts once per counter and period when spending passed a budget's soft limit.
async fn soft_alert(backend: &dyn StateBackend, shared: &Shared, b: &Reserved) {
    let Some(soft) = b.soft else { return };
    let Ok(spent) = backend.counter(&b.key, None).await else {
        return;
    };
    if spent < soft {
        return;
    }
    let first = shared
        .alerted
        .lock()
        .map(|mut set| set.insert(b.key.clone()))
        .unwrap_or(false);
    if !first {
        return;
    }
    shared
        .stats
        .soft_limit_alerts
        .fetch_add(1, Ordering::Relaxed);
    tracing::warn!(
        budget = %b.label,
        spent_usd = %usd(spent).round_dp(6),
        soft_limit_usd = %usd(soft),
        "budget passed its soft limit"
    );
    let record = AuditRecord::now(
        "gateway",
        "budget_soft_limit",
        Some(&b.key),
        serde_json::json!({
            "budget": b.label,
            "spent_usd": usd(spent).round_dp(6).to_string(),
            "soft_limit_usd": usd(soft).to_string(),
        }),
    );
    if let Ok(text) = serde_json::to_string(&record) {
        let _ = backend.audit_append(record.at_ms, &text).await;
    }
}

/// Runs a future to completion: at once when it is ready on the first poll (the memory
/// backend), else on the runtime, so settling never waits on the request's path.
pub(crate) fn run_detached(mut fut: Pin<Box<dyn Future<Output = ()> + Send + 'static>>) {
    let mut cx = Context::from_waker(Waker::noop());
    if fut.as_mut().poll(&mut cx).is_ready() {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(h) => {
            h.spawn(fut);
        }
        Err(_) => {
            crate::runtime::runtime().spawn(fut);
        }
    }
}
