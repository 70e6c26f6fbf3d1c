//! The quick-start demo: one unified request to providers of different wire formats, a
//! streamed reply, typed errors, a cache hit with its cost saved, and usage and metrics, all
//! over real HTTP to the bundled mock providers.
//!
//! Run with `make demo` (it starts the mock provider and sets MOCK_URL).

use futures_util::StreamExt;
use std::io::Write;
use switchpoint_core::api::{ChatRequest, Message, StreamOptions};
use switchpoint_core::telemetry::GroupBy;
use switchpoint_core::{Gateway, RequestContext};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = std::env::var("MOCK_URL").map_err(|_| "MOCK_URL is not set: run `make demo`")?;
    // The same config an application would ship; keys would be `env:OPENAI_API_KEY` etc.
    let config = format!(
        r#"
providers:
  openai:    {{ base_url: "{mock}/v1", api_key: sk-demo-openai }}
  anthropic: {{ base_url: "{mock}",    api_key: sk-ant-demo }}
  gemini:    {{ base_url: "{mock}",    api_key: gm-demo }}
models:
  gpt:    {{ provider: openai,    model: gpt-4o-mini }}
  claude: {{ provider: anthropic, model: claude-sonnet-4-5 }}
  flash:  {{ provider: gemini,    model: gemini-2.5-flash }}
  # The mock answers this model with a 429 and Retry-After: 2, as a provider under load would.
  busy:   {{ provider: openai,    model: "gpt-4o!status=429,retry_after=2" }}
cache: {{ enabled: true, ttl: 1h }}
"#
    );
    let gw = Gateway::from_text(&config)?;
    let ctx = RequestContext::default();
    println!("switchpoint demo: the gateway in this process, mock providers at {mock}\n");

    println!("1. One unified request, two wire formats");
    for model in ["gpt", "claude"] {
        let req = request(model, "Hello from one API to every provider");
        let resp = gw.chat(&req, &ctx).await?;
        let facts = resp.switchpoint.as_ref().ok_or("facts missing")?;
        let usage = resp.usage.as_ref().ok_or("usage missing")?;
        println!(
            "   {model:<7} -> {:<10} {:<18} {:?}  tokens {}+{}  {:.2} ms (gateway overhead {:.0} µs)",
            facts.provider,
            facts.provider_model,
            resp.text().unwrap_or_default(),
            usage.prompt_tokens,
            usage.completion_tokens,
            facts.latency_ms,
            facts.overhead_us
        );
    }

    println!("\n2. A streamed reply (Gemini's SSE, delivered as OpenAI chunks)");
    let mut req = request("flash", "streams arrive word by word as they are produced");
    req.stream_options = Some(StreamOptions {
        include_usage: Some(true),
        ..Default::default()
    });
    let mut stream = gw.chat_stream(&req, &ctx).await?;
    print!("   ");
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        chunks += 1;
        print!("{}", chunk.text());
        if let Some(u) = &chunk.usage {
            print!("  [usage: {} tokens]", u.total_tokens);
        }
        std::io::stdout().flush()?;
    }
    let facts = stream.facts();
    println!(
        "\n   {chunks} chunks, first after {:.2} ms, done in {:.2} ms",
        facts.ttft_ms.unwrap_or_default(),
        facts.latency_ms
    );

    println!("\n3. A typed error");
    match gw.chat(&request("busy", "are you there?"), &ctx).await {
        Ok(_) => println!("   unexpected success"),
        Err(e) => println!(
            "   kind={} status={:?} provider={:?} retry_after={:?}\n   {e}",
            e.kind,
            e.status,
            e.provider.as_deref().unwrap_or("-"),
            e.retry_after
        ),
    }
    match gw
        .chat(&request("gtp", "typo in the model name"), &ctx)
        .await
    {
        Ok(_) => println!("   unexpected success"),
        Err(e) => println!(
            "   kind={} param={:?}\n   {}",
            e.kind,
            e.param.as_deref().unwrap_or("-"),
            e.message
        ),
    }

    println!("\n4. The cache: the same question again is a hit, no provider call, its cost saved");
    let team = RequestContext {
        team: Some("docs".into()),
        ..RequestContext::default()
    };
    for _ in 0..2 {
        let resp = gw
            .chat(&request("claude", "What does the cache key hash?"), &team)
            .await?;
        let facts = resp.switchpoint.as_ref().ok_or("facts missing")?;
        let cost = facts.cost.as_ref().ok_or("cost missing")?;
        println!(
            "   cache={:<5} paid ${} saved ${}",
            facts.cache.map_or("off", |c| c.as_str()),
            cost.usd,
            cost.saved_usd.unwrap_or_default()
        );
    }

    println!("\n5. Usage by model, and the Prometheus metrics the gateway keeps");
    for row in gw.usage(std::time::UNIX_EPOCH, GroupBy::Model) {
        println!(
            "   {:<7} requests {} errors {} cache hits {} tokens {}+{} cost ${}",
            row.group.as_deref().unwrap_or("-"),
            row.requests,
            row.errors,
            row.cache_hits,
            row.prompt_tokens,
            row.completion_tokens,
            row.cost_usd
        );
    }
    let metrics = gw.metrics_text();
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("switchpoint_requests_total"))
    {
        println!("   {line}");
    }
    println!("\ndone.");
    Ok(())
}

fn request(model: &str, text: &str) -> ChatRequest {
    ChatRequest {
        model: model.to_string(),
        messages: vec![Message::user(text)],
        ..Default::default()
    }
}
