//! Memory stays within the configured cache bound plus 10% after 1,000,000 distinct
//! requests: each request is keyed, answered and stored; the process's resident memory
//! growth is compared with `max_bytes`.
//!
//! Run: `cargo bench -p switchpoint-core --bench cache_memory`

use std::time::{Duration, Instant};
use switchpoint_core::api::{from_json_value, ChatRequest, ChatResponse};
use switchpoint_core::cache::{request_key, CachedAnswer, ExactCache, ExactLimits};

/// Resident set size in bytes (Linux /proc).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    let max_bytes: u64 = 64 << 20;
    let n = 1_000_000u64;
    let cache = ExactCache::new(ExactLimits {
        max_bytes,
        max_entries: 1_000_000,
        max_entry_bytes: 1 << 20,
    });
    let template: ChatRequest = from_json_value(serde_json::json!({
        "model": "gpt", "messages": [{"role": "user", "content": ""}]
    }))
    .expect("request");
    let answer: ChatResponse = from_json_value(serde_json::json!({
        "id": "chatcmpl-0", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "", "refusal": null}, "finish_reason": "stop", "logprobs": null}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 40, "total_tokens": 52}
    }))
    .expect("response");
    let base = rss();
    let start = Instant::now();
    let mut peak = base;
    for i in 0..n {
        let mut req = template.clone();
        req.messages[0].content = Some(switchpoint_core::api::Content::Text(format!(
            "question number {i}: what is {i} squared, and why?"
        )));
        let key = request_key("team:1:a", "gpt", &req);
        let mut resp = answer.clone();
        resp.id = format!("chatcmpl-{i}");
        resp.choices[0].message.content = Some(format!(
            "{i} squared is {}. Squaring multiplies a number by itself, so the answer grows quickly.",
            i * i
        ));
        cache.insert(
            key,
            CachedAnswer::from_response(resp, Duration::from_secs(3600)),
        );
        if i % 100_000 == 0 {
            peak = peak.max(rss());
        }
    }
    let (entries, weight) = cache.usage();
    let grown = rss().saturating_sub(base);
    peak = peak.max(rss()).saturating_sub(base);
    let limit = max_bytes + max_bytes / 10;
    println!(
        "{n} distinct requests in {:.1}s: {entries} entries kept, weighed {:.1} MiB; RSS grew {:.1} MiB (peak {:.1} MiB) against a bound of {:.1} MiB + 10% = {:.1} MiB: {}",
        start.elapsed().as_secs_f64(),
        weight as f64 / 1048576.0,
        grown as f64 / 1048576.0,
        peak as f64 / 1048576.0,
        max_bytes as f64 / 1048576.0,
        limit as f64 / 1048576.0,
        if grown <= limit { "within" } else { "EXCEEDED" }
    );
}
