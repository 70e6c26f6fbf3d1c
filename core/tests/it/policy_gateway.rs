//! Keys, budgets, rate limits, the audit log and reload through `Gateway` against the mock
//! provider, on the in-memory state backend (the Redis backend runs the same checks in
//! `policy_redis`).

use mock_provider::MockServer;
use rust_decimal::Decimal;
use std::time::{Duration, SystemTime};
use switchpoint_core::api::{from_json_value, ErrorKind};
use switchpoint_core::config::KeySpec;
use switchpoint_core::{ChatRequest, Gateway, RequestContext};

pub(crate) fn config(mock: &MockServer, extra: serde_json::Value) -> serde_json::Value {
    let mut cfg = serde_json::json!({
        "providers": {"oai": {"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_key": "sk-provider-secret-1"}},
        "models": {
            "gpt": {"provider": "oai", "model": "priced-model"},
            "other": {"provider": "oai", "model": "other-model"},
            "slow": {"provider": "oai", "model": "priced-model!delay_ms=300"}
        },
        // $1,000 per million tokens: a token costs $0.001, so costs are easy to check.
        "pricing": {"oai": {
            "priced-model": {"input": "1000", "output": "1000", "max_output": 50},
            "other-model": {"input": "1000", "output": "1000", "max_output": 50}
        }}
    });
    if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    cfg
}

pub(crate) fn chat(model: &str, text: &str) -> ChatRequest {
    from_json_value(serde_json::json!({
        "model": model, "max_tokens": 20,
        "messages": [{"role": "user", "content": text}]
    }))
    .expect("request")
}

pub(crate) fn ctx(v: serde_json::Value) -> RequestContext {
    from_json_value(v).expect("context")
}

