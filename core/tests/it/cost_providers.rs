//! Cost per provider from real adapter usage (the mock provider reporting cached, cache-write
//! and reasoning tokens in each wire format), checked against figures computed by hand from
//! the published prices in core/data/models.yaml.
//!
//! The request is "alpha beta gamma delta": the mock counts P = 4 prompt words and echoes
//! them, C = 4 completion words; faults add K cached, W cache-write and R reasoning tokens.

use mock_provider::MockServer;
use rust_decimal::Decimal;
use std::str::FromStr;
use switchpoint_core::api::from_json_value;
use switchpoint_core::config::TelemetryConfig;
use switchpoint_core::telemetry::{Telemetry, TokenSplit};
use switchpoint_core::{ChatRequest, Gateway, RequestContext};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

async fn usage_and_cost(
    gw: &Gateway,
    tel: &Telemetry,
    model: &str,
    providers: &[&str],
) -> (TokenSplit, Decimal) {
    let req: ChatRequest = from_json_value(serde_json::json!({
        "model": model, "messages": [{"role": "user", "content": "alpha beta gamma delta"}]
    }))
    .expect("request");
    let resp = gw
        .chat(&req, &RequestContext::default())
        .await
        .expect("answer");
    let usage = resp.usage.expect("usage");
    let cost = tel
        .cost(providers, &resp.model, &usage)
        .unwrap_or_else(|| panic!("{} is priced", resp.model));
    (TokenSplit::from_usage(&usage), cost.total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cost_per_provider_with_cached_and_reasoning_tokens() {
    let mock = MockServer::start().await.expect("mock");
    let url = mock.url();
    let gw = Gateway::from_value(serde_json::json!({
        "providers": {
            "oai": {"kind": "openai", "base_url": format!("{url}/v1"), "api_key": "sk-test"},
            "az": {"kind": "azure_openai", "base_url": url, "api_key": "az-test", "api_version": "2024-10-21"},
            "claude": {"kind": "anthropic", "base_url": url, "api_key": "sk-ant-test"},
            "gem": {"kind": "gemini", "base_url": url, "api_key": "gm-test"}
        },
        "models": {
            "gpt5": {"provider": "oai", "model": "gpt-5!cached_tokens=1000,reasoning_tokens=500"},
            "azure-4o": {"provider": "az", "model": "gpt-4o!cached_tokens=100"},
            "sonnet": {"provider": "claude", "model": "claude-sonnet-4-5!cached_tokens=2000,cache_write_tokens=1000,reasoning_tokens=100"},
            "flash": {"provider": "gem", "model": "gemini-2.5-flash!cached_tokens=3000,reasoning_tokens=200"}
        }
    }))
    .expect("gateway");
    let tel = Telemetry::new(&TelemetryConfig::default(), &Default::default()).expect("telemetry");

    // OpenAI gpt-5 ($1.25 in, $0.125 cached, $10 out): prompt 1004 incl. 1000 cached,
    // completion 504 incl. 500 reasoning.
    // 4 x 1.25 + 1000 x 0.125 + 4 x 10 + 500 x 10 = 0.000005 + 0.000125 + 0.00004 + 0.005
    let (t, c) = usage_and_cost(&gw, &tel, "gpt5", &["oai", "openai"]).await;
    assert_eq!(
        (t.prompt, t.cached, t.completion, t.reasoning),
        (1004, 1000, 504, 500)
    );
    assert_eq!(c, dec("0.00517"));

    // Azure serving gpt-4o ($2.50 in, $1.25 cached, $10 out): prompt 104 incl. 100 cached.
    // 4 x 2.5 + 100 x 1.25 + 4 x 10 = 0.00001 + 0.000125 + 0.00004
    let (t, c) = usage_and_cost(&gw, &tel, "azure-4o", &["az", "azure_openai"]).await;
    assert_eq!((t.prompt, t.cached, t.completion), (104, 100, 4));
    assert_eq!(c, dec("0.000175"));

    // Anthropic claude-sonnet-4-5 ($3 in, $0.30 read, $3.75 write, $15 out): input 4,
    // cache read 2000, cache write 1000, output 104 (thinking included).
    // 4 x 3 + 2000 x 0.30 + 1000 x 3.75 + 104 x 15 = 0.000012 + 0.0006 + 0.00375 + 0.00156
    let (t, c) = usage_and_cost(&gw, &tel, "sonnet", &["claude", "anthropic"]).await;
    assert_eq!(
        (t.prompt, t.cached, t.cache_write, t.completion),
        (3004, 2000, 1000, 104)
    );
    assert_eq!(c, dec("0.005922"));

    // Gemini gemini-2.5-flash ($0.30 in, $0.03 cached, $2.50 out): promptTokenCount 3004 incl.
    // 3000 cached; candidates 4 + thoughts 200.
    // 4 x 0.30 + 3000 x 0.03 + 4 x 2.5 + 200 x 2.5 = 0.0000012 + 0.00009 + 0.00001 + 0.0005
    let (t, c) = usage_and_cost(&gw, &tel, "flash", &["gem", "gemini"]).await;
    assert_eq!(
        (t.prompt, t.cached, t.completion, t.reasoning),
        (3004, 3000, 204, 200)
    );
    assert_eq!(c, dec("0.0006012"));
}

#[test]
fn config_overrides_reprice_a_model() {
    let cfg = switchpoint_core::config::load_text(
        r#"
pricing:
  openai:
    gpt-4o: {input: "1", cached_input: "0.1", output: "2"}
  my-proxy:
    house-model: {input: 0.5, output: 0.5, context_window: 32000, capabilities: [tools]}
"#,
    )
    .expect("config");
    let tel = Telemetry::with_catalogue(&cfg.telemetry, cfg.catalogue.clone()).expect("telemetry");
    let mut u = switchpoint_core::api::Usage::new(2_000_000, 1_000_000);
    u.prompt_tokens_details = Some(switchpoint_core::api::PromptTokensDetails {
        cached_tokens: Some(switchpoint_core::api::TokenCount(1_000_000)),
        ..Default::default()
    });
    // 1M x 1 + 1M x 0.1 + 1M x 2.
    let c = tel
        .cost(&["openai"], "gpt-4o-2024-08-06", &u)
        .expect("priced");
    assert_eq!(c.total, dec("3.1"));
    let m = tel.model_info(&["my-proxy"], "house-model").expect("added");
    assert_eq!(m.context_window, Some(32_000));
    assert!(m.capabilities.tools && !m.capabilities.vision);
    assert!(tel.cost(&["openai"], "no-such-model", &u).is_none());
}
