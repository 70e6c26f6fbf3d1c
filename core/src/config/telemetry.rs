//! The `telemetry:` section: which observers run, how big their queue is, and whether prompt
//! and answer text may be recorded.
//!
//! ```yaml
//! telemetry:
//!   queue_size: 10000          # records waiting for observers; beyond it they are dropped and counted
//!   metrics: { enabled: true, max_label_values: 100, max_series: 10000 }
//!   usage: { enabled: true, bucket: 1m, retention: 24h, max_groups: 100000 }
//!   log: { path: /var/log/switchpoint/usage.jsonl, max_bytes: 100MiB, keep: 5 }
//!   otlp: { endpoint: "http://127.0.0.1:4318/v1/traces", service_name: my-app }
//!   record_content: false      # prompt/answer text in records (redacted) only when true
//!   redact: { builtin: true, patterns: ["ACME-INTERNAL"] }
//! ```

use super::cache::byte_size;
use super::schema::duration;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::time::Duration;

/// Observer settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Records queued for the observers' worker; when full, new records are dropped (counted).
    #[serde(default = "default_queue")]
    pub queue_size: usize,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub usage: UsageConfig,
    /// A JSON-lines usage log file with rotation.
    #[serde(default)]
    pub log: Option<LogConfig>,
    /// OTLP/HTTP span export (needs the `otlp` cargo feature, on by default).
    #[serde(default)]
    pub otlp: Option<OtlpConfig>,
    /// Keep prompt and answer text in records (after redaction). Off by default.
    #[serde(default)]
    pub record_content: bool,
    #[serde(default)]
    pub redact: RedactConfig,
}

/// The metrics registry behind `metrics_text()`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Distinct values kept per label (user, team, tag, model, ...); more become `__other__`.
    #[serde(default = "default_label_values")]
    pub max_label_values: usize,
    /// Series kept per metric; more fold into one `__other__` series.
    #[serde(default = "default_series")]
    pub max_series: usize,
}

/// The in-memory usage store behind `usage(since, group_by)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Time resolution of `since`.
    #[serde(default = "default_bucket", deserialize_with = "required_duration")]
    pub bucket: Duration,
    /// How far back queries can look.
    #[serde(default = "default_retention", deserialize_with = "required_duration")]
    pub retention: Duration,
    /// Group totals kept across all buckets; beyond it the oldest buckets are dropped.
    #[serde(default = "default_groups")]
    pub max_groups: usize,
}

/// The JSON-lines usage log.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub path: String,
    /// Rotate when the file would grow past this size.
    #[serde(default = "default_log_bytes", deserialize_with = "byte_size")]
    pub max_bytes: u64,
    /// Rotated files kept (`path.1` newest ... `path.N` oldest).
    #[serde(default = "default_keep")]
    pub keep: u32,
}

/// OTLP/HTTP export of request spans.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// The collector's traces URL, e.g. `http://127.0.0.1:4318/v1/traces`.
    pub endpoint: String,
    /// Extra headers (an auth token for a hosted collector).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default = "default_service")]
    pub service_name: String,
    #[serde(
        default = "default_otlp_timeout",
        deserialize_with = "required_duration"
    )]
    pub timeout: Duration,
}

/// What is masked in recorded prompt and answer text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactConfig {
    /// Mask e-mail addresses, API keys and tokens, card numbers.
    #[serde(default = "yes")]
    pub builtin: bool,
    /// Literal strings to mask as well.
    #[serde(default)]
    pub patterns: Vec<String>,
    #[serde(default = "default_replacement")]
    pub replacement: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            queue_size: default_queue(),
            metrics: MetricsConfig::default(),
            usage: UsageConfig::default(),
            log: None,
            otlp: None,
            record_content: false,
            redact: RedactConfig::default(),
        }
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            max_label_values: default_label_values(),
            max_series: default_series(),
        }
    }
}

impl Default for UsageConfig {
    fn default() -> Self {
        UsageConfig {
            enabled: true,
            bucket: default_bucket(),
            retention: default_retention(),
            max_groups: default_groups(),
        }
    }
}

impl Default for RedactConfig {
    fn default() -> Self {
        RedactConfig {
            builtin: true,
            patterns: Vec::new(),
            replacement: default_replacement(),
        }
    }
}

impl TelemetryConfig {
    /// Checks values serde cannot: returns (field, message) for the first problem.
    pub fn check(&self) -> Result<(), (String, String)> {
        let positive = |v: usize, f: &str| {
            if v == 0 {
                Err((format!("telemetry.{f}"), "must be more than 0".to_string()))
            } else {
                Ok(())
            }
        };
        positive(self.queue_size, "queue_size")?;
        positive(self.metrics.max_label_values, "metrics.max_label_values")?;
        positive(self.metrics.max_series, "metrics.max_series")?;
        positive(self.usage.max_groups, "usage.max_groups")?;
        if self.usage.bucket > self.usage.retention {
            return Err((
                "telemetry.usage.bucket".into(),
                "must not be longer than usage.retention".into(),
            ));
        }
        if let Some(log) = &self.log {
            if log.path.trim().is_empty() {
                return Err(("telemetry.log.path".into(), "must not be empty".into()));
            }
        }
        if let Some(o) = &self.otlp {
            if !(o.endpoint.starts_with("http://") || o.endpoint.starts_with("https://")) {
                return Err((
                    "telemetry.otlp.endpoint".into(),
                    format!(
                        "`{}` is not an http(s) URL (OTLP/HTTP, e.g. http://127.0.0.1:4318/v1/traces)",
                        o.endpoint
                    ),
                ));
            }
        }
        if self.redact.patterns.iter().any(String::is_empty) {
            return Err((
                "telemetry.redact.patterns".into(),
                "patterns must not be empty".into(),
            ));
        }
        Ok(())
    }
}

fn yes() -> bool {
    true
}
fn default_queue() -> usize {
    10_000
}
fn default_label_values() -> usize {
    100
}
fn default_series() -> usize {
    10_000
}
fn default_bucket() -> Duration {
    Duration::from_secs(60)
}
fn default_retention() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_groups() -> usize {
    100_000
}
fn default_log_bytes() -> u64 {
    100 * 1024 * 1024
}
fn default_keep() -> u32 {
    5
}
fn default_service() -> String {
    "switchpoint".to_string()
}
fn default_otlp_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_replacement() -> String {
    "[REDACTED]".to_string()
}

fn required_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    duration(d)?.ok_or_else(|| serde::de::Error::custom("a duration is required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let t: TelemetryConfig = serde_json::from_value(serde_json::json!({})).expect("parses");
        assert_eq!(t.queue_size, 10_000);
        assert!(t.metrics.enabled && t.usage.enabled && !t.record_content);
        assert!(t.check().is_ok());
        let t: TelemetryConfig = serde_json::from_value(serde_json::json!({
            "otlp": {"endpoint": "127.0.0.1:4318"}
        }))
        .expect("parses");
        assert_eq!(t.check().expect_err("bad url").0, "telemetry.otlp.endpoint");
        let t: TelemetryConfig = serde_json::from_value(serde_json::json!({
            "log": {"path": "/tmp/x.jsonl", "max_bytes": "1KiB", "keep": 2},
            "usage": {"bucket": "5m", "retention": "1h"}
        }))
        .expect("parses");
        assert_eq!(t.log.as_ref().map(|l| l.max_bytes), Some(1024));
        assert_eq!(t.usage.bucket, Duration::from_secs(300));
        assert!(
            serde_json::from_value::<TelemetryConfig>(serde_json::json!({"metric": {}})).is_err()
        );
    }
}
