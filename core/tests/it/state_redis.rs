//! The Redis state backend against a real `redis-server` (never mocked): the conformance
//! suite, several processes' worth of instances sharing one limit, cooldowns across
//! instances, an outage and recovery, the one-round-trip admission, the key layout.

use crate::common::redis::RedisServer;
use crate::state_memory::{conformance, suite::now_ms};
use futures_util::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchpoint_core::state::redis::DEFAULT_PREFIX;
use switchpoint_core::state::{
    Adjust, Check, Cooldown, RedisState, StateBackend, StateError, Verdict,
};

const OP_TIMEOUT: Duration = Duration::from_millis(250);

/// A fresh server and a backend connected to it (`None` when Redis tests are skipped).
async fn fresh() -> Option<(RedisServer, RedisState)> {
    let server = RedisServer::start()?;
    let state = RedisState::connect(&server.url(), DEFAULT_PREFIX, OP_TIMEOUT)
        .await
        .expect("connect to the test redis-server");
    Some((server, state))
}

async fn instance(server: &RedisServer) -> RedisState {
    RedisState::connect(&server.url(), DEFAULT_PREFIX, OP_TIMEOUT)
        .await
        .expect("connect")
}

mod conformance_redis {
    use super::*;
    conformance!(fresh().await);
}

