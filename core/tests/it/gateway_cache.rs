//! The cache and settle stages through `Gateway` against the mock provider: hits marked in
//! facts and records, tenant isolation, per-request controls, single-flight (one upstream
//! call in the mock's log), streams stored and replayed, the semantic cache with a real
//! embedding route, metrics and usage queries.

use futures_util::StreamExt;
use mock_provider::MockServer;
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use switchpoint_core::api::{from_json_value, ChatChunk, StreamAccumulator};
use switchpoint_core::cache::semantic::{normalize, prompt_text};
use switchpoint_core::telemetry::{CacheStatus, FnObserver, GroupBy, RequestRecord};
use switchpoint_core::{ChatRequest, ChatResponse, Gateway, RequestContext};

fn gateway(mock: &MockServer, extra: serde_json::Value) -> Gateway {
    let mut cfg = serde_json::json!({
        "providers": {"oai": {"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_key": "sk-test"}},
        "models": {
            "gpt": {"provider": "oai", "model": "gpt-4o-mini"},
            "faq": {"provider": "oai", "model": "gpt-4o-mini"},
            "slow": {"provider": "oai", "model": "gpt-4o-mini!delay_ms=300"},
            "slow-stream": {"provider": "oai", "model": "gpt-4o-mini!chunk_delay_ms=20"},
            "emb": {"provider": "oai", "model": "text-embedding-3-small"}
        },
        "cache": {"enabled": true, "routes": {"faq": {"shared": true}, "emb": {"enabled": false}}}
    });
    if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    Gateway::from_value(cfg).expect("gateway")
}

fn chat(model: &str, text: &str) -> ChatRequest {
    from_json_value(
        serde_json::json!({"model": model, "messages": [{"role": "user", "content": text}]}),
    )
    .expect("request")
}

fn ctx(v: serde_json::Value) -> RequestContext {
    from_json_value(v).expect("context")
}

