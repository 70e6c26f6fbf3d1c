//! Embeddings on Bedrock (InvokeModel, SigV4-signed and verified by the mock) and Vertex AI
//! (`:predict` with the service account's OAuth token) end to end through the gateway: one
//! unified request becomes one upstream call per Titan text or per `gemini-embedding-001`
//! instance, and the answers come back joined in input order with summed usage.

use mock_provider::{
    embedding, Fault, FaultError, MockServer, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY,
};
use serde_json::{json, Value};
use switchpoint_core::api::{EmbeddingRequest, EmbeddingVector, ErrorKind};
use switchpoint_core::{Gateway, RequestContext};

const SERVICE_ACCOUNT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/vertex/test-service-account.json"
));

fn embed(model: &str, input: Value, dimensions: Option<u32>) -> EmbeddingRequest {
    let mut v = json!({"model": model, "input": input});
    if let Some(d) = dimensions {
        v["dimensions"] = json!(d);
    }
    serde_json::from_value(v).expect("valid request")
}

fn floats(v: &EmbeddingVector) -> Vec<f32> {
    match v {
        EmbeddingVector::Float(f) => f.clone(),
        EmbeddingVector::Base64(_) => panic!("expected floats"),
    }
}

fn bedrock_gateway(mock: &MockServer) -> Gateway {
    Gateway::from_value(json!({
        "providers": {
            "aws": {
                "kind": "bedrock",
                "base_url": mock.url(),
                "region": "us-east-1",
                "aws_access_key_id": TEST_ACCESS_KEY_ID,
                "aws_secret_access_key": TEST_SECRET_ACCESS_KEY,
                "aws_session_token": "mock-session-token"
            }
        },
        "models": {
            "titan": {"provider": "aws", "model": "amazon.titan-embed-text-v2:0"},
            "cohere": {"provider": "aws", "model": "cohere.embed-english-v3"}
        },
        "defaults": {"timeouts": {"total": 10}}
    }))
    .expect("valid config")
}

