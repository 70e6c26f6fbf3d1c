//! Reliability under faults (not a timing benchmark): 10,000 chat requests at concurrency 64
//! through a route whose primary fails 30% of the time with mixed faults (500, 503, 529,
//! 429 with Retry-After, connection reset, timeout, malformed body) and whose backup is
//! healthy. Every request must be answered exactly once, all successfully; the attempts
//! histogram is printed.
//!
//! Run: `cargo bench -p switchpoint-core --bench reliability`.

use mock_provider::{Fault, MockServer};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchpoint_core::api::{AttemptOutcome, ChatRequest, Message};
use switchpoint_core::routing::Rng;
use switchpoint_core::{Gateway, RequestContext};

const REQUESTS: usize = 10_000;
const CONCURRENCY: usize = 64;
const FAILURE_RATE: f64 = 0.30;

/// One of the mixed faults, or none (70%).
fn scripted(rng: &mut Rng) -> Fault {
    let base = Fault {
        match_model: Some("primary".into()),
        ..Fault::default()
    };
    if rng.next_f64() >= FAILURE_RATE {
        return base;
    }
    match rng.below(7) {
        0 => Fault {
            status: Some(500),
            ..base
        },
        1 => Fault {
            status: Some(503),
            ..base
        },
        2 => Fault {
            status: Some(529),
            ..base
        },
        3 => Fault {
            status: Some(429),
            retry_after: Some(1.0),
            ..base
        },
        4 => Fault {
            reset: true,
            ..base
        },
        5 => Fault {
            delay_ms: Some(1_000),
            ..base
        },
        _ => Fault {
            malformed: true,
            ..base
        },
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let mock = MockServer::start().await.expect("mock");
    let mut rng = Rng::seeded(2024);
    // Each request that reaches the primary takes the next entry: a fault 30% of the time.
    mock.push_script((0..2 * REQUESTS).map(|_| scripted(&mut rng)).collect());
    let gw = Gateway::from_value(json!({
        "providers": {
            "oai": {"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_key": "sk"},
            "claude": {"kind": "anthropic", "base_url": mock.url(), "api_key": "sk-ant"}
        },
        "routes": {"chat": {
            "targets": [
                {"provider": "oai", "model": "primary"},
                {"provider": "claude", "model": "backup"}
            ],
            "timeouts": {"attempt": 0.25},
            "cooldown": {"failures": 5, "window": "2s", "duration": "200ms", "max_duration": "1s"}
        }}
    }))
    .expect("config");

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let gw = gw.clone();
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= REQUESTS {
                        return out;
                    }
                    let req = ChatRequest {
                        model: "chat".into(),
                        messages: vec![Message::user(format!("request {i}"))],
                        max_tokens: Some(16),
                        ..Default::default()
                    };
                    let t = Instant::now();
                    let r = gw.chat(&req, &RequestContext::new()).await;
                    out.push((i, r, t.elapsed()));
                }
            })
        })
        .collect();
    let mut answered = vec![0u32; REQUESTS];
    let mut histogram: BTreeMap<usize, usize> = BTreeMap::new();
    let mut served_by: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors_seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut latencies = Vec::with_capacity(REQUESTS);
    let mut upstream_attempts = 0usize;
    for w in workers {
        for (i, r, took) in w.await.expect("worker") {
            answered[i] += 1;
            latencies.push(took);
            match r {
                Ok(resp) => {
                    if resp.text() != Some(format!("request {i}").as_str()) {
                        failures.push(format!("request {i}: wrong answer {:?}", resp.text()));
                    }
                    let f = resp.switchpoint.expect("facts");
                    upstream_attempts += f.attempts.len();
                    *histogram.entry(f.attempts.len()).or_default() += 1;
                    *served_by.entry(f.provider_model.clone()).or_default() += 1;
                    for a in &f.attempts {
                        if let AttemptOutcome::Error(k) = a.outcome {
                            *errors_seen.entry(k.to_string()).or_default() += 1;
                        }
                    }
                }
                Err(e) => failures.push(format!("request {i}: {e}")),
            }
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let once = answered.iter().filter(|&&n| n == 1).count();
    let ok = REQUESTS - failures.len();
    println!("reliability: {REQUESTS} requests, concurrency {CONCURRENCY}, primary failing {:.0}% with mixed faults", FAILURE_RATE * 100.0);
    println!("  answered exactly once: {once}/{REQUESTS}");
    println!(
        "  succeeded:             {ok}/{REQUESTS} ({:.2}%)",
        ok as f64 * 100.0 / REQUESTS as f64
    );
    println!(
        "  wall time:             {:.2}s ({:.0} req/s)",
        elapsed.as_secs_f64(),
        REQUESTS as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  latency p50 / p99 / max: {:.1} / {:.1} / {:.1} ms",
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(pct(1.0))
    );
    println!("  attempts per request (histogram):");
    for (n, count) in &histogram {
        println!("    {n} attempt{}: {count}", if *n == 1 { "" } else { "s" });
    }
    println!("  served by: {served_by:?}");
    println!("  failed attempts by kind: {errors_seen:?}");
    println!(
        "  upstream requests logged by the mock: {} (attempts recorded: {upstream_attempts})",
        mock.log().len()
    );
    let h = gw.health();
    for t in &h {
        println!(
            "  health {}/{}: {:?}, error rate {:.2}, ewma {:.1} ms, requests {}, failures {}",
            t.provider,
            t.model,
            t.state,
            t.error_rate,
            t.ewma_latency_ms.unwrap_or(0.0),
            t.requests,
            t.failures
        );
    }
    for f in failures.iter().take(10) {
        println!("  FAILED {f}");
    }
    assert_eq!(once, REQUESTS, "every request answered exactly once");
    assert!(failures.is_empty(), "{} requests failed", failures.len());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
