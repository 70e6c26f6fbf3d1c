//! Provider credentials managed in config: `cmd:` secrets, and several keys per provider
//! (`api_keys`) taken in rotation with their own limits, over real HTTP to the mock provider
//! (its request log shows which key each request carried).

use futures_util::StreamExt;
use mock_provider::{Fault, MockServer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use switchpoint_core::api::{AttemptFact, AttemptOutcome, ChatRequest, Message, StreamAccumulator};
use switchpoint_core::routing::HealthState;
use switchpoint_core::{config, Error, ErrorKind, Gateway, RequestContext};

fn openai(mock: &MockServer, keys: Value) -> Value {
    json!({"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_keys": keys})
}

/// A gateway with provider `rot` (its `api_keys` given), a one-key backup `claude`, route `r`
/// (rot, then claude) and model `solo` (rot alone).
fn gateway(mock: &MockServer, keys: Value) -> Gateway {
    Gateway::from_value(json!({
        "providers": {
            "rot": openai(mock, keys),
            "claude": {"kind": "anthropic", "base_url": mock.url(), "api_key": "sk-ant"}
        },
        "models": {"solo": {"provider": "rot", "model": "m"}},
        "routes": {"r": {"targets": [
            {"provider": "rot", "model": "m"},
            {"provider": "claude", "model": "backup"}
        ]}}
    }))
    .expect("config")
}

fn ask(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user("hello keys")],
        max_tokens: Some(16),
        ..Default::default()
    }
}

