//! The latency the gateway adds over a bare HTTP client, measured against the in-process
//! mock provider on loopback.
//!
//! Run: `cargo bench -p switchpoint-core --bench gateway_overhead`
//! (`BENCH_ROUNDS`, `BENCH_REQUESTS`, `BENCH_STREAMS` override the sizes; `BENCH_ONLY=chat` or
//! `BENCH_ONLY=stream` runs one half, e.g. under `valgrind --tool=callgrind`.)
//!
//! A is `Gateway::chat` / `Gateway::chat_stream` to the mock in OpenAI format. B is the
//! baseline any caller would otherwise write: reqwest posting the very same request bytes
//! (built once with the OpenAI adapter) to the same URL and parsing the answer into the same
//! unified types with serde_json. A and B alternate request by request (the order flips every
//! round) so drift on this noisy 2-core machine hits both alike. This is a plain binary
//! (`harness = false`) that prints a table; it asserts nothing about timing.

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use mock_provider::MockServer;
use std::time::{Duration, Instant};
use switchpoint_core::config::Secret;
use switchpoint_core::providers::{adapter_for, ProviderKind, ProviderSettings};
use switchpoint_core::{ChatChunk, ChatRequest, ChatResponse, Gateway, RequestContext};

/// Targets this bench reports against (µs).
const TARGET_P50_US: f64 = 10.0;
const TARGET_P99_US: f64 = 30.0;
const TARGET_PER_CHUNK_US: f64 = 1.0;

/// Words the mock echoes back; it streams one content chunk per word.
const STREAM_WORDS: usize = 50;
const PLAIN_WORDS: usize = 20;

/// The provider model id the mock is called with.
const MODEL: &str = "gpt-4o-mini";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sizes of one run.
#[derive(Debug, Clone, Copy)]
struct Plan {
    rounds: usize,
    requests: usize,
    streams: usize,
}

fn main() {
    let plan = Plan {
        rounds: env_usize("BENCH_ROUNDS", 30),
        requests: env_usize("BENCH_REQUESTS", 1000),
        streams: env_usize("BENCH_STREAMS", 200),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let server = MockServer::start().await.expect("mock server");
        let base = format!("{}/v1", server.url());
        // Run the measurements on a worker thread, where application code would run.
        let run = tokio::spawn(run(base, plan));
        run.await.expect("bench task");
        drop(server);
    });
}

/// Everything one side (gateway or baseline) needs to send a request.
struct Baseline {
    client: reqwest::Client,
    url: String,
    headers: reqwest::header::HeaderMap,
    body: Bytes,
}

impl Baseline {
    /// The same bytes the gateway's OpenAI adapter would send, built once.
    fn new(base: &str, req: &ChatRequest, stream: bool) -> Baseline {
        let adapter = adapter_for(settings(base));
        let http = adapter
            .chat_request(req, MODEL, stream)
            .expect("the OpenAI adapter builds the request");
        let (parts, body) = http.into_parts();
        Baseline {
            client: client(),
            url: parts.uri.to_string(),
            headers: parts.headers,
            body,
        }
    }

    fn send(&self) -> reqwest::RequestBuilder {
        self.client
            .post(&self.url)
            .headers(self.headers.clone())
            .body(self.body.clone())
    }

    async fn chat(&self) -> ChatResponse {
        let resp = self.send().send().await.expect("baseline send");
        assert!(
            resp.status().is_success(),
            "baseline status {}",
            resp.status()
        );
        let body = resp.bytes().await.expect("baseline body");
        serde_json::from_slice(&body).expect("baseline parse")
    }

    /// Returns (time to first chunk, total, chunk count).
    async fn stream(&self) -> (Duration, Duration, usize) {
        let start = Instant::now();
        let resp = self.send().send().await.expect("baseline send");
        assert!(
            resp.status().is_success(),
            "baseline status {}",
            resp.status()
        );
        let mut events = resp.bytes_stream().eventsource();
        let mut first = None;
        let mut n = 0;
        while let Some(ev) = events.next().await {
            let ev = ev.expect("baseline event");
            if ev.data == "[DONE]" {
                break;
            }
            let chunk: ChatChunk = serde_json::from_str(&ev.data).expect("baseline chunk");
            std::hint::black_box(&chunk);
            first.get_or_insert_with(|| start.elapsed());
            n += 1;
        }
        (first.unwrap_or_default(), start.elapsed(), n)
    }
}

/// The same client settings the gateway's transport uses, so only the gateway differs.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .user_agent("switchpoint/0.1.0")
        .build()
        .expect("reqwest client")
}

fn settings(base: &str) -> ProviderSettings {
    ProviderSettings {
        name: "mock".to_string(),
        kind: ProviderKind::OpenAi,
        base_url: base.to_string(),
        api_key: Some(Secret::new("sk-bench")),
        headers: Vec::new(),
        api_version: None,
    }
}

fn gateway(base: &str) -> Gateway {
    Gateway::from_value(serde_json::json!({
        "providers": {"mock": {"kind": "openai", "base_url": base, "api_key": "sk-bench"}},
        "models": {"bench": {"provider": "mock", "model": MODEL}}
    }))
    .expect("bench config")
}

