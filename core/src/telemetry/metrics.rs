//! The metrics registry and its Prometheus text exposition.
//!
//! Counters and histograms of requests, latency, time to first token, tokens, cost and
//! errors by route, provider, model, user, team, tag and error kind. Label cardinality is
//! bounded twice: each label keeps at most `max_label_values` distinct values (later ones
//! read `__other__`), and each metric keeps at most `max_series` series (later label sets
//! fold into one all-`__other__` series), so memory stays bounded whatever callers send.
//! Only the telemetry worker writes; `render` takes the same lock briefly.

use super::hub::Observer;
use super::record::RequestRecord;
use crate::config::MetricsConfig;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Mutex;

/// The value a label takes once its distinct values are used up.
pub const OTHER: &str = "__other__";

/// Upper bounds (seconds) of the latency and time-to-first-token histograms.
const BUCKETS: [f64; 15] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

const CALLER: [&str; 6] = ["route", "provider", "model", "user", "team", "tag"];

/// The metrics registry (an observer).
#[derive(Debug)]
pub struct Metrics {
    inner: Mutex<Registry>,
}

#[derive(Debug)]
struct Registry {
    max_label_values: usize,
    max_series: usize,
    seen: HashMap<&'static str, HashSet<String>>,
    requests: Family<u64>,
    errors: Family<u64>,
    tokens: Family<u64>,
    cost: Family<Decimal>,
    saved: Family<Decimal>,
    latency: Family<Histogram>,
    ttft: Family<Histogram>,
}

#[derive(Debug)]
struct Family<V> {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    series: HashMap<Box<[String]>, V>,
}

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl<V: Default> Family<V> {
    fn new(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Self {
        Family {
            name,
            help,
            labels,
            series: HashMap::new(),
        }
    }

    fn get(&mut self, key: Vec<String>, max_series: usize) -> &mut V {
        let key = key.into_boxed_slice();
        let key = if self.series.len() >= max_series && !self.series.contains_key(&key) {
            vec![OTHER.to_string(); key.len()].into_boxed_slice()
        } else {
            key
        };
        self.series.entry(key).or_default()
    }
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum += secs;
    }
}

const REQ_LABELS: &[&str] = &[
    "route", "provider", "model", "user", "team", "tag", "status", "cache",
];
const ERR_LABELS: &[&str] = &["route", "provider", "model", "user", "team", "tag", "kind"];
const TOK_LABELS: &[&str] = &["route", "provider", "model", "user", "team", "tag", "type"];
const COST_LABELS: &[&str] = &["route", "provider", "model", "user", "team", "tag"];
const LAT_LABELS: &[&str] = &["route", "provider", "model", "status"];
const TTFT_LABELS: &[&str] = &["route", "provider", "model"];

impl Metrics {
    /// An empty registry with the configured bounds.
    pub fn new(cfg: &MetricsConfig) -> Metrics {
        Metrics {
            inner: Mutex::new(Registry {
                max_label_values: cfg.max_label_values,
                max_series: cfg.max_series,
                seen: HashMap::new(),
                requests: Family::new(
                    "switchpoint_requests_total",
                    "Requests finished, by route, provider, model, caller, tag, status and cache outcome.",
                    REQ_LABELS,
                ),
                errors: Family::new(
                    "switchpoint_errors_total",
                    "Requests that failed, by error kind.",
                    ERR_LABELS,
                ),
                tokens: Family::new(
                    "switchpoint_tokens_total",
                    "Tokens billed by providers, by type (prompt, completion, cached, cache_write, reasoning).",
                    TOK_LABELS,
                ),
                cost: Family::new(
                    "switchpoint_cost_usd_total",
                    "What requests cost, USD, at the catalogue's prices.",
                    COST_LABELS,
                ),
                saved: Family::new(
                    "switchpoint_cache_saved_usd_total",
                    "What cache hits saved, USD.",
                    COST_LABELS,
                ),
                latency: Family::new(
                    "switchpoint_request_duration_seconds",
                    "Wall time of requests (to the end of the stream for streams).",
                    LAT_LABELS,
                ),
                ttft: Family::new(
                    "switchpoint_time_to_first_token_seconds",
                    "Time from the call to the first streamed chunk.",
                    TTFT_LABELS,
                ),
            }),
        }
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(r) = self.inner.lock() {
            render_counter(&mut out, &r.requests, |v| v.to_string());
            render_counter(&mut out, &r.errors, |v| v.to_string());
            render_counter(&mut out, &r.tokens, |v| v.to_string());
            render_counter(&mut out, &r.cost, |v| v.normalize().to_string());
            render_counter(&mut out, &r.saved, |v| v.normalize().to_string());
            render_histogram(&mut out, &r.latency);
            render_histogram(&mut out, &r.ttft);
        }
        out
    }
}

