//! What observers cost a request (target: under 1 µs added per request at p50), in two parts:
//!
//! 1. The request thread's share for a request that reached a provider: its record handed
//!    to the queue exactly as the settle stage does it (names packed, the record built later
//!    on the worker), with every observer on (metrics, usage store, JSON-lines log, a host
//!    callback). The observers themselves run on the worker thread. Pricing the request is
//!    shown beside it: it runs with or without observers (facts and budgets need it).
//! 2. The whole effect on the cheapest request, where it would show most: a cache hit through
//!    `Gateway::chat` with every observer on (the four above plus OTLP span export) against
//!    the same hit with every observer off, measured in alternating rounds in one process.
//!
//! Run: `cargo bench -p switchpoint-core --bench cache_observers`

#[path = "support/hit.rs"]
mod hit;
#[path = "support/timing.rs"]
mod timing;

use rust_decimal::Decimal;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use switchpoint_core::api::{from_json_value, AttemptFact, AttemptOutcome, Usage};
use switchpoint_core::config::TelemetryConfig;
use switchpoint_core::telemetry::pending::{Packed, PendingRecord};
use switchpoint_core::telemetry::{
    CacheOutcome, CacheStatus, FnObserver, RequestRecord, Status, Telemetry, TokenSplit,
};

fn main() {
    let dir = std::env::temp_dir().join(format!("switchpoint-bench-obs-{}", std::process::id()));
    settle_share(&dir);
    hit_with_and_without(&dir);
    let _ = std::fs::remove_dir_all(dir);
}

fn settle_share(dir: &std::path::Path) {
    let cfg: TelemetryConfig = serde_json::from_value(serde_json::json!({
        "queue_size": 100000,
        "log": {"path": dir.join("usage.jsonl").display().to_string(), "max_bytes": "64MiB", "keep": 1}
    }))
    .expect("config");
    let tel = Telemetry::new(&cfg, &Default::default()).expect("telemetry");
    tel.add_observer(Arc::new(FnObserver(|r: &RequestRecord| {
        black_box(r.tokens.prompt);
    })));
    let usage: Usage = from_json_value(serde_json::json!({
        "prompt_tokens": 31, "completion_tokens": 12, "total_tokens": 43,
        "prompt_tokens_details": {"cached_tokens": 8}
    }))
    .expect("usage");
    // What the request already holds when it settles: its facts' names and attempts.
    let attempts = vec![AttemptFact::new(
        "oai",
        "gpt-4o-mini",
        AttemptOutcome::Ok,
        119.0,
    )];
    let started = SystemTime::now();
    // Pricing runs with or without observers (the answer's facts carry the cost, budgets
    // settle with it), so it is measured on its own.
    timing::per_op_ns(500, 100, || {
        black_box(tel.cost(&["oai", "openai"], black_box("gpt-4o-mini"), &usage));
    })
    .report(
        "pricing a request (facts and budgets; not an observer cost)",
        Duration::from_micros(1),
    );
    let priced = tel.cost(&["oai", "openai"], "gpt-4o-mini", &usage);
    // Between batches the worker catches up (untimed), as it does between real requests
    // (each waits hundreds of microseconds on its provider): a loop that only queues records
    // would measure a backlog of records waiting in memory instead.
    let summary = timing::per_op_ns_settled(
        500,
        100,
        || tel.flush(Duration::from_secs(10)),
        || {
            let cost = black_box(priced.clone());
            let pending = PendingRecord {
                call: "chat",
                started,
                latency_ms: 120.0,
                ttft_ms: None,
                names: Packed::new([
                    Some("gpt"),
                    Some("gpt"),
                    Some("oai"),
                    Some("gpt-4o-mini"),
                    Some("openai"),
                    Some("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"),
                    Some("gpt-4o-mini-2024-07-18"),
                    None,
                    Some("user-42"),
                    Some("research"),
                    None,
                ]),
                finish_reasons: [switchpoint_core::api::FinishReason::Stop]
                    .into_iter()
                    .collect(),
                attempts: attempts.clone(),
                tokens: TokenSplit::from_usage(&usage),
                cost,
                cache: CacheOutcome {
                    status: CacheStatus::Miss,
                    saved_usd: None,
                },
                tags: Vec::new(),
                status: Status::Ok,
                content: None,
            };
            tel.emit_pending(pending);
        },
    );
    summary.report(
        "observers, request thread's share: the record handed to the queue",
        Duration::from_micros(1),
    );
    // Baseline, same loop: the whole record built on the request thread and queued (what the
    // settle stage did before records were built on the worker).
    timing::per_op_ns_settled(
        500,
        100,
        || tel.flush(Duration::from_secs(10)),
        || {
            tel.emit(RequestRecord {
                id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT".to_string(),
                call: "chat",
                started_at_ms: 1,
                ended_at_ms: 121,
                latency_ms: 120.0,
                ttft_ms: None,
                model: "gpt".to_string(),
                route: "gpt".to_string(),
                provider: "oai".to_string(),
                provider_model: "gpt-4o-mini".to_string(),
                provider_kind: "openai".to_string(),
                response_id: Some("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT".to_string()),
                response_model: Some("gpt-4o-mini-2024-07-18".to_string()),
                finish_reasons: vec![switchpoint_core::api::FinishReason::Stop],
                attempts: attempts.clone(),
                tokens: TokenSplit::from_usage(&usage),
                cost: black_box(priced.clone()),
                cache: CacheOutcome {
                    status: CacheStatus::Miss,
                    saved_usd: None,
                },
                caller: switchpoint_core::telemetry::Caller {
                    key_id: None,
                    user: Some("user-42".to_string()),
                    team: Some("research".to_string()),
                    tier: None,
                },
                tags: Vec::new(),
                status: Status::Ok,
                content: None,
            });
        },
    )
    .report(
        "baseline: the whole record built on the request thread",
        Duration::from_micros(1),
    );
    let flushed = tel.flush(Duration::from_secs(60));
    println!(
        "worker kept up: flushed={flushed}, dropped {} of {} records",
        tel.dropped(),
        2 * (500 + 10) * 100
    );
    let total: Decimal = tel
        .usage(
            SystemTime::now() - Duration::from_secs(3600),
            switchpoint_core::telemetry::GroupBy::Total,
        )
        .first()
        .map_or(Decimal::ZERO, |r| r.cost_usd);
    println!("usage total cost recorded: {total}");
}

