//! The shared-state conformance suite (every backend must pass it alike), run here against
//! the memory backend; `state_redis` runs it against a real Redis. Plus the memory backend's
//! own tests (the audit bound, the admission time).

use switchpoint_core::state::{MemoryState, StateBackend};

/// The behaviour every [`StateBackend`] shares, as plain async fns over `&dyn StateBackend`.
pub mod suite {
    use futures_util::future::join_all;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    use switchpoint_core::state::{
        Adjust, Check, Cooldown, KeyState, StateBackend, StoredKey, Verdict,
    };

    pub fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as u64
    }

    fn window(key: &str, limit: u64, cost: u64) -> Check {
        Check::Window {
            key: key.into(),
            limit,
            cost,
            window: Duration::from_secs(60),
        }
    }

    fn budget(key: &str, limit: i64, reserve: i64, expires_at_ms: Option<u64>) -> Check {
        Check::Budget {
            key: key.into(),
            limit,
            reserve,
            expires_at_ms,
        }
    }

    fn in_flight(key: &str, limit: u64) -> Check {
        Check::InFlight {
            key: key.into(),
            limit,
        }
    }

    fn stored(id: &str, revoked: bool, expires_at_ms: Option<u64>) -> StoredKey {
        StoredKey {
            id: id.into(),
            hash: format!("hash-of-{id}"),
            rev: 99,
            revoked,
            expires_at_ms,
            body: format!("{{\"name\":\"{id}\"}}"),
        }
    }

    fn admitted(v: &Verdict) -> bool {
        matches!(v, Verdict::Admitted { .. })
    }

    pub async fn window_admits_exactly_the_limit(s: &dyn StateBackend) {
        let before_s = now_ms() / 1000;
        for i in 0..5 {
            let v = s.admit(&[window("rpm", 5, 1)]).await.expect("admit");
            let Verdict::Admitted { window_seconds } = v else {
                panic!("admit {i} refused: {v:?}");
            };
            assert_eq!(window_seconds.len(), 1);
            assert!(
                window_seconds[0] >= before_s && window_seconds[0] <= now_ms() / 1000,
                "counted in second {} (now {})",
                window_seconds[0],
                now_ms() / 1000
            );
        }
        let v = s.admit(&[window("rpm", 5, 1)]).await.expect("admit");
        let Verdict::Refused {
            index: 0,
            retry_after: Some(retry),
            current: 5,
        } = v
        else {
            panic!("sixth admit: {v:?}");
        };
        // The oldest units leave the 60 s window at most 60 s from now, and not before 55 s
        // (they were counted a moment ago).
        assert!(
            retry > Duration::from_secs(55) && retry <= Duration::from_secs(60),
            "{retry:?}"
        );
        assert_eq!(
            s.counter("rpm", Some(Duration::from_secs(60)))
                .await
                .expect("counter"),
            5
        );
        // A cost above the limit never fits: no retry time.
        assert_eq!(
            s.admit(&[window("big", 5, 6)]).await.expect("admit"),
            Verdict::Refused {
                index: 0,
                retry_after: None,
                current: 0
            }
        );
        assert_eq!(s.counter("big", None).await.expect("counter"), 0);
    }

    pub async fn window_settle_moves_the_counted_second(s: &dyn StateBackend) {
        let v = s.admit(&[window("tpm", 1000, 50)]).await.expect("admit");
        let Verdict::Admitted { window_seconds } = v else {
            panic!("{v:?}");
        };
        let adjust = |delta| Adjust::Window {
            key: "tpm".into(),
            second: window_seconds[0],
            delta,
            window: Duration::from_secs(60),
        };
        s.settle(&[adjust(-20)]).await.expect("settle");
        let w = Some(Duration::from_secs(60));
        assert_eq!(s.counter("tpm", w).await.expect("counter"), 30);
        s.settle(&[adjust(-100)]).await.expect("settle");
        assert_eq!(s.counter("tpm", w).await.expect("counter"), 0);
        s.settle(&[adjust(7)]).await.expect("settle");
        assert_eq!(s.counter("tpm", w).await.expect("counter"), 7);
    }

    pub async fn all_or_none(s: &dyn StateBackend) {
        let v = s
            .admit(&[window("w", 10, 1), in_flight("f", 0)])
            .await
            .expect("admit");
        assert_eq!(
            v,
            Verdict::Refused {
                index: 1,
                retry_after: None,
                current: 0
            }
        );
        assert_eq!(s.counter("w", None).await.expect("counter"), 0);
        assert_eq!(s.counter("f", None).await.expect("counter"), 0);

        let v = s
            .admit(&[
                budget("b", 100, 10, None),
                in_flight("f", 5),
                Check::KeyLive {
                    id: "key-missing".into(),
                    rev: 1,
                },
            ])
            .await
            .expect("admit");
        assert_eq!(
            v,
            Verdict::KeyRefused {
                index: 2,
                reason: KeyState::Unknown
            }
        );
        assert_eq!(s.counter("b", None).await.expect("counter"), 0);
        assert_eq!(s.counter("f", None).await.expect("counter"), 0);

        // All pass: all applied, window seconds only for the window.
        let v = s
            .admit(&[
                budget("b", 100, 10, None),
                window("w", 10, 3),
                in_flight("f", 5),
            ])
            .await
            .expect("admit");
        let Verdict::Admitted { window_seconds } = v else {
            panic!("{v:?}");
        };
        assert_eq!(window_seconds[0], 0);
        assert!(window_seconds[1] > 1_600_000_000);
        assert_eq!(window_seconds[2], 0);
        assert_eq!(s.counter("b", None).await.expect("counter"), 10);
        assert_eq!(s.counter("w", None).await.expect("counter"), 3);
        assert_eq!(s.counter("f", None).await.expect("counter"), 1);
    }

    pub async fn budget_reserve_and_settle(s: &dyn StateBackend) {
        let expires = now_ms() + 3_600_000;
        let check = [budget("month", 10, 1, Some(expires))];
        let verdicts = join_all((0..64).map(|_| s.admit(&check))).await;
        let mut admitted = 0;
        for v in verdicts {
            match v.expect("admit") {
                Verdict::Admitted { .. } => admitted += 1,
                Verdict::Refused {
                    index: 0,
                    retry_after: Some(retry),
                    current: 10,
                } => assert!(
                    retry > Duration::from_secs(3590) && retry <= Duration::from_secs(3600),
                    "{retry:?}"
                ),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(admitted, 10);
        assert_eq!(s.counter("month", None).await.expect("counter"), 10);
        // Settle: three requests cost less than reserved, one more.
        s.settle(&[
            Adjust::Budget {
                key: "month".into(),
                delta: -4,
                expires_at_ms: Some(expires),
            },
            Adjust::Budget {
                key: "month".into(),
                delta: 1,
                expires_at_ms: Some(expires),
            },
        ])
        .await
        .expect("settle");
        assert_eq!(s.counter("month", None).await.expect("counter"), 7);
        // An adjustment for a period that has ended changes nothing.
        s.settle(&[Adjust::Budget {
            key: "month".into(),
            delta: -5,
            expires_at_ms: Some(now_ms() - 1_000),
        }])
        .await
        .expect("settle");
        assert_eq!(s.counter("month", None).await.expect("counter"), 7);
        // No expiry: refused without a retry time.
        assert!(admitted_ok(s.admit(&[budget("forever", 5, 5, None)]).await));
        assert_eq!(
            s.admit(&[budget("forever", 5, 1, None)])
                .await
                .expect("admit"),
            Verdict::Refused {
                index: 0,
                retry_after: None,
                current: 5
            }
        );
    }

    fn admitted_ok(v: Result<Verdict, switchpoint_core::state::StateError>) -> bool {
        admitted(&v.expect("admit"))
    }

    pub async fn budget_lapses_at_its_expiry(s: &dyn StateBackend) {
        let expires = now_ms() + 1_200;
        assert!(admitted_ok(
            s.admit(&[budget("day", 10, 10, Some(expires))]).await
        ));
        let v = s
            .admit(&[budget("day", 10, 1, Some(expires))])
            .await
            .expect("admit");
        assert!(
            matches!(v, Verdict::Refused { index: 0, retry_after: Some(r), current: 10 } if r <= Duration::from_millis(1_200)),
            "{v:?}"
        );
        tokio::time::sleep(Duration::from_millis(1_400)).await;
        assert_eq!(s.counter("day", None).await.expect("counter"), 0);
        let next = now_ms() + 60_000;
        assert!(admitted_ok(
            s.admit(&[budget("day", 10, 4, Some(next))]).await
        ));
        assert_eq!(s.counter("day", None).await.expect("counter"), 4);
    }

    pub async fn in_flight_limit_and_release(s: &dyn StateBackend) {
        let check = [in_flight("conc", 2)];
        assert!(admitted_ok(s.admit(&check).await));
        assert!(admitted_ok(s.admit(&check).await));
        assert_eq!(
            s.admit(&check).await.expect("admit"),
            Verdict::Refused {
                index: 0,
                retry_after: None,
                current: 2
            }
        );
        let release = Adjust::Release { key: "conc".into() };
        s.settle(std::slice::from_ref(&release))
            .await
            .expect("settle");
        assert_eq!(s.counter("conc", None).await.expect("counter"), 1);
        assert!(admitted_ok(s.admit(&check).await));
        // More releases than slots: never below zero.
        s.settle(&[release.clone(), release.clone(), release.clone()])
            .await
            .expect("settle");
        assert_eq!(s.counter("conc", None).await.expect("counter"), 0);
        s.settle(&[Adjust::Release {
            key: "never-used".into(),
        }])
        .await
        .expect("settle");
        assert_eq!(s.counter("never-used", None).await.expect("counter"), 0);
    }

    pub async fn key_live_revoked_expired_stale(s: &dyn StateBackend) {
        let live = |id: &str, rev| Check::KeyLive { id: id.into(), rev };
        assert_eq!(s.key_put(&stored("key-a", false, None)).await, Ok(1));
        assert_eq!(
            s.admit(&[live("key-a", 1)]).await.expect("admit"),
            Verdict::Admitted {
                window_seconds: vec![0]
            }
        );
        assert_eq!(
            s.admit(&[live("key-a", 0)]).await.expect("admit"),
            Verdict::KeyStale { index: 0 }
        );
        assert_eq!(s.key_put(&stored("key-a", false, None)).await, Ok(2));
        assert_eq!(
            s.admit(&[window("x", 10, 1), live("key-a", 1)])
                .await
                .expect("admit"),
            Verdict::KeyStale { index: 1 }
        );
        assert_eq!(s.counter("x", None).await.expect("counter"), 0);

        assert_eq!(s.key_put(&stored("key-r", true, None)).await, Ok(1));
        assert_eq!(
            s.admit(&[live("key-r", 1)]).await.expect("admit"),
            Verdict::KeyRefused {
                index: 0,
                reason: KeyState::Revoked
            }
        );
        let past = now_ms() - 1_000;
        assert_eq!(s.key_put(&stored("key-e", false, Some(past))).await, Ok(1));
        assert_eq!(
            s.admit(&[live("key-e", 1)]).await.expect("admit"),
            Verdict::KeyRefused {
                index: 0,
                reason: KeyState::Expired
            }
        );
        let future = now_ms() + 60_000;
        assert_eq!(
            s.key_put(&stored("key-f", false, Some(future))).await,
            Ok(1)
        );
        assert!(admitted_ok(s.admit(&[live("key-f", 1)]).await));
        assert_eq!(
            s.admit(&[live("key-none", 1)]).await.expect("admit"),
            Verdict::KeyRefused {
                index: 0,
                reason: KeyState::Unknown
            }
        );
    }

    pub async fn key_put_revisions(s: &dyn StateBackend) {
        let a = stored("key-b", false, Some(1_900_000_000_000));
        assert_eq!(s.key_put(&a).await, Ok(1));
        assert_eq!(s.key_put(&a).await, Ok(2));
        let revoked = StoredKey {
            revoked: true,
            body: "{\"name\":\"changed\"}".into(),
            ..a.clone()
        };
        assert_eq!(s.key_put(&revoked).await, Ok(3));
        assert_eq!(
            s.key_get("key-b").await.expect("get"),
            Some(StoredKey {
                rev: 3,
                ..revoked.clone()
            })
        );
        assert_eq!(s.key_put(&stored("key-a", false, None)).await, Ok(1));
        let list = s.key_list().await.expect("list");
        assert_eq!(
            list,
            vec![
                StoredKey {
                    rev: 1,
                    ..stored("key-a", false, None)
                },
                StoredKey { rev: 3, ..revoked }
            ]
        );
        assert_eq!(s.key_get("key-zzz").await.expect("get"), None);
    }

    pub async fn audit_since(s: &dyn StateBackend) {
        let now = now_ms();
        s.audit_append(now - 3_000, "{\"n\":1}")
            .await
            .expect("append");
        s.audit_append(now - 2_000, "{\"n\":2}")
            .await
            .expect("append");
        s.audit_append(now - 1_000, "{\"n\":3}")
            .await
            .expect("append");
        assert_eq!(
            s.audit_since(now - 2_000).await.expect("since"),
            vec!["{\"n\":2}".to_string(), "{\"n\":3}".to_string()]
        );
        assert_eq!(s.audit_since(now - 10_000).await.expect("since").len(), 3);
        assert!(s.audit_since(now + 10_000).await.expect("since").is_empty());
    }

    pub async fn cooldown_publish_and_list(s: &dyn StateBackend) {
        let long = Cooldown {
            target: "openai/gpt-4o".into(),
            until_ms: now_ms() + 60_000,
            reason: "rate_limited".into(),
        };
        let short = Cooldown {
            target: "anthropic/claude".into(),
            until_ms: now_ms() + 300,
            reason: "unavailable".into(),
        };
        s.publish_cooldown(&long).await.expect("publish");
        s.publish_cooldown(&short).await.expect("publish");
        assert_eq!(
            s.cooldowns().await.expect("cooldowns"),
            vec![short.clone(), long.clone()]
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(s.cooldowns().await.expect("cooldowns"), vec![long]);
        assert!(s.reachable());
    }
}

/// One test per suite function for a backend made by `$make` (an expression, may `.await`,
/// giving `Option<(guard, state)>`; `None` skips).
macro_rules! conformance {
    ($make:expr) => {
        conformance!(@one $make, window_admits_exactly_the_limit);
        conformance!(@one $make, window_settle_moves_the_counted_second);
        conformance!(@one $make, all_or_none);
        conformance!(@one $make, budget_reserve_and_settle);
        conformance!(@one $make, budget_lapses_at_its_expiry);
        conformance!(@one $make, in_flight_limit_and_release);
        conformance!(@one $make, key_live_revoked_expired_stale);
        conformance!(@one $make, key_put_revisions);
        conformance!(@one $make, audit_since);
        conformance!(@one $make, cooldown_publish_and_list);
    };
    (@one $make:expr, $name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some((_guard, state)) = $make else {
                return;
            };
            $crate::state_memory::suite::$name(&state).await;
        }
    };
}
pub(crate) use conformance;

mod conformance_memory {
    use super::*;
    conformance!(Some(((), MemoryState::new())));
}

#[tokio::test]
async fn memory_audit_keeps_the_last_10000() {
    let s = MemoryState::new();
    for i in 0..10_005u64 {
        s.audit_append(i, &i.to_string()).await.expect("append");
    }
    let all = s.audit_since(0).await.expect("since");
    assert_eq!(all.len(), 10_000);
    assert_eq!(all.first().map(String::as_str), Some("5"));
    assert_eq!(all.last().map(String::as_str), Some("10004"));
}

#[tokio::test]
async fn memory_cache_is_not_shared_and_watch_is_quiet() {
    let s = MemoryState::new();
    s.cache_put("k", b"v", std::time::Duration::from_secs(60))
        .await
        .expect("put");
    assert_eq!(s.cache_get("k").await.expect("get"), None);
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    s.watch_cooldowns(std::sync::Arc::new(move |_| {
        seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }));
    s.publish_cooldown(&switchpoint_core::state::Cooldown {
        target: "t".into(),
        until_ms: suite::now_ms() + 1_000,
        reason: "timeout".into(),
    })
    .await
    .expect("publish");
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert_eq!(s.name(), "memory");
}

/// The admission cost the gateway pays per request on the memory backend: four checks
/// (window, in-flight, budget, key) plus the in-flight release. Prints the mean; asserts only
/// a loose bound (debug build, shared machine). Run with `--nocapture` to see the figure.
#[test]
fn memory_admit_with_four_checks_timing() {
    use std::time::{Duration, Instant};
    use switchpoint_core::state::{Adjust, Check, StoredKey, Verdict};
    let s = MemoryState::new();
    let now = suite::now_ms();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(s.key_put(&StoredKey {
        id: "key-bench".into(),
        hash: "h".into(),
        rev: 0,
        revoked: false,
        expires_at_ms: None,
        body: "{}".into(),
    }))
    .expect("put");
    let checks = [
        Check::KeyLive {
            id: "key-bench".into(),
            rev: 1,
        },
        Check::Window {
            key: "rpm:key-bench".into(),
            limit: u64::MAX,
            cost: 1,
            window: Duration::from_secs(60),
        },
        Check::InFlight {
            key: "conc:key-bench".into(),
            limit: 1_000,
        },
        Check::Budget {
            key: "budget:key-bench".into(),
            limit: i64::MAX,
            reserve: 1_000,
            expires_at_ms: Some(now + 86_400_000),
        },
    ];
    let release = [Adjust::Release {
        key: "conc:key-bench".into(),
    }];
    let n = 200_000u32;
    let start = Instant::now();
    for _ in 0..n {
        let v = s.admit_at(&checks, suite::now_ms());
        assert!(matches!(v, Verdict::Admitted { .. }));
        s.settle_at(&release, suite::now_ms());
    }
    let per_admit = start.elapsed() / n;
    println!(
        "memory admit (4 checks) + release: {per_admit:?} per request (debug build, {n} runs)"
    );
    assert!(per_admit < Duration::from_micros(50), "{per_admit:?}");
}
