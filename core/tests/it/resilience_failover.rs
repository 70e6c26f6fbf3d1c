//! Retries, failover, cooldowns, hedging and fallbacks over real HTTP against the mock
//! provider's scripted faults.

use mock_provider::{Fault, FaultError, MockServer};
use serde_json::{json, Value};
use std::time::Duration;
use switchpoint_core::api::{
    from_json_value, AttemptFact, AttemptOutcome, ChatRequest, EmbeddingRequest, Message,
};
use switchpoint_core::routing::HealthState;
use switchpoint_core::{ErrorKind, Gateway, RequestContext};

fn providers(mock: &MockServer) -> Value {
    json!({
        "oai": {"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_key": "sk-1"},
        "oai2": {"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_key": "sk-2"},
        "oai_bad": {"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_key": "bad-key"},
        "claude": {"kind": "anthropic", "base_url": mock.url(), "api_key": "sk-ant"},
        "az": {"kind": "azure_openai", "base_url": mock.url(), "api_key": "az", "api_version": "2024-10-21"}
    })
}

fn gateway(mock: &MockServer, routes: Value) -> Gateway {
    Gateway::from_value(json!({"providers": providers(mock), "routes": routes})).expect("config")
}

fn primary_backup(extra: Value) -> Value {
    let mut r = json!({"targets": [
        {"provider": "oai", "model": "primary"},
        {"provider": "claude", "model": "backup"}
    ]});
    if let (Value::Object(r), Value::Object(e)) = (&mut r, extra) {
        r.extend(e);
    }
    json!({ "r": r })
}

fn ask(model: &str, text: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user(text)],
        max_tokens: Some(64),
        ..Default::default()
    }
}

fn on(model: &str, f: Fault) -> Fault {
    Fault {
        match_model: Some(model.into()),
        ..f
    }
}

fn status(s: u16) -> Fault {
    Fault {
        status: Some(s),
        ..Fault::default()
    }
}

fn outcomes(attempts: &[AttemptFact]) -> Vec<(String, AttemptOutcome)> {
    attempts
        .iter()
        .map(|a| (a.provider_model.clone(), a.outcome))
        .collect()
}

fn ok(m: &str) -> (String, AttemptOutcome) {
    (m.to_string(), AttemptOutcome::Ok)
}

