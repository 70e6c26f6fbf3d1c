//! Request records, cost, metrics, usage queries and exporters.
//!
//! The gateway builds one [`RequestRecord`] per request and hands it to [`Telemetry::emit`],
//! which queues it for a worker thread (see [`hub`]); every observer (the metrics registry,
//! the usage store, the JSON-lines log, the OTLP exporter, host callbacks) receives it there,
//! never on the request's path.

pub mod cost;
pub mod hub;
pub mod jsonl;
pub mod metrics;
#[cfg(feature = "otlp")]
pub mod otel;
pub mod pending;
pub mod pricing;
pub mod record;
pub mod redact;
pub mod usage;

pub use cost::{cost, Cost, TokenSplit};
pub use hub::{FnObserver, Hub, Observer, ObserverId};
pub use pricing::{price_tables, Capabilities, Catalogue, ModelInfo, Price, PriceEntry};
pub use record::{CacheOutcome, CacheStatus, Caller, RecordedContent, RequestRecord, Status};
pub use redact::Redactor;
pub use usage::{GroupBy, UsageRow};

use crate::api::{Error, Usage};
use crate::config::{PricingOverrides, TelemetryConfig};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How long a usage query or a scrape waits for records still in the observer queue.
const SYNC_WAIT: Duration = Duration::from_secs(1);

/// Everything observability needs at run time, built once from config.
#[derive(Debug)]
pub struct Telemetry {
    hub: Hub,
    metrics: Option<Arc<metrics::Metrics>>,
    usage: Option<Arc<usage::UsageStore>>,
    catalogue: Arc<Catalogue>,
    redactor: Option<Redactor>,
}

impl Telemetry {
    /// Starts the worker and the configured observers, pricing with the shipped catalogue and
    /// `pricing` overrides.
    pub fn new(cfg: &TelemetryConfig, pricing: &PricingOverrides) -> Result<Telemetry, Error> {
        Telemetry::with_catalogue(cfg, Catalogue::with_pricing(pricing))
    }

    /// Starts the worker and the configured observers with a catalogue already built (the
    /// resolved config's, shared with routing).
    pub fn with_catalogue(
        cfg: &TelemetryConfig,
        catalogue: Arc<Catalogue>,
    ) -> Result<Telemetry, Error> {
        let hub = Hub::new(cfg.queue_size)?;
        let metrics = cfg
            .metrics
            .enabled
            .then(|| Arc::new(metrics::Metrics::new(&cfg.metrics)));
        if let Some(m) = &metrics {
            hub.add(m.clone());
        }
        let usage = cfg
            .usage
            .enabled
            .then(|| Arc::new(usage::UsageStore::new(&cfg.usage)));
        if let Some(u) = &usage {
            hub.add(u.clone());
        }
        if let Some(log) = &cfg.log {
            hub.add(Arc::new(jsonl::JsonlLog::open(log)?));
        }
        if let Some(o) = &cfg.otlp {
            hub.add(otlp_observer(o)?);
        }
        Ok(Telemetry {
            hub,
            metrics,
            usage,
            catalogue,
            redactor: cfg.record_content.then(|| Redactor::new(&cfg.redact)),
        })
    }

    /// Queues a finished request's record for every observer (never blocks).
    #[inline]
    pub fn emit(&self, record: RequestRecord) {
        self.hub.emit(record);
    }

    /// Queues a request's record, built on the worker from what the request handed over.
    #[inline]
    pub fn emit_pending(&self, pending: pending::PendingRecord) {
        self.hub.emit_pending(Box::new(pending));
    }

    /// Queues a cache hit's record, built on the worker from the shared answer.
    #[inline]
    pub fn emit_hit(&self, hit: pending::PendingHit) {
        self.hub.emit_hit(hit);
    }

    /// Adds an observer (a host callback); it receives records emitted from now on.
    pub fn add_observer(&self, observer: Arc<dyn Observer>) -> ObserverId {
        self.hub.add(observer)
    }

    /// Removes an observer; false if it was not registered.
    pub fn remove_observer(&self, id: ObserverId) -> bool {
        self.hub.remove(id)
    }

    /// Waits until records emitted so far reached every observer (blocking); false on timeout.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.hub.flush(timeout)
    }

    /// Records dropped because observers fell behind.
    pub fn dropped(&self) -> u64 {
        self.hub.stats().dropped.load(Ordering::Relaxed)
    }

    /// Prometheus text exposition: the registry's metrics plus the hub's own counters. Waits
    /// (up to a second) for records still queued, so requests that returned are counted.
    pub fn metrics_text(&self) -> String {
        self.hub.sync(SYNC_WAIT);
        let mut out = self
            .metrics
            .as_ref()
            .map(|m| m.render())
            .unwrap_or_default();
        let s = self.hub.stats();
        for (name, help, v) in [
            (
                "switchpoint_telemetry_dropped_total",
                "Request records dropped because observers fell behind.",
                &s.dropped,
            ),
            (
                "switchpoint_telemetry_observer_panics_total",
                "Observer calls that panicked.",
                &s.observer_panics,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
        }
        out
    }

    /// Usage since a time, grouped; empty when the usage store is turned off. Waits (up to a
    /// second) for records still queued, so requests that returned are counted.
    pub fn usage(&self, since: SystemTime, group_by: GroupBy) -> Vec<UsageRow> {
        self.hub.sync(SYNC_WAIT);
        self.usage
            .as_ref()
            .map(|u| u.query(since, group_by))
            .unwrap_or_default()
    }

    /// The catalogue row for a model at one of `providers` (configured name, then kind).
    pub fn model_info(&self, providers: &[&str], model: &str) -> Option<&ModelInfo> {
        self.catalogue.lookup(providers, model)
    }

    /// What `usage` cost at this model's price; `None` when the model has no price.
    pub fn cost(&self, providers: &[&str], model: &str, usage: &Usage) -> Option<Cost> {
        self.model_info(providers, model)
            .map(|m| cost::cost(&m.price, usage))
    }

    /// The redactor when prompt/answer recording is on.
    pub fn content_recording(&self) -> Option<&Redactor> {
        self.redactor.as_ref()
    }
}

#[cfg(feature = "otlp")]
fn otlp_observer(cfg: &crate::config::OtlpConfig) -> Result<Arc<dyn Observer>, Error> {
    Ok(Arc::new(otel::OtlpObserver::new(cfg)?))
}

#[cfg(not(feature = "otlp"))]
fn otlp_observer(_: &crate::config::OtlpConfig) -> Result<Arc<dyn Observer>, Error> {
    Err(Error::new(
        crate::api::ErrorKind::Config,
        "telemetry.otlp needs switchpoint built with the `otlp` feature",
    )
    .with_param("telemetry.otlp"))
}