fn spec(v: serde_json::Value) -> KeySpec {
    from_json_value(v).expect("key spec")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_requests_never_spend_past_a_budget_that_fits_ten() {
    let mock = MockServer::start().await.expect("mock");
    // A request costs about $0.02-0.03 here (prompt + answer tokens at $0.001); its worst
    // case (prompt estimate + max_tokens 20) is reserved.
    let probe = Gateway::from_value(config(&mock, serde_json::json!({}))).expect("gateway");
    let one = probe
        .chat(
            &chat("gpt", "alpha beta gamma"),
            &ctx(serde_json::json!({})),
        )
        .await
        .expect("probe");
    let cost = one.switchpoint.expect("present").cost.expect("present").usd;
    let budget = cost * Decimal::from(10);
    let gw = Gateway::from_value(config(
        &mock,
        serde_json::json!({"budgets": [{"scope": "team", "id": "research", "period": "day", "limit_usd": budget.to_string()}]}),
    ))
    .expect("gateway");
    let c = ctx(serde_json::json!({"team": "research"}));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (gw, c) = (gw.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            gw.chat(&chat("gpt", "alpha beta gamma"), &c).await
        }));
    }
    let mut spent = Decimal::ZERO;
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            Ok(r) => {
                ok += 1;
                spent += r.switchpoint.expect("present").cost.expect("present").usd;
            }
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::BudgetExceeded, "{e}");
                assert_eq!(e.code.as_deref(), Some("budget_day"));
                assert!(e.message.contains("team `research`"), "{}", e.message);
                refused += 1;
            }
        }
    }
    assert_eq!(ok + refused, 64);
    assert!((1..=10).contains(&ok), "{ok} admitted");
    assert!(spent <= budget, "spent {spent} of {budget}");
    // Once the reservations settled, what is left is spent or refused, never overspent.
    let more = gw.chat(&chat("gpt", "alpha beta gamma"), &c).await;
    if ok == 10 {
        assert_eq!(more.expect_err("refused").kind, ErrorKind::BudgetExceeded);
    }
    // Another team has no budget: it is not affected.
    gw.chat(
        &chat("gpt", "alpha beta gamma"),
        &ctx(serde_json::json!({"team": "ops"})),
    )
    .await
    .expect("other team");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_per_minute_are_counted_per_user_and_refusals_say_when_to_retry() {
    let mock = MockServer::start().await.expect("mock");
    let gw = Gateway::from_value(config(
        &mock,
        serde_json::json!({"limits": [{"scope": "user", "rpm": 5}]}),
    ))
    .expect("gateway");
    let alice = ctx(serde_json::json!({"user": "alice"}));
    for _ in 0..5 {
        gw.chat(&chat("gpt", "hi"), &alice)
            .await
            .expect("within limit");
    }
    let e = gw
        .chat(&chat("gpt", "hi"), &alice)
        .await
        .expect_err("refused");
    assert_eq!(e.kind, ErrorKind::RateLimitExceeded);
    assert_eq!(e.code.as_deref(), Some("rpm"));
    assert_eq!(e.status, Some(429));
    let wait = e.retry_after.expect("retry_after");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert!(
        e.message
            .contains("user `alice` may make 5 requests per minute"),
        "{}",
        e.message
    );
    // Bob has his own window; the refused request never reached the provider.
    gw.chat(&chat("gpt", "hi"), &ctx(serde_json::json!({"user": "bob"})))
        .await
        .expect("bob");
    assert_eq!(
        mock.log().iter().filter(|e| e.endpoint == "chat").count(),
        6
    );
    let metrics = gw.metrics_text();
    assert!(
        metrics.contains("switchpoint_policy_refusals_total{backend=\"memory\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_are_limited_and_released_when_they_end() {
    let mock = MockServer::start().await.expect("mock");
    let gw = Gateway::from_value(config(
        &mock,
        serde_json::json!({"limits": [{"scope": "route", "id": "slow", "in_flight": 2}]}),
    ))
    .expect("gateway");
    let c = ctx(serde_json::json!({}));
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (gw, c) = (gw.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            gw.chat(&chat("slow", "x"), &c).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.code.as_deref(), Some("in_flight"), "{e}"),
        }
    }
    assert_eq!(ok, 2);
    // Both slots were released: two more fit again.
    let req = chat("slow", "x");
    let (a, b) = tokio::join!(gw.chat(&req, &c), gw.chat(&req, &c));
    a.expect("slot released");
    b.expect("slot released");
    // Other routes are not limited.
    gw.chat(&chat("gpt", "x"), &c).await.expect("other route");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_per_minute_count_the_estimate_then_the_real_tokens() {
    let mock = MockServer::start().await.expect("mock");
    let gw = Gateway::from_value(config(
        &mock,
        serde_json::json!({"limits": [{"scope": "team", "tpm": 120}]}),
    ))
    .expect("gateway");
    let c = ctx(serde_json::json!({"team": "t"}));
    let mut ok = 0;
    let mut last = None;
    for _ in 0..20 {
        match gw.chat(&chat("gpt", "one two three four"), &c).await {
            Ok(_) => ok += 1,
            Err(e) => {
                last = Some(e);
                break;
            }
        }
    }
    let e = last.expect("the window filled up");
    assert_eq!(e.kind, ErrorKind::RateLimitExceeded);
    assert_eq!(e.code.as_deref(), Some("tpm"));
    assert!(e.message.contains("tokens per minute"), "{}", e.message);
    // Each request is admitted with ~25 tokens (prompt estimate + max_tokens 20) and settled
    // with its real total, so more requests fit than the estimate alone would allow.
    assert!((3..20).contains(&ok), "{ok} admitted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_keys_bind_identity_and_are_refused_once_revoked() {
    let mock = MockServer::start().await.expect("mock");
    let gw = Gateway::from_value(config(
        &mock,
        serde_json::json!({"virtual_keys": {"required": true}}),
    ))
    .expect("gateway");
    let created = gw
        .create_key(
            spec(serde_json::json!({"name": "search", "user": "svc-search", "team": "search", "models": ["gpt"], "metadata": {"owner": "ana"}})),
            "admin@example.com",
        )
        .await
        .expect("created");
    assert!(created.key.starts_with("sk-sp-"));
    assert!(created.info.id.starts_with("key-"));
    let with_key = |k: &str| ctx(serde_json::json!({"api_key": k, "team": "spoofed"}));
    let r = gw
        .chat(&chat("gpt", "hello"), &with_key(&created.key))
        .await
        .expect("admitted");
    assert!(r.switchpoint.is_some());
    // The key's team wins over what the request claims.
    let rows = gw.usage(
        SystemTime::UNIX_EPOCH,
        switchpoint_core::telemetry::GroupBy::Team,
    );
    assert!(
        rows.iter().any(|r| r.group.as_deref() == Some("search")),
        "{rows:?}"
    );
    assert!(
        !rows.iter().any(|r| r.group.as_deref() == Some("spoofed")),
        "{rows:?}"
    );
    // Allow-list.
    let e = gw
        .chat(&chat("other", "hello"), &with_key(&created.key))
        .await
        .expect_err("refused");
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::PolicyDenied, Some("model_not_allowed"))
    );
    assert_eq!(e.param.as_deref(), Some("model"));
    // No key, an unknown key.
    let e = gw
        .chat(&chat("gpt", "hello"), &ctx(serde_json::json!({})))
        .await
        .expect_err("refused");
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::Auth, Some("missing_api_key"))
    );
    let e = gw
        .chat(
            &chat("gpt", "hello"),
            &with_key("sk-sp-not-a-real-key-at-all"),
        )
        .await
        .expect_err("refused");
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::Auth, Some("invalid_api_key"))
    );
    // Listing never shows the key.
    let keys = gw.list_keys().await.expect("list");
    assert_eq!(keys.len(), 1);
    let listed = serde_json::to_string(&keys).expect("present");
    assert!(!listed.contains(&created.key[6..]), "{listed}");
    assert!(listed.contains("\"owner\":\"ana\""), "{listed}");
    // Revoked: refused at once, with a clear error.
    let revoked = gw
        .revoke_key(&created.info.id, "admin@example.com")
        .await
        .expect("revoke");
    assert!(revoked.revoked);
    let e = gw
        .chat(&chat("gpt", "hello"), &with_key(&created.key))
        .await
        .expect_err("refused");
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::Auth, Some("key_revoked"))
    );
    assert!(e.message.contains(&created.info.id), "{}", e.message);
    // The audit log has both changes, with who made them.
    let audit = gw.audit(SystemTime::UNIX_EPOCH).await.expect("audit");
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|a| (a.action.as_str(), a.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("key_created", "admin@example.com"),
            ("key_revoked", "admin@example.com")
        ]
    );
    assert!(!serde_json::to_string(&audit)
        .expect("present")
        .contains(&created.key));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_updates_take_effect_at_the_next_request_and_expired_keys_are_refused() {
    let mock = MockServer::start().await.expect("mock");
    let gw = Gateway::from_value(config(&mock, serde_json::json!({"virtual_keys": {}})))
        .expect("gateway");
    let k = gw
        .create_key(spec(serde_json::json!({"limits": {"rpm": 100}})), "ops")
        .await
        .expect("key");
    let c = ctx(serde_json::json!({"api_key": k.key}));
    gw.chat(&chat("gpt", "a"), &c).await.expect("first");
    let updated = gw
        .update_key(&k.info.id, serde_json::json!({"limits": {"rpm": 1}}), "ops")
        .await
        .expect("update");
    assert_eq!(updated.revision, Some(2));
    let e = gw.chat(&chat("gpt", "a"), &c).await.expect_err("refused");
    assert_eq!(e.code.as_deref(), Some("rpm"), "{e}");
    assert!(
        e.message.contains(&format!("key `{}`", k.info.id)),
        "{}",
        e.message
    );
    // An expiry in the past.
    gw.update_key(
        &k.info.id,
        serde_json::json!({"expires_at": 1_000_000, "limits": null}),
        "ops",
    )
    .await
    .expect("expire");
    let e = gw.chat(&chat("gpt", "a"), &c).await.expect_err("refused");
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::Auth, Some("key_expired"))
    );
    // Bad settings name the field.
    let e = gw
        .update_key(&k.info.id, serde_json::json!({"limits": {"rpn": 3}}), "ops")
        .await
        .expect_err("refused");
    assert!(e.message.contains("rpn"), "{}", e.message);
    let e = gw
        .revoke_key("key-0000000000000000", "ops")
        .await
        .expect_err("refused");
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_keys_are_hashed_and_carry_their_own_budget() {
    let mock = MockServer::start().await.expect("mock");
    let gw = Gateway::from_value(config(
        &mock,
        serde_json::json!({"virtual_keys": {"required": true, "keys": [
            {"key": "sk-config-app-key-0123456789", "user": "app", "budgets": [{"period": "month", "limit_usd": "0"}]},
            {"key": "sk-config-free-key-0123456789", "tier": "free"}
        ]}}),
    ))
    .expect("gateway");
    let e = gw
        .chat(
            &chat("gpt", "a"),
            &ctx(serde_json::json!({"api_key": "sk-config-app-key-0123456789"})),
        )
        .await
        .expect_err("refused");
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::BudgetExceeded, Some("budget_month"))
    );
    assert!(e.retry_after.is_some());
    gw.chat(
        &chat("gpt", "a"),
        &ctx(serde_json::json!({"api_key": "sk-config-free-key-0123456789"})),
    )
    .await
    .expect("free key");
    let keys = gw.list_keys().await.expect("list");
    assert_eq!(keys.len(), 2);
    assert!(keys
        .iter()
        .all(|k| k.source == switchpoint_core::policy::KeySource::Config));
    let e = gw
        .revoke_key(&keys[0].id, "ops")
        .await
        .expect_err("refused");
    assert!(e.message.contains("defined in config"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soft_limit_alerts_once_and_does_not_refuse() {
    let mock = MockServer::start().await.expect("mock");
    let gw = Gateway::from_value(config(
        &mock,
        serde_json::json!({"budgets": [{"scope": "gateway", "period": "total", "limit_usd": "100", "soft_limit_usd": "0.01"}]}),
    ))
    .expect("gateway");
    for _ in 0..3 {
        gw.chat(&chat("gpt", "one two three"), &ctx(serde_json::json!({})))
            .await
            .expect("under the hard limit");
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !gw
        .metrics_text()
        .contains("switchpoint_budget_soft_limit_alerts_total{backend=\"memory\"} 1")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            gw.metrics_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let audit = gw.audit(SystemTime::UNIX_EPOCH).await.expect("audit");
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "budget_soft_limit")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_swaps_the_provider_key_without_failing_a_request() {
    let mock = MockServer::start().await.expect("mock");
    let gw = Gateway::from_value(config(&mock, serde_json::json!({}))).expect("gateway");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (gw, stop) = (gw.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, c) = (0u32, ctx(serde_json::json!({})));
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                gw.chat(&chat("slow", "hello"), &c)
                    .await
                    .expect("no request fails");
                ok += 1;
            }
            ok
        }));
    }
    for i in 0..10 {
        tokio::time::sleep(Duration::from_millis(60)).await;
        let mut next = config(&mock, serde_json::json!({}));
        next["providers"]["oai"]["api_key"] = serde_json::json!(format!("sk-rotated-{i}"));
        gw.reload_value(next, "deployer").expect("reload");
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    assert!(total >= 8, "{total} requests");
    // New requests use the rotated key.
    gw.chat(&chat("gpt", "after"), &ctx(serde_json::json!({})))
        .await
        .expect("after");
    let last = mock.log().last().cloned().expect("logged");
    assert_eq!(last.endpoint, "chat");
    assert_eq!(
        last.headers.get("authorization").map(String::as_str),
        Some("Bearer sk-rotated-9")
    );
    let audit = gw.audit(SystemTime::UNIX_EPOCH).await.expect("audit");
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "config_reloaded" && a.actor == "deployer")
            .count(),
        10
    );
    // A bad config is refused and the one in force stays.
    let e = gw
        .reload_value(
            serde_json::json!({"budgets": [{"scope": "team", "period": "year", "limit_usd": 1}]}),
            "deployer",
        )
        .expect_err("refused");
    assert!(e.message.contains("year"), "{}", e.message);
    gw.chat(&chat("gpt", "still"), &ctx(serde_json::json!({})))
        .await
        .expect("still serving");
}