fn err(m: &str, k: ErrorKind) -> (String, AttemptOutcome) {
    (m.to_string(), AttemptOutcome::Error(k))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_retryable_error_kind_fails_over_to_the_backup() {
    let mock = MockServer::start().await.expect("mock");
    let cases = [
        (status(500), ErrorKind::Unavailable),
        (status(503), ErrorKind::Unavailable),
        (status(529), ErrorKind::Unavailable),
        (
            Fault {
                status: Some(429),
                retry_after: Some(1.0),
                ..Fault::default()
            },
            ErrorKind::RateLimited,
        ),
        (
            Fault {
                reset: true,
                ..Fault::default()
            },
            ErrorKind::Connection,
        ),
        (
            Fault {
                delay_ms: Some(3000),
                ..Fault::default()
            },
            ErrorKind::Timeout,
        ),
        (
            Fault {
                malformed: true,
                ..Fault::default()
            },
            ErrorKind::InvalidResponse,
        ),
    ];
    for (fault, kind) in cases {
        let gw = gateway(&mock, primary_backup(json!({"timeouts": {"attempt": 0.3}})));
        mock.clear_script();
        mock.push_script(vec![on("primary", fault)]);
        let resp = gw
            .chat(&ask("r", "fail over"), &RequestContext::new())
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(resp.text(), Some("fail over"));
        let facts = resp.switchpoint.expect("facts");
        assert_eq!(facts.provider, "claude", "{kind}");
        assert_eq!(facts.route.as_deref(), Some("r"));
        assert_eq!(
            outcomes(&facts.attempts),
            [err("primary", kind), ok("backup")],
            "{kind}"
        );
        assert!(facts.attempts[0].message.is_some());
        assert!(facts
            .attempts
            .iter()
            .all(|a| a.route.as_deref() == Some("r")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_and_bad_request_skip_the_rest_of_that_provider() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(
        &mock,
        json!({
            "auth": {"targets": [
                {"provider": "oai_bad", "model": "first"},
                {"provider": "oai_bad", "model": "second"},
                {"provider": "claude", "model": "third"}
            ]},
            "bad": {"targets": [
                {"provider": "oai", "model": "first"},
                {"provider": "oai", "model": "second"},
                {"provider": "claude", "model": "third"}
            ]},
            "one_provider": {"targets": [
                {"provider": "oai", "model": "first"},
                {"provider": "oai", "model": "second"}
            ]}
        }),
    );
    let ctx = RequestContext::new();
    let r = gw.chat(&ask("auth", "x"), &ctx).await.expect("served");
    let f = r.switchpoint.expect("facts");
    assert_eq!(
        outcomes(&f.attempts),
        [err("first", ErrorKind::Auth), ok("third")]
    );

    mock.push_script(vec![on(
        "first",
        Fault {
            error: Some(FaultError::BadRequest),
            ..Fault::default()
        },
    )]);
    let r = gw.chat(&ask("bad", "x"), &ctx).await.expect("served");
    let f = r.switchpoint.expect("facts");
    assert_eq!(
        outcomes(&f.attempts),
        [err("first", ErrorKind::BadRequest), ok("third")]
    );

    mock.clear_log();
    mock.push_script(vec![on(
        "first",
        Fault {
            error: Some(FaultError::BadRequest),
            times: Some(5),
            ..Fault::default()
        },
    )]);
    let e = gw
        .chat(&ask("one_provider", "x"), &ctx)
        .await
        .expect_err("no other provider");
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert_eq!(mock.log().len(), 1, "the request ended at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_window_and_content_filter_errors_fall_back_by_kind() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(
        &mock,
        json!({
            "small": {
                "targets": [{"provider": "oai", "model": "small-ctx", "context_window": 8000}],
                "fallbacks": [
                    {"on": ["context_window_exceeded"], "to": "big"},
                    {"on": ["content_filtered"], "to": ["other", "big"]}
                ]
            },
            "big": {"targets": [{"provider": "claude", "model": "big-ctx", "context_window": 200000}]},
            "filtered": {
                "targets": [{"provider": "az", "model": "dep"}],
                "fallbacks": [{"on": ["content_filtered"], "to": "other"}]
            },
            "other": {"targets": [{"provider": "claude", "model": "other-m"}]}
        }),
    );
    let ctx = RequestContext::new();
    mock.push_script(vec![on(
        "small-ctx",
        Fault {
            error: Some(FaultError::ContextWindow),
            ..Fault::default()
        },
    )]);
    let r = gw.chat(&ask("small", "long"), &ctx).await.expect("served");
    let f = r.switchpoint.expect("facts");
    assert_eq!(f.route.as_deref(), Some("big"));
    assert_eq!(f.routed_via, ["small"]);
    assert_eq!(
        outcomes(&f.attempts),
        [
            err("small-ctx", ErrorKind::ContextWindowExceeded),
            ok("big-ctx")
        ]
    );

    mock.push_script(vec![Fault {
        error: Some(FaultError::ContentFilter),
        match_provider: Some("azure".into()),
        ..Fault::default()
    }]);
    let r = gw.chat(&ask("filtered", "x"), &ctx).await.expect("served");
    let f = r.switchpoint.expect("facts");
    assert_eq!(f.provider, "claude");
    assert_eq!(
        outcomes(&f.attempts),
        [err("dep", ErrorKind::ContentFiltered), ok("other-m")]
    );

    // A kind with no fallback entry is returned as is.
    mock.push_script(vec![on("small-ctx", status(503))]);
    let e = gw
        .chat(&ask("small", "x"), &ctx)
        .await
        .expect_err("no fallback");
    assert_eq!(e.kind, ErrorKind::Unavailable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_stay_on_the_target_with_backoff_then_fail_over() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(
        &mock,
        primary_backup(
            json!({"retries": {"max": 2, "backoff": "20ms"}, "cooldown": {"failures": 10}}),
        ),
    );
    let ctx = RequestContext::new();
    mock.push_script(vec![on(
        "primary",
        Fault {
            status: Some(503),
            times: Some(2),
            ..Fault::default()
        },
    )]);
    let r = gw.chat(&ask("r", "x"), &ctx).await.expect("served");
    let f = r.switchpoint.expect("facts");
    assert_eq!(
        outcomes(&f.attempts),
        [
            err("primary", ErrorKind::Unavailable),
            err("primary", ErrorKind::Unavailable),
            ok("primary")
        ]
    );
    assert_eq!(f.attempts[0].waited_ms, 0.0);
    assert!(f.attempts[1].waited_ms <= 20.0 && f.attempts[2].waited_ms <= 40.0);

    mock.push_script(vec![on(
        "primary",
        Fault {
            status: Some(500),
            times: Some(3),
            ..Fault::default()
        },
    )]);
    let r = gw.chat(&ask("r", "x"), &ctx).await.expect("served");
    let f = r.switchpoint.expect("facts");
    assert_eq!(f.attempts.len(), 4);
    assert_eq!(f.attempts[3].provider_model, "backup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_up_to_its_cap() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(
        &mock,
        json!({"solo": {
            "targets": [{"provider": "oai", "model": "solo"}],
            "retries": {"max": 1, "max_retry_after": "2s"}
        }}),
    );
    let ctx = RequestContext::new();
    mock.push_script(vec![Fault {
        status: Some(429),
        retry_after: Some(1.0),
        ..Fault::default()
    }]);
    let r = gw.chat(&ask("solo", "x"), &ctx).await.expect("served");
    let f = r.switchpoint.expect("facts");
    assert_eq!(
        outcomes(&f.attempts),
        [err("solo", ErrorKind::RateLimited), ok("solo")]
    );
    assert!(f.attempts[1].waited_ms >= 1000.0, "{:?}", f.attempts[1]);

    mock.clear_log();
    mock.push_script(vec![Fault {
        status: Some(429),
        retry_after: Some(30.0),
        ..Fault::default()
    }]);
    let e = gw
        .chat(&ask("solo", "x"), &ctx)
        .await
        .expect_err("too long to wait");
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(Duration::from_secs(30)));
    assert_eq!(mock.log().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_target_rests_and_health_shows_until_when() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(
        &mock,
        primary_backup(json!({"cooldown": {"failures": 1, "duration": "30s"}})),
    );
    let ctx = RequestContext::new();
    mock.push_script(vec![on("primary", status(503))]);
    gw.chat(&ask("r", "x"), &ctx)
        .await
        .expect("served by backup");
    let h = gw.health();
    let p = h
        .iter()
        .find(|t| t.model == "primary")
        .expect("primary listed");
    assert_eq!(p.state, HealthState::CoolingDown);
    assert_eq!(p.cooldown_reason, Some(ErrorKind::Unavailable));
    let left = p.cooldown_remaining_s.expect("remaining");
    assert!(left > 29.0 && left <= 30.0, "{left}");
    assert!(p.cooling_until_unix_ms.is_some());
    assert_eq!(p.routes, ["r"]);
    assert_eq!(p.failures, 1);
    let b = h
        .iter()
        .find(|t| t.model == "backup")
        .expect("backup listed");
    assert_eq!(b.state, HealthState::Healthy);
    assert!(b.ewma_latency_ms.is_some());
    assert_eq!(b.in_flight, 0);
    let json = serde_json::to_value(&h).expect("serializable");
    assert_eq!(json[0]["state"], "cooling_down");

    mock.clear_log();
    let r = gw.chat(&ask("r", "x"), &ctx).await.expect("served");
    let f = r.switchpoint.expect("facts");
    assert_eq!(
        outcomes(&f.attempts),
        [ok("backup")],
        "the resting primary is skipped"
    );
    assert!(mock.log().iter().all(|e| e.model == "backup"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_target_rests_the_error_says_when_to_come_back() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, primary_backup(json!({})));
    let ctx = RequestContext::new();
    let limited = |m: &str| {
        on(
            m,
            Fault {
                status: Some(429),
                retry_after: Some(30.0),
                ..Fault::default()
            },
        )
    };
    mock.push_script(vec![limited("primary"), limited("backup")]);
    let e = gw
        .chat(&ask("r", "x"), &ctx)
        .await
        .expect_err("both limited");
    assert_eq!(e.kind, ErrorKind::RateLimited);
    let after = e.retry_after.expect("retry_after").as_secs_f64();
    assert!(after > 29.0 && after <= 30.0, "{after}");

    mock.clear_log();
    let e = gw
        .chat(&ask("r", "x"), &ctx)
        .await
        .expect_err("all resting");
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.code.as_deref(), Some("all_targets_cooling_down"));
    let after = e.retry_after.expect("retry_after").as_secs_f64();
    assert!(after > 29.0 && after <= 30.0, "{after}");
    assert!(e.message.contains("oai/primary"), "{}", e.message);
    assert!(mock.log().is_empty(), "no provider was called");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_may_wait_for_the_first_target_to_come_back() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, primary_backup(json!({"cooldown": {"wait": "3s"}})));
    let limited = |m: &str| {
        on(
            m,
            Fault {
                status: Some(429),
                retry_after: Some(1.0),
                ..Fault::default()
            },
        )
    };
    mock.push_script(vec![limited("primary"), limited("backup")]);
    let r = gw
        .chat(&ask("r", "x"), &RequestContext::new())
        .await
        .expect("served after waiting");
    let f = r.switchpoint.expect("facts");
    assert_eq!(f.attempts.len(), 3);
    assert_eq!(f.attempts[2].outcome, AttemptOutcome::Ok);
    assert!(f.latency_ms >= 900.0);

    // Within a deadline shorter than the wait, the error comes at once.
    mock.push_script(vec![limited("primary"), limited("backup")]);
    let ctx = RequestContext::new().with_timeout(Duration::from_millis(500));
    let e = gw
        .chat(&ask("r", "x"), &ctx)
        .await
        .expect_err("no time to wait");
    assert_eq!(e.kind, ErrorKind::RateLimited);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hedging_takes_the_first_answer_and_cancels_the_other() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, primary_backup(json!({"hedge": {"after": "100ms"}})));
    mock.push_script(vec![on(
        "primary",
        Fault {
            delay_ms: Some(2000),
            ..Fault::default()
        },
    )]);
    let r = gw
        .chat(&ask("r", "hedged"), &RequestContext::new())
        .await
        .expect("served");
    let f = r.switchpoint.expect("facts");
    assert_eq!(f.provider_model, "backup");
    assert_eq!(
        outcomes(&f.attempts),
        [err("primary", ErrorKind::Cancelled), ok("backup")]
    );
    assert!(f.attempts[1].hedge && !f.attempts[0].hedge);
    assert!(f.latency_ms < 2000.0);
    let mut closed = false;
    for _ in 0..100 {
        if mock
            .log()
            .iter()
            .any(|e| e.model == "primary" && e.client_closed_early)
        {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(closed, "the slow attempt was cancelled: {:?}", mock.log());
    // A cancelled hedge does not count against the target.
    let h = gw.health();
    let p = h.iter().find(|t| t.model == "primary").expect("listed");
    assert_eq!(
        (p.state, p.failures, p.in_flight),
        (HealthState::Healthy, 0, 0)
    );

    // A fast primary answers alone.
    mock.clear_log();
    let r = gw
        .chat(&ask("r", "quick"), &RequestContext::new())
        .await
        .expect("served");
    assert_eq!(
        outcomes(&r.switchpoint.expect("facts").attempts),
        [ok("primary")]
    );
    assert_eq!(mock.log().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_fallbacks_follow_retryable_errors_and_embeddings_fail_over_too() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(
        &mock,
        json!({
            "a": {"targets": [{"provider": "oai", "model": "a-model"}], "fallbacks": [{"to": "b"}]},
            "b": {"targets": [{"provider": "claude", "model": "b-model"}]},
            "emb": {"targets": [
                {"provider": "oai", "model": "emb-primary"},
                {"provider": "oai2", "model": "emb-backup"}
            ]}
        }),
    );
    let ctx = RequestContext::new();
    mock.push_script(vec![on("a-model", status(502))]);
    let r = gw.chat(&ask("a", "x"), &ctx).await.expect("served");
    let f = r.switchpoint.expect("facts");
    assert_eq!(
        (f.route.as_deref(), f.routed_via.as_slice()),
        (Some("b"), &["a".to_string()][..])
    );
    assert_eq!(
        outcomes(&f.attempts),
        [err("a-model", ErrorKind::Unavailable), ok("b-model")]
    );

    mock.push_script(vec![on("emb-primary", status(503))]);
    let e = gw
        .embed(
            &from_json_value::<EmbeddingRequest>(json!({"model": "emb", "input": "hello"}))
                .expect("request"),
            &ctx,
        )
        .await
        .expect("embedded");
    assert_eq!(e.data.len(), 1);
    let f = e.switchpoint.expect("facts");
    assert_eq!(
        outcomes(&f.attempts),
        [err("emb-primary", ErrorKind::Unavailable), ok("emb-backup")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routes_total_deadline_bounds_every_attempt() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(
        &mock,
        json!({"slow": {"targets": [{"provider": "oai", "model": "slow-m"}], "timeouts": {"total": 0.3}}}),
    );
    mock.push_script(vec![Fault {
        delay_ms: Some(3000),
        ..Fault::default()
    }]);
    let started = std::time::Instant::now();
    let e = gw
        .chat(&ask("slow", "x"), &RequestContext::new())
        .await
        .expect_err("deadline");
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(e.message.contains("0.3"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(2));
}