/// Cache hits with every observer on and with every observer off, alternating rounds.
fn hit_with_and_without(dir: &std::path::Path) {
    hit::runtime().block_on(async {
        let mock = mock_provider::MockServer::start().await.expect("mock");
        let gateway = |telemetry| hit::cached_gateway(&mock.url(), telemetry);
        let on = gateway(serde_json::json!({
            "queue_size": 100000,
            "log": {"path": dir.join("hits.jsonl").display().to_string(), "max_bytes": "64MiB", "keep": 1},
            // Spans go to the mock, which answers 404: the exporter still builds and sends them.
            "otlp": {"endpoint": format!("{}/v1/traces", mock.url())}
        }));
        on.telemetry().add_observer(Arc::new(FnObserver(|r: &RequestRecord| {
            black_box(r.latency_ms);
        })));
        let off = gateway(serde_json::json!({
            "metrics": {"enabled": false},
            "usage": {"enabled": false}
        }));
        let (req, ctx) = (hit::shop_request(), hit::caller());
        for gw in [&on, &off] {
            gw.chat(&req, &ctx).await.expect("first call");
        }
        let (rounds, batches, per) = (20, 100, 100);
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for round in 0..rounds + 1 {
            for (gw, out) in [(&on, &mut with), (&off, &mut without)] {
                for _ in 0..batches {
                    let t = Instant::now();
                    for _ in 0..per {
                        black_box(gw.chat(black_box(&req), &ctx).await.expect("hit"));
                    }
                    // The first round warms up.
                    if round > 0 {
                        out.push(t.elapsed().as_nanos() as f64 / per as f64);
                    }
                }
            }
        }
        let (a, b) = (
            timing::Summary::of(with).p50,
            timing::Summary::of(without).p50,
        );
        println!(
            "cache hit through Gateway::chat: p50 {a:.0} ns with every observer on, {b:.0} ns with every observer off: {:+.0} ns added (target < 1000 ns: {})",
            a - b,
            if a - b < 1000.0 { "met" } else { "MISSED" }
        );
        println!(
            "records dropped: {} (observers on), {} (off)",
            on.telemetry().dropped(),
            off.telemetry().dropped()
        );
    });
}
