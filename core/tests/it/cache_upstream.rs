//! The cache's building blocks against a real upstream (the mock provider over HTTP):
//! single-flight for answers and streams (checked in the mock's request log), stream replay,
//! and the semantic cache with embeddings from a real embedding route.

use futures_util::{FutureExt, StreamExt};
use mock_provider::MockServer;
use std::sync::Arc;
use std::time::Duration;
use switchpoint_core::api::{
    from_json_value, ChatChunk, ChatRequest, EmbeddingRequest, EmbeddingVector, StreamAccumulator,
};
use switchpoint_core::cache::semantic::{normalize, prompt_text, Embedder};
use switchpoint_core::cache::{
    params_key, replay, request_key, CachedAnswer, ExactCache, ExactLimits, Flights, Role,
    SemanticCache, StreamFlights,
};
use switchpoint_core::{ChatResponse, Error, Gateway, RequestContext};

fn gateway(mock: &MockServer) -> Gateway {
    Gateway::from_value(serde_json::json!({
        "providers": {"oai": {"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_key": "sk-test"}},
        "models": {
            "gpt": {"provider": "oai", "model": "gpt-4o-mini"},
            "slow": {"provider": "oai", "model": "gpt-4o-mini!delay_ms=300"},
            "slow-stream": {"provider": "oai", "model": "gpt-4o-mini!chunk_delay_ms=20"},
            "emb": {"provider": "oai", "model": "text-embedding-3-small"}
        }
    }))
    .expect("gateway")
}

fn chat(model: &str, text: &str) -> ChatRequest {
    from_json_value(serde_json::json!({
        "model": model, "messages": [{"role": "user", "content": text}]
    }))
    .expect("request")
}

fn chat_log_entries(mock: &MockServer) -> usize {
    mock.log().iter().filter(|e| e.endpoint == "chat").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_identical_requests_make_one_upstream_call() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock);
    let flights: Arc<Flights<ChatResponse>> = Arc::default();
    let req = chat("slow", "one answer for everybody");
    let key = request_key("anonymous", "slow", &req);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (gw, flights, req) = (gw.clone(), flights.clone(), req.clone());
        tasks.push(tokio::spawn(async move {
            flights
                .run(key, move || {
                    async move { gw.chat(&req, &RequestContext::default()).await }.boxed()
                })
                .await
        }));
    }
    let mut leaders = 0;
    for t in tasks {
        let (resp, role) = t.await.expect("task");
        assert_eq!(
            resp.expect("answer").text(),
            Some("one answer for everybody")
        );
        leaders += usize::from(role == Role::Leader);
    }
    assert_eq!(leaders, 1);
    assert_eq!(
        chat_log_entries(&mock),
        1,
        "one upstream call in the mock's log"
    );
    assert_eq!(flights.in_flight(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_streams_share_one_upstream_stream_and_replay_identically() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock);
    let flights: Arc<StreamFlights<ChatChunk>> = Arc::default();
    let cache = ExactCache::new(ExactLimits {
        max_bytes: 1 << 20,
        max_entries: 100,
        max_entry_bytes: 1 << 20,
    });
    let req = chat("slow-stream", "the quick brown fox jumps over the lazy dog");
    let key = request_key("anonymous", "slow-stream", &req);
    let mut readers = Vec::new();
    for i in 0..20 {
        let (gw, req, cache) = (gw.clone(), req.clone(), cache.clone());
        let (reader, role) = flights
            .join_or_start(
                key,
                move || {
                    async move {
                        let s = gw.chat_stream(&req, &RequestContext::default()).await?;
                        Ok(s.boxed())
                    }
                    .boxed()
                },
                Box::new(move |chunks| {
                    cache.insert(
                        key,
                        CachedAnswer::from_chunks(chunks, Duration::from_secs(60)),
                    );
                }),
            )
            .expect("join");
        assert_eq!(role == Role::Leader, i == 0);
        readers.push(reader);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut all = Vec::new();
    for r in readers {
        r.opened().await.expect("opened");
        all.push(tokio::spawn(r.into_stream().collect::<Vec<_>>()));
    }
    let mut streams: Vec<Vec<ChatChunk>> = Vec::new();
    for t in all {
        let items = t.await.expect("task");
        streams.push(items.into_iter().map(|c| c.expect("chunk")).collect());
    }
    assert_eq!(
        chat_log_entries(&mock),
        1,
        "one upstream stream in the mock's log"
    );
    let first = &streams[0];
    assert!(first.len() >= 9, "{} chunks", first.len());
    for s in &streams {
        assert_eq!(s, first, "every reader saw the same chunks from the start");
    }
    let text: String = first.iter().map(ChatChunk::text).collect();
    assert_eq!(text, "the quick brown fox jumps over the lazy dog");

    // The completed stream was stored; a replay is chunk-for-chunk the original.
    let stored = cache.get(&key).expect("stored once complete");
    let replayed: Vec<ChatChunk> = replay::replay_stream(stored.clone()).collect().await;
    assert_eq!(&replayed, first);
    let mut acc = StreamAccumulator::new();
    first.iter().for_each(|c| acc.push(c));
    assert_eq!(stored.response, acc.finish());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_streamed_answer_replays_as_a_stream_with_the_same_content() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock);
    let resp = gw
        .chat(&chat("gpt", "replay me please"), &RequestContext::default())
        .await
        .expect("answer");
    let stored = Arc::new(CachedAnswer::from_response(
        resp.clone(),
        Duration::from_secs(60),
    ));
    let chunks: Vec<ChatChunk> = replay::replay_stream(stored).collect().await;
    let mut acc = StreamAccumulator::new();
    chunks.iter().for_each(|c| acc.push(c));
    let mut want = resp;
    want.switchpoint = None;
    let got = acc.finish();
    assert_eq!(got.text(), want.text());
    assert_eq!(got.usage, want.usage);
    assert_eq!(got.choices[0].finish_reason, want.choices[0].finish_reason);
}