fn vertex_gateway(mock: &MockServer) -> Gateway {
    let mut key: Value = serde_json::from_str(SERVICE_ACCOUNT).expect("key JSON");
    key["token_uri"] = json!(format!("{}/token", mock.url()));
    Gateway::from_value(json!({
        "providers": {
            "vx": {
                "kind": "vertex",
                "base_url": mock.url(),
                "project": "switchpoint-test",
                "location": "us-central1",
                "credentials": key.to_string()
            }
        },
        "models": {
            "gemini-embed": {"provider": "vx", "model": "gemini-embedding-001"},
            "te5": {"provider": "vx", "model": "text-embedding-005"}
        },
        "defaults": {"timeouts": {"total": 10}}
    }))
    .expect("valid config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titan_embeds_each_text_in_its_own_signed_call() {
    let mock = MockServer::start().await.expect("mock");
    let gw = bedrock_gateway(&mock);
    let texts = ["the first text", "second", "and a third one"];
    let resp = gw
        .embed(
            &embed("titan", json!(texts), Some(256)),
            &RequestContext::default(),
        )
        .await
        .expect("embeddings");
    assert_eq!(resp.data.len(), 3);
    for (i, (e, text)) in resp.data.iter().zip(texts).enumerate() {
        assert_eq!(e.index as usize, i);
        assert_eq!(floats(&e.embedding), embedding(text, 256));
    }
    assert_eq!(resp.usage.prompt_tokens.get(), 3 + 1 + 4);
    assert_eq!(resp.usage.total_tokens.get(), 8);
    let facts = resp.switchpoint.expect("facts");
    assert_eq!(facts.provider, "aws");
    assert_eq!(facts.attempts.len(), 1, "one attempt of three calls");
    // $0.02 per million tokens.
    assert_eq!(
        facts.cost.map(|c| c.usd.to_string()).as_deref(),
        Some("0.00000016")
    );
    let log = mock.log();
    assert_eq!(log.len(), 3);
    let mut sent: Vec<String> = log
        .iter()
        .map(|e| {
            assert_eq!(e.path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
            assert_eq!(e.provider, "bedrock");
            assert_eq!(e.endpoint, "embeddings");
            assert_eq!(e.status, 200, "signature verified");
            assert!(e.headers["authorization"].starts_with("AWS4-HMAC-SHA256 "));
            assert_eq!(e.headers["x-amz-security-token"], "mock-session-token");
            assert_eq!(e.body["dimensions"], 256);
            e.body["inputText"].as_str().expect("text").to_string()
        })
        .collect();
    sent.sort();
    assert_eq!(sent, vec!["and a third one", "second", "the first text"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cohere_on_bedrock_embeds_a_list_in_one_call() {
    let mock = MockServer::start().await.expect("mock");
    let gw = bedrock_gateway(&mock);
    let resp = gw
        .embed(
            &embed("cohere", json!(["alpha beta", "gamma"]), None),
            &RequestContext::default(),
        )
        .await
        .expect("embeddings");
    assert_eq!(resp.data.len(), 2);
    assert_eq!(floats(&resp.data[1].embedding), embedding("gamma", 8));
    // Bedrock's Cohere answer carries no token count.
    assert_eq!(resp.usage.total_tokens.get(), 0);
    let log = mock.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].path, "/model/cohere.embed-english-v3/invoke");
    assert_eq!(
        log[0].body,
        json!({"texts": ["alpha beta", "gamma"], "input_type": "search_document"})
    );
    assert_eq!(log[0].status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_call_among_several_fails_the_request_typed() {
    let mock = MockServer::start().await.expect("mock");
    let gw = bedrock_gateway(&mock);
    mock.push_script(vec![Fault {
        error: Some(FaultError::RateLimit),
        retry_after: Some(3.0),
        match_provider: Some("bedrock".into()),
        ..Fault::default()
    }]);
    let err = gw
        .embed(
            &embed("titan", json!(["one", "two"]), None),
            &RequestContext::default(),
        )
        .await
        .expect_err("throttled");
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.code.as_deref(), Some("ThrottlingException"));
    assert_eq!(err.status, Some(429));
    assert_eq!(err.retry_after, Some(std::time::Duration::from_secs(3)));
    assert_eq!(err.provider.as_deref(), Some("aws"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vertex_predict_with_the_service_account_token() {
    let mock = MockServer::start().await.expect("mock");
    let gw = vertex_gateway(&mock);
    let ctx = RequestContext::default();
    let resp = gw
        .embed(
            &embed("te5", json!(["red apple", "green pear tree"]), Some(16)),
            &ctx,
        )
        .await
        .expect("embeddings");
    assert_eq!(resp.data.len(), 2);
    assert_eq!(floats(&resp.data[0].embedding), embedding("red apple", 16));
    assert_eq!(resp.usage.prompt_tokens.get(), 5);
    let predicts: Vec<_> = mock
        .log()
        .into_iter()
        .filter(|e| e.provider == "vertex")
        .collect();
    assert_eq!(predicts.len(), 1, "one call for both texts");
    assert_eq!(
        predicts[0].path,
        "/v1/projects/switchpoint-test/locations/us-central1/publishers/google/models/text-embedding-005:predict"
    );
    assert!(predicts[0].headers["authorization"].starts_with("Bearer ya29.mock."));
    assert_eq!(
        predicts[0].body,
        json!({
            "instances": [{"content": "red apple"}, {"content": "green pear tree"}],
            "parameters": {"outputDimensionality": 16}
        })
    );

    // gemini-embedding-001 takes one instance per call: two texts, two calls, one token.
    mock.clear_log();
    let resp = gw
        .embed(
            &embed("gemini-embed", json!(["red apple", "pear"]), None),
            &ctx,
        )
        .await
        .expect("embeddings");
    assert_eq!(
        resp.data
            .iter()
            .map(|e| floats(&e.embedding))
            .collect::<Vec<_>>(),
        vec![embedding("red apple", 8), embedding("pear", 8)]
    );
    assert_eq!(resp.usage.total_tokens.get(), 3);
    let log = mock.log();
    assert!(
        log.iter().all(|e| e.provider != "google-oauth"),
        "token reused"
    );
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|e| e.status == 200 && e.body["instances"].as_array().map(Vec::len) == Some(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vertex_embedding_errors_are_classified() {
    let mock = MockServer::start().await.expect("mock");
    let gw = vertex_gateway(&mock);
    mock.push_script(vec![Fault {
        error: Some(FaultError::RateLimit),
        retry_after: Some(2.0),
        match_provider: Some("vertex".into()),
        ..Fault::default()
    }]);
    let err = gw
        .embed(&embed("te5", json!("x"), None), &RequestContext::default())
        .await
        .expect_err("quota");
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.code.as_deref(), Some("RESOURCE_EXHAUSTED"));
    assert_eq!(err.retry_after, Some(std::time::Duration::from_secs(2)));
    mock.push_script(vec![Fault {
        malformed: true,
        match_provider: Some("vertex".into()),
        ..Fault::default()
    }]);
    let err = gw
        .embed(&embed("te5", json!("x"), None), &RequestContext::default())
        .await
        .expect_err("cut JSON");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
    assert_eq!(err.provider.as_deref(), Some("vx"));
}
