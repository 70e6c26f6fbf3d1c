//! Cooldown and half-open timing on tokio's paused clock (no HTTP: health is driven through
//! leases exactly as attempts drive it).

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchpoint_core::api::{ChatRequest, Message};
use switchpoint_core::routing::{Features, HealthState, Pick, Rng, Route};
use switchpoint_core::{ErrorKind, Gateway, RequestContext};

fn gateway() -> Gateway {
    Gateway::from_value(json!({
        "providers": {"a": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"}},
        "routes": {"r": {
            "targets": [{"provider": "a", "model": "primary"}, {"provider": "a", "model": "backup"}],
            "cooldown": {"failures": 2, "window": "10s", "duration": "5s", "max_duration": "15s"}
        }}
    }))
    .expect("config")
}

fn decide(gw: &Gateway) -> Pick {
    let req = ChatRequest {
        model: "r".into(),
        messages: vec![Message::user("x")],
        ..Default::default()
    };
    gw.router()
        .decide(
            "r",
            &RequestContext::new(),
            &Features::of(&req),
            &mut Rng::seeded(1),
        )
        .expect("decision")
        .1
}

fn fail(gw: &Gateway, route: &Arc<Route>, kind: ErrorKind, after: Option<Duration>) {
    let now = gw.router().clock().now_ms();
    let mut lease = route.slots[0]
        .target
        .health
        .acquire(now, false)
        .expect("primary available");
    lease.failed(now, kind, after, &route.policy.cooldown);
}

fn primary_state(gw: &Gateway) -> (HealthState, Option<f64>) {
    let h = gw.health();
    let p = h.iter().find(|t| t.model == "primary").expect("listed");
    (p.state, p.cooldown_remaining_s)
}

#[tokio::test(start_paused = true)]
async fn failures_rest_the_target_then_one_probe_decides() {
    let gw = gateway();
    let route = gw.router().route("r").expect("route");
    fail(&gw, &route, ErrorKind::Unavailable, None);
    assert_eq!(
        decide(&gw),
        Pick::Target(0),
        "one failure is below the threshold"
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    fail(&gw, &route, ErrorKind::Timeout, None);
    assert_eq!(primary_state(&gw), (HealthState::CoolingDown, Some(5.0)));
    assert_eq!(decide(&gw), Pick::Target(1));

    tokio::time::advance(Duration::from_millis(4999)).await;
    assert_eq!(primary_state(&gw), (HealthState::CoolingDown, Some(0.001)));
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(primary_state(&gw), (HealthState::HalfOpen, None));
    assert_eq!(
        decide(&gw),
        Pick::Target(0),
        "half-open: the primary is probed"
    );

    // While the probe runs, everyone else goes to the backup.
    let now = gw.router().clock().now_ms();
    let mut probe = route.slots[0]
        .target
        .health
        .acquire(now, false)
        .expect("probe");
    assert!(probe.is_probe());
    assert_eq!(decide(&gw), Pick::Target(1));
    // The probe fails: the rest doubles to 10s.
    probe.failed(now, ErrorKind::Unavailable, None, &route.policy.cooldown);
    drop(probe);
    assert_eq!(primary_state(&gw), (HealthState::CoolingDown, Some(10.0)));

    tokio::time::advance(Duration::from_secs(10)).await;
    let now = gw.router().clock().now_ms();
    let mut probe = route.slots[0]
        .target
        .health
        .acquire(now, false)
        .expect("probe");
    probe.succeeded(Duration::from_millis(30));
    drop(probe);
    assert_eq!(primary_state(&gw), (HealthState::Healthy, None));
    assert_eq!(decide(&gw), Pick::Target(0));
}

#[tokio::test(start_paused = true)]
async fn a_429_rests_for_its_retry_after_and_failures_leave_the_window() {
    let gw = gateway();
    let route = gw.router().route("r").expect("route");
    fail(
        &gw,
        &route,
        ErrorKind::RateLimited,
        Some(Duration::from_secs(7)),
    );
    assert_eq!(primary_state(&gw), (HealthState::CoolingDown, Some(7.0)));
    let h = gw.health();
    assert_eq!(h[0].cooldown_reason, Some(ErrorKind::RateLimited));
    // Longer than max_duration is capped.
    tokio::time::advance(Duration::from_secs(7)).await;
    let now = gw.router().clock().now_ms();
    let mut probe = route.slots[0]
        .target
        .health
        .acquire(now, false)
        .expect("probe");
    probe.succeeded(Duration::from_millis(5));
    drop(probe);
    fail(
        &gw,
        &route,
        ErrorKind::RateLimited,
        Some(Duration::from_secs(600)),
    );
    assert_eq!(primary_state(&gw), (HealthState::CoolingDown, Some(15.0)));

    // Two failures 11s apart do not trip a 10s window.
    let gw = gateway();
    let route = gw.router().route("r").expect("route");
    fail(&gw, &route, ErrorKind::Unavailable, None);
    tokio::time::advance(Duration::from_secs(11)).await;
    fail(&gw, &route, ErrorKind::Unavailable, None);
    assert_eq!(primary_state(&gw), (HealthState::Healthy, None));
}

#[tokio::test(start_paused = true)]
async fn when_both_rest_the_decision_says_when_the_first_comes_back() {
    let gw = gateway();
    let route = gw.router().route("r").expect("route");
    let now = gw.router().clock().now_ms();
    route.slots[0]
        .target
        .health
        .trip(now, Duration::from_secs(8), ErrorKind::Unavailable);
    route.slots[1]
        .target
        .health
        .trip(now, Duration::from_secs(3), ErrorKind::RateLimited);
    assert_eq!(
        decide(&gw),
        Pick::Resting {
            until_ms: now + 3000
        }
    );
    tokio::time::advance(Duration::from_secs(3)).await;
    assert_eq!(decide(&gw), Pick::Target(1));
}