/// An embedder backed by the gateway's embedding route (what the pipeline will use).
fn embedder(gw: Gateway) -> impl Embedder {
    move |text: String| {
        let gw = gw.clone();
        async move {
            let req: EmbeddingRequest =
                from_json_value(serde_json::json!({"model": "emb", "input": text}))?;
            let resp = gw.embed(&req, &RequestContext::default()).await?;
            match resp.data.into_iter().next().map(|e| e.embedding) {
                Some(EmbeddingVector::Float(v)) => Ok(v),
                _ => Err(Error::invalid_response("no float embedding")),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semantic_hits_and_misses_at_the_threshold_with_a_real_embedding_route() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock);
    let emb = embedder(gw.clone());
    let semantic = SemanticCache::new(1000);
    let stored = chat("gpt", "What is the capital of France?");
    let scope = params_key("team:1:a", "gpt", &stored);
    let mut v = emb.embed(prompt_text(&stored)).await.expect("embedding");
    assert!(normalize(&mut v));
    let answer_key = request_key("team:1:a", "gpt", &stored);
    semantic.insert(scope, v, answer_key, Duration::from_secs(60), 100);

    // The same prompt embeds identically: similarity 1.
    let mut same = emb.embed(prompt_text(&stored)).await.expect("embedding");
    normalize(&mut same);
    let m = semantic.lookup(&scope, &same, 0.999).expect("hit");
    assert_eq!(m.answer, answer_key);

    // Another prompt: its similarity decides, exactly at the threshold.
    let other = chat("gpt", "what is the capital of france");
    assert_eq!(params_key("team:1:a", "gpt", &other), scope);
    let mut q = emb.embed(prompt_text(&other)).await.expect("embedding");
    normalize(&mut q);
    // The mock's vectors are deterministic: the stored prompt's is known without a call.
    let mut e = mock_provider::embedding(&prompt_text(&stored), 8);
    normalize(&mut e);
    let sim: f32 = e.iter().zip(&q).map(|(a, b)| a * b).sum();
    assert!(sim < 0.999, "different text, different vector ({sim})");
    assert_eq!(
        semantic.lookup(&scope, &q, sim).map(|m| m.answer),
        Some(answer_key)
    );
    assert!(semantic.lookup(&scope, &q, sim + 1e-4).is_none());

    // Another tenant's scope never sees it.
    let scope_b = params_key("team:1:b", "gpt", &stored);
    assert!(semantic.lookup(&scope_b, &same, 0.1).is_none());
    // Nor do requests with other parameters.
    let hot: ChatRequest = from_json_value(serde_json::json!({
        "model": "gpt", "temperature": 0.9, "messages": [{"role": "user", "content": "What is the capital of France?"}]
    }))
    .expect("request");
    assert!(semantic
        .lookup(&params_key("team:1:a", "gpt", &hot), &same, 0.1)
        .is_none());
    assert_eq!(
        mock.log()
            .iter()
            .filter(|e| e.endpoint == "embeddings")
            .count(),
        3
    );
}