impl Registry {
    fn bound(&mut self, label: &'static str, value: &str) -> String {
        let max = self.max_label_values;
        let set = self.seen.entry(label).or_default();
        if set.contains(value) {
            return value.to_string();
        }
        if set.len() < max {
            set.insert(value.to_string());
            value.to_string()
        } else {
            OTHER.to_string()
        }
    }

    fn record(&mut self, r: &RequestRecord) {
        let raw: [&str; 6] = [
            &r.route,
            &r.provider,
            &r.model,
            r.caller.user.as_deref().unwrap_or(""),
            r.caller.team.as_deref().unwrap_or(""),
            r.tags.first().map_or("", String::as_str),
        ];
        let base: Vec<String> = CALLER
            .iter()
            .zip(raw)
            .map(|(l, v)| self.bound(l, v))
            .collect();
        let max = self.max_series;
        let with = |extra: &[&str]| -> Vec<String> {
            let mut k = base.clone();
            k.extend(extra.iter().map(|s| s.to_string()));
            k
        };
        let status = r.status.as_str();
        *self
            .requests
            .get(with(&[status, r.cache.status.as_str()]), max) += 1;
        if let super::record::Status::Error(kind) = r.status {
            *self.errors.get(with(&[kind.as_str()]), max) += 1;
        }
        let t = &r.tokens;
        for (kind, n) in [
            ("prompt", t.prompt),
            ("completion", t.completion),
            ("cached", t.cached),
            ("cache_write", t.cache_write),
            ("reasoning", t.reasoning),
        ] {
            if n > 0 {
                *self.tokens.get(with(&[kind]), max) += n;
            }
        }
        if let Some(c) = &r.cost {
            *self.cost.get(base.clone(), max) += c.total;
        }
        if let Some(s) = r.cache.saved_usd {
            *self.saved.get(base.clone(), max) += s;
        }
        let lat_key = vec![
            base[0].clone(),
            base[1].clone(),
            base[2].clone(),
            status.to_string(),
        ];
        self.latency
            .get(lat_key, max)
            .observe(r.latency_ms / 1000.0);
        if let Some(ttft) = r.ttft_ms {
            let key = base[..3].to_vec();
            self.ttft.get(key, max).observe(ttft / 1000.0);
        }
    }
}

impl Observer for Metrics {
    fn on_record(&self, record: &RequestRecord) {
        if let Ok(mut r) = self.inner.lock() {
            r.record(record);
        }
    }
}

/// A label value escaped for the text format (backslash, double quote, newline).
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn labels(names: &[&str], values: &[String], extra: Option<(&str, &str)>) -> String {
    let mut s = String::from("{");
    for (i, (n, v)) in names.iter().zip(values).enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{n}=\"{}\"", escape(v));
    }
    if let Some((n, v)) = extra {
        if !names.is_empty() {
            s.push(',');
        }
        let _ = write!(s, "{n}=\"{v}\"");
    }
    s.push('}');
    s
}