#[test]
fn policy_config_errors_name_the_field() {
    let cases = [
        (
            serde_json::json!({"budgets": [{"scope": "org", "period": "day", "limit_usd": 1}]}),
            "org",
        ),
        (
            serde_json::json!({"limits": [{"scope": "user"}]}),
            "limits[0]",
        ),
        (
            serde_json::json!({"budgets": [{"scope": "gateway", "id": "x", "period": "day", "limit_usd": 1}]}),
            "budgets[0].id",
        ),
        (
            serde_json::json!({"budgets": [{"scope": "team", "period": "day", "limit_usd": 1, "soft_limit_usd": 2}]}),
            "budgets[0].soft_limit_usd",
        ),
        (
            serde_json::json!({"virtual_keys": {"keys": [{"user": "x"}]}}),
            "virtual_keys.keys[0]",
        ),
        (
            serde_json::json!({"virtual_keys": {"keys": [{"hash": "abc"}]}}),
            "virtual_keys.keys[0].hash",
        ),
        (
            serde_json::json!({"state": {"backend": "redis"}}),
            "state.redis",
        ),
        (serde_json::json!({"state": {"backend": "mongo"}}), "mongo"),
    ];
    for (cfg, needle) in cases {
        let e = Gateway::from_value(cfg.clone()).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Config, "{cfg}");
        let text = format!("{} {}", e.message, e.param.clone().unwrap_or_default());
        assert!(text.contains(needle), "{cfg}: {text}");
    }
}