/// The key each logged OpenAI request carried, in order.
fn keys_sent(mock: &MockServer) -> Vec<String> {
    mock.log()
        .iter()
        .filter(|e| e.provider == "openai")
        .map(|e| {
            e.headers
                .get("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("<none>")
                .to_string()
        })
        .collect()
}

fn outcomes(attempts: &[AttemptFact]) -> Vec<(String, AttemptOutcome)> {
    attempts
        .iter()
        .map(|a| (a.provider.clone(), a.outcome))
        .collect()
}

fn ok(p: &str) -> (String, AttemptOutcome) {
    (p.to_string(), AttemptOutcome::Ok)
}

fn err(p: &str, k: ErrorKind) -> (String, AttemptOutcome) {
    (p.to_string(), AttemptOutcome::Error(k))
}

fn status(s: u16, retry_after: Option<f64>, times: u32) -> Fault {
    Fault {
        status: Some(s),
        retry_after,
        times: Some(times),
        match_model: Some("m".into()),
        ..Fault::default()
    }
}

fn target_state(gw: &Gateway, provider: &str) -> HealthState {
    gw.health()
        .into_iter()
        .find(|t| t.provider == provider)
        .map(|t| t.state)
        .expect("target")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_rotation_spreads_requests_over_three_keys_evenly() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(
        &mock,
        json!(["sk-a", {"key": "sk-b", "name": "second"}, "sk-c"]),
    );
    for _ in 0..9 {
        let r = gw
            .chat(&ask("solo"), &RequestContext::new())
            .await
            .expect("ok");
        assert_eq!(r.text(), Some("hello keys"));
        let facts = r.switchpoint.expect("facts");
        assert_eq!(outcomes(&facts.attempts), [ok("rot")]);
    }
    assert_eq!(
        keys_sent(&mock),
        ["sk-a", "sk-b", "sk-c", "sk-a", "sk-b", "sk-c", "sk-a", "sk-b", "sk-c"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_a_key_at_its_rpm_is_skipped_for_the_rest_of_the_minute() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(
        &mock,
        json!([{"key": "sk-a", "rpm": 2, "name": "small"}, "sk-b", "sk-c"]),
    );
    for _ in 0..9 {
        gw.chat(&ask("solo"), &RequestContext::new())
            .await
            .expect("ok");
    }
    // `small` serves twice; after that the rotation passes it by and stays fair between the
    // other two.
    assert_eq!(
        keys_sent(&mock),
        ["sk-a", "sk-b", "sk-c", "sk-a", "sk-b", "sk-c", "sk-b", "sk-c", "sk-b"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_a_429_on_one_key_moves_to_the_next_without_benching_the_target() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, json!(["sk-a", "sk-b", "sk-c"]));
    mock.push_script(vec![status(429, Some(7.0), 1)]);
    let r = gw
        .chat(&ask("r"), &RequestContext::new())
        .await
        .expect("served by the second key");
    let facts = r.switchpoint.expect("facts");
    assert_eq!(facts.provider, "rot");
    assert_eq!(
        outcomes(&facts.attempts),
        [err("rot", ErrorKind::RateLimited), ok("rot")]
    );
    let msg = facts.attempts[0].message.as_deref().expect("message");
    assert!(msg.ends_with(" (key `key1`)"), "{msg}");
    assert!(!msg.contains("sk-a"), "{msg}");
    assert_eq!(target_state(&gw, "rot"), HealthState::Healthy);
    // The next request takes the third key; the one after skips the resting first key.
    for _ in 0..2 {
        gw.chat(&ask("r"), &RequestContext::new())
            .await
            .expect("ok");
    }
    assert_eq!(keys_sent(&mock), ["sk-a", "sk-b", "sk-c", "sk-b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_a_refused_key_401_moves_to_the_next_and_rests() {
    let mock = MockServer::start().await.expect("mock");
    // The mock refuses the key `bad-key` with 401 (OpenAI's invalid_api_key).
    let gw = gateway(
        &mock,
        json!([{"key": "bad-key", "name": "revoked"}, "sk-b"]),
    );
    let r = gw
        .chat(&ask("r"), &RequestContext::new())
        .await
        .expect("served by the good key");
    let facts = r.switchpoint.expect("facts");
    assert_eq!(
        outcomes(&facts.attempts),
        [err("rot", ErrorKind::Auth), ok("rot")]
    );
    assert!(facts.attempts[0]
        .message
        .as_deref()
        .is_some_and(|m| m.ends_with(" (key `revoked`)")));
    for _ in 0..3 {
        gw.chat(&ask("r"), &RequestContext::new())
            .await
            .expect("ok");
    }
    assert_eq!(
        keys_sent(&mock),
        ["bad-key", "sk-b", "sk-b", "sk-b", "sk-b"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_all_keys_at_their_limits_fail_over_with_rate_limited_and_retry_after() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(
        &mock,
        json!([{"key": "sk-a", "rpm": 1}, {"key": "sk-b", "rpm": 1}]),
    );
    let ctx = RequestContext::new();
    for _ in 0..2 {
        let r = gw.chat(&ask("r"), &ctx).await.expect("ok");
        assert_eq!(r.switchpoint.expect("facts").provider, "rot");
    }
    // Both keys are spent for this minute: the attempt on `rot` fails before any HTTP, and
    // the route fails over to the backup.
    let r = gw.chat(&ask("r"), &ctx).await.expect("backup serves");
    let facts = r.switchpoint.expect("facts");
    assert_eq!(
        outcomes(&facts.attempts),
        [err("rot", ErrorKind::RateLimited), ok("claude")]
    );
    assert_eq!(keys_sent(&mock), ["sk-a", "sk-b"]);
    assert_eq!(target_state(&gw, "rot"), HealthState::CoolingDown);

    // Alone, the provider answers the caller with the error and when to come back.
    let e: Error = gw.chat(&ask("solo"), &ctx).await.expect_err("no key");
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.code.as_deref(), Some("all_keys_exhausted"));
    assert_eq!(e.provider.as_deref(), Some("rot"));
    let wait = e.retry_after.expect("retry_after");
    assert!(
        wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert!(
        e.message.starts_with(
            "no key of provider `rot` is usable now: `key1` at its rpm limit (1) for "
        ),
        "{}",
        e.message
    );
    assert!(
        e.message.contains(", `key2` at its rpm limit (1) for "),
        "{}",
        e.message
    );
    assert_eq!(keys_sent(&mock).len(), 2, "no request was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_429_on_every_key_rests_the_target_until_the_first_key_is_back() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, json!(["sk-a", "sk-b"]));
    mock.push_script(vec![status(429, Some(20.0), 1), status(429, Some(3.0), 1)]);
    let r = gw
        .chat(&ask("r"), &RequestContext::new())
        .await
        .expect("backup serves");
    let facts = r.switchpoint.expect("facts");
    assert_eq!(
        outcomes(&facts.attempts),
        [
            err("rot", ErrorKind::RateLimited),
            err("rot", ErrorKind::RateLimited),
            ok("claude")
        ]
    );
    assert_eq!(keys_sent(&mock), ["sk-a", "sk-b"]);
    let h = gw
        .health()
        .into_iter()
        .find(|t| t.provider == "rot")
        .expect("target");
    assert_eq!(h.state, HealthState::CoolingDown);
    assert_eq!(h.cooldown_reason, Some(ErrorKind::RateLimited));
    // The target rests until the sooner key (3 s), not the provider's 20 s.
    let left = h.cooldown_remaining_s.expect("remaining");
    assert!(left > 2.0 && left <= 3.0, "{left}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_cmd_secrets_are_read_once_from_the_command_output() {
    let mock = MockServer::start().await.expect("mock");
    let gw = Gateway::from_value(json!({
        "providers": {
            "one": {"kind": "openai", "base_url": format!("{}/v1", mock.url()),
                    "api_key": "cmd:printf '  sk-from-cmd\\n'"},
            "many": openai(&mock, json!(["sk-a", {"key": "cmd:echo sk-vault-b", "name": "vault"}]))
        },
        "models": {
            "one": {"provider": "one", "model": "m"},
            "many": {"provider": "many", "model": "m"}
        }
    }))
    .expect("config");
    let ctx = RequestContext::new();
    gw.chat(&ask("one"), &ctx).await.expect("ok");
    gw.chat(&ask("many"), &ctx).await.expect("ok");
    gw.chat(&ask("many"), &ctx).await.expect("ok");
    assert_eq!(keys_sent(&mock), ["sk-from-cmd", "sk-a", "sk-vault-b"]);
}

fn config_error(providers: Value) -> Error {
    Gateway::from_value(json!({ "providers": providers })).expect_err("config error")
}

fn cmd_provider(command: &str) -> Value {
    json!({"p": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": format!("cmd:{command}")}})
}

#[test]
fn credentials_cmd_failure_names_field_status_and_stderr_never_stdout() {
    let e = config_error(cmd_provider(
        "echo sk-PRINTED-SECRET; echo 'vault: permission denied' >&2; exit 3",
    ));
    assert_eq!(e.kind, ErrorKind::Config);
    assert_eq!(e.param.as_deref(), Some("providers.p.api_key"));
    assert_eq!(
        e.message,
        "`providers.p.api_key`: the secret command exited with status 3: vault: permission denied"
    );
    assert!(!format!("{e} {e:?}").contains("PRINTED-SECRET"));
}

#[test]
fn credentials_cmd_empty_output_is_an_error() {
    let e = config_error(cmd_provider("true"));
    assert_eq!(e.param.as_deref(), Some("providers.p.api_key"));
    assert_eq!(
        e.message,
        "`providers.p.api_key`: the secret command printed nothing on stdout"
    );
}

#[test]
fn credentials_cmd_that_hangs_is_stopped_after_ten_seconds() {
    let start = Instant::now();
    let e = config_error(cmd_provider("sleep 60"));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(15),
        "{took:?}"
    );
    assert_eq!(
        e.message,
        "`providers.p.api_key`: the secret command did not finish within 10s and was stopped"
    );
}

#[test]
fn credentials_cmd_works_in_api_keys_entries_with_their_own_field() {
    let e = config_error(json!({"p": {
        "kind": "openai", "base_url": "http://127.0.0.1:9/v1",
        "api_keys": ["sk-a", {"key": "cmd:exit 4", "name": "vault"}]
    }}));
    assert_eq!(e.param.as_deref(), Some("providers.p.api_keys[1].key"));
    assert_eq!(
        e.message,
        "`providers.p.api_keys[1].key`: the secret command exited with status 4 (nothing on stderr)"
    );
}

fn keys_error(keys: Value) -> Error {
    config_error(
        json!({"p": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_keys": keys}}),
    )
}

#[test]
fn credentials_config_errors_name_the_field() {
    let e = config_error(json!({"p": {
        "kind": "openai", "base_url": "http://127.0.0.1:9/v1",
        "api_key": "sk-1", "api_keys": ["sk-2"]
    }}));
    assert_eq!(e.kind, ErrorKind::Config);
    assert_eq!(e.param.as_deref(), Some("providers.p.api_keys"));
    assert_eq!(
        e.message,
        "provider `p` sets both `api_key` and `api_keys`; keep `api_key` for one key or list every key under `api_keys`"
    );

    let e = keys_error(json!([]));
    assert_eq!(e.param.as_deref(), Some("providers.p.api_keys"));
    assert_eq!(
        e.message,
        "provider `p`: `api_keys` is empty; list at least one key"
    );

    let e = keys_error(json!(["sk-1", {"key": "sk-2", "rpm": 0}]));
    assert_eq!(e.param.as_deref(), Some("providers.p.api_keys[1].rpm"));
    assert_eq!(
        e.message,
        "`providers.p.api_keys[1].rpm` must be at least 1 (leave it out for no limit)"
    );

    let e = keys_error(json!([{"key": "sk-1", "name": "main"}, {"key": "sk-2", "name": "main"}]));
    assert_eq!(e.param.as_deref(), Some("providers.p.api_keys[1].name"));
    assert_eq!(
        e.message,
        "provider `p`: keys 0 and 1 of `api_keys` are both named `main`; give each key its own `name`"
    );

    let e = keys_error(json!(["sk-1", "env:SP_CREDENTIALS_TEST_UNSET_VARIABLE"]));
    assert_eq!(e.param.as_deref(), Some("providers.p.api_keys[1]"));
    assert_eq!(
        e.message,
        "`providers.p.api_keys[1]` refers to the environment variable SP_CREDENTIALS_TEST_UNSET_VARIABLE, which is not set"
    );
}

#[test]
fn credentials_bad_entries_are_parse_errors_with_the_path() {
    let e = keys_error(json!([{"key": "sk-1", "rps": 5}]));
    assert_eq!(e.param.as_deref(), Some("providers.p.api_keys[0].rps"));
    assert_eq!(
        e.message,
        "config object: at `providers.p.api_keys[0].rps`: unknown field `rps`, expected one of `key`, `name`, `rpm`, `tpm`; did you mean `rpm`?"
    );

    let e = keys_error(json!([{"name": "a"}]));
    assert_eq!(e.param.as_deref(), Some("providers.p.api_keys[0]"));
    assert_eq!(
        e.message,
        "config object: at `providers.p.api_keys[0]`: missing field `key`"
    );

    let e = keys_error(json!([42]));
    assert_eq!(e.param.as_deref(), Some("providers.p.api_keys[0]"));
    assert_eq!(
        e.message,
        "config object: at `providers.p.api_keys[0]`: invalid type: integer `42`, expected a key reference (`env:NAME`, `file:PATH`, `cmd:COMMAND` or the key) or a map with `key` and optional `name`, `rpm`, `tpm`"
    );

    let e = config_error(json!({"v": {"kind": "vertex", "project": "p", "api_keys": ["k"]}}));
    assert_eq!(e.param.as_deref(), Some("providers.v.api_keys"));
}

#[test]
fn credentials_yaml_config_takes_both_entry_forms() {
    let cfg = config::load_text(
        "providers:\n  p:\n    kind: openai\n    base_url: http://127.0.0.1:9/v1\n    api_keys:\n      - sk-plain\n      - key: \"cmd:echo sk-from-cmd\"\n        name: vault\n        rpm: 500\n        tpm: 200000\n",
    )
    .expect("valid");
    let p = &cfg.providers["p"];
    let keys: Vec<(&str, &str, Option<u64>, Option<u64>)> = p
        .keys
        .iter()
        .map(|k| (k.name.as_str(), k.secret.expose(), k.rpm, k.tpm))
        .collect();
    assert_eq!(
        keys,
        [
            ("key1", "sk-plain", None, None),
            ("vault", "sk-from-cmd", Some(500), Some(200_000))
        ]
    );
    // The adapter's own key is the first one; nothing prints a value.
    assert_eq!(
        p.settings.api_key.as_ref().map(|s| s.expose()),
        Some("sk-plain")
    );
    let shown = format!("{cfg:?}");
    assert!(!shown.contains("sk-plain") && !shown.contains("sk-from-cmd"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_streams_and_other_wire_formats_rotate_too() {
    let mock = MockServer::start().await.expect("mock");
    let gw = Gateway::from_value(json!({
        "providers": {"claude": {"kind": "anthropic", "base_url": mock.url(),
                                 "api_keys": ["sk-ant-1", "sk-ant-2"]}},
        "models": {"c": {"provider": "claude", "model": "m"}}
    }))
    .expect("config");
    mock.push_script(vec![status(429, Some(30.0), 1)]);
    for _ in 0..3 {
        let mut s = gw
            .chat_stream(&ask("c"), &RequestContext::new())
            .await
            .expect("stream");
        let mut acc = StreamAccumulator::new();
        while let Some(c) = s.next().await {
            acc.push(&c.expect("chunk"));
        }
        assert_eq!(acc.finish().text(), Some("hello keys"));
    }
    let sent: Vec<String> = mock
        .log()
        .iter()
        .map(|e| e.headers.get("x-api-key").cloned().unwrap_or_default())
        .collect();
    // The 429 on the first key moves the stream's opening to the second; the first rests.
    assert_eq!(sent, ["sk-ant-1", "sk-ant-2", "sk-ant-2", "sk-ant-2"]);
}
