//! What observers add to a request: building its record and queuing it for the worker,
//! with every observer on (metrics, usage store, JSON-lines log, a host callback). Target:
//! under 1 µs per request at p50. The observers themselves run on the worker thread.
//!
//! Run: `cargo bench -p switchpoint-core --bench cache_observers`

#[path = "support/timing.rs"]
mod timing;

use rust_decimal::Decimal;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchpoint_core::api::{from_json_value, AttemptFact, AttemptOutcome, FinishReason, Usage};
use switchpoint_core::config::TelemetryConfig;
use switchpoint_core::telemetry::record::unix_ms;
use switchpoint_core::telemetry::{
    CacheOutcome, CacheStatus, Caller, FnObserver, RequestRecord, Status, Telemetry, TokenSplit,
};

fn main() {
    let dir = std::env::temp_dir().join(format!("switchpoint-bench-obs-{}", std::process::id()));
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
    let user = Some("user-42".to_string());
    let team = Some("research".to_string());
    let tags = vec!["summarize".to_string()];

    // The settle stage's work per request: cost, the record, the queue.
    let summary = timing::per_op_ns(500, 100, || {
        let cost = tel.cost(&["oai", "openai"], "gpt-4o-mini", &usage);
        let now = unix_ms(SystemTime::now());
        let rec = RequestRecord {
            id: "chatcmpl-1".to_string(),
            call: "chat",
            started_at_ms: now,
            ended_at_ms: now,
            latency_ms: 120.0,
            ttft_ms: None,
            model: "gpt".to_string(),
            route: "gpt".to_string(),
            provider: "oai".to_string(),
            provider_model: "gpt-4o-mini".to_string(),
            provider_kind: "openai".to_string(),
            response_id: Some("chatcmpl-1".to_string()),
            response_model: None,
            finish_reasons: vec![FinishReason::Stop],
            attempts: vec![AttemptFact::new(
                "oai",
                "gpt-4o-mini",
                AttemptOutcome::Ok,
                119.0,
            )],
            tokens: TokenSplit::from_usage(&usage),
            cost,
            cache: CacheOutcome {
                status: CacheStatus::Miss,
                saved_usd: None,
            },
            caller: Caller {
                key_id: None,
                user: user.clone(),
                team: team.clone(),
                tier: None,
            },
            tags: tags.clone(),
            status: Status::Ok,
            content: None,
        };
        tel.emit(rec);
    });
    summary.report("observers: cost + record + queue", Duration::from_micros(1));
    let flushed = tel.flush(Duration::from_secs(60));
    println!(
        "worker kept up: flushed={flushed}, dropped {} of {} records",
        tel.dropped(),
        500 * 100 + 1000
    );
    let total: Decimal = tel
        .usage(
            SystemTime::now() - Duration::from_secs(3600),
            switchpoint_core::telemetry::GroupBy::Total,
        )
        .first()
        .map_or(Decimal::ZERO, |r| r.cost_usd);
    println!("usage total cost recorded: {total}");
    let _ = std::fs::remove_dir_all(dir);
}
