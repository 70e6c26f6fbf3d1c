//! The routing decision alone (rules, capability and health filters, strategy pick) with 10,
//! 1,000 and 10,000 targets in a route, per strategy. Targets: < 1 µs at 10 targets,
//! < 20 µs at 10,000.
//!
//! A plain timing loop (no criterion): each figure is the median over 21 batches of the mean
//! time per decision. Run: `cargo bench -p switchpoint-core --bench routing`.

use serde_json::{json, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};
use switchpoint_core::api::{from_json_value, ChatRequest};
use switchpoint_core::routing::{Features, Pick, Rng};
use switchpoint_core::{ErrorKind, Gateway, RequestContext};

const SIZES: [usize; 3] = [10, 1_000, 10_000];
const STRATEGIES: [&str; 6] = [
    "priority",
    "weighted",
    "lowest_latency",
    "least_busy",
    "lowest_cost",
    "usage_based",
];

fn gateway(strategy: &str, n: usize) -> Gateway {
    let targets: Vec<Value> = (0..n)
        .map(|i| {
            let mut t = json!({
                "provider": if i % 2 == 0 { "a" } else { "b" },
                "model": format!("m{i}"),
                "weight": 1 + i % 5,
                "price": {"input": 1.0 + (i % 97) as f64, "output": 2.0 + (i % 89) as f64},
                "context_window": 128_000,
                "capabilities": ["tools", "vision", "json_schema"]
            });
            if strategy == "usage_based" {
                t["rpm"] = json!(1000 + i);
                t["tpm"] = json!(1_000_000);
            }
            t
        })
        .collect();
    Gateway::from_value(json!({
        "providers": {
            "a": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"},
            "b": {"kind": "anthropic", "base_url": "http://127.0.0.1:9", "api_key": "k"}
        },
        "routes": {"r": {"strategy": strategy, "targets": targets}}
    }))
    .expect("config")
}

/// Median of per-batch mean ns per call.
fn measure(mut f: impl FnMut()) -> f64 {
    let warm = Instant::now();
    let mut per_batch = 0u64;
    while warm.elapsed() < Duration::from_millis(100) {
        f();
        per_batch += 1;
    }
    let per_batch = (per_batch / 10).max(10);
    let mut means: Vec<f64> = (0..21)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            t.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    means[means.len() / 2]
}

fn main() {
    let req: ChatRequest = from_json_value(json!({
        "model": "r",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "Summarize the routing benchmark in one line."}]
    }))
    .expect("request");
    let features = Features::of(&req);
    let ctx = RequestContext::new();
    println!("routing decision (Router::decide), median ns per decision");
    println!(
        "{:<16} {:>10} {:>12} {:>12}",
        "strategy", "targets", "all healthy", "half resting"
    );
    let mut worst_small: f64 = 0.0;
    let mut worst_large: f64 = 0.0;
    for strategy in STRATEGIES {
        for n in SIZES {
            let gw = gateway(strategy, n);
            let router = gw.router();
            let mut rng = Rng::seeded(42);
            let decide = |rng: &mut Rng| {
                let (_, pick) = router
                    .decide(black_box("r"), &ctx, black_box(&features), rng)
                    .expect("decision");
                assert!(matches!(pick, Pick::Target(_)));
                black_box(pick);
            };
            let healthy = measure(|| decide(&mut rng));
            // Every other target resting: the strategies must skip them.
            let route = router.route("r").expect("route");
            let now = router.clock().now_ms();
            for s in route.slots.iter().step_by(2) {
                s.target
                    .health
                    .trip(now, Duration::from_secs(3600), ErrorKind::Unavailable);
            }
            let resting = measure(|| decide(&mut rng));
            println!("{strategy:<16} {n:>10} {healthy:>12.0} {resting:>12.0}");
            if n == 10 {
                worst_small = worst_small.max(healthy).max(resting);
            }
            if n == 10_000 {
                worst_large = worst_large.max(healthy).max(resting);
            }
        }
    }
    println!(
        "worst at 10 targets: {:.0} ns (target < 1000 ns); worst at 10,000 targets: {:.1} µs (target < 20 µs)",
        worst_small,
        worst_large / 1000.0
    );
}