fn request(words: usize, stream: bool) -> ChatRequest {
    let text: Vec<String> = (0..words).map(|i| format!("w{i}")).collect();
    let mut v = serde_json::json!({
        "model": "bench",
        "messages": [
            {"role": "system", "content": "Echo the user."},
            {"role": "user", "content": text.join(" ")}
        ],
        "temperature": 0.0
    });
    if stream {
        v["stream"] = true.into();
        v["stream_options"] = serde_json::json!({"include_usage": true});
    }
    serde_json::from_value(v).expect("bench request")
}

async fn run(base: String, plan: Plan) {
    let gw = gateway(&base);
    let ctx = RequestContext::new();
    println!(
        "switchpoint gateway overhead vs direct reqwest (mock provider in-process, loopback, {} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only != "stream" {
        non_stream(&gw, &ctx, &base, plan).await;
    }
    if only != "chat" {
        stream(&gw, &ctx, &base, plan).await;
    }
}

/// Per-request samples in nanoseconds, plus each round's median.
#[derive(Default)]
struct Series {
    all: Vec<u64>,
    round_medians: Vec<u64>,
}

impl Series {
    fn push_round(&mut self, mut round: Vec<u64>) {
        round.sort_unstable();
        self.round_medians.push(pct(&round, 50.0));
        self.all.extend(round);
    }

    fn finish(&mut self) {
        self.all.sort_unstable();
        self.round_medians.sort_unstable();
    }

    fn p(&self, q: f64) -> f64 {
        us(pct(&self.all, q))
    }

    fn mrm(&self) -> f64 {
        us(pct(&self.round_medians, 50.0))
    }
}

/// Nearest-rank percentile of sorted samples.
fn pct(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

fn ns(d: Duration) -> u64 {
    d.as_nanos() as u64
}

fn verdict(value: f64, target: f64) -> &'static str {
    if value <= target {
        "within target"
    } else {
        "OVER TARGET"
    }
}

async fn gateway_chat(gw: &Gateway, req: &ChatRequest, ctx: &RequestContext) -> ChatResponse {
    gw.chat(req, ctx).await.expect("gateway chat")
}

async fn non_stream(gw: &Gateway, ctx: &RequestContext, base: &str, plan: Plan) {
    let req = request(PLAIN_WORDS, false);
    let direct = Baseline::new(base, &req, false);

    // Warm up both connection pools and check both sides get the same answer.
    for _ in 0..200 {
        let a = gateway_chat(gw, &req, ctx).await;
        let b = direct.chat().await;
        assert_eq!(a.choices[0].message.content, b.choices[0].message.content);
    }

    let (mut sa, mut sb) = (Series::default(), Series::default());
    let mut facts_overhead = Vec::with_capacity(plan.rounds * plan.requests);
    let wall = Instant::now();
    for round in 0..plan.rounds {
        let mut ra = Vec::with_capacity(plan.requests);
        let mut rb = Vec::with_capacity(plan.requests);
        for i in 0..plan.requests {
            let a_first = (i + round) % 2 == 0;
            for side in [a_first, !a_first] {
                let t = Instant::now();
                if side {
                    let resp = gateway_chat(gw, &req, ctx).await;
                    ra.push(ns(t.elapsed()));
                    if let Some(f) = resp.switchpoint {
                        facts_overhead.push((f.overhead_us * 1000.0) as u64);
                    }
                } else {
                    std::hint::black_box(direct.chat().await);
                    rb.push(ns(t.elapsed()));
                }
            }
        }
        sa.push_round(ra);
        sb.push_round(rb);
    }
    sa.finish();
    sb.finish();
    facts_overhead.sort_unstable();

    let added50 = sa.p(50.0) - sb.p(50.0);
    let added99 = sa.p(99.0) - sb.p(99.0);
    println!();
    println!(
        "NON-STREAM chat, {} rounds x {} requests per side, interleaved ({:.1} s)",
        plan.rounds,
        plan.requests,
        wall.elapsed().as_secs_f64()
    );
    println!(
        "{:<24}{:>12}{:>12}{:>26}",
        "", "p50 µs", "p99 µs", "median of round medians"
    );
    for (name, s) in [("A gateway.chat", &sa), ("B direct reqwest", &sb)] {
        println!(
            "{:<24}{:>12.1}{:>12.1}{:>26.1}",
            name,
            s.p(50.0),
            s.p(99.0),
            s.mrm()
        );
    }
    println!(
        "{:<24}{:>12.1}{:>12.1}{:>26.1}",
        "added (A - B)",
        added50,
        added99,
        sa.mrm() - sb.mrm()
    );
    println!(
        "{:<24}{:>12.3}{:>12.3}{:>26.3}",
        "ratio A / B",
        sa.p(50.0) / sb.p(50.0),
        sa.p(99.0) / sb.p(99.0),
        sa.mrm() / sb.mrm()
    );
    println!(
        "gateway's own facts.overhead_us: p50 {:.1} µs, p99 {:.1} µs",
        us(pct(&facts_overhead, 50.0)),
        us(pct(&facts_overhead, 99.0))
    );
    println!(
        "target: added p50 <= {TARGET_P50_US} µs -> {}; added p99 <= {TARGET_P99_US} µs -> {}",
        verdict(added50, TARGET_P50_US),
        verdict(added99, TARGET_P99_US)
    );
}

