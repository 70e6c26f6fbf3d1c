//! What policy admission costs per request with a virtual key, a budget and two rate
//! limits on: in memory (target p50 under 2 µs), and on Redis (target: one round trip,
//! pipelined — shown as the admission's time beside a bare PING on the same connection kind,
//! and as the commands Redis counted per admission).
//!
//! Run: `cargo bench -p switchpoint-core --bench admission` (the Redis part needs
//! `redis-server` on PATH; it starts its own on a free loopback port).

#[path = "support/timing.rs"]
mod timing;

use futures_util::FutureExt;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;
use switchpoint_core::api::from_json_value;
use switchpoint_core::config::{self, PolicyConfig};
use switchpoint_core::policy::{Policy, Request, Shared};
use switchpoint_core::state::{MemoryState, RedisState};
use switchpoint_core::RequestContext;

const KEY: &str = "sk-bench-virtual-key-000000000001";

fn policy_config() -> PolicyConfig {
    let cfg = serde_json::json!({
        "virtual_keys": {"required": true, "keys": [{"key": KEY, "user": "u1", "team": "t1",
            "budgets": [{"period": "month", "limit_usd": "1000000000"}]}]},
        "limits": [
            {"scope": "user", "rpm": 1_000_000_000u64},
            {"scope": "team", "tpm": 1_000_000_000_000u64}
        ]
    });
    config::resolve(
        config::parse_value(cfg).expect("parse"),
        &config::process_env,
    )
    .expect("resolve")
    .policy
}

fn ctx() -> RequestContext {
    from_json_value(serde_json::json!({"api_key": KEY})).expect("context")
}

fn worst() -> Decimal {
    Decimal::new(25, 4)
}

fn request<'a>(ctx: &'a RequestContext, worst: &'a (dyn Fn() -> Decimal + Sync)) -> Request<'a> {
    Request {
        model: "gpt-4o-mini",
        route: "gpt-4o-mini",
        ctx,
        tokens: 300,
        worst_cost: worst,
    }
}

fn main() {
    let c = ctx();
    // Baseline: the same call with no policy configured (what every request pays anyway).
    let idle = Policy::new(
        PolicyConfig::default(),
        Arc::new(MemoryState::new()),
        Arc::new(Shared::default()),
    );
    let base = timing::per_op_ns(300, 200, || {
        let a = idle
            .admit(request(&c, &worst))
            .now_or_never()
            .expect("ready")
            .expect("admitted");
        drop(a);
    });
    base.report("admission, no policy (baseline)", Duration::from_micros(2));

    let policy = Policy::new(
        policy_config(),
        Arc::new(MemoryState::new()),
        Arc::new(Shared::default()),
    );
    let admit = timing::per_op_ns(300, 200, || {
        let a = policy
            .admit(request(&c, &worst))
            .now_or_never()
            .expect("memory admission is ready at once")
            .expect("admitted");
        if let Some(t) = a.ticket {
            t.settle(Decimal::new(12, 4), 250);
        }
    });
    admit.report(
        "admission in memory, key + budget + 2 limits (admit and settle)",
        Duration::from_micros(2),
    );
    println!(
        "  added over the baseline: {:.0} ns at p50",
        admit.p50 - base.p50
    );
    redis_part(&c);
}

fn redis_part(c: &RequestContext) {
    let Some(server) = RedisServer::start() else {
        println!("redis: redis-server not found on PATH; Redis figures skipped");
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let url = server.url();
    let backend = Arc::new(
        RedisState::new(&url, "bench:", Duration::from_millis(500)).expect("redis backend"),
    );
    let policy = Policy::new(policy_config(), backend, Arc::new(Shared::default()));
    let client = redis::Client::open(url.as_str()).expect("client");
    rt.block_on(async {
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("connection");
        // Warm up (script load, key read).
        for _ in 0..200 {
            let a = policy.admit(request(c, &worst)).await.expect("admitted");
            drop(a.ticket);
        }
        let n = 2000;
        let stats = |conn: &mut redis::aio::MultiplexedConnection| {
            let mut conn = conn.clone();
            async move {
                let info: String = redis::cmd("INFO")
                    .arg("commandstats")
                    .query_async(&mut conn)
                    .await
                    .expect("info");
                info
            }
        };
        let _: () = redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query_async(&mut conn)
            .await
            .expect("resetstat");
        let mut admit_ns = Vec::with_capacity(n);
        for _ in 0..n {
            let t = std::time::Instant::now();
            let a = policy.admit(request(c, &worst)).await.expect("admitted");
            admit_ns.push(t.elapsed().as_nanos() as f64);
            // Settle is spawned off the request's path; here the ticket is just dropped.
            std::mem::forget(a.ticket);
        }
        let info = stats(&mut conn).await;
        let mut ping_ns = Vec::with_capacity(n);
        for _ in 0..n {
            let t = std::time::Instant::now();
            let _: String = redis::cmd("PING").query_async(&mut conn).await.expect("ping");
            ping_ns.push(t.elapsed().as_nanos() as f64);
        }
        let (a, p) = (
            timing::Summary::of(admit_ns).p50,
            timing::Summary::of(ping_ns).p50,
        );
        println!(
            "admission on Redis, key + budget + 2 limits: p50 {:.1} µs; a PING round trip: p50 {:.1} µs; ratio {:.2} (target: one round trip)",
            a / 1000.0,
            p / 1000.0,
            a / p
        );
        let calls: Vec<String> = info
            .lines()
            .filter(|l| l.starts_with("cmdstat_"))
            .map(|l| {
                let name = l.split(':').next().unwrap_or("").trim_start_matches("cmdstat_");
                let count = l
                    .split("calls=")
                    .nth(1)
                    .and_then(|r| r.split(',').next())
                    .unwrap_or("?");
                format!("{name}={count}")
            })
            .collect();
        println!(
            "  commands Redis ran for {n} admissions: {} (one script call per admission)",
            calls.join(", ")
        );
    });
    drop(server);
}

/// A throwaway redis-server on a free loopback port.
struct RedisServer {
    child: std::process::Child,
    port: u16,
}

impl RedisServer {
    fn start() -> Option<RedisServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(RedisServer { child, port })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
