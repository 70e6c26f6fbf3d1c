//! lowest_latency over real HTTP: traffic moves to the fast target within 50 requests, and
//! back when the other recovers (the mock's `delay_ms` faults make a target slow).

use mock_provider::{Fault, MockServer};
use serde_json::json;
use switchpoint_core::api::{ChatRequest, Message};
use switchpoint_core::{Gateway, RequestContext};

fn slow(model: &str) -> Fault {
    Fault {
        delay_ms: Some(80),
        match_model: Some(model.into()),
        times: Some(10_000),
        ..Fault::default()
    }
}

async fn served(gw: &Gateway, n: usize) -> Vec<String> {
    let req = ChatRequest {
        model: "ll".into(),
        messages: vec![Message::user("ping")],
        ..Default::default()
    };
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let r = gw.chat(&req, &RequestContext::new()).await.expect("served");
        out.push(r.switchpoint.expect("facts").provider_model);
    }
    out
}

fn share(models: &[String], m: &str) -> f64 {
    models.iter().filter(|x| *x == m).count() as f64 / models.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lowest_latency_follows_the_fast_target_and_comes_back_after_recovery() {
    let mock = MockServer::start().await.expect("mock");
    let gw = Gateway::from_value(json!({
        "providers": {"oai": {"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_key": "sk"}},
        "routes": {"ll": {"strategy": "lowest_latency", "targets": [
            {"provider": "oai", "model": "model-a"},
            {"provider": "oai", "model": "model-b"}
        ]}}
    }))
    .expect("config");

    mock.push_script(vec![slow("model-a")]);
    let phase1 = served(&gw, 50).await;
    assert!(
        share(&phase1[10..], "model-b") >= 0.8,
        "phase 1 (a slow): {phase1:?}"
    );
    // Exploration still sends a little traffic to the slow target.
    assert!(share(&phase1, "model-a") > 0.0);

    mock.clear_script();
    mock.push_script(vec![slow("model-b")]);
    let phase2 = served(&gw, 50).await;
    assert!(
        share(&phase2[20..], "model-a") >= 0.8,
        "phase 2 (a recovered, b slow): {phase2:?}"
    );
    let h = gw.health();
    let ewma = |m: &str| {
        h.iter()
            .find(|t| t.model == m)
            .and_then(|t| t.ewma_latency_ms)
            .expect("sampled")
    };
    assert!(ewma("model-a") < ewma("model-b"));
}
