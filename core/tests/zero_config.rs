//! Zero-config use: `provider/model` names and keys from the provider's usual variable.
//! Its own test binary, because it sets process environment variables.

use mock_provider::MockServer;
use switchpoint_core::api::{ChatRequest, Message};
use switchpoint_core::{ErrorKind, Gateway, RequestContext};

fn request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user("from the environment")],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_slash_model_works_from_the_environment_alone() {
    let mock = MockServer::start().await.expect("mock");
    // SAFETY of the test: this binary has one test, so nothing reads the environment concurrently.
    std::env::set_var("OPENAI_API_KEY", "sk-from-env");
    std::env::set_var("OPENAI_BASE_URL", format!("{}/v1", mock.url()));
    std::env::set_var("ANTHROPIC_API_KEY", "sk-ant-from-env");
    std::env::set_var("ANTHROPIC_BASE_URL", mock.url());
    std::env::remove_var("GROQ_API_KEY");

    let gw = Gateway::from_env().expect("no config needed");
    let ctx = RequestContext::default();

    let r = gw
        .chat(&request("openai/gpt-4.1"), &ctx)
        .await
        .expect("openai via env");
    assert_eq!(r.text(), Some("from the environment"));
    let facts = r.switchpoint.expect("facts");
    assert_eq!(
        (facts.provider.as_str(), facts.provider_model.as_str()),
        ("openai", "gpt-4.1")
    );
    let sent = mock.log().last().cloned().expect("logged");
    assert_eq!(
        sent.headers.get("authorization").map(String::as_str),
        Some("Bearer sk-from-env")
    );

    let r = gw
        .chat(&request("anthropic/claude-sonnet-4-5"), &ctx)
        .await
        .expect("anthropic via env");
    assert_eq!(r.text(), Some("from the environment"));

    let err = gw
        .chat(&request("groq/llama-3.3-70b-versatile"), &ctx)
        .await
        .expect_err("no key");
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("GROQ_API_KEY"), "{}", err.message);

    let err = gw
        .chat(&request("nosuch/model"), &ctx)
        .await
        .expect_err("unknown");
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.param.as_deref(), Some("model"));
}
