//! The secrets audit: every shared scenario played with every log level on, on the Redis
//! state backend, and then no configured provider key and no virtual key may appear in any
//! log line, error, response, request record, metric, or anything stored in Redis (cache
//! entries and their keys, counters, key records, the audit log).
//!
//! Its own test binary: it installs a global log subscriber.

#[path = "it/common/redis.rs"]
#[allow(dead_code)]
mod redis_server;
#[path = "it/common/scenario.rs"]
mod scenario;

use mock_provider::MockServer;
use redis_server::RedisServer;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex};
use switchpoint_core::telemetry::{FnObserver, RequestRecord};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every secret a scenario configures or presents: provider keys (`api_key`, `api_keys`,
/// cloud credentials) and virtual keys (config keys, created keys, presented keys).
fn secrets_in(v: &Value, field: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                secrets_in(x, k, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                secrets_in(x, field, out);
            }
        }
        Value::String(s) => {
            let secret_field = matches!(
                field,
                "api_key" | "api_keys" | "key" | "aws_secret_access_key" | "aws_session_token"
            );
            let reference = ["env:", "file:", "cmd:"].iter().any(|p| s.starts_with(p));
            if secret_field && !reference && s.len() >= 8 {
                out.insert(s.clone());
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_appears_in_logs_errors_records_metrics_or_shared_state() {
    let logs = Captured::default();
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .init();
    let Some(redis) = RedisServer::start() else {
        eprintln!("SWITCHPOINT_SKIP_REDIS is set: secrets audit skipped");
        return;
    };
    let mock = MockServer::start().await.expect("mock");

    let mut secrets = BTreeSet::new();
    for f in scenario::scenario_files() {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).expect("read"))
            .expect("scenario JSON");
        secrets_in(&v, "", &mut secrets);
    }
    assert!(
        secrets.len() >= 10,
        "the scenarios configure keys to look for: {secrets:?}"
    );

    let url = redis.url();
    let tweak = move |name: &str, cfg: &mut Value| {
        if cfg.get("state").is_none() {
            let prefix = format!("audit-{name}:");
            cfg["state"] =
                serde_json::json!({"backend": "redis", "redis": {"url": url, "prefix": prefix}});
        }
    };
    let outputs = Mutex::new(Vec::new());
    let records = Arc::new(Mutex::new(Vec::<String>::new()));
    let r2 = records.clone();
    let observe = move |gw: &switchpoint_core::Gateway| {
        let r3 = r2.clone();
        gw.add_observer(Arc::new(FnObserver(move |r: &RequestRecord| {
            r3.lock()
                .expect("records")
                .push(serde_json::to_string(r).expect("record JSON"));
        })));
    };
    let opts = scenario::Options {
        tweak: Some(&tweak),
        outputs: Some(&outputs),
        on_gateway: Some(&observe),
    };
    let mut failures = Vec::new();
    for f in scenario::scenario_files() {
        if let Err(e) = scenario::play(&f, &mock, &opts).await {
            failures.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "scenarios fail on the Redis backend:\n{}",
        failures.join("\n")
    );
    // Records reach observers off the request path: give the workers a moment.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // Everything Redis holds, names and values.
    let mut conn = redis.connection().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert!(keys.iter().any(|k| k.contains("cache:")), "{keys:?}");
    let mut stored = keys.join("\n");
    for k in &keys {
        let kind: String = redis::cmd("TYPE")
            .arg(k)
            .query_async(&mut conn)
            .await
            .expect("type");
        let value: redis::Value = match kind.as_str() {
            "string" => redis::cmd("GET").arg(k).query_async(&mut conn).await,
            "hash" => redis::cmd("HGETALL").arg(k).query_async(&mut conn).await,
            "set" => redis::cmd("SMEMBERS").arg(k).query_async(&mut conn).await,
            "stream" => {
                redis::cmd("XRANGE")
                    .arg(k)
                    .arg("-")
                    .arg("+")
                    .query_async(&mut conn)
                    .await
            }
            _ => Ok(redis::Value::Nil),
        }
        .expect("value");
        stored.push_str(&format!("\n{value:?}"));
    }

    let log_text = String::from_utf8(logs.0.lock().expect("logs").clone()).expect("utf8");
    assert!(log_text.contains("sending request"), "logs were captured");
    let outputs = outputs.into_inner().expect("outputs").join("\n");
    let records = records.lock().expect("records").join("\n");
    assert!(records.contains("\"caller\""), "records were captured");
    for secret in &secrets {
        for (what, text) in [
            ("a log line", &log_text),
            ("a response, error or metric", &outputs),
            ("a request record", &records),
            ("the shared state", &stored),
        ] {
            if let Some(at) = text.find(secret.as_str()) {
                let from = text[..at.saturating_sub(600)]
                    .rfind('\n')
                    .map_or(0, |i| i + 1);
                let to = text[at..].find('\n').map_or(text.len(), |i| at + i);
                panic!("{what} holds the key {secret}: {}", &text[from..to]);
            }
        }
    }
}
