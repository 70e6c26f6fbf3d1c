//! A cache hit's cost: normalizing and hashing the request, the lookup, and the answer
//! handed back (target: under 2 µs at p50 through `Gateway::chat`).
//!
//! Run: `cargo bench -p switchpoint-core --bench cache_hit`

#[path = "support/hit.rs"]
mod hit;
#[path = "support/timing.rs"]
mod timing;

use std::hint::black_box;
use std::time::Duration;
use switchpoint_core::api::{from_json_value, ChatRequest, ChatResponse};
use switchpoint_core::cache::{request_key, CachedAnswer, ExactCache, ExactLimits};

fn main() {
    let req = hit::shop_request();
    let resp: ChatResponse = from_json_value(serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "We are open 10:00-16:00 on public holidays.", "refusal": null}, "finish_reason": "stop", "logprobs": null}],
        "usage": {"prompt_tokens": 31, "completion_tokens": 12, "total_tokens": 43}
    }))
    .expect("response");
    let cache = ExactCache::new(ExactLimits {
        max_bytes: 64 << 20,
        max_entries: 100_000,
        max_entry_bytes: 1 << 20,
    });
    let key = request_key("team:3:abc", "gpt", &req);
    cache.insert(
        key,
        CachedAnswer::from_response(resp, Duration::from_secs(3600)),
    );

    // `BENCH_ONLY=gateway` runs the whole-path figure alone (for profiling it).
    if std::env::var("BENCH_ONLY").as_deref() == Ok("gateway") {
        gateway_hit(&req);
        return;
    }
    timing::per_op_ns(2000, 200, || {
        black_box(request_key(black_box("team:3:abc"), "gpt", black_box(&req)));
    })
    .report(
        "cache key (normalize + keyed hash)",
        Duration::from_micros(2),
    );

    timing::per_op_ns(2000, 200, || {
        black_box(cache.get(black_box(&key)));
    })
    .report("exact lookup", Duration::from_micros(2));

    timing::per_op_ns(2000, 200, || {
        let k = request_key("team:3:abc", "gpt", black_box(&req));
        let hit = cache.get(&k).expect("hit");
        black_box(hit.response.clone());
    })
    .report(
        "cache hit: key + lookup + answer clone",
        Duration::from_micros(2),
    );

    gateway_hit(&req);
}

/// The whole hit path through `Gateway::chat`: admit, route decision, key, lookup, facts,
/// cost saved, the record queued for the observers (metrics and usage store on).
fn gateway_hit(req: &ChatRequest) {
    hit::runtime().block_on(async {
        let mock = mock_provider::MockServer::start().await.expect("mock");
        let gw = hit::cached_gateway(&mock.url(), serde_json::json!({"queue_size": 100000}));
        let ctx = hit::caller();
        let first = gw.chat(req, &ctx).await.expect("first call");
        assert!(first.switchpoint.as_ref().and_then(|f| f.cache).is_some());
        let (batches, per) = (2000, 100);
        let mut samples = Vec::with_capacity(batches);
        for _ in 0..batches + 20 {
            let t = std::time::Instant::now();
            for _ in 0..per {
                black_box(gw.chat(black_box(req), &ctx).await.expect("hit"));
            }
            samples.push(t.elapsed().as_nanos() as f64 / per as f64);
        }
        samples.drain(..20);
        timing::Summary::of(samples)
            .report("cache hit through Gateway::chat", Duration::from_micros(2));
        println!(
            "upstream calls: {} (all others were hits); records dropped while the worker caught up: {}",
            mock.log().iter().filter(|e| e.endpoint == "chat").count(),
            gw.telemetry().dropped()
        );
    });
}
