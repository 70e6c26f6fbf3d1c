//! Bedrock and Vertex AI end to end through the gateway against the mock provider: SigV4
//! signatures the mock recomputes and checks, the AWS event stream, in-stream exceptions, and
//! the service-account OAuth flow (JWT signed with the committed test key, token cached,
//! shared by concurrent callers, refreshed before expiry).

use futures_util::StreamExt;
use mock_provider::{Fault, FaultError, MockServer, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY};
use serde_json::{json, Value};
use std::time::Duration;
use switchpoint_core::api::{ChatRequest, ErrorKind, Message, StreamAccumulator};
use switchpoint_core::{Gateway, RequestContext};

const SERVICE_ACCOUNT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/vertex/test-service-account.json"
));

const UNTRUSTED_KEY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/vertex/untrusted-test-key.pem"
));

fn request(model: &str, text: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user(text)],
        ..Default::default()
    }
}

fn bedrock_gateway(mock: &MockServer, secret: &str) -> Gateway {
    Gateway::from_value(json!({
        "providers": {
            "aws": {
                "kind": "bedrock",
                "base_url": mock.url(),
                "region": "us-east-1",
                "aws_access_key_id": TEST_ACCESS_KEY_ID,
                "aws_secret_access_key": secret,
                "aws_session_token": "mock-session-token"
            }
        },
        "models": {"haiku": {"provider": "aws", "model": "anthropic.claude-3-5-haiku-20241022-v1:0"}},
        "defaults": {"timeouts": {"total": 10}}
    }))
    .expect("valid config")
}

/// The service-account key with its token endpoint pointed at the mock.
fn key_json(token_uri: &str) -> String {
    let mut key: Value = serde_json::from_str(SERVICE_ACCOUNT).expect("key JSON");
    key["token_uri"] = json!(token_uri);
    key.to_string()
}

fn vertex_gateway(mock: &MockServer, credentials: &str) -> Gateway {
    Gateway::from_value(json!({
        "providers": {
            "vx": {
                "kind": "vertex",
                "base_url": mock.url(),
                "project": "switchpoint-test",
                "location": "us-east5",
                "credentials": credentials
            }
        },
        "models": {
            "gemini": {"provider": "vx", "model": "gemini-2.5-flash"},
            "claude": {"provider": "vx", "model": "claude-sonnet-4-5@20250929"}
        },
        "defaults": {"timeouts": {"total": 10}}
    }))
    .expect("valid config")
}

