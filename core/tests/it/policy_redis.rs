//! Policies on a real redis-server shared by several gateways (each with its own connection,
//! as separate processes would have): budgets and limits exact across them, revocation and
//! cooldowns seen by all, cache entries shared, and Redis stopped and restarted mid-run under
//! both failure modes. (Separate OS processes are exercised by the Python suite.)

use crate::common::redis::RedisServer;
use crate::policy_gateway::{chat, config, ctx};
use mock_provider::MockServer;
use rust_decimal::Decimal;
use std::time::Duration;
use switchpoint_core::api::ErrorKind;
use switchpoint_core::telemetry::CacheStatus;
use switchpoint_core::Gateway;

fn on_redis(
    mock: &MockServer,
    redis: &RedisServer,
    prefix: &str,
    on_unavailable: &str,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut cfg = config(mock, extra);
    cfg["state"] = serde_json::json!({
        "backend": "redis",
        "redis": {"url": redis.url(), "prefix": prefix, "timeout": 0.3},
        "on_unavailable": on_unavailable
    });
    cfg
}

fn server() -> Option<RedisServer> {
    let s = RedisServer::start();
    if s.is_none() {
        eprintln!("SWITCHPOINT_SKIP_REDIS is set: Redis policy tests skipped");
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_gateways_share_one_limit_of_100_requests_per_minute_exactly() {
    let Some(redis) = server() else { return };
    let mock = MockServer::start().await.expect("mock");
    let extra = serde_json::json!({"limits": [{"scope": "gateway", "rpm": 100}]});
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let gw = Gateway::from_value(on_redis(&mock, &redis, "rpm4:", "closed", extra.clone()))
            .expect("gateway");
        tasks.push(tokio::spawn(async move {
            let c = ctx(serde_json::json!({}));
            let (mut ok, mut refused) = (0, 0);
            for _ in 0..50 {
                match gw.chat(&chat("gpt", "hi"), &c).await {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        assert_eq!(e.kind, ErrorKind::RateLimitExceeded, "{e}");
                        assert!(e.retry_after.is_some());
                        refused += 1;
                    }
                }
            }
            (ok, refused)
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        let (o, r) = t.await.expect("task");
        ok += o;
        refused += r;
    }
    assert_eq!((ok, refused), (100, 100));
    assert_eq!(
        mock.log().iter().filter(|e| e.endpoint == "chat").count(),
        100
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_never_spend_past_a_shared_budget() {
    let Some(redis) = server() else { return };
    let mock = MockServer::start().await.expect("mock");
    let probe = Gateway::from_value(config(&mock, serde_json::json!({}))).expect("gateway");
    let cost = probe
        .chat(
            &chat("gpt", "alpha beta gamma"),
            &ctx(serde_json::json!({})),
        )
        .await
        .expect("probe")
        .switchpoint
        .expect("present")
        .cost
        .expect("present")
        .usd;
    let budget = cost * Decimal::from(10);
    let extra = serde_json::json!({"budgets": [{"scope": "team", "period": "day", "limit_usd": budget.to_string()}]});
    let gws: Vec<Gateway> = (0..2)
        .map(|_| {
            Gateway::from_value(on_redis(&mock, &redis, "budget2:", "closed", extra.clone()))
                .expect("gateway")
        })
        .collect();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let gw = gws[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            gw.chat(
                &chat("gpt", "alpha beta gamma"),
                &ctx(serde_json::json!({"team": "r"})),
            )
            .await
        }));
    }
    let mut spent = Decimal::ZERO;
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(r) => {
                ok += 1;
                spent += r.switchpoint.expect("present").cost.expect("present").usd;
            }
            Err(e) => assert_eq!(e.kind, ErrorKind::BudgetExceeded, "{e}"),
        }
    }
    assert!((1..=10).contains(&ok), "{ok} admitted");
    assert!(spent <= budget, "spent {spent} of {budget}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_through_one_gateway_is_refused_by_another_at_once() {
    let Some(redis) = server() else { return };
    let mock = MockServer::start().await.expect("mock");
    let extra = serde_json::json!({"virtual_keys": {"required": true}});
    let a = Gateway::from_value(on_redis(&mock, &redis, "revoke:", "closed", extra.clone()))
        .expect("a");
    let b = Gateway::from_value(on_redis(&mock, &redis, "revoke:", "closed", extra)).expect("b");
    let created = a
        .create_key(
            serde_json::from_value(serde_json::json!({"team": "x"})).expect("present"),
            "admin",
        )
        .await
        .expect("created");
    let c = ctx(serde_json::json!({"api_key": created.key}));
    b.chat(&chat("gpt", "hi"), &c)
        .await
        .expect("b admits a key a created");
    assert_eq!(b.list_keys().await.expect("list").len(), 1);
    a.revoke_key(&created.info.id, "admin")
        .await
        .expect("revoke");
    let e = b.chat(&chat("gpt", "hi"), &c).await.expect_err("refused");
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::Auth, Some("key_revoked"))
    );
    let audit = b.audit(std::time::UNIX_EPOCH).await.expect("audit");
    assert_eq!(audit.len(), 2, "{audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooldown_one_gateway_discovers_is_honoured_by_another() {
    let Some(redis) = server() else { return };
    let mock = MockServer::start().await.expect("mock");
    let route = serde_json::json!({"routes": {"r": {
        "targets": [{"provider": "oai", "model": "primary!status=503"}, {"provider": "oai", "model": "backup"}],
        "retries": {"max": 0},
        "cooldown": {"failures": 1, "window": "10s", "duration": "30s"}
    }}});
    let a =
        Gateway::from_value(on_redis(&mock, &redis, "cool:", "closed", route.clone())).expect("a");
    let b = Gateway::from_value(on_redis(&mock, &redis, "cool:", "closed", route)).expect("b");
    let c = ctx(serde_json::json!({}));
    let r = a
        .chat(&chat("r", "hi"), &c)
        .await
        .expect("served by the backup");
    assert_eq!(r.switchpoint.expect("present").attempts.len(), 2);
    // B has never called the primary, yet benches it once A's cooldown reaches it.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let benched = b.health().iter().any(|h| {
            h.model == "primary!status=503"
                && h.state == switchpoint_core::routing::HealthState::CoolingDown
        });
        if benched {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{:?}", b.health());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    mock.clear_log();
    let r = b.chat(&chat("r", "hi"), &c).await.expect("backup");
    let attempts = r.switchpoint.expect("present").attempts;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0].provider_model, "backup");
    assert!(mock.log().iter().all(|e| !e.model.contains("primary")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_one_gateway_cached_is_a_hit_for_another() {
    let Some(redis) = server() else { return };
    let mock = MockServer::start().await.expect("mock");
    let extra = serde_json::json!({"cache": {"enabled": true}});
    let a =
        Gateway::from_value(on_redis(&mock, &redis, "cache:", "closed", extra.clone())).expect("a");
    let b = Gateway::from_value(on_redis(&mock, &redis, "cache:", "closed", extra)).expect("b");
    let c = ctx(serde_json::json!({"team": "t"}));
    let first = a
        .chat(&chat("gpt", "shared question"), &c)
        .await
        .expect("miss");
    assert_eq!(
        first.switchpoint.as_ref().expect("present").cache,
        Some(CacheStatus::Miss)
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        mock.clear_log();
        let second = b
            .chat(&chat("gpt", "shared question"), &c)
            .await
            .expect("answer");
        if second.switchpoint.as_ref().expect("present").cache == Some(CacheStatus::Hit) {
            assert_eq!(
                second.choices[0].message.content,
                first.choices[0].message.content
            );
            assert!(mock.log().is_empty());
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never a shared hit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Another team's namespace never sees it.
    let other = b
        .chat(
            &chat("gpt", "shared question"),
            &ctx(serde_json::json!({"team": "u"})),
        )
        .await
        .expect("answer");
    assert_eq!(
        other.switchpoint.expect("present").cache,
        Some(CacheStatus::Miss)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_restarted_mid_run_under_both_failure_modes() {
    let Some(mut redis) = server() else { return };
    let mock = MockServer::start().await.expect("mock");
    let extra = serde_json::json!({"limits": [{"scope": "user", "rpm": 1000}]});
    let closed = Gateway::from_value(on_redis(&mock, &redis, "outage:", "closed", extra.clone()))
        .expect("closed");
    let open =
        Gateway::from_value(on_redis(&mock, &redis, "outage:", "open", extra)).expect("open");
    let c = ctx(serde_json::json!({"user": "u"}));
    closed.chat(&chat("gpt", "hi"), &c).await.expect("up");
    open.chat(&chat("gpt", "hi"), &c).await.expect("up");

    redis.stop();
    let t = std::time::Instant::now();
    let e = closed
        .chat(&chat("gpt", "hi"), &c)
        .await
        .expect_err("refused");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::Unavailable, Some("state_unavailable"))
    );
    assert!(e.message.contains("on_unavailable"), "{}", e.message);
    open.chat(&chat("gpt", "hi"), &c)
        .await
        .expect("fails open: admitted uncounted");
    for gw in [&closed, &open] {
        let m = gw.metrics_text();
        assert!(
            m.contains("switchpoint_state_reachable{backend=\"redis\"} 0"),
            "{m}"
        );
        assert!(
            !m.contains("switchpoint_state_unavailable_total{backend=\"redis\"} 0"),
            "{m}"
        );
    }

    redis.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match closed.chat(&chat("gpt", "hi"), &c).await {
            Ok(_) => break,
            Err(e) => {
                assert_eq!(e.code.as_deref(), Some("state_unavailable"), "{e}");
                assert!(std::time::Instant::now() < deadline, "never recovered: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    open.chat(&chat("gpt", "hi"), &c).await.expect("recovered");
    assert!(closed
        .metrics_text()
        .contains("switchpoint_state_reachable{backend=\"redis\"} 1"));
}