fn rpm(limit: u64) -> Check {
    Check::Window {
        key: "rpm:shared".into(),
        limit,
        cost: 1,
        window: Duration::from_secs(60),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_limit() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = Arc::new(instance(&server).await);
    let b = Arc::new(instance(&server).await);
    let mut tasks = Vec::new();
    for t in 0..4 {
        let state = if t % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let mut admitted = 0u32;
            for _ in 0..50 {
                match state.admit(&[rpm(100)]).await.expect("admit") {
                    Verdict::Admitted { .. } => admitted += 1,
                    Verdict::Refused { index: 0, .. } => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
            admitted
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    assert_eq!(total, 100);
    assert_eq!(
        a.counter("rpm:shared", Some(Duration::from_secs(60)))
            .await
            .expect("counter"),
        100
    );
}

/// Collects what a watch sink receives.
fn collecting_sink() -> (
    switchpoint_core::state::CooldownSink,
    Arc<Mutex<Vec<Cooldown>>>,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let into = seen.clone();
    let sink: switchpoint_core::state::CooldownSink = Arc::new(move |c: Cooldown| {
        into.lock().expect("lock").push(c);
    });
    (sink, seen)
}

/// Waits until `n` connections subscribe to the cooldown channel.
async fn wait_for_subscribers(server: &RedisServer, n: i64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(mut conn) = tokio::time::timeout(
            Duration::from_millis(500),
            ::redis::Client::open(server.url())
                .expect("url")
                .get_multiplexed_async_connection(),
        )
        .await
        .unwrap_or_else(|_| Err(::redis::RedisError::from(std::io::Error::other("timeout"))))
        {
            let counts: Vec<(String, i64)> = ::redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(format!("{DEFAULT_PREFIX}cooldowns"))
                .query_async(&mut conn)
                .await
                .expect("numsub");
            if counts.first().map(|(_, c)| *c) == Some(n) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no {n} subscriber(s) in {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_cooldown(seen: &Mutex<Vec<Cooldown>>, want: &Cooldown, within: Duration) {
    let deadline = Instant::now() + within;
    while !seen.lock().expect("lock").contains(want) {
        assert!(
            Instant::now() < deadline,
            "cooldown {want:?} not received within {within:?}: {:?}",
            seen.lock().expect("lock")
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooldown_reaches_the_other_instance_within_a_second() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let publisher = instance(&server).await;
    let watcher = instance(&server).await;
    let (sink, seen) = collecting_sink();
    watcher.watch_cooldowns(sink);
    wait_for_subscribers(&server, 1, Duration::from_secs(5)).await;
    let cooldown = Cooldown {
        target: "openai/gpt-4o-mini".into(),
        until_ms: now_ms() + 30_000,
        reason: "rate_limited".into(),
    };
    let sent = Instant::now();
    publisher
        .publish_cooldown(&cooldown)
        .await
        .expect("publish");
    wait_for_cooldown(&seen, &cooldown, Duration::from_secs(1)).await;
    println!("cooldown delivered in {:?}", sent.elapsed());
    // A process starting now sees it too.
    assert_eq!(watcher.cooldowns().await.expect("list"), vec![cooldown]);
    // Dropping the backend stops its watcher.
    drop(watcher);
    wait_for_subscribers(&server, 0, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fails_fast_and_recovery_reconnects_and_resubscribes() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let state = instance(&server).await;
    let other = instance(&server).await;
    let (sink, seen) = collecting_sink();
    state.watch_cooldowns(sink);
    wait_for_subscribers(&server, 1, Duration::from_secs(5)).await;
    assert!(matches!(
        state.admit(&[rpm(10)]).await,
        Ok(Verdict::Admitted { .. })
    ));
    assert!(state.reachable());

    server.stop();
    for op in 0..3 {
        let started = Instant::now();
        let result = state.admit(&[rpm(10)]).await;
        let took = started.elapsed();
        assert!(
            matches!(result, Err(StateError::Unavailable(_))),
            "op {op}: {result:?}"
        );
        assert!(
            took < OP_TIMEOUT + Duration::from_millis(250),
            "op {op} took {took:?}"
        );
        assert!(!state.reachable());
    }
    let started = Instant::now();
    let result = state.key_get("key-x").await;
    assert!(
        matches!(result, Err(StateError::Unavailable(_))),
        "{result:?}"
    );
    assert!(started.elapsed() < OP_TIMEOUT + Duration::from_millis(250));

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match state.admit(&[rpm(10)]).await {
            Ok(Verdict::Admitted { .. }) => break,
            Ok(other) => panic!("after restart: {other:?}"),
            Err(e) => assert!(Instant::now() < deadline, "no reconnect: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(state.reachable());
    // The restarted server is empty: this admission is its first unit.
    assert_eq!(state.counter("rpm:shared", None).await, Ok(1));

    // The watcher subscribed again on its own.
    wait_for_subscribers(&server, 1, Duration::from_secs(5)).await;
    let cooldown = Cooldown {
        target: "mistral/large".into(),
        until_ms: now_ms() + 30_000,
        reason: "unavailable".into(),
    };
    // `other` reconnects on its first use after the restart.
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Err(e) = other.publish_cooldown(&cooldown).await {
        assert!(
            Instant::now() < deadline,
            "publisher did not reconnect: {e}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for_cooldown(&seen, &cooldown, Duration::from_secs(1)).await;
}

/// Admission is one round trip: MONITOR shows exactly one client command (EVALSHA) per
/// admit; everything else it shows ran inside the script (`[0 lua]`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_is_one_round_trip() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let state = instance(&server).await;
    let checks = [
        rpm(1_000),
        Check::InFlight {
            key: "conc".into(),
            limit: 100,
        },
        Check::Budget {
            key: "budget".into(),
            limit: 1_000_000,
            reserve: 10,
            expires_at_ms: Some(now_ms() + 60_000),
        },
    ];
    // Warm up: the first call loads the script (NOSCRIPT, SCRIPT LOAD, EVALSHA).
    assert!(matches!(
        state.admit(&checks).await,
        Ok(Verdict::Admitted { .. })
    ));
    let client = ::redis::Client::open(server.url()).expect("url");
    let mut monitor = client.get_async_monitor().await.expect("monitor");
    let mut lines = monitor.on_message::<String>();
    for _ in 0..5 {
        assert!(matches!(
            state.admit(&checks).await,
            Ok(Verdict::Admitted { .. })
        ));
    }
    let mut marker = server.connection().await;
    let _: String = ::redis::cmd("ECHO")
        .arg("switchpoint-monitor-end")
        .query_async(&mut marker)
        .await
        .expect("echo");
    let mut client_commands = Vec::new();
    let mut script_commands = 0;
    loop {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next())
            .await
            .expect("monitor line in time")
            .expect("monitor open");
        if line.contains("switchpoint-monitor-end") {
            break;
        }
        if line.contains("[0 lua]") {
            script_commands += 1;
        } else {
            client_commands.push(line);
        }
    }
    assert_eq!(client_commands.len(), 5, "{client_commands:#?}");
    for line in &client_commands {
        assert!(line.to_lowercase().contains("\"evalsha\""), "{line}");
    }
    // TIME, HGETALL, GET, GET, HINCRBY, PEXPIRE, INCR, PEXPIRE, INCRBY, PEXPIREAT per admit.
    assert_eq!(script_commands, 5 * 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_layout_and_expiries() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let state = RedisState::connect(&server.url(), "app1:", OP_TIMEOUT)
        .await
        .expect("connect");
    let expires = now_ms() + 120_000;
    let v = state
        .admit(&[
            rpm(10),
            Check::InFlight {
                key: "conc".into(),
                limit: 3,
            },
            Check::Budget {
                key: "budget:key-1".into(),
                limit: 100,
                reserve: 7,
                expires_at_ms: Some(expires),
            },
        ])
        .await
        .expect("admit");
    let Verdict::Admitted { window_seconds } = v else {
        panic!("{v:?}");
    };
    let mut conn = server.connection().await;
    let ty = |key: &'static str| ::redis::cmd("TYPE").arg(key).to_owned();
    let window_type: String = ty("app1:c:rpm:shared")
        .query_async(&mut conn)
        .await
        .expect("type");
    assert_eq!(window_type, "hash");
    let buckets: Vec<(u64, u64)> = ::redis::cmd("HGETALL")
        .arg("app1:c:rpm:shared")
        .query_async(&mut conn)
        .await
        .expect("hgetall");
    assert_eq!(buckets, vec![(window_seconds[0], 1)]);
    let pttl = |key: &'static str| ::redis::cmd("PTTL").arg(key).to_owned();
    let window_ttl: i64 = pttl("app1:c:rpm:shared")
        .query_async(&mut conn)
        .await
        .expect("pttl");
    assert!(window_ttl > 55_000 && window_ttl <= 61_000, "{window_ttl}");
    let conc_ttl: i64 = pttl("app1:c:conc")
        .query_async(&mut conn)
        .await
        .expect("pttl");
    assert!(conc_ttl > 590_000 && conc_ttl <= 600_000, "{conc_ttl}");
    let budget: i64 = ::redis::cmd("GET")
        .arg("app1:c:budget:key-1")
        .query_async(&mut conn)
        .await
        .expect("get");
    assert_eq!(budget, 7);
    let budget_at: i64 = ::redis::cmd("PEXPIRETIME")
        .arg("app1:c:budget:key-1")
        .query_async(&mut conn)
        .await
        .expect("pexpiretime");
    assert_eq!(budget_at, expires as i64);

    state
        .key_put(&switchpoint_core::state::StoredKey {
            id: "key-1".into(),
            hash: "abc".into(),
            rev: 0,
            revoked: false,
            expires_at_ms: Some(1_900_000_000_000),
            body: "{}".into(),
        })
        .await
        .expect("put");
    let record: std::collections::HashMap<String, String> = ::redis::cmd("HGETALL")
        .arg("app1:key:key-1")
        .query_async(&mut conn)
        .await
        .expect("hgetall");
    let want: std::collections::HashMap<String, String> = [
        ("hash", "abc"),
        ("rev", "1"),
        ("revoked", "0"),
        ("expires_at_ms", "1900000000000"),
        ("body", "{}"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(record, want);
    let ids: Vec<String> = ::redis::cmd("SMEMBERS")
        .arg("app1:keys")
        .query_async(&mut conn)
        .await
        .expect("smembers");
    assert_eq!(ids, vec!["key-1".to_string()]);

    // Settle releases the slot and moves the budget, one script each way.
    state
        .settle(&[
            Adjust::Release { key: "conc".into() },
            Adjust::Budget {
                key: "budget:key-1".into(),
                delta: -2,
                expires_at_ms: Some(expires),
            },
        ])
        .await
        .expect("settle");
    assert_eq!(state.counter("conc", None).await, Ok(0));
    assert_eq!(state.counter("budget:key-1", None).await, Ok(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_entries_are_shared_and_expire() {
    let Some((_server, a)) = fresh().await else {
        return;
    };
    a.cache_put("req:1", b"\x00response\xff", Duration::from_millis(300))
        .await
        .expect("put");
    assert_eq!(
        a.cache_get("req:1").await.expect("get"),
        Some(b"\x00response\xff".to_vec())
    );
    assert_eq!(a.cache_get("req:2").await.expect("get"), None);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(a.cache_get("req:1").await.expect("get"), None);
    assert_eq!(a.name(), "redis");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_never_show_the_password() {
    let Some(server) = RedisServer::start_with(&["--requirepass", "right-secret"]) else {
        return;
    };
    let wrong = format!("redis://:wrong-secret@127.0.0.1:{}", server.port());
    let err = RedisState::connect(&wrong, DEFAULT_PREFIX, OP_TIMEOUT)
        .await
        .expect_err("wrong password refused");
    let StateError::Unavailable(msg) = &err else {
        panic!("{err:?}");
    };
    assert!(!msg.contains("wrong-secret"), "{msg}");
    assert!(msg.contains(":***@"), "{msg}");

    let right = format!("redis://:right-secret@127.0.0.1:{}", server.port());
    let state = RedisState::connect(&right, DEFAULT_PREFIX, OP_TIMEOUT)
        .await
        .expect("right password");
    assert!(!format!("{state:?}").contains("right-secret"));
    assert_eq!(
        state.url(),
        format!("redis://:***@127.0.0.1:{}", server.port())
    );

    // Nothing listening: unavailable within the timeout, password masked.
    let closed = format!("redis://:pw-123@127.0.0.1:{}", free_port());
    let started = Instant::now();
    let err = RedisState::connect(&closed, DEFAULT_PREFIX, OP_TIMEOUT)
        .await
        .expect_err("nothing listening");
    assert!(started.elapsed() < OP_TIMEOUT + Duration::from_millis(250));
    let StateError::Unavailable(msg) = &err else {
        panic!("{err:?}");
    };
    assert!(!msg.contains("pw-123"), "{msg}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// A binding's thread has no tokio runtime: the backend then runs its connection and its
/// watcher on the core's runtime.
#[test]
fn works_without_a_caller_runtime() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let state = RedisState::new(&server.url(), DEFAULT_PREFIX, OP_TIMEOUT).expect("new");
    let (sink, seen) = collecting_sink();
    state.watch_cooldowns(sink);
    let rt = switchpoint_core::runtime::runtime();
    rt.block_on(async {
        assert!(matches!(
            state.admit(&[rpm(1)]).await,
            Ok(Verdict::Admitted { .. })
        ));
        assert!(matches!(
            state.admit(&[rpm(1)]).await,
            Ok(Verdict::Refused { index: 0, .. })
        ));
        wait_for_subscribers(&server, 1, Duration::from_secs(5)).await;
        let cooldown = Cooldown {
            target: "t".into(),
            until_ms: now_ms() + 10_000,
            reason: "timeout".into(),
        };
        state.publish_cooldown(&cooldown).await.expect("publish");
        wait_for_cooldown(&seen, &cooldown, Duration::from_secs(1)).await;
    });
}