async fn assemble(
    gw: &Gateway,
    req: &ChatRequest,
) -> Result<switchpoint_core::ChatResponse, switchpoint_core::Error> {
    let mut stream = gw.chat_stream(req, &RequestContext::default()).await?;
    let mut acc = StreamAccumulator::new();
    while let Some(chunk) = stream.next().await {
        acc.push(&chunk?);
    }
    Ok(acc.finish())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedrock_requests_are_sigv4_signed_and_verified_by_the_mock() {
    let mock = MockServer::start().await.expect("mock");
    let gw = bedrock_gateway(&mock, TEST_SECRET_ACCESS_KEY);
    let resp = gw
        .chat(
            &request("haiku", "hello signed world"),
            &RequestContext::default(),
        )
        .await
        .expect("the mock accepts the signature");
    assert_eq!(
        resp.choices[0].message.content.as_deref(),
        Some("hello signed world")
    );
    let usage = resp.usage.as_ref().expect("usage");
    assert_eq!(usage.prompt_tokens.0, 3);
    assert_eq!(usage.completion_tokens.0, 3);
    // Priced from the catalogue's bedrock rows: 3 x $0.80/M + 3 x $4/M.
    let cost = resp
        .switchpoint
        .as_ref()
        .and_then(|f| f.cost.as_ref())
        .map(|c| c.usd.to_string());
    assert_eq!(cost.as_deref(), Some("0.0000144"));
    let entry = mock.log().last().cloned().expect("logged");
    assert_eq!(entry.provider, "bedrock");
    assert_eq!(
        entry.path,
        "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    );
    let auth = &entry.headers["authorization"];
    assert!(
        auth.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential={TEST_ACCESS_KEY_ID}/"
        )),
        "{auth}"
    );
    assert!(auth.contains("/us-east-1/bedrock/aws4_request"), "{auth}");
    assert!(auth.contains("x-amz-security-token"), "{auth}");
    assert_eq!(entry.headers["x-amz-security-token"], "mock-session-token");

    let streamed = assemble(&gw, &request("haiku", "one two three four"))
        .await
        .expect("stream");
    assert_eq!(
        streamed.choices[0].message.content.as_deref(),
        Some("one two three four")
    );
    assert_eq!(
        mock.log().last().map(|e| e.path.clone()).as_deref(),
        Some("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_fails_the_signature_check_as_auth() {
    let mock = MockServer::start().await.expect("mock");
    let gw = bedrock_gateway(&mock, "not-the-secret");
    let err = gw
        .chat(&request("haiku", "hi"), &RequestContext::default())
        .await
        .expect_err("bad signature");
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.status, Some(403));
    assert_eq!(err.code.as_deref(), Some("InvalidSignatureException"));
    assert!(
        !err.message.contains("not-the-secret"),
        "the secret never appears: {}",
        err.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedrock_stream_faults_are_typed() {
    let mock = MockServer::start().await.expect("mock");
    let gw = bedrock_gateway(&mock, TEST_SECRET_ACCESS_KEY);
    mock.push_script(vec![Fault {
        error: Some(FaultError::RateLimit),
        in_stream: true,
        ..Fault::default()
    }]);
    let err = assemble(&gw, &request("haiku", "one two three"))
        .await
        .expect_err("in-stream exception");
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.code.as_deref(), Some("throttlingException"));

    mock.push_script(vec![Fault {
        cut_after: Some(2),
        ..Fault::default()
    }]);
    let err = assemble(&gw, &request("haiku", "one two three four"))
        .await
        .expect_err("cut");
    assert_eq!(err.kind, ErrorKind::Connection);

    mock.push_script(vec![Fault {
        malformed: true,
        ..Fault::default()
    }]);
    let err = assemble(&gw, &request("haiku", "one two three four"))
        .await
        .expect_err("malformed");
    assert_eq!(err.kind, ErrorKind::InvalidResponse);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vertex_service_account_tokens_are_fetched_once_and_shared() {
    let mock = MockServer::start().await.expect("mock");
    let gw = vertex_gateway(&mock, &key_json(&format!("{}/token", mock.url())));
    let calls = (0..8).map(|i| {
        let gw = &gw;
        async move {
            let model = if i % 2 == 0 { "gemini" } else { "claude" };
            gw.chat(
                &request(model, "concurrent hello"),
                &RequestContext::default(),
            )
            .await
        }
    });
    for resp in futures_util::future::join_all(calls).await {
        let resp = resp.expect("answer");
        assert_eq!(
            resp.choices[0].message.content.as_deref(),
            Some("concurrent hello")
        );
    }
    let log = mock.log();
    let tokens = log.iter().filter(|e| e.provider == "google-oauth").count();
    assert_eq!(tokens, 1, "concurrent callers share one token fetch");
    let chats: Vec<_> = log.iter().filter(|e| e.provider == "vertex").collect();
    assert_eq!(chats.len(), 8);
    for e in &chats {
        assert_eq!(
            e.headers["authorization"],
            "Bearer ya29.mock.switchpoint-test@switchpoint-test.iam.gserviceaccount.com"
        );
    }
    let claude = chats
        .iter()
        .find(|e| e.path.contains("/publishers/anthropic/"))
        .expect("a claude call");
    assert_eq!(
        claude.path,
        "/v1/projects/switchpoint-test/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
    );
    assert_eq!(claude.body["anthropic_version"], "vertex-2023-10-16");
    assert!(claude.body.get("model").is_none());
    let gemini = chats
        .iter()
        .find(|e| e.path.contains("/publishers/google/"))
        .expect("a gemini call");
    assert!(gemini
        .path
        .ends_with("/models/gemini-2.5-flash:generateContent"));

    // Streams of both publishers reuse the cached token.
    for model in ["gemini", "claude"] {
        let resp = assemble(&gw, &request(model, "stream me please"))
            .await
            .expect("stream");
        assert_eq!(
            resp.choices[0].message.content.as_deref(),
            Some("stream me please")
        );
    }
    let tokens = mock
        .log()
        .iter()
        .filter(|e| e.provider == "google-oauth")
        .count();
    assert_eq!(tokens, 1);

    // Priced from the catalogue's vertex rows (the `@date` id): 2 x $3/M + 2 x $15/M.
    let resp = gw
        .chat(
            &request("claude", "priced answer"),
            &RequestContext::default(),
        )
        .await
        .expect("answer");
    let cost = resp
        .switchpoint
        .as_ref()
        .and_then(|f| f.cost.as_ref())
        .map(|c| c.usd.to_string());
    assert_eq!(cost.as_deref(), Some("0.000036"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vertex_tokens_are_refreshed_before_they_expire() {
    let mock = MockServer::start().await.expect("mock");
    // The mock answers `expires_in: 2`; refreshing half-way means a new token after ~1 s.
    let gw = vertex_gateway(
        &mock,
        &key_json(&format!("{}/token?expires_in=2", mock.url())),
    );
    let ctx = RequestContext::default();
    gw.chat(&request("gemini", "a"), &ctx).await.expect("first");
    gw.chat(&request("gemini", "b"), &ctx)
        .await
        .expect("second");
    let count = |m: &MockServer| {
        m.log()
            .iter()
            .filter(|e| e.provider == "google-oauth")
            .count()
    };
    assert_eq!(count(&mock), 1, "a fresh token is reused");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    gw.chat(&request("gemini", "c"), &ctx).await.expect("third");
    assert_eq!(count(&mock), 2, "a token near expiry is replaced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_service_account_is_an_auth_error() {
    let mock = MockServer::start().await.expect("mock");
    // A key the token endpoint does not know: the JWT's signature is refused.
    let mut key: Value = serde_json::from_str(SERVICE_ACCOUNT).expect("key JSON");
    key["token_uri"] = json!(format!("{}/token", mock.url()));
    key["private_key"] = json!(UNTRUSTED_KEY);
    let gw = vertex_gateway(&mock, &key.to_string());
    let err = gw
        .chat(&request("gemini", "hi"), &RequestContext::default())
        .await
        .expect_err("refused");
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.code.as_deref(), Some("invalid_grant"));
    assert!(
        err.message.contains("Invalid JWT Signature."),
        "{}",
        err.message
    );
    assert_eq!(err.provider.as_deref(), Some("vx"));
    assert!(!err.message.contains("PRIVATE KEY"), "{}", err.message);

    // A token endpoint failure scripted for it alone.
    let gw = vertex_gateway(&mock, &key_json(&format!("{}/token", mock.url())));
    mock.push_script(vec![Fault {
        error: Some(FaultError::Server),
        match_provider: Some("google-oauth".into()),
        ..Fault::default()
    }]);
    let err = gw
        .chat(&request("claude", "hi"), &RequestContext::default())
        .await
        .expect_err("token endpoint down");
    assert_eq!(err.kind, ErrorKind::Unavailable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_access_token_is_sent_as_is_and_a_bad_one_is_auth() {
    let mock = MockServer::start().await.expect("mock");
    let gw = vertex_gateway(&mock, "ya29.static-token");
    gw.chat(&request("claude", "hi"), &RequestContext::default())
        .await
        .expect("answer");
    let entry = mock.log().last().cloned().expect("logged");
    assert_eq!(entry.headers["authorization"], "Bearer ya29.static-token");
    assert!(mock.log().iter().all(|e| e.provider != "google-oauth"));
    let gw = vertex_gateway(&mock, "bad-key");
    let err = gw
        .chat(&request("gemini", "hi"), &RequestContext::default())
        .await
        .expect_err("refused");
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.status, Some(401));
    assert_eq!(err.code.as_deref(), Some("UNAUTHENTICATED"));
}

#[test]
fn cloud_secrets_never_reach_debug_output() {
    let cfg = switchpoint_core::config::load_text(&format!(
        "providers:\n  aws:\n    kind: bedrock\n    region: us-west-2\n    aws_access_key_id: AKIDVISIBLE\n    aws_secret_access_key: super-secret-aws\n  vx:\n    kind: vertex\n    project: p\n    credentials: '{}'\n",
        key_json("https://oauth2.googleapis.com/token").replace('\'', "''")
    ))
    .expect("config");
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("super-secret-aws"), "AWS secret leaked");
    assert!(!debug.contains("AKIDVISIBLE"), "AWS key id leaked");
    assert!(!debug.contains("PRIVATE KEY"), "service-account key leaked");
    assert!(debug.contains("switchpoint-test@switchpoint-test.iam.gserviceaccount.com"));
    assert_eq!(
        cfg.providers["aws"].settings.base_url,
        "https://bedrock-runtime.us-west-2.amazonaws.com"
    );
    assert_eq!(
        cfg.providers["vx"].settings.base_url,
        "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1"
    );
}