async fn gateway_stream(
    gw: &Gateway,
    req: &ChatRequest,
    ctx: &RequestContext,
) -> (Duration, Duration, usize) {
    let start = Instant::now();
    let mut s = gw.chat_stream(req, ctx).await.expect("gateway stream");
    let mut first = None;
    let mut n = 0;
    while let Some(chunk) = s.next().await {
        std::hint::black_box(chunk.expect("gateway chunk"));
        first.get_or_insert_with(|| start.elapsed());
        n += 1;
    }
    (first.unwrap_or_default(), start.elapsed(), n)
}

async fn stream(gw: &Gateway, ctx: &RequestContext, base: &str, plan: Plan) {
    let req = request(STREAM_WORDS, true);
    let direct = Baseline::new(base, &req, true);

    let mut chunks = (0, 0);
    for _ in 0..50 {
        chunks.0 = gateway_stream(gw, &req, ctx).await.2;
        chunks.1 = direct.stream().await.2;
    }

    let (mut fa, mut fb) = (Series::default(), Series::default());
    let (mut ta, mut tb) = (Series::default(), Series::default());
    let wall = Instant::now();
    for round in 0..plan.rounds {
        let (mut rfa, mut rfb, mut rta, mut rtb) = (vec![], vec![], vec![], vec![]);
        for i in 0..plan.streams {
            let a_first = (i + round) % 2 == 0;
            for side in [a_first, !a_first] {
                if side {
                    let (first, total, n) = gateway_stream(gw, &req, ctx).await;
                    assert_eq!(n, chunks.0, "gateway chunk count changed");
                    rfa.push(ns(first));
                    rta.push(ns(total));
                } else {
                    let (first, total, n) = direct.stream().await;
                    assert_eq!(n, chunks.1, "baseline chunk count changed");
                    rfb.push(ns(first));
                    rtb.push(ns(total));
                }
            }
        }
        fa.push_round(rfa);
        fb.push_round(rfb);
        ta.push_round(rta);
        tb.push_round(rtb);
    }
    for s in [&mut fa, &mut fb, &mut ta, &mut tb] {
        s.finish();
    }

    let n = chunks.0.max(1) as f64;
    let per_chunk50 = (ta.p(50.0) - tb.p(50.0)) / n;
    let per_chunk99 = (ta.p(99.0) - tb.p(99.0)) / n;
    let per_chunk_mrm = (ta.mrm() - tb.mrm()) / n;
    println!();
    println!(
        "STREAM chat, {STREAM_WORDS} content chunks ({} chunks gateway, {} baseline), {} rounds x {} streams per side, interleaved ({:.1} s)",
        chunks.0,
        chunks.1,
        plan.rounds,
        plan.streams,
        wall.elapsed().as_secs_f64()
    );
    println!(
        "{:<24}{:>12}{:>12}{:>12}{:>12}{:>14}",
        "", "TTFC p50", "TTFC p99", "total p50", "total p99", "total mrm"
    );
    for (name, f, t) in [
        ("A gateway.chat_stream", &fa, &ta),
        ("B reqwest+eventsource", &fb, &tb),
    ] {
        println!(
            "{:<24}{:>12.1}{:>12.1}{:>12.1}{:>12.1}{:>14.1}",
            name,
            f.p(50.0),
            f.p(99.0),
            t.p(50.0),
            t.p(99.0),
            t.mrm()
        );
    }
    println!(
        "{:<24}{:>12.1}{:>12.1}{:>12.1}{:>12.1}{:>14.1}",
        "added (A - B) µs",
        fa.p(50.0) - fb.p(50.0),
        fa.p(99.0) - fb.p(99.0),
        ta.p(50.0) - tb.p(50.0),
        ta.p(99.0) - tb.p(99.0),
        ta.mrm() - tb.mrm()
    );
    println!(
        "{:<24}{:>12.3}{:>12.3}{:>12.3}{:>12.3}{:>14.3}",
        "ratio A / B",
        fa.p(50.0) / fb.p(50.0),
        fa.p(99.0) / fb.p(99.0),
        ta.p(50.0) / tb.p(50.0),
        ta.p(99.0) / tb.p(99.0),
        ta.mrm() / tb.mrm()
    );
    println!(
        "added per chunk (total difference / {} chunks): p50 {:.2} µs, p99 {:.2} µs, median of round medians {:.2} µs",
        chunks.0, per_chunk50, per_chunk99, per_chunk_mrm
    );
    println!(
        "target: added per chunk <= {TARGET_PER_CHUNK_US} µs (p50) -> {}",
        verdict(per_chunk50, TARGET_PER_CHUNK_US)
    );
}
