//! The gateway over real HTTP to the mock provider: cancellation, concurrency, facts.

use futures_util::StreamExt;
use mock_provider::MockServer;
use std::time::{Duration, Instant};
use switchpoint_core::api::{ChatRequest, Message};
use switchpoint_core::{Gateway, RequestContext};

fn gateway(mock: &MockServer) -> Gateway {
    Gateway::from_value(serde_json::json!({
        "providers": {
            "oai": {"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_key": "sk-test"},
            "claude": {"kind": "anthropic", "base_url": mock.url(), "api_key": "sk-ant"},
            "gem": {"kind": "gemini", "base_url": mock.url(), "api_key": "gm"}
        },
        "models": {
            "gpt": {"provider": "oai", "model": "gpt-4o-mini"},
            "slow-gpt": {"provider": "oai", "model": "gpt-4o-mini!chunk_delay_ms=50"},
            "slow-claude": {"provider": "claude", "model": "claude-x!chunk_delay_ms=50"},
            "slow-gem": {"provider": "gem", "model": "gem-x!chunk_delay_ms=50"}
        }
    }))
    .expect("valid config")
}

fn request(model: &str, text: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user(text)],
        ..Default::default()
    }
}

async fn wait_for_close(mock: &MockServer) -> bool {
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        if mock.log().last().is_some_and(|e| e.client_closed_early) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_stream_closes_the_upstream_connection() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock);
    let long = (0..60)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    for model in ["slow-gpt", "slow-claude", "slow-gem"] {
        mock.clear_log();
        let mut stream = gw
            .chat_stream(&request(model, &long), &RequestContext::default())
            .await
            .expect("stream");
        let mut got = 0;
        while got < 3 {
            stream.next().await.expect("a chunk").expect("ok chunk");
            got += 1;
        }
        drop(stream);
        assert!(
            wait_for_close(&mock).await,
            "{model}: the mock never saw the client close early: {:?}",
            mock.log().last()
        );
        let entry = mock.log().last().cloned().expect("logged");
        assert!(
            !entry.completed,
            "{model}: the stream should not have completed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_during_a_stream_ends_it_with_a_timeout() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock);
    let long = (0..60)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let ctx = RequestContext::default().with_timeout(Duration::from_millis(300));
    let mut stream = gw
        .chat_stream(&request("slow-gpt", &long), &ctx)
        .await
        .expect("stream");
    let mut last = None;
    let mut chunks = 0;
    while let Some(item) = stream.next().await {
        match item {
            Ok(_) => chunks += 1,
            Err(e) => last = Some(e),
        }
    }
    let err = last.expect("the stream must end in an error, not silently");
    assert_eq!(err.kind, switchpoint_core::ErrorKind::Timeout);
    assert!(chunks > 0 && chunks < 60, "got {chunks} chunks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_calls_share_one_gateway() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock);
    let calls = (0..300).map(|i| {
        let gw = gw.clone();
        tokio::spawn(async move {
            gw.chat(
                &request("gpt", &format!("call {i}")),
                &RequestContext::default(),
            )
            .await
        })
    });
    let results = futures_util::future::join_all(calls).await;
    for (i, r) in results.into_iter().enumerate() {
        let resp = r.expect("task").expect("call succeeds");
        assert_eq!(resp.text(), Some(format!("call {i}").as_str()));
    }
    assert_eq!(mock.log().len(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_account_for_the_gateways_own_time() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock);
    let resp = gw
        .chat(&request("gpt", "hello"), &RequestContext::default())
        .await
        .expect("ok");
    let facts = resp.switchpoint.expect("facts");
    assert_eq!(facts.provider, "oai");
    assert_eq!(facts.provider_model, "gpt-4o-mini");
    assert_eq!(facts.attempts.len(), 1);
    assert!(facts.latency_ms > 0.0);
    assert!(
        facts.overhead_us > 0.0 && facts.overhead_us < facts.latency_ms * 1000.0,
        "{facts:?}"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_a_connection_error() {
    let gw = Gateway::from_value(serde_json::json!({
        "providers": {"dead": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"}},
        "models": {"m": {"provider": "dead", "model": "x"}}
    }))
    .expect("config");
    let err = gw
        .chat(&request("m", "hi"), &RequestContext::default())
        .await
        .expect_err("must fail");
    assert_eq!(err.kind, switchpoint_core::ErrorKind::Connection);
    assert_eq!(err.provider.as_deref(), Some("dead"));
}