fn sorted<V>(f: &Family<V>) -> Vec<(&[String], &V)> {
    let mut v: Vec<(&[String], &V)> = f.series.iter().map(|(k, v)| (&k[..], v)).collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

fn render_counter<V>(out: &mut String, f: &Family<V>, fmt: impl Fn(&V) -> String) {
    let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
    let _ = writeln!(out, "# TYPE {} counter", f.name);
    for (k, v) in sorted(f) {
        let _ = writeln!(out, "{}{} {}", f.name, labels(f.labels, k, None), fmt(v));
    }
}

fn render_histogram(out: &mut String, f: &Family<Histogram>) {
    let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
    let _ = writeln!(out, "# TYPE {} histogram", f.name);
    for (k, h) in sorted(f) {
        let mut cumulative = 0;
        for (b, c) in BUCKETS.iter().zip(h.counts) {
            cumulative += c;
            let le = b.to_string();
            let _ = writeln!(
                out,
                "{}_bucket{} {cumulative}",
                f.name,
                labels(f.labels, k, Some(("le", &le)))
            );
        }
        let _ = writeln!(
            out,
            "{}_bucket{} {}",
            f.name,
            labels(f.labels, k, Some(("le", "+Inf"))),
            h.count
        );
        let _ = writeln!(out, "{}_sum{} {}", f.name, labels(f.labels, k, None), h.sum);
        let _ = writeln!(
            out,
            "{}_count{} {}",
            f.name,
            labels(f.labels, k, None),
            h.count
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorKind;
    use crate::telemetry::cost::{Cost, TokenSplit};
    use crate::telemetry::record::{CacheOutcome, CacheStatus, Caller, Status};
    use std::str::FromStr;

    fn rec(user: &str, status: Status) -> RequestRecord {
        RequestRecord {
            route: "gpt".into(),
            provider: "openai".into(),
            model: "gpt".into(),
            latency_ms: 120.0,
            ttft_ms: Some(30.0),
            tokens: TokenSplit {
                prompt: 10,
                completion: 5,
                cached: 2,
                ..TokenSplit::default()
            },
            cost: Some(Cost {
                total: Decimal::from_str("0.0015").expect("dec"),
                ..Cost::default()
            }),
            caller: Caller {
                user: Some(user.into()),
                team: Some("t\"1".into()),
                ..Caller::default()
            },
            tags: vec!["summarize".into()],
            status,
            cache: CacheOutcome {
                status: CacheStatus::Miss,
                saved_usd: None,
            },
            ..RequestRecord::default()
        }
    }

    #[test]
    fn counts_and_renders_exact_values() {
        let m = Metrics::new(&MetricsConfig::default());
        m.on_record(&rec("alice", Status::Ok));
        m.on_record(&rec("alice", Status::Ok));
        m.on_record(&rec("alice", Status::Error(ErrorKind::RateLimited)));
        let text = m.render();
        let base =
            r#"route="gpt",provider="openai",model="gpt",user="alice",team="t\"1",tag="summarize""#;
        assert!(
            text.contains(&format!(
                "switchpoint_requests_total{{{base},status=\"ok\",cache=\"miss\"}} 2\n"
            )),
            "{text}"
        );
        assert!(text.contains(&format!(
            "switchpoint_errors_total{{{base},kind=\"rate_limited\"}} 1\n"
        )));
        assert!(text.contains(&format!(
            "switchpoint_tokens_total{{{base},type=\"prompt\"}} 30\n"
        )));
        assert!(text.contains(&format!("switchpoint_cost_usd_total{{{base}}} 0.0045\n")));
        assert!(text.contains(
            "switchpoint_request_duration_seconds_bucket{route=\"gpt\",provider=\"openai\",model=\"gpt\",status=\"ok\",le=\"0.25\"} 2\n"
        ));
        assert!(text.contains(
            "switchpoint_request_duration_seconds_bucket{route=\"gpt\",provider=\"openai\",model=\"gpt\",status=\"ok\",le=\"0.1\"} 0\n"
        ));
        assert!(text.contains(
            "switchpoint_time_to_first_token_seconds_count{route=\"gpt\",provider=\"openai\",model=\"gpt\"} 3\n"
        ));
    }

    #[test]
    fn label_values_and_series_are_bounded() {
        let m = Metrics::new(&MetricsConfig {
            enabled: true,
            max_label_values: 3,
            max_series: 1000,
        });
        for i in 0..50 {
            m.on_record(&rec(&format!("user{i}"), Status::Ok));
        }
        let text = m.render();
        let users: HashSet<&str> = text
            .lines()
            .filter(|l| l.starts_with("switchpoint_requests_total{"))
            .filter_map(|l| l.split("user=\"").nth(1)?.split('"').next())
            .collect();
        assert_eq!(users, HashSet::from(["user0", "user1", "user2", OTHER]));
        assert!(text.contains("user=\"__other__\",team=\"t\\\"1\",tag=\"summarize\",status=\"ok\",cache=\"miss\"} 47\n"));

        let m = Metrics::new(&MetricsConfig {
            enabled: true,
            max_label_values: 1000,
            max_series: 5,
        });
        for i in 0..50 {
            m.on_record(&rec(&format!("user{i}"), Status::Ok));
        }
        let series = m
            .render()
            .lines()
            .filter(|l| l.starts_with("switchpoint_requests_total{"))
            .count();
        assert_eq!(series, 6, "5 series plus the overflow series");
    }
}