fn calls(mock: &MockServer) -> usize {
    mock.log().iter().filter(|e| e.endpoint == "chat").count()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn cache_of(r: &ChatResponse) -> Option<CacheStatus> {
    r.switchpoint.as_ref().and_then(|f| f.cache)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_is_a_marked_hit_with_its_saved_cost_and_no_upstream_call() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, serde_json::json!({}));
    let seen = Arc::new(Mutex::new(Vec::<RequestRecord>::new()));
    let s = seen.clone();
    gw.add_observer(Arc::new(FnObserver(move |r: &RequestRecord| {
        s.lock().expect("lock").push(r.clone())
    })));
    let c = ctx(serde_json::json!({"team": "a", "user": "alice"}));
    let first = gw
        .chat(&chat("gpt", "alpha beta gamma delta"), &c)
        .await
        .expect("answer");
    let second = gw
        .chat(&chat("gpt", "alpha beta gamma delta"), &c)
        .await
        .expect("answer");
    assert_eq!(calls(&mock), 1);
    assert_eq!(cache_of(&first), Some(CacheStatus::Miss));
    assert_eq!(cache_of(&second), Some(CacheStatus::Hit));
    assert_eq!(second.text(), first.text());
    assert_eq!(second.id, first.id);
    // gpt-4o-mini: 4 prompt words x $0.15 + 4 completion words x $0.60 per 1M.
    let paid = first
        .switchpoint
        .as_ref()
        .and_then(|f| f.cost.clone())
        .expect("cost");
    assert_eq!((paid.usd, paid.saved_usd), (dec("0.000003"), None));
    let hit = second.switchpoint.as_ref().expect("facts");
    let saved = hit.cost.clone().expect("cost");
    assert_eq!(
        (saved.usd, saved.saved_usd),
        (Decimal::ZERO, Some(dec("0.000003")))
    );
    assert!(hit.attempts.is_empty(), "a hit makes no attempt");
    assert_eq!(hit.provider, "oai");
    assert_eq!(hit.route.as_deref(), Some("gpt"));

    assert!(gw.flush_telemetry(Duration::from_secs(5)));
    let records = seen.lock().expect("lock").clone();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].cache.status, CacheStatus::Miss);
    assert_eq!(records[0].tokens.prompt, 4);
    assert_eq!(
        records[0].cost.as_ref().map(|c| c.total),
        Some(dec("0.000003"))
    );
    assert_eq!(records[1].cache.status, CacheStatus::Hit);
    assert_eq!(records[1].cache.saved_usd, Some(dec("0.000003")));
    assert_eq!(records[1].tokens.prompt, 0, "a hit bills no tokens");
    assert_eq!(records[1].caller.team.as_deref(), Some("a"));
    // The hit's record names the same request, route, maker and caller as the miss's.
    let names = |r: &RequestRecord| {
        (
            r.model.clone(),
            r.route.clone(),
            r.provider.clone(),
            r.provider_model.clone(),
            r.provider_kind.clone(),
            r.response_id.clone(),
            r.caller.clone(),
            r.finish_reasons.clone(),
        )
    };
    assert_eq!(names(&records[1]), names(&records[0]));
    assert_eq!(records[1].caller.user.as_deref(), Some("alice"));
    assert!(records[1].attempts.is_empty());
    assert!(records[1].ended_at_ms >= records[1].started_at_ms);
    let usage = gw.usage(SystemTime::now() - Duration::from_secs(60), GroupBy::User);
    let alice = usage
        .iter()
        .find(|r| r.group.as_deref() == Some("alice"))
        .expect("alice");
    assert_eq!((alice.requests, alice.cache_hits), (2, 1));
    assert_eq!(
        (alice.cost_usd, alice.saved_usd),
        (dec("0.000003"), dec("0.000003"))
    );
    let text = gw.metrics_text();
    assert!(
        text.contains(r#"user="alice",team="a",tag="",status="ok",cache="hit"} 1"#),
        "{text}"
    );
    assert!(text.contains("switchpoint_cache_saved_usd_total{"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_never_share_answers_unless_the_route_is_shared() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, serde_json::json!({}));
    let a = ctx(serde_json::json!({"team": "a"}));
    let b = ctx(serde_json::json!({"team": "b"}));
    let key_b = ctx(serde_json::json!({"api_key": "sk-virtual-b", "team": "a"}));
    gw.chat(&chat("gpt", "private question"), &a)
        .await
        .expect("answer");
    let rb = gw
        .chat(&chat("gpt", "private question"), &b)
        .await
        .expect("answer");
    assert_eq!(cache_of(&rb), Some(CacheStatus::Miss));
    // A virtual key is its own tenant, even inside team a.
    let rk = gw
        .chat(&chat("gpt", "private question"), &key_b)
        .await
        .expect("answer");
    assert_eq!(cache_of(&rk), Some(CacheStatus::Miss));
    assert_eq!(calls(&mock), 3);
    // The shared route answers everybody from one entry.
    gw.chat(&chat("faq", "opening hours?"), &a)
        .await
        .expect("answer");
    let shared = gw
        .chat(&chat("faq", "opening hours?"), &b)
        .await
        .expect("answer");
    assert_eq!(cache_of(&shared), Some(CacheStatus::Hit));
    assert_eq!(calls(&mock), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_request_controls() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, serde_json::json!({}));
    let q = chat("gpt", "controls test");
    let plain = RequestContext::default();
    let r = gw
        .chat(&q, &ctx(serde_json::json!({"cache": {"no_store": true}})))
        .await
        .expect("answer");
    assert_eq!(cache_of(&r), Some(CacheStatus::Miss));
    assert_eq!(
        cache_of(&gw.chat(&q, &plain).await.expect("answer")),
        Some(CacheStatus::Miss)
    );
    assert_eq!(
        cache_of(&gw.chat(&q, &plain).await.expect("answer")),
        Some(CacheStatus::Hit)
    );
    let skip = ctx(serde_json::json!({"cache": {"no_read": true}}));
    assert_eq!(
        cache_of(&gw.chat(&q, &skip).await.expect("answer")),
        Some(CacheStatus::Bypass)
    );
    let refresh = ctx(serde_json::json!({"cache": {"refresh": true}}));
    assert_eq!(
        cache_of(&gw.chat(&q, &refresh).await.expect("answer")),
        Some(CacheStatus::Bypass)
    );
    assert_eq!(calls(&mock), 4);
    // A sub-namespace is a separate cache inside the caller's.
    let ns = ctx(serde_json::json!({"cache": {"namespace": "experiment"}}));
    assert_eq!(
        cache_of(&gw.chat(&q, &ns).await.expect("answer")),
        Some(CacheStatus::Miss)
    );
    assert_eq!(
        cache_of(&gw.chat(&q, &ns).await.expect("answer")),
        Some(CacheStatus::Hit)
    );
    // A per-request TTL.
    let short = ctx(serde_json::json!({"cache": {"ttl": 0.05, "namespace": "short"}}));
    gw.chat(&q, &short).await.expect("answer");
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(
        cache_of(&gw.chat(&q, &short).await.expect("answer")),
        Some(CacheStatus::Miss)
    );
    // Routes with the cache off say nothing about it.
    let off = gateway(&mock, serde_json::json!({"cache": {}}));
    let r = off.chat(&q, &plain).await.expect("answer");
    assert_eq!(cache_of(&r), None);
    assert!(r
        .switchpoint
        .as_ref()
        .and_then(|f| f.cost.as_ref())
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_identical_requests_through_the_gateway_make_one_upstream_call() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, serde_json::json!({}));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let gw = gw.clone();
        tasks.push(tokio::spawn(async move {
            gw.chat(
                &chat("slow", "everybody asks this"),
                &RequestContext::default(),
            )
            .await
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        let r = t.await.expect("task").expect("answer");
        assert_eq!(r.text(), Some("everybody asks this"));
        statuses.push(cache_of(&r).expect("cache status"));
    }
    assert_eq!(calls(&mock), 1, "one upstream call in the mock's log");
    assert_eq!(
        statuses.iter().filter(|s| **s == CacheStatus::Miss).count(),
        1
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == CacheStatus::Coalesced)
            .count(),
        99
    );
    let again = gw
        .chat(
            &chat("slow", "everybody asks this"),
            &RequestContext::default(),
        )
        .await
        .expect("answer");
    assert_eq!(cache_of(&again), Some(CacheStatus::Hit));
}

async fn collect(
    gw: &Gateway,
    req: &ChatRequest,
    c: &RequestContext,
) -> (Vec<ChatChunk>, switchpoint_core::api::Facts) {
    let mut s = gw.chat_stream(req, c).await.expect("stream");
    let mut chunks = Vec::new();
    while let Some(item) = s.next().await {
        chunks.push(item.expect("chunk"));
    }
    (chunks, s.facts().clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streams_are_shared_stored_and_replayed_identically() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, serde_json::json!({}));
    let req: ChatRequest = from_json_value(serde_json::json!({
        "model": "slow-stream", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "one two three four five six"}]
    }))
    .expect("request");
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (gw, req) = (gw.clone(), req.clone());
        tasks.push(tokio::spawn(async move {
            collect(&gw, &req, &RequestContext::default()).await
        }));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("task"));
    }
    assert_eq!(
        calls(&mock),
        1,
        "one upstream stream for ten identical requests"
    );
    let strip = |chunks: &[ChatChunk]| -> Vec<ChatChunk> {
        chunks
            .iter()
            .cloned()
            .map(|mut c| {
                c.switchpoint = None;
                c
            })
            .collect()
    };
    let first = strip(&results[0].0);
    for (chunks, facts) in &results {
        assert_eq!(strip(chunks), first);
        assert!(matches!(
            facts.cache,
            Some(CacheStatus::Miss) | Some(CacheStatus::Coalesced)
        ));
    }
    let text: String = first.iter().map(ChatChunk::text).collect();
    assert_eq!(text, "one two three four five six");
    // The usage chunk carries the facts, cost included.
    let last = results[0].0.last().expect("usage chunk");
    assert!(last.choices.is_empty() && last.usage.is_some());
    assert!(last
        .switchpoint
        .as_ref()
        .and_then(|f| f.cost.as_ref())
        .is_some());

    // Stored once complete: the next identical stream is a replay of the same chunks.
    let (replayed, facts) = collect(&gw, &req, &RequestContext::default()).await;
    assert_eq!(calls(&mock), 1);
    assert_eq!(facts.cache, Some(CacheStatus::Hit));
    assert_eq!(strip(&replayed), first);
    // And a non-streamed request is answered from the stored stream.
    let mut plain = req.clone();
    plain.stream = None;
    plain.stream_options = None;
    let r = gw
        .chat(&plain, &RequestContext::default())
        .await
        .expect("answer");
    assert_eq!(cache_of(&r), Some(CacheStatus::Hit));
    let mut acc = StreamAccumulator::new();
    first.iter().for_each(|c| acc.push(c));
    assert_eq!(r.text(), acc.finish().text());
    // A stream asked without include_usage gets no usage chunk from the replay.
    let mut no_usage = req.clone();
    no_usage.stream_options = None;
    let (chunks, _) = collect(&gw, &no_usage, &RequestContext::default()).await;
    assert!(chunks.iter().all(|c| c.usage.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semantic_cache_through_the_gateway_at_the_threshold() {
    let mock = MockServer::start().await.expect("mock");
    // Two prompts whose mock embeddings have a positive similarity: the threshold is set
    // just under it on one route and just over it on another.
    let stored = chat("sem", "When do you open on Sundays?");
    let mut pick = None;
    for i in 0..50 {
        let other = chat("sem", &format!("sunday opening time {i}"));
        let mut a = mock_provider::embedding(&prompt_text(&stored), 8);
        let mut b = mock_provider::embedding(&prompt_text(&other), 8);
        normalize(&mut a);
        normalize(&mut b);
        let sim: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        if sim > 0.3 {
            pick = Some((other, sim));
            break;
        }
    }
    let (other, sim) = pick.expect("a pair with positive similarity");
    let gw = gateway(
        &mock,
        serde_json::json!({
            "models": {
                "sem": {"provider": "oai", "model": "gpt-4o-mini"},
                "strict": {"provider": "oai", "model": "gpt-4o-mini"},
                "emb": {"provider": "oai", "model": "text-embedding-3-small"}
            },
            "cache": {"routes": {
                "sem": {"semantic": {"embedding_model": "emb", "threshold": sim - 1e-4}},
                "strict": {"semantic": {"embedding_model": "emb", "threshold": (sim + 1e-3).min(1.0)}}
            }}
        }),
    );
    let c = RequestContext::default();
    let first = gw.chat(&stored, &c).await.expect("answer");
    assert_eq!(cache_of(&first), Some(CacheStatus::Miss));
    let close = gw.chat(&other, &c).await.expect("answer");
    assert_eq!(cache_of(&close), Some(CacheStatus::SemanticHit));
    assert_eq!(close.text(), first.text(), "the stored answer");
    assert_eq!(calls(&mock), 1);

    let mut s1 = stored.clone();
    s1.model = "strict".into();
    let mut o1 = other.clone();
    o1.model = "strict".into();
    gw.chat(&s1, &c).await.expect("answer");
    let miss = gw.chat(&o1, &c).await.expect("answer");
    assert_eq!(cache_of(&miss), Some(CacheStatus::Miss));
    assert_eq!(calls(&mock), 3);
    // Another tenant never matches, however close.
    let b = ctx(serde_json::json!({"team": "b"}));
    assert_eq!(
        cache_of(&gw.chat(&other, &b).await.expect("answer")),
        Some(CacheStatus::Miss)
    );
}
